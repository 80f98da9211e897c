"""Which articles go into which feed, cleaned so every feed stays valid.

Two plain functions:

- ``sanitise_articles`` repairs what a feed cannot carry (XML-illegal
  characters, an empty title, a missing date, a huge body, a duplicate id) and
  returns a Problem for each repair, naming the article's file;
- ``plan_feeds`` turns the publication's feed settings into FeedPlans: the
  feeds themselves, aggregates (``include``) and split feeds per language or
  tag (``split``), each with its articles newest first and cut to its limit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..config import FeedSettings, Publication
from ..records import Article, Direction, Problem
from ..text import direction_of
from .content import short_html

# XML 1.0 cannot carry these; C1 controls are legal but validators warn on them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]")
_TASHKEEL = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_NOT_SLUG = re.compile(r"[^\w]+")
MAX_BODY_BYTES = 256 * 1024      # above this an entry carries its summary and a link
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)  # a feed with no entries yet
UNTITLED = {"ar": "بلا عنوان", "fa": "بدون عنوان"}
LANGUAGE_NAMES = {"ar": "العربية", "en": "English", "fa": "فارسی", "fr": "Français",
                  "ur": "اردو", "he": "עברית", "tr": "Türkçe", "de": "Deutsch", "es": "Español"}


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


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _texts(a: Article) -> list[str]:
    extra = [a.image.url, a.image.alt] if a.image else []
    return [a.title, a.url, a.summary, a.body_html, a.body_text, *a.authors, *a.tags,
            a.source or "", a.photo_credit or "", a.publisher or "", *extra]


def _clean_article(a: Article) -> tuple[Article, bool]:
    """The article without XML-illegal characters, and whether any were found."""
    found = any(_XML_ILLEGAL.search(text) for text in _texts(a))
    if not found and _trimmed(a):
        return a, False   # already clean: the common case, and every second pass
    image = a.image
    if image is not None:
        image = replace(image, url=_clean(image.url), alt=_clean(image.alt))
    cleaned = replace(
        a, title=_clean(a.title).strip(), url=_clean(a.url), summary=_clean(a.summary),
        body_html=_clean(a.body_html), body_text=_clean(a.body_text),
        authors=tuple(x for x in (_clean(n).strip() for n in a.authors) if x),
        tags=tuple(x for x in (_clean(t).strip() for t in a.tags) if x),
        source=_clean(a.source) if a.source else a.source,
        photo_credit=_clean(a.photo_credit) if a.photo_credit else a.photo_credit,
        publisher=_clean(a.publisher) if a.publisher else a.publisher, image=image)
    return cleaned, found


def _trimmed(a: Article) -> bool:
    """True when title, authors and tags have no outer spaces and no empty names."""
    return a.title == a.title.strip() and all(n and n == n.strip() for n in (*a.authors, *a.tags))


def _fallback_title(a: Article) -> str:
    words = (a.summary or a.body_text).split()
    title = " ".join(words[:12])
    if len(words) > 12:
        title += "…"
    return title or UNTITLED.get(a.primary_language, "Untitled")


def sanitise_articles(articles: tuple[Article, ...] | list[Article]
                      ) -> tuple[tuple[Article, ...], tuple[Problem, ...]]:
    """Articles repaired for feeds, plus one Problem per repair or omission.

    Idempotent: sanitising the result again changes nothing and reports nothing.
    """
    problems: list[Problem] = []
    kept: dict[str, Article] = {}
    for original in articles:
        where = original.origin or original.id
        a, changed = _clean_article(original)
        if changed:
            problems.append(Problem(where, "characters that XML cannot carry were removed"))
        if not a.title:
            a = replace(a, title=_fallback_title(a))
            problems.append(Problem(where, f"the title is empty: the feeds show {a.title!r}; "
                                           "give the article a title"))
        dated = a.published or a.updated
        if dated is None:
            problems.append(Problem(where, "no publication date: left out of the feeds; "
                                           "add a date to the article", fatal=True))
            continue
        if a.published is None:
            problems.append(Problem(where, "no publication date: its update time is used"))
        published = dated.replace(microsecond=0)
        updated = max((a.updated or published).replace(microsecond=0), published)
        if (published, updated) != (a.published, a.updated):
            a = replace(a, published=published, updated=updated)
        if len(a.body_html.encode("utf-8")) > MAX_BODY_BYTES:
            a = replace(a, body_html=short_html(a))
            problems.append(Problem(where, f"the body is over {MAX_BODY_BYTES // 1024} KiB: "
                                           "feeds carry its summary and a link to the page"))
        other = kept.get(a.id)
        if other is not None:
            first, second = sorted((other, a), key=lambda x: (x.updated, x.origin), reverse=True)
            kept[a.id] = first
            also = first.origin or "another source"
            problems.append(Problem(second.origin or second.id,
                                    f"duplicate id {a.id!r} (also {also}): "
                                    "only the most recently updated copy is in the feeds; give "
                                    "each article its own id"))
            continue
        kept[a.id] = a
    return tuple(kept.values()), tuple(problems)


def newest_first(articles: list[Article] | tuple[Article, ...]) -> list[Article]:
    """Newest publication first; ties broken by id so the order never wobbles."""
    by_id = sorted(articles, key=lambda a: a.id)
    return sorted(by_id, key=lambda a: a.published or EMPTY_FEED_UPDATED, reverse=True)


def slug(text: str) -> str:
    """A path segment for a tag: lower case, no tashkeel, words joined by '-'."""
    text = _TASHKEEL.sub("", unicodedata.normalize("NFC", text)).casefold()
    text = _NOT_SLUG.sub("-", text).strip("-_")
    return text or hashlib.sha256(text.encode()).hexdigest()[:8]


def _plan(name: str, title: str, description: str, language: str, folder: str,
          articles: list[Article], limit: int, parent: str | None = None) -> FeedPlan:
    entries = tuple(newest_first(articles)[:limit])
    direction: Direction = "rtl" if direction_of(language) == "rtl" else "ltr"
    return FeedPlan(name=name, title=title, description=description, language=language,
                    direction=direction, folder=folder, articles=entries,
                    updated=_latest(entries), parent=parent)


def _latest(entries: tuple[Article, ...]) -> datetime:
    return max((a.updated for a in entries if a.updated), default=EMPTY_FEED_UPDATED)


def shortened(plan: FeedPlan, count: int) -> FeedPlan:
    """The plan with only its ``count`` newest entries (for a feed over its size budget)."""
    entries = plan.articles[:count]
    return replace(plan, articles=entries, updated=_latest(entries))


def _splits(feed: FeedSettings, members: list[Article]) -> list[FeedPlan]:
    plans = []
    if "language" in feed.split:
        for code in sorted({a.primary_language for a in members}):
            chosen = [a for a in members if a.primary_language == code]
            label = LANGUAGE_NAMES.get(code, code)
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
