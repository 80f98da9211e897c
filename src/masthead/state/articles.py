"""Table ``articles``: every article collected, when it was first seen and when it last changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ..records import Article
from .db import Store, stamp, unstamp


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the state knew of this run's articles."""

    first_seen: dict[str, datetime]                     # id -> first collected
    new_ids: frozenset[str] = field(default_factory=frozenset)
    changed_ids: frozenset[str] = field(default_factory=frozenset)


def remember(store: Store, articles: Iterable[Article], now: datetime) -> Remembered:
    """Record every article (new ones as seen ``now``, edited ones as changed ``now``)."""
    moment = stamp(now)
    first_seen: dict[str, datetime] = {}
    new_ids: set[str] = set()
    changed_ids: set[str] = set()
    with store.transaction():
        for article in articles:
            row = store.one("SELECT content_hash, first_seen FROM articles WHERE id = :id", {"id": article.id})
            if row is None:
                new_ids.add(article.id)
                first_seen[article.id] = unstamp(moment)
                store.execute(
                    "INSERT INTO articles (id, feed, origin, content_hash, first_seen, changed, published) "
                    "VALUES (:id, :feed, :origin, :hash, :now, :now, :published)",
                    {"id": article.id, "feed": article.feed, "origin": article.origin,
                     "hash": article.content_hash, "now": moment,
                     "published": stamp(article.published) if article.published else None})
                continue
            first_seen[article.id] = unstamp(row["first_seen"])
            if row["content_hash"] != article.content_hash:
                changed_ids.add(article.id)
                store.execute("UPDATE articles SET content_hash = :hash, changed = :now, origin = :origin "
                              "WHERE id = :id", {"hash": article.content_hash, "now": moment,
                                                 "origin": article.origin, "id": article.id})
    return Remembered(first_seen, frozenset(new_ids), frozenset(changed_ids))


def first_seen(store: Store) -> dict[str, datetime]:
    """When each known article was first collected."""
    return {row["id"]: unstamp(row["first_seen"]) for row in store.rows("SELECT id, first_seen FROM articles")}
