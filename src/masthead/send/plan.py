"""The send log's plans: which digests go to whom, with the content every copy carries.

A digest is planned once: its recipients (the feed's active subscribers at
that moment) become 'pending' rows in ``sends`` and its rendered content is
kept in ``send_plans``, so a later ``masthead send`` or a retry sends the very
same issue. The states a row then moves through are described in delivery.py.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..records import Digest
from ..state.db import Store, stamp


def plan(store: Store, digest: Digest, *, now: datetime) -> bool:
    """Fix the recipients of ``digest`` (active subscribers of its feed) and keep its content.

    Every copy, in this run or a later ``masthead send``, carries the content
    kept here. False when the digest was planned before.
    """
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM send_plans WHERE digest_id = ?", (digest.id,)).fetchone():
            return False
        cursor = db.execute(
            "INSERT OR IGNORE INTO sends (digest_id, email, status, updated) "
            "SELECT ?, s.email, 'pending', ? FROM subscribers s "
            "JOIN subscriptions f ON f.email = s.email WHERE f.feed = ? AND s.status = 'active'",
            (digest.id, stamp(now), digest.feed))
        db.execute("INSERT INTO send_plans (digest_id, planned, recipients, content) VALUES (?, ?, ?, ?)",
                   (digest.id, stamp(now), cursor.rowcount, _dump(digest)))
    return True


def _dump(digest: Digest) -> str:
    return json.dumps({"id": digest.id, "feed": digest.feed, "subject": digest.subject,
                       "period_start": digest.period_start.isoformat(),
                       "period_end": digest.period_end.isoformat(),
                       "article_ids": list(digest.article_ids), "html": digest.html,
                       "text": digest.text, "shown": digest.shown}, ensure_ascii=False)


def planned_digest(store: Store, digest_id: str) -> Digest | None:
    """The digest as it was planned (the content its copies carry), or None."""
    row = store.db.execute("SELECT content FROM send_plans WHERE digest_id = ?", (digest_id,)).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return Digest(id=data["id"], feed=data["feed"], subject=data["subject"],
                  period_start=datetime.fromisoformat(data["period_start"]),
                  period_end=datetime.fromisoformat(data["period_end"]),
                  article_ids=tuple(data["article_ids"]), html=data["html"], text=data["text"],
                  shown=data.get("shown", 0))


def pending_digest_ids(store: Store) -> list[str]:
    """Digests that still have someone to send to, oldest plan first."""
    return [r[0] for r in store.db.execute(
        "SELECT p.digest_id FROM send_plans p WHERE EXISTS (SELECT 1 FROM sends s "
        "WHERE s.digest_id = p.digest_id AND s.status = 'pending') ORDER BY p.planned, p.digest_id")]


def resend_uncertain(store: Store, digest_id: str, *, now: datetime) -> int:
    """Put 'sending' rows of a digest back to 'pending' (after checking the server's log)."""
    with store.transaction() as db:
        return db.execute("UPDATE sends SET status = 'pending', updated = ? "
                          "WHERE digest_id = ? AND status = 'sending'",
                          (stamp(now), digest_id)).rowcount


def status_counts(store: Store, digest_id: str) -> dict[str, int]:
    """How many copies of a digest are in each state."""
    return {r[0]: r[1] for r in store.db.execute(
        "SELECT status, count(*) FROM sends WHERE digest_id = ? GROUP BY status", (digest_id,))}
