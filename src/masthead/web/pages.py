"""The small HTML pages ``masthead serve`` answers forms with, in Arabic or English.

Each page is a complete document with ``lang`` and ``dir`` set, one heading,
its content and the site's name. Addresses are shown masked and isolated
left-to-right (``<bdi dir="ltr">``), feed titles isolated (``<bdi>``), so a
Latin address or title inside Arabic text keeps its order.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

MAX_FORM = 8192
TEXT = "; charset=utf-8"
SECURITY = [("X-Content-Type-Options", "nosniff")]
PAGE_HEADERS = SECURITY + [
    ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]
Answer = tuple[str, list[tuple[str, str]], bytes]

WORDS = {
    "ar": {"confirm_title": "إلغاء الاشتراك", "confirm": "هل تريد إيقاف النشرات إلى {who}؟",
           "button": "نعم، ألغِ اشتراكي", "done_title": "تم إلغاء الاشتراك",
           "done": "لن تصل بعد الآن نشرات إلى هذا العنوان.", "bad_title": "رابط غير صالح",
           "bad": "هذا الرابط غير صالح أو ناقص. استخدم الرابط الموجود في آخر رسالة وصلتك.",
           "confirm_feed": "هل تريد إيقاف {feed} إلى {who}؟", "leave_feed": "أوقف {feed} فقط",
           "leave_all": "أوقف كل النشرات",
           "done_feed": "لن تصل {feed} بعد الآن إلى هذا العنوان. النشرات الأخرى التي تتابعها مستمرة.",
           "check_title": "تحقّق من بريدك",
           "check": "إن كان العنوان صحيحًا فستصلك خلال دقائق رسالة فيها رابط لتأكيد الاشتراك. "
                    "لا يبدأ الاشتراك قبل التأكيد.",
           "form_bad": "أدخل عنوان بريد إلكتروني صحيحًا واختر نشرة واحدة على الأقل.",
           "unavailable": "الاشتراك غير متاح الآن. حاول لاحقًا.",
           "join_title": "تأكيد الاشتراك", "join": "هل تريد أن تصل {feed} إلى {who}؟",
           "join_button": "نعم، أكّد اشتراكي", "joined_title": "تم الاشتراك",
           "joined": "ستصل {feed} إلى هذا العنوان. في كل رسالة رابط لإلغاء الاشتراك.",
           "expired": "انتهت صلاحية هذا الرابط. اشترك من جديد لتصلك رسالة تأكيد جديدة.",
           "and": "، "},
    "en": {"confirm_title": "Unsubscribe", "confirm": "Stop sending digests to {who}?",
           "button": "Yes, unsubscribe me", "done_title": "You are unsubscribed",
           "done": "No more digests will be sent to this address.", "bad_title": "Invalid link",
           "bad": "This link is not valid or is incomplete. Use the link in the latest message you received.",
           "confirm_feed": "Stop sending {feed} to {who}?", "leave_feed": "Leave {feed} only",
           "leave_all": "Leave every list",
           "done_feed": "{feed} will no longer be sent to this address. Other lists you follow keep coming.",
           "check_title": "Check your inbox",
           "check": "If the address is valid, a message with a link to confirm your subscription "
                    "arrives within minutes. Nothing is sent to you before you confirm.",
           "form_bad": "Enter a valid email address and choose at least one list.",
           "unavailable": "Signing up is not available right now. Please try again later.",
           "join_title": "Confirm your subscription", "join": "Send {feed} to {who}?",
           "join_button": "Yes, confirm my subscription", "joined_title": "You are subscribed",
           "joined": "{feed} will be sent to this address. Every message has an unsubscribe link.",
           "expired": "This link has expired. Sign up again to get a new confirmation message.",
           "and": ", "},
}


def language_of(code: str) -> str:
    """The WORDS language for a language code: Arabic or English (the fallback)."""
    lang = code.split("-")[0].lower()
    return lang if lang in WORDS else "en"


def direction(lang: str) -> str:
    return "rtl" if lang == "ar" else "ltr"


def masked(email: str) -> str:
    """``r•••@example.com``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def fill(lang: str, key: str, *, who: str | None = None, feeds: Iterable[str] = ()) -> str:
    """WORDS[lang][key] as HTML, with ``{who}`` (a masked address) and ``{feed}`` (titles) isolated."""
    text = html.escape(WORDS[lang][key])
    if who is not None:
        text = text.replace("{who}", f'<bdi dir="ltr">{html.escape(masked(who))}</bdi>')
    titles = WORDS[lang]["and"].join(f"<bdi>{html.escape(t)}</bdi>" for t in feeds)
    return text.replace("{feed}", titles)


def read_form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """The url-encoded POST body (at most MAX_FORM bytes) as parse_qs gives it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(min(max(length, 0), MAX_FORM)) if length else b""
    return parse_qs(raw.decode("utf-8", "replace"), max_num_fields=20)


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'


def page(site_title: str, lang: str, status: str, title_key: str, content: str) -> Answer:
    """A complete page in ``lang``: heading WORDS[lang][title_key], then ``content`` (HTML)."""
    title = html.escape(WORDS[lang][title_key])
    site = html.escape(site_title)
    body = (f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction(lang)}"><head>'
            f'<meta charset="utf-8"><meta name="robots" content="noindex">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} · {site}</title>"
            f"<style>body{{font-family:Tahoma,Arial,'Segoe UI','Geeza Pro',sans-serif;"
            f"max-width:32em;margin:3em auto;padding:0 1em;line-height:1.6}}"
            f"button{{font:inherit;padding:.5em 1.2em}}label{{display:block;margin:.4em 0}}</style>"
            f"</head><body><h1>{title}</h1>{content}<p><small>{site}</small></p></body></html>\n")
    return status, [("Content-Type", "text/html" + TEXT)] + PAGE_HEADERS, body.encode("utf-8")
