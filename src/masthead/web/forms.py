"""Reading what a stranger sends: query strings and form bodies, bounded and checked.

Forms come url-encoded or as ``multipart/form-data`` (RFC 8058's own example
of one-click unsubscribe is multipart). A body over ``MAX_FORM`` bytes is 413,
more than ``MAX_FIELDS`` fields, a bad Content-Length or a malformed body is
400: never an exception for the server to turn into a 500.
"""

from __future__ import annotations

import email.parser
import email.policy
from typing import Any
from urllib.parse import parse_qs

MAX_FORM = 8192
MAX_FIELDS = 20
Form = dict[str, list[str]]


class BadRequest(Exception):
    """The request is malformed or too big: answered with ``status`` and a page, never a 500."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _parse_qs(text: str) -> Form:
    try:
        return parse_qs(text, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise BadRequest("400 Bad Request", f"more than {MAX_FIELDS} fields") from None


def read_query(environ: dict[str, Any]) -> Form:
    """The query string's fields (at most MAX_FIELDS)."""
    return _parse_qs(environ.get("QUERY_STRING", "") or "")


def read_form(environ: dict[str, Any]) -> Form:
    """The POST body's fields, url-encoded or multipart/form-data."""
    raw_length = (environ.get("CONTENT_LENGTH") or "").strip()
    if not raw_length:
        length = 0
    elif raw_length.isdigit():
        length = int(raw_length)
    else:
        raise BadRequest("400 Bad Request", "Content-Length is not a number")
    if length > MAX_FORM:
        raise BadRequest("413 Content Too Large", f"the form is over {MAX_FORM} bytes")
    raw = environ["wsgi.input"].read(length) if length else b""
    kind = environ.get("CONTENT_TYPE", "") or ""
    if kind.split(";", 1)[0].strip().lower() == "multipart/form-data":
        return _multipart(kind, raw)
    return _parse_qs(raw.decode("utf-8", "replace"))


def _multipart(kind: str, raw: bytes) -> Form:
    try:
        head = f"Content-Type: {kind}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    except UnicodeEncodeError:
        raise BadRequest("400 Bad Request", "a malformed Content-Type") from None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart() or message.defects:
        raise BadRequest("400 Bad Request", "a malformed multipart/form-data body")
    form: Form = {}
    parts = list(message.iter_parts()) if hasattr(message, "iter_parts") else []
    if len(parts) > MAX_FIELDS:
        raise BadRequest("400 Bad Request", f"more than {MAX_FIELDS} fields")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue                                   # files are not fields any form of ours has
        payload = part.get_payload(decode=True)
        try:
            value = payload.decode(part.get_content_charset() or "utf-8", "replace") \
                if isinstance(payload, bytes) else ""
        except LookupError:                            # a charset nobody knows
            value = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        form.setdefault(name, []).append(value)
    return form
