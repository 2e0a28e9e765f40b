"""A bound on password hashing: at most ``console.password_checks_at_once`` hashes at a time on this
machine, each run at the lowest CPU priority.

A console password check is a deliberately slow scrypt hash (about 0.1-0.2 s of a core). Each
gunicorn sync worker serves one request at a time, so a sign-in flood that kept every worker hashing
would leave the phone line's webhooks waiting in the queue. Each slot is a lock file in the data
folder, taken without waiting by whichever worker (or thread) checks a password; when every slot is
taken the sign-in is refused at once with ``Overloaded``, and the worker is free for the next request.
The hash itself runs on a thread of the lowest priority (Linux: nice 19), so while it works the
webhooks answered by the other workers still get the CPU first.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

from frontdoor.errors import ConfigError, Overloaded
from frontdoor.storage.writelock import WriterLock

LOWEST_PRIORITY = 19

T = TypeVar("T")


def _lowest_priority() -> None:
    """Make the calling thread (only it: Linux keeps a nice value per thread) yield the CPU to everything else."""
    if sys.platform.startswith("linux"):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class PasswordCheckSlots:
    def __init__(self, folder: Path, count: int) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the data folder {folder} for the password-check slots: {exc.strerror}") from None
        self.slots = [WriterLock(folder / f"password-check-{number}.lock") for number in range(count)]
        self._threads: ThreadPoolExecutor | None = None
        self._pid = 0
        self._made = threading.Lock()

    def run(self, check: Callable[[], T]) -> T:
        """Run ``check`` in a free slot on a lowest-priority thread and return its result; ``Overloaded`` at once if every slot is taken."""
        for lock in self.slots:
            if not lock.try_enter():
                continue
            try:
                return self._pool().submit(check).result()
            finally:
                lock.__exit__(None, None, None)
        raise Overloaded("every password-check slot is busy: try again in a moment")

    def _pool(self) -> ThreadPoolExecutor:
        """This process's hashing threads (made after a fork, whose child has none of its parent's threads)."""
        with self._made:
            if self._threads is None or self._pid != os.getpid():
                self._threads = ThreadPoolExecutor(len(self.slots), "password-check", initializer=_lowest_priority)
                self._pid = os.getpid()
            return self._threads
