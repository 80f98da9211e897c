"""The whole archive (RFC 5005): every article a feed ever carried, on pages that stop changing.

A feed's current documents (rss.xml, atom.xml, feed.json) hold its newest
``limit`` articles. An article that leaves them is shelved: put on the newest
archive page, ``<feed>/archive/<n>/rss.xml|atom.xml|feed.json`` (page 1 is the
oldest), in the order articles leave. Only the newest page takes articles;
once it holds ``limit`` a new, empty page follows it. So every page but the
newest already has all its links (prev-archive, next-archive, current) and all
its entries: its bytes never change again, and readers and caches may keep it.
Which article sits on which page is remembered in the state
(state/archives.py), so an article dated in the past, a changed ``limit`` or a
new article never moves another one.

From the current document, prev-archive (RSS, Atom) or next_url (JSON Feed)
leads to the newest page, and from each page to the one before: a reader
following them meets every article of the feed exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from ..records import Article

FOLDER = "archive"


@dataclass(frozen=True, slots=True)
class Shelf:
    """One archive page to write: its number, its articles newest first, and whether it still fills."""

    number: int
    articles: tuple[Article, ...]
    newest: bool

    @property
    def ids(self) -> tuple[str, ...]:
        """Its articles in the order they were shelved (oldest first), as the state keeps them."""
        return tuple(a.id for a in reversed(self.articles))

    def key(self) -> str:
        """What the page's files are made of, besides the settings: equal keys, equal bytes."""
        rows = [(a.id, a.content_hash, a.published, a.updated) for a in self.articles]
        return hashlib.sha256(orjson.dumps([self.number, self.newest, rows])).hexdigest()


def folder(feed_folder: str, number: int) -> str:
    """Where archive page ``number`` of a feed goes, under output/."""
    return f"{feed_folder}/{FOLDER}/{number}"


def shelve(members: Sequence[Article], limit: int, shelved: Sequence[Sequence[str]], keep: int | None = None,
           weigh: Callable[[Article], int] | None = None,
           budget: int = 0) -> tuple[tuple[Article, ...], tuple[Shelf, ...]]:
    """The current entries and the archive pages of a feed.

    ``members`` are all the feed's articles, newest first; ``shelved`` the ids
    on each archive page so far (oldest page first, each in the order shelved),
    as the last run left them. The current document keeps the newest ``keep``
    (default ``limit``) articles not already shelved; older ones go onto the
    newest page. A page is full at ``limit`` articles, or earlier when
    ``weigh`` (estimated bytes per article) says one more would pass
    ``budget``. An article deleted since leaves its page; nothing else moves.
    """
    by_id = {a.id: a for a in members}
    pages = [[i for i in page if i in by_id] for page in shelved]
    if not any(pages):
        pages = []
    on_shelf = {i for page in pages for i in page}
    live = [a for a in members if a.id not in on_shelf]
    current = live[:limit if keep is None else keep]

    def weight(article: Article) -> int:
        return weigh(article) if weigh is not None else 0
    load = sum(weight(by_id[i]) for i in pages[-1]) if pages else 0

    def full(extra: int = 0) -> bool:
        return len(pages[-1]) >= limit or bool(budget and pages[-1] and load + extra > budget)
    for article in reversed(live[len(current):]):         # the oldest leaves first
        if not pages or full(weight(article)):
            pages.append([])
            load = 0
        pages[-1].append(article.id)
        load += weight(article)
    if pages and full():
        pages.append([])                                  # a full page is never the newest
    shelves = tuple(Shelf(number=n, articles=tuple(by_id[i] for i in reversed(page)), newest=n == len(pages))
                    for n, page in enumerate(pages, start=1))
    return tuple(current), shelves
