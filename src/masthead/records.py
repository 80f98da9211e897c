"""The shared vocabulary: frozen records that pass from stage to stage.

Every stage takes records and returns records; nothing is set on them later.
Datetimes are checked to be timezone-aware here, so that no later stage
(feedgen above all) ever sees a naive one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from operator import attrgetter
from typing import Any, Literal

Precision = Literal["year", "month", "day", "minute", "second"]
Direction = Literal["ltr", "rtl"]


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True)
class Image:
    """A picture that goes with an article: an enclosure in feeds, a figure in email."""

    url: str
    alt: str = ""
    mime_type: str = "image/jpeg"
    length: int = 0          # bytes, 0 when unknown
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file that goes with an article (podcast audio, video, a PDF): RSS <enclosure>, JSON Feed attachment."""

    url: str
    length: int = 0          # bytes, 0 when unknown
    mime_type: str = "application/octet-stream"

    @property
    def kind(self) -> str:
        """audio, video, image or file: how a page or an email offers it."""
        major = self.mime_type.split("/")[0]
        return major if major in ("audio", "video", "image") else "file"


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file beside an article's source that its page refers to, copied into output/ with it."""

    source: str              # relative to the publication: feeds/news/images/a.jpg
    target: str              # relative to the publication: output/news/images/a.jpg


@dataclass(frozen=True, slots=True)
class Article:
    """One article, normalised, whatever file or feed it came from."""

    id: str                      # stable: never changes once published
    feed: str                    # the feed folder it belongs to
    title: str
    url: str
    published: datetime | None
    updated: datetime | None
    precision: Precision | None  # how much of `published` the source gave
    language: str                # BCP 47, e.g. "ar", "en-GB"
    direction: Direction
    summary: str                 # plain text, cut at a word boundary
    body_html: str               # sanitised HTML (no direction wrapper)
    body_text: str
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str | None = None        # news agency, e.g. "تاس"
    photo_credit: str | None = None
    publisher: str | None = None     # publisher or series line
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()  # as the source gave them (the picture may be one of them)
    origin: str = ""                 # file path relative to the publication, or a URL
    slug: str = ""                   # path segment for the article's page
    content_hash: str = ""           # of the normalised record, to tell edits
    problems: tuple[str, ...] = ()   # plain-language notes about this article
    draft: bool = False              # collected and inspected, never published nor mailed
    local_files: tuple[LocalFile, ...] = ()  # files its body or image refers to, copied into output/

    def __post_init__(self) -> None:
        _aware("published", self.published)
        _aware("updated", self.updated)
        if self.direction not in ("ltr", "rtl"):
            raise ValueError(f"direction must be 'ltr' or 'rtl', got {self.direction!r}")

    @property
    def attachments(self) -> tuple[Enclosure, ...]:
        """What feeds carry as enclosures: the article's, and its picture when it is not one of them."""
        if self.image is None or any(e.url == self.image.url for e in self.enclosures):
            return self.enclosures
        return (*self.enclosures, Enclosure(self.image.url, self.image.length, self.image.mime_type))

    @property
    def media(self) -> tuple[Enclosure, ...]:
        """The enclosures that are not pictures (audio, video, documents): what pages and emails offer to play."""
        return tuple(e for e in self.enclosures if e.kind != "image")

    @property
    def primary_language(self) -> str:
        """The ISO 639 part of the language tag: what feed readers want."""
        return self.language.split("-")[0].lower()


by_id = attrgetter("id")        # the key that orders articles by their ids


