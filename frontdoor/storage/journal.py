"""The local journal: records the database could not take, kept on disk until they are replayed into it.

Three files in one folder (``<data_dir>/journal/``), none ever rewritten:

- ``records.jsonl``: one JSON line per record, appended with ``O_APPEND`` under an exclusive
  ``flock`` (several workers and threads append safely) and ``fsync``'d before ``append`` returns;
- ``done.jsonl``: the id of each record once it is in the database, appended the same way;
- ``replay.lock``: held by whichever process is replaying, so one replays at a time.

A line left half-written by a crash is skipped when read (and logged); the next append starts on
a fresh line, so it never swallows a record.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from frontdoor.errors import JournalError

log = logging.getLogger(__name__)

RECORDS = "records.jsonl"
DONE = "done.jsonl"
REPLAY_LOCK = "replay.lock"


@dataclass(frozen=True)
class Record:
    """Something a caller was told is kept (a call, a handoff, a voicemail...), as data: ``kind`` says how to write it."""

    kind: str
    call_id: str
    at: datetime
    data: Mapping[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def line(self) -> bytes:
        fields = {"id": self.id, "kind": self.kind, "call_id": self.call_id, "at": self.at.isoformat(), "data": self.data}
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Record:
        fields = json.loads(line)
        return cls(kind=fields["kind"], call_id=fields["call_id"], at=datetime.fromisoformat(fields["at"]), data=fields["data"], id=fields["id"])


@dataclass(frozen=True)
class Backlog:
    """The records not yet in the database, oldest first, and the calls they belong to."""

    records: tuple[Record, ...] = ()
    calls: frozenset[str] = frozenset()
    unreadable_lines: int = 0


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.records_path = directory / RECORDS
        self.done_path = directory / DONE
        self._lock = threading.Lock()
        self._read_at: tuple[object, object] | None = None
        self._backlog = Backlog()

    def append(self, records: Sequence[Record]) -> None:
        """Keep ``records`` in this order, on disk, before returning; ``JournalError`` when they cannot be."""
        self._append(self.records_path, b"".join(record.line() for record in records))

    def mark_done(self, record: Record) -> None:
        """``record`` is in the database now."""
        self._append(self.done_path, json.dumps({"id": record.id}).encode() + b"\n")

    def backlog(self) -> Backlog:
        """What waits to be replayed; read again only when either file changed."""
        stamp = (_stamp(self.records_path), _stamp(self.done_path))
        with self._lock:
            if stamp != self._read_at:
                self._backlog = self._read()
                self._read_at = stamp
            return self._backlog

    def holds(self, call_id: str) -> bool:
        """Whether records of this call wait here, so later ones must follow them rather than go to the database first."""
        return call_id in self.backlog().calls

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """True inside when this process may replay now, False while another one is."""
        if not self.records_path.exists():
            yield False
            return
        fd = os.open(self.directory / REPLAY_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _read(self) -> Backlog:
        done = set()
        unreadable = 0
        for line in _lines(self.done_path):
            try:
                done.add(json.loads(line)["id"])
            except (ValueError, KeyError, TypeError):
                unreadable += 1
        waiting: dict[str, Record] = {}
        for line in _lines(self.records_path):
            try:
                record = Record.from_line(line)
            except (ValueError, KeyError, TypeError):
                unreadable += 1
                continue
            if record.id not in done:
                waiting.setdefault(record.id, record)
        if unreadable:
            log.error("journal %s: %d unreadable line(s) skipped", self.directory, unreadable)
        records = tuple(waiting.values())
        return Backlog(records, frozenset(record.call_id for record in records), unreadable)

    def _append(self, path: Path, data: bytes) -> None:
        try:
            created = not path.exists()
            if created:
                self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _sync_folder(self.directory)
        except OSError as exc:
            raise JournalError(f"cannot write the journal {path}: {exc.strerror or exc}") from None

def _lines(path: Path) -> list[bytes]:
    """The complete lines of ``path``; a last line without its newline is still being written (or was torn by a crash)."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise JournalError(f"cannot read the journal {path}: {exc.strerror}") from None
    *complete, _unfinished = content.split(b"\n")
    return [line for line in complete if line.strip()]


def _stamp(path: Path) -> object:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"cannot read the journal {path}: {exc.strerror}") from None
    return found.st_ino, found.st_size, found.st_mtime_ns


def _sync_folder(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
