"""Read a publication's settings: feeds/site.toml and feeds/<name>/feed.toml.

Settings become frozen records. Every mistake is a ConfigError that names the
file, the key and what is expected, so ``masthead run`` can exit 2 with one
clear line and no traceback.
"""

from __future__ import annotations

import email.policy
import ipaddress
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from ..text import header_text_problem
from .toml import Table, read_toml

SITE_FILE = "site.toml"
FEED_FILE = "feed.toml"
CADENCES = ("daily", "weekly", "off")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SPLITS = ("language", "tag")
# Parallel SMTP connections one sender may open: relays limit clients to a few
# dozen each (Postfix: 50), and past a few the server's own speed is the limit.
MAX_CONNECTIONS = 32
_FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class EmailSettings:
    sender: str                  # From: "Name <addr>"
    reply_to: str | None
    postal_address: str          # shown in the footer, as bulk-mail law asks
    unsubscribe_url: str         # public URL of `masthead serve`'s /unsubscribe
    unsubscribe_mailto: str | None
    rate_per_minute: int         # 0: no limit
    subscribe_url: str = ""      # public URL of `masthead serve`'s /subscribe (sign-up form target)
    claim_lease: int = 60        # seconds a sender's claim on a batch of copies lasts unless renewed
    connections: int = 1         # SMTP connections each sender keeps open at once (MAX_CONNECTIONS at most)
    sender_address: str = ""     # the address alone (MAIL FROM): the one address in ``sender``

    return_path: str = ""        # envelope sender; each digest copy goes from local+TOKEN@domain (VERP)
    dkim_selector: str | None = None   # sign with .masthead/dkim/<selector>.pem (or MASTHEAD_DKIM_KEY_FILE)
    dkim_domain: str = ""        # the signing domain (d=); the From domain by default
    soft_bounce_limit: int = 3   # this many soft-bounced copies ...
    soft_bounce_days: int = 30   # ... within this many days suppress the address
    ses_topics: tuple[str, ...] = ()   # SNS topic ARNs whose SES notifications /hooks/bounce accepts

    @property
    def from_address(self) -> str:
        """The From address alone (``newsletter@news.example.org``)."""
        return self.sender_address or parseaddr(self.sender)[1]


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """``[fetch]``: how upstream feeds (and pages) are fetched over HTTP."""

    timeout: float = 10.0                 # seconds per request (connect, and each read)
    deadline: float = 30.0                # seconds per source, all retries included
    max_bytes: int = 10 * 1024 * 1024     # a body over this is refused while it is read
    allow_hosts: tuple[str, ...] = ()     # hosts that may resolve to loopback, private or link-local addresses


@dataclass(frozen=True, slots=True)
class SignupLimits:
    """``[signup]``: how many confirmation mails the sign-up form may cause per ``window`` minutes."""

    window: int = 10                      # minutes every limit counts over
    per_address: int = 1                  # to one address
    per_client: int = 5                   # asked from one client address
    per_network: int = 20                 # asked from one IPv4 /24 or IPv6 /64
    per_domain: int = 50                  # to the addresses of one domain
    total: int = 200                      # in all: past it the form answers "try later" to everyone


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """``[serve]``: behind a reverse proxy, who tells ``masthead serve`` the client's address."""

    client_address_header: str = ""       # e.g. "X-Forwarded-For"; empty: the connection's address
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks allowed to set it, e.g. "127.0.0.1"


@dataclass(frozen=True, slots=True)
class SiteSettings:
    title: str
    base_url: str                # always ends with "/"
    language: str
    timezone: ZoneInfo
    description: str
    author_name: str
    author_email: str | None
    hubs: tuple[str, ...]        # WebSub hubs: announced in the feeds, told when a feed changes
    ttl: int                     # minutes
    email: EmailSettings
    fetch: FetchSettings = FetchSettings()
    signup: SignupLimits = SignupLimits()
    serve: ServeSettings = ServeSettings()

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"


@dataclass(frozen=True, slots=True)
class DigestSettings:
    cadence: str                 # "daily", "weekly" or "off"
    subject: str                 # a jinja2 template
    weekday: int                 # 0 = Monday; the day weekly periods start
    max_items: int


@dataclass(frozen=True, slots=True)
class FeedSettings:
    name: str
    folder: Path
    title: str
    description: str
    language: str
    limit: int
    sources: tuple[str, ...]     # upstream feed files (relative to folder) or URLs
    include: tuple[str, ...]     # other feeds merged into this one (an aggregate)
    split: tuple[str, ...]       # extra feeds per "language" and/or "tag"
    digest: DigestSettings
    pages: tuple[str, ...] = ()  # URLs of HTML article pages, fetched as sources are