# Gives articles their bodies, summaries and slugs: those of a lean collection come without (body_html,
# body_text, summary and slug empty).
# ``list`` is one, for articles that have theirs.
Fill = Callable[[Sequence[Article]], list[Article]]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input; the run goes on without it."""

    where: str       # file path (with :line) or URL, or "feeds/x/feed.toml: key"
    message: str     # plain language, says what to do
    fatal: bool = False  # True when no article could be made from the input

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Ids(Set[str]):
    """A set of article ids, held as their sorted tuple.

    A first run over a large archive finds every article new: a frozenset of
    their ids costs five times the tuple. It is equal to any set of the same ids.
    """

    __slots__ = ("_sorted",)

    def __init__(self, ids: Iterable[str] = ()) -> None:
        ordered = sorted(ids)
        if any(a == b for a, b in pairwise(ordered)):
            ordered = sorted(set(ordered))
        self._sorted = tuple(ordered)

    def __contains__(self, item: object) -> bool:
        at = bisect_left(self._sorted, item) if isinstance(item, str) else len(self._sorted)
        return at < len(self._sorted) and self._sorted[at] == item

    def __iter__(self) -> Iterator[str]:
        return iter(self._sorted)

    def __len__(self) -> int:
        return len(self._sorted)

    def __repr__(self) -> str:
        return f"Ids({list(self._sorted)!r})"

    __hash__ = Set._hash


class Paths(Sequence[str]):
    """File paths in the order they were written, as one sequence over lists that may still grow.

    A first run over a large archive writes a page per article: those are
    held as whatever the caller keeps them by (``feeds.pages.Pages`` holds an
    article's page by its URL, which the article already holds), and become
    paths only when read, through ``path``. Equal to a tuple of the same paths.
    """

    __slots__ = ("_parts", "_path")

    def __init__(self, *parts: Sequence[str], path: Callable[[str], str] | None = None) -> None:
        self._parts = parts
        self._path = path

    def then(self, more: Sequence[str]) -> Paths:
        """These paths, then ``more`` (paths as they are)."""
        return Paths(self, more)

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def __iter__(self) -> Iterator[str]:
        for part in self._parts:
            yield from (map(self._path, part) if self._path else part)

    def _one(self, at: int) -> str:
        for part in self._parts:
            if at < len(part):
                held = part[at]
                return self._path(held) if self._path else held
            at -= len(part)
        raise IndexError("no such path")

    def __getitem__(self, index: int | slice) -> Any:
        size = len(self)
        if isinstance(index, slice):
            return tuple(self._one(at) for at in range(size)[index])
        return self._one(range(size)[index])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Paths({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Collection:
    """What collecting a publication gives: the articles, and what went wrong."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...] = ()
    new_ids: Set[str] = field(default_factory=Ids)
    changed_ids: Set[str] = field(default_factory=Ids)
    drafts: tuple[Article, ...] = ()   # ``draft: true``: collected, never published nor mailed


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """One archive page of a feed (RFC 5005): older entries, at URLs that stay."""

    number: int                  # 1 is the oldest page
    items: int
    full: bool                   # every page but the newest: its bytes never change again
    files: dict[str, str]        # "rss" | "atom" | "json" -> path relative to the publication
    urls: dict[str, str]         # the same keys -> public URLs
    ids: tuple[str, ...] = ()    # its articles' ids, in the order they were shelved (not kept between runs)
    key: str = ""                # what its files were rendered from (for the incremental build)


@dataclass(frozen=True, slots=True)
class FeedOutput:
    """One feed as written: what manifest.json lists under ``feeds``."""

    name: str
    title: str
    language: str
    items: int
    files: dict[str, str]    # "rss" | "atom" | "json" -> path relative to the publication
    urls: dict[str, str]     # the same keys -> public URLs
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)  # path -> bytes to write
    archives: tuple[ArchivePage, ...] = ()   # the older entries, oldest page first
    left_out: int = 0        # entries within `limit` sent to the archive to keep each file under the size cap


@dataclass(frozen=True, slots=True)
class Digest:
    """One newsletter issue for one feed and one period, rendered once for everyone.

    ``html`` and ``text`` hold per-recipient placeholders that mail.py fills in.
    """

    id: str                      # "<feed>/<cadence>/<period start YYYY-MM-DD>": stable
    feed: str
    period_start: datetime
    period_end: datetime
    subject: str
    article_ids: tuple[str, ...]
    html: str                    # CSS inlined, placeholders for recipient values
    text: str
    web_html: str = ""           # the "view in browser" copy: no personal values
    web_text: str = ""           # the plain-text copy published beside it: no personal values
    shown: int = 0               # how many of article_ids (the first) the email shows; the web copy has all

    def __post_init__(self) -> None:
        _aware("period_start", self.period_start)
        _aware("period_end", self.period_end)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address a digest goes to, with the values personalised into it."""

    email: str
    name: str | None
    unsubscribe_url: str         # https URL carrying the signed token


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address, its display name, its state and the feeds it follows."""

    email: str
    name: str | None
    status: str                  # active, unsubscribed or bounced
    feeds: tuple[str, ...]
    created: str                 # RFC 3339, UTC
    updated: str
