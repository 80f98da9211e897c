"""What a reader gives before normalisation: the article as its source wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..records import Enclosure, Image


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One article as read from a file or upstream feed; normalise.py makes it an Article.

    Explicit metadata (front matter, JSON keys, feed elements) is kept as given:
    dates may be strings, ``date`` or ``datetime``; normalisation decides.
    """

    origin: str                       # file path relative to the publication, or URL
    key: str                          # unique within the origin ("" for one-article files)
    title: str = ""
    body_text: str | None = None      # plain paragraphs separated by blank lines
    body_html: str | None = None      # HTML from Markdown, JSON or a feed
    summary: str | None = None
    published: Any = None             # explicit date value, when the source has one
    updated: Any = None
    published_raw: str | None = None  # the date as the source wrote it, for messages
    date_text: str | None = None      # prose to search for a date when none is explicit
    language: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str | None = None
    photo_credit: str | None = None
    publisher: str | None = None
    image: Image | None = None
    url: str | None = None
    id: str | None = None
    slug: str | None = None
    problems: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    upstream: bool = False            # an item of an upstream feed: times without a zone are UTC
    base: str | None = None           # what its relative URLs resolve against (xml:base, the feed's URL)
    fallback_published: datetime | None = None  # feedparser's reading, when ours finds nothing
    fallback_updated: datetime | None = None
    draft: bool = False
