"""One run at a time per publication.

With the state in SQLite the lock is ``flock`` on ``.masthead/lock``: the
kernel drops it the moment the holding process dies, even by SIGKILL, so a
killed run never leaves a stale lock. The file also records the holder's pid
and start time for the error message.

With the state in PostgreSQL, runs may start on different machines, so the
lock is a session advisory lock in the database, held on the run's own
connection: the server drops it when that session ends, a killed run's too.
The error names the holder from ``pg_stat_activity``.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ..errors import LockedError, storage_error
from .engine import Store
from .postgres import LOCK_CLASS, RUN
from .private import private_dir

LOCK_FILE = "lock"
_HELD: set[int] = set()        # descriptors of the lock files this process holds
_HINT = "let it finish, or pass --wait SECONDS to wait for it"


@contextmanager
def publication_lock(state_dir: Path, now: datetime, *, wait: float = 0.0,
                     store: Store | None = None) -> Iterator[None]:
    """Hold the publication's lock; LockedError when another run holds it after ``wait`` seconds.

    ``store`` on PostgreSQL: the lock is taken in that database (across
    machines); otherwise it is the state folder's lock file.
    """
    if store is not None and store.engine == "postgresql":
        with _database_lock(store, wait):
            yield
        return
    with _file_lock(state_dir, now, wait):
        yield


@contextmanager
def _file_lock(state_dir: Path, now: datetime, wait: float) -> Iterator[None]:
    path = state_dir / LOCK_FILE
    try:
        private_dir(state_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise storage_error(exc, path, "take the publication's lock") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    raise LockedError(f"another masthead run holds the lock ({holder or 'unknown holder'})",
                                      where=str(path), hint=_HINT) from None
                time.sleep(0.2)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, run for {now.isoformat()}\n".encode(), 0)
        except OSError:
            pass                          # the note is for people; the flock is what counts
        _HELD.add(fd)
        try:
            yield
        finally:
            _HELD.discard(fd)
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def held_lock_files() -> tuple[int, ...]:
    """The descriptors of the lock files this process holds: what a forked helper process closes first."""
    return tuple(sorted(_HELD))


@contextmanager
def _database_lock(store: Store, wait: float) -> Iterator[None]:
    deadline = time.monotonic() + wait
    while not store.scalar(f"SELECT pg_try_advisory_lock({LOCK_CLASS}, {RUN})"):
        if time.monotonic() >= deadline:
            raise LockedError(f"another masthead run holds the lock ({_holder(store)})",
                              where=store.where, hint=_HINT)
        time.sleep(0.2)
    try:
        yield
    finally:
        if not store.db.closed:
            store.scalar(f"SELECT pg_advisory_unlock({LOCK_CLASS}, {RUN})")


def _holder(store: Store) -> str:
    """Who holds the run lock: the application name masthead gives its sessions, and since when."""
    row = store.one(
        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        f"AND l.classid = {LOCK_CLASS} AND l.objid = {RUN} AND l.objsubid = 2")
    if row is None:
        return "unknown holder"
    started = row[2].isoformat(timespec="seconds") if row[2] else "?"
    return f"{row[0] or 'a session'}{f' from {row[1]}' if row[1] else ''}, connected since {started}"
