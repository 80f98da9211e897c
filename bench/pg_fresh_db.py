"""What the throwaway PostgreSQL server of tests/pgserver.py costs: start, stop, and a fresh database per test.

Run: .venv/bin/python bench/pg_fresh_db.py [ROUNDS]   (50 by default; needs psycopg and the server binaries)

Prints, over 5 servers, the start (initdb, pg_ctl start, CREATE DATABASE) and
the stop; then, on one server, min and median over ROUNDS of each way to give
a test an empty database, and one with masthead's schema (made by
``open_store``, as masthead makes it), counting both making it and removing
it afterwards:

- create/drop database: CREATE DATABASE ... TEMPLATE template1 (empty), then
  connect and create the schema; DROP DATABASE ... WITH (FORCE) after;
- the same, with STRATEGY FILE_COPY (PostgreSQL 15+; the default, WAL_LOG,
  copies the template page by page through the WAL);
- copy of a schema template: CREATE DATABASE from a database that already holds
  the schema (filled once), so the test gets the tables without running DDL;
- drop/create schema: one database kept, DROP SCHEMA public CASCADE and
  CREATE SCHEMA public, then the schema, each time.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import psycopg
from tests.pgserver import PgServer

from masthead.state.db import open_store


class TimedServer(PgServer):
    """A PgServer that notes how long each server program took."""

    def __init__(self) -> None:
        super().__init__()
        self.took: dict[str, float] = {}

    def _run(self, program: str, *args: str | Path) -> None:
        started = time.perf_counter()
        super()._run(program, *args)
        key = f"{program} {args[0]}" if program == "pg_ctl" else program
        self.took[key] = self.took.get(key, 0.0) + time.perf_counter() - started


def ms(values: list[float]) -> str:
    return f"min {min(values) * 1000:7.1f} ms   median {statistics.median(values) * 1000:7.1f} ms"


def lifecycle(servers: int = 5) -> None:
    starts: list[float] = []
    parts: dict[str, list[float]] = {}
    stops: list[float] = []
    for _ in range(servers):
        server = TimedServer()
        started = time.perf_counter()
        server.start()
        starts.append(time.perf_counter() - started)
        with psycopg.connect(server.url) as db:
            db.execute("SELECT 1")
        for key, seconds in server.took.items():
            parts.setdefault(key, []).append(seconds)
        started = time.perf_counter()
        server.close()
        stops.append(time.perf_counter() - started)
    print(f"server start (whole)            {ms(starts)}")
    for key, values in parts.items():
        print(f"  of which {key:20} {ms(values)}")
    print(f"server stop and delete          {ms(stops)}")


def per_test(server: PgServer, rounds: int) -> None:
    unused = Path(tempfile.mkdtemp())

    def schema(url: str) -> None:
        open_store(unused, url).close()

    def timed(name: str, make: Callable[[], str], fill: bool, remove: Callable[[str], None]) -> None:
        made: list[float] = []
        whole: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            url = make()
            if fill:
                schema(url)
            with psycopg.connect(url) as db:  # as a test would: connect and look
                db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
            made.append(time.perf_counter() - started)
            remove(url)
            whole.append(time.perf_counter() - started)
        print(f"{name:44} make+connect {ms(made)}   with removal {ms(whole)}")

    admin = server.admin()

    def create(template: str, strategy: str = "") -> Callable[[], str]:
        def make() -> str:
            url = server.create_database(template)
            if strategy:  # redo it with the strategy asked for
                name, source = url.rsplit("/", 1)[1], template.rsplit("/", 1)[-1]
                admin.execute(f'DROP DATABASE "{name}"')
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY {strategy}')
            return url
        return make

    version = admin.execute("SHOW server_version_num").fetchone()[0]
    timed("create/drop database, empty", create("template1"), False, server.drop_database)
    timed("create/drop database + schema", create("template1"), True, server.drop_database)
    if int(version) >= 150000:
        timed("create/drop database FILE_COPY + schema", create("template1", "FILE_COPY"), True,
              server.drop_database)
    template = server.create_database()
    schema(template)
    timed("copy of a schema template", create(template), False, server.drop_database)
    if int(version) >= 150000:
        timed("copy of a schema template FILE_COPY", create(template, "FILE_COPY"), False, server.drop_database)
    kept = server.create_database()

    def reset() -> str:
        with psycopg.connect(kept, autocommit=True) as db:
            db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return kept

    timed("drop/create schema public + schema", reset, True, lambda url: None)


def main(rounds: int) -> None:
    lifecycle()
    with PgServer() as server:
        print(f"server binaries: {server.bindir}")
        per_test(server, rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
