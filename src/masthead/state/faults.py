"""SQLite errors that are the storage's fault (full, read-only, damaged, locked) as StorageErrors.

Anything else SQLite raises is a bug in masthead and keeps its traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StorageError

# SQLite's primary result codes that mean the storage failed, not the code:
# (what happened, what to do).
_STORAGE_FAULTS = {
    3: ("no permission to use the state database",                      # SQLITE_PERM
        "give the user running masthead access to .masthead/ and its files, then run again"),
    5: ("the state database stayed locked by another process",          # SQLITE_BUSY
        "let the other masthead process finish (or stop it), then run again"),
    6: ("the state database stayed locked by another process",          # SQLITE_LOCKED
        "let the other masthead process finish (or stop it), then run again"),
    8: ("the state database is read-only",                              # SQLITE_READONLY
        "make .masthead/ and its files writable by the user running masthead, then run again"),
    10: ("an input/output error on the state database (a failing or full disk?)",   # SQLITE_IOERR
         "check the disk and free some space, then run again"),
    11: ("the state database is damaged",                               # SQLITE_CORRUPT
         "restore .masthead/state.db from a backup, or move it aside to start afresh "
         "(its subscribers and send log would be lost)"),
    13: ("the state database cannot grow: the disk is full",            # SQLITE_FULL
         "free some space, then run again"),
    14: ("the state database cannot be opened",                         # SQLITE_CANTOPEN
         "check that .masthead/ exists and is writable by the user running masthead"),
    26: ("the state database is not a database (damaged or overwritten)",   # SQLITE_NOTADB
         "restore .masthead/state.db from a backup, or move it aside to start afresh "
         "(its subscribers and send log would be lost)"),
}


def storage_fault(exc: sqlite3.Error, path: Path) -> StorageError | None:
    """The StorageError an SQLite error stands for, or None when it is not the storage's fault (a bug)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    fault = _STORAGE_FAULTS.get(code & 0xFF)
    if fault is None:
        return None
    return StorageError(f"{fault[0]} ({exc})", where=str(path), hint=fault[1])


@contextmanager
def guarded(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        fault = storage_fault(exc, path)
        if fault is None:
            raise
        raise fault from None
