"""The state folder is private: ``.masthead/`` is 0700, every file in it 0600.

It holds subscriber addresses, the send log, the signing key and sample
messages. New files are made owner-only; a folder or file an older masthead
(or a loose umask) left readable by others is tightened on the next run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import storage_error

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents) if needed; ``path`` itself ends owner-only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)


def private_file(path: Path) -> None:
    """Create ``path`` empty and owner-only when missing; tighten its mode when others may read it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, FILE_MODE)
        return
    os.close(fd)


def secure_tree(state_dir: Path) -> int:
    """Tighten every folder under ``state_dir`` to 0700 and every file to 0600; how many were loose."""
    if not state_dir.is_dir():
        return 0
    loose = 0
    for folder, dirs, files in os.walk(state_dir):
        for name, mode in [(folder, DIR_MODE)] + [(os.path.join(folder, f), FILE_MODE) for f in files]:
            info = os.lstat(name)
            if stat.S_ISLNK(info.st_mode):
                continue                      # never chmod through a link
            if stat.S_IMODE(info.st_mode) != mode:
                os.chmod(name, mode)
                loose += 1
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return loose


def secure_state(state_dir: Path) -> None:
    """``secure_tree``, with a failure as a StorageError naming the folder."""
    try:
        secure_tree(state_dir)
    except OSError as exc:
        raise storage_error(exc, state_dir, "make the state folder private") from None
