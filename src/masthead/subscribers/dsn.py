"""Reading bounces (delivery status notifications) and complaints (feedback-loop reports).

``read_report(raw)`` says what one message reports, without the state:

- RFC 3464 DSNs (``message/delivery-status``): one failure per recipient,
  the Original-Recipient when given (the address we sent to), else the
  Final-Recipient; also inside ``multipart/mixed``, with mixed-case types,
  and as bare text when the MIME headers are missing (old Sendmail);
- ARF complaints (RFC 5965, ``message/feedback-report``): Original-Rcpt-To
  or Removal-Recipient, else the enclosed message's recipient; Hotmail's
  JMRP reports (an enclosed message with ``X-HmXmrOriginalRecipient``).
  ``auth-failure`` (DMARC reports) and ``not-spam`` are not complaints;
- the free-text notices of Exim, qmail, Yahoo, old Gmail, Exchange 2003 and
  others: flufl.bounce finds the recipients, the enhanced status code or the
  wording near them decides hard or soft.

Hard or soft, per recipient: Action ``delayed``, any 4.x.x code and X.2.2
(mailbox full, "persistent transient" in RFC 3463) are soft; other 5.x.x
are hard. A message from which no recipient and verdict can be read is
``unreadable`` with the reason: reported, never guessed.
"""

from __future__ import annotations

import email
import email.message
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Literal

Kind = Literal["hard", "soft"]
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SMTP_REPLY = re.compile(r"(?<!\d)([45])\d\d(?![\d.])")
COMPLAINT_TYPES = ("abuse", "fraud", "opt-out", "virus", "other")
# Wording of temporary trouble that ended a delivery (no code, or a code that hides it).
_SOFT_WORDS = re.compile(
    r"retry timeout exceeded|giving up|multiple retries|has not yet been delivered|will be retried|"
    r"delayed|mailbox (?:is )?full|over ?quota|quota exceeded|disk quota|insufficient (?:disk )?space|"
    r"connection (?:refused|timed out)|socket error|temporar", re.I)
_HARD_WORDS = re.compile(
    r"user unknown|unknown user|no such user|no such (?:mailbox|recipient)|does not exist|not recognized|"
    r"no mailbox|invalid (?:recipient|mailbox|address)|address rejected|no mx record|host not found|"
    r"host unknown|domain (?:not found|does not exist)|recipient not found|unrouteable|mailbox unavailable|"
    r"account (?:has been )?disabled|not our customer|permanent", re.I)
_POLICY_WORDS = re.compile(r"spam|blacklist|blocklist|block(?:ed)? |spf|dmarc|dkim|policy|rejected after|"
                           r"sender (?:was )?rejected|access denied|use the smtp server", re.I)


@dataclass(frozen=True, slots=True)
class Failure:
    """One recipient a bounce says was not (or not yet) delivered."""

    recipient: str
    kind: Kind
    status: str | None           # RFC 3463 code when the report gives one
    detail: str                  # the diagnostic, or the line of text that says why


@dataclass(frozen=True, slots=True)
class Report:
    """What one message reports: a bounce, a complaint, or nothing readable (and why)."""

    kind: Literal["bounce", "complaint", "unreadable"]
    failures: tuple[Failure, ...] = ()
    complained: tuple[str, ...] = ()      # addresses a complaint names (may be empty: redacted)
    feedback_type: str | None = None
    why: str = ""                         # for unreadable: what was missing
    message_ids: tuple[str, ...] = ()     # Message-IDs of the returned message, when it is quoted
    texts: tuple[str, ...] = field(default=(), repr=False)   # where a return-path token may hide


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw)


def read_report(raw: bytes) -> Report:
    """What ``raw`` (one whole message) reports. Never raises on a malformed message."""
    try:
        msg = parse(raw)
        return _read(msg, raw)
    except Exception as exc:   # a damaged message is one unreadable report, never a crash
        return Report("unreadable", why=f"the message cannot be parsed ({type(exc).__name__}: {exc})")


