"""The embedded engine: one SQLite file in the state folder (``.masthead/state.db``).

Nothing to set up, and the default. SQLite takes the state modules' SQL as it
is (``:name`` and ``?`` parameters, the schema's types). One writer at a time
(BEGIN IMMEDIATE) for every transaction; WAL, so readers never wait. The file
is owner-only, and every SQLite error that is the storage's fault (disk full,
read-only, damaged, locked for longer than ``timeout`` seconds) comes out as a
StorageError naming the database and what to do (faults.py).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from pathlib import Path

from ..errors import storage_error
from .engine import Store, dependency_order
from .faults import guarded
from .private import private_dir, private_file


def _switch_to_wal(db: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode, waiting out other first openers of a brand-new file.

    Two processes converting a new file at once deadlock on its locks, and
    SQLite answers one of them "locked" at once, without its busy wait: try
    again until ``timeout`` has passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class SqliteStore(Store):
    engine = "sqlite"
    skip_locked = ""        # one writer at a time: a claim's UPDATE already runs alone

    def __init__(self, path: Path, *, timeout: float = 30.0):
        super().__init__()
        self.path = path
        self.where = str(path)
        try:
            private_dir(path.parent)
            private_file(path)           # before SQLite makes it: its -wal and -shm take its mode
        except OSError as exc:
            raise storage_error(exc, path, "create the state database") from None
        with self.guard():
            self.db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            _switch_to_wal(self.db, timeout)
            # WAL + NORMAL: a commit is one write(), no fsync. A process killed at any
            # point (kill -9, OOM) loses nothing the next run cannot see; only a power
            # cut can forget the last moments, which at worst repeats a few copies.
            # FULL would put an fsync between "this copy is being sent" and its final
            # dot: a kill during that fsync leaves a copy marked but never sent.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")

    def guard(self) -> AbstractContextManager[object]:
        return guarded(self.path)

    def _begin(self, serial: bool) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def _rollback(self) -> None:
        if self.db.in_transaction:       # SQLite may have rolled back already (disk full)
            self.db.execute("ROLLBACK")

    def _begin_snapshot(self) -> None:
        self.db.execute("BEGIN")
        self.db.execute("SELECT count(*) FROM sqlite_master")   # the read snapshot starts here

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, version: int) -> None:
        self.db.execute(f"PRAGMA user_version = {int(version)}")

    def tables(self) -> list[str]:
        names = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        parents = {name: {r["table"] for r in self.db.execute(
            "SELECT * FROM pragma_foreign_key_list(?)", (name,))} for name in names}
        return dependency_order(names, parents)

    def columns(self, table: str) -> list[str]:
        return [r["name"] for r in self.db.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))]
