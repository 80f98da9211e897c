"""The publication's state in SQLite, kept outside output/ (``.masthead/state.db``).

One database holds what every stage must remember between runs: the files
already read (so an unchanged file is not read again), every article and when
it was first seen, the digests made, each (digest, recipient) send, the
subscribers, and upstream HTTP validators. Each stage keeps its own queries in
its own module and uses ``Store.transaction()`` for atomic changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path        TEXT PRIMARY KEY,   -- relative to the publication
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    hash        TEXT NOT NULL,      -- sha256 of the raw bytes
    result      TEXT NOT NULL       -- JSON: the articles and problems read from it
);
CREATE TABLE IF NOT EXISTS articles (
    id           TEXT PRIMARY KEY,
    feed         TEXT NOT NULL,
    origin       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    first_seen   TEXT NOT NULL,     -- RFC 3339, from the run's --now
    changed      TEXT NOT NULL,     -- when content_hash last changed
    published    TEXT               -- RFC 3339 or NULL
);
CREATE TABLE IF NOT EXISTS digests (
    id           TEXT PRIMARY KEY,  -- feed/cadence/period start
    feed         TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    created      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    article_ids  TEXT NOT NULL      -- JSON list
);
CREATE TABLE IF NOT EXISTS subscribers (
    email       TEXT PRIMARY KEY,   -- normalised
    name        TEXT,
    status      TEXT NOT NULL DEFAULT 'active',  -- active, unsubscribed, bounced
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    email       TEXT NOT NULL REFERENCES subscribers(email) ON DELETE CASCADE,
    feed        TEXT NOT NULL,
    PRIMARY KEY (email, feed)
);
CREATE TABLE IF NOT EXISTS left_feeds (
    email       TEXT NOT NULL,      -- left this feed's digest (per-feed unsubscribe): a suppression
    feed        TEXT NOT NULL,
    left_at     TEXT NOT NULL,
    PRIMARY KEY (email, feed)
);
CREATE TABLE IF NOT EXISTS signup_mails (
    address_key TEXT PRIMARY KEY,   -- HMAC of the address (signup.py): not the address itself
    sent        TEXT NOT NULL       -- when the last confirmation mail went (rate limit)
);
CREATE TABLE IF NOT EXISTS sends (
    digest_id   TEXT NOT NULL,
    email       TEXT NOT NULL,
    status      TEXT NOT NULL,      -- pending, sending, sent, failed, cancelled (delivery.py)
    attempts    INTEGER NOT NULL DEFAULT 0,
    reply       TEXT,               -- the server's last answer
    message_id  TEXT,
    updated     TEXT NOT NULL,
    PRIMARY KEY (digest_id, email)
);
CREATE INDEX IF NOT EXISTS sends_by_status ON sends (digest_id, status, email);
CREATE TABLE IF NOT EXISTS send_plans (
    digest_id   TEXT PRIMARY KEY,   -- recipients of this digest are fixed (rows in sends)
    planned     TEXT NOT NULL,      -- RFC 3339, when they were fixed
    recipients  INTEGER NOT NULL,
    content     TEXT NOT NULL       -- JSON: the rendered digest every copy carries
);
CREATE TABLE IF NOT EXISTS meta (
    key         TEXT PRIMARY KEY,   -- e.g. the fingerprint of the last feeds build
    value       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    path        TEXT PRIMARY KEY,   -- an article page under output/
    key         TEXT NOT NULL       -- what it was built from: article hash + settings fingerprint
);
CREATE TABLE IF NOT EXISTS http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    body          BLOB
);
"""


class Store:
    """A connection to the state database with the schema in place."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is one write(), no fsync. A process killed at any
        # point (kill -9, OOM) loses nothing the next run cannot see; only a power
        # cut can forget the last moments, which at worst repeats a few copies.
        # FULL would put an fsync between "this copy is being sent" and its final
        # dot: a kill during that fsync leaves a copy marked but never sent.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stamp(now: datetime) -> str:
    """A moment as the state stores it: RFC 3339 to the second."""
    return now.isoformat(timespec="seconds")


def open_store(state_dir: Path) -> Store:
    """Open (creating if needed) the state database in ``state_dir``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return Store(state_dir / "state.db")
