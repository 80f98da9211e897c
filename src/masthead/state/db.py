"""The publication's state in SQLite, kept outside output/ (``.masthead/state.db``).

One database holds what every stage must remember between runs: the files
already read, every article and when it was first seen, the digests made,
each (digest, recipient) send, the subscribers, upstream HTTP validators,
the sign-up limits and the confirmation mails waiting to go, and what came
back: bounces, complaints and each address's status history. ``Store`` is the
connection; the SQL on each table
lives in one module of this package (filecache, articles, digests, roster,
sends, builds, archives, httpcache, signups, feedback), exposed as named functions.

Every moment is stored as RFC 3339 in UTC with a fixed width
(``2022-05-07T06:00:00Z``, see ``stamp``), so SQL compares them as text
correctly. The schema carries a version (``PRAGMA user_version``); a database
written by an older masthead is migrated when it is first opened, and one
written by a newer masthead is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError, storage_error
from .faults import guarded
from .private import private_dir, private_file

STATE_FILE = "state.db"
Params = Mapping[str, Any] | Sequence[Any]

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
    first_seen   TEXT NOT NULL,     -- stamp(): from the run's --now
    changed      TEXT NOT NULL,     -- when content_hash last changed
    published    TEXT               -- stamp() or NULL
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
CREATE TABLE IF NOT EXISTS sends (
    digest_id   TEXT NOT NULL,
    email       TEXT NOT NULL,
    status      TEXT NOT NULL,      -- pending, sending, sent, failed, cancelled (send/delivery.py)
    attempts    INTEGER NOT NULL DEFAULT 0,
    reply       TEXT,               -- the server's last answer
    message_id  TEXT,
    updated     TEXT NOT NULL,
    PRIMARY KEY (digest_id, email)
);
CREATE INDEX IF NOT EXISTS sends_by_status ON sends (digest_id, status, email);
CREATE TABLE IF NOT EXISTS send_plans (
    digest_id   TEXT PRIMARY KEY,   -- recipients of this digest are fixed (rows in sends)
    planned     TEXT NOT NULL,      -- when they were fixed
    recipients  INTEGER NOT NULL,
    content     TEXT NOT NULL       -- JSON: the rendered digest every copy carries
);
CREATE TABLE IF NOT EXISTS meta (
    key         TEXT PRIMARY KEY,   -- e.g. the fingerprint of the last feeds build
    value       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    path        TEXT PRIMARY KEY,   -- an article page under output/, or an archive page's rss.xml
    key         TEXT NOT NULL       -- what it was built from: article (or page) hash + settings fingerprint
);
CREATE TABLE IF NOT EXISTS http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    body          BLOB,
    fetched       TEXT              -- stamp(): when the upstream last answered
);
CREATE TABLE IF NOT EXISTS archive_entries (
    feed        TEXT NOT NULL,      -- a feed's name (split feeds too: "all/language/ar")
    page        INTEGER NOT NULL,   -- its archive page: 1 is the oldest
    position    INTEGER NOT NULL,   -- order on the page: the order articles were shelved
    article_id  TEXT NOT NULL,
    PRIMARY KEY (feed, article_id)
);
CREATE TABLE IF NOT EXISTS signup_events (
    scope       TEXT NOT NULL,      -- address, client, network or domain (subscribers/signup.py)
    key         TEXT NOT NULL,      -- HMAC of the address, client address, network or domain
    at          TEXT NOT NULL       -- stamp(), deleted once older than the window
);
CREATE INDEX IF NOT EXISTS signup_events_by_key ON signup_events (scope, key, at);
CREATE TABLE IF NOT EXISTS signup_gate (
    id          INTEGER PRIMARY KEY,   -- one row, updated first by every claim: claims take turns
    touched     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signup_queue (
    id          TEXT PRIMARY KEY,   -- random
    email       TEXT NOT NULL,      -- kept only until the mail went: the row is then deleted
    token       TEXT NOT NULL,      -- the signed confirmation token the link carries
    language    TEXT NOT NULL,
    status      TEXT NOT NULL,      -- queued, sending (claimed by one sender)
    attempts    INTEGER NOT NULL DEFAULT 0,
    queued      TEXT NOT NULL,
    next_try    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS signup_queue_by_status ON signup_queue (status, next_try);
CREATE TABLE IF NOT EXISTS signup_used (
    token_key   TEXT PRIMARY KEY,   -- HMAC of a confirmation token that subscribed someone
    expires     TEXT NOT NULL       -- when the token expires anyway: the row can go then
);
"""

