"""The journal itself: appends from many processes and threads, torn lines, crashes mid-replay, refused records, the CLI."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from frontdoor.cli import main
from frontdoor.conversation.state import CallState
from frontdoor.handoff.summary import CallerCard
from frontdoor.keeper import RecordKeeper, call_record, callback_record, handoff_record, voicemail_record
from frontdoor.storage.database import Database
from frontdoor.storage.journal import REPLAY_LOCK, Journal, Record
from frontdoor.storage.schema import CallbackRequest, CallRecord, HandoffRecord, ReplayedRecord, Voicemail

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
PROCESSES, THREADS, EACH = 4, 4, 25


def a_call(call_id: str, number: str = "+15551230001") -> list[Record]:
    """What a caller who left a message during an outage was promised: the call, its handoff, the message."""
    state = CallState(call_id=call_id, channel="phone", caller=CallerCard(number, "Dana Whitfield", "Finance"), started_at=NOW)
    return [
        call_record(state, call_id),
        handoff_record(call_id, "failure", {"call_id": call_id, "caller": {"number": number, "name": None, "department": None}}, NOW),
        voicemail_record(call_id, f"RE{call_id}", f"https://api.twilio.com/2010-04-01/Recordings/RE{call_id}", 12, NOW + timedelta(minutes=1)),
    ]


def count(database: Database, model, *where) -> int:  # type: ignore[no-untyped-def]
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _append_from_threads(directory: str, process: int) -> None:
    journal = Journal(Path(directory))

    def append(thread: int) -> None:
        for n in range(EACH):
            journal.append(a_call(f"p{process}t{thread}n{n}")[:2])

    threads = [threading.Thread(target=append, args=(thread,)) for thread in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_many_processes_and_threads_append_without_losing_or_mixing_a_line(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_from_threads, args=(str(tmp_path), process)) for process in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    lines = (tmp_path / "records.jsonl").read_bytes().splitlines()
    assert len(lines) == PROCESSES * THREADS * EACH * 2
    records = [json.loads(line) for line in lines]
    for first, second in zip(records[::2], records[1::2]):
        assert (first["kind"], second["kind"], first["call_id"]) == ("call", "handoff", second["call_id"]), "a call's records stay together, in order"
    backlog = Journal(tmp_path).backlog()
    assert len(backlog.records) == len(lines) and len(backlog.calls) == PROCESSES * THREADS * EACH and backlog.unreadable_lines == 0


def test_a_line_torn_by_a_crash_is_skipped_and_never_swallows_the_next_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(a_call("before"))
    with open(tmp_path / "records.jsonl", "ab") as file:
        file.write(b'{"id": "torn", "kind": "voicemail", "call_id": "be')
    assert {r.call_id for r in journal.backlog().records} == {"before"}, "a line still being written is not read"
    journal.append(a_call("after"))
    backlog = journal.backlog()
    assert [r.call_id for r in backlog.records] == ["before"] * 3 + ["after"] * 3
    assert backlog.unreadable_lines == 1


def test_replay_moves_every_record_once_even_after_a_crash_between_commit_and_done_mark(database: Database, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    for call_id in ("CA1", "CA2"):
        journal.append(a_call(call_id))
    keeper = RecordKeeper(database, journal)
    report = keeper.replay(NOW)
    assert (report.replayed, report.already_there, report.waiting) == (6, 0, 0)
    assert count(database, CallRecord) == 2 and count(database, HandoffRecord) == 2 and count(database, Voicemail) == 2
    assert count(database, HandoffRecord, HandoffRecord.status == "voicemail") == 2

    (tmp_path / "journal" / "done.jsonl").unlink()
    assert keeper.backlog() == 6, "the done marks were lost: as after a crash right after the commits"
    report = keeper.replay(NOW)
    assert (report.replayed, report.already_there, report.waiting) == (0, 6, 0)
    assert count(database, Voicemail) == 2 and count(database, ReplayedRecord) == 6
    assert (tmp_path / "journal" / "records.jsonl").read_bytes().count(b"\n") == 6, "history is never rewritten"


def test_a_record_the_database_refuses_holds_back_only_its_own_call(database: Database, tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append([callback_record("CA-never-stored", "+15551230001", "no call row before it", NOW)])
    journal.append(a_call("CA-fine"))
    report = RecordKeeper(database, journal).replay(NOW)
    assert (report.replayed, report.refused, report.waiting) == (3, 1, 1)
    assert count(database, Voicemail, Voicemail.call_id == "CA-fine") == 1 and count(database, CallbackRequest) == 0
    assert [r.call_id for r in journal.backlog().records] == ["CA-never-stored"]


def test_records_of_a_call_already_journaled_queue_behind_it_although_the_database_is_back(database: Database, tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    call, handoff, message = a_call("CA-order")
    journal.append([call, handoff])
    keeper = RecordKeeper(database, journal)
    assert keeper.write([message]) == "journal", "the voicemail must not reach the database before its call row"
    assert count(database, Voicemail) == 0
    assert keeper.write(a_call("CA-other")) == "database"
    keeper.replay(NOW)
    assert count(database, Voicemail, Voicemail.call_id == "CA-order") == 1


def test_one_process_replays_at_a_time(database: Database, tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(a_call("CA-busy"))
    with open(tmp_path / REPLAY_LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert RecordKeeper(database, journal).replay(NOW).busy
    assert RecordKeeper(database, journal).replay(NOW).replayed == 3


def test_journal_status_and_replay_commands(settings_for, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "frontdoor.toml"
    config.write_text(f'[general]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n', encoding="utf-8")
    Journal(tmp_path / "data" / "journal").append(a_call("CA-cli"))
    assert main(["journal", "status", "--config", str(config)]) == 0
    said = capsys.readouterr().out
    assert "waiting: 3 records of 1 calls (call 1, handoff 1, voicemail 1)" in said and "database: takes writes" in said
    assert main(["journal", "replay", "--config", str(config)]) == 0
    assert "replayed 3 records (0 were in the database already, 0 refused); 0 waiting" in capsys.readouterr().out
    assert main(["journal", "status", "--config", str(config)]) == 0
    assert "waiting: nothing" in capsys.readouterr().out
    database = Database(database_url)
    assert count(database, Voicemail, Voicemail.call_id == "CA-cli") == 1
    database.dispose()


def test_journal_status_says_when_the_database_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "frontdoor.toml"
    config.write_text(f'[general]\ndata_dir = "{tmp_path}"\n[database]\nurl = "postgresql://frontdoor:x@127.0.0.1:9/gone"\n', encoding="utf-8")
    Journal(tmp_path / "journal").append(a_call("CA-down"))
    assert main(["journal", "status", "--config", str(config)]) == 1
    said = capsys.readouterr().out
    assert "waiting: 3 records" in said and "database: cannot be written" in said
    assert main(["journal", "replay", "--config", str(config)]) == 1
    assert "stopped: the database cannot be written (cannot open database" in capsys.readouterr().err


IMMUTABLE_SHM = """
import subprocess, sys
from datetime import datetime, timezone
from frontdoor.errors import StorageError
from frontdoor.storage.database import Database, probe_write
database = Database(sys.argv[1])
probe_write(database, datetime.now(timezone.utc))
shm = sys.argv[1].removeprefix("sqlite:///") + "-shm"
subprocess.run(["chattr", "+i", shm], check=True)
try:
    for attempt in (lambda: probe_write(database, datetime.now(timezone.utc)), lambda: database.read().__enter__()):
        try:
            attempt()
            print("no error")
        except StorageError as exc:
            print("refused:", exc)
finally:
    subprocess.run(["chattr", "-i", shm], check=True)
"""


def test_an_immutable_sqlite_index_file_is_refused_instead_of_killing_the_process(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.touch()
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    done = subprocess.run([sys.executable, "-c", IMMUTABLE_SHM, f"sqlite:///{tmp_path / 'frontdoor.db'}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"the process died (SIGBUS is -7): {done.returncode} {done.stderr[-500:]}"
    assert done.stdout.count("refused:") == 2 and "cannot be written" in done.stdout
