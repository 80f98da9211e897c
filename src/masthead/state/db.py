"""The publication's state: the schema, its migrations, and ``open_store``.

One database holds what every stage must remember between runs: the files
already read, every article and when it was first seen, the digests made,
each (digest, recipient) send, the subscribers, upstream HTTP validators,
the sign-up limits and the confirmation mails waiting to go, and what came
back: bounces, complaints and each address's status history. By default it
is an SQLite file outside output/
(``.masthead/state.db``, sqlite.py); given a ``postgresql://`` URL it lives in
PostgreSQL (postgres.py), shared by many machines. ``Store`` (engine.py) is
the connection; the SQL on each table lives in one module of this package
(filecache, articles, digests, roster, sends, builds, archives, httpcache,
signups, feedback), exposed as named functions, written once for both engines.

Every moment is stored as RFC 3339 in UTC with a fixed width
(``2022-05-07T06:00:00Z``, see ``stamp``), so SQL compares them as text
correctly. The schema carries a version; a database written by an older
masthead is migrated when it is first opened (or by ``masthead db upgrade``),
and one written by a newer masthead is refused.

Adding to the schema: the CREATE goes in SCHEMA (what a new database gets)
and a numbered entry in MIGRATIONS brings older databases there (ALTER TABLE
... ADD COLUMN; a new table needs only its CREATE). Write column types as
SQLite names them (INTEGER, TEXT, BLOB, REAL): PostgreSQL gets its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ConfigError
from .engine import Store
from .postgres import PostgresStore
from .sqlite import SqliteStore

STATE_FILE = "state.db"
URL_SCHEMES = ("postgresql", "postgres")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path        TEXT PRIMARY KEY,   -- relative to the publication
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    hash        TEXT NOT NULL,      -- sha256 of the raw bytes
    result      TEXT NOT NULL,      -- JSON: the articles (but their bodies) and problems read from it
    bodies      TEXT NOT NULL DEFAULT ''  -- JSON: article id -> [body html, body text]
);
CREATE TABLE IF NOT EXISTS collections (
    name        TEXT PRIMARY KEY,   -- 'last'
    inputs      TEXT NOT NULL,      -- fingerprint of every file read and the settings read with
    content     TEXT NOT NULL       -- JSON: the problems, and the files its links were checked against
);
CREATE TABLE IF NOT EXISTS collected (
    position    INTEGER PRIMARY KEY,  -- the order collected (the drafts last)
    records     TEXT NOT NULL,        -- JSON: about a thousand articles, without the bodies the file cache has
    digest      TEXT NOT NULL DEFAULT ''  -- of records: a run rewrites only the rows whose articles changed
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
    claimed_by  TEXT,               -- the sender working on this copy (send/claims.py)
    claimed_until TEXT,             -- stamp(): its claim lapses then, and another sender may take it
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


def marks(values: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Named parameters for ``IN (...)``: (":p0, :p1, ...", {"p0": value, ...})."""
    names = {f"p{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{name}" for name in names), names


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


def _utc_stamps(store: Store) -> None:
    """Version 1: every moment as stamp(), whatever offset or precision an older masthead wrote.

    Only SQLite databases are that old (PostgreSQL came later), hence rowid.
    """
    tables = store.tables()
    for table, columns in MOMENTS.items():
        if table not in tables:
            continue
        rows = store.rows(f"SELECT rowid, {', '.join(columns)} FROM {table}")
        sets = ", ".join(f"{c} = :{c}" for c in columns)
        store.executemany(f"UPDATE {table} SET {sets} WHERE rowid = :rowid",
                          [{**{c: _to_stamp(row[c]) for c in columns}, "rowid": row["rowid"]} for row in rows])


def _feedback_tables(store: Store) -> None:
    """Version 2: bounce, complaint and status-history tables; addresses already suppressed get a first entry."""
    for statement in _statements(FEEDBACK_SCHEMA):
        store.execute(store.ddl(statement))
    store.execute("INSERT INTO status_history (email, changed, status, reason) "
                  "SELECT email, updated, status, :reason FROM subscribers WHERE status <> 'active'",
                  {"reason": "before masthead kept a history"})


def _archive_entries(store: Store) -> None:
    """Version 3: the archive_entries table (feeds' RFC 5005 archive pages); nothing was shelved before."""
    store.execute(store.ddl("CREATE TABLE IF NOT EXISTS archive_entries (feed TEXT NOT NULL, page INTEGER NOT NULL, "
                            "position INTEGER NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (feed, article_id))"))


