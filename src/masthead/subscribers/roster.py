"""Subscribers: who gets which feed's digest, kept in the state database only.

Addresses are checked with email-validator (syntax only: no DNS lookups) and
stored normalised: trimmed, Unicode NFC, lower case. An address that has
unsubscribed or bounced stays in the table as a suppression: ``add`` refuses
it unless asked to resubscribe, and ``import`` skips it. A feed an address
left on its own (per-feed unsubscribe) is suppressed the same way, for that
address and feed only (table ``left_feeds``). Nothing here is ever
written under ``output/``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from ..config import Publication
from ..errors import ConfigError, InputError
from ..state.db import Store, stamp

STATUSES = ("active", "unsubscribed", "bounced")
_FEED_SEPARATORS = re.compile(r"[\s,;|]+")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address, its display name, its state and the feeds it follows."""

    email: str
    name: str | None
    status: str                  # active, unsubscribed or bounced
    feeds: tuple[str, ...]
    created: str                 # RFC 3339
    updated: str


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A CSV row an import left out, and why."""

    line: int
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    skipped: tuple[SkippedRow, ...]


def normalise_address(raw: str) -> str:
    """The stored form of an address, or InputError saying what is wrong with it."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"{raw.strip()!r} is not a usable email address: {exc}",
                         hint="check the address for typos") from None
    return checked.normalized.lower()


def check_name(name: str | None) -> str | None:
    """A display name fit for a From/To header: one line, trimmed; None when empty."""
    if name is None:
        return None
    if "\n" in name or "\r" in name or "\x00" in name:
        raise InputError(f"the name {name!r} contains a line break",
                         hint="names go into mail headers and must be one line")
    return name.strip() or None


def digest_feeds(pub: Publication) -> tuple[str, ...]:
    """The feeds that send a digest: what a subscriber follows when none are named."""
    return tuple(f.name for f in pub.feeds if f.digest.cadence != "off")


def check_feeds(pub: Publication, feeds: Iterable[str]) -> tuple[str, ...]:
    """Named feeds, checked to exist and to send digests; all digest feeds when none."""
    names = tuple(dict.fromkeys(f.strip() for f in feeds if f.strip()))
    if not names:
        return digest_feeds(pub)
    with_digest = digest_feeds(pub)
    for name in names:
        pub.feed(name)       # ConfigError listing the feeds when unknown
        if name not in with_digest:
            raise InputError(f"feed {name!r} sends no digest (its digest.cadence is 'off')",
                             hint=f"the feeds with a digest are: {', '.join(with_digest) or 'none'}")
    return names


def get_subscriber(store: Store, email: str) -> Subscriber | None:
    row = store.db.execute("SELECT * FROM subscribers WHERE email = ?", (email,)).fetchone()
    if row is None:
        return None
    feeds = tuple(r[0] for r in store.db.execute(
        "SELECT feed FROM subscriptions WHERE email = ? ORDER BY feed", (email,)))
    return Subscriber(email=row["email"], name=row["name"], status=row["status"], feeds=feeds,
                      created=row["created"], updated=row["updated"])


