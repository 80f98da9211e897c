"""Collect a publication: every article file, upstream source and page -> Articles and Problems.

One reader per input kind (plaintext, markdown, jsonrecords, upstream,
htmlpage); the readers give RawEntry records and normalise.py makes Articles
of them. A bad file is a Problem naming it; every other file is still
collected. Files that did not change since the last run (same size and mtime,
or same bytes) are not read again (reading.py): their Articles come from the
state's file cache, which keeps each article's body, summary and slug apart
from the rest of its record: a lean collection (what a run uses) carries articles
without them, and the feeds and digests read them back (cache.Bodies) only for
what they render. Many new or changed files are read by reader processes
(parallel.py). Links between the publication's files are then made absolute
(links.py), drafts are set aside (collected, never published), duplicates are
kept once, undated articles take the moment they were first seen, and the
result is sanitised (sanitise.py) once, for every later stage.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from .. import __version__
from ..config import FEED_FILE, FeedSettings, Publication, SiteSettings
from ..errors import InputError
from ..records import Article, Collection, Problem
from ..state import articles as known_articles
from ..state import filecache
from ..state.db import Store
from ..state.lock import held_lock_files
from . import kept
from .difference import patch
from .duplicates import dedupe
from .kept import Stamp
from .links import MEDIA_SUFFIXES, link_local_files
from .parallel import Readers
from .reading import (
    CACHE_BATCH,
    MAX_FILE_BYTES,
    READERS,
    Reads,
    file_suffix,
    look_all,
    problem_text,
    read_articles,
    read_changed,
    read_entries,
    save_reads,
    take,
)
from .sanitise import finish_file, sanitise_articles

__all__ = ["MAX_FILE_BYTES", "READERS", "Progress", "article_files", "collect_publication", "read_articles",
           "read_entries"]

CACHE_VERSION = "9"  # bump when reading or normalising changes what a file gives (9: slugs kept apart)


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
    _walk(str(feed.folder), str(feed.folder), home, feeds_dir, listed, found, problems)
    return sorted(found, key=lambda path: path.split(os.sep)), problems


def _walk(here: str, top: str, home: Path, feeds_dir: Path, listed: set[Path], found: list[str],
          problems: list[Problem]) -> None:
    """``article_files``' walk of the folder ``here`` under the feed's folder ``top``, adding to ``found`` and
    ``problems`` (a function of its own: a nested one refers to itself, and would hold every path found until
    the garbage collector came round)."""
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
            elif real.is_file() and file_suffix(name) not in MEDIA_SUFFIXES:
                found.append(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            _walk(entry.path, top, home, feeds_dir, listed, found, problems)
        elif (entry.is_file(follow_symlinks=False) and file_suffix(name) not in MEDIA_SUFFIXES
              and not (listed and Path(entry.path).resolve() in listed)):
            found.append(entry.path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


Progress = Callable[[int, int, str], None]  # (files done, files in all, the file being read)


def collect_publication(pub: Publication, store: Store, now: datetime,
                        progress: Progress | None = None, *, lean: bool = False,
                        workers: int | None = None) -> Collection:
    """Every article of the publication, normalised and sanitised, with the problems met on the way.

    ``lean``: the articles of article files come without their bodies,
    summaries and slugs (``body_html``, ``body_text``, ``summary`` and ``slug`` empty;
    ``cache.Bodies(store).fill`` gives them back), except those whose body
    links to the publication's own files. A run over a large archive then
    holds each article's record, not its text.
    ``workers``: processes reading new and changed files when there are many
    (None: one per core; 1: every file is read in this process).
    """
    problems: list[Problem] = []
    listed = []
    paths: list[str] = []
    for feed in pub.feeds:
        paths, refused = article_files(feed, pub.feeds_dir)
        listed.append((feed, paths))
        problems += refused
    root = f"{pub.root}/" if pub.root.is_absolute() and os.sep == "/" else ""
    # Each file as its origin and stamp: its path is made again from its origin when it is read (a large
    # archive would hold both), and the kept collection's listing holds these same Files.
    found = []
    for feed, paths in listed:
        files = kept.Files()
        for path in paths:
            files.append(_origin(pub, root, path), _stat(path))
        found.append((feed, files))
    del listed, paths
    total = sum(len(files) for _, files in found)
    feeds = {feed.name: (feed, _context(pub.site, feed)) for feed, _ in found}
    contexts = {name: context for name, (_, context) in feeds.items()}
    listing = kept.listing(found, contexts)
    # Upstream feeds and pages change without a file changing: a publication reading any is collected anew.
    inputs = None
    stored: kept.Stored = None
    if lean and not any(f.sources or f.pages for f in pub.feeds):
        inputs = kept.fingerprint(CACHE_VERSION, str(pub.feeds_dir), listing, problems)
        stored = filecache.last_collection(store)
        last = kept.last_collection(store, inputs, stored)
        if last is not None:
            if progress:
                progress(total, total, "")
            return last
    looked: dict[str, list[int] | None] = {}
    reads = Reads(lean=lean, records={} if inputs is not None else None, workers=workers)
    patched = None if inputs is None else patch(
        pub, store, now, stored, found, listing, problems, reads,
        Readers(read_changed, (pub.site, feeds, str(pub.root)), workers, closing=held_lock_files()))
    if patched is not None:
        collection, makings, looked = patched
    else:
        collection, makings = _collect(pub, store, now, progress, reads, found, feeds, listing, total, problems,
                                       looked)
    if progress and patched is not None:
        progress(total, total, "")
    if inputs is not None:
        kept.keep(store, inputs, collection, looked, reads.records, makings)
    return collection


def _stat(path: str) -> Stamp | OSError:
    """The file's size and mtime (a stat result is ten times bigger: a large archive holds one per file)."""
    try:
        stat = os.stat(path)
    except OSError as exc:      # reported when the file is read
        return exc
    return stat.st_size, stat.st_mtime_ns


