"""Tables ``signup_events``, ``signup_gate``, ``signup_queue`` and ``signup_used``: sign-up's state.

Everything the sign-up form must remember lives here, not in a process, so
it holds across every ``masthead serve`` process sharing the database:

- ``signup_events``: one row per scope (address, client, network, domain)
  for each confirmation asked for, under an HMAC of its key, deleted once
  older than the window; the limits count them.
- ``signup_gate``: one row every claim updates first, so claims from many
  processes take turns (a row lock on PostgreSQL, the write lock on SQLite).
- ``signup_queue``: confirmation mails waiting for the background sender.
  A sender claims a row with a compare-and-set on its status, so two
  processes never mail one confirmation twice; the row (and the address in
  it) is deleted once the mail went.
- ``signup_used``: confirmation tokens that subscribed someone: a link works once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from .db import Store, stamp


def claim(store: Store, keys: Mapping[str, str], limits: Mapping[str, int], *, total: int,
          now: datetime, since: datetime) -> str | None:
    """Record one confirmation under every ``keys`` scope, unless a limit is reached.

    Rows older than ``since`` are forgotten first. Returns the first scope
    whose limit is reached (in the order of ``keys``; "total" when ``total``
    confirmations were asked for in all), recording nothing; None when recorded.
    """
    with store.transaction():
        store.execute("INSERT INTO signup_gate (id, touched) VALUES (1, :now) "
                      "ON CONFLICT (id) DO UPDATE SET touched = excluded.touched", {"now": stamp(now)})
        store.execute("DELETE FROM signup_events WHERE at <= :since", {"since": stamp(since)})
        for scope, key in keys.items():
            count = store.scalar("SELECT count(*) FROM signup_events WHERE scope = :scope AND key = :key",
                                 {"scope": scope, "key": key})
            if count >= limits[scope]:
                return scope
        if store.scalar("SELECT count(*) FROM signup_events WHERE scope = 'address'") >= total:
            return "total"
        store.executemany("INSERT INTO signup_events (scope, key, at) VALUES (:scope, :key, :at)",
                          [{"scope": scope, "key": key, "at": stamp(now)} for scope, key in keys.items()])
    return None


class Queued(NamedTuple):
    """A confirmation mail claimed for sending."""

    id: str
    email: str
    token: str
    language: str
    attempts: int


def enqueue(store: Store, id: str, email: str, token: str, language: str, *, now: datetime) -> None:
    """Put a confirmation mail in the queue for the background sender."""
    with store.transaction():
        store.execute("INSERT INTO signup_queue (id, email, token, language, status, queued, next_try) "
                      "VALUES (:id, :email, :token, :language, 'queued', :now, :now)",
                      {"id": id, "email": email, "token": token, "language": language, "now": stamp(now)})


def claim_next(store: Store, *, now: datetime) -> Queued | None:
    """Claim the oldest mail due by ``now`` (queued -> sending, a compare-and-set); None when none is left."""
    while True:
        rows = store.rows("SELECT id, email, token, language, attempts FROM signup_queue "
                          "WHERE status = 'queued' AND next_try <= :now ORDER BY queued, id LIMIT 8",
                          {"now": stamp(now)})
        if not rows:
            return None
        for row in rows:
            with store.transaction():
                won = store.execute("UPDATE signup_queue SET status = 'sending' WHERE id = :id AND status = 'queued'",
                                    {"id": row["id"]}).rowcount == 1
            if won:
                return Queued(row["id"], row["email"], row["token"], row["language"], row["attempts"])


def done(store: Store, id: str) -> None:
    """The mail went (or can never go): forget it, address and all."""
    with store.transaction():
        store.execute("DELETE FROM signup_queue WHERE id = :id", {"id": id})


def later(store: Store, id: str, *, next_try: datetime) -> None:
    """The server deferred the mail: back in the queue, to try again at ``next_try``."""
    with store.transaction():
        store.execute("UPDATE signup_queue SET status = 'queued', attempts = attempts + 1, next_try = :next_try "
                      "WHERE id = :id AND status = 'sending'", {"id": id, "next_try": stamp(next_try)})


def forget_stale(store: Store, *, before: datetime) -> int:
    """Drop mails queued before ``before`` (their link would expire soon, or a sender died mid-send)."""
    with store.transaction():
        count: int = store.execute("DELETE FROM signup_queue WHERE queued <= :before",
                                   {"before": stamp(before)}).rowcount
    return count


def use_token(store: Store, token_key: str, *, expires: datetime, now: datetime) -> bool:
    """Mark a confirmation token used, in the caller's transaction; False when it was used before."""
    store.execute("DELETE FROM signup_used WHERE expires <= :now", {"now": stamp(now)})
    cursor = store.execute("INSERT INTO signup_used (token_key, expires) VALUES (:key, :expires) "
                           "ON CONFLICT (token_key) DO NOTHING", {"key": token_key, "expires": stamp(expires)})
    return cursor.rowcount == 1
