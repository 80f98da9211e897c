"""The throwaway PostgreSQL server of tests/pgserver.py: it starts, isolates databases, locks, and goes away."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from .conftest import pg_or_skip
from .pgserver import NOT_FOUND, PgNotFound, PgServer, base_dir, find_bindir


def test_select_one(pg_server: PgServer) -> None:
    """The server answers on 127.0.0.1 at the port in its URL, with the test settings."""
    assert pg_server.url == f"postgresql://masthead@127.0.0.1:{pg_server.port}/masthead"
    with psycopg.connect(pg_server.url) as db:
        assert (1,) == db.execute("SELECT 1").fetchone()
        assert ("off", "off", "C") == db.execute(
            "SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('lc_collate')"
        ).fetchone()
        assert (str(pg_server.folder),) == db.execute("SHOW unix_socket_directories").fetchone()


def test_fresh_databases_are_isolated(pg_server: PgServer, pg_url: str) -> None:
    """A table made in one fresh database is not in another, and a fresh database has no table."""
    other = pg_server.create_database()
    try:
        assert other != pg_url
        with psycopg.connect(pg_url) as one, psycopg.connect(other) as two:
            one.execute("CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)")
            one.execute("INSERT INTO meta VALUES ('a', 'b')")
            one.commit()
            assert (None,) == two.execute("SELECT to_regclass('meta')").fetchone()
            assert (0,) == two.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
    finally:
        pg_server.drop_database(other)
    with psycopg.connect(pg_server.url) as db:
        assert (0,) == db.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                                  (other.rsplit("/", 1)[1],)).fetchone()


def test_database_from_a_template(pg_server: PgServer) -> None:
    """A database filled once serves as template: each copy starts with its tables and rows."""
    with pg_server.fresh_database() as template:
        with psycopg.connect(template) as db:
            db.execute("CREATE TABLE subscribers (email text PRIMARY KEY)")
            db.execute("INSERT INTO subscribers VALUES ('a@example.org')")
        with pg_server.fresh_database(template) as copy, psycopg.connect(copy) as db:
            assert [("a@example.org",)] == db.execute("SELECT email FROM subscribers").fetchall()


def test_skip_locked_across_connections(pg_url: str) -> None:
    """FOR UPDATE SKIP LOCKED hands two workers different rows; the lock is real (NOWAIT fails) and ends at commit."""
    with psycopg.connect(pg_url) as setup:
        setup.execute("CREATE TABLE sends (id integer PRIMARY KEY, status text NOT NULL)")
        setup.execute("INSERT INTO sends SELECT n, 'pending' FROM generate_series(1, 3) AS n")
    take = "SELECT id FROM sends WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    with psycopg.connect(pg_url) as a, psycopg.connect(pg_url) as b:
        assert (1,) == a.execute(take).fetchone()
        assert (2,) == b.execute(take).fetchone()
        b.rollback()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            b.execute("SELECT id FROM sends WHERE id = 1 FOR UPDATE NOWAIT")
        b.rollback()
        a.execute("UPDATE sends SET status = 'sent' WHERE id = 1")
        a.commit()
        assert (2,) == b.execute(take).fetchone()


def test_advisory_lock_across_connections(pg_url: str) -> None:
    """pg_try_advisory_lock: one holder per key, other keys free, released by unlock or by closing."""
    take = "SELECT pg_try_advisory_lock(%s)"
    with psycopg.connect(pg_url, autocommit=True) as b:
        with psycopg.connect(pg_url, autocommit=True) as a:
            assert (True,) == a.execute(take, (7,)).fetchone()
            assert (False,) == b.execute(take, (7,)).fetchone()
            assert (True,) == b.execute(take, (8,)).fetchone()
            assert (True,) == a.execute("SELECT pg_advisory_unlock(7)").fetchone()
            assert (True,) == b.execute(take, (7,)).fetchone()
            assert (False,) == a.execute(take, (8,)).fetchone()
            assert (True,) == a.execute(take, (9,)).fetchone()
            assert (False,) == b.execute(take, (9,)).fetchone()
        # The server ends a's session a moment after the client closes it: ask until then.
        deadline = time.monotonic() + 10
        while (False,) == b.execute(take, (9,)).fetchone() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (True,) == b.execute("SELECT pg_advisory_unlock(9)").fetchone()


def test_close_stops_the_server_and_deletes_its_folder() -> None:
    """After close() nothing listens on the port and the temp folder is gone; as root a plain user owned it."""
    server = pg_or_skip().start()
    folder = server.folder
    assert folder is not None
    try:
        if os.geteuid() == 0:
            assert 0 != (folder / "data").stat().st_uid
        with psycopg.connect(server.url) as db:
            assert (1,) == db.execute("SELECT 1").fetchone()
    finally:
        server.close()
    server.close()
    assert not folder.exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass


def test_missing_binaries_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MASTHEAD_PG_BIN naming a folder without the binaries gives the install hint, not a crash."""
    monkeypatch.setenv("MASTHEAD_PG_BIN", str(tmp_path))
    assert find_bindir() is None
    with pytest.raises(PgNotFound, match="apt-get install postgresql, or set MASTHEAD_PG_BIN") as raised:
        PgServer()
    assert str(raised.value).startswith(NOT_FOUND)
    assert str(tmp_path) in str(raised.value)


def test_a_failed_start_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """When initdb fails, start() raises with its output and removes the temp folder it made."""
    bindir = Path(tempfile.mkdtemp())
    try:
        bindir.chmod(0o755)  # as root the programs run as a plain user, who must reach them
        for name in ("initdb", "pg_ctl", "postgres"):
            (bindir / name).write_text("#!/bin/sh\necho 'initdb: no room' >&2\nexit 1\n")
            (bindir / name).chmod(0o755)
        monkeypatch.setenv("MASTHEAD_PG_BIN", str(bindir))
        before = set(base_dir().glob("masthead-pg-*"))
        server = PgServer()
        with pytest.raises(RuntimeError, match="no room"):
            server.start()
        assert server.folder is None
        assert before == set(base_dir().glob("masthead-pg-*"))
    finally:
        shutil.rmtree(bindir)
