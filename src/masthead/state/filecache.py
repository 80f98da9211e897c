"""Tables ``files`` and ``collections``: the collector's caches.

``files``: what each article file gave when it was last read. ``result``
holds the articles' records and problems, ``bodies`` the articles' bodies
(JSON: id -> [html, text]), apart, so that a run reads the records of every
file and the bodies of only the articles it renders.

``collections`` and ``collected``: the last whole collection and a fingerprint
of what it was made from, so that a run in which no file changed takes it as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

from .db import Store, marks


class CachedFile(NamedTuple):
    size: int
    mtime_ns: int
    hash: str
    result: str          # JSON written by the collector
    bodies: str | None = None   # JSON written by the collector; None when not asked for


def cached(store: Store, path: str) -> CachedFile | None:
    row = store.one("SELECT size, mtime_ns, hash, result, bodies FROM files WHERE path = :path", {"path": path})
    return CachedFile(*row) if row is not None else None


def cached_many(store: Store, paths: Sequence[str], *, bodies: bool = True) -> dict[str, CachedFile]:
    """The rows of ``paths`` (those the cache has), in one query: a batch of a folder walk, not a table scan.

    ``bodies=False`` leaves the bodies in the database (``CachedFile.bodies`` is None).
    """
    if not paths:
        return {}
    among, names = marks(paths)
    columns = "path, size, mtime_ns, hash, result" + (", bodies" if bodies else "")
    rows = store.rows(f"SELECT {columns} FROM files WHERE path IN ({among})", names)
    return {row[0]: CachedFile(*tuple(row)[1:]) for row in rows}


def bodies_of(store: Store, paths: Sequence[str]) -> dict[str, str]:
    """The ``bodies`` JSON of each of ``paths`` the cache has, in one query."""
    if not paths:
        return {}
    among, names = marks(paths)
    rows = store.rows(f"SELECT path, bodies FROM files WHERE path IN ({among})", names)
    return {row[0]: row[1] for row in rows}


def save(store: Store, rows: Iterable[tuple[str, int, int, str, str, str | None]]) -> None:
    """(path, size, mtime_ns, hash, result, bodies) rows, in one transaction.

    A row whose bodies are None keeps the bodies stored (the same bytes, read again).
    """
    whole: list[dict[str, object]] = []
    kept: list[dict[str, object]] = []
    for path, size, mtime_ns, digest, result, bodies in rows:
        row = {"path": path, "size": size, "mtime_ns": mtime_ns, "hash": digest, "result": result}
        if bodies is None:
            kept.append(row)
        else:
            whole.append({**row, "bodies": bodies})
    with store.transaction():
        if whole:
            store.executemany(
                "INSERT INTO files (path, size, mtime_ns, hash, result, bodies) "
                "VALUES (:path, :size, :mtime_ns, :hash, :result, :bodies) "
                "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "hash = excluded.hash, result = excluded.result, bodies = excluded.bodies", whole)
        if kept:
            store.executemany("UPDATE files SET size = :size, mtime_ns = :mtime_ns, hash = :hash, "
                              "result = :result WHERE path = :path", kept)


def forget_others(store: Store, seen: Iterable[str]) -> None:
    """Drop the rows of files not in ``seen`` (deleted or moved since the last run)."""
    keep = set(seen)
    with store.transaction(serial=False):      # a read: the rows streamed, not every path at once
        gone = [{"path": path} for (path,) in store.stream("SELECT path FROM files") if path not in keep]
    if gone:
        with store.transaction():
            store.executemany("DELETE FROM files WHERE path = :path", gone)


def last_collection(store: Store) -> tuple[str, str] | None:
    """(inputs fingerprint, content JSON) of the last collection kept, or None."""
    row = store.one("SELECT inputs, content FROM collections WHERE name = 'last'")
    return (row[0], row[1]) if row is not None else None


def collected(store: Store) -> Iterator[str]:
    """The articles of the last collection kept, in order: JSON arrays of records, one query each."""
    last = -1
    while True:          # a row at a time: never every article's JSON at once
        row = store.one("SELECT position, records FROM collected WHERE position > :last ORDER BY position LIMIT 1",
                        {"last": last})
        if row is None:
            return
        last = row[0]
        yield row[1]


def keep_collection(store: Store, inputs: str, chunks: Iterable[tuple[str, str]], content: Callable[[], str]) -> None:
    """Replace the collection kept: its fingerprint, articles and content, in one transaction.

    ``chunks``: (digest, JSON array of records) in order. A row whose digest is
    the one stored is left as it is: a run that changed one article rewrites
    the row holding it, not the whole collection. ``content`` is made once the
    chunks are written (a large archive's makes neither wait in memory for the other).
    """
    with store.transaction():
        stored = {row[0]: row[1] for row in store.rows("SELECT position, digest FROM collected")}
        count = 0
        for n, (digest, records) in enumerate(chunks):
            count = n + 1
            if stored.get(n) != digest:
                store.execute("INSERT INTO collected (position, records, digest) VALUES (:position, :records, :digest) "
                              "ON CONFLICT (position) DO UPDATE SET records = excluded.records, "
                              "digest = excluded.digest", {"position": n, "records": records, "digest": digest})
        if any(n >= count for n in stored):
            store.execute("DELETE FROM collected WHERE position >= :count", {"count": count})
        store.execute("INSERT INTO collections (name, inputs, content) VALUES ('last', :inputs, :content) "
                      "ON CONFLICT (name) DO UPDATE SET inputs = excluded.inputs, content = excluded.content",
                      {"inputs": inputs, "content": content()})
