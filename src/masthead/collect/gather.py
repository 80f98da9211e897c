"""Collect a publication: every article file, upstream source and page -> Articles and Problems.

One reader per input kind (plaintext, markdown, jsonrecords, upstream,
htmlpage); the readers give RawEntry records and normalise.py makes Articles
of them. A bad file is a Problem naming it; every other file is still
collected. Files that did not change since the last run (same size and mtime,
or same bytes) are not read again: their Articles come from the state's file
cache, which keeps each article's body apart from the rest of its record: a
lean collection (what a run uses) carries articles without their bodies, and
the feeds and digests read the bodies back (cache.Bodies) only for what they
render. Links between the publication's files are then made absolute
(links.py), drafts are set aside (collected, never published), duplicates are
kept once, undated articles take the moment they were first seen, and the
result is sanitised (sanitise.py) once, for every later stage.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from .. import __version__
from ..config import FEED_FILE, FeedSettings, Publication, SiteSettings
from ..errors import InputError
from ..records import Article, Collection, Problem
from ..state import articles as known_articles
from ..state import filecache
from ..state.db import Store
from ..state.lock import held_lock_files
from ..text import fold_for_key
from . import kept
from .cache import cache_entry, decode, encode, from_cache_entry
from .duplicates import dedupe
from .kept import Stamp
from .links import DOCUMENT_SUFFIXES, MEDIA_SUFFIXES, link_local_files
from .parallel import Readers
from .raw import RawEntry
from .sanitise import finish_file, sanitise_articles

MAX_FILE_BYTES = 10 * 1024 * 1024
CACHE_BATCH = 500
CACHE_VERSION = "6"  # bump when reading or normalising changes what a file gives (6: bodies apart)
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
        return [], [Problem(exc.where or origin, _message(exc), fatal=True)]
    problems += [Problem(origin, note, fatal=not entries) for note in notes]  # nothing usable: fatal
    if not entries and not notes:
        problems.append(Problem(origin, "no article found in it", fatal=True))
    articles = []
    for entry in entries:
        try:
            articles.append(normalise(entry, feed, site))
        except InputError as exc:
            problems.append(Problem(exc.where or origin, _message(exc), fatal=True))
    return articles, problems


def _message(exc: InputError) -> str:
    return f"{exc.message}; {exc.hint}" if exc.hint else exc.message


def article_files(feed: FeedSettings, feeds_dir: Path) -> tuple[list[str], list[Problem]]:
    """The feed's article files at any depth (absolute paths), in a stable order, and the links refused.

    Hidden and ``_``-prefixed files are skipped, and so are files the feed lists
    in ``sources`` (read once, as upstream feeds) and the pictures, sound,
    video and documents articles refer to (links.py publishes those).
    Articles are read only from ``feeds/``: a file or folder that resolves
    anywhere else (a symlink into ``.masthead/``, ``output/`` or outside the
    publication) is refused with a problem naming it, and nothing of it is
    read. Links to folders are not followed. The walk handles plain strings:
    building a Path per file cost more than listing the folders.
    """
    home = feeds_dir.resolve()
    listed = {(feed.folder / s).resolve() for s in feed.sources if "://" not in s}
    found: list[str] = []
    problems: list[Problem] = []
    if not _inside(feed.folder.resolve(), home):
        return [], [Problem(f"feeds/{feed.name}", f"the feed folder is a link to {feed.folder.resolve()}, "
                            "outside feeds/: refused, nothing of it is read; move the folder into feeds/",
                            fatal=True)]
    top = str(feed.folder)

    def walk(here: str) -> None:
        with os.scandir(here) as listing:        # one listing gives each entry's type: no stat per file
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")) or (here == top and name == FEED_FILE):
                continue
            if entry.is_symlink():
                path = Path(entry.path)
                real = path.resolve()
                if listed and real in listed:
                    continue
                if not _inside(real, home):
                    problems.append(Problem(f"feeds/{path.relative_to(feeds_dir).as_posix()}",
                                            f"a link to {real}, outside feeds/: refused, nothing of it is read; "
                                            "copy the article into feeds/ instead", fatal=True))
                elif real.is_dir():
                    problems.append(Problem(f"feeds/{path.relative_to(feeds_dir).as_posix()}",
                                            "a link to a folder: not followed; move the folder into feeds/"))
                elif real.is_file() and _suffix(name) not in MEDIA_SUFFIXES:
                    found.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                walk(entry.path)
            elif (entry.is_file(follow_symlinks=False) and _suffix(name) not in MEDIA_SUFFIXES
                  and not (listed and Path(entry.path).resolve() in listed)):
                found.append(entry.path)

    walk(top)
    return sorted(found, key=lambda path: path.split(os.sep)), problems


def _suffix(name: str) -> str:
    """What Path(name).suffix.lower() gives, without the Path."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