def _collect(pub: Publication, store: Store, now: datetime, progress: Progress | None, reads: Reads,
             found: list, feeds: dict[str, tuple[FeedSettings, str]], listing: kept.Listing, total: int,
             problems: list[Problem], looked: dict[str, list[int] | None]) -> tuple[Collection, kept.Makings]:
    """Every file of ``found``, read or taken from the file cache, and the whole publication's steps after.

    ``feeds``: each feed's settings and the context its files' cache rows are valid in, by name;
    ``listing``: ``found`` as the kept collection notes it (kept.listing).
    """
    articles: list[Article] = []
    seen_paths: list[str] = []
    documents: list[str] = []   # not articles: a problem unless an article links to them
    file_problems: dict[str, list[Problem]] = {}
    looks = []                  # per feed, what is known of its files without reading them
    to_read: list[tuple] = []   # the files to read, of every feed: their readers start on all at once
    home = str(pub.root)
    for feed, files in found:
        looks.append(look_all(store, home, feed.name, feeds[feed.name][1], files, reads, to_read, documents))
        seen_paths += files.origins
    done = 0
    with Readers(read_changed, (pub.site, feeds, home), reads.workers, closing=held_lock_files()) as readers:
        fresh = readers.read_all(to_read)
        for (feed, files), looked_up in zip(found, looks, strict=True):
            for origin, stamp in files:
                done += 1
                if progress:
                    progress(done, total, origin)
                result = looked_up.get(origin)
                got, trouble = result if result is not None else take(origin, stamp, next(fresh), reads)
                articles += got
                problems += trouble
                if trouble:
                    file_problems[origin] = trouble
                if len(reads.pending) >= CACHE_BATCH:
                    save_reads(store, reads.pending)
            for source in feed.sources:
                got, trouble = _read_source(store, pub, feed, source, now)
                articles += got
                problems += trouble
            for page in feed.pages:
                got, trouble = _read_source(store, pub, feed, page, now, kind="html")
                articles += got
                problems += trouble
    save_reads(store, reads.pending)
    to_read.clear()
    filecache.forget_others(store, seen_paths)
    del seen_paths
    entangled: set[str] = set()
    articles, link_problems = link_local_files(pub, articles, looked, entangled)
    problems += link_problems
    linked = {f.source for a in articles for f in a.local_files}
    unlinked = [Problem(origin, f"'{PurePosixPath(origin).suffix}' files are not articles: skipped (masthead reads "
                                f"{', '.join(sorted(READERS))}); link to it from an article to publish it")
                for origin in documents if origin not in linked]
    problems += unlinked
    drafts = tuple(a for a in articles if a.draft)
    unique, duplicate_problems = dedupe([a for a in articles if not a.draft], reads.folded)
    reads.folded.clear()        # a large archive's titles: not needed past here
    problems += duplicate_problems
    # What normalising noted on single articles is reported per file too (and counts for --strict).
    problems += [Problem(a.origin, note) for a in (*unique, *drafts) for note in a.problems]
    known = known_articles.remember(store, unique, now)
    dated = [a if a.published is not None else
             replace(a, published=known.first_seen[a.id], precision="second") for a in unique]
    clean, repairs = sanitise_articles(dated, repaired=True)   # each was repaired as its file was read
    makings = kept.Makings(
        str(pub.feeds_dir), listing, file_problems, kept.by_file(link_problems), entangled,
        blocked=bool(unlinked or duplicate_problems or repairs))
    return Collection(articles=clean, problems=(*problems, *repairs),
                      new_ids=known.new_ids, changed_ids=known.changed_ids, drafts=drafts), makings


def _context(site: SiteSettings, feed: FeedSettings) -> str:
    """What a cached result depends on besides the file: settings and the code's version."""
    return f"{CACHE_VERSION}|{__version__}|{site.base_url}|{site.timezone.key}|{feed.name}|{feed.language}"


def _origin(pub: Publication, root: str, path: str) -> str:
    """``pub.relative(Path(path))`` without building paths: files found under feeds/ all lie under the root."""
    if root and path.startswith(root):      # the walk joins names to a Path's text: no '//', no '/./'
        return path[len(root):]
    return pub.relative(Path(path))


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
        return [], [Problem(exc.where or source, problem_text(exc), fatal=True)]
    except OSError as exc:
        return [], [Problem(f"feeds/{feed.name}/{FEED_FILE}: sources",
                            f"cannot read {source!r}: {exc.strerror}; fix the path", fatal=True)]
    got, trouble = read_articles(data, origin, kind, feed, pub.site)
    finished, repairs = finish_file(got)
    return finished, [*stale, *trouble, *repairs]
