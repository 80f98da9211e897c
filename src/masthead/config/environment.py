"""Settings that come from the environment, never from a file in the publication.

``MASTHEAD_SMTP_URL`` names the mail server, ``MASTHEAD_SECRET`` the signing
key, ``MASTHEAD_DKIM_KEY_FILE`` a DKIM private key kept outside the
publication, ``MASTHEAD_MAILGUN_SIGNING_KEY`` Mailgun's webhook key and
``MASTHEAD_IMAP_PASSWORD`` the bounce mailbox's password. Only entry points
(the command line, the WSGI entry point) read them; the library takes them
as arguments.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError

SMTP_ENV = "MASTHEAD_SMTP_URL"
SECRET_ENV = "MASTHEAD_SECRET"
DKIM_ENV = "MASTHEAD_DKIM_KEY_FILE"
MAILGUN_ENV = "MASTHEAD_MAILGUN_SIGNING_KEY"
IMAP_PASSWORD_ENV = "MASTHEAD_IMAP_PASSWORD"
Security = Literal["tls", "starttls", "local"]   # local: STARTTLS when offered, else plain


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A DKIM signing key: who signs (``d=``, ``s=``) and the private key as dkimpy takes it."""

    domain: str
    selector: str
    algorithm: Literal["rsa-sha256", "ed25519-sha256"]
    private_key: bytes = field(repr=False)   # PEM (RSA) or the base64 32-byte seed (Ed25519)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    dkim: DkimKey | None = field(default=None, repr=False)   # every message sent is signed with it

    def describe(self) -> str:
        """Where mail goes, for reports: never the user name or the password."""
        scheme = "smtps" if self.security == "tls" else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str) -> SmtpSettings | None:
    """The server a ``MASTHEAD_SMTP_URL`` value names; None when it is empty.

    ``smtp://user:pass@host:587`` (STARTTLS, required unless the host is this
    machine), ``smtps://host:465`` (TLS from the first byte), or
    ``smtp://127.0.0.1:8025`` (a local relay; STARTTLS only if offered).
    """
    url = url.strip()
    if not url:
        return None

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{SMTP_ENV} {why}", where=f"environment variable {SMTP_ENV}",
                           hint="use smtp://user:password@host:587, smtps://host:465 "
                                "or smtp://127.0.0.1:8025 (percent-encode special characters)")

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise bad(f"must start with smtp:// or smtps://, not {parts.scheme or 'nothing'}")
    try:
        port = parts.port
    except ValueError:
        raise bad("has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise bad("names no host")
    host = parts.hostname
    if parts.scheme == "smtps":
        security: Security = "tls"
    else:
        security = "local" if _is_local(host) else "starttls"
    return SmtpSettings(
        host=host, port=port or (465 if security == "tls" else 587), security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


@dataclass(frozen=True, slots=True)
class Environment:
    """Settings that come from the environment, never from a file in the publication."""

    smtp: SmtpSettings | None    # MASTHEAD_SMTP_URL: where mail goes; None: nowhere
    secret: str | None           # MASTHEAD_SECRET: the signing key; None: the state folder's
    dkim_key_file: Path | None = None   # MASTHEAD_DKIM_KEY_FILE: the DKIM key; None: the state folder's
    mailgun_key: str | None = None      # MASTHEAD_MAILGUN_SIGNING_KEY: Mailgun's webhook signing key
    imap_password: str | None = field(default=None, repr=False)   # MASTHEAD_IMAP_PASSWORD


def read_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The environment's settings (``os.environ`` unless given): only entry points call this."""
    env = os.environ if environ is None else environ
    key_file = env.get(DKIM_ENV, "").strip()
    return Environment(smtp=parse_smtp_url(env.get(SMTP_ENV, "")),
                       secret=env.get(SECRET_ENV, "").strip() or None,
                       dkim_key_file=Path(key_file) if key_file else None,
                       mailgun_key=env.get(MAILGUN_ENV, "").strip() or None,
                       imap_password=env.get(IMAP_PASSWORD_ENV, "") or None)
