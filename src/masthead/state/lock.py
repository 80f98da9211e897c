"""One run at a time per publication: an advisory lock on ``.masthead/lock``.

The lock is ``flock`` on an open file, so the kernel drops it the moment the
holding process dies, even by SIGKILL: a killed run never leaves a stale lock.
The file also records the holder's pid and start time for the error message.
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
from .private import private_dir

LOCK_FILE = "lock"


@contextmanager
def publication_lock(state_dir: Path, now: datetime, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the publication's lock; LockedError when another run holds it after ``wait`` seconds."""
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
                    raise LockedError(
                        f"another masthead run holds the lock ({holder or 'unknown holder'})",
                        where=str(path),
                        hint="let it finish, or pass --wait SECONDS to wait for it",
                    ) from None
                time.sleep(0.2)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, run for {now.isoformat()}\n".encode(), 0)
        except OSError:
            pass                          # the note is for people; the flock is what counts
        try:
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
