"""Tables ``sends`` and ``send_plans``: each (digest, address) copy, its state and who is sending it.

A copy moves pending -> sending -> sent / failed, or back to pending on a
temporary failure, or to cancelled (send/delivery.py explains why 'sending'
is written just before the final dot). ``send_plans`` fixes, once per digest,
who gets it and the content every copy carries.

Senders (``masthead run``, ``masthead send``, and any number of ``masthead
send --worker`` on any machine) claim pending copies in batches: the claim
names the sender and lasts until a moment (its lease), renewed while the
sender works. Once a lease has run out (its sender died) the copies are free
for anyone. Every change a sender makes to a copy is a compare-and-set on the
copy's status and on its own claim: a sender that lost its claim (stalled
past the lease) changes nothing and sends nothing, so a copy goes once
whoever ends up holding it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from .db import Store, stamp

PAGE = 500          # pending rows read at a time: memory stays flat


class Change(NamedTuple):
    """A copy's move to ``status``, applied only while the row is still ``was`` (compare-and-set)."""

    status: str
    reply: str
    when: datetime
    attempted: bool
    digest_id: str
    email: str
    was: str


def plan(store: Store, digest_id: str, emails: Iterable[str], content: str, *, now: datetime) -> bool:
    """Fix the recipients and content of a digest; False when it was planned before."""
    moment = stamp(now)
    with store.transaction():
        if store.one("SELECT 1 FROM send_plans WHERE digest_id = :digest", {"digest": digest_id}):
            return False
        rows = [{"digest": digest_id, "email": email, "now": moment} for email in emails]
        store.executemany("INSERT INTO sends (digest_id, email, status, updated) "
                          "VALUES (:digest, :email, 'pending', :now) ON CONFLICT (digest_id, email) DO NOTHING", rows)
        store.execute("INSERT INTO send_plans (digest_id, planned, recipients, content) "
                      "VALUES (:digest, :now, :recipients, :content)",
                      {"digest": digest_id, "now": moment, "recipients": len(rows), "content": content})
    return True


def planned_content(store: Store, digest_id: str) -> str | None:
    """The content kept when the digest was planned, or None."""
    value: str | None = store.scalar("SELECT content FROM send_plans WHERE digest_id = :digest",
                                     {"digest": digest_id})
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
            "SELECT email FROM sends WHERE digest_id = :digest AND status = 'pending' AND email > :after "
            "ORDER BY email LIMIT :limit", {"digest": digest_id, "after": after, "limit": PAGE})]
        if not page:
            return
        yield from page
        after = page[-1]


def claim(store: Store, digest_id: str, worker: str, *, after: str, limit: int, now: datetime,
          until: datetime) -> list[str]:
    """Claim for ``worker`` up to ``limit`` free pending copies of the digest past address ``after``.

    Free: never claimed, released, or claimed under a lease that ran out
    before ``now``. The claim lasts until ``until``. Returns the addresses, in
    order. On PostgreSQL, rows another worker is claiming at this instant are
    skipped rather than waited for (SKIP LOCKED).
    """
    rows = store.rows(
        "WITH picked AS (SELECT digest_id, email FROM sends WHERE digest_id = :digest AND status = 'pending' "
        "AND email > :after AND (claimed_until IS NULL OR claimed_until < :now) "
        f"ORDER BY email LIMIT :limit{store.skip_locked}) "
        "UPDATE sends SET claimed_by = :worker, claimed_until = :until FROM picked "
        "WHERE sends.digest_id = picked.digest_id AND sends.email = picked.email RETURNING sends.email",
        {"digest": digest_id, "after": after, "now": stamp(now), "limit": limit, "worker": worker,
         "until": stamp(until)})
    return sorted(r[0] for r in rows)


def drop_claims(store: Store, digest_id: str, prefix: str) -> None:
    """Forget the claims on the digest's unfinished copies held by senders named ``prefix``...: they are dead.

    A run holding the publication's lock knows every earlier run is gone: the
    copies a killed run had claimed are free at once, and the one it left
    'sending' is uncertain at once, not in flight until its lease runs out.
    """
    store.execute("UPDATE sends SET claimed_by = NULL, claimed_until = NULL WHERE digest_id = :digest "
                  "AND status IN ('pending', 'sending') AND claimed_by LIKE :prefix",
                  {"digest": digest_id, "prefix": f"{prefix}%"})


def renew(store: Store, digest_id: str, worker: str, *, until: datetime) -> None:
    """Extend ``worker``'s claims on the digest's copies it has not finished."""
    store.execute("UPDATE sends SET claimed_until = :until WHERE digest_id = :digest "
                  "AND status IN ('pending', 'sending') AND claimed_by = :worker",
                  {"until": stamp(until), "digest": digest_id, "worker": worker})


def release(store: Store, digest_id: str, worker: str) -> None:
    """Give up ``worker``'s claims on the digest's pending copies: anyone may take them at once."""
    store.execute("UPDATE sends SET claimed_by = NULL, claimed_until = NULL WHERE digest_id = :digest "
                  "AND status = 'pending' AND claimed_by = :worker", {"digest": digest_id, "worker": worker})


