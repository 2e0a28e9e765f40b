"""Call records on SQLite and PostgreSQL: schema creation and upgrade, and concurrent writers."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select, text

from frontdoor.calls import CallService
from frontdoor.conversation.model import CallerTurn
from frontdoor.errors import ConfigError, StorageError
from frontdoor.settings import load_settings
from frontdoor.storage.database import SCHEMA_VERSION, Database
from frontdoor.storage.migrations import ARCHIVED
from frontdoor.storage.schema import CallRecord, HandoffRecord, SchemaVersion, TurnRecord
from frontdoor.storage.writelock import WriterLock

PROCESSES = 4
CALLS_PER_PROCESS = 5
SHARED_TURNS_PER_PROCESS = 5


def test_schema_is_created_and_versioned(database: Database) -> None:
    with database.session() as session:
        assert session.scalar(select(SchemaVersion.version)) == SCHEMA_VERSION


def test_opening_an_existing_database_keeps_its_records(database_url: str, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(f'[database]\nurl = "{database_url}"\n')
    first = CallService.from_settings(settings)
    call = first.start_call(channel="text", caller_number="+15551230001")
    first.database.dispose()
    again = CallService.from_settings(settings)
    assert again.calls.state(call.call_id).caller.name == "Dana Whitfield"
    with again.database.session() as session:
        assert session.scalar(select(func.count()).select_from(SchemaVersion)) == 1


def test_a_newer_schema_is_refused_with_a_clear_message(database: Database) -> None:
    with database.session() as session:
        session.scalar(select(SchemaVersion)).version = SCHEMA_VERSION + 1
    with pytest.raises(StorageError, match="newer than this frontdoor"):
        Database(database.url)


NEW_IN_VERSION_2 = ("claimed_by", "claimed_at", "closed_by", "closed_at", "close_outcome", "close_note")


def test_a_version_1_database_is_upgraded_and_handoffs_already_over_are_archived(database: Database) -> None:
    now = datetime.now(timezone.utc)
    with database.engine.begin() as connection:  # back to version 1: the handoffs table before claims and closings
        connection.execute(text("DROP INDEX ix_handoffs_closed_at"))
        for column in NEW_IN_VERSION_2:
            connection.execute(text(f"ALTER TABLE handoffs DROP COLUMN {column}"))
        connection.execute(text("UPDATE schema_version SET version = 1"))
    cases = {"over": (now - timedelta(minutes=5), now), "old": (now - timedelta(hours=3), None), "live": (now - timedelta(minutes=5), None)}
    with database.engine.begin() as connection:
        for name, (started, ended) in cases.items():
            connection.execute(insert(CallRecord.__table__), {"id": name, "channel": "phone", "started_at": started, "ended_at": ended, "state": {}, "vip": False, "version": 0})
            connection.execute(
                text("INSERT INTO handoffs (call_id, reason, summary, status, attempts, created_at) VALUES (:id, 'urgency', '{}', 'waiting', 0, :at)"),
                {"id": name, "at": started + timedelta(seconds=30)},
            )
    database.dispose()

    upgraded = Database(database.url)
    try:
        assert {column["name"] for column in inspect(upgraded.engine).get_columns("handoffs")} >= set(NEW_IN_VERSION_2)
        assert "ix_handoffs_closed_at" in {index["name"] for index in inspect(upgraded.engine).get_indexes("handoffs")}
        with upgraded.session() as session:
            assert session.scalar(select(SchemaVersion.version)) == SCHEMA_VERSION
            rows = {row.call_id: row for row in session.scalars(select(HandoffRecord))}
        assert {name: row.close_outcome for name, row in rows.items()} == {"over": ARCHIVED, "old": ARCHIVED, "live": None}
        assert rows["over"].closed_at is not None and rows["over"].closed_by is None and rows["live"].closed_at is None
    finally:
        upgraded.dispose()


def test_bad_database_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="'database.url'"):
        Database("not a url")
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        Database("mysql://u:p@localhost/x")


def test_unreachable_postgres_does_not_stop_a_start_and_is_a_storage_error_without_the_password_at_use() -> None:
    database = Database("postgresql://frontdoor:secret-pw@127.0.0.1:9/frontdoor?connect_timeout=2")
    with pytest.raises(StorageError) as caught:
        with database.read():
            pass
    assert "secret-pw" not in str(caught.value)
    assert "cannot open database" in str(caught.value)


def _writer(database_url: str, config_path: str, shared_call: str, worker: int, results: "multiprocessing.Queue[object]") -> None:
    try:
        service = CallService.from_settings(load_settings(config_path, environ={"FRONTDOOR_DATABASE_URL": database_url}))
        for index in range(CALLS_PER_PROCESS):
            call = service.start_call(channel="text", caller_number=f"+1555000{worker:02d}{index:02d}")
            service.take_turn(call.call_id, CallerTurn(text="how do i clear my browser cache"))
            service.take_turn(call.call_id, CallerTurn(text="and cookies too"))
        for index in range(SHARED_TURNS_PER_PROCESS):
            service.take_turn(shared_call, CallerTurn(text=f"how do i set up the vpn {worker} {index}"))
        results.put("ok")
    except BaseException as exc:  # reported to the parent, which fails the test with it
        results.put(repr(exc))


def test_concurrent_writers_lose_and_corrupt_nothing(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[conversation]\nautomated_turn_budget = 1000\n")
    service = CallService.from_settings(load_settings(config, environ={"FRONTDOOR_DATABASE_URL": database_url}))
    shared = service.start_call(channel="text", caller_number="+15551230001").call_id
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_writer, args=(database_url, str(config), shared, worker, results)) for worker in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    outcomes = [results.get(timeout=180) for _ in workers]
    for process in workers:
        process.join(timeout=60)
    assert outcomes == ["ok"] * PROCESSES

    state = service.calls.state(shared)
    expected_turns = PROCESSES * SHARED_TURNS_PER_PROCESS
    assert [turn.index for turn in state.turns] == list(range(expected_turns))
    assert len(state.replies) == expected_turns + 1
    with service.database.session() as session:
        assert session.scalar(select(func.count()).select_from(CallRecord)) == 1 + PROCESSES * CALLS_PER_PROCESS
        caller_rows = session.scalar(select(func.count()).select_from(TurnRecord).where(TurnRecord.speaker == "caller"))
        assert caller_rows == PROCESSES * CALLS_PER_PROCESS * 2 + expected_turns
        shared_rows = session.scalars(select(TurnRecord.turn).where(TurnRecord.call_id == shared, TurnRecord.speaker == "caller")).all()
        assert sorted(shared_rows) == list(range(expected_turns))


def _hold_writer_lock(path: str, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the writer lock of ``path``, says so, and keeps it ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, path, str(seconds)], stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


HOLD_LOCK = """
import sys, time
from pathlib import Path
from frontdoor.storage.writelock import WriterLock
with WriterLock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_writers_in_other_processes_queue_on_the_sqlite_files_lock(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'frontdoor.db'}")
    holder = _hold_writer_lock(str(tmp_path / "frontdoor.db.writer-lock"), 0.6)
    started = time.monotonic()
    with database.transaction() as connection:
        waited = time.monotonic() - started
        assert waited >= 0.4
        connection.execute(text("CREATE TABLE after_the_other_writer (id INTEGER)"))
    assert holder.wait(timeout=10) == 0
    with database.read() as connection:
        assert connection.scalar(text("SELECT count(*) FROM after_the_other_writer")) == 0
    database.dispose()


def test_threads_of_one_process_take_turns_with_the_writer_lock(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "lock")
    inside: list[int] = []
    overlaps: list[int] = []

    def write(index: int) -> None:
        with lock:
            inside.append(index)
            if len(inside) > 1:
                overlaps.append(index)
            time.sleep(0.01)
            inside.remove(index)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(20)))
    assert overlaps == []


def test_a_writer_lock_held_too_long_is_a_clear_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = _hold_writer_lock(str(path), 2.0)
    with pytest.raises(StorageError, match="stayed busy for 0.2 s"):
        with WriterLock(path, timeout_seconds=0.2):
            pass
    holder.wait(timeout=10)
    with WriterLock(path, timeout_seconds=0.2):
        pass


def test_a_writer_lock_that_cannot_be_created_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open the database's lock file"):
        with WriterLock(tmp_path / "missing-folder" / "lock"):
            pass
