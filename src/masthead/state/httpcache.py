"""Table ``http_cache``: the last good copy of each upstream URL, with its HTTP validators."""

from __future__ import annotations

from typing import NamedTuple

from .db import Store


class CachedResponse(NamedTuple):
    etag: str | None
    last_modified: str | None
    body: bytes | None


def get(store: Store, url: str) -> CachedResponse | None:
    row = store.one("SELECT etag, last_modified, body FROM http_cache WHERE url = :url", {"url": url})
    if row is None:
        return None
    return CachedResponse(row["etag"], row["last_modified"], bytes(row["body"]) if row["body"] is not None else None)


def put(store: Store, url: str, etag: str | None, last_modified: str | None, body: bytes) -> None:
    with store.transaction():
        store.execute(
            "INSERT INTO http_cache (url, etag, last_modified, body) VALUES (:url, :etag, :last_modified, :body) "
            "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
            "body = excluded.body", {"url": url, "etag": etag, "last_modified": last_modified, "body": body})