@dataclass(frozen=True, slots=True)
class Publication:
    root: Path
    site: SiteSettings
    feeds: tuple[FeedSettings, ...]

    @property
    def feeds_dir(self) -> Path:
        return self.root / "feeds"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def state_dir(self) -> Path:
        return self.root / ".masthead"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def digest_feeds(self) -> tuple[str, ...]:
        """The feeds that send a digest: what a subscriber follows when none are named."""
        return tuple(f.name for f in self.feeds if f.digest.cadence != "off")

    def feed(self, name: str) -> FeedSettings:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        known = ", ".join(f.name for f in self.feeds) or "none"
        raise ConfigError(f"no feed named {name!r}", hint=f"the feeds are: {known}")

    def relative(self, path: Path) -> str:
        """A path as users see it: relative to the publication when inside it."""
        if path.is_absolute() and path.is_relative_to(self.root):
            return path.relative_to(self.root).as_posix()  # the common case: no resolve()
        resolved = path.resolve()
        if resolved.is_relative_to(self.root):
            return resolved.relative_to(self.root).as_posix()
        return str(path)


def header_title(t: Table, key: str, value: str) -> str:
    """A title that goes into mail headers (From's name, List-Id): no encoded-word, no control."""
    problem = header_text_problem(value)
    if problem is not None:
        raise t.fail(key, f"cannot go into a mail header: {problem}")
    return value


def addresses(t: Table, key: str, value: str, *, one: bool) -> tuple[Address, ...]:
    """The address(es) a setting holds, parsed as a mail header; ConfigError unless well-formed."""
    example = "'News <newsletter@example.org>' (quote a name with a comma: '\"News, Today\" <...>')"
    if "=?" in value:
        raise t.fail(key, "must not hold '=?' (an RFC 2047 encoded-word): write the name as it is")
    header = email.policy.default.header_factory("Reply-To", value)
    found = tuple(header.addresses)
    if header.defects or not found or (one and len(found) != 1) or \
            any(not a.username or not a.domain or header_text_problem(a.display_name) for a in found):
        raise t.fail(key, f"must be {'exactly one address' if one else 'addresses'} such as {example}, "
                          f"not {value!r}")
    return found


