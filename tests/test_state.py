"""The state database: one timestamp format, migrations of older databases, refusal of newer ones."""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from masthead.config import load_publication
from masthead.errors import ConfigError
from masthead.pipeline import run
from masthead.state import roster
from masthead.state.db import MOMENTS, SCHEMA_VERSION, open_store, stamp, unstamp

from .conftest import ROOT
from .mailserver import MailServer

LEGACY = ROOT / "tests" / "data" / "state-v0.db"   # written by masthead before the state package (schema 0)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


DROPPED = {"signup_mails"}   # version 4 replaced the per-address sign-up limit (rows that lived 10 minutes)


def moments(db: sqlite3.Connection, *, kept_only: bool = False) -> list[str]:
    return [value for table, columns in MOMENTS.items() if not (kept_only and table in DROPPED)
            for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}") for value in row if value is not None]


class TestStamps:
    def test_every_moment_is_utc_and_fixed_width(self) -> None:
        """Any offset becomes the same instant in UTC, 20 characters, so text order is time order."""
        riyadh = datetime(2022, 5, 6, 9, 30, tzinfo=timezone(timedelta(hours=3)))
        assert "2022-05-06T06:30:00Z" == stamp(riyadh)
        assert riyadh == unstamp(stamp(riyadh))
        assert sorted([stamp(riyadh), stamp(riyadh - timedelta(hours=4))]) == [
            stamp(riyadh - timedelta(hours=4)), stamp(riyadh)]

    def test_a_naive_moment_is_refused(self) -> None:
        """A moment without a zone is never stored: its instant is unknown."""
        with pytest.raises(ValueError):
            stamp(datetime(2022, 5, 6, 9, 30))


class TestMigration:
    @pytest.fixture
    def legacy_pub(self, sample_pub: Path) -> Path:
        (sample_pub / ".masthead").mkdir()
        shutil.copy(LEGACY, sample_pub / ".masthead" / "state.db")
        return sample_pub

    def test_the_old_database_really_has_mixed_formats(self) -> None:
        """The fixture is what older masthead wrote: offsets other than Z, several formats."""
        db = sqlite3.connect(LEGACY)
        values = moments(db)
        assert (0, len(values)) != (db.execute("PRAGMA user_version").fetchone()[0], 0)
        assert any(v.endswith("+03:00") for v in values) and any(v.endswith("+00:00") for v in values)

    def test_an_old_database_is_migrated_on_first_use(self, legacy_pub: Path) -> None:
        """Opening it rewrites every moment as UTC stamps, keeps every row and records the schema version."""
        before = sqlite3.connect(LEGACY)
        old = sorted(unstamp(v) for v in moments(before, kept_only=True))
        kept = [t for t in MOMENTS if t not in DROPPED]
        counts = {t: before.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in kept}
        with open_store(legacy_pub / ".masthead") as store:
            values = moments(store.db, kept_only=True)
            assert SCHEMA_VERSION == store.scalar("PRAGMA user_version")
            assert counts == {t: store.scalar(f"SELECT count(*) FROM {t}") for t in kept}
            assert store.one("SELECT 1 FROM sqlite_master WHERE name = 'signup_mails'") is None
            assert all(STAMP.match(v) for v in values), values
            assert old == sorted(unstamp(v) for v in values)
            assert ("unsubscribed", ("ar-news", "en-news")) == (
                roster.get(store, "gone@example.com").status, roster.get(store, "gone@example.com").feeds)
            assert ("ar-news",) == roster.get(store, "leaver@example.com").feeds

    def test_a_run_on_a_migrated_database_sends_nothing_twice(self, legacy_pub: Path) -> None:
        """The digests the old database sent are not sent again; its subscribers get the next one."""
        server = MailServer().start()
        try:
            pub = load_publication(legacy_pub)
            again = run(pub, now=datetime(2022, 5, 7, 6, 0, tzinfo=UTC), smtp=server.settings)
            later = run(pub, now=datetime(2022, 5, 16, 6, 0, tzinfo=UTC), smtp=server.settings)
        finally:
            server.stop()
        assert [0] * len(again.deliveries) == [d.sent for d in again.deliveries]
        assert {"reader@example.com"} <= {r.rcpt for r in server.received}
        assert [d for d in later.deliveries if d.failed] == []

    def test_a_database_from_a_newer_masthead_is_refused(self, tmp_path: Path) -> None:
        """A schema version above this masthead's is a clear error naming the file, not a guess."""
        with open_store(tmp_path):
            pass
        db = sqlite3.connect(tmp_path / "state.db")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.close()
        with pytest.raises(ConfigError) as caught:
            open_store(tmp_path)
        assert "state.db" in str(caught.value) and "upgrade masthead" in str(caught.value)


def test_processes_opening_a_brand_new_state_database_at_once_all_get_it(tmp_path: Path) -> None:
    """A server's threads and a run that open a state database nobody has made yet all open it, none is told it is locked."""
    failures: list[BaseException] = []
    for attempt in range(40):
        state_dir = tmp_path / f"state-{attempt}"
        start = threading.Barrier(3)

        def opener(folder: Path = state_dir, barrier: threading.Barrier = start) -> None:
            barrier.wait()
            try:
                with open_store(folder) as store:
                    store.scalar("SELECT count(*) FROM articles")
            except Exception as exc:          # collected, asserted below
                failures.append(exc)

        threads = [threading.Thread(target=opener) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [] == failures
