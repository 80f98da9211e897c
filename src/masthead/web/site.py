"""What every handler of the web app shares: the publication, its key, its mail server, its state, its clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..config import FeedSettings, Publication, SmtpSettings
from ..state.db import Store, open_store
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

    def __post_init__(self) -> None:
        email = self.pub.site.email
        object.__setattr__(self, "unsubscribe_path", urlsplit(email.unsubscribe_url).path or "/unsubscribe")
        object.__setattr__(self, "subscribe_path", urlsplit(email.subscribe_url).path or "/subscribe")
        object.__setattr__(self, "lang", language_of(self.pub.site.language))

    def feed(self, name: str | None) -> FeedSettings | None:
        return next((f for f in self.pub.feeds if f.name == name), None)

    def language(self, feed: str | None) -> str:
        """A page's language: the feed's (a reader of en-news reads English), else the site's."""
        settings = self.feed(feed)
        return language_of(settings.language) if settings else self.lang

    def title(self, feed: str) -> str:
        settings = self.feed(feed)
        return settings.title if settings else feed     # a feed removed since the mail went

    def store(self) -> Store:
        """The publication's state, opened for one request (each serve process, each thread its own)."""
        return open_store(self.pub.state_dir, self.database)

    def page(self, lang: str, status: str, title_key: str, content: str) -> Answer:
        return page(self.pub.site.title, lang, status, title_key, content)
