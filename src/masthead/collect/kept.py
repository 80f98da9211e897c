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

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .. import __version__
from ..records import Article, Collection, Problem
from ..state import filecache
from ..state.db import Store
from .cache import FIELDS, from_record, to_record

CHUNK = 1000          # articles per row of ``collected``
ORIGIN_AT = FIELDS.index("origin")
ID_AT = FIELDS.index("id")


@dataclass(frozen=True, slots=True)
class FileRead:
    """What one article file gave when it was read (or taken from the file cache)."""

    context: str
    size: int
    mtime_ns: int
    articles: list[Article]
    problems: list[list[Any]]      # [where, message, fatal]
    keys: list[str]                # each title's comparison key (dedupe)
Listing = Sequence[tuple[str, Sequence[tuple[str, "os.stat_result | OSError"]]]]   # (context, [(origin, stat)])


def fingerprint(cache_version: str, feeds_dir: str, listing: Listing, problems: Sequence[Problem]) -> str:
    """What a collection is made from, but the state: each feed's settings and files, sizes and times."""
    rows = [[context, [[origin, stat.st_size, stat.st_mtime_ns] if isinstance(stat, os.stat_result)
                       else [origin, str(stat)] for origin, stat in files]]
            for context, files in listing]
    return hashlib.sha256(orjson.dumps([cache_version, __version__, feeds_dir, rows,
                                        [[p.where, p.message] for p in problems]])).hexdigest()


def keep(store: Store, inputs: str, collection: Collection, looked: dict[str, list[int] | None],
         records: Mapping[int, tuple[Article, list[Any]]] | None = None,
         files: Mapping[str, FileRead] | None = None) -> None:
    """Keep ``collection``, made from ``inputs``, its links checked against the files in ``looked``.

    ``records``: id(article) -> (the article, its record as the file cache gave it), for the articles
    collecting left as read: those records are kept as they are instead of made again. ``files``: what
    each file gave as it was read; of those whose every article is in the collection as read (not
    linked, dated, dropped as a duplicate), the next collection may take the articles from this one.
    """
    made = records or {}
    kept_whole = {id(a) for a in collection.articles} | {id(a) for a in collection.drafts}
    as_read = {origin: [read.context, read.size, read.mtime_ns, read.problems, read.keys,
                        [a.id for a in read.articles]]
               for origin, read in (files or {}).items() if all(id(a) in kept_whole for a in read.articles)}

    def record(article: Article) -> list[Any]:
        found = made.get(id(article))
        return found[1] if found is not None and found[0] is article else to_record(article)

    content = orjson.dumps({"problems": [[p.where, p.message, p.fatal] for p in collection.problems],
                            "looked": sorted(looked.items())}).decode()
    every = (*collection.articles, *collection.drafts)
    chunks = (orjson.dumps([record(a) for a in every[at:at + CHUNK]]).decode() for at in range(0, len(every), CHUNK))
    filecache.keep_collection(store, inputs, content, chunks, orjson.dumps(as_read).decode())


def last_collection(store: Store, inputs: str) -> Collection | None:
    """The last collection kept, when it was made from ``inputs`` and the files its links name are as they were."""
    stored = filecache.last_collection(store)
    if stored is None or stored[0] != inputs:
        return None
    try:
        content = orjson.loads(stored[1])
        if any(_size_and_time(path) != stat for path, stat in content["looked"]):
            return None
        articles: list[Article] = []
        drafts: list[Article] = []
        for chunk in filecache.collected(store):
            for record in orjson.loads(chunk):
                article = from_record(record)
                (drafts if article.draft else articles).append(article)
        return Collection(articles=tuple(articles), drafts=tuple(drafts),
                          problems=tuple(Problem(w, m, f) for w, m, f in content["problems"]))
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
        return None          # written by another masthead, or damaged: collect anew


def as_read(store: Store, current: Mapping[str, tuple[str, int, int]]
            ) -> tuple[dict[str, FileRead], dict[int, tuple[Article, list[Any]]]]:
    """What the last collection kept of the files that are as they were then, file by file.

    ``current``: origin -> (context, size, mtime_ns) of the files now. Returns each such file's read (its
    articles as the file cache would give them, its problems and title keys), and the records those
    articles came from (by id of the article), for ``keep``.
    """
    try:
        files = orjson.loads(filecache.kept_files(store) or "{}")
        wanted = {origin: entry for origin, entry in files.items()
                  if tuple(entry[:3]) == current.get(origin)}
        if not wanted:
            return {}, {}
        found: dict[tuple[str, str], tuple[Article, list[Any]]] = {}
        for chunk in filecache.collected(store):
            for record in orjson.loads(chunk):
                origin = record[ORIGIN_AT]
                if origin in wanted:
                    found[(origin, record[ID_AT])] = (from_record(record), record)
        reads: dict[str, FileRead] = {}
        records: dict[int, tuple[Article, list[Any]]] = {}
        for origin, (context, size, mtime_ns, problems, keys, ids) in wanted.items():
            pairs = [found[(origin, i)] for i in ids]
            reads[origin] = FileRead(context, size, mtime_ns, [a for a, _ in pairs],
                                     [list(p) for p in problems], list(keys))
            records.update((id(a), (a, r)) for a, r in pairs)
        return reads, records
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
        return {}, {}        # written by another masthead, or damaged: every file from the file cache


def _size_and_time(path: str) -> list[int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns] if os.path.isfile(path) else None
