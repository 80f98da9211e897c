"""Table ``articles``: every article collected, when it was first seen and when it last changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ..records import Article
from .db import Store, marks, stamp, unstamp

FEW = 500      # articles remembered at most by one query on their ids rather than a read of the table


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the state knew of this run's articles."""

    first_seen: dict[str, datetime]                     # id -> first collected
    new_ids: frozenset[str] = field(default_factory=frozenset)
    changed_ids: frozenset[str] = field(default_factory=frozenset)


def remember(store: Store, articles: Iterable[Article], now: datetime) -> Remembered:
    """Record every article (new ones as seen ``now``, edited ones as changed ``now``).

    One query reads what the state knows of every article (of just these, when
    they are few: a run that patched its collection remembers its new ones);
    the new and the edited ones are then written in two batches, in one transaction.
    """
    articles = list(articles)
    moment = stamp(now)
    first_seen: dict[str, datetime] = {}
    added: list[dict[str, str | None]] = []
    edited: list[dict[str, str]] = []
    seen_now = unstamp(moment)
    stamps: dict[str, datetime] = {}          # one datetime per distinct stamp: most articles share few
    with store.transaction():
        if len(articles) <= FEW:
            among, names = marks([a.id for a in articles])
            rows = store.rows(f"SELECT id, content_hash, first_seen FROM articles WHERE id IN ({among})", names) \
                if articles else []
        else:
            rows = store.rows("SELECT id, content_hash, first_seen FROM articles")
        known = {row[0]: (row[1], row[2]) for row in rows}
        for article in articles:
            row = known.get(article.id)
            if row is None:
                first_seen[article.id] = seen_now
                added.append({"id": article.id, "feed": article.feed, "origin": article.origin,
                              "hash": article.content_hash, "now": moment,
                              "published": stamp(article.published) if article.published else None})
                continue
            content_hash, seen = row
            when = stamps.get(seen)
            if when is None:
                when = stamps[seen] = unstamp(seen)
            first_seen[article.id] = when
            if content_hash != article.content_hash:
                edited.append({"hash": article.content_hash, "now": moment, "origin": article.origin,
                               "id": article.id})
        store.executemany(
            "INSERT INTO articles (id, feed, origin, content_hash, first_seen, changed, published) "
            "VALUES (:id, :feed, :origin, :hash, :now, :now, :published)", added)
        store.executemany("UPDATE articles SET content_hash = :hash, changed = :now, origin = :origin "
                          "WHERE id = :id", edited)
    return Remembered(first_seen, frozenset(str(a["id"]) for a in added), frozenset(e["id"] for e in edited))


def first_seen(store: Store) -> dict[str, datetime]:
    """When each known article was first collected."""
    return {row["id"]: unstamp(row["first_seen"]) for row in store.rows("SELECT id, first_seen FROM articles")}
