"""Tables ``meta`` and ``pages``: what the last feeds build was made from and wrote.

``meta`` holds the fingerprint of the last build's input, the feeds it wrote
and every file it produced; ``pages`` holds, per article page and per archive
page (its rss.xml), the key of what it was rendered from. They are written only after the files they describe.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from .db import Store

INPUT = "feeds_input"
FEEDS = "feeds_built"      # the FeedOutputs (without contents) of that build, as JSON
FILES = "feeds_files"      # the other files that build produced (``pages`` has its pages): stale ones go


def _meta(store: Store, key: str) -> str | None:
    value: str | None = store.scalar("SELECT value FROM meta WHERE key = :key", {"key": key})
    return value


def last_input(store: Store) -> str | None:
    return _meta(store, INPUT)


def last_feeds(store: Store) -> list[Any] | None:
    value = _meta(store, FEEDS)
    return json.loads(value) if value is not None else None


def last_files(store: Store) -> set[str]:
    """The files the last build produced but its pages (``page_keys`` has those)."""
    value = _meta(store, FILES)
    return set(json.loads(value)) if value is not None else set()


def page_paths(store: Store) -> list[str]:
    return [path for (path,) in store.rows("SELECT path FROM pages")]


def page_keys(store: Store) -> dict[str, str]:
    """Every page's key, in one query: a run checks them all."""
    return {row[0]: row[1] for row in store.rows("SELECT path, key FROM pages")}


def record(store: Store, fingerprint: str, feeds: list[Any], pages: Iterable[tuple[str, str]],
           files: Iterable[str], previous: dict[str, str] | None = None) -> None:
    """Remember a finished build: its input fingerprint, feeds, page keys and files.

    ``pages``: (path, key) of every page, taken one at a time (a large archive
    has one per article); ``files``: the other files it produced. ``previous``: the page keys as ``page_keys`` gave
    them before this build; then only the rows that differ are written.
    """
    upsert = ("INSERT INTO meta (key, value) VALUES (:key, :value) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    paths: set[str] = set()

    def changed() -> Iterator[dict[str, str]]:
        for path, key in pages:
            if previous:            # none before (a first build): no page to compare, none to delete
                paths.add(path)
                if previous.get(path) == key:
                    continue
            yield {"path": path, "key": key}

    with store.transaction():
        if previous is None:
            store.execute("DELETE FROM pages")
        store.executemany("INSERT INTO pages (path, key) VALUES (:path, :key) "
                          "ON CONFLICT (path) DO UPDATE SET key = excluded.key", changed())
        if previous:
            store.executemany("DELETE FROM pages WHERE path = :path",
                              [{"path": path} for path in previous if path not in paths])
        store.executemany(upsert, [{"key": FILES, "value": orjson.dumps(sorted(files)).decode()},
                                   {"key": INPUT, "value": fingerprint},
                                   {"key": FEEDS, "value": json.dumps(feeds)}])
