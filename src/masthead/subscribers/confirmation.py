"""The sign-up confirmation email: plain text and HTML, in the feed's language.

A right-to-left language is written the way the digests are: ``dir``
and ``lang`` on the wrapper table *and* on every cell (Gmail drops
``<body>``), CSS ``direction`` and ``text-align`` too, system fonts, and a
Latin run inside Arabic text (an English feed title, the address, the link)
isolated in ``<span dir="ltr">``. It is a transactional message, not a list
message: no List-Unsubscribe; ignoring it is how one says no.

Anyone can make it go to any address, so it carries no text a stranger
chose but the address itself: no name (not in To, not in the greeting).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from ..config import Publication
from ..i18n import interface_language, section
from ..send.message import POLICY, set_subject, transfer_encoding
from ..text import direction_of
from ..tokens import SignupRequest

_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")

def build_confirmation(pub: Publication, request: SignupRequest, rcpt: str, url: str, *,
                       language: str, days: int, now: datetime) -> EmailMessage:
    """The confirmation message to ``rcpt`` (the address as it goes on the wire) with ``url``."""
    lang = interface_language(language)
    w = section(lang, "confirmation")
    titles = [pub.feed(name).title for name in request.feeds]
    site = pub.site.title
    text_feeds = w["and"].join(titles)
    subject = w["subject"].format(feeds=text_feeds)
    text = "\n\n".join([
        w["hello"].format(name=""),
        w["asked"].format(feeds=text_feeds, site=site, email=request.email),
        w["how"], url, w["expires"].format(days=days),
        "\n".join(x for x in (site, pub.site.email.postal_address) if x)]) + "\n"
    msg = EmailMessage(policy=POLICY)
    msg["From"] = pub.site.email.sender
    local, _, domain = rcpt.rpartition("@")
    msg["To"] = Address(username=local, domain=domain)   # not parsed: a UTF-8 local part is fine here
    if pub.site.email.reply_to:
        msg["Reply-To"] = pub.site.email.reply_to
    set_subject(msg, subject)
    msg["Date"] = format_datetime(now)
    key = f"{request.email}\x00{request.expires}\x00{','.join(request.feeds)}".encode()
    msg["Message-ID"] = f"<signup-{hashlib.sha256(key).hexdigest()[:32]}@{pub.site.host}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte=transfer_encoding(text))
    page = _html(pub, lang, request, titles, url, days)
    msg.add_alternative(page, subtype="html", cte=transfer_encoding(page))
    msg["Content-Language"] = lang       # after the parts: set_content moves Content-* headers
    return msg


def _run(text: str, lang: str) -> str:
    """``text`` escaped; a Latin run inside an Arabic message isolated left-to-right."""
    escaped = html.escape(text)
    if direction_of(lang) == "rtl" and not _ARABIC_SCRIPT.search(text):
        return f'<span dir="ltr">{escaped}</span>'
    return escaped


def _html(pub: Publication, lang: str, request: SignupRequest, titles: list[str], url: str,
          days: int) -> str:
    w = section(lang, "confirmation")
    rtl = direction_of(lang) == "rtl"
    dir_, align = ("rtl", "right") if rtl else ("ltr", "left")
    cell = (f'dir="{dir_}" lang="{lang}" style="direction:{dir_};text-align:{align};'
            f"font-family:Tahoma,Arial,'Segoe UI','Geeza Pro',sans-serif;font-size:16px;"
            f'line-height:1.7;color:#222;padding:8px 24px"')
    feeds = w["and"].join(f"<strong>{_run(t, lang)}</strong>" for t in titles)
    asked = html.escape(w["asked"]).replace("{feeds}", feeds).replace(
        "{site}", _run(pub.site.title, lang)).replace("{email}", f'<span dir="ltr">{html.escape(request.email)}</span>')
    link = html.escape(url, quote=True)
    rows = [
        html.escape(w["hello"]).replace("{name}", ""),
        asked,
        html.escape(w["how"]),
        f'<a href="{link}" style="display:inline-block;background:#0b5394;color:#ffffff;'
        f'text-decoration:none;padding:10px 20px;border-radius:4px">{html.escape(w["button"])}</a>',
        f'<span dir="ltr" style="font-size:13px;color:#555;word-break:break-all">{link}</span>',
        html.escape(w["expires"].format(days=days)),
        "<br>".join(_run(x, lang) for x in (pub.site.title, pub.site.email.postal_address) if x),
    ]
    body = "".join(f"<tr><td {cell}>{row}</td></tr>" for row in rows)
    return (f'<!DOCTYPE html>\n<html lang="{lang}" dir="{dir_}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(w['button'])}</title></head>"
            f'<body dir="{dir_}" style="margin:0;padding:0;background:#f4f4f4">'
            f'<table role="presentation" dir="{dir_}" lang="{lang}" width="100%" cellpadding="0" '
            f'cellspacing="0" style="max-width:600px;margin:0 auto;background:#ffffff;direction:{dir_}">'
            f"{body}</table></body></html>\n")
