"""One article file: taken from the file cache when it did not change, else read (here or by a reader process).

``look_all`` goes through a feed's files with the cache's rows: an unchanged
file (the same size and mtime, or the same bytes) gives its articles from its
row; every other file is to be read. ``read_changed`` reads one into what the
cache keeps of it (its record, encoded, and its bodies): the same work
whichever process does it, and ``take`` makes the articles of that record as
for a file read on an earlier run.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from ..config import FeedSettings, SiteSettings
from ..errors import InputError
from ..records import Article, Problem
from ..state import filecache
from ..state.db import Store
from ..text import fold_for_key, split_name
from .cache import cache_entry, decode, encode, from_cache_entry
from .kept import Files, Stamp
from .links import DOCUMENT_SUFFIXES
from .raw import RawEntry
from .sanitise import finish_file

MAX_FILE_BYTES = 10 * 1024 * 1024
CACHE_BATCH = 500
READERS: dict[str, str] = {
    ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
    ".json": "json", ".xml": "feed", ".rss": "feed", ".atom": "feed", ".html": "html", ".htm": "html",
}



def read_entries(data: bytes, origin: str, kind: str) -> tuple[list[RawEntry], list[str]]:
    """Raw entries of one input of the given kind, and problems with parts of it.

    Each reader is loaded when its kind is first met: a run with nothing new
    to read loads no parser (YAML, Markdown, feedparser, lxml) at all.
    """
    if kind == "text":
        from .plaintext import read_plaintext
        return read_plaintext(data, origin), []
    if kind == "markdown":
        from .markdown import read_markdown
        return read_markdown(data, origin), []
    from .upstream import read_upstream
    if kind == "json":
        from .jsonrecords import is_json_feed, load_json, read_json_records
        document = load_json(data, origin)
        return read_upstream(data, origin) if is_json_feed(document) else read_json_records(document, origin)
    if kind == "html":
        from .htmlpage import read_html_page
        return read_html_page(data, origin), []
    return read_upstream(data, origin)


def read_articles(data: bytes, origin: str, kind: str, feed: FeedSettings,
                  site: SiteSettings) -> tuple[list[Article], list[Problem]]:
    """Articles from one input; Problems for what could not be used. Never raises InputError."""
    from .normalise import normalise

    problems: list[Problem] = []
    try:
        if len(data) > MAX_FILE_BYTES:
            raise InputError(f"the file is {len(data) / 2**20:.0f} MB; articles over "
                             f"{MAX_FILE_BYTES // 2**20} MB are not read", where=origin,
                             hint="split it, or move large media out of feeds/")
        entries, notes = read_entries(data, origin, kind)
    except InputError as exc:
        return [], [Problem(exc.where or origin, problem_text(exc), fatal=True)]
    problems += [Problem(origin, note, fatal=not entries) for note in notes]  # nothing usable: fatal
    if not entries and not notes:
        problems.append(Problem(origin, "no article found in it", fatal=True))
    articles = []
    for entry in entries:
        try:
            articles.append(normalise(entry, feed, site))
        except InputError as exc:
            problems.append(Problem(exc.where or origin, problem_text(exc), fatal=True))
    return articles, problems


def problem_text(exc: InputError) -> str:
    return f"{exc.message}; {exc.hint}" if exc.hint else exc.message


def file_suffix(name: str) -> str:
    """What Path(name).suffix.lower() gives."""
    return split_name(name)[1].lower()


@dataclass
class Reads:
    """What reading the files of one collection gathers besides articles and problems."""

    lean: bool                   # articles without the bodies the cache keeps apart
    records: dict[int, tuple[Article, list]] | None    # id(article) -> (it, the cache record it came from)
    workers: int | None          # processes reading changed files (None: one per core)
    pending: list[tuple] = field(default_factory=list)  # file-cache rows (encoded), written in batches
    folded: dict[str, int] = field(default_factory=dict)  # title -> its comparison key's hash (see title_key)


Result = tuple[list[Article], list[Problem]]


def look_all(store: Store, home: str, feed: str, context: str, files: Files | list, reads: Reads, to_read: list[tuple],
             documents: list[str]) -> dict[str, Result]:
    """Each of a feed's files (kept.Files, or their pairs) as the file cache knows it (one query a batch).

    Gives the articles and problems of every file known without reading it, by
    origin; each of the others goes to ``to_read`` (a job for ``read_changed``),
    in the order of ``files``. ``home``: the publication's folder, which origins
    are relative to. A file to read costs nothing here until it is read: a
    first run over a large archive holds one job per file, and no more.
    """
    known: dict[str, Result] = {}
    for start in range(0, len(files), CACHE_BATCH):
        batch = files[start:start + CACHE_BATCH]
        rows = filecache.cached_many(store, [origin for origin, _ in batch], bodies=not reads.lean)
        for origin, stamp in batch:
            suffix = file_suffix(os.path.basename(origin))
            kind = READERS.get(suffix)
            if kind is None and suffix in DOCUMENT_SUFFIXES:
                documents.append(origin)
                known[origin] = [], []
            elif kind is None:
                name = PurePosixPath(origin)
                known[origin] = [], [Problem(origin, f"'{name.suffix or name.name}' files are not articles: skipped "
                                                     f"(masthead reads {', '.join(sorted(READERS))})")]
            elif isinstance(stamp, OSError):
                known[origin] = [], [unreadable(origin, stamp)]
            else:
                result = _cached(os.path.join(home, origin), origin, stamp, context, rows.get(origin), reads)
                if result is None:
                    to_read.append((origin, kind, feed))
                else:
                    known[origin] = result
    return known


def _cached(path: str, origin: str, stamp: Stamp, context: str, row: filecache.CachedFile | None,
            reads: Reads) -> Result | None:
    """The file's articles and problems from its cache row when its size and time, or its bytes, are the same.

    None when it must be read: new, changed, or cached with other settings.
    """
    cached = decode(row.result) if row else None
    if row is None or cached is None or cached["context"] != context:
        return None
    if (row.size, row.mtime_ns) != stamp:       # touched: hashing its bytes is cheaper than reading them again
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError as exc:                  # gone since the folder was listed: that file only
            return [], [unreadable(origin, exc)]
        if digest != row.hash:
            return None
        reads.pending.append((origin, *stamp, digest, row.result, row.bodies))
    return _from_cache(cached, row.bodies, reads, origin)


class Fresh(NamedTuple):
    """What reading one file gave: the hash of its bytes and its cache record, or why it could not be read."""

    digest: str = ""
    entry: str = ""                  # encoded
    bodies: str = ""
    error: OSError | None = None


def read_changed(site: SiteSettings, feeds: dict[str, tuple[FeedSettings, str]], home: str, origin: str,
                 kind: str, feed: str) -> Fresh:
    """Read one new or changed file into what the file cache keeps of it (in a worker process, or here).

    ``home``: the publication's folder, which ``origin`` is relative to.
    """
    settings, context = feeds[feed]
    try:
        with open(os.path.join(home, origin), "rb") as file:
            data = file.read()
    except OSError as exc:              # unreadable, or gone since the folder was listed: that file only
        return Fresh(error=exc)
    got, trouble = read_articles(data, origin, kind, settings, site)
    finished, repairs = finish_file(got)
    entry, bodies = cache_entry(context, finished, [*trouble, *repairs], [fold_for_key(a.title) for a in finished])
    return Fresh(hashlib.sha256(data).hexdigest(), encode(entry), bodies)


def take(origin: str, stamp: Stamp | None, fresh: Fresh, reads: Reads) -> Result:
    """The articles and problems of a file just read, made from its cache record as for an unchanged file."""
    if fresh.error is not None:
        return [], [unreadable(origin, fresh.error)]
    entry = decode(fresh.entry)
    assert entry is not None and stamp is not None
    reads.pending.append((origin, *stamp, fresh.digest, fresh.entry, fresh.bodies))
    return _from_cache(entry, fresh.bodies, reads, origin, keep_records=False)


def unreadable(origin: str, exc: OSError) -> Problem:
    return Problem(origin, f"cannot read it ({exc.strerror or exc}); check that the file "
                   "exists and masthead may read it", fatal=True)


def save_reads(store: Store, pending: list[tuple]) -> None:
    """Write the pending file-cache rows in one transaction (a crash loses only re-readable rows)."""
    if pending:
        filecache.save(store, pending)
        pending.clear()


def _from_cache(cached: dict, bodies: str | None, reads: Reads, origin: str,
                keep_records: bool = True) -> tuple[list[Article], list[Problem]]:
    articles = from_cache_entry(cached, None if reads.lean else bodies, origin)
    reads.folded.update(zip([a.title for a in articles], map(hash, cached.get("keys") or ()), strict=False))
    if reads.records is not None and keep_records:  # the collection will be kept: it reuses these records
        reads.records.update((id(a), (a, r)) for a, r in zip(articles, cached["articles"], strict=True))
    return articles, [Problem(w, m, f) for w, m, f in cached["problems"]]
