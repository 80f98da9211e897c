"""One base error for everything a user can fix; each carries a hint saying how."""

from __future__ import annotations


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
