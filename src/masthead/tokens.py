"""Signed per-recipient unsubscribe tokens.

A token is ``<address, base64url>.<HMAC-SHA256 of the address, base64url>``.
It binds one address: changing the address part breaks the signature, so a
token cannot be forged or reused for anyone else. The key comes from
``MASTHEAD_SECRET`` or, when that is unset, from ``.masthead/secret``, made
once with owner-only permissions. Neither the key nor tokens ever go under
``output/``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from .errors import ConfigError

SECRET_ENV = "MASTHEAD_SECRET"
SECRET_FILE = "secret"
_PURPOSE = b"masthead-unsubscribe-v1\x00"   # keeps these MACs apart from any other use of the key


def load_secret(state_dir: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The signing key: ``MASTHEAD_SECRET`` if set, else the state folder's secret file.

    The file is created on first use (64 random hex digits, mode 0600) with
    O_EXCL, so two processes starting at once agree on one key.
    """
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV, "").strip()
    if value:
        if len(value) < 16:
            raise ConfigError(f"{SECRET_ENV} is too short ({len(value)} characters)",
                              hint="use at least 32 random characters, e.g. from "
                                   "'python -c \"import secrets; print(secrets.token_hex(32))\"'")
        return value.encode("utf-8")
    path = state_dir / SECRET_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return _read_secret_file(path)


def _read_secret_file(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)     # someone loosened it: the key must stay owner-only
    value = path.read_text(encoding="ascii", errors="replace").strip()
    if len(value) < 16:
        raise ConfigError("the unsubscribe secret file is empty or damaged", where=str(path),
                          hint="delete it to make a new one (links in mail already sent stop working)")
    return value.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, email: str) -> bytes:
    # HMAC-SHA256 cut to 128 bits (RFC 2104 allows it): shorter URLs, still unforgeable
    return hmac.new(secret, _PURPOSE + email.encode("utf-8"), hashlib.sha256).digest()[:16]


def make_token(secret: bytes, email: str) -> str:
    """The token that lets the holder unsubscribe ``email`` (a normalised address)."""
    return f"{_b64(email.encode('utf-8'))}.{_b64(_mac(secret, email))}"


def verify_token(secret: bytes, token: str) -> str | None:
    """The address a genuine token names, or None for anything forged or damaged."""
    if not token or len(token) > 1024 or token.count(".") != 1:
        return None
    address_part, mac_part = token.split(".")
    try:
        email = _unb64(address_part).decode("utf-8")
        mac = _unb64(mac_part)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(mac, _mac(secret, email)):
        return None
    return email


def unsubscribe_url(base: str, token: str) -> str:
    """``base`` (the site's email.unsubscribe_url) with ``?token=...`` added."""
    parts = urlsplit(base)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"token": token})))
