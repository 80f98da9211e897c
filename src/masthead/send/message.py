"""A digest plus one recipient -> a MIME message ready for SMTP.

The digest is rendered and CSS-inlined once (digest.py); what differs per
recipient (name, address, unsubscribe URL) sits in it as placeholders, and
this module fills them in, escaped for where each one lands: HTML text, an
HTML attribute, plain text, or a header. Building a message is cheap (no
templates, no CSS), so a list of 10,000 recipients costs milliseconds each.

The headers are what mail providers ask of bulk senders today: From, To,
Date, a Message-ID (the same one for the same digest and address, so a
retried send is recognisable), List-Id, List-Unsubscribe with an https URI
and a mailto, List-Unsubscribe-Post (RFC 8058 one-click), Auto-Submitted, and
Feedback-ID (Gmail's feedback loop). DKIM signing happens as the bytes go
to the server (smtp.py), after every per-recipient value is in.
"""

from __future__ import annotations

import base64
import email.policy
import functools
import hashlib
import html
import quopri
import re
from datetime import datetime
from email.header import Header
from email.headerregistry import Address, BaseHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote, urlsplit

from ..config import Publication
from ..errors import DeliveryError
from ..records import Digest, Recipient
from ..text import header_text_problem

# Placeholders the templates emit (digest.py renders ``recipient.*`` as these).
# Each is replaced per recipient; in HTML the value is escaped for HTML text and
# attributes alike (quotes included), in text it goes in as it is.
NAME = "%%MH_NAME%%"                 # " Name" (a leading space) or "" when unknown
EMAIL = "%%MH_EMAIL%%"
UNSUBSCRIBE_URL = "%%MH_UNSUBSCRIBE_URL%%"
PLACEHOLDERS = (NAME, EMAIL, UNSUBSCRIBE_URL)
_PLACEHOLDER = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS))

# The default policy, except that headers set raw (List-Unsubscribe) are written
# exactly as set instead of being refolded when a line is over 78 characters.
POLICY = email.policy.default.clone(refold_source="none")

_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HeaderValueError(DeliveryError):
    """A value meant for a header holds a line break or is otherwise unusable."""


