"""Work in proportion to what changed: fingerprints of what the feeds are built from.

A run where no article, setting, template or masthead version changed skips
the feeds stage entirely (the manifest already lists what is on disk); a run
with one new article renders one new article page, not all of them, and only
the archive pages that changed (the newest of each feed, as a rule). The
fingerprints, and which article sits on which archive page, are written to the
state only after the files they describe were written, so a run killed in
between simply rebuilds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from itertools import chain, pairwise
from operator import attrgetter
from pathlib import Path

import orjson

from .. import __version__
from ..config import Publication
from ..errors import storage_error
from ..records import ArchivePage, Article, FeedOutput, Fill, Paths, Problem, by_id
from ..state import archives, builds
from ..state.atomic import Folders, atomic_write
from ..state.db import Store
from .pages import claim_pages
from .plan import feed_folders


def settings_fingerprint(pub: Publication) -> str:
    """Everything besides the articles that the feeds and pages depend on."""
    digest = hashlib.sha256(f"masthead {__version__}".encode())
    files = [pub.feeds_dir / "site.toml", *(f.folder / "feed.toml" for f in pub.feeds)]
    if pub.templates_dir.is_dir():
        files += sorted(p for p in pub.templates_dir.rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(pub.root)).encode() + b"\0" + path.read_bytes() + b"\0")
    package = resources.files("masthead").joinpath("templates")
    for item in sorted(_walk(package), key=str):
        digest.update(str(item).encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()


def _walk(folder) -> Iterable:
    for item in folder.iterdir():
        if item.is_dir():
            yield from _walk(item)
        elif not item.name.startswith("."):
            yield item


def input_fingerprint(settings: str, articles: Iterable[Article]) -> str:
    """The hash of the settings' fingerprint and the JSON array of every article's row, sorted.

    The JSON is hashed a thousand rows at a time, as the array's text would
    be, and the rows made as they are hashed: a large archive's whole array
    is never held.
    """
    ordered = sorted(articles, key=by_id)       # a collection's ids are its own: their order is the rows'
    if any(a.id == b.id for a, b in pairwise(ordered)):
        ordered.sort(key=_row)
    digest = hashlib.sha256(settings.encode())
    digest.update(b"[")
    for start in range(0, len(ordered), 1000):
        if start:
            digest.update(b",")
        digest.update(orjson.dumps([_row(a) for a in ordered[start:start + 1000]])[1:-1])
    digest.update(b"]")
    return digest.hexdigest()


_row = attrgetter("id", "feed", "content_hash", "published", "updated")


class OnDisk:
    """Which files are under a folder: one listing per folder, asked once, instead of one stat per file.

    For one run's checks, made before it writes: a file it writes is not seen.
    """

    def __init__(self, root: Path):
        self.root = str(root)
        self._folders: dict[str, frozenset[str]] = {}

    def has(self, path: str) -> bool:
        """``path`` (relative to the root, '/'-separated) is a file."""
        folder, _, name = path.rpartition("/")
        files = self._folders.get(folder)
        if files is None:
            try:
                with os.scandir(os.path.join(self.root, folder)) as listing:
                    files = frozenset(entry.name for entry in listing if entry.is_file())
            except OSError:
                files = frozenset()
            self._folders[folder] = files
        return name in files


def page_key(settings: str, article: Article) -> str:
    return f"{article.content_hash}|{article.published}|{settings[:16]}"


def archive_key(settings: str, key: str) -> str:
    return f"archive|{key}|{settings[:16]}"


class Ledger:
    """What the state remembers of the last feeds build."""

    def __init__(self, store: Store, settings: str, disk: OnDisk):
        self.store = store
        self.settings = settings
        self.disk = disk
        self._keys: dict[str, str] | None = None
        self._shelved: dict[str, list[list[str]]] | None = None   # as the last build left them

    def _page_keys(self) -> dict[str, str]:
        if self._keys is None:          # read once: a build asks for every article page's key
            self._keys = builds.page_keys(self.store)
        return self._keys

    def _key(self, path: str) -> str | None:
        return self._page_keys().get(path)

    def unchanged(self, fingerprint: str, articles: tuple[Article, ...]) -> bool:
        """The last build had this fingerprint and every page and copied file it wrote is still on disk."""
        if builds.last_input(self.store) != fingerprint:
            return False
        copies = [f.target for a in articles for f in a.local_files]
        return all(self.disk.has(path) for path in [*builds.page_paths(self.store), *copies])

    def page_is_current(self, path: str, article: Article) -> bool:
        return self._key(path) == page_key(self.settings, article) and self.disk.has(path)

    def archive_is_current(self, path: str, key: str) -> bool:
        """The archive page whose RSS file is ``path`` was written from ``key``, and its three files are there."""
        from .xmlfeeds import FILES

        folder = path.rpartition("/")[0]
        return (self._key(path) == archive_key(self.settings, key)
                and all(self.disk.has(f"{folder}/{name}") for name in FILES.values()))

    def shelved(self) -> dict[str, list[list[str]]]:
        self._shelved = archives.shelved(self.store)
        return self._shelved

    def previous_files(self) -> set[str]:
        """Every file the last build produced: its pages and the rest."""
        return builds.last_files(self.store) | self._page_keys().keys()

    def record(self, fingerprint: str, feeds: tuple[FeedOutput, ...], pages: Mapping[str, Article],
               files: Iterable[str]) -> None:
        """Remember a finished build: call only after its files were written."""
        built = [[f.name, f.title, f.language, f.items, f.files, f.urls,
                  [[a.number, a.items, a.full, a.files, a.urls] for a in f.archives], f.left_out] for f in feeds]
        keys = chain(((path, page_key(self.settings, a)) for path, a in pages.items()),
                     ((a.files["rss"], archive_key(self.settings, a.key)) for f in feeds for a in f.archives))
        with self.store.transaction():
            builds.record(self.store, fingerprint, built, keys, files, previous=self._keys)
            archives.replace(self.store, {f.name: [a.ids for a in f.archives] for f in feeds}, self._shelved)

    def previous_feeds(self, root: Path) -> tuple[FeedOutput, ...] | None:
        """The feeds the last build wrote, when every file of them is still on disk."""
        built = builds.last_feeds(self.store)
        if built is None:
            return None
        feeds = tuple(FeedOutput(name=n, title=t, language=lang, items=i, files=f, urls=u,
                                 archives=tuple(ArchivePage(number=number, items=items, full=full, files=files,
                                                            urls=urls)
                                                for number, items, full, files, urls in (rest[0] if rest else [])),
                                 left_out=rest[1] if len(rest) > 1 else 0)
                      for n, t, lang, i, f, u, *rest in built)
        paths = [p for f in feeds for p in f.files.values()] + [p for f in feeds for a in f.archives
                                                                 for p in a.files.values()]
        if not feeds or not all((root / p).is_file() for p in paths):
            return None
        return feeds


def _copy_local_files(pub: Publication, articles: tuple[Article, ...], made: set[str], pages: Mapping[str, Article],
                      folders: Folders) -> dict[str, bool]:
    """Copy the files articles refer to into output/, beside their pages: {target: whether it was written}.

    A file the feeds stage itself makes at the same path (in ``made``, or an
    article's page) wins; a source gone since it was collected is skipped (the
    next run reports the broken link).
    """
    copied: dict[str, bool] = {}
    for local in sorted({f for a in articles for f in a.local_files}, key=lambda f: f.target):
        if local.target in made or local.target in pages or local.target in copied:
            continue
        try:
            data = (pub.root / local.source).read_bytes()
        except OSError:
            continue
        copied[local.target] = atomic_write(pub.root / local.target, data, folders=folders)
    return copied


@dataclass(frozen=True, slots=True)
class Written:
    """What writing the feeds did: the feeds, and the files written and removed (relative paths)."""

    feeds: tuple[FeedOutput, ...]
    changed: Sequence[str] = ()
    removed: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()   # articles whose page would collide with another page


def write_feeds(pub: Publication, store: Store, articles: tuple[Article, ...], now: datetime,
                folders: Folders | None = None, fill: Fill = list) -> Written:
    """Build and write the feeds, skipping what the last build already wrote.

    Files a build no longer makes (an article deleted, a tag gone) are removed
    from output/; the state records the build only after the disk holds it.
    With ``folders`` (the run's), the folders written into are fsynced by its
    ``sync`` together with the rest of the run's, and the build is recorded
    then; without, before this returns. ``fill`` gives articles their bodies
    (a lean collection's), for those rendered only.
    """
    ledger = Ledger(store, settings_fingerprint(pub), OnDisk(pub.root))
    fingerprint = input_fingerprint(ledger.settings, articles)
    pages, collisions = claim_pages(pub.site, feed_folders(pub, articles), articles)
    if ledger.unchanged(fingerprint, articles):
        previous = ledger.previous_feeds(pub.root)
        if previous is not None:
            return Written(previous, problems=tuple(collisions))
    from .build import build_feeds  # feedgen, lxml and the templates: only when something is built

    changed: list[str] = []
    made: set[str] = set()          # the files written but the article pages (``pages`` has those)
    batch = folders if folders is not None else Folders()

    def write(path: str, content: bytes) -> None:      # each file as soon as it is rendered
        page = path in pages
        if not page:
            made.add(path)
        if atomic_write(pub.root / path, content, folders=batch):
            changed.append(pages.key(path) if page else path)   # a page: held by its URL, not a path more
    feeds = tuple(build_feeds(pub, articles, now, ledger.page_is_current,
                              shelved=ledger.shelved(),
                              archive_is_current=ledger.archive_is_current,
                              sink=write, fill=fill, owners=pages))
    copied = _copy_local_files(pub, articles, made, pages, batch)
    changed += [path for path, written in copied.items() if written]
    made |= {path for feed in feeds for page in feed.archives for path in page.files.values()}
    # What this build produced: the article pages, the rest of what it wrote or left as it was, the copies
    # (not gathered into one set: a large archive has a page per article, and the state notes those apart).
    stale = sorted(p for p in ledger.previous_files()
                   if p.startswith("output/") and p not in pages and p not in made and p not in copied)
    for path in stale:
        try:
            (pub.root / path).unlink(missing_ok=True)
        except OSError as exc:
            raise storage_error(exc, pub.root / path, "remove this file the site no longer has") from None
        batch.add((pub.root / path).parent)
    batch.then(lambda: ledger.record(fingerprint, feeds, pages, chain(made, copied)))
    if folders is None:
        batch.sync()
    return Written(feeds, Paths(changed, path=pages.path_of), tuple(stale), tuple(collisions))