Progress = Callable[[int, int, str], None]  # (files done, files in all, the file being read)


def collect_publication(pub: Publication, store: Store, now: datetime,
                        progress: Progress | None = None, *, lean: bool = False,
                        workers: int | None = None) -> Collection:
    """Every article of the publication, normalised and sanitised, with the problems met on the way.

    ``lean``: the articles of article files come without their bodies
    (``body_html`` and ``body_text`` empty; ``cache.Bodies(store).fill`` gives
    them back), except those whose body links to the publication's own files.
    A run over a large archive then holds each article's record, not its body.
    ``workers``: processes reading new and changed files when there are many
    (None: one per core; 1: every file is read in this process).
    """
    problems: list[Problem] = []
    listed = []
    for feed in pub.feeds:
        paths, refused = article_files(feed, pub.feeds_dir)
        listed.append((feed, paths))
        problems += refused
    root = f"{pub.root}/" if pub.root.is_absolute() and os.sep == "/" else ""
    found = [(feed, [(path, _origin(pub, root, path), _stat(path)) for path in paths]) for feed, paths in listed]
    total = sum(len(paths) for _, paths in listed)
    # Upstream feeds and pages change without a file changing: a publication reading any is collected anew.
    inputs = None
    if lean and not any(f.sources or f.pages for f in pub.feeds):
        inputs = kept.fingerprint(CACHE_VERSION, str(pub.feeds_dir),
                                  [(_context(pub.site, feed), [(origin, stat) for _, origin, stat in files])
                                   for feed, files in found], problems)
        last = kept.last_collection(store, inputs)
        if last is not None:
            if progress:
                progress(total, total, "")
            return last
    looked: dict[str, list[int] | None] = {}
    reads = _Reads(lean=lean, records={} if inputs is not None else None, workers=workers)
    collection = _collect(pub, store, now, progress, reads, found, total, problems, looked)
    if inputs is not None:
        kept.keep(store, inputs, collection, looked, reads.records)
    return collection


@dataclass
class _Reads:
    """What reading the files of one collection gathers besides articles and problems."""

    lean: bool                   # articles without the bodies the cache keeps apart
    records: dict[int, tuple[Article, list]] | None    # id(article) -> (it, the cache record it came from)
    workers: int | None          # processes reading changed files (None: one per core)
    pending: list[tuple] = field(default_factory=list)  # file-cache rows (encoded), written in batches
    folded: dict[str, str] = field(default_factory=dict)  # title -> its comparison key (dedupe needs every one)


def _stat(path: str) -> Stamp | OSError:
    """The file's size and mtime (a stat result is ten times bigger: a large archive holds one per file)."""
    try:
        stat = os.stat(path)
    except OSError as exc:      # reported when the file is read
        return exc
    return stat.st_size, stat.st_mtime_ns


