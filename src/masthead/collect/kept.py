"""The last collection, kept whole: a run in which no file changed takes it as it is.

Collecting reads every file's cached record and then works over the whole
publication (links, duplicates, first-seen dates, sanitising). When nothing it
is made from changed, its result cannot have: the collection is kept in the
state (``collections``, ``collected``) beside a fingerprint of its inputs
(every file with its size and mtime, the settings each was read with, the
links refused, masthead's version) and of the files its links were checked
against, and the next run with the same fingerprint, those files as they were,
takes it without reading a file. Upstream feeds and pages are not files: a
publication that reads any is collected anew every run.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from stat import S_ISREG
from typing import Any

import orjson

from .. import __version__
from ..records import Article, Collection, Problem
from ..state import filecache
from ..state.db import Store
from ..text import detached
from .cache import TEXT_AT, from_record, to_record

CHUNK = 1000          # articles per row of ``collected``, on average
Stamp = tuple[int, int]          # a file's size and mtime in nanoseconds
Stored = tuple[str, str] | None      # the kept collection's (inputs, content), as filecache.last_collection gives


class Files:
    """A feed's files, in order: each one's origin and its stamp, or the error met reading its size and time.

    Iterating gives (origin, stamp or error) pairs. A large archive holds its
    listing for the whole run, so the sizes and times lie in two arrays rather
    than as a pair of ints in a tuple per file (a sixth of the memory).
    """

    __slots__ = ("_errors", "_sizes", "_times", "origins")

    def __init__(self) -> None:
        self.origins: list[str] = []
        self._sizes = array("q")
        self._times = array("q")
        self._errors: dict[int, OSError] = {}

    def append(self, origin: str, stamp: Stamp | OSError) -> None:
        if isinstance(stamp, tuple):
            size, time = stamp
        else:
            self._errors[len(self.origins)] = stamp
            size = time = -1
        self.origins.append(origin)
        self._sizes.append(size)
        self._times.append(time)

    def __len__(self) -> int:
        return len(self.origins)

    def __iter__(self) -> Iterator[tuple[str, Stamp | OSError]]:
        errors = self._errors
        for at, (origin, size, time) in enumerate(zip(self.origins, self._sizes, self._times, strict=True)):
            yield origin, (errors[at] if errors and at in errors else (size, time))

    def __getitem__(self, span: slice) -> list[tuple[str, Stamp | OSError]]:
        errors = self._errors
        return [(self.origins[at], errors[at] if at in errors else (self._sizes[at], self._times[at]))
                for at in range(*span.indices(len(self)))]

    def __eq__(self, other: object) -> bool:
        """The same files of the same sizes and times (errors alike when they read alike)."""
        if not isinstance(other, Files):
            return NotImplemented
        return (self.origins == other.origins and self._sizes == other._sizes and self._times == other._times
                and {at: str(e) for at, e in self._errors.items()} == {at: str(e) for at, e in other._errors.items()})

    __hash__ = None     # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        """The JSON form: the origins, then the sizes and times as little-endian 64-bit ints in base64."""
        return {"origins": self.origins, "sizes": _packed(self._sizes), "times": _packed(self._times),
                "errors": [[at, str(error)] for at, error in sorted(self._errors.items())]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Files:
        """Raises KeyError, TypeError or ValueError when ``data`` is not what ``to_json`` gave."""
        files = cls()
        files.origins = [str(origin) for origin in data["origins"]]
        files._sizes, files._times = _unpacked(data["sizes"]), _unpacked(data["times"])
        files._errors = {int(at): OSError(str(error)) for at, error in data["errors"]}   # as it read then
        if not len(files._sizes) == len(files._times) == len(files.origins):
            raise ValueError("a kept listing whose columns differ in length")
        return files


def _packed(numbers: array) -> str:
    if sys.byteorder == "big":
        numbers = array("q", numbers)
        numbers.byteswap()
    return base64.b64encode(numbers.tobytes()).decode()


def _unpacked(text: str) -> array:
    numbers = array("q")
    numbers.frombytes(base64.b64decode(text, validate=True))    # ValueError when not base64 of 64-bit ints
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers


# Per feed: (name, context, its files)
Listing = list[tuple[str, str, Files]]


def listing(found: Sequence[tuple[Any, Files]], contexts: Mapping[str, str]) -> Listing:
    """The listing of ``found`` (per feed: its settings, its files) with each feed's context.

    It holds ``found``'s own Files, not copies.
    """
    return [(feed.name, contexts[feed.name], files) for feed, files in found]


def fingerprint(cache_version: str, feeds_dir: str, listing: Listing, problems: Sequence[Problem]) -> str:
    """What a collection is made from, but the state: each feed's settings and files, sizes and times."""
    rows = [[context, files.to_json()] for _, context, files in listing]
    return hashlib.sha256(orjson.dumps([cache_version, __version__, feeds_dir, rows,
                                        [[p.where, p.message] for p in problems]])).hexdigest()


