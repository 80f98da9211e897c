"""Which articles go into which feed.

``plan_feeds`` turns the publication's feed settings into FeedPlans: the
feeds themselves, aggregates (``include``) and split feeds per language or tag
(``split``), each with its articles newest first and cut to its limit. The
articles come from the collector already fit for feeds (collect/sanitise.py).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..config import FeedSettings, Publication
from ..i18n import language_name
from ..records import Article, Direction, by_id
from ..text import direction_of

_TASHKEEL = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_NOT_SLUG = re.compile(r"[^\w]+")
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)  # a feed with no entries yet


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """One feed to write: its identity, where it goes and its entries, newest first."""

    name: str                    # "ar-news", "all/language/en", "ar-news/tag/اقتصاد"
    title: str
    description: str
    language: str
    direction: Direction
    folder: str                  # under output/, no trailing slash
    articles: tuple[Article, ...]
    updated: datetime            # latest entry update, or EMPTY_FEED_UPDATED
    parent: str | None = None    # the feed a split feed was cut from
    older: tuple[Article, ...] = ()   # members beyond the newest ``limit``, newest first: the archive's
    limit: int = 0               # entries per document (the current one and each archive page)


def newest_first(articles: list[Article] | tuple[Article, ...]) -> list[Article]:
    """Newest publication first; ties broken by id so the order never wobbles.

    Two stable sorts on keys the articles already hold: a large archive makes no key object per article.
    """
    ordered = sorted(articles, key=by_id)
    ordered.sort(key=_published, reverse=True)      # reverse keeps the ids' order among equals
    return ordered




def _published(article: Article) -> datetime:
    return article.published or EMPTY_FEED_UPDATED


def slug(text: str) -> str:
    """A path segment for a tag: lower case, no tashkeel, words joined by '-'."""
    text = _TASHKEEL.sub("", unicodedata.normalize("NFC", text)).casefold()
    text = _NOT_SLUG.sub("-", text).strip("-_")
    return text or hashlib.sha256(text.encode()).hexdigest()[:8]


def _plan(name: str, title: str, description: str, language: str, folder: str,
          articles: list[Article], limit: int, parent: str | None = None) -> FeedPlan:
    members = newest_first(articles)
    entries = tuple(members[:limit])
    direction: Direction = "rtl" if direction_of(language) == "rtl" else "ltr"
    return FeedPlan(name=name, title=title, description=description, language=language,
                    direction=direction, folder=folder, articles=entries,
                    updated=_latest(entries), parent=parent, older=tuple(members[limit:]), limit=limit)


def _latest(entries: tuple[Article, ...]) -> datetime:
    return max((a.updated for a in entries if a.updated), default=EMPTY_FEED_UPDATED)


def with_entries(plan: FeedPlan, entries: tuple[Article, ...]) -> FeedPlan:
    """The plan carrying ``entries`` (newest first) instead: the current document, or an archive page."""
    return replace(plan, articles=entries, updated=_latest(entries))


def _splits(feed: FeedSettings, members: list[Article]) -> list[FeedPlan]:
    plans = []
    if "language" in feed.split:
        for code in sorted({a.primary_language for a in members}):
            chosen = [a for a in members if a.primary_language == code]
            label = language_name(code)
            plans.append(_plan(f"{feed.name}/language/{code}", f"{label} · {feed.title}",
                               feed.description, code, f"{feed.name}/language/{code}",
                               chosen, feed.limit, feed.name))
    if "tag" in feed.split:
        groups: dict[str, tuple[str, list[Article]]] = {}
        for a in members:
            for tag in dict.fromkeys(a.tags):
                key = slug(tag)
                groups.setdefault(key, (tag, []))[1].append(a)
        for key in sorted(groups):
            tag, chosen = groups[key]
            chosen = list({a.id: a for a in chosen}.values())
            plans.append(_plan(f"{feed.name}/tag/{key}", f"{feed.title} · {tag}",
                               feed.description, feed.language, f"{feed.name}/tag/{key}",
                               chosen, feed.limit, feed.name))
    return plans


def plan_feeds(pub: Publication,
               articles: tuple[Article, ...] | list[Article]) -> tuple[FeedPlan, ...]:
    """Every feed of the publication, aggregates and split feeds included, in a fixed order."""
    plans: list[FeedPlan] = []
    for feed in pub.feeds:
        wanted = {feed.name, *feed.include}
        members = [a for a in articles if a.feed in wanted]
        plans.append(_plan(feed.name, feed.title, feed.description, feed.language, feed.name,
                           members, feed.limit))
        plans.extend(_splits(feed, members))
    return tuple(plans)


def feed_folders(pub: Publication, articles: tuple[Article, ...] | list[Article]) -> set[str]:
    """Every folder under output/ a feed of the publication takes (its index.html is the feed's page).

    The same folders ``plan_feeds`` gives, without sorting or cutting: cheap
    enough to check every run for articles whose page would land on one.
    """
    folders: set[str] = set()
    for feed in pub.feeds:
        folders.add(feed.name)
        if not feed.split:
            continue
        wanted = {feed.name, *feed.include}
        members = [a for a in articles if a.feed in wanted]
        if "language" in feed.split:
            folders |= {f"{feed.name}/language/{a.primary_language}" for a in members}
        if "tag" in feed.split:
            folders |= {f"{feed.name}/tag/{slug(t)}" for a in members for t in a.tags}
    return folders