def _upsert(db, email: str, name: str | None, feeds: tuple[str, ...], now: str,
            *, resubscribe: bool) -> str:
    """Add or extend one subscriber inside an open transaction; says what happened.

    Feeds the address left earlier are suppressed like the address itself: left
    out ("left" when nothing else remains) unless ``resubscribe``. Resubscribing
    a suppressed address makes it follow exactly ``feeds`` (what it asked for now).
    """
    row = db.execute("SELECT name, status FROM subscribers WHERE email = ?", (email,)).fetchone()
    left = {r[0] for r in db.execute("SELECT feed FROM left_feeds WHERE email = ?", (email,))}
    if resubscribe:
        db.executemany("DELETE FROM left_feeds WHERE email = ? AND feed = ?", [(email, f) for f in feeds])
    elif left & set(feeds):
        feeds = tuple(f for f in feeds if f not in left)
        if not feeds:
            return "left"
    if row is None:
        db.execute("INSERT INTO subscribers (email, name, status, created, updated) "
                   "VALUES (?, ?, 'active', ?, ?)", (email, name, now, now))
        db.executemany("INSERT INTO subscriptions (email, feed) VALUES (?, ?)",
                       [(email, f) for f in feeds])
        return "added"
    if row["status"] != "active" and not resubscribe:
        return row["status"]
    if row["status"] != "active":     # resubscribing: what was followed before is not asked for
        db.execute("DELETE FROM subscriptions WHERE email = ?", (email,))
    have = {r[0] for r in db.execute("SELECT feed FROM subscriptions WHERE email = ?", (email,))}
    new_feeds = [f for f in feeds if f not in have]
    new_name = name if name is not None else row["name"]
    if not new_feeds and new_name == row["name"] and row["status"] == "active":
        return "unchanged"
    db.execute("UPDATE subscribers SET name = ?, status = 'active', updated = ? WHERE email = ?",
               (new_name, now, email))
    db.executemany("INSERT INTO subscriptions (email, feed) VALUES (?, ?)",
                   [(email, f) for f in new_feeds])
    return "updated"


def add_subscriber(store: Store, pub: Publication, email: str, *, name: str | None = None,
                   feeds: Iterable[str] = (), now: datetime,
                   resubscribe: bool = False) -> Subscriber:
    """Subscribe ``email`` to ``feeds`` (all digest feeds when none are named).

    An existing subscriber keeps their feeds and gains the new ones. An address
    that unsubscribed or bounced is refused unless ``resubscribe`` is true: only
    do that when the person asked again.
    """
    address = normalise_address(email)
    name = check_name(name)
    chosen = check_feeds(pub, feeds)
    with store.transaction() as db:
        outcome = _upsert(db, address, name, chosen, stamp(now), resubscribe=resubscribe)
    if outcome in ("unsubscribed", "bounced"):
        raise InputError(f"{address} is suppressed: it {outcome}",
                         hint="pass --resubscribe only if this person asked to subscribe again")
    if outcome == "left":
        raise InputError(f"{address} left {', '.join(chosen)} earlier (suppressed)",
                         hint="pass --resubscribe only if this person asked to subscribe again")
    subscriber = get_subscriber(store, address)
    assert subscriber is not None
    return subscriber


