"""Table ``articles``: every article collected, when it was first seen and when it last changed."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from datetime import datetime

from ..records import Article, Ids
from .db import Store, marks, stamp, unstamp
from .engine import MANY

FEW = 500      # articles remembered at most by one query on their ids rather than a read of the table


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the state knew of this run's articles."""

    first_seen: dict[str, datetime]                     # id -> first collected, of the undated: their date
    new_ids: Set[str] = field(default_factory=Ids)
    changed_ids: Set[str] = field(default_factory=Ids)


def remember(store: Store, articles: Iterable[Article], now: datetime) -> Remembered:
    """Record every article (new ones as seen ``now``, edited ones as changed ``now``).

    One query reads what the state knows of every article (of just these, when
    they are few: a run that patched its collection remembers its new ones);
    the new and the edited ones are then written a batch at a time, in one
    transaction (a first run over a large archive holds a batch of rows, not
    one per article).
    """
    articles = list(articles)
    moment = stamp(now)
    first_seen: dict[str, datetime] = {}
    new_ids: list[str] = []
    added: list[dict[str, str | None]] = []
    edited: list[dict[str, str]] = []
    seen_now = unstamp(moment)
    stamps: dict[str, datetime] = {}          # one datetime per distinct stamp: most articles share few
    insert = ("INSERT INTO articles (id, feed, origin, content_hash, first_seen, changed, published) "
              "VALUES (:id, :feed, :origin, :hash, :now, :now, :published)")
    with store.transaction():
        if len(articles) <= FEW:
            among, names = marks([a.id for a in articles])
            rows = store.rows(f"SELECT id, content_hash, first_seen FROM articles WHERE id IN ({among})", names) \
                if articles else []
        else:
            rows = store.rows("SELECT id, content_hash, first_seen FROM articles")
        known = {row[0]: (row[1], row[2]) for row in rows}
        del rows
        for article in articles:
            row = known.get(article.id)
            if row is None:
                if article.published is None:
                    first_seen[article.id] = seen_now
                new_ids.append(article.id)
                added.append({"id": article.id, "feed": article.feed, "origin": article.origin,
                              "hash": article.content_hash, "now": moment,
                              "published": stamp(article.published) if article.published else None})
                if len(added) >= MANY:
                    store.executemany(insert, added)
                    added.clear()
                continue
            content_hash, seen = row
            if article.published is None:
                when = stamps.get(seen)
                if when is None:
                    when = stamps[seen] = unstamp(seen)
                first_seen[article.id] = when
            if content_hash != article.content_hash:
                edited.append({"hash": article.content_hash, "now": moment, "origin": article.origin,
                               "id": article.id})
        store.executemany(insert, added)
        store.executemany("UPDATE articles SET content_hash = :hash, changed = :now, origin = :origin "
                          "WHERE id = :id", edited)
    return Remembered(first_seen, Ids(new_ids), Ids(e["id"] for e in edited))


def first_seen(store: Store) -> dict[str, datetime]:
    """When each known article was first collected."""
    return {row["id"]: unstamp(row["first_seen"]) for row in store.rows("SELECT id, first_seen FROM articles")}
