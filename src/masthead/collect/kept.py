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
from stat import S_ISREG
from typing import Any

import orjson

from .. import __version__
from ..records import Article, Collection, Problem
from ..state import filecache
from ..state.db import Store
from .cache import from_record, to_record

CHUNK = 1000          # articles per row of ``collected``
Stamp = tuple[int, int]          # a file's size and mtime in nanoseconds
Listing = Sequence[tuple[str, Sequence[tuple[str, "Stamp | OSError"]]]]   # (context, [(origin, stamp)])


def fingerprint(cache_version: str, feeds_dir: str, listing: Listing, problems: Sequence[Problem]) -> str:
    """What a collection is made from, but the state: each feed's settings and files, sizes and times."""
    rows = [[context, [[origin, *stat] if isinstance(stat, tuple) else [origin, str(stat)] for origin, stat in files]]
            for context, files in listing]
    return hashlib.sha256(orjson.dumps([cache_version, __version__, feeds_dir, rows,
                                        [[p.where, p.message] for p in problems]])).hexdigest()


def keep(store: Store, inputs: str, collection: Collection, looked: dict[str, list[int] | None],
         records: Mapping[int, tuple[Article, list[Any]]] | None = None) -> None:
    """Keep ``collection``, made from ``inputs``, its links checked against the files in ``looked``.

    ``records``: id(article) -> (the article, its record as the file cache gave it), for the articles
    collecting left as read: those records are kept as they are instead of made again.
    """
    made = records or {}

    def record(article: Article) -> list[Any]:
        found = made.get(id(article))
        return found[1] if found is not None and found[0] is article else to_record(article)

    content = orjson.dumps({"problems": [[p.where, p.message, p.fatal] for p in collection.problems],
                            "looked": sorted(looked.items())}).decode()
    every = (*collection.articles, *collection.drafts)
    chunks = (orjson.dumps([record(a) for a in every[at:at + CHUNK]]).decode() for at in range(0, len(every), CHUNK))
    filecache.keep_collection(store, inputs, content, chunks)


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


def _size_and_time(path: str) -> list[int] | None:
    """What links.py notes of a file it checked: [size, mtime_ns], None when it is not a file."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns] if S_ISREG(stat.st_mode) else None