def _collect(pub: Publication, store: Store, now: datetime, progress: Progress | None, reads: _Reads,
             found: list, total: int, problems: list[Problem],
             looked: dict[str, list[int] | None]) -> Collection:
    articles: list[Article] = []
    seen_paths: list[str] = []
    documents: list[str] = []   # not articles: a problem unless an article links to them
    feeds = {feed.name: (feed, _context(pub.site, feed)) for feed, _ in found}
    looks = []                  # per feed, each file's slot: what is known without reading it
    to_read: list[tuple] = []   # the files to read, of every feed: their readers start on all at once
    for feed, files in found:
        looks.append(_look_all(store, feed.name, feeds[feed.name][1], files, reads, to_read, documents))
        seen_paths += [origin for _, origin, _ in files]
    done = 0
    with Readers(_read_changed, (pub.site, feeds), reads.workers, closing=held_lock_files()) as readers:
        fresh = readers.read_all(to_read)
        for (feed, _), slots in zip(found, looks, strict=True):
            for origin, stamp, result in slots:
                done += 1
                if progress:
                    progress(done, total, origin)
                got, trouble = result if result is not None else _take(origin, stamp, next(fresh), reads)
                articles += got
                problems += trouble
                if len(reads.pending) >= CACHE_BATCH:
                    _save_reads(store, reads.pending)
            for source in feed.sources:
                got, trouble = _read_source(store, pub, feed, source, now)
                articles += got
                problems += trouble
            for page in feed.pages:
                got, trouble = _read_source(store, pub, feed, page, now, kind="html")
                articles += got
                problems += trouble
    _save_reads(store, reads.pending)
    filecache.forget_others(store, seen_paths)
    articles, link_problems = link_local_files(pub, articles, looked)
    problems += link_problems
    linked = {f.source for a in articles for f in a.local_files}
    problems += [Problem(origin, f"'{PurePosixPath(origin).suffix}' files are not articles: skipped (masthead reads "
                                 f"{', '.join(sorted(READERS))}); link to it from an article to publish it")
                 for origin in documents if origin not in linked]
    drafts = tuple(a for a in articles if a.draft)
    unique, duplicate_problems = dedupe([a for a in articles if not a.draft], reads.folded)
    problems += duplicate_problems
    # What normalising noted on single articles is reported per file too (and counts for --strict).
    problems += [Problem(a.origin, note) for a in (*unique, *drafts) for note in a.problems]
    known = known_articles.remember(store, unique, now)
    dated = [a if a.published is not None else
             replace(a, published=known.first_seen[a.id], precision="second") for a in unique]
    clean, repairs = sanitise_articles(dated, repaired=True)   # each was repaired as its file was read
    return Collection(articles=clean, problems=(*problems, *repairs),
                      new_ids=known.new_ids, changed_ids=known.changed_ids, drafts=drafts)


def _context(site: SiteSettings, feed: FeedSettings) -> str:
    """What a cached result depends on besides the file: settings and the code's version."""
    return f"{CACHE_VERSION}|{__version__}|{site.base_url}|{site.timezone.key}|{feed.name}|{feed.language}"


def _origin(pub: Publication, root: str, path: str) -> str:
    """``pub.relative(Path(path))`` without building paths: files found under feeds/ all lie under the root."""
    if root and path.startswith(root):      # the walk joins names to a Path's text: no '//', no '/./'
        return path[len(root):]
    return pub.relative(Path(path))


Result = tuple[list[Article], list[Problem]]
Slot = tuple[str, Stamp | None, Result | None]     # a file: (origin, size and time, result unless it must be read)


def _look_all(store: Store, feed: str, context: str, files: list, reads: _Reads, to_read: list[tuple],
              documents: list[str]) -> list[Slot]:
    """Each of a feed's files as the file cache knows it (one query a batch); those to read go to ``to_read``."""
    slots: list[Slot] = []
    for start in range(0, len(files), CACHE_BATCH):
        batch = files[start:start + CACHE_BATCH]
        rows = filecache.cached_many(store, [origin for _, origin, _ in batch], bodies=not reads.lean)
        for path, origin, stamp in batch:
            suffix = _suffix(os.path.basename(path))
            kind = READERS.get(suffix)
            result: Result | None
            if kind is None and suffix in DOCUMENT_SUFFIXES:
                documents.append(origin)
                result = [], []
            elif kind is None:
                name = PurePosixPath(origin)
                result = [], [Problem(origin, f"'{name.suffix or name.name}' files are not articles: skipped "
                                              f"(masthead reads {', '.join(sorted(READERS))})")]
            elif isinstance(stamp, OSError):
                result = [], [_unreadable(origin, stamp)]
            else:
                result = _cached(path, origin, stamp, context, rows.get(origin), reads)
                if result is None:
                    to_read.append((path, origin, kind, feed))
            slots.append((origin, None if isinstance(stamp, OSError) else stamp, result))
    return slots


def _cached(path: str, origin: str, stamp: Stamp, context: str, row: filecache.CachedFile | None,
            reads: _Reads) -> Result | None:
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
            return [], [_unreadable(origin, exc)]
        if digest != row.hash:
            return None
        reads.pending.append((origin, *stamp, digest, row.result, row.bodies))
    return _from_cache(cached, row.bodies, reads)


