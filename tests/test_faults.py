"""Fault injection: whole phone calls through the real app, with real faults, and what callers were promised afterwards.

Faults are made for real, never by replacing frontdoor's code: the PostgreSQL test database stops
taking connections (``ALLOW_CONNECTIONS false`` and its sessions ended), the SQLite files are made
immutable (``chattr +i``), deleted or replaced under the running app, the incident feed on
127.0.0.1 hangs, drips or answers garbage, and stored call data is corrupted so the engine and
the summary raise. Every call is driven by the Twilio simulator with signed webhooks; each test
checks that the caller reached a person or heard a stated next step, and that every record the
caller was told about exists in the database after recovery and replay, exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from frontdoor.conversation import replies
from frontdoor.settings import Settings, load_settings
from frontdoor.storage.database import Database
from frontdoor.storage.schema import CallbackRequest, CallRecord, HandoffRecord, ReplayedRecord, Voicemail
from phone_line import AGENT_1, AGENT_2, DANA, Phone
from test_telephony_gunicorn import AGENT, PUBLIC, TOKEN, Server, server  # noqa: F401 - the gunicorn fixture, used by name
from twilio_sim import Agent, HttpTransport, SimulatedCall, TwilioApiServer, TwilioSimulator

NOBODY = {AGENT_1: Agent("busy"), AGENT_2: Agent("no-answer")}
APOLOGY = "something went wrong on my side"
REPLAY_WAIT_SECONDS = 20.0


# --- faults ---------------------------------------------------------------------------------------


class Outage:
    """The test database made unwritable for real, and brought back."""

    def __init__(self, settings: Settings) -> None:
        self.url = make_url(settings.database_url)

    def __enter__(self) -> Outage:
        self.begin()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.end()

    def begin(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            for path in self._sqlite_files():
                subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            with self._admin() as admin:
                admin.execute(text(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS false'))
                admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                              {"name": self.url.database})

    def end(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            for path in self._sqlite_files():
                subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            with self._admin() as admin:
                admin.execute(text(f'ALTER DATABASE "{self.url.database}" ALLOW_CONNECTIONS true'))

    def _sqlite_files(self) -> list[Path]:
        path = Path(str(self.url.database))
        return [p for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")) if p.exists()]

    @contextmanager
    def _admin(self) -> Iterator:  # type: ignore[type-arg]
        engine = create_engine(make_url(os.environ["FRONTDOOR_TEST_POSTGRES_URL"]).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()


@pytest.fixture(autouse=True)
def _chattr_works(tmp_path: Path, database_url: str) -> None:
    """SQLite outages need ``chattr +i`` (root on a filesystem with attributes); elsewhere those tests skip."""
    if not database_url.startswith("sqlite"):
        return
    probe = tmp_path / "chattr-probe"
    probe.touch()
    made = subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0 if shutil.which("chattr") else False
    if made:
        subprocess.run(["chattr", "-i", str(probe)], check=True)
    elif os.environ.get("CI"):
        pytest.fail("chattr +i is not available: the SQLite outage tests need root on ext4")
    else:
        pytest.skip("chattr +i is not available here")


once = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""Run on one database only: the fault is the SQLite file's own, or does not depend on the database."""


def sqlite_files(settings: Settings) -> list[Path]:
    path = Path(str(make_url(settings.database_url).database))
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


# --- what the tests look at -----------------------------------------------------------------------


def count(database: Database, model, *where) -> int:  # type: ignore[no-untyped-def]
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def one(database: Database, model, *where):  # type: ignore[no-untyped-def]
    with database.reading() as session:
        rows = session.scalars(select(model).where(*where)).all()
    assert len(rows) == 1, f"{len(rows)} {model.__tablename__} rows, expected exactly one"
    return rows[0]


def health(line: Phone) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = line.app.test_client().get("/healthz")
    return response.status_code, json.loads(response.get_data(as_text=True))


