"""Phone-line webhook latency while the agent console's sign-in page is flooded with wrong passwords.

Run: ``python3 benchmarks/bench_signin_flood.py [--flooders 16] [--addresses one|many] [--seconds 30]
[--quiet-seconds 10] [--callers 4] [--pause-ms 500] [--workers 2] [--postgres-url URL]``.

1. gunicorn serves ``frontdoor.web:create_app()`` with the production settings
   (``python:frontdoor.gunicorn_config``, ``--workers`` sync workers) on 127.0.0.1, configured
   through the environment: a fresh SQLite database (or PostgreSQL with ``--postgres-url``), the
   console on, one console user, signed webhooks on, one trusted proxy
   (``FRONTDOOR_WEB_TRUSTED_PROXY_COUNT=1``, so ``X-Forwarded-For`` names the client).
2. Quiet phase (``--quiet-seconds``): ``--callers`` simulated callers run whole calls through
   ``tests/twilio_sim.py`` (signed exactly like Twilio), pausing 0 to 2x ``--pause-ms`` before every
   webhook; every webhook is timed on the client.
3. Flood phase (``--seconds``): the same callers, while ``--flooders`` threads each fetch the sign-in
   page once (a session cookie and its CSRF token) and then post wrong passwords as fast as they are
   answered. ``--addresses one``: all from one address, for the real user (the issue's attack);
   ``many``: every post from a new address (``X-Forwarded-For``) for a new name, so no per-address or
   per-name limit applies and only the bound on concurrent password checks protects the webhooks.
4. Right after the flood, one sign-in with the right password from the flood's address.

The client shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_phone_line import (  # noqa: E402
    SERVER_CONFIG,
    Sent,
    figures,
    free_port,
    fresh_database,
    frontdoor_environment,
    gunicorn_command,
    one_call,
    serving,
)
from frontdoor.console.users import ConsoleUsers  # noqa: E402
from frontdoor.storage.database import Database  # noqa: E402

USER = "alex"
PASSWORD = "correct horse battery staple"
FLOOD_ADDRESS = "198.51.100.7"
P99_LIMIT_MS = 100.0
REQUEST_TIMEOUT = 60.0
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class SignInClient:
    """A browser behind the TLS proxy, as the sign-in page sees it: its session cookie (sent even when
    marked ``Secure``: the proxy would have spoken https) and the CSRF token from the page. Plain
    ``http.client``, one connection per request as gunicorn's sync workers want, so that the client
    takes as little of the shared cores as it can."""

    server: str
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""

    def fetch_token(self, address: str) -> None:
        status, page = self._request("GET", address)
        found = _TOKEN.search(page)
        if status != 200 or not found:
            raise SystemExit(f"the sign-in page answered {status} without a CSRF token: is the console on?")
        self.token = found.group(1)

    def sign_in(self, name: str, password: str, address: str) -> tuple[int, float]:
        """Post the sign-in form; the HTTP status and the seconds it took."""
        body = urllib.parse.urlencode({"csrf_token": self.token, "name": name, "password": password})
        started = time.perf_counter()
        status, _ = self._request("POST", address, body)
        return status, time.perf_counter() - started

    def _request(self, method: str, address: str, body: str | None = None) -> tuple[int, str]:
        parts = urllib.parse.urlsplit(self.server)
        headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, "/agent/login", body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or ():
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()


@dataclass
class Flood:
    """``flooders`` threads posting wrong passwords until ``stop`` is set."""

    server: str
    flooders: int
    many_addresses: bool
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def run(self) -> None:
        client = SignInClient(self.server)
        client.fetch_token(FLOOD_ADDRESS)
        while not self.stop.is_set():
            number = next(self._numbers)
            name, address = (f"guess{number}", f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}") if self.many_addresses else (USER, FLOOD_ADDRESS)
            try:
                status, seconds = client.sign_in(name, f"wrong password {number}", address)
            except OSError as exc:
                with self._lock:
                    self.errors[type(exc).__name__] += 1
                continue
            if status == 400:
                client.fetch_token(address)
            with self._lock:
                self.statuses[status] += 1
                self.seconds.append(seconds)


def calls_until(server: str, stop: threading.Event, callers: int, pause_ms: float) -> list[Sent]:
    """``callers`` threads each running whole calls back to back until ``stop``; every webhook as timed."""

    def caller(index: int) -> list[Sent]:
        sent: list[Sent] = []
        number = index
        while not stop.is_set():
            sent.extend(one_call(server, number, pause_ms).sent)
            number += callers
        return sent

    with ThreadPoolExecutor(max_workers=callers) as pool:
        return [each for batch in pool.map(caller, range(callers)) for each in batch]


def timed_phase(server: str, args: argparse.Namespace, seconds: float, flood: Flood | None) -> list[Sent]:
    stop = threading.Event()
    threads = [threading.Thread(target=flood.run, daemon=True) for _ in range(flood.flooders)] if flood else []
    for thread in threads:
        thread.start()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        sent = calls_until(server, stop, args.callers, args.pause_ms)
    finally:
        timer.cancel()
        if flood:
            flood.stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT)
    return sent


def describe(label: str, sent: list[Sent]) -> tuple[str, float]:
    failed = sum(1 for each in sent if each.status != 200)
    f = figures([each.seconds for each in sent])
    return f"{label:<22} {f.count:>8} {failed:>7} | {f.p50_ms:>8.1f} ms {f.p99_ms:>8.1f} ms {f.max_ms:>8.1f} ms", f.p99_ms


def report(args: argparse.Namespace, quiet: list[Sent], flooded: list[Sent], flood: Flood, after: int, backend: str) -> bool:
    print(f"gunicorn: {args.workers} sync workers, {SERVER_CONFIG}; database: {backend}; {os.cpu_count()} cores shared with the client")
    print(f"load average (1 min) before the run: {args.load_before:.2f}, after: {os.getloadavg()[0]:.2f}")
    print(f"callers: {args.callers}, pause before each webhook 0-{2 * args.pause_ms:.0f} ms; "
          f"flood: {args.flooders} threads, {'one address, the real user' if args.addresses == 'one' else 'a new address and name per post'}")
    print()
    header = f"{'phase':<22} {'webhooks':>8} {'not 200':>7} | {'p50':>11} {'p99':>11} {'max':>11}"
    print(header)
    print("-" * len(header))
    line, _ = describe(f"quiet ({args.quiet_seconds:g} s)", quiet)
    print(line)
    line, flooded_p99 = describe(f"sign-in flood ({args.seconds:g} s)", flooded)
    print(line)
    print()
    posts = sum(flood.statuses.values())
    answered = figures(flood.seconds)
    print(f"sign-in posts answered: {posts} ({posts / args.seconds:.0f}/s), by status: "
          + ", ".join(f"{status}: {count}" for status, count in sorted(flood.statuses.items()))
          + (f"; connection errors: {dict(flood.errors)}" if flood.errors else ""))
    print(f"sign-in post latency: p50 {answered.p50_ms:.1f} ms, p99 {answered.p99_ms:.1f} ms")
    print(f"right password from the flood's address right after: HTTP {after} "
          f"({'signed in' if after == 302 else 'refused'})")
    met = flooded_p99 < P99_LIMIT_MS and all(each.status == 200 for each in flooded)
    print(f"target webhook p99 under the flood < {P99_LIMIT_MS:.0f} ms: {'met' if met else 'MISSED'}")
    return met


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flooders", type=int, default=16, help="threads posting wrong passwords (default 16)")
    parser.add_argument("--addresses", choices=("one", "many"), default="one", help="one address for the real user, or a new address and name per post")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the flood (default 30)")
    parser.add_argument("--quiet-seconds", type=float, default=10.0, help="webhooks alone first (default 10)")
    parser.add_argument("--callers", type=int, default=4, help="simulated callers at once (default 4)")
    parser.add_argument("--pause-ms", type=float, default=500.0, help="mean pause before each webhook of a call (default 500)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--postgres-url", help="a PostgreSQL URL of a role allowed to create databases (default: SQLite)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_before = os.getloadavg()[0]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="bench-signin-flood-"))
    try:
        with fresh_database(folder, args.postgres_url) as database_url:
            database = Database(database_url)
            ConsoleUsers(database).add(USER, PASSWORD, datetime.now(timezone.utc))
            database.dispose()
            environment = frontdoor_environment(folder, database_url)
            environment.update(FRONTDOOR_SECRET_KEY="bench-console-secret-" + "k" * 32, FRONTDOOR_WEB_TRUSTED_PROXY_COUNT="1")
            command = gunicorn_command("frontdoor.web:create_app()", free_port(), args.workers, 1, ["--config", SERVER_CONFIG])
            with serving(command, environment, "/healthz", folder / "frontdoor.log") as server:
                timed_phase(server, args, 3.0, None)
                quiet = timed_phase(server, args, args.quiet_seconds, None)
                flood = Flood(server, args.flooders, args.addresses == "many")
                flooded = timed_phase(server, args, args.seconds, flood)
                client = SignInClient(server)
                client.fetch_token(FLOOD_ADDRESS)
                after, _ = client.sign_in(USER, PASSWORD, FLOOD_ADDRESS)
        ok = report(args, quiet, flooded, flood, after, "PostgreSQL" if args.postgres_url else "SQLite (WAL)")
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted: server stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
