"""Tables ``subscribers``, ``subscriptions`` and ``left_feeds``: who follows which feed.

An address that unsubscribed or bounced stays in ``subscribers`` as a
suppression (so does one that complained); a feed an address left on its own
stays in ``left_feeds``, a suppression for that address and feed only. Each
change is also noted in the status history (feedback.py): when, and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from ..records import Subscriber
from . import feedback
from .db import Store, stamp

STATUSES = ("active", "unsubscribed", "bounced", "complained", "refused")
# Why a suppressed address gets no mail, for people.
SUPPRESSED = {"unsubscribed": "it unsubscribed", "bounced": "it bounced", "complained": "it complained",
              "refused": "masthead refused to build mail for it (its name could not go in a header safely)"}


class Standing(NamedTuple):
    """What sending one copy needs to know of an address, read fresh."""

    name: str | None
    status: str
    follows: bool                # still subscribed to the feed in question


def get(store: Store, email: str) -> Subscriber | None:
    row = store.one("SELECT email, name, status, created, updated FROM subscribers WHERE email = :email",
                    {"email": email})
    if row is None:
        return None
    feeds = tuple(r[0] for r in store.rows("SELECT feed FROM subscriptions WHERE email = :email ORDER BY feed",
                                           {"email": email}))
    return Subscriber(email=row["email"], name=row["name"], status=row["status"], feeds=feeds,
                      created=row["created"], updated=row["updated"])


def standing(store: Store, email: str, feed: str) -> Standing | None:
    """The address's name, status and whether it follows ``feed``; None when it is unknown."""
    row = store.one(
        "SELECT s.name, s.status, EXISTS (SELECT 1 FROM subscriptions f WHERE f.email = s.email "
        "AND f.feed = :feed) FROM subscribers s WHERE s.email = :email", {"feed": feed, "email": email})
    return None if row is None else Standing(row[0], row[1], bool(row[2]))


def upsert(store: Store, email: str, name: str | None, feeds: tuple[str, ...], now: datetime,
           *, resubscribe: bool) -> str:
    """Add or extend one subscriber; says what happened ("added", "updated", "unchanged",
    or why not: "unsubscribed", "bounced", "left").

    Feeds the address left earlier are suppressed like the address itself: left
    out ("left" when nothing else remains) unless ``resubscribe``. Resubscribing
    a suppressed address makes it follow exactly ``feeds`` (what it asked for now).
    """
    moment = stamp(now)
    pairs = [{"email": email, "feed": f} for f in feeds]
    with store.transaction():
        row = store.one("SELECT name, status FROM subscribers WHERE email = :email", {"email": email})
        left = {r[0] for r in store.rows("SELECT feed FROM left_feeds WHERE email = :email", {"email": email})}
        if resubscribe:
            store.executemany("DELETE FROM left_feeds WHERE email = :email AND feed = :feed", pairs)
        elif left & set(feeds):
            feeds = tuple(f for f in feeds if f not in left)
            if not feeds:
                return "left"
        if row is None:
            store.execute("INSERT INTO subscribers (email, name, status, created, updated) "
                          "VALUES (:email, :name, 'active', :now, :now)", {"email": email, "name": name, "now": moment})
            store.executemany("INSERT INTO subscriptions (email, feed) VALUES (:email, :feed)",
                              [{"email": email, "feed": f} for f in feeds])
            return "added"
        if row["status"] != "active" and not resubscribe:
            return str(row["status"])
        if row["status"] != "active":     # resubscribing: what was followed before is not asked for
            store.execute("DELETE FROM subscriptions WHERE email = :email", {"email": email})
            feedback.record_status(store, email, "active", now=now, reason=f"resubscribed (was {row['status']})")
        have = {r[0] for r in store.rows("SELECT feed FROM subscriptions WHERE email = :email", {"email": email})}
        new_feeds = [f for f in feeds if f not in have]
        new_name = name if name is not None else row["name"]
        if not new_feeds and new_name == row["name"] and row["status"] == "active":
            return "unchanged"
        store.execute("UPDATE subscribers SET name = :name, status = 'active', updated = :now WHERE email = :email",
                      {"name": new_name, "now": moment, "email": email})
        store.executemany("INSERT INTO subscriptions (email, feed) VALUES (:email, :feed)",
                          [{"email": email, "feed": f} for f in new_feeds])
    return "updated"


def set_status(store: Store, email: str, status: str, *, now: datetime, only_if: str | None = None,
               reason: str = "") -> bool:
    """Mark an address with ``status`` (when it is ``only_if``, if given), noting why; False when nothing changed."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    with store.transaction():
        before = store.scalar("SELECT status FROM subscribers WHERE email = :email", {"email": email})
        cursor = store.execute(
            "UPDATE subscribers SET status = :status, updated = :now WHERE email = :email "
            "AND (:only_if IS NULL OR status = :only_if)",
            {"status": status, "now": stamp(now), "email": email, "only_if": only_if})
        if cursor.rowcount > 0 and before != status:
            feedback.record_status(store, email, status, now=now, reason=reason)
    return cursor.rowcount > 0


def leave_feed(store: Store, email: str, feed: str, *, now: datetime) -> bool:
    """Take ``email`` off one feed and keep the feed suppressed for it; False when it is unknown.

    An address whose last feed goes becomes 'unsubscribed'.
    """
    moment = stamp(now)
    with store.transaction():
        row = store.one("SELECT status FROM subscribers WHERE email = :email", {"email": email})
        if row is None:
            return False
        keys = {"email": email, "feed": feed, "now": moment}
        store.execute("DELETE FROM subscriptions WHERE email = :email AND feed = :feed", keys)
        store.execute("INSERT INTO left_feeds (email, feed, left_at) VALUES (:email, :feed, :now) "
                      "ON CONFLICT (email, feed) DO UPDATE SET left_at = excluded.left_at", keys)
        remaining = store.scalar("SELECT count(*) FROM subscriptions WHERE email = :email", keys)
        status = "unsubscribed" if remaining == 0 and row["status"] == "active" else row["status"]
        feedback.record_status(store, email, "left", now=now, feed=feed)
        if status != row["status"]:
            feedback.record_status(store, email, status, now=now, reason=f"left {feed}, the last list it followed")
        store.execute("UPDATE subscribers SET status = :status, updated = :now WHERE email = :email",
                      {**keys, "status": status})
    return True


def forget(store: Store, email: str) -> bool:
    """Erase the address from the roster (its subscriptions and left feeds too); False when unknown."""
    with store.transaction():
        store.execute("DELETE FROM subscriptions WHERE email = :email", {"email": email})
        store.execute("DELETE FROM left_feeds WHERE email = :email", {"email": email})
        feedback.forget_address(store, email)
        cursor = store.execute("DELETE FROM subscribers WHERE email = :email", {"email": email})
    return cursor.rowcount > 0


def emails(store: Store, *, status: str | None = None) -> list[str]:
    """Every address in order, optionally only those with ``status``."""
    return [r[0] for r in store.rows(
        "SELECT email FROM subscribers WHERE (:status IS NULL OR status = :status) ORDER BY email",
        {"status": status})]


def active_emails(store: Store, feed: str) -> Iterator[str]:
    """The active subscribers of ``feed``, in address order."""
    for (email,) in store.execute(
            "SELECT s.email FROM subscribers s JOIN subscriptions f ON f.email = s.email "
            "WHERE f.feed = :feed AND s.status = 'active' ORDER BY s.email", {"feed": feed}):
        yield email
