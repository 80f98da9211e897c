"""Every copy of a digest from its message serialised once: only each reader's parts go in per copy.

Serialising a message with the email package folds every header (and
``wire_bytes`` folds some twice to keep URLs out of encoded words): that cost
several times what sending the copy did. The copies of one digest differ
only in To, the List-Unsubscribe URL, the Message-ID (and the MIME boundary
made from it) and the personalised bodies. So the digest's message is built
and serialised once for a probe reader whose values are markers, and cut at
them; a copy is those pieces with its reader's values in: To folded on its
own, the bodies personalised and encoded (base64 or quoted-printable, in C).
A copy is byte for byte what ``build_message`` and ``wire_bytes`` make for
the same reader (the tests compare them); the DKIM signature is made over
these bytes as they go out (smtp.py), so it covers exactly what is sent.
"""

from __future__ import annotations

import base64
import re
import threading
from datetime import datetime

from ..config import Publication
from ..records import Digest, Recipient
from .message import (
    POLICY,
    body_values,
    build_message,
    checked_unsubscribe_url,
    encoded_body,
    message_id,
    personalise,
    recipient_address,
    transfer_encoding,
)
from .wire import header_bytes, wire_bytes

# The probe's unsubscribe URL is as long as real ones (a token of ~100 characters):
# wire_bytes moves such a List-Unsubscribe after the other headers, folded at its
# commas, and every copy keeps that place whatever its own URL's length.
_PROBE = Recipient("masthead-probe@copies.invalid", None,
                   "https://copies.invalid/unsubscribe?token=%%MH_PROBE_UNSUBSCRIBE%%" + "-" * 80)
_PARTS = ("%%MH_PROBE_PART_0%%", "%%MH_PROBE_PART_1%%")     # the text and the HTML bodies, in that order


class Stencil:
    """One digest's message, serialised once, cut where each copy differs."""

    def __init__(self, pub: Publication, digest: Digest, *, date: datetime, utf8: bool):
        self.pub, self.digest, self.utf8 = pub, digest, utf8
        self.bodies = ((digest.text, False, transfer_encoding(digest.text)),
                       (digest.html, True, transfer_encoding(digest.html)))
        msg = build_message(pub, digest, _PROBE, date=date)
        for part, marker in zip(msg.iter_parts(), _PARTS, strict=True):
            part.set_payload(marker + "\n")
        data = wire_bytes(msg, utf8=utf8)
        probe_hash = message_id(pub, digest.id, _PROBE.email).strip("<>").split("@")[0]
        markers = {header_bytes("To", msg["To"], utf8=utf8): "to", probe_hash.encode(): "hash",
                   _PROBE.unsubscribe_url.encode(): "url",
                   **{f"{marker}\r\n".encode(): str(n) for n, marker in enumerate(_PARTS)}}
        self.pieces: list[bytes | str] = []
        at = 0
        for match in re.finditer(b"|".join(re.escape(m) for m in markers), data):
            self.pieces += [data[at:match.start()], markers[match.group()]]
            at = match.end()
        self.pieces.append(data[at:])
        found = sorted(p for p in self.pieces if isinstance(p, str))
        if found.count("hash") < 3 or [p for p in found if p != "hash"] != ["0", "1", "to", "url"]:
            raise AssertionError(f"the digest's message did not come out as expected: {found}")

    def copy(self, recipient: Recipient) -> tuple[bytes, str]:
        """The wire bytes (CRLF, not yet dot-stuffed) of ``recipient``'s copy, and its Message-ID.

        Raises HeaderValueError as ``build_message`` does for a name, address
        or unsubscribe URL that cannot go in a header.
        """
        to = recipient_address(recipient, self.digest.id)
        url = checked_unsubscribe_url(recipient, self.digest.id)
        mid = message_id(self.pub, self.digest.id, recipient.email)
        values = body_values(recipient)
        to_line = plain_to(to.display_name, to.addr_spec, utf8=self.utf8)
        slots = {"to": to_line or header_bytes("To", POLICY.header_factory("To", to), utf8=self.utf8),
                 "hash": mid.strip("<>").split("@")[0].encode(), "url": url.encode("ascii")}
        for n, (template, html_context, cte) in enumerate(self.bodies):
            body = personalise(template, values, html_context=html_context)
            slots[str(n)] = encoded_body(body, cte).replace(b"\n", b"\r\n")
        return b"".join(p if isinstance(p, bytes) else slots[p] for p in self.pieces), mid


class Stencils:
    """The stencils of the digests a sender is sending, shared by its connections (each made once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.made: dict[tuple[str, bool, datetime], Stencil] = {}

    def get(self, pub: Publication, digest: Digest, *, date: datetime, utf8: bool) -> Stencil:
        with self.lock:
            key = (digest.id, utf8, date)
            stencil = self.made.get(key)
            if stencil is None:
                if len(self.made) >= 8:          # a forever worker moves on to new digests and dates
                    self.made.clear()
                stencil = self.made[key] = Stencil(pub, digest, date=date, utf8=utf8)
            return stencil


_ATOMS = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_CHUNK = 45              # bytes of a name in one encoded word: base64 of 45 is 60, with =?utf-8?b?...?= 72


def plain_to(name: str, address: str, *, utf8: bool) -> bytes | None:
    """The To header for the common cases, without the email package's folder (most of a copy's cost).

    A plain address alone or after a name of plain words is written as the
    email package writes it. A short name in another script (Arabic,
    Persian, Urdu...) is one RFC 2047 encoded word in base64, which every
    reader decodes to exactly the name. None for anything else (quoting,
    names of more than one encoded word, long lines, SMTPUTF8 headers): the
    email package writes those.
    """
    local, _, domain = address.rpartition("@")
    if not (_DOT_ATOM.fullmatch(local) and _DOMAIN.fullmatch(domain)):
        return None
    if not name or (name.isascii() and _ATOMS.fullmatch(name)):
        line = f"To: {name} <{address}>" if name else f"To: {address}"
        return f"{line}\r\n".encode("ascii") if len(line) <= 78 else None
    encoded = name.encode("utf-8")
    if utf8 or name.isascii() or len(encoded) > _CHUNK:
        return None
    line = f"To: =?utf-8?b?{base64.b64encode(encoded).decode('ascii')}?= <{address}>"
    return f"{line}\r\n".encode("ascii") if len(line) <= 78 else None
