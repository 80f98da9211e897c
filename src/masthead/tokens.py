"""Signed per-recipient unsubscribe tokens.

A digest carries ``<address>.<feed>.<MAC>`` (each part base64url; the MAC is
HMAC-SHA256 over both): it leaves that one feed. Tokens made before per-feed
unsubscribe are ``<address>.<MAC of the address>`` and still work: they stop
every feed. Changing the address or the feed part breaks the signature, so a
token cannot be forged, moved to another address or to another feed. The two
kinds are signed with different purpose prefixes, so neither can pass for the
other. Sign-up confirmation links carry a third kind (signup.py), again
under its own purpose prefix; so do the return-path tokens that tie a
bounce to one digest copy. The key comes from
``MASTHEAD_SECRET`` or, when that is unset, from ``.masthead/secret``, made
once with owner-only permissions. Neither the key nor tokens ever go under
``output/``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from .config import SECRET_ENV
from .errors import ConfigError, storage_error

SECRET_FILE = "secret"
_PURPOSE = b"masthead-unsubscribe-v1\x00"   # keeps these MACs apart from any other use of the key
_FEED_PURPOSE = b"masthead-unsubscribe-feed-v1\x00"
_SIGNUP_PURPOSE = b"masthead-signup-confirm-v1\x00"
_RETURN_PURPOSE = b"masthead-return-path-v1\x00"
_HOOK_PURPOSE = b"masthead-bounce-hook-v1\x00"
RETURN_TOKEN_LENGTH = 24     # base32 characters: 120 bits


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """What a genuine unsubscribe token allows: ``email`` leaves ``feed``, or every feed (None)."""

    email: str
    feed: str | None


def load_secret(state_dir: Path, value: str | None = None) -> bytes:
    """The signing key: ``value`` (``MASTHEAD_SECRET``, given by the caller) if set, else the state folder's.

    The file is created on first use (64 random hex digits, mode 0600) with
    O_EXCL, so two processes starting at once agree on one key.
    """
    if value and value.strip():
        value = value.strip()
        if len(value) < 16:
            raise ConfigError(f"{SECRET_ENV} is too short ({len(value)} characters)",
                              hint="use at least 32 random characters, e.g. from "
                                   "'python -c \"import secrets; print(secrets.token_hex(32))\"'")
        return value.encode("utf-8")
    path = state_dir / SECRET_FILE
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_file(path)
    except OSError as exc:
        raise storage_error(exc, path, "create the signing key") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)      # never leave an empty key behind
        raise storage_error(exc, path, "write the signing key") from None
    return _read_secret_file(path)


def _read_secret_file(path: Path) -> bytes:
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)     # someone loosened it: the key must stay owner-only
        value = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError as exc:
        raise storage_error(exc, path, "read the signing key") from None
    if len(value) < 16:
        raise ConfigError("the unsubscribe secret file is empty or damaged", where=str(path),
                          hint="delete it to make a new one (links in mail already sent stop working)")
    return value.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, email: str, feed: str | None = None) -> bytes:
    # HMAC-SHA256 cut to 128 bits (RFC 2104 allows it): shorter URLs, still unforgeable
    if feed is None:
        message = _PURPOSE + email.encode("utf-8")
    else:   # length-prefixed, so no other (address, feed) split gives the same bytes
        message = _FEED_PURPOSE + f"{len(email)}:{email}{feed}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[:16]


def make_token(secret: bytes, email: str, feed: str | None = None) -> str:
    """The token that lets the holder take ``email`` (normalised) off ``feed``, or off all feeds."""
    if feed is None:
        return f"{_b64(email.encode('utf-8'))}.{_b64(_mac(secret, email))}"
    return f"{_b64(email.encode('utf-8'))}.{_b64(feed.encode('utf-8'))}.{_b64(_mac(secret, email, feed))}"


def read_token(secret: bytes, token: str) -> Unsubscribe | None:
    """What a genuine token allows, or None for anything forged or damaged."""
    if not token or len(token) > 1024 or token.count(".") not in (1, 2):
        return None
    parts = token.split(".")
    try:
        email = _unb64(parts[0]).decode("utf-8")
        feed = _unb64(parts[1]).decode("utf-8") if len(parts) == 3 else None
        mac = _unb64(parts[-1])
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(mac, _mac(secret, email, feed)):
        return None
    return Unsubscribe(email, feed)


def verify_token(secret: bytes, token: str) -> str | None:
    """The address a genuine token names (of either kind), or None for anything forged or damaged."""
    found = read_token(secret, token)
    return found.email if found else None


@dataclass(frozen=True, slots=True)
class SignupRequest:
    """What a sign-up confirmation link carries: who, under which name, which feeds, until when."""

    email: str
    name: str | None
    feeds: tuple[str, ...]
    expires: int                  # Unix time; the link is refused after it


def make_signup_token(secret: bytes, request: SignupRequest) -> str:
    """``<the request as JSON, base64url>.<HMAC, base64url>``: unforgeable, readable only as data."""
    payload = json.dumps([request.email, request.name, list(request.feeds), request.expires],
                         ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    mac = hmac.new(secret, _SIGNUP_PURPOSE + payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def read_signup_token(secret: bytes, token: str) -> SignupRequest | None:
    """The request a genuine confirmation token carries (expired or not), or None when forged."""
    if not token or len(token) > 2048 or token.count(".") != 1:
        return None
    payload_part, mac_part = token.split(".")
    try:
        payload = _unb64(payload_part)
        mac = _unb64(mac_part)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(mac, hmac.new(secret, _SIGNUP_PURPOSE + payload, hashlib.sha256).digest()[:16]):
        return None
    email, name, feeds, expires = json.loads(payload.decode("utf-8"))
    return SignupRequest(email=email, name=name, feeds=tuple(feeds), expires=int(expires))


def unsubscribe_url(base: str, token: str) -> str:
    """``base`` (email.unsubscribe_url, or subscribe_url for confirmations) with ``?token=...``."""
    parts = urlsplit(base)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"token": token})))


def return_token(secret: bytes, digest_id: str, email: str) -> str:
    """The token of one digest copy's return path: 24 lower-case base32 characters (120 bits).

    An HMAC of the digest and the address, so nobody without the key can make
    one that points at someone else's copy; the state keeps which copy it is.
    Lower case, because mail servers may fold the case of a local part.
    """
    message = _RETURN_PURPOSE + f"{len(digest_id)}:{digest_id}{email}".encode()
    mac = hmac.new(secret, message, hashlib.sha256).digest()[:15]
    return base64.b32encode(mac).decode("ascii").lower()


def verp_address(return_path: str, token: str) -> str:
    """``bounces@example.org`` + token -> ``bounces+token@example.org``."""
    local, _, domain = return_path.rpartition("@")
    return f"{local}+{token}@{domain}"


def hook_password(secret: bytes) -> str:
    """The shared secret a bounce webhook URL carries (Postmark's basic auth): derived from the key."""
    return _b64(hmac.new(secret, _HOOK_PURPOSE, hashlib.sha256).digest()[:24])
