"""One base error for everything a user can fix; each carries a hint saying how."""

from __future__ import annotations

import errno


class MastheadError(Exception):
    """A problem the user can fix. The CLI prints it without a traceback.

    ``where`` names the file (and line or key) at fault; ``hint`` says what to do.
    """

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(MastheadError):
    """The publication's settings or templates are wrong: exit code 2."""

    exit_code = 2


class LockedError(MastheadError):
    """Another run holds the publication's lock: exit code 3."""

    exit_code = 3


class InputError(MastheadError):
    """One article file or upstream source cannot be read; the others go on."""


class DeliveryError(MastheadError):
    """Mail could not be delivered: exit code 4."""

    exit_code = 4


class StorageError(MastheadError):
    """The disk or the state database failed us (full, read-only, damaged, locked): exit code 5.

    Printed as one line naming the path and what to do; the files already
    written stay whole (every write is atomic) and the next run completes.
    """

    exit_code = 5

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}; {self.hint}" if self.hint else text


def storage_error(exc: OSError, path: object, doing: str) -> StorageError:
    """The StorageError for an OSError met while ``doing`` something to ``path``."""
    reason = {
        errno.ENOSPC: ("the disk is full", "free some space, then run again"),
        errno.EDQUOT: ("the disk quota is used up", "free some space, then run again"),
        errno.EFBIG: ("the file is over the size limit", "raise the file size limit, then run again"),
        errno.EROFS: ("the file system is read-only", "make it writable, then run again"),
        errno.EACCES: ("permission denied", "give the user running masthead write access, then run again"),
        errno.EPERM: ("permission denied", "give the user running masthead write access, then run again"),
        errno.EIO: ("an input/output error (a failing disk?)", "check the disk, then run again"),
    }.get(exc.errno or 0, (exc.strerror or str(exc), "fix the storage, then run again"))
    return StorageError(f"cannot {doing}: {reason[0]}", where=str(path), hint=reason[1])
