"""Table ``http_cache``: the last good copy of each upstream URL, with its HTTP validators and when it came."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from .db import Store, stamp, unstamp


class CachedResponse(NamedTuple):
    etag: str | None
    last_modified: str | None
    body: bytes | None
    fetched: datetime | None = None   # the last time the upstream answered (200 or 304)


def get(store: Store, url: str) -> CachedResponse | None:
    row = store.one("SELECT etag, last_modified, body, fetched FROM http_cache WHERE url = :url", {"url": url})
    if row is None:
        return None
    return CachedResponse(row["etag"], row["last_modified"], bytes(row["body"]) if row["body"] is not None else None,
                          unstamp(row["fetched"]) if row["fetched"] else None)


def put(store: Store, url: str, etag: str | None, last_modified: str | None, body: bytes,
        fetched: datetime | None = None) -> None:
    with store.transaction():
        store.execute(
            "INSERT INTO http_cache (url, etag, last_modified, body, fetched) "
            "VALUES (:url, :etag, :last_modified, :body, :fetched) "
            "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
            "body = excluded.body, fetched = excluded.fetched",
            {"url": url, "etag": etag, "last_modified": last_modified, "body": body,
             "fetched": stamp(fetched) if fetched else None})


def confirmed(store: Store, url: str, fetched: datetime | None) -> None:
    """The upstream answered 304: the copy kept is current as of ``fetched``."""
    if fetched is not None:
        with store.transaction():
            store.execute("UPDATE http_cache SET fetched = :fetched WHERE url = :url",
                          {"url": url, "fetched": stamp(fetched)})
