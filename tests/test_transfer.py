"""Moving house: 'masthead db export' and 'db import' carry the whole state between SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from masthead.config import Publication, load_publication
from masthead.errors import ConfigError
from masthead.pipeline import run
from masthead.state import archives, feedback, httpcache, roster, signups
from masthead.state.db import SCHEMA_VERSION, open_store
from masthead.state.transfer import export_state, import_state, table_counts
from masthead.subscribers.roster import add_subscriber

from .conftest import ROOT, SECRET
from .mailserver import MailServer
from .pgserver import PgServer

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
LEGACY = ROOT / "tests" / "data" / "state-v0.db"
SIGNUP_KEYS = {"address": "hmac-of-an-address", "client": "hmac-of-a-client"}


def masthead(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    return subprocess.run([sys.executable, "-m", "masthead", *args], capture_output=True, text=True,
                          env={**clean, **(env or {})}, timeout=180)


@pytest.fixture(scope="module")
def lived_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A publication whose SQLite state has rows in every table: a run that sent digests, subscribers
    who left a feed or bounced (a bounce read from a provider's webhook), a sign-up under way, an
    upstream response cached."""
    root = tmp_path_factory.mktemp("lived-in") / "pub"
    shutil.copytree(ROOT / "feeds", root / "feeds")
    shutil.copytree(ROOT / "templates", root / "templates")
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        for email, feeds in (("amal@example.com", ["ar-news", "en-news"]), ("badr@example.com", ["ar-news"]),
                             ("camil@example.com", ["en-news"])):
            add_subscriber(store, pub, email, name="قارئ", feeds=feeds, now=NOW - timedelta(days=2))
    server = MailServer().start()
    try:
        run(pub, now=NOW, smtp=server.settings)
    finally:
        server.stop()
    with open_store(pub.state_dir) as store:
        roster.leave_feed(store, "amal@example.com", "en-news", now=NOW)
        roster.set_status(store, "camil@example.com", "bounced", now=NOW)
        feedback.record_event(store, feedback.MailEvent(
            key="ses:0001:camil@example.com", email="camil@example.com", digest_id="en-news/weekly/2022-04-25",
            kind="hard", status="5.1.1", detail="550 5.1.1 no such user", source="ses", received=NOW))
        feedback.claim_receipt(store, "ses", "0001", now=NOW, keep_since=NOW - timedelta(days=1))
        assert signups.claim(store, SIGNUP_KEYS, {"address": 1, "client": 5}, total=200, now=NOW,
                             since=NOW - timedelta(minutes=10)) is None
        signups.enqueue(store, "q1", "dana@example.com", "a-signed-token", "ar", now=NOW)
        with store.transaction():
            assert signups.use_token(store, "hmac-of-a-used-link", expires=NOW + timedelta(days=7), now=NOW)
        if not table_counts(store, ["archive_entries"])["archive_entries"]:
            archives.replace(store, {"ar-news": [["an-article-id"]]})
        httpcache.put(store, "https://example.org/feed.xml", '"v1"', "Fri, 06 May 2022 10:00:00 GMT",
                      b"<rss>\x00\xff</rss>")
    return root


def export(pub: Publication, database: str | None, path: Path) -> bytes:
    with open_store(pub.state_dir, database) as store:
        export_state(store, path)
    return path.read_bytes()


@pytest.fixture
def empty_pg(pg_server: PgServer) -> Iterator[str]:
    """A new PostgreSQL database with nothing in it, not even the schema."""
    with pg_server.fresh_database() as url:
        yield url


class TestRoundTrip:
    def test_every_table_is_exported_with_its_rows(self, lived_in: Path, tmp_path: Path) -> None:
        """The export holds every table of the schema, and the sample state has rows in each (add some
        to this fixture when you add a table: an empty one would not prove it moves)."""
        pub = load_publication(lived_in)
        lines = export(pub, None, tmp_path / "state.jsonl").decode().splitlines()
        with open_store(pub.state_dir) as store:
            counts = table_counts(store)
        assert [] == [table for table, rows in counts.items() if rows == 0]
        assert (SCHEMA_VERSION, sorted(counts)) == (json.loads(lines[0])["schema_version"],
                                                    sorted(json.loads(lines[0])["tables"]))
        assert counts == json.loads(lines[-1])["end"]

    def test_sqlite_to_postgresql_and_back_loses_nothing(self, lived_in: Path, tmp_path: Path,
                                                         empty_pg: str) -> None:
        """SQLite -> PostgreSQL -> SQLite: each export is byte for byte the first one."""
        pub = load_publication(lived_in)
        first = export(pub, None, tmp_path / "from-sqlite.jsonl")
        with open_store(tmp_path / "unused", empty_pg) as store:
            import_state(store, tmp_path / "from-sqlite.jsonl")
        assert first == export(pub, empty_pg, tmp_path / "from-postgresql.jsonl")
        with open_store(tmp_path / "again") as store:
            import_state(store, tmp_path / "from-postgresql.jsonl")
        with open_store(tmp_path / "again") as store:
            export_state(store, tmp_path / "back-in-sqlite.jsonl")
        assert first == (tmp_path / "back-in-sqlite.jsonl").read_bytes()

    def test_the_moved_publication_carries_on(self, lived_in: Path, tmp_path: Path, empty_pg: str) -> None:
        """After the move a run sends no digest twice, and who left or bounced stays suppressed."""
        pub = load_publication(lived_in)
        export(pub, None, tmp_path / "state.jsonl")
        with open_store(tmp_path / "unused", empty_pg) as store:
            import_state(store, tmp_path / "state.jsonl")
        server = MailServer().start()
        try:
            again = run(pub, now=NOW, smtp=server.settings, database=empty_pg, secret=SECRET.encode())
        finally:
            server.stop()
        assert ([], []) == ([d.digest_id for d in again.deliveries if d.sent], server.received)
        with open_store(tmp_path / "unused", empty_pg) as store:
            assert ("active", ("ar-news",)) == (roster.get(store, "amal@example.com").status,
                                                roster.get(store, "amal@example.com").feeds)
            assert "bounced" == roster.get(store, "camil@example.com").status
            assert "address" == signups.claim(store, SIGNUP_KEYS, {"address": 1, "client": 5}, total=200, now=NOW,
                                              since=NOW - timedelta(minutes=10))
            assert "dana@example.com" == signups.claim_next(store, now=NOW).email