@dataclass
class Makings:
    """What a collection was made from, file by file: what the next run needs to patch it (difference.py).

    ``listing``: per feed, (name, context, its Files);
    ``file_problems`` and ``link_problems``: the problems reading and linking
    each file gave (files without any left out); ``entangled``: files whose
    change can change another file's articles (links.py); ``blocked``: the
    collection has problems that depend on the whole publication (duplicates,
    documents nothing links to), so it can only be made again whole.
    """

    feeds_dir: str
    listing: Listing
    file_problems: dict[str, list[Problem]]
    link_problems: dict[str, list[Problem]]
    entangled: set[str]
    blocked: bool

    def to_json(self) -> dict[str, Any]:
        return {"feeds_dir": self.feeds_dir,
                "listing": [[name, context, files.to_json()] for name, context, files in self.listing],
                "file_problems": {o: _problems_json(p) for o, p in self.file_problems.items()},
                "link_problems": {o: _problems_json(p) for o, p in self.link_problems.items()},
                "entangled": sorted(self.entangled), "blocked": self.blocked}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Makings:
        """Raises KeyError, TypeError or ValueError when ``data`` is not what ``to_json`` gave."""
        return cls(data["feeds_dir"],
                   [(str(name), str(context), Files.from_json(files)) for name, context, files in data["listing"]],
                   {o: _problems(p) for o, p in data["file_problems"].items()},
                   {o: _problems(p) for o, p in data["link_problems"].items()},
                   set(data["entangled"]), bool(data["blocked"]))


def by_file(problems: Sequence[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by the file they name (link problems name the article's file)."""
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(problem.where, []).append(problem)
    return grouped


def _problems_json(problems: Sequence[Problem]) -> list[list[Any]]:
    return [[p.where, p.message, p.fatal] for p in problems]


def _problems(rows: Sequence[Sequence[Any]]) -> list[Problem]:
    return [Problem(w, m, f) for w, m, f in rows]


def keep(store: Store, inputs: str, collection: Collection, looked: dict[str, list[int] | None],
         records: Mapping[int, tuple[Article, list[Any]]] | None = None, makings: Makings | None = None) -> None:
    """Keep ``collection``, made from ``inputs``, its links checked against the files in ``looked``.

    ``records``: id(article) -> (the article, its record as the file cache gave it), for the articles
    collecting left as read: those records are kept as they are instead of made again.
    ``makings``: what the next run needs to patch it (None: it can only be taken whole).
    """
    made = records or {}

    def record(article: Article) -> list[Any]:
        found = made.get(id(article))
        values = found[1] if found is not None and found[0] is article else to_record(article)
        if not all(values[at] is None or values[at].isascii() for at in TEXT_AT):      # see text.detached
            values = list(values)
            for at in TEXT_AT:
                if values[at] is not None:
                    values[at] = detached(values[at])
        return values

    def content() -> str:
        return orjson.dumps({"problems": _problems_json(collection.problems), "looked": sorted(looked.items()),
                             "makings": makings.to_json() if makings else None}).decode()

    every = (*collection.articles, *collection.drafts)
    chunks = ((hashlib.sha256(text).hexdigest(), text.decode())
              for text in (orjson.dumps([record(a) for a in part]) for part in _chunks(every)))
    filecache.keep_collection(store, inputs, chunks, content)


def _chunks(articles: Sequence[Article]) -> Iterator[Sequence[Article]]:
    """``articles`` in runs of about CHUNK, each ending at an article chosen by its id alone.

    Where a run ends does not depend on what comes before it: a new or deleted
    article changes the one run holding it, and every other run keeps its
    bytes (and its row is not written again). No run is longer than 4 * CHUNK.
    """
    start = 0
    for at, article in enumerate(articles):
        if zlib.crc32(article.id.encode()) % CHUNK == 0 or at + 1 - start >= 4 * CHUNK:
            yield articles[start:at + 1]
            start = at + 1
    if start < len(articles):
        yield articles[start:]


def kept_records(store: Store) -> Iterator[list[Any]]:
    """The records of the collection kept (its articles, then its drafts), in order."""
    for chunk in filecache.collected(store):
        yield from orjson.loads(chunk)


def last_collection(store: Store, inputs: str, stored: Stored) -> Collection | None:
    """The last collection kept (``stored``: filecache.last_collection's row), when it was made from ``inputs``
    and the files its links name are as they were."""
    if stored is None or stored[0] != inputs:
        return None
    try:
        content = orjson.loads(stored[1])
        if not as_they_were(content["looked"]):
            return None
        articles: list[Article] = []
        drafts: list[Article] = []
        for record in kept_records(store):
            article = from_record(record)
            (drafts if article.draft else articles).append(article)
        return Collection(articles=tuple(articles), drafts=tuple(drafts),
                          problems=tuple(_problems(content["problems"])))
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
        return None          # written by another masthead, or damaged: collect anew


def as_they_were(looked: Iterable[tuple[str, list[int] | None]]) -> bool:
    """Whether every file links were checked against is as it was then (its size and mtime, or still missing)."""
    return all(_size_and_time(path) == stat for path, stat in looked)


def _size_and_time(path: str) -> list[int] | None:
    """What links.py notes of a file it checked: [size, mtime_ns], None when it is not a file."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns] if S_ISREG(stat.st_mode) else None
