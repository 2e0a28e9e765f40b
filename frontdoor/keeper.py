"""Keeping what callers are told is kept: in the database, or in the local journal while it cannot be written.

A caller hears "your message is with the service desk" only once the message is durable in one of
the two. Such records are data (``Record``) so the journal can hold them. ``RecordKeeper.replay``
moves journaled records into the database once it takes writes again, each exactly once: a
record's id is written in the same transaction as the record (``replayed_records``), each record is
an insert-if-absent or a change with the same effect twice, and a record is marked done in the
journal only after its transaction committed, so a crash anywhere in between repeats nothing and
loses nothing. A call's records are replayed in the order they were written (the call row first);
while a call has records waiting, its new ones queue behind them. If the database refuses one
record (not an outage: that record itself), the rest of that call waits for an operator and other
calls go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Literal, Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from frontdoor.conversation.state import CallState
from frontdoor.errors import JournalError, StorageError
from frontdoor.rounds import BackgroundRounds
from frontdoor.storage.calls import insert_call, insert_handoff
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.followups import connected, finish, request_callback, save_voicemail
from frontdoor.storage.journal import Journal, Record
from frontdoor.storage.schema import ReplayedRecord

log = logging.getLogger(__name__)

Write = Callable[[Connection], object]
Kept = Literal["database", "journal"]

REPLAY_INTERVAL_SECONDS = 5.0
_REPLAYED = ReplayedRecord.__table__


# --- the records ----------------------------------------------------------------------------------


def call_record(state: CallState, provider_id: str | None = None) -> Record:
    """The call row (with its greeting), unless the call is stored already."""
    return Record("call", state.call_id, state.started_at, {"state": state.to_dict(), "provider_id": provider_id})


def handoff_record(call_id: str, reason: str, summary: dict[str, Any], at: datetime) -> Record:
    """The call's handoff with its warm-transfer summary, unless it has one."""
    return Record("handoff", call_id, at, {"reason": reason, "summary": summary})


def connected_record(call_id: str, agent: str | None, at: datetime, queued_seconds: float | None = None) -> Record:
    """A person took the call (``queued_seconds`` after the handoff began, from a queue)."""
    return Record("connected", call_id, at, {"agent": agent, "queued_seconds": queued_seconds})


def voicemail_record(call_id: str, recording_sid: str, recording_url: str, seconds: int | None, at: datetime) -> Record:
    return Record("voicemail", call_id, at, {"recording_sid": recording_sid, "recording_url": recording_url, "seconds": seconds})


def callback_record(call_id: str, number: str | None, note: str, at: datetime) -> Record:
    return Record("callback", call_id, at, {"number": number, "note": note})


def end_record(call_id: str, call_status: str, at: datetime) -> Record:
    """How the call ended, as the provider reported it."""
    return Record("end", call_id, at, {"call_status": call_status})


def _write_call(connection: Connection, record: Record) -> None:
    insert_call(connection, CallState.from_dict(dict(record.data["state"])), record.data.get("provider_id"))


def _write_handoff(connection: Connection, record: Record) -> None:
    insert_handoff(connection, record.call_id, record.data["reason"], dict(record.data["summary"]), record.at)


def _write_connected(connection: Connection, record: Record) -> None:
    connected(connection, record.call_id, record.data["agent"], record.at, record.data["queued_seconds"])


def _write_voicemail(connection: Connection, record: Record) -> None:
    data = record.data
    save_voicemail(connection, record.call_id, data["recording_sid"], data["recording_url"], data["seconds"], record.at)


def _write_callback(connection: Connection, record: Record) -> None:
    request_callback(connection, record.call_id, record.data["number"], record.data["note"], record.at)


def _write_end(connection: Connection, record: Record) -> None:
    finish(connection, record.call_id, record.data["call_status"], record.at)


_WRITERS: dict[str, Callable[[Connection, Record], None]] = {
    "call": _write_call,
    "handoff": _write_handoff,
    "connected": _write_connected,
    "voicemail": _write_voicemail,
    "callback": _write_callback,
    "end": _write_end,
}


