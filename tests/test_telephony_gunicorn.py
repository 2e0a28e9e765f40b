"""The production shape: several gunicorn workers serving the same calls, state kept in the database."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select

from frontdoor.gunicorn_config import post_worker_init
from frontdoor.storage.database import Database
from frontdoor.storage.schema import CallRecord, HandoffRecord, TurnRecord
from twilio_sim import ACCOUNT_SID, Agent, HttpTransport, SimulatedCall, TwilioApiServer, TwilioSimulator

PUBLIC = "https://frontdoor.example.com"
TOKEN = "gunicorn-test-token"
AGENT = "+15550002001"
CALLS = 6


@dataclass(frozen=True)
class Server:
    url: str
    transfer_mode: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["dial", "conference"])
def server(request: pytest.FixtureRequest, database_url: str, tmp_path: Path, twilio_api: TwilioApiServer) -> Iterator[Server]:
    """The production command (``gunicorn --config python:frontdoor.gunicorn_config --workers 2 ...``), configured only through the
    environment: transfers with ``<Dial>`` (no REST credentials), or in a conference with the REST API on the stand-in."""
    port = free_port()
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "FRONTDOOR_DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "FRONTDOOR_PUBLIC_URL": PUBLIC,
        "FRONTDOOR_AGENTS": AGENT,
    }
    if request.param == "conference":
        twilio_api.auth_token = TOKEN
        environ.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_FROM_NUMBER="+15550001000", FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url)
    Database(database_url).dispose()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--config", "python:frontdoor.gunicorn_config", "--workers", "2",
            "--bind", f"127.0.0.1:{port}", "frontdoor.web:create_app()",
        ],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
                time.sleep(0.2)
        yield Server(base, request.param)
    finally:
        process.terminate()
        process.wait(timeout=20)


def whole_call(twilio: TwilioSimulator, caller: str) -> SimulatedCall:
    call = twilio.call(caller)
    call.say("is the vpn down")
    call.say("no")
    call.say("agent")
    return call


def test_several_workers_serve_concurrent_calls_without_losing_a_turn(server: Server, database_url: str, twilio_api: TwilioApiServer) -> None:
    twilio = TwilioSimulator(HttpTransport(server.url), TOKEN, PUBLIC, agents={AGENT: Agent()}, api=twilio_api)
    callers = [f"+1555123{n:04d}" for n in range(1, CALLS + 1)]
    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        calls = list(pool.map(lambda caller: whole_call(twilio, caller), callers))
    assert all(call.bridged_to == AGENT and call.ended for call in calls)
    assert all(call.agent_heard and "Asked for a person" in call.agent_heard[0] for call in calls)
    assert len(twilio_api.calls()) == (CALLS if server.transfer_mode == "conference" else 0), "each agent rung once over REST, or by <Dial>"
    database = Database(database_url)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CallRecord)) == CALLS
        assert session.scalar(select(func.count()).select_from(HandoffRecord).where(HandoffRecord.status == "connected")) == CALLS
        caller_turns = session.scalar(select(func.count()).select_from(TurnRecord).where(TurnRecord.speaker == "caller"))
        assert caller_turns == 3 * CALLS
    database.dispose()


def test_a_worker_keeps_what_it_built_at_start_out_of_the_garbage_collectors_walks() -> None:
    gc.unfreeze()
    try:
        post_worker_init(object())
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_the_gunicorn_config_holds_each_workers_blas_to_one_thread_unless_told_otherwise() -> None:
    code = "import os, frontdoor.gunicorn_config; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    environ = {key: value for key, value in os.environ.items() if not key.endswith("_NUM_THREADS")}
    run = partial(subprocess.run, [sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run(env=environ).stdout.split() == ["1", "1"]
    assert run(env={**environ, "OPENBLAS_NUM_THREADS": "4"}).stdout.split() == ["4", "1"]
