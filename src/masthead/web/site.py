"""What every handler of the web app shares: the publication, its key, its mail server, its state, its clock.

Also who is asking: the client's address (the connection's, or behind a
reverse proxy the one ``[serve] client_address_header`` names, believed only
from ``trusted_proxies``), and whether a form POST comes from our own pages
(its Origin, else its Referer, is the origin of the configured public URLs or
of the request itself; another site's is refused).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..config import FeedSettings, Publication, SmtpSettings
from ..state.db import Store, open_store
from .outbox import Outbox
from .pages import Answer, language_of, page


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Site:
    """One publication as the web app serves it. Immutable: safe to share between threads."""

    pub: Publication
    secret: bytes
    smtp: SmtpSettings | None = None          # where sign-up confirmations go; None: sign-up answers 503
    clock: Callable[[], datetime] = _utc_now
    database: str | None = field(default=None, repr=False)   # the state's PostgreSQL URL; None: SQLite
    unsubscribe_path: str = field(init=False)
    subscribe_path: str = field(init=False)
    lang: str = field(init=False)
    origins: frozenset[str] = field(init=False)    # where our own pages (with their forms) are served
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(init=False)
    outbox: Outbox | None = field(init=False)     # the confirmation sender; None without a mail server

    def __post_init__(self) -> None:
        email = self.pub.site.email
        object.__setattr__(self, "unsubscribe_path", urlsplit(email.unsubscribe_url).path or "/unsubscribe")
        object.__setattr__(self, "subscribe_path", urlsplit(email.subscribe_url).path or "/subscribe")
        object.__setattr__(self, "lang", language_of(self.pub.site.language))
        object.__setattr__(self, "origins", frozenset(
            origin_of(u) for u in (self.pub.site.base_url, email.unsubscribe_url, email.subscribe_url)))
        object.__setattr__(self, "proxies", tuple(
            ipaddress.ip_network(p, strict=False) for p in self.pub.site.serve.trusted_proxies))
        object.__setattr__(self, "outbox", Outbox(self.pub, self.secret, self.smtp, self.clock, self.database)
                           if self.smtp is not None else None)

    def store(self) -> Store:
        """The publication's state, opened for one request (each serve process, each thread its own)."""
        return open_store(self.pub.state_dir, self.database)

    def client(self, environ: dict[str, Any]) -> str:
        """The client's address: the connection's, or the proxy header's when a trusted proxy sent it.

        The header (X-Forwarded-For style, a comma-separated list) is read from
        the right: the first address that is not a trusted proxy is the client.
        """
        remote = str(environ.get("REMOTE_ADDR") or "")
        header = self.pub.site.serve.client_address_header
        if not header or not self._trusted(remote):
            return remote
        hops = [_bare(h) for h in str(environ.get("HTTP_" + header.upper().replace("-", "_"), "")).split(",")]
        for hop in reversed([h for h in hops if h]):
            if not self._trusted(hop):
                return hop
        return remote

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def same_origin(self, environ: dict[str, Any]) -> bool:
        """Whether a form POST comes from our own pages (no Origin nor Referer: not a browser's, allowed)."""
        sent = environ.get("HTTP_ORIGIN") or ""
        if not sent:
            referer = environ.get("HTTP_REFERER") or ""
            if not referer:
                return True
            sent = origin_of(referer)
        own = origin_of(f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}/")
        return sent.strip().lower() in self.origins | {own}

    def feed(self, name: str | None) -> FeedSettings | None:
        return next((f for f in self.pub.feeds if f.name == name), None)

    def language(self, feed: str | None) -> str:
        """A page's language: the feed's (a reader of en-news reads English), else the site's."""
        settings = self.feed(feed)
        return language_of(settings.language) if settings else self.lang

    def title(self, feed: str) -> str:
        settings = self.feed(feed)
        return settings.title if settings else feed     # a feed removed since the mail went

    def page(self, lang: str, status: str, title_key: str, content: str, *, retry_after: int = 0) -> Answer:
        answer = page(self.pub.site.title, lang, status, title_key, content)
        if retry_after:
            answer[1].append(("Retry-After", str(retry_after)))
        return answer


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, default ports left out ("" when it has none)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if not parts.scheme or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme.lower()}://{host.lower()}{suffix}"


def _bare(hop: str) -> str:
    """An address from a forwarding header entry: no quotes, no ``for=``, no port, no brackets."""
    hop = hop.strip().strip('"')
    hop = hop[4:] if hop.lower().startswith("for=") else hop
    hop = hop.strip('"')
    if hop.startswith("["):
        return hop[1:].split("]", 1)[0]
    if hop.count(":") == 1:                     # IPv4 with a port
        return hop.split(":", 1)[0]
    return hop