def held_elsewhere(store: Store, digest_id: str, worker: str, *, now: datetime) -> str | None:
    """When the first live claim of another sender on the digest's pending copies lapses (a stamp), or None.

    Claims of ``worker``'s own connections (named ``worker.N``) are not another sender's.
    """
    value: str | None = store.scalar(
        "SELECT min(claimed_until) FROM sends WHERE digest_id = :digest AND status = 'pending' "
        "AND claimed_until >= :now AND claimed_by <> :worker AND substr(claimed_by, 1, :length) <> :lanes",
        {"digest": digest_id, "now": stamp(now), "worker": worker, "lanes": f"{worker}.",
         "length": len(worker) + 1})
    return value


def update(store: Store, changes: Sequence[Change], *, worker: str | None = None) -> None:
    """Apply changes, in the caller's transaction; a row no longer in its ``was`` state is left alone,
    and so is one ``worker`` (when given) no longer holds: a sender that lost a copy changes nothing.

    A copy still 'sending' whose claim a starting run dropped (it took its
    holder for dead) is still the holder's to settle: only the sender that
    marked it can have sent it, and no one else takes a 'sending' copy.
    """
    store.executemany(
        "UPDATE sends SET status = :status, reply = :reply, updated = :when, attempts = attempts + :attempted "
        "WHERE digest_id = :digest AND email = :email AND status = :was "
        "AND (:worker IS NULL OR claimed_by = :worker OR (status = 'sending' AND claimed_by IS NULL))",
        [{"status": c.status, "reply": c.reply, "when": stamp(c.when), "attempted": int(c.attempted),
          "digest": c.digest_id, "email": c.email, "was": c.was, "worker": worker} for c in changes])


def mark_sending(store: Store, digest_id: str, email: str, message_id: str, *, now: datetime,
                 worker: str | None = None) -> bool:
    """Pending -> sending: this copy's final dot is about to go (in the caller's transaction).

    A compare-and-set on the old status (and, with ``worker``, on the claim):
    of two senders racing on one copy exactly one changes the row and may send
    the dot. False means someone else has it (or it was cancelled): the caller
    must not send it.
    """
    changed: int = store.execute(
        "UPDATE sends SET status = 'sending', message_id = :message_id, updated = :now "
        "WHERE digest_id = :digest AND email = :email AND status = 'pending' "
        "AND (:worker IS NULL OR claimed_by = :worker)",
        {"message_id": message_id, "now": stamp(now), "digest": digest_id, "email": email,
         "worker": worker}).rowcount
    return changed == 1


def still_pending(store: Store, digest_id: str, email: str) -> bool:
    """Whether the copy is still waiting to be sent (read fresh)."""
    return store.one("SELECT 1 FROM sends WHERE digest_id = :digest_id AND email = :email AND status = 'pending'",
                     {"digest_id": digest_id, "email": email}) is not None


_LIVE = "claimed_until >= :wall"   # held by a sender whose lease still runs: it may be at work


def resend_uncertain(store: Store, digest_id: str, *, now: datetime, wall: datetime | None = None) -> int:
    """Put 'sending' copies of a digest back to 'pending'; how many.

    With ``wall`` (the real time), a copy whose sender still holds its claim
    is being sent right now, not uncertain, and is left alone.
    """
    with store.transaction():
        count: int = store.execute(
            "UPDATE sends SET status = 'pending', updated = :now, claimed_by = NULL, claimed_until = NULL "
            f"WHERE digest_id = :digest AND status = 'sending' AND NOT coalesce({_LIVE}, FALSE)",
            {"now": stamp(now), "digest": digest_id, "wall": stamp(wall) if wall else None}).rowcount
    return count


def status_counts(store: Store, digest_id: str, *, wall: datetime | None = None) -> dict[str, int]:
    """How many copies of a digest are in each state.

    With ``wall`` (the real time), copies a live sender holds (pending or
    'sending' under a lease that still runs) count as 'in_flight'; the other
    'sending' copies are uncertain.
    """
    state = f"CASE WHEN status IN ('pending', 'sending') AND {_LIVE} THEN 'in_flight' ELSE status END"
    return {r[0]: r[1] for r in store.rows(
        f"SELECT {state}, count(*) FROM sends WHERE digest_id = :digest GROUP BY {state}",
        {"digest": digest_id, "wall": stamp(wall) if wall else None})}


def copy_states(store: Store, digest_id: str) -> dict[str, tuple[str, str | None]]:
    """Every copy of a digest: address -> (status, Message-ID)."""
    return {r[0]: (r[1], r[2]) for r in store.rows(
        "SELECT email, status, message_id FROM sends WHERE digest_id = :digest", {"digest": digest_id})}


def forget_address(store: Store, email: str) -> None:
    """Drop every copy record of an address (an erasure request)."""
    with store.transaction():
        store.execute("DELETE FROM sends WHERE email = :email", {"email": email})