def _read(msg: Message, raw: bytes) -> Report:
    parts = list(msg.walk())
    types = [p.get_content_type().lower() for p in parts]
    enclosed = _enclosed(parts)
    message_ids = tuple(dict.fromkeys(str(h).strip() for h in (e.get("Message-ID") for e in enclosed) if h))
    texts = (raw.decode("latin-1"),)
    if "message/feedback-report" in types:
        return _arf(parts[types.index("message/feedback-report")], enclosed, message_ids, texts)
    jmrp = [e for e in enclosed if e.get("X-HmXmrOriginalRecipient")]
    if jmrp:
        addresses = _addresses(" ".join(str(e.get("X-HmXmrOriginalRecipient")) for e in jmrp))
        return Report("complaint", complained=addresses, feedback_type="abuse", message_ids=message_ids,
                      texts=texts)
    blocks = _dsn_blocks(parts, types) or _text_dsn_blocks(msg)
    failures = tuple(f for f in (_dsn_failure(b) for b in blocks) if f is not None)
    if failures:
        return Report("bounce", failures=failures, message_ids=message_ids, texts=texts)
    return _free_text(msg, message_ids, texts)


def _enclosed(parts: list[Message]) -> list[Message]:
    """The returned message (or its headers) that a report quotes."""
    found: list[Message] = []
    for part in parts:
        kind = part.get_content_type().lower()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found.append(payload[0])
        elif kind in ("text/rfc822-headers", "text/rfc822-header"):
            found.append(email.message_from_string(_text(part)))
    return found


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload())
    charset = part.get_content_charset() or "utf-8"
    if charset.lower() in ("unicode-1-1-utf-7", "utf7"):
        charset = "utf-7"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("latin-1")


