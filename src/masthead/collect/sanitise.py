"""Articles made fit for every output: feeds, pages and digests.

``sanitise_articles`` repairs what a feed cannot carry (XML-illegal
characters, an empty title, a missing date, a huge body, a duplicate id) and
returns a Problem for each repair, naming the article's file. The collector
runs it once per run, on everything it collected; the later stages take the
articles as they are.

What depends on one article alone (its characters, its title, the size of its
body, whole-second dates) ``finish_file`` repairs as a file is read, so that
the file cache holds articles already fit: a run can then carry them without
their bodies, which the feeds and digests load when they render them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime
from html import escape

from ..i18n import word
from ..records import Article, Problem
from ..text import summarise

# XML 1.0 cannot carry these; C1 controls are legal but validators warn on them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]")
MAX_BODY_BYTES = 256 * 1024      # above this an entry carries its summary and a link


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _texts(a: Article) -> list[str]:
    extra = [a.image.url, a.image.alt] if a.image else []
    return [a.title, a.url, a.summary, a.body_html, a.body_text, *a.authors, *a.tags,
            a.source or "", a.photo_credit or "", a.publisher or "", *extra]


def _clean_article(a: Article) -> tuple[Article, bool]:
    """The article without XML-illegal characters, and whether any were found."""
    found = _XML_ILLEGAL.search("\n".join(_texts(a))) is not None     # one scan: "\n" is legal
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


_FIELDS = tuple(f.name for f in fields(Article))


def settle_dates(a: Article) -> Article:
    """A dated article as sanitising leaves it: whole seconds, updated never before published.

    The collector applies it as it reads a file, so that articles from the
    file cache are already settled and sanitising copies none of them.
    """
    if a.published is None:
        return a            # sanitise_articles decides, once the first-seen time is known
    published, updated = _settled(a.published, a.updated)
    return a if (published, updated) == (a.published, a.updated) else _with_dates(a, published, updated)


def _settled(published: datetime, updated: datetime | None) -> tuple[datetime, datetime]:
    """(published, updated) in whole seconds, updated never before published."""
    published = _whole_seconds(published)
    return published, max(_whole_seconds(updated or published), published)


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) if moment.microsecond else moment


def _with_dates(a: Article, published: datetime, updated: datetime) -> Article:
    """``replace(a, published=..., updated=...)`` at a fraction of its cost."""
    values = {name: getattr(a, name) for name in _FIELDS}
    values["published"] = published
    values["updated"] = updated
    return Article(**values)


def _trimmed(a: Article) -> bool:
    """True when title, authors and tags have no outer spaces and no empty names."""
    return a.title == a.title.strip() and all(n and n == n.strip() for n in (*a.authors, *a.tags))


def _fallback_title(a: Article) -> str:
    words = (a.summary or a.body_text).split()
    title = " ".join(words[:12])
    if len(words) > 12:
        title += "…"
    return title or word(a.language, "article.untitled")


def places(articles: tuple[Article, ...] | list[Article]) -> Callable[[Article], str]:
    """How a problem names an article: its file, and the item too in a file of several (a feed, a JSON list)."""
    counts: Counter[str] = Counter()       # counted when a problem is first named: most runs name none

    def where(article: Article) -> str:
        if not counts:
            counts.update(a.origin for a in articles)
        name = article.origin or article.id
        if counts[article.origin] > 1 and article.title:
            return f"{name} (item “{summarise(article.title, 60)}”)"
        return name
    return where


def _repair(original: Article, where: str, problems: list[Problem]) -> Article:
    """The article with what it alone gets wrong repaired: characters, an empty title, a huge body."""
    a, changed = _clean_article(original)
    if changed:
        problems.append(Problem(where, "characters that XML cannot carry were removed"))
    if not a.title:
        a = replace(a, title=_fallback_title(a))
        problems.append(Problem(where, f"the title is empty: the feeds show {a.title!r}; "
                                       "give the article a title"))
    # a character is at most 4 bytes of UTF-8: most bodies are measured without encoding them
    if len(a.body_html) * 4 > MAX_BODY_BYTES and len(a.body_html.encode("utf-8")) > MAX_BODY_BYTES:
        a = replace(a, body_html=short_html(a))
        problems.append(Problem(where, f"the body is over {MAX_BODY_BYTES // 1024} KiB: "
                                       "feeds carry its summary and a link to the page"))
    return a


def finish_file(articles: list[Article]) -> tuple[list[Article], list[Problem]]:
    """The articles of one file repaired as far as each alone allows, and a Problem per repair.

    What ``sanitise_articles`` would do to each but dating the undated and
    choosing among duplicate ids (those need the whole publication); it then
    finds nothing more to do on them.
    """
    problems: list[Problem] = []
    place = places(articles)
    return [settle_dates(_repair(a, place(a), problems)) for a in articles], problems


def sanitise_articles(articles: tuple[Article, ...] | list[Article], *, repaired: bool = False
                      ) -> tuple[tuple[Article, ...], tuple[Problem, ...]]:
    """Articles repaired for feeds, plus one Problem per repair or omission.

    Idempotent: sanitising the result again changes nothing and reports nothing.
    ``repaired``: every article already went through ``finish_file`` (the
    collector's own), so only dates and duplicate ids are left to settle.
    """
    problems: list[Problem] = []
    kept: dict[str, Article] = {}
    place = places(articles)
    for original in articles:           # each article named (place) only in a problem: most have none
        a = original if repaired else _repair(original, place(original), problems)
        dated = a.published or a.updated
        if dated is None:
            problems.append(Problem(place(original), "no publication date: left out of the feeds; "
                                                     "add a date to the article", fatal=True))
            continue
        if a.published is None:
            problems.append(Problem(place(original), "no publication date: its update time is used"))
        published, updated = _settled(dated, a.updated)
        if (published, updated) != (a.published, a.updated):
            a = _with_dates(a, published, updated)
        other = kept.get(a.id)
        if other is not None:
            first, second = sorted((other, a), key=lambda x: (x.updated, x.origin), reverse=True)
            kept[a.id] = first
            also = first.origin or "another source"
            problems.append(Problem(place(second),
                                    f"duplicate id {a.id!r} (also {also}): "
                                    "only the most recently updated copy is in the feeds; give "
                                    "each article its own id"))
            continue
        kept[a.id] = a
    return tuple(kept.values()), tuple(problems)



def short_html(article: Article) -> str:
    """What stands in for a body too big to ship in a feed: summary and a link."""
    more = word(article.language, "article.more")
    return (f"<p>{escape(article.summary, quote=False)}</p>\n"
            f'<p><a href="{escape(article.url)}">{escape(more, quote=False)}</a></p>')