def set_status(store: Store, email: str, status: str, *, now: datetime) -> bool:
    """Mark an address unsubscribed, bounced or active; False when it is unknown."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    with store.transaction() as db:
        cursor = db.execute("UPDATE subscribers SET status = ?, updated = ? WHERE email = ?",
                            (status, stamp(now), email))
    return cursor.rowcount > 0


def leave_feed(store: Store, email: str, feed: str, *, now: datetime) -> bool:
    """Take ``email`` off one feed (a per-feed unsubscribe); False when it is unknown.

    The feed stays suppressed for the address (imports do not add it back). An
    address whose last feed goes becomes 'unsubscribed'.
    """
    moment = stamp(now)
    with store.transaction() as db:
        row = db.execute("SELECT status FROM subscribers WHERE email = ?", (email,)).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM subscriptions WHERE email = ? AND feed = ?", (email, feed))
        db.execute("INSERT OR REPLACE INTO left_feeds (email, feed, left_at) VALUES (?, ?, ?)",
                   (email, feed, moment))
        remaining = db.execute("SELECT count(*) FROM subscriptions WHERE email = ?", (email,)).fetchone()[0]
        status = "unsubscribed" if remaining == 0 and row["status"] == "active" else row["status"]
        db.execute("UPDATE subscribers SET status = ?, updated = ? WHERE email = ?", (status, moment, email))
    return True


def remove_subscriber(store: Store, email: str, *, now: datetime, forget: bool = False) -> bool:
    """Stop sending to ``email``. It stays suppressed, unless ``forget`` erases every trace.

    Forgetting (an erasure request) also drops the address from the send log;
    a later import could then add it again.
    """
    address = normalise_address(email)
    if not forget:
        return set_status(store, address, "unsubscribed", now=now)
    with store.transaction() as db:
        db.execute("DELETE FROM sends WHERE email = ?", (address,))
        db.execute("DELETE FROM subscriptions WHERE email = ?", (address,))
        db.execute("DELETE FROM left_feeds WHERE email = ?", (address,))
        cursor = db.execute("DELETE FROM subscribers WHERE email = ?", (address,))
    return cursor.rowcount > 0


def list_subscribers(store: Store, *, status: str | None = None) -> Iterator[Subscriber]:
    """Every subscriber in address order, optionally only those with ``status``."""
    query = "SELECT email FROM subscribers"
    args: tuple[str, ...] = ()
    if status is not None:
        query += " WHERE status = ?"
        args = (status,)
    for (email,) in store.db.execute(query + " ORDER BY email", args).fetchall():
        subscriber = get_subscriber(store, email)
        if subscriber is not None:
            yield subscriber


def active_addresses(store: Store, feed: str) -> list[tuple[str, str | None]]:
    """(email, name) of every active subscriber of ``feed``, in address order."""
    return [(r[0], r[1]) for r in store.db.execute(
        "SELECT s.email, s.name FROM subscribers s JOIN subscriptions f ON f.email = s.email "
        "WHERE f.feed = ? AND s.status = 'active' ORDER BY s.email", (feed,))]


def read_csv_text(path: Path) -> str:
    """The CSV's text: UTF-8 (a BOM is fine), or InputError naming the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", where=f"{path}:{line}",
                         hint="save it as 'CSV UTF-8' (in Excel: Save As > CSV UTF-8) "
                              "and import again") from None


def import_csv(store: Store, pub: Publication, path: Path, *, now: datetime) -> ImportReport:
    """Add the subscribers listed in a CSV file, in one transaction.

    Columns: ``email`` (required), ``name`` and ``feeds`` (names separated by
    spaces, commas or semicolons; all digest feeds when empty). Without a
    header row, the columns are taken in that order. Rows with a malformed
    address, a name with a line break, an unknown feed, an address already seen
    in the file, or a suppressed address are skipped and listed in the report;
    feeds an address left earlier are left out of its row.
    """
    rows = list(csv.reader(io.StringIO(read_csv_text(path), newline="")))
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if "email" in header:
        columns, body, first_line = header, rows[1:], 2
    else:
        columns, body, first_line = ["email", "name", "feeds"], rows, 1
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    skipped: list[SkippedRow] = []
    seen: set[str] = set()
    moment = stamp(now)
    with store.transaction() as db:
        for line, cells in enumerate(body, start=first_line):
            if not any(c.strip() for c in cells):
                continue
            record = dict(zip(columns, cells, strict=False))  # short rows leave keys out
            raw = record.get("email", "").strip()
            try:
                address = normalise_address(raw)
                name = check_name(record.get("name"))
                feeds = check_feeds(pub, _FEED_SEPARATORS.split(record.get("feeds") or ""))
            except (InputError, ConfigError) as exc:   # ConfigError: an unknown feed
                reason = f"{exc.message}; {exc.hint}" if isinstance(exc, ConfigError) else exc.message
                skipped.append(SkippedRow(line, raw, reason))
                continue
            if address in seen:
                skipped.append(SkippedRow(line, raw, "duplicate: the address is on an earlier row"))
                continue
            seen.add(address)
            outcome = _upsert(db, address, name, feeds, moment, resubscribe=False)
            if outcome in ("unsubscribed", "bounced"):
                skipped.append(SkippedRow(line, raw, f"suppressed: the address {outcome} earlier"))
            elif outcome == "left":
                skipped.append(SkippedRow(line, raw, "suppressed: the address left these feeds earlier"))
            else:
                counts[outcome] += 1
    return ImportReport(skipped=tuple(skipped), **counts)
