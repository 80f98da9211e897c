"""Per-statement cost of masthead's Store and of SQLAlchemy Core ``text()`` beside the raw drivers.

Run: .venv/bin/python bench/sql_overhead.py [COUNT]   (10,000 by default; needs sqlalchemy>=2 and psycopg;
the PostgreSQL half runs when the server binaries are found, on a throwaway server of tests/pgserver.py)

A table of COUNT rows shaped like ``subscribers`` (integer key, three text
columns). Each round does COUNT single-row SELECTs by primary key, then COUNT
single-row UPDATEs, then one executemany INSERT of COUNT rows into a second
table (emptied before each round), all in one transaction (so commits are not
what is timed); 5 rounds, min and median per kind, and the ratio of the medians
to the raw driver:

- raw: sqlite3 (qmark parameters) or psycopg 3 (%s parameters), one connection;
- masthead Store: the state's own layer over the same drivers (``:name``
  parameters translated for psycopg, values bound on the client, rows by name),
  as every state module uses it;
- core, text() once: one ``text()`` with :named parameters built before the loop;
- core, text() inline: ``conn.execute(text("..."), {...})`` written in the loop,
  as hand-written state code would look (SQLAlchemy caches the compiled form).

On SQLite the engine takes over BEGIN (isolation_level None on connect, BEGIN
IMMEDIATE on begin), as SQLAlchemy's SQLite notes advise and as Store does:
left to sqlite3's legacy mode, SELECTs run outside the transaction, each in
its own, which costs ~30 µs a statement and is not what state code wants.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection
from tests.pgserver import PgNotFound, PgServer

from masthead.state.engine import Store
from masthead.state.postgres import PostgresStore
from masthead.state.sqlite import SqliteStore

ROUNDS = 5
COLUMNS = "(id INTEGER PRIMARY KEY, email TEXT NOT NULL, status TEXT NOT NULL, updated TEXT NOT NULL)"
CREATE = f"CREATE TABLE people {COLUMNS}"
SELECT = "SELECT email, status FROM people WHERE id = {}"
UPDATE = "UPDATE people SET status = {}, updated = {} WHERE id = {}"
CREATE_LOG = f"CREATE TABLE log {COLUMNS}"
INSERT = "INSERT INTO log (id, email, status, updated) VALUES ({}, {}, {}, {})"


def rounds(work: Callable[[], None], before: Callable[[], object] = lambda: None) -> list[float]:
    took = []
    for _ in range(ROUNDS):
        before()
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
    return took


def report(engine: str, results: dict[str, dict[str, list[float]]], count: int) -> None:
    for what in ("select", "update", "insert many"):
        base = statistics.median(results["raw"][what])
        for kind, by_what in results.items():
            took = by_what[what]
            per = statistics.median(took) / count * 1e6
            print(f"{engine:10} {what:11} {kind:20} min {min(took) * 1000:7.1f} ms  median "
                  f"{statistics.median(took) * 1000:7.1f} ms  ({per:5.1f} µs/statement)  "
                  f"x{statistics.median(took) / base:4.2f}")


def core(conn: Connection, count: int, inline: bool) -> dict[str, list[float]]:
    select = text(SELECT.format(":id"))
    update = text(UPDATE.format(":status", ":updated", ":id"))

    def selects() -> None:
        for i in range(1, count + 1):
            stmt = text("SELECT email, status FROM people WHERE id = :id") if inline else select
            conn.execute(stmt, {"id": i}).one()

    def updates() -> None:
        for i in range(1, count + 1):
            stmt = text("UPDATE people SET status = :status, updated = :updated WHERE id = :id") if inline else update
            conn.execute(stmt, {"status": "sent", "updated": "2024-01-01T00:00:00+00:00", "id": i})

    insert = text(INSERT.format(":id", ":email", ":status", ":updated"))
    rows = [dict(zip(("id", "email", "status", "updated"), row, strict=True)) for row in fill(count)]
    return {"select": rounds(selects), "update": rounds(updates),
            "insert many": rounds(lambda: conn.execute(insert, rows), lambda: conn.execute(text("DELETE FROM log")))}


def through_store(store: Store, count: int) -> dict[str, list[float]]:
    select = SELECT.format(":id")
    update = UPDATE.format(":status", ":updated", ":id")

    def selects() -> None:
        for i in range(1, count + 1):
            store.one(select, {"id": i})

    def updates() -> None:
        for i in range(1, count + 1):
            store.execute(update, {"status": "sent", "updated": "2024-01-01T00:00:00+00:00", "id": i})

    insert = INSERT.format(":id", ":email", ":status", ":updated")
    rows = [dict(zip(("id", "email", "status", "updated"), row, strict=True)) for row in fill(count)]
    with store.transaction(serial=False):
        return {"select": rounds(selects), "update": rounds(updates),
                "insert many": rounds(lambda: store.executemany(insert, rows),
                                      lambda: store.execute("DELETE FROM log"))}


def fill(count: int) -> list[tuple[int, str, str, str]]:
    return [(i, f"reader{i}@example.org", "active", "2024-01-01T00:00:00+00:00") for i in range(1, count + 1)]


def on_sqlite(folder: Path, count: int) -> None:
    path = folder / "state.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(CREATE)
    db.execute(CREATE_LOG)
    db.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", fill(count))
    results: dict[str, dict[str, list[float]]] = {}

    def selects() -> None:
        for i in range(1, count + 1):
            db.execute(SELECT.format("?"), (i,)).fetchone()

    def updates() -> None:
        for i in range(1, count + 1):
            db.execute(UPDATE.format("?", "?", "?"), ("sent", "2024-01-01T00:00:00+00:00", i))

    db.execute("BEGIN IMMEDIATE")
    results["raw"] = {"select": rounds(selects), "update": rounds(updates),
                      "insert many": rounds(lambda: db.executemany(INSERT.format("?", "?", "?", "?"), fill(count)),
                                            lambda: db.execute("DELETE FROM log"))}
    db.execute("COMMIT")
    db.close()
    with SqliteStore(path) as store:
        results["masthead Store"] = through_store(store, count)
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection: sqlite3.Connection, record: object) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    for kind, inline in (("core, text() once", False), ("core, text() inline", True)):
        with engine.begin() as conn:
            results[kind] = core(conn, count, inline)
    engine.dispose()
    report("sqlite", results, count)


def on_postgres(url: str, count: int) -> None:
    with psycopg.connect(url) as db:
        db.execute(CREATE)
        db.execute(CREATE_LOG)
        with db.cursor() as cur:
            cur.executemany("INSERT INTO people VALUES (%s, %s, %s, %s)", fill(count))
    results: dict[str, dict[str, list[float]]] = {}
    with psycopg.connect(url) as db:
        def selects() -> None:
            for i in range(1, count + 1):
                db.execute(SELECT.format("%s"), (i,)).fetchone()

        def updates() -> None:
            for i in range(1, count + 1):
                db.execute(UPDATE.format("%s", "%s", "%s"), ("sent", "2024-01-01T00:00:00+00:00", i))

        def inserts() -> None:
            with db.cursor() as cur:
                cur.executemany(INSERT.format("%s", "%s", "%s", "%s"), fill(count))

        results["raw"] = {"select": rounds(selects), "update": rounds(updates),
                          "insert many": rounds(inserts, lambda: db.execute("DELETE FROM log"))}
    with PostgresStore(url) as store:
        results["masthead Store"] = through_store(store, count)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    for kind, inline in (("core, text() once", False), ("core, text() inline", True)):
        with engine.begin() as conn:
            results[kind] = core(conn, count, inline)
    engine.dispose()
    report("postgresql", results, count)


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        on_sqlite(Path(folder), count)
    try:
        server = PgServer()
    except PgNotFound as missing:
        print(f"postgresql: skipped ({missing})")
        return
    with server, server.fresh_database() as url:
        on_postgres(url, count)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