def load_site(root: Path) -> SiteSettings:
    path = root / "feeds" / SITE_FILE
    where = f"feeds/{SITE_FILE}"
    t = Table(read_toml(path, where), where)
    title = header_title(t, "title", t.text("title"))
    base_url = t.url("base_url")
    if not base_url.endswith("/"):
        base_url += "/"
    tz_name = t.text("timezone", "UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise t.fail("timezone", f"must be an IANA time zone such as 'Asia/Riyadh', not {tz_name!r}") from None
    author = t.table("author")
    author_name = author.text("name", title)
    author_email = author.text("email", None)
    author.finish()
    host = urlsplit(base_url).hostname or "localhost"
    mail = t.table("email")
    # The default sender quotes the title: "News, Today" must stay one name, not two addresses.
    sender = mail.text("from", str(Address(display_name=title, addr_spec=f"newsletter@{host}")))
    (sender_address,) = addresses(mail, "from", sender, one=True)
    from_domain = sender_address.domain.lower() or host
    reply_to = mail.text("reply_to", None)
    if reply_to is not None:
        addresses(mail, "reply_to", reply_to, one=False)
    email_settings = EmailSettings(
        sender=sender, sender_address=sender_address.addr_spec,
        reply_to=reply_to,
        postal_address=mail.text("postal_address", ""),
        unsubscribe_url=(unsubscribe := mail.url("unsubscribe_url", f"{base_url}unsubscribe")),
        unsubscribe_mailto=mail.text("unsubscribe_mailto", None),
        rate_per_minute=mail.positive("rate_per_minute", 0),
        # the same server as /unsubscribe: sign-up confirmations need its key and state
        subscribe_url=mail.url("subscribe_url", urlsplit(unsubscribe)._replace(
            path="/subscribe", query="", fragment="").geturl()),
        claim_lease=mail.positive("claim_lease", 60),
        connections=mail.positive("connections", 1),
        return_path=_address(mail, "return_path", f"bounces@{from_domain}"),
        dkim_selector=_selector(mail),
        dkim_domain=(mail.text("dkim_domain", from_domain) or from_domain).lower().rstrip("."),
        soft_bounce_limit=mail.positive("soft_bounce_limit", 3) or 1,
        soft_bounce_days=mail.positive("soft_bounce_days", 30) or 1,
        ses_topics=mail.strings("ses_topics"),
    )
    if email_settings.claim_lease < 1:
        raise mail.fail("claim_lease", "must be at least 1 (seconds)")
    if not 1 <= email_settings.connections <= MAX_CONNECTIONS:
        raise mail.fail("connections", f"must be from 1 to {MAX_CONNECTIONS} (connections to the SMTP server "
                                       f"at once), not {email_settings.connections}")
    mail.finish()
    f = t.table("fetch")
    fetch = FetchSettings(timeout=f.number("timeout", 10), deadline=f.number("deadline", 30),
                          max_bytes=f.positive("max_bytes", 10 * 1024 * 1024) or 10 * 1024 * 1024,
                          allow_hosts=tuple(h.lower().rstrip(".") for h in f.strings("allow_hosts")))
    f.finish()
    site = SiteSettings(
        title=title, base_url=base_url, language=t.language("language", "en"),
        timezone=timezone, description=t.text("description", ""),
        author_name=author_name, author_email=author_email,
        hubs=t.urls("hub"), ttl=t.positive("ttl", 60), email=email_settings, fetch=fetch,
        signup=_signup_limits(t.table("signup")), serve=_serve(t.table("serve")),
    )
    t.finish()
    return site


def _signup_limits(t: Table) -> SignupLimits:
    d = SignupLimits()
    limits = SignupLimits(**{key: t.positive(key, getattr(d, key)) for key in
                             ("window", "per_address", "per_client", "per_network", "per_domain", "total")})
    if limits.window == 0:
        raise t.fail("window", "must be at least 1 (minutes)")
    t.finish()
    return limits


def _serve(t: Table) -> ServeSettings:
    header = t.text("client_address_header", "")
    if header and not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise t.fail("client_address_header", f"must be a header name such as 'X-Forwarded-For', not {header!r}")
    proxies = t.strings("trusted_proxies")
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise t.fail("trusted_proxies", f"must list addresses or networks such as '127.0.0.1' or "
                                            f"'10.0.0.0/8', not {proxy!r}") from None
    if header and not proxies:
        raise t.fail("trusted_proxies", "must name the proxies allowed to set client_address_header")
    t.finish()
    return ServeSettings(client_address_header=header, trusted_proxies=proxies)
_SELECTOR = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_PLAIN_ADDRESS = re.compile(r"^[A-Za-z0-9._%=-]{1,40}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _address(t: Table, key: str, default: str) -> str:
    """A plain ASCII address with room for ``+TOKEN`` in its local part."""
    value = t.text(key, default)
    if not _PLAIN_ADDRESS.match(value) or "+" in value:
        raise t.fail(key, f"must be a plain address such as 'bounces@example.org' (no '+', a local part of "
                          f"at most 40 characters), not {value!r}")
    return str(value)


def _selector(t: Table) -> str | None:
    value = t.text("dkim_selector", None)
    if value is not None and not _SELECTOR.match(value):
        raise t.fail("dkim_selector", f"must be a DNS label such as 'mh2026', not {value!r}")
    return value


def load_feed(folder: Path, site: SiteSettings) -> FeedSettings:
    name = folder.name
    where = f"feeds/{name}/{FEED_FILE}"
    if not _FEED_NAME.match(name):
        raise ConfigError(f"feed folder name {name!r} is not usable in URLs", where=where,
                          hint="rename the folder with lower-case letters, digits, '-' or '_'")
    t = Table(read_toml(folder / FEED_FILE, where), where)
    d = t.table("digest")
    digest = DigestSettings(
        cadence=d.choice("cadence", CADENCES, "off"),
        subject=d.text("subject", "{{ feed.title }}: {{ period_label }}"),
        weekday=WEEKDAYS.index(d.choice("weekday", WEEKDAYS, "monday")),
        max_items=d.positive("max_items", 30) or 30,
    )
    d.finish()
    split = t.strings("split")
    for value in split:
        if value not in SPLITS:
            raise t.fail("split", f"may hold only {', '.join(SPLITS)}; got {value!r}")
    pages = t.strings("pages")
    for page in pages:
        parts = urlsplit(page)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise t.fail("pages", f"must list http(s) URLs of article pages, not {page!r} "
                                  "(put .html files in the feed's folder instead)")
    feed = FeedSettings(
        name=name, folder=folder, title=header_title(t, "title", t.text("title")),
        description=t.text("description", ""),
        language=t.language("language", site.language), limit=t.positive("limit", 50) or 50,
        sources=t.strings("sources"), include=t.strings("include"), split=split, digest=digest,
        pages=pages,
    )
    t.finish()
    return feed


def find_publication(start: Path) -> Path | None:
    """The folder holding ``feeds/site.toml``: ``start`` or the nearest folder above it, as git finds its repository."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "feeds" / SITE_FILE).is_file():
            return folder
    return None


def load_publication(root: Path) -> Publication:
    """Load and check every setting of the publication at ``root``."""
    root = root.resolve()
    if not (root / "feeds").is_dir():
        raise ConfigError(f"no feeds/ folder in {root} or any folder above it",
                          hint="run inside a publication, pass --project DIR, or create one with 'masthead init DIR'")
    site = load_site(root)
    folders = sorted(p.parent for p in (root / "feeds").glob(f"*/{FEED_FILE}"))
    feeds = tuple(load_feed(folder, site) for folder in folders)
    if not feeds:
        raise ConfigError("the publication has no feeds", where="feeds/",
                          hint=f"add a folder feeds/<name>/ with a {FEED_FILE}")
    names = {f.name for f in feeds}
    for feed in feeds:
        for other in feed.include:
            if other not in names or other == feed.name:
                raise ConfigError(f"key 'include' names {other!r}, which is not another feed",
                                  where=f"feeds/{feed.name}/{FEED_FILE}",
                                  hint=f"the feeds are: {', '.join(sorted(names))}")
    return Publication(root=root, site=site, feeds=feeds)
