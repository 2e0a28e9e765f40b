"""The SQLite file as frontdoor first opened it, checked before every transaction.

Deleting or replacing the file under a running frontdoor used to go unnoticed: open connections
kept writing to the deleted file, and new ones made an empty one. The file's identity (device and
inode) is remembered at open; a file that is gone or is another one raises ``DatabaseFileChanged``,
and a file (or its ``-wal``/``-shm`` companion) that cannot be written raises ``StorageError``
before SQLite touches it (writing to an immutable ``-shm`` file through its memory map would kill
the process with SIGBUS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from frontdoor.errors import DatabaseFileChanged, StorageError


@dataclass(frozen=True)
class DatabaseFile:
    path: str
    identity: tuple[int, int]

    @classmethod
    def opened(cls, path: Path) -> DatabaseFile:
        return cls(str(path), _identity(str(path)))

    def check(self, writing: bool) -> None:
        """Raise unless the file is the one first opened and can be written (for readers: its shared-memory index)."""
        if _identity(self.path) != self.identity:
            raise DatabaseFileChanged(f"the database file {self.path} was replaced while frontdoor ran; nothing is written to it until it is restored")
        for path in (self.path, self.path + "-wal", self.path + "-shm") if writing else (self.path + "-shm",):
            if not os.access(path, os.W_OK) and os.path.exists(path):
                raise StorageError(f"the database file {path} cannot be written (read-only or immutable)")


def _identity(path: str) -> tuple[int, int]:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise DatabaseFileChanged(f"the database file {path} is missing (deleted while frontdoor ran?); nothing is written until it is restored") from None
    except OSError as exc:
        raise StorageError(f"cannot check the database file {path}: {exc.strerror}") from None
    return found.st_dev, found.st_ino