class _Fresh(NamedTuple):
    """What reading one file gave: the hash of its bytes and its cache record, or why it could not be read."""

    digest: str = ""
    entry: str = ""                  # encoded
    bodies: str = ""
    error: OSError | None = None


def _read_changed(site: SiteSettings, feeds: dict[str, tuple[FeedSettings, str]], path: str, origin: str,
                  kind: str, feed: str) -> _Fresh:
    """Read one new or changed file into what the file cache keeps of it (in a worker process, or here)."""
    settings, context = feeds[feed]
    try:
        data = Path(path).read_bytes()
    except OSError as exc:              # unreadable, or gone since the folder was listed: that file only
        return _Fresh(error=exc)
    got, trouble = read_articles(data, origin, kind, settings, site)
    finished, repairs = finish_file(got)
    entry, bodies = cache_entry(context, finished, [*trouble, *repairs], [fold_for_key(a.title) for a in finished])
    return _Fresh(hashlib.sha256(data).hexdigest(), encode(entry), bodies)


def _take(origin: str, stamp: Stamp | None, fresh: _Fresh, reads: _Reads) -> Result:
    """The articles and problems of a file just read, made from its cache record as for an unchanged file."""
    if fresh.error is not None:
        return [], [_unreadable(origin, fresh.error)]
    entry = decode(fresh.entry)
    assert entry is not None and stamp is not None
    reads.pending.append((origin, *stamp, fresh.digest, fresh.entry, fresh.bodies))
    return _from_cache(entry, fresh.bodies, reads, keep_records=False)


def _unreadable(origin: str, exc: OSError) -> Problem:
    return Problem(origin, f"cannot read it ({exc.strerror or exc}); check that the file "
                   "exists and masthead may read it", fatal=True)


def _save_reads(store: Store, pending: list[tuple]) -> None:
    """Write the pending file-cache rows in one transaction (a crash loses only re-readable rows)."""
    if pending:
        filecache.save(store, pending)
        pending.clear()


def _from_cache(cached: dict, bodies: str | None, reads: _Reads,
                keep_records: bool = True) -> tuple[list[Article], list[Problem]]:
    articles = from_cache_entry(cached, None if reads.lean else bodies)
    reads.folded.update(zip([a.title for a in articles], cached.get("keys") or (), strict=False))
    if reads.records is not None and keep_records:  # the collection will be kept: it reuses these records
        reads.records.update((id(a), (a, r)) for a, r in zip(articles, cached["articles"], strict=True))
    return articles, [Problem(w, m, f) for w, m, f in cached["problems"]]


def _read_source(store: Store, pub: Publication, feed: FeedSettings, source: str, now: datetime,
                 kind: str = "feed") -> tuple[list[Article], list[Problem]]:
    """An upstream feed (a URL or a file) or a page URL: its articles, and problems with it."""
    from .upstream import StaleCopy, fetch

    stale: list[Problem] = []
    try:
        if source.startswith(("http://", "https://")):
            try:
                data, origin = fetch(source, store, pub.site.fetch, now=now), source
            except StaleCopy as exc:   # unreachable: the last good copy, said on every run until it is back
                data, origin = exc.body, source
                stale.append(Problem(source, exc.message))
        else:
            path = (feed.folder / source).resolve()
            origin = pub.relative(path)
            if not _inside(path, pub.feeds_dir.resolve()):
                return [], [Problem(f"feeds/{feed.name}/{FEED_FILE}: sources",
                                    f"{source!r} resolves to {path}, outside feeds/: refused; "
                                    "keep upstream feed files inside feeds/", fatal=True)]
            data = path.read_bytes()
    except InputError as exc:
        return [], [Problem(exc.where or source, _message(exc), fatal=True)]
    except OSError as exc:
        return [], [Problem(f"feeds/{feed.name}/{FEED_FILE}: sources",
                            f"cannot read {source!r}: {exc.strerror}; fix the path", fatal=True)]
    got, trouble = read_articles(data, origin, kind, feed, pub.site)
    finished, repairs = finish_file(got)
    return finished, [*stale, *trouble, *repairs]
