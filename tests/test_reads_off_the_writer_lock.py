"""Reads never wait for writers: while another process holds a SQLite file's writer lock (and a write
transaction), console pages, session checks, sign-in limits and an idle outbox round still answer."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest

from frontdoor.console.sessions import ConsoleSessions
from frontdoor.console.signin_limits import SignInLimits
from frontdoor.outbox import claim_due
from frontdoor.storage.database import Database
from test_console_pages import agent, client, handed_off_call  # noqa: F401 - agent and client are fixtures

ANSWER_SECONDS = 10.0

HOLD_WRITER = """
import sqlite3, sys
from pathlib import Path
from frontdoor.storage.writelock import WriterLock
database = sys.argv[1]
with WriterLock(Path(database + ".writer-lock")):
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE schema_version SET version = version")
    print("held", flush=True)
    sys.stdin.readline()
    connection.execute("ROLLBACK")
"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: PostgreSQL has no writer lock to wait on."""
    return f"sqlite:///{tmp_path / 'frontdoor.db'}"


@pytest.fixture
def writer_elsewhere(database_url: str) -> Callable[[], subprocess.Popen[str]]:
    """Start another process that takes the writer lock and opens a write transaction, until the test ends."""
    holders: list[subprocess.Popen[str]] = []

    def hold() -> subprocess.Popen[str]:
        path = database_url.removeprefix("sqlite:///")
        holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        return holder

    yield hold
    for holder in holders:
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.close()
        assert holder.wait(timeout=10) == 0


def answered_while_held(holder: subprocess.Popen[str], work: Callable[[], object]) -> object:
    """Run ``work`` on a thread; it must finish while ``holder`` still holds the lock."""
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(work()), daemon=True)
    thread.start()
    thread.join(timeout=ANSWER_SECONDS)
    assert not thread.is_alive(), f"still waiting after {ANSWER_SECONDS:g} s for the other process's writer lock"
    assert holder.poll() is None
    return results[0]


def test_console_pages_and_the_session_check_answer_while_another_process_writes(console_site, agent, writer_elsewhere) -> None:  # type: ignore[no-untyped-def]
    call_id = handed_off_call(console_site)
    holder = writer_elsewhere()
    paths = ("/agent/queue.json", "/agent", f"/agent/handoffs/{call_id}", "/agent/follow-ups", "/agent/insight", "/agent/incidents")
    statuses = answered_while_held(holder, lambda: [agent.get(path).status_code for path in paths])
    assert statuses == [200] * len(paths)
    sessions = ConsoleSessions(console_site.service.database, timedelta(minutes=30))
    assert answered_while_held(holder, lambda: sessions.check("no such token", console_site.clock())).ended is True  # type: ignore[attr-defined]
    limits = SignInLimits(console_site.service.database, console_site.settings.console)
    assert answered_while_held(holder, lambda: limits.check("alex", "127.0.0.1", console_site.clock())) is None


def test_an_outbox_round_with_nothing_due_answers_while_another_process_writes(database_url: str, writer_elsewhere) -> None:  # type: ignore[no-untyped-def]
    database = Database(database_url)
    try:
        holder = writer_elsewhere()
        assert answered_while_held(holder, lambda: claim_due(database, datetime.now(timezone.utc))) == []
    finally:
        database.dispose()
