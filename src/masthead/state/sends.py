"""Tables ``sends`` and ``send_plans``: each (digest, address) copy and its state.

A copy moves pending -> sending -> sent / failed, or back to pending on a
temporary failure, or to cancelled (send/delivery.py explains why 'sending'
is written just before the final dot). ``send_plans`` fixes, once per digest,
who gets it and the content every copy carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from .db import Store, stamp

PAGE = 500          # pending rows read at a time: memory stays flat


def plan(store: Store, digest_id: str, emails: Iterable[str], content: str, *, now: datetime) -> bool:
    """Fix the recipients and content of a digest; False when it was planned before."""
    moment = stamp(now)
    with store.transaction():
        if store.one("SELECT 1 FROM send_plans WHERE digest_id = ?", (digest_id,)):
            return False
        rows = [(digest_id, email, moment) for email in emails]
        store.executemany("INSERT INTO sends (digest_id, email, status, updated) VALUES (?, ?, 'pending', ?) "
                          "ON CONFLICT (digest_id, email) DO NOTHING", rows)
        store.execute("INSERT INTO send_plans (digest_id, planned, recipients, content) VALUES (?, ?, ?, ?)",
                      (digest_id, moment, len(rows), content))
    return True


def planned_content(store: Store, digest_id: str) -> str | None:
    """The content kept when the digest was planned, or None."""
    value: str | None = store.scalar("SELECT content FROM send_plans WHERE digest_id = ?", (digest_id,))
    return value


def pending_digest_ids(store: Store) -> list[str]:
    """Digests that still have someone to send to, oldest plan first."""
    return [r[0] for r in store.rows(
        "SELECT p.digest_id FROM send_plans p WHERE EXISTS (SELECT 1 FROM sends s "
        "WHERE s.digest_id = p.digest_id AND s.status = 'pending') ORDER BY p.planned, p.digest_id")]


def pending(store: Store, digest_id: str) -> Iterator[str]:
    """The addresses of the digest's pending copies, a page at a time (re-read as they change)."""
    after = ""
    while True:
        page = [r[0] for r in store.rows(
            "SELECT email FROM sends WHERE digest_id = ? AND status = 'pending' AND email > ? "
            "ORDER BY email LIMIT ?", (digest_id, after, PAGE))]
        if not page:
            return
        yield from page
        after = page[-1]


class Change(NamedTuple):
    """A copy's move to ``status``, applied only while the row is still ``was`` (compare-and-set)."""

    status: str
    reply: str
    when: datetime
    attempted: bool
    digest_id: str
    email: str
    was: str


def update(store: Store, changes: Sequence[Change]) -> None:
    """Apply changes, in the caller's transaction; a row no longer in its ``was`` state is left alone."""
    store.executemany("UPDATE sends SET status = :status, reply = :reply, updated = :updated, "
                      "attempts = attempts + :attempted "
                      "WHERE digest_id = :digest_id AND email = :email AND status = :was",
                      [{"status": c.status, "reply": c.reply, "updated": stamp(c.when), "attempted": int(c.attempted),
                        "digest_id": c.digest_id, "email": c.email, "was": c.was} for c in changes])


def mark_sending(store: Store, digest_id: str, email: str, message_id: str, *, now: datetime) -> bool:
    """Claim the copy: pending -> sending, in the caller's transaction. False when it was not pending.

    A compare-and-set on the old status: of two senders racing on one copy,
    exactly one changes the row and may send the final dot.
    """
    cursor = store.execute("UPDATE sends SET status = 'sending', message_id = :message_id, updated = :updated "
                           "WHERE digest_id = :digest_id AND email = :email AND status = 'pending'",
                           {"message_id": message_id, "updated": stamp(now), "digest_id": digest_id,
                            "email": email})
    return cursor.rowcount == 1


def still_pending(store: Store, digest_id: str, email: str) -> bool:
    """Whether the copy is still waiting to be sent (read fresh)."""
    return store.one("SELECT 1 FROM sends WHERE digest_id = :digest_id AND email = :email AND status = 'pending'",
                     {"digest_id": digest_id, "email": email}) is not None


def resend_uncertain(store: Store, digest_id: str, *, now: datetime) -> int:
    """Put 'sending' copies of a digest back to 'pending'; how many."""
    with store.transaction():
        count: int = store.execute("UPDATE sends SET status = 'pending', updated = ? "
                                   "WHERE digest_id = ? AND status = 'sending'",
                                   (stamp(now), digest_id)).rowcount
    return count


def status_counts(store: Store, digest_id: str) -> dict[str, int]:
    """How many copies of a digest are in each state."""
    return {r[0]: r[1] for r in store.rows(
        "SELECT status, count(*) FROM sends WHERE digest_id = ? GROUP BY status", (digest_id,))}


def forget_address(store: Store, email: str) -> None:
    """Drop every copy record of an address (an erasure request)."""
    with store.transaction():
        store.execute("DELETE FROM sends WHERE email = ?", (email,))