def _signup_queue(store: Store) -> None:
    """Version 4: sign-up limits per client, network, domain and address, the confirmation queue and
    used confirmation links (tables made by SCHEMA); the old per-address table goes."""
    store.execute("DROP TABLE IF EXISTS signup_mails")


def _add_columns(table: str, *columns: str) -> Callable[[Store], None]:
    """A migration adding ``columns`` ("name TYPE") to ``table``, each unless it is there already."""
    def add(store: Store) -> None:
        have = set(store.columns(table))
        for column in columns:
            if column.split()[0] not in have:
                store.execute(store.ddl(f"ALTER TABLE {table} ADD COLUMN {column}"))
    add.__doc__ = f"Add {', '.join(columns)} to {table}."
    return add


Migration = Callable[[Store], None] | str    # a function, or statements separated by ";"

# (version, what it does): applied in order to a database below that version.
MIGRATIONS: tuple[tuple[int, Migration], ...] = (
    (1, _utc_stamps),
    (2, _feedback_tables),
    (3, _archive_entries),
    (4, _signup_queue),
    # 5: when each upstream last answered, to say how old a copy used in its place is
    (5, _add_columns("http_cache", "fetched TEXT")),
    # 6: who is sending each copy, until when (send workers' claims)
    (6, _add_columns("sends", "claimed_by TEXT", "claimed_until TEXT")),
    # 7: the articles' bodies apart from their records, read only for what a run renders; the last
    # collection, kept whole for a run whose inputs did not change (the table is made by SCHEMA)
    (7, _add_columns("files", "bodies TEXT NOT NULL DEFAULT ''")),
    # 8: a digest of each row of the collection kept, so that a run rewrites only the rows that changed
    (8, _add_columns("collected", "digest TEXT NOT NULL DEFAULT ''")),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def _refuse_newer(store: Store, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"the state database has schema version {version}; this masthead knows up to "
            f"{SCHEMA_VERSION}", where=store.where,
            hint="a newer masthead wrote it: upgrade masthead (pip install -U masthead)")


def upgrade(store: Store) -> tuple[int, int]:
    """Bring the schema to SCHEMA_VERSION: (version before, version now).

    Tables first, then the migrations an existing database needs, then the
    indexes (which may name a column a migration added). ConfigError when a
    newer masthead wrote the database. Safe when several processes open a new
    database at once: the version is read again under the writers' lock.
    """
    before = store.schema_version()
    _refuse_newer(store, before)
    if before == SCHEMA_VERSION:
        return before, before
    with store.transaction():
        version = store.schema_version()
        _refuse_newer(store, version)
        if version == SCHEMA_VERSION:
            return version, version
        fresh = "articles" not in store.tables()
        statements = _statements(SCHEMA + FEEDBACK_SCHEMA)
        for statement in statements:
            if not statement.upper().startswith("CREATE INDEX"):
                store.execute(store.ddl(statement))
        for target, migrate in MIGRATIONS:
            if version < target and not fresh:
                if callable(migrate):
                    migrate(store)
                else:
                    for statement in _statements(migrate):
                        store.execute(store.ddl(statement))
        for statement in statements:
            if statement.upper().startswith("CREATE INDEX"):
                store.execute(store.ddl(statement))
        store.set_schema_version(SCHEMA_VERSION)
    return before, SCHEMA_VERSION


def is_database_url(url: str) -> bool:
    """Whether ``url`` names a database masthead can keep its state in (PostgreSQL)."""
    return url.split("://", 1)[0].lower() in URL_SCHEMES and "://" in url


def open_store(state_dir: Path, url: str | None = None, *, migrate: bool = True, timeout: float = 30.0) -> Store:
    """Open the state, creating or migrating its schema as needed (unless ``migrate`` is False).

    ``url`` None or empty: the SQLite file in ``state_dir`` (kept owner-only;
    ``timeout``: seconds to wait for another process's write before a
    StorageError). A ``postgresql://`` URL: that PostgreSQL database (psycopg
    is imported only then).
    """
    if url:
        if not is_database_url(url):
            raise ConfigError(f"the state database URL must start with postgresql://, not {url.split(':', 1)[0]!r}",
                              where="MASTHEAD_DATABASE_URL",
                              hint="use postgresql://user:password@host:5432/dbname, or leave it unset for "
                                   "SQLite")
        store: Store = PostgresStore(url)
    else:
        store = SqliteStore(state_dir / STATE_FILE, timeout=timeout)
    try:
        if migrate:
            upgrade(store)
    except BaseException:
        store.close()
        raise
    return store