class TestRefusals:
    def test_a_cut_off_file_changes_nothing(self, lived_in: Path, tmp_path: Path) -> None:
        """A file missing its last lines is refused, naming the line, and the target stays empty."""
        whole = export(load_publication(lived_in), None, tmp_path / "state.jsonl").decode().splitlines()
        cut = tmp_path / "cut.jsonl"
        cut.write_text("\n".join(whole[: len(whole) // 2]) + "\n", encoding="utf-8")
        with open_store(tmp_path / "target") as store:
            with pytest.raises(ConfigError) as caught:
                import_state(store, cut)
            assert f"line {len(whole) // 2}" in caught.value.where
            assert "cut off" in caught.value.message
            assert {0} == set(table_counts(store).values())

    def test_a_state_with_rows_is_not_overwritten_unless_asked(self, lived_in: Path, tmp_path: Path) -> None:
        """Importing into a state that holds rows is refused; with replace its rows give way to the file's."""
        path = tmp_path / "state.jsonl"
        first = export(load_publication(lived_in), None, path)
        with open_store(tmp_path / "target") as store:
            roster.upsert(store, "someone@example.com", None, ("ar-news",), NOW, resubscribe=False)
            with pytest.raises(ConfigError) as caught:
                import_state(store, path)
            assert "--replace" in caught.value.hint
            import_state(store, path, replace=True)
            export_state(store, tmp_path / "after.jsonl")
        assert first == (tmp_path / "after.jsonl").read_bytes()

    def test_an_export_of_another_schema_version_is_refused(self, lived_in: Path, tmp_path: Path) -> None:
        """A file from a newer masthead is refused with what to do."""
        lines = export(load_publication(lived_in), None, tmp_path / "state.jsonl").decode().splitlines()
        header = json.loads(lines[0])
        header["schema_version"] = SCHEMA_VERSION + 1
        newer = tmp_path / "newer.jsonl"
        newer.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
        with open_store(tmp_path / "target") as store, pytest.raises(ConfigError) as caught:
            import_state(store, newer)
        assert "upgrade masthead" in caught.value.hint


class TestCommands:
    def test_export_then_import_into_postgresql(self, lived_in: Path, tmp_path: Path, empty_pg: str) -> None:
        """'masthead db export' writes a private file; 'db import' with MASTHEAD_DATABASE_URL loads it."""
        path = tmp_path / "state.jsonl"
        exported = masthead("db", "export", str(path), "--project", str(lived_in))
        assert (0, 0o600) == (exported.returncode, path.stat().st_mode & 0o777), exported.stderr
        imported = masthead("db", "import", str(path), "--project", str(lived_in),
                            env={"MASTHEAD_DATABASE_URL": empty_pg})
        again = masthead("db", "import", str(path), "--project", str(lived_in),
                         env={"MASTHEAD_DATABASE_URL": empty_pg})
        assert 0 == imported.returncode and "imported" in imported.stdout, imported.stderr
        assert (2, "not empty") == (again.returncode, "not empty" if "not empty" in again.stderr else again.stderr)

    def test_upgrade_migrates_an_old_database_once(self, sample_pub: Path) -> None:
        """'masthead db upgrade' brings a database from an older masthead to this schema, then has nothing to do."""
        (sample_pub / ".masthead").mkdir()
        shutil.copy(LEGACY, sample_pub / ".masthead" / "state.db")
        first = masthead("db", "upgrade", "--project", str(sample_pub))
        second = masthead("db", "upgrade", "--project", str(sample_pub))
        assert f"schema version 0 -> {SCHEMA_VERSION}" in first.stdout, first.stderr
        assert f"schema version {SCHEMA_VERSION}, nothing to do" in second.stdout

    def test_upgrade_makes_the_schema_of_a_new_postgresql_database(self, sample_pub: Path, empty_pg: str) -> None:
        """On an empty PostgreSQL database 'db upgrade' creates the schema, naming the database without secrets."""
        done = masthead("db", "upgrade", "--project", str(sample_pub), env={"MASTHEAD_DATABASE_URL": empty_pg})
        assert f"{empty_pg}: schema version 0 -> {SCHEMA_VERSION}" in done.stdout, done.stderr
