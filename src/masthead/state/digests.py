"""Table ``digests``: each digest made, its period and the articles it holds."""

from __future__ import annotations

import json
from datetime import datetime

from ..records import Digest
from .db import Store, stamp, unstamp


def articles_of(store: Store, digest_id: str) -> list[str] | None:
    """The article ids a digest was made with, or None when it was never made."""
    row = store.one("SELECT article_ids FROM digests WHERE id = :id", {"id": digest_id})
    return None if row is None else list(json.loads(row["article_ids"]))


def held_by_others(store: Store, feed: str, digest_id: str) -> set[str]:
    """Every article id held by the feed's other digests."""
    held: set[str] = set()
    for (ids,) in store.rows("SELECT article_ids FROM digests WHERE feed = :feed AND id <> :id",
                             {"feed": feed, "id": digest_id}):
        held.update(json.loads(ids))
    return held


def record(store: Store, digest: Digest, now: datetime) -> None:
    """Remember the digest and its articles; a digest already recorded stays as first made."""
    with store.transaction():
        store.execute(
            "INSERT INTO digests (id, feed, period_start, period_end, created, subject, article_ids)"
            " VALUES (:id, :feed, :start, :end, :now, :subject, :articles) ON CONFLICT (id) DO NOTHING",
            {"id": digest.id, "feed": digest.feed, "start": stamp(digest.period_start),
             "end": stamp(digest.period_end), "now": stamp(now), "subject": digest.subject,
             "articles": json.dumps(list(digest.article_ids), ensure_ascii=False)})


def created_at(store: Store, digest_id: str) -> datetime | None:
    """When the digest was first made, or None."""
    value = store.scalar("SELECT created FROM digests WHERE id = :id", {"id": digest_id})
    return unstamp(value) if value else None


def latest(store: Store, feed: str | None = None) -> str | None:
    """The id of the digest with the latest period (of ``feed``, or of any feed)."""
    value: str | None = store.scalar(
        "SELECT id FROM digests WHERE (:feed IS NULL OR feed = :feed) ORDER BY period_end DESC, id LIMIT 1",
        {"feed": feed})
    return value
