"""A message as it goes over SMTP: its bytes, and the address it goes to.

``wire_bytes`` serialises with CRLF and keeps long ASCII header values (the
List-Unsubscribe URL) readable; ``wire_address`` picks the RCPT form of an
internationalised address for what the server speaks.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from typing import Any


def wire_bytes(msg: EmailMessage, *, utf8: bool = False) -> bytes:
    """The message as it goes over SMTP: CRLF, and no URL hidden in an encoded word.

    Python folds an ASCII word longer than a line (List-Unsubscribe's https
    URL with its token) into RFC 2047 encoded words, which mail providers do
    not decode in that header: one-click unsubscribe would silently break.
    Such headers are folded at their list commas instead and kept as they are.
    """
    wire = wire_policy(utf8)
    for name in dict.fromkeys(msg.keys()):
        values = msg.get_all(name) or []
        if not any(_hides_ascii(wire, name, v) for v in values):
            continue
        del msg[name]
        for value in values:
            msg.set_raw(name, _at_commas(value))
    return msg.as_bytes(policy=wire)


def header_bytes(name: str, value: Any, *, utf8: bool = False) -> bytes:
    """One header as ``wire_bytes`` writes it (folded, CRLF), for a copy put together from parts."""
    wire = wire_policy(utf8)
    return wire.fold_binary(name, _at_commas(value) if _hides_ascii(wire, name, value) else value)


def wire_policy(utf8: bool) -> policy.EmailPolicy[EmailMessage]:
    """SMTP's policy (CRLF; UTF-8 headers with ``utf8``), writing raw-set headers as they were set."""
    return _SMTPUTF8 if utf8 else _SMTP


_SMTP = policy.SMTP.clone(refold_source="none")
_SMTPUTF8 = policy.SMTPUTF8.clone(refold_source="none")


def _at_commas(value: Any) -> str:
    return ",\n ".join(str(value).split(", "))


def _hides_ascii(wire: policy.Policy, name: str, value: Any) -> bool:
    text = str(value)
    if not text.isascii() or "=?" in text:
        return False
    longest = max((len(word) for word in text.split()), default=0)
    return longest + len(name) + 2 > (wire.max_line_length or 78) and "=?" in wire.fold(name, value)


def wire_address(email: str, *, smtputf8: bool) -> tuple[str | None, bool]:
    """The address for RCPT TO and the To header, and whether the message needs SMTPUTF8.

    Unicode as it is when the server speaks SMTPUTF8; otherwise an ASCII local
    part with its domain in punycode (``x@xn--bcher-kva.de``); None when
    neither works (a non-ASCII local part and a server without SMTPUTF8).
    """
    if email.isascii():
        return email, False
    if smtputf8:
        return email, True
    from email_validator import EmailNotValidError, validate_email  # compiles its patterns: only when needed

    try:
        return validate_email(email, check_deliverability=False).ascii_email, False
    except EmailNotValidError:
        return None, False