def _fields(part: Message) -> list[Message]:
    """The blocks of a message/delivery-status or feedback-report part, as header sets."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    return [email.message_from_string(block.strip() + "\n") for block in re.split(r"\r?\n\s*\r?\n", text)
            if block.strip()]


def _dsn_blocks(parts: list[Message], types: list[str]) -> list[Message]:
    blocks: list[Message] = []
    for part, kind in zip(parts, types, strict=True):
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            blocks += _fields(part)[1:] if len(_fields(part)) > 1 else _fields(part)
        elif kind == "text/plain" and part.get_filename() and re.search(
                r"^Final-Recipient:", _text(part), re.M | re.I):   # a DSN sent on as an attachment
            blocks += [b for b in _split_text_blocks(_text(part)) if b.get("Final-Recipient")]
    return blocks


def _text_dsn_blocks(msg: Message) -> list[Message]:
    """DSN fields in plain text: a report whose MIME headers were lost (old Sendmail)."""
    if msg.is_multipart() or msg.get_content_type() not in ("text/plain",):
        return []
    text = _text(msg)
    if not re.search(r"^Final-Recipient:", text, re.M | re.I):
        return []
    return [b for b in _split_text_blocks(text) if b.get("Final-Recipient")]


def _split_text_blocks(text: str) -> list[Message]:
    return [email.message_from_string(block.strip() + "\n") for block in re.split(r"\r?\n\s*\r?\n", text)
            if re.match(r"^[A-Za-z-]+:", block.strip())]


def _field_address(value: str | None) -> str | None:
    if not value:
        return None
    found = _addresses(str(value).partition(";")[2] or str(value))
    return found[0] if found else None


def _dsn_failure(block: Message) -> Failure | None:
    recipient = _field_address(block.get("Original-Recipient")) or _field_address(block.get("Final-Recipient"))
    if recipient is None:
        return None
    action = str(block.get("Action") or "").strip().lower()
    if action in ("delivered", "relayed", "expanded"):
        return None
    status_match = _ENHANCED.search(str(block.get("Status") or ""))
    status = status_match.group(0) if status_match else None
    diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
    if status is None:
        status = _code_in(diagnostic)
    kind = _kind(status, delayed=action == "delayed", text=diagnostic)
    if kind is None:
        return None
    return Failure(recipient, kind, status, diagnostic or f"Action: {action or 'unknown'}")


def _kind(status: str | None, *, delayed: bool, text: str) -> Kind | None:
    if delayed:
        return "soft"
    if status:
        cls, subject, detail = status.split(".")
        if cls == "4" or (subject == "2" and detail == "2"):
            return "soft"
        if cls == "5":
            return "hard"
    if _SOFT_WORDS.search(text):
        return "soft"
    reply = _SMTP_REPLY.search(text)
    if reply:
        return "soft" if reply.group(1) == "4" else "hard"
    if _HARD_WORDS.search(text):
        return "hard"
    return None


def _code_in(text: str) -> str | None:
    match = _ENHANCED.search(text)
    return match.group(0) if match else None


def _addresses(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.strip(".").lower() for a in _ADDRESS.findall(text)))


def _arf(part: Message, enclosed: list[Message], message_ids: tuple[str, ...], texts: tuple[str, ...]) -> Report:
    fields = _fields(part)
    report = fields[0] if fields else Message()
    for extra in fields[1:]:
        for name, value in extra.items():
            report[name] = value
    feedback_type = str(report.get("Feedback-Type") or "").strip().lower()
    if feedback_type not in COMPLAINT_TYPES:
        return Report("unreadable", feedback_type=feedback_type or None,
                      why=f"a feedback report of type {feedback_type or 'unknown'!r}, not a complaint")
    named = [a for name in ("Original-Rcpt-To", "Removal-Recipient") for v in report.get_all(name) or []
             for a in _addresses(str(v))]
    if not named and not report.get("Redacted-Address"):   # redacted reports name a placeholder
        for message in enclosed:
            named += _addresses(str(message.get("X-HmXmrOriginalRecipient") or message.get("To") or ""))
    return Report("complaint", complained=tuple(dict.fromkeys(named)), feedback_type=feedback_type,
                  message_ids=message_ids, texts=texts)


def _free_text(msg: Message, message_ids: tuple[str, ...], texts: tuple[str, ...]) -> Report:
    """A notice without DSN fields: flufl.bounce finds who failed, the text near each says why."""
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(msg)
    found = [a.decode("utf-8", "replace").lower() for a in (*permanent, *temporary)]
    for header in msg.get_all("X-Failed-Recipients") or []:
        found += _addresses(str(header))
    body = _notice(msg)
    subject = str(msg.get("Subject") or "")
    if not found and _looks_like_bounce(msg):   # a notice flufl.bounce does not know: the addresses it names
        own = set(_addresses(" ".join(str(msg.get(h) or "") for h in ("From", "To", "Reply-To", "Sender"))))
        leading = _addresses(" ".join(_LEADING_ADDRESS.findall(body)))   # "<a@b>: ..." as Postfix and qmail write
        found = [a for a in leading or _addresses(body)
                 if a not in own and not a.startswith(("postmaster@", "mailer-daemon@", "support@"))]
    recipients = [a for a in dict.fromkeys(found) if "@" in a]
    if not recipients:
        return Report("unreadable", why="no failed recipient found: not a bounce, or a format masthead cannot read")
    failures = []
    for address in recipients:
        near = _near(body, address)
        status = _code_in(near)
        kind = _kind(status, delayed=bool(re.search(r"\bdelay", subject, re.I)), text=near + "\n" + subject)
        if kind is None:
            return Report("unreadable", why=f"{address} is named, but nothing says whether the failure is lasting")
        failures.append(Failure(address, kind, status, " ".join(near.split())[:300]))
    return Report("bounce", failures=tuple(failures), message_ids=message_ids, texts=texts)


_COPY_MARKER = re.compile(r"^.*(?:below this line|copy of the (?:original )?message|original message|"
                          r"message headers? follow|bounced e-?mail:|^received: ).*$", re.I | re.M)
_LEADING_ADDRESS = re.compile(r"^\s*<?([^\s<>@]+@[^\s<>:]+?)>?(?::|<mailto:|\s*$)", re.M)
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery|delivery subsystem", re.I)
_BOUNCE_SUBJECT = re.compile(r"undeliver|deliver(?:y|ed).*(?:fail|status|notif|problem)|fail|returned|"
                             r"non.?delivery|not (?:be )?delivered|bounce|delay", re.I)


def _looks_like_bounce(msg: Message) -> bool:
    return bool(_BOUNCE_SENDER.search(str(msg.get("From") or "")) and
                _BOUNCE_SUBJECT.search(str(msg.get("Subject") or "")))


def _notice(msg: Message) -> str:
    """The human-readable notice, without the copy of the returned message that follows it."""
    texts: list[str] = []
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            break
        if part.get_content_type() == "text/plain" or (
                part.get_content_type() == "text/html" and not texts):
            text = _text(part)
            if part.get_content_type() == "text/html":
                text = re.sub(r"<[^>]+>", " ", text)
            marker = _COPY_MARKER.search(text, 40)
            texts.append(text[:marker.start()] if marker else text)
    return "\n".join(texts)


def _near(body: str, address: str) -> str:
    """The text about one address: from it to the next blank line pair, or the whole notice."""
    lower = body.lower()
    at = lower.find(address)
    if at < 0:
        return body[:2000]
    start = max(0, at - 600)
    return body[start:at + 800]