def _write_one(connection: Connection, write: Write | Record) -> None:
    if isinstance(write, Record):
        _WRITERS[write.kind](connection, write)
    else:
        write(connection)


# --- writing and replaying ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayReport:
    replayed: int = 0
    already_there: int = 0
    refused: int = 0
    waiting: int = 0
    busy: bool = False
    stopped: str = ""
    """Why the replay stopped early: the database still cannot be written."""


class RecordKeeper:
    def __init__(self, database: Database, journal: Journal) -> None:
        self.database = database
        self.journal = journal

    def write(self, writes: Sequence[Write | Record]) -> Kept:
        """Run ``writes`` in one transaction. If the database cannot take them, the ``Record``s among them go to the
        journal (the other writes are bookkeeping nobody was promised, and are dropped); without records, or when the
        journal fails too, the error is raised."""
        records = [write for write in writes if isinstance(write, Record)]
        if records and self._queued_behind_journal(records):
            self.journal.append(records)
            return "journal"
        try:
            with self.database.transaction() as connection:
                for write in writes:
                    _write_one(connection, write)
            return "database"
        except (StorageError, SQLAlchemyError) as exc:
            if not records:
                raise
            log.error("the database cannot take the %s of call %s (%s): keeping them in the journal",
                      "/".join(record.kind for record in records), records[0].call_id, exc)
        self.journal.append(records)
        return "journal"

    def backlog(self) -> int:
        """How many records wait in the journal."""
        return len(self.journal.backlog().records)

    def replay(self, now: datetime) -> ReplayReport:
        """Move what the journal holds into the database; stops at the first sign the database is still unavailable."""
        with self.journal.replaying() as mine:
            if not mine:
                return ReplayReport(busy=self.journal.records_path.exists())
            return self._replay(now)

    def _replay(self, now: datetime) -> ReplayReport:
        waiting = self.journal.backlog().records
        replayed = already = refused = 0
        stuck: set[str] = set()
        for index, record in enumerate(waiting):
            if record.call_id in stuck:
                continue
            try:
                with self.database.transaction() as connection:
                    marker = {"id": record.id, "kind": record.kind, "call_id": record.call_id, "replayed_at": now}
                    first_time = insert_new(connection, _REPLAYED, marker, ("id",))
                    if first_time:
                        _write_one(connection, record)
            except (IntegrityError, DataError, KeyError, TypeError, ValueError) as exc:
                log.error("journal record %s (%s of call %s) is refused by the database: %s; the call's later records wait",
                          record.id, record.kind, record.call_id, exc)
                refused += 1
                stuck.add(record.call_id)
                continue
            except (StorageError, SQLAlchemyError) as exc:
                log.info("database still unavailable (%s): %d journal records wait", exc, len(waiting) - index)
                return ReplayReport(replayed, already, refused, len(waiting) - replayed - already, stopped=str(exc))
            self.journal.mark_done(record)
            if first_time:
                replayed += 1
            else:
                already += 1
        return ReplayReport(replayed, already, refused, len(waiting) - replayed - already)

    def _queued_behind_journal(self, records: list[Record]) -> bool:
        try:
            return any(self.journal.holds(record.call_id) for record in records)
        except JournalError as exc:
            log.error("cannot read the journal (%s): writing to the database directly", exc)
            return False


class JournalReplayer(BackgroundRounds):
    """Replays the journal every ``interval`` seconds (and once at start) while the web app runs."""

    work = "journal replay"
    round_at_start = True

    def __init__(self, keeper: RecordKeeper, interval: float = REPLAY_INTERVAL_SECONDS, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(interval)
        self.keeper = keeper
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def round(self) -> None:
        if not self.keeper.backlog():
            return
        report = self.keeper.replay(self.clock())
        if report.replayed or report.refused:
            log.warning("journal: %d records replayed into the database, %d refused, %d waiting", report.replayed, report.refused, report.waiting)