def recovered(line: Phone) -> None:
    """``/healthz`` says 200 again within a few seconds of the database coming back."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while health(line)[0] != 200:
        assert time.monotonic() < deadline, "/healthz still says the database cannot be written"
        time.sleep(0.2)


def replayed(line: Phone) -> None:
    """Recovery: the journal drains into the database (the app's replayer runs too; whoever replays, each record lands once)."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while line.service.keeper.backlog():
        assert time.monotonic() < deadline, f"{line.service.keeper.backlog()} journal records still waiting"
        line.service.keeper.replay(datetime.now(timezone.utc))
        time.sleep(0.1)


def to_voicemail_after_nobody_answers(call: SimulatedCall) -> str:
    """Nobody picked up: the caller chooses a message, leaves one and is told it is with the service desk."""
    assert "nobody at the service desk" in call.heard[-1] and "press 1" in call.heard[-1]
    call.press("1")
    sid = call.leave_message(seconds=17)
    assert call.ended and call.heard[-1] == replies.VOICEMAIL_SAVED
    return sid


def assert_no_secrets(body: dict, settings: Settings) -> None:  # type: ignore[type-arg]
    said = json.dumps(body)
    url = make_url(settings.database_url)
    for secret in filter(None, (url.host, url.password, url.database, str(settings.data_dir), str(url.port or ""))):
        assert secret not in said, f"/healthz names {secret!r}"


# --- the database goes away -----------------------------------------------------------------------


def test_database_down_mid_call_the_caller_reaches_agents_and_their_voicemail_is_replayed_once(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY)
    call = line.call()
    with Outage(line.service.settings):
        call.say("my printer is jammed and nothing prints")
        assert any(APOLOGY in said for said in call.heard)
        assert call.dial_statuses == ["busy", "no-answer"], "the failure handoff rings every agent"
        sid = to_voicemail_after_nobody_answers(call)
        message = next(request for request in line.twilio.requests if "/twilio/voicemail" in request.url)
        assert line.twilio.replay(message).body == message.reply.body, "Twilio's retry of the message is answered the same"
        status, body = health(line)
        assert status == 503 and body["status"] == "degraded" and body["database"] == "cannot write"
        assert body["journal"]["waiting"] >= 4
        assert_no_secrets(body, line.service.settings)
    recovered(line)
    replayed(line)
    database = line.service.database
    assert one(database, Voicemail, Voicemail.call_id == call.sid).recording_sid == sid
    handoff = one(database, HandoffRecord, HandoffRecord.call_id == call.sid)
    assert (handoff.reason, handoff.status) == ("failure", "voicemail")
    record = one(database, CallRecord, CallRecord.id == call.sid)
    assert record.caller_name == "Dana Whitfield" and record.outcome == "voicemail"
    assert health(line)[1]["journal"]["waiting"] == 0
    line.service.keeper.replay(datetime.now(timezone.utc))
    assert count(database, Voicemail) == 1 and count(database, HandoffRecord) == 1 and count(database, CallRecord) == 1


def test_database_down_from_the_first_ring_the_call_row_is_journaled_before_what_depends_on_it(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("no-answer"), AGENT_2: Agent()})
    with Outage(line.service.settings):
        call = line.call()
        assert APOLOGY in call.heard[0]
        assert call.bridged_to == AGENT_2 and call.agent_heard, "a person takes the call although nothing could be read or written"
        assert call.ended
        kinds = [record.kind for record in line.service.keeper.journal.backlog().records]
        assert kinds[:2] == ["call", "handoff"] and "connected" in kinds and kinds[-1] == "end"
    replayed(line)
    database = line.service.database
    record = one(database, CallRecord, CallRecord.id == call.sid)
    assert (record.caller_number, record.caller_name, record.provider_id) == (DANA, "Dana Whitfield", call.sid)
    assert record.outcome == "transferred" and record.seconds_to_person is not None
    handoff = one(database, HandoffRecord, HandoffRecord.call_id == call.sid)
    assert (handoff.reason, handoff.status, handoff.agent) == ("failure", "connected", AGENT_2)
    assert count(database, ReplayedRecord, ReplayedRecord.call_id == call.sid) == len(kinds)


