"""Atomic writes: a killed job leaves every file either old or new, never half.

A file's bytes are fsynced before it is renamed over the old one, so no name
ever shows a torn file, whatever stops the job. The rename itself survives a
power cut only once its folder is fsynced too; a run writes thousands of
files into a few dozen folders, so it hands ``atomic_write`` one Folders
record and fsyncs each folder once, when the files must be on disk for sure
(before the state records the build, before hubs and readers are told).

A file whose bytes would not change is not touched, so its modification time
(and any HTTP Last-Modified built on it) stays as it was. A disk that is full
or read-only is a StorageError naming the file; the old file stays whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import storage_error


class Folders:
    """Folders whose new entries are not yet durable, each fsynced once by ``sync``.

    ``then(action)`` holds back something that may only happen once they are
    durable (recording the build in the state): it runs after the next
    ``sync`` that leaves nothing pending.
    """

    def __init__(self) -> None:
        self._pending: dict[Path, None] = {}     # insertion-ordered set
        self._made: set[Path] = set()            # folders known to exist: no stat to check again
        self._waiting: list[Callable[[], None]] = []
        self.synced = 0                          # folder fsyncs so far

    def add(self, folder: Path) -> None:
        self._pending[folder] = None

    def make(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents; each folder that gains one is pending."""
        if folder in self._made:
            return
        missing = []
        probe = folder
        while not probe.is_dir():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        folder.mkdir(parents=True, exist_ok=True)
        for created in missing:
            self.add(created.parent)
        self._made.add(folder)

    def then(self, action: Callable[[], None]) -> None:
        self._waiting.append(action)

    def sync(self, *, keep: Path | None = None) -> int:
        """fsync each pending folder once (but ``keep``, left pending); returns how many were fsynced.

        The held-back actions run when nothing is left pending.
        """
        done = [folder for folder in self._pending if folder != keep]
        for folder in done:
            _fsync_dir(folder)
            del self._pending[folder]
        self.synced += len(done)
        if not self._pending:
            waiting, self._waiting = self._waiting, []
            for action in waiting:
                action()
        return len(done)


def atomic_write(path: Path, content: bytes, *, mode: int = 0o644, folders: Folders | None = None) -> bool:
    """Write ``content`` to ``path`` via temp file, fsync and rename.

    With ``folders`` the rename is made durable by its next ``sync`` (one
    fsync per folder for the whole batch); without, the folder is fsynced now.
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
    batch = folders if folders is not None else Folders()
    try:
        batch.make(path.parent)
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
    batch.add(path.parent)
    if folders is None:
        batch.sync()
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
    for here, _, names in os.walk(folder):     # os.walk lists with scandir: no Path per file
        for name in names:
            if len(name) > 4 and name.startswith(".") and name.endswith(".tmp"):
                tmp = Path(here, name)
                try:
                    tmp.unlink(missing_ok=True)
                except OSError as exc:
                    raise storage_error(exc, tmp, "remove this leftover temporary file") from None
                count += 1
    return count
