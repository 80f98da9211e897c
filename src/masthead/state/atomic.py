"""Atomic writes: a killed job leaves every file either old or new, never half.

A file whose bytes would not change is not touched, so its modification time
(and any HTTP Last-Modified built on it) stays as it was. A disk that is full
or read-only is a StorageError naming the file; the old file stays whole.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import storage_error


def atomic_write(path: Path, content: bytes, *, mode: int = 0o644) -> bool:
    """Write ``content`` to ``path`` via temp file, fsync and rename.

    Returns True when the file changed, False when it already held these bytes.
    StorageError when the disk refuses (full, read-only, no permission).
    """
    try:
        if path.read_bytes() == content:
            return False
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        pass
    except OSError as exc:
        raise storage_error(exc, path, "read it") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise storage_error(exc, path, "write it") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise storage_error(exc, path, "write it") from None
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a killed run left behind; returns how many."""
    count = 0
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            try:
                tmp.unlink(missing_ok=True)
            except OSError as exc:
                raise storage_error(exc, tmp, "remove this leftover temporary file") from None
            count += 1
    return count