# Version 2: what comes back after sending (bounces, complaints) and each address's status history.
FEEDBACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS return_paths (
    token       TEXT PRIMARY KEY,   -- the +TOKEN of one copy's envelope sender (tokens.return_token)
    digest_id   TEXT NOT NULL,
    email       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mail_events (
    event_key   TEXT PRIMARY KEY,   -- one report read twice is one event
    email       TEXT NOT NULL,
    digest_id   TEXT,               -- the copy it is about, when known
    kind        TEXT NOT NULL,      -- hard, soft, complaint
    status      TEXT,               -- RFC 3463 code such as 5.1.1, when the report gives one
    detail      TEXT NOT NULL,      -- why, as the report says it
    source      TEXT NOT NULL,      -- smtp, mbox, maildir, imap, ses, postmark, mailgun
    received    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mail_events_by_email ON mail_events (email, received);
CREATE INDEX IF NOT EXISTS mail_events_by_digest ON mail_events (digest_id, kind);
CREATE TABLE IF NOT EXISTS status_history (
    email       TEXT NOT NULL,
    changed     TEXT NOT NULL,
    status      TEXT NOT NULL,      -- active, unsubscribed, bounced, complained, or left (one feed)
    feed        TEXT NOT NULL DEFAULT '',   -- the feed left, for 'left'
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS status_history_by_email ON status_history (email, changed);
CREATE TABLE IF NOT EXISTS hook_receipts (
    provider    TEXT NOT NULL,      -- ses, mailgun: webhook deliveries already taken (replays are refused)
    receipt     TEXT NOT NULL,      -- SNS MessageId, Mailgun token
    received    TEXT NOT NULL,
    PRIMARY KEY (provider, receipt)
);
CREATE INDEX IF NOT EXISTS sends_by_message_id ON sends (message_id);
"""

# Columns that hold moments: what the version-1 migration rewrites as stamp().
MOMENTS = {
    "articles": ("first_seen", "changed", "published"),
    "digests": ("period_start", "period_end", "created"),
    "subscribers": ("created", "updated"),
    "left_feeds": ("left_at",),
    "sends": ("updated",),
    "send_plans": ("planned",),
    "signup_mails": ("sent",),          # dropped by version 4
}


def stamp(moment: datetime) -> str:
    """A moment as the state stores it: RFC 3339 in UTC to the second, always 20 characters."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a stored moment must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unstamp(text: str) -> datetime:
    """A stored moment back as an aware datetime (UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _to_stamp(value: str | None) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:           # never written so, but never guess a zone: take it as UTC
        moment = moment.replace(tzinfo=UTC)
    return stamp(moment)


def _utc_stamps(db: sqlite3.Connection) -> None:
    """Version 1: every moment as stamp(), whatever offset or precision an older masthead wrote."""
    for table, columns in MOMENTS.items():
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            continue
        rows = db.execute(f"SELECT rowid, {', '.join(columns)} FROM {table}").fetchall()
        sets = ", ".join(f"{c} = ?" for c in columns)
        db.executemany(f"UPDATE {table} SET {sets} WHERE rowid = ?",
                       [(*(_to_stamp(row[c]) for c in columns), row["rowid"]) for row in rows])


def _feedback_tables(db: sqlite3.Connection) -> None:
    """Version 2: bounce, complaint and status-history tables; addresses already suppressed get a first entry."""
    for statement in FEEDBACK_SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO status_history (email, changed, status, reason) "
               "SELECT email, updated, status, :reason FROM subscribers WHERE status <> 'active'",
               {"reason": "before masthead kept a history"})


def _archive_entries(db: sqlite3.Connection) -> None:
    """Version 3: the archive_entries table (feeds' RFC 5005 archive pages); nothing was shelved before."""
    db.execute("CREATE TABLE IF NOT EXISTS archive_entries (feed TEXT NOT NULL, page INTEGER NOT NULL, "
               "position INTEGER NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (feed, article_id))")


def _signup_queue(db: sqlite3.Connection) -> None:
    """Version 4: sign-up limits per client, network, domain and address, the confirmation queue and
    used confirmation links (tables made by SCHEMA); the old per-address table goes."""
    db.execute("DROP TABLE IF EXISTS signup_mails")


def _fetched_column(db: sqlite3.Connection) -> None:
    """Version 5: when each upstream last answered, to say how old a copy used in its place is."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(http_cache)")}
    if "fetched" not in columns:      # SQLite has no ADD COLUMN IF NOT EXISTS
        db.execute("ALTER TABLE http_cache ADD COLUMN fetched TEXT")


# (version, what it does): applied in order to a database below that version.
MIGRATIONS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (1, _utc_stamps), (2, _feedback_tables), (3, _archive_entries), (4, _signup_queue), (5, _fetched_column))
SCHEMA_VERSION = MIGRATIONS[-1][0]


class Store:
    """A connection to the state database with the schema in place (migrated when older).

    Every SQLite error that is the storage's fault (disk full, read-only,
    damaged, locked for longer than ``timeout`` seconds) comes out as a
    StorageError naming the database and what to do.
    """

    def __init__(self, path: Path, *, timeout: float = 30.0):
        self.path = path
        try:
            private_dir(path.parent)
            private_file(path)           # before SQLite makes it: its -wal and -shm take its mode
        except OSError as exc:
            raise storage_error(exc, path, "create the state database") from None
        with guarded(path):
            self.db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self._depth = 0
        with guarded(path):
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is one write(), no fsync. A process killed at any
            # point (kill -9, OOM) loses nothing the next run cannot see; only a power
            # cut can forget the last moments, which at worst repeats a few copies.
            # FULL would put an fsync between "this copy is being sent" and its final
            # dot: a kill during that fsync leaves a copy marked but never sent.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._upgrade()

    def _upgrade(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the state database has schema version {version}; this masthead knows up to "
                f"{SCHEMA_VERSION}", where=str(self.path),
                hint="a newer masthead wrote it: upgrade masthead (pip install -U masthead)")
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            # Another process may have upgraded it while this one waited for the write lock.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            fresh = self.db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'articles'").fetchone()[0] == 0
            for statement in (SCHEMA + FEEDBACK_SCHEMA).split(";"):   # not executescript: it would COMMIT first
                if statement.strip():
                    self.db.execute(statement)
            for target, migrate in MIGRATIONS:
                if version < target and not fresh:
                    migrate(self.db)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        with guarded(self.path):
            return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> sqlite3.Cursor:
        with guarded(self.path):
            return self.db.executemany(sql, rows)

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        with guarded(self.path):
            row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def rows(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with guarded(self.path):
            return self.db.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Params = ()) -> Any:
        with guarded(self.path):
            row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        with guarded(self.path):
            self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            if self.db.in_transaction:       # SQLite may have rolled back already (disk full)
                with guarded(self.path):
                    self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        with guarded(self.path):
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(state_dir: Path, *, timeout: float = 30.0) -> Store:
    """Open (creating if needed) the state database in ``state_dir`` (kept owner-only).

    ``timeout``: seconds to wait for another process's write before a StorageError.
    """
    return Store(state_dir / STATE_FILE, timeout=timeout)
