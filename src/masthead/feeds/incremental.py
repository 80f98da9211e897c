"""Work in proportion to what changed: fingerprints of what the feeds are built from.

A run where no article, setting, template or masthead version changed skips
the feeds stage entirely (the manifest already lists what is on disk); a run
with one new article renders one new article page, not all of them. The
fingerprints are written to the state only after the files they describe were
written, so a run killed in between simply rebuilds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from .. import __version__
from ..config import Publication
from ..records import Article, FeedOutput
from ..state.db import Store

FEEDS_KEY = "feeds_input"
FEEDS_LIST = "feeds_built"      # the FeedOutputs (without contents) of that build, as JSON
FEEDS_FILES = "feeds_files"     # every file that build produced, to remove those no longer made


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
    rows = sorted((a.id, a.feed, a.content_hash, str(a.published), str(a.updated)) for a in articles)
    return hashlib.sha256((settings + json.dumps(rows)).encode()).hexdigest()


def page_key(settings: str, article: Article) -> str:
    return f"{article.content_hash}|{article.published}|{settings[:16]}"


class Ledger:
    """What the state remembers of the last feeds build."""

    def __init__(self, store: Store, settings: str):
        self.store = store
        self.settings = settings

    def unchanged(self, root: Path, fingerprint: str) -> bool:
        """The last build had this fingerprint and every page it wrote is still on disk."""
        row = self.store.db.execute("SELECT value FROM meta WHERE key = ?", (FEEDS_KEY,)).fetchone()
        if row is None or row["value"] != fingerprint:
            return False
        return all((root / path).is_file() for (path,) in self.store.db.execute("SELECT path FROM pages"))

    def page_is_current(self, root: Path, path: str, article: Article) -> bool:
        row = self.store.db.execute("SELECT key FROM pages WHERE path = ?", (path,)).fetchone()
        return row is not None and row["key"] == page_key(self.settings, article) and (root / path).is_file()

    def previous_files(self) -> set[str]:
        row = self.store.db.execute("SELECT value FROM meta WHERE key = ?", (FEEDS_FILES,)).fetchone()
        return set(json.loads(row["value"])) if row else set()

    def record(self, fingerprint: str, feeds: tuple[FeedOutput, ...], pages: dict[str, Article],
               files: set[str]) -> None:
        """Remember a finished build: call only after its files were written."""
        built = [[f.name, f.title, f.language, f.items, f.files, f.urls] for f in feeds]
        with self.store.transaction() as db:
            db.execute("DELETE FROM pages")
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FEEDS_FILES, json.dumps(sorted(files))))
            db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?)",
                           [(path, page_key(self.settings, a)) for path, a in pages.items()])
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FEEDS_KEY, fingerprint))
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FEEDS_LIST, json.dumps(built)))

    def previous_feeds(self, root: Path) -> tuple[FeedOutput, ...] | None:
        """The feeds the last build wrote, when every file of them is still on disk."""
        row = self.store.db.execute("SELECT value FROM meta WHERE key = ?", (FEEDS_LIST,)).fetchone()
        if row is None:
            return None
        feeds = tuple(FeedOutput(name=n, title=t, language=lang, items=i, files=f, urls=u)
                      for n, t, lang, i, f, u in json.loads(row["value"]))
        if not feeds or not all((root / p).is_file() for f in feeds for p in f.files.values()):
            return None
        return feeds
