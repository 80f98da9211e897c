"""Table ``files``: what each article file gave when it was last read (the collector's cache)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .db import Store


class CachedFile(NamedTuple):
    size: int
    mtime_ns: int
    hash: str
    result: str          # JSON written by the collector


def cached(store: Store, path: str) -> CachedFile | None:
    row = store.one("SELECT size, mtime_ns, hash, result FROM files WHERE path = :path", {"path": path})
    return CachedFile(*row) if row is not None else None


def cached_many(store: Store, paths: Sequence[str]) -> dict[str, CachedFile]:
    """The rows of ``paths`` (those the cache has), in one query: a batch of a folder walk, not a table scan."""
    if not paths:
        return {}
    names = {f"p{i}": path for i, path in enumerate(paths)}
    marks = ", ".join(f":{name}" for name in names)
    rows = store.rows(f"SELECT path, size, mtime_ns, hash, result FROM files WHERE path IN ({marks})", names)
    return {path: CachedFile(size, mtime_ns, digest, result) for path, size, mtime_ns, digest, result in rows}


def save(store: Store, rows: Iterable[tuple[str, int, int, str, str]]) -> None:
    """(path, size, mtime_ns, hash, result) rows, in one transaction."""
    with store.transaction():
        store.executemany(
            "INSERT INTO files (path, size, mtime_ns, hash, result) VALUES (:path, :size, :mtime_ns, :hash, :result) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "hash = excluded.hash, result = excluded.result",
            [{"path": p, "size": s, "mtime_ns": m, "hash": h, "result": r} for p, s, m, h, r in rows])


def forget_others(store: Store, seen: Iterable[str]) -> None:
    """Drop the rows of files not in ``seen`` (deleted or moved since the last run)."""
    keep = set(seen)
    gone = [{"path": path} for (path,) in store.rows("SELECT path FROM files") if path not in keep]
    if gone:
        with store.transaction():
            store.executemany("DELETE FROM files WHERE path = :path", gone)
