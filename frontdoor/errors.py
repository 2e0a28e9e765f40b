"""Errors that reach a user: each carries a one-line message and an exit status."""

from __future__ import annotations


class FrontdoorError(Exception):
    """A problem a user can fix; rendered at the edge as one line, never a traceback."""

    exit_status = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(FrontdoorError):
    """Bad settings, or a bad settings, incidents or directory file."""

    exit_status = 2


class InputError(FrontdoorError):
    """Bad input on the command line or in an input file."""

    exit_status = 2


class NotFoundError(FrontdoorError):
    """An id that names nothing (an incident, a call, a user)."""

    exit_status = 1


class StorageError(FrontdoorError):
    """The database cannot be reached or written."""

    exit_status = 1


class DatabaseFileChanged(StorageError):
    """The SQLite file frontdoor opened is gone or another file took its place: nothing is written until an operator restores it."""


class JournalError(StorageError):
    """The local journal that keeps records while the database cannot be written cannot be written either."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or written right now; it may come back."""
