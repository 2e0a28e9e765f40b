"""What one poll of the agent console's live queue costs with many open handoffs (the real app, in process).

Run: ``python3 benchmarks/bench_console_queue.py [--open 50 200 500] [--closed 2000] [--requests 200] [--postgres-url URL]``.
For each count of open handoffs (made through the real call service, with mixed reasons) plus the
closed ones, times ``GET /agent/queue.json`` (every agent's page asks every 3 s) and the queue page,
signed in, through Flask's test client: p50 / p99 in ms and the size of the JSON.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from flask.testing import FlaskClient

from frontdoor.calls import CallService
from frontdoor.console import closing, records
from frontdoor.console.users import ConsoleUsers
from frontdoor.conversation.model import CallerTurn
from frontdoor.settings import load_settings
from frontdoor.web import create_app

LINES = (
    "agent",
    "I clicked a link in a phishing email and now my files are being encrypted",
    "payroll for 400 people is due in an hour and the system is down, this is urgent",
    "this is ridiculous, I've called three times and nothing works, I'm so fed up",
)
PASSWORD = "benchmark password"


def make_service(folder: Path, database_url: str) -> CallService:
    config = folder / "settings.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    settings = load_settings(config, environ={"FRONTDOOR_SECRET_KEY": "bench-" + "k" * 40})
    return CallService.from_settings(settings)


def add_handoffs(service: CallService, count: int, close: bool) -> None:
    for index in range(count):
        call_id = service.start_call(channel="phone", caller_number=f"+1555123{index % 10:04d}").call_id
        service.take_turn(call_id, CallerTurn(text=LINES[index % len(LINES)], confidence=0.9))
        if close:
            records.close(service.database, call_id, "bench", closing.ClosingForm("resolved", None), service.clock())


def signed_in(client: FlaskClient) -> FlaskClient:
    page = client.get("/agent/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/agent/login", data={"csrf_token": token, "name": "bench", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def timed(client: FlaskClient, path: str, requests: int) -> tuple[float, float, int]:
    """p50 and p99 in ms over ``requests`` GETs of ``path``, and the size of the last answer in bytes."""
    durations, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.data)
    durations.sort()
    return statistics.median(durations), durations[min(len(durations) - 1, round(0.99 * (len(durations) - 1)))], size


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, nargs="+", default=[50, 200, 500], help="open handoffs, one run per count")
    parser.add_argument("--closed", type=int, default=2000, help="closed handoffs also in the database")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and count")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to use instead of SQLite (it is filled)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        service = make_service(Path(folder), args.postgres_url or f"sqlite:///{Path(folder) / 'frontdoor.db'}")
        ConsoleUsers(service.database).add("bench", PASSWORD, service.clock())
        client = signed_in(create_app(service.settings, service).test_client())
        add_handoffs(service, args.closed, close=True)
        made = 0
        print(f"{service.database.dialect}, {args.closed} closed handoffs, {args.requests} requests each, {os.cpu_count()} cores")
        print("open handoffs | queue.json p50 / p99 | JSON size | queue page p50 / p99")
        for count in sorted(args.open):
            add_handoffs(service, count - made, close=False)
            made = count
            json_p50, json_p99, size = timed(client, "/agent/queue.json", args.requests)
            page_p50, page_p99, _ = timed(client, "/agent", args.requests)
            print(f"{count:>13} | {json_p50:6.1f} / {json_p99:6.1f} ms | {size / 1024:6.0f} KiB | {page_p50:6.1f} / {page_p99:6.1f} ms")
        service.database.dispose()
    print(f"load average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f} (other work on the machine skews the figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