def test_an_app_started_while_the_database_is_down_answers_and_keeps_its_promises_for_later(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    settings = phone_settings()
    Database(settings.database_url).dispose()
    with Outage(settings):
        line = phone(NOBODY, settings=settings)
        call = line.call()
        assert APOLOGY in call.heard[0] and call.dial_statuses == ["busy", "no-answer"]
        sid = to_voicemail_after_nobody_answers(call)
        assert health(line)[0] == 503
    replayed(line)
    assert one(line.service.database, Voicemail, Voicemail.call_id == call.sid).recording_sid == sid
    assert one(line.service.database, CallRecord, CallRecord.id == call.sid).outcome == "voicemail"


def test_a_callback_booked_while_the_database_is_down_is_kept_and_replayed_once(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY)
    call = line.call()
    with Outage(line.service.settings):
        call.say("my laptop will not turn on")
        assert any(APOLOGY in said for said in call.heard)
        call.say("please call me back")
        assert call.ended and "call you back at the number ending in 0001" in call.heard[-1]
    replayed(line)
    callback = one(line.service.database, CallbackRequest, CallbackRequest.call_id == call.sid)
    assert callback.phone_number == DANA and callback.done_at is None
    assert one(line.service.database, CallRecord, CallRecord.id == call.sid).outcome == "callback"


def test_the_app_replays_the_journal_by_itself_once_the_database_is_back(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY)
    call = line.call()
    with Outage(line.service.settings):
        call.say("agent")
        to_voicemail_after_nobody_answers(call)
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while line.service.keeper.backlog():
        assert time.monotonic() < deadline, "the web app's replayer did not drain the journal"
        time.sleep(0.2)
    assert count(line.service.database, Voicemail, Voicemail.call_id == call.sid) == 1


def test_when_neither_the_database_nor_the_journal_can_keep_a_message_the_caller_is_told_so(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY)
    journal = line.service.keeper.journal.directory
    journal.mkdir(parents=True, exist_ok=True)
    call = line.call()
    with Outage(line.service.settings):
        subprocess.run(["chattr", "+i", str(journal)], check=False)
        try:
            if os.access(journal, os.W_OK):
                pytest.skip("cannot make the journal folder unwritable here")
            call.say("agent")
            assert call.dial_statuses == ["busy", "no-answer"]
            call.press("1")
            call.leave_message(seconds=12)
        finally:
            subprocess.run(["chattr", "-i", str(journal)], check=False)
    assert call.ended and call.heard[-1] == replies.VOICEMAIL_NOT_SAVED
    assert replies.VOICEMAIL_SAVED not in call.heard


def test_several_gunicorn_workers_journal_during_an_outage_and_each_message_lands_once(server: Server, database_url: str, twilio_api: TwilioApiServer) -> None:
    twilio = TwilioSimulator(HttpTransport(server.url), TOKEN, PUBLIC, agents={AGENT: Agent("no-answer")}, api=twilio_api)

    def leave_a_message(caller: str) -> SimulatedCall:
        call = twilio.call(caller)
        to_voicemail_after_nobody_answers(call)
        return call

    settings = load_settings(environ={"FRONTDOOR_DATABASE_URL": database_url})
    with Outage(settings), ThreadPoolExecutor(max_workers=6) as pool:
        calls = list(pool.map(leave_a_message, [f"+1555123{n:04d}" for n in range(1, 13)]))
    assert all(APOLOGY in call.heard[0] for call in calls)
    database = Database(database_url)
    try:
        deadline = time.monotonic() + REPLAY_WAIT_SECONDS * 2
        while count(database, Voicemail) < len(calls):
            assert time.monotonic() < deadline, "the workers' replayers did not bring every message back"
            time.sleep(0.25)
        time.sleep(1.0)
        assert count(database, Voicemail) == count(database, CallRecord) == count(database, HandoffRecord) == len(calls)
        assert {row.call_id for row in _all(database, Voicemail)} == {call.sid for call in calls}
    finally:
        database.dispose()


def _all(database: Database, model):  # type: ignore[no-untyped-def]
    with database.reading() as session:
        return session.scalars(select(model)).all()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A PostgreSQL address on 127.0.0.1 that accepts connections and never says a word (a hung server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql+psycopg://frontdoor:secret@127.0.0.1:{listener.getsockname()[1]}/frontdoor?connect_timeout=1"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


@once
def test_a_database_server_that_hangs_does_not_hold_up_the_call_and_the_message_is_journaled(phone, phone_settings, silent_server: str) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY, settings=phone_settings(FRONTDOOR_DATABASE_URL=silent_server))
    call = line.call()
    assert APOLOGY in call.heard[0] and call.dial_statuses == ["busy", "no-answer"]
    to_voicemail_after_nobody_answers(call)
    kinds = [record.kind for record in line.service.keeper.journal.backlog().records]
    assert kinds == ["call", "handoff", "call", "voicemail", "end"]
    status, body = health(line)
    assert status == 503 and "secret" not in json.dumps(body)


# --- the SQLite file is deleted or replaced -------------------------------------------------------


@once
def test_a_deleted_sqlite_file_is_noticed_not_recreated_and_what_callers_were_told_survives_a_restart(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY)
    call = line.call()
    for path in sqlite_files(line.service.settings):
        path.unlink(missing_ok=True)
    status, body = health(line)
    assert status == 503 and body["database"] == "file missing or replaced"
    assert_no_secrets(body, line.service.settings)
    call.say("outlook keeps crashing")
    assert any(APOLOGY in said for said in call.heard)
    sid = to_voicemail_after_nobody_answers(call)
    assert not sqlite_files(line.service.settings)[0].exists(), "no fresh database file is made mid-run"

    restarted = phone(NOBODY, settings=line.service.settings)
    replayed(restarted)
    database = restarted.service.database
    assert one(database, Voicemail, Voicemail.call_id == call.sid).recording_sid == sid
    assert one(database, CallRecord, CallRecord.id == call.sid).caller_name == "Dana Whitfield"
    assert one(database, HandoffRecord, HandoffRecord.call_id == call.sid).status == "voicemail"


@once
def test_a_sqlite_file_replaced_mid_run_is_not_written_until_restart_then_gets_the_journal(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone(NOBODY)
    path = sqlite_files(line.service.settings)[0]
    backup = path.with_name("backup.db")
    with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    first = line.call()
    first.say("agent")
    to_voicemail_after_nobody_answers(first)
    for companion in sqlite_files(line.service.settings)[1:]:
        companion.unlink(missing_ok=True)
    os.replace(backup, path)

    second = line.call("+15551230002")
    assert APOLOGY in second.heard[0] and second.dial_statuses == ["busy", "no-answer"]
    sid = to_voicemail_after_nobody_answers(second)
    with sqlite3.connect(path) as replacement:
        assert replacement.execute("SELECT count(*) FROM calls WHERE id IN (?, ?)", (first.sid, second.sid)).fetchone() == (0,)

    restarted = phone(NOBODY, settings=line.service.settings)
    replayed(restarted)
    assert one(restarted.service.database, Voicemail, Voicemail.call_id == second.sid).recording_sid == sid
    assert count(restarted.service.database, Voicemail) == 1, "the restored file never had the first call's message"


# --- the incident feed misbehaves -----------------------------------------------------------------


class MisbehavingFeed:
    """A Statuspage feed on 127.0.0.1 that hangs, drips one byte at a time, or answers garbage."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self.open = 0
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v2/summary.json"

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                feed.requests += 1
                feed.open += 1
                try:
                    self._answer()
                except OSError:
                    pass
                finally:
                    feed.open -= 1

            def _answer(self) -> None:
                if feed.mode == "hang":
                    feed.released.wait()
                    return
                body = {"garbage": b"<html>502 Bad Gateway</html>", "wrong-types": b'{"incidents": {"id": 7}, "components": "x"}'}.get(
                    feed.mode, b'{"incidents": []}' + b" " * 4096
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if feed.mode != "drip":
                    self.wfile.write(body)
                    return
                for byte in body:
                    if feed.released.wait(0.3):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

        return Handler


@once
@pytest.mark.parametrize("mode", ["hang", "drip", "garbage", "wrong-types"])
def test_a_misbehaving_incident_feed_never_holds_up_a_call(phone, phone_settings, mode: str) -> None:  # type: ignore[no-untyped-def]
    feed = MisbehavingFeed(mode)
    try:
        settings = phone_settings(FRONTDOOR_INCIDENTS_FEED_URL=feed.url, FRONTDOOR_INCIDENTS_FEED_TIMEOUT_SECONDS="0.5")
        line = phone(settings=settings)
        line.call().hang_up()
        deadline = time.monotonic() + 10
        while not feed.requests:
            assert time.monotonic() < deadline, "the board never asked the feed"
            time.sleep(0.05)
        call = line.call()
        assert "Email delivery delayed" in call.heard[0], "the file's incidents are told while the feed misbehaves"
        call.say("is email down")
        assert "2:30 PM" in call.heard[-1]
        call.say("agent")
        assert call.bridged_to == AGENT_1 and call.ended
        if mode in {"hang", "drip"}:
            assert feed.open >= 1, "the whole call went by while the feed was still answering"
        assert one(line.service.database, HandoffRecord, HandoffRecord.call_id == call.sid).status == "connected"
    finally:
        feed.stop()


@once
def test_a_broken_incident_file_edit_keeps_the_last_good_incidents(phone, phone_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    incidents = tmp_path / "incidents.yaml"
    shutil.copy(Settings().incidents_file, incidents)
    line = phone(settings=phone_settings(FRONTDOOR_INCIDENTS_FILE=str(incidents)))
    call = line.call()
    incidents.write_text("incidents:\n  - {id: INC-1042, title: [unclosed\n", encoding="utf-8")
    call.say("is email down")
    assert "2:30 PM" in call.heard[-1]
    call.say("agent")
    assert call.bridged_to == AGENT_1


# --- the engine and the summary raise ---------------------------------------------------------------


def corrupt_state(line: Phone, call: SimulatedCall, change) -> None:  # type: ignore[no-untyped-def]
    with line.service.database.transaction() as connection:
        state = connection.scalar(select(CallRecord.state).where(CallRecord.id == call.sid))
        connection.execute(update(CallRecord).where(CallRecord.id == call.sid).values(state=change(dict(state))))


@pytest.mark.parametrize(
    "corruption, says",
    [
        pytest.param(lambda state: {"call_id": state["call_id"]}, "my vpn keeps dropping", id="unreadable-state"),
        pytest.param(lambda state: {**state, "facts": [["problem"]]}, "my vpn keeps dropping", id="malformed-facts"),
        pytest.param(lambda state: {**state, "turns": [{"index": 0, "text": "hello"}], "assessments": []}, "my vpn keeps dropping",
                     id="turns-without-assessments"),
        pytest.param(lambda state: {**state, "topic": 12345}, "agent", id="topic-not-text"),
    ],
)
def test_corrupt_call_data_that_makes_the_engine_or_summary_raise_still_reaches_a_person(phone, corruption, says: str) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent()})
    call = line.call()
    corrupt_state(line, call, corruption)
    call.say(says)
    assert any(APOLOGY in said for said in call.heard)
    assert call.bridged_to == AGENT_1 and call.agent_heard and call.ended
    handoff = one(line.service.database, HandoffRecord, HandoffRecord.call_id == call.sid)
    assert (handoff.reason, handoff.status) == ("failure", "connected")
    assert one(line.service.database, CallRecord, CallRecord.id == call.sid).outcome == "transferred"
    assert line.service.keeper.backlog() == 0, "with the database up nothing goes to the journal"