def build_message(pub: Publication, digest: Digest, recipient: Recipient, *,
                  date: datetime) -> EmailMessage:
    """The complete message of ``digest`` for ``recipient``, dated ``date``.

    Raises HeaderValueError (a DeliveryError) when the recipient's name,
    address or unsubscribe URL, or the digest subject, cannot go in a header.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError(f"date must be timezone-aware, got {date!r}")
    site = pub.site
    subject = _header_value("Subject", digest.subject, digest.id)
    to = recipient_address(recipient, digest.id)
    unsubscribe_url = checked_unsubscribe_url(recipient, digest.id)

    mid = message_id(pub, digest.id, recipient.email)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _header("From", _header_value("From", site.email.sender, "feeds/site.toml: email.from"))
    msg["To"] = to
    if site.email.reply_to:
        msg["Reply-To"] = _header("Reply-To", _header_value("Reply-To", site.email.reply_to,
                                                            "feeds/site.toml: email.reply_to"))
    set_subject(msg, subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = mid
    msg["List-Id"] = _header("List-Id", list_id(pub, digest.feed))
    # Set raw, folded at the comma: Python would fold the long https URL (with its
    # token) into RFC 2047 encoded words, which providers do not decode here.
    msg.set_raw("List-Unsubscribe", ",\n ".join(_list_unsubscribe(pub, unsubscribe_url)))
    msg["List-Unsubscribe-Post"] = _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg["Auto-Submitted"] = _header("Auto-Submitted", "auto-generated")
    msg["Precedence"] = _header("Precedence", "bulk")
    msg["Feedback-ID"] = _header("Feedback-ID", feedback_id(pub, digest.id))

    values = body_values(recipient)
    # The encoding is chosen on the digest (cached: the same strings for every reader);
    # a reader's few personal characters do not change which one is shorter.
    parts = [_body_part(personalise(digest.text, values, html_context=False), "plain",
                        transfer_encoding(digest.text)),
             _body_part(personalise(digest.html, values, html_context=True), "html",
                        transfer_encoding(digest.html))]
    # A boundary from the Message-ID, not a random one: the same input gives the
    # same bytes. "=-" cannot occur in base64 or quoted-printable bodies.
    msg["MIME-Version"] = _header("MIME-Version", "1.0")
    msg["Content-Type"] = _header("Content-Type",
                                  f'multipart/alternative; boundary="=-mh-{mid.strip("<>").split("@")[0]}"')
    for part in parts:
        msg.attach(part)
    return msg


def set_subject(msg: EmailMessage, subject: str) -> None:
    """Set Subject so that every reader decodes it exactly.

    A non-ASCII subject is encoded whole: Python's folder encodes only the
    non-ASCII words, and between two adjacent encoded-words the space that
    separated Latin and Arabic words is lost ("World News, أخبار العالم").
    So is one holding ``=?`` (an article title can): Python would decode that
    text as an encoded-word, line breaks and all, while refolding.
    """
    if subject.isascii() and "=?" not in subject:
        msg["Subject"] = _header("Subject", subject)
    else:
        msg.set_raw("Subject", Header(subject, "utf-8").encode(linesep="\n"))


@functools.lru_cache(maxsize=256)
def _header(name: str, value: str) -> BaseHeader:
    """A parsed header; the same object serves every message carrying it (headers are immutable).

    Parsing headers is a large part of building a message: the digest's subject,
    sender and list headers are parsed once, not once per reader.
    """
    header: BaseHeader = POLICY.header_factory(name, value)
    return header


def _body_part(content: str, subtype: str, cte: str) -> EmailMessage:
    """A text/* part in UTF-8, encoded with ``cte`` (base64 or quoted-printable, 76-column lines)."""
    part = EmailMessage(policy=POLICY)
    part["Content-Type"] = _header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _header("Content-Transfer-Encoding", cte)
    part.set_payload(encoded_body(content, cte).decode("ascii"))
    return part


def encoded_body(content: str, cte: str) -> bytes:
    """``content`` in UTF-8 with LF line ends, encoded with ``cte`` (base64 or quoted-printable)."""
    raw = b"\n".join(content.encode("utf-8").splitlines()) + b"\n"   # as set_content does
    return base64.encodebytes(raw) if cte == "base64" else quopri.encodestring(raw)


def body_values(recipient: Recipient) -> dict[str, str]:
    """What each body placeholder becomes for ``recipient``."""
    return {NAME: f" {recipient.name.strip()}" if recipient.name and recipient.name.strip() else "",
            EMAIL: recipient.email, UNSUBSCRIBE_URL: recipient.unsubscribe_url.strip()}


def personalise(template: str, values: dict[str, str], *, html_context: bool) -> str:
    """Replace every placeholder in ``template``; HTML-escape values when ``html_context``.

    One pass: a value that itself looks like a placeholder (a name such as
    "%%MH_EMAIL%%") is inserted as it is, never expanded.
    """
    escaped = {token: html.escape(value, quote=True) if html_context else value
               for token, value in values.items()}
    return _PLACEHOLDER.sub(lambda match: escaped.get(match.group(), match.group()), template)


def message_id(pub: Publication, digest_id: str, email: str) -> str:
    """``<hash@host>``: the same for the same digest and address, different otherwise.

    The address is hashed, never shown, so the id reveals no one's address.
    """
    key = f"{digest_id}\x00{email.strip().lower()}".encode()
    return f"<{hashlib.sha256(key).hexdigest()[:32]}@{pub.site.host}>"


def feedback_id(pub: Publication, digest_id: str) -> str:
    """Gmail's Feedback-ID, ``day:feed:cadence:host``: complaint rates per issue, per feed, per sender.

    Gmail's Postmaster Tools count spam complaints per value of each field;
    the last field names the sender.
    """
    fields = [re.sub(r"[^A-Za-z0-9._-]", "-", part) for part in digest_id.split("/")]
    return ":".join([*fields[-1:], *fields[:-1]][:3] + [pub.site.host])


def list_id(pub: Publication, feed_name: str) -> str:
    """RFC 2919 List-Id: the feed's title as the phrase, ``<feed>.<host>`` as the id."""
    title = pub.feed(feed_name).title
    phrase = _CONTROL.sub(" ", title).replace('"', "'").strip()
    if phrase.isascii():
        phrase = f'"{phrase}"'
    return f"{phrase} <{feed_name}.{pub.site.host}>"


def _list_unsubscribe(pub: Publication, unsubscribe_url: str) -> list[str]:
    parts = [f"<{unsubscribe_url}>"]
    mailto = pub.site.email.unsubscribe_mailto
    if mailto:
        address = mailto.removeprefix("mailto:")
        parts.append(f"<mailto:{quote(address, safe='@')}?subject=unsubscribe>")
    return parts


def _header_value(header: str, value: str, where: str) -> str:
    if _LINE_BREAK.search(value):
        raise HeaderValueError(
            f"the {header} header would hold a line break: {value!r}", where=where,
            hint="header values must be one line; remove the line break (check the template or the data)",
        )
    if _CONTROL.search(value):
        raise HeaderValueError(f"the {header} header would hold a control character: {value!r}",
                               where=where, hint="remove the control character")
    return value


def recipient_address(recipient: Recipient, digest_id: str) -> Address:
    email = _header_value("To", recipient.email.strip(), f"recipient of {digest_id}")
    name = _header_value("To", (recipient.name or "").strip(), f"recipient of {digest_id}")
    problem = header_text_problem(name) or header_text_problem(email)
    if problem is not None:          # checked where names enter; checked again here, where it matters
        raise HeaderValueError(f"the name {name[:60]!r} cannot go in the To header: {problem}",
                               where=f"recipient of {digest_id}", hint="give this subscriber a plain name")
    _, parsed = parseaddr(email)
    if parsed != email or email.count("@") != 1:
        raise HeaderValueError(f"{email!r} is not a single e-mail address", where=f"recipient of {digest_id}",
                               hint="fix or remove this subscriber")
    local, domain = email.rsplit("@", 1)
    try:
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise HeaderValueError(f"{email!r} cannot be used as an address: {exc}",
                               where=f"recipient of {digest_id}", hint="fix or remove this subscriber") from None


def checked_unsubscribe_url(recipient: Recipient, digest_id: str) -> str:
    url = _header_value("List-Unsubscribe", recipient.unsubscribe_url.strip(), f"recipient of {digest_id}")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or re.search(r"[\s<>\"]", url):
        raise HeaderValueError(
            f"the unsubscribe URL {url!r} is not a plain https URL", where=f"recipient of {digest_id}",
            hint="mail providers require an https List-Unsubscribe URL; check email.unsubscribe_url in site.toml",
        )
    return url


@functools.lru_cache(maxsize=64)
def transfer_encoding(content: str) -> str:
    """Whichever of quoted-printable and base64 is shorter for ``content`` in UTF-8.

    Never 8bit: inlined HTML has lines far over SMTP's 998-octet limit.
    """
    raw = content.encode("utf-8")
    return "quoted-printable" if len(quopri.encodestring(raw)) <= len(base64.encodebytes(raw)) else "base64"
