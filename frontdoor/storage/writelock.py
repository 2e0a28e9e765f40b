"""Queueing the writers of one SQLite file on a lock file beside it.

SQLite lets one writer in at a time and makes the others retry with growing sleeps (1, 2, 5, 10,
15, 20, 25... ms), so under load a writer often sleeps long after the file is free again. Writers
that take this lock first (every ``Database`` of the file, in any process on the machine) retry
within a millisecond instead. SQLite's own locking still guards the data; this only shortens waits.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from frontdoor.errors import StorageError

FIRST_RETRY_SECONDS = 0.0001
LONGEST_RETRY_SECONDS = 0.001


class WriterLock:
    """An exclusive ``flock`` on ``path`` plus a thread lock (``flock`` does not exclude threads sharing a file)."""

    def __init__(self, path: Path, timeout_seconds: float = 30.0) -> None:
        self.path = path
        self.timeout_seconds = timeout_seconds
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> WriterLock:
        deadline = time.monotonic() + self.timeout_seconds
        if not self._threads.acquire(timeout=self.timeout_seconds):
            raise StorageError(f"the database stayed busy for {self.timeout_seconds:g} s")
        try:
            self._lock_file(deadline)
        except BaseException:
            self._threads.release()
            raise
        return self

    def try_enter(self) -> bool:
        """Take the lock only if it is free this instant; True if taken (leave it with ``__exit__``)."""
        if not self._threads.acquire(blocking=False):
            return False
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        return True

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self, deadline: float) -> None:
        fd = self._file()
        pause = FIRST_RETRY_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StorageError(f"the database stayed busy for {self.timeout_seconds:g} s") from None
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_RETRY_SECONDS)

    def _file(self) -> int:
        """The lock file, opened once per process (a forked worker must not share its parent's)."""
        if self._fd is not None and self._pid == os.getpid():
            return self._fd
        if self._fd is not None:
            os.close(self._fd)
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            self._fd = None
            raise StorageError(f"cannot open the database's lock file {self.path}: {exc.strerror}") from None
        self._pid = os.getpid()
        return self._fd
