"""Webhook latency of the phone line under gunicorn, side by side with a bare Flask TwiML app (the floor).

Run: ``python3 benchmarks/bench_phone_line.py [--calls 200] [--concurrency 50] [--workers 2]
[--threads 1] [--pause-ms 0] [--postgres-url URL] [--floor bare|checked]``.

1. gunicorn serves ``frontdoor.web:create_app()`` on 127.0.0.1 with the production gunicorn settings
   (``python:frontdoor.gunicorn_config``), frontdoor configured only through the environment (fresh
   SQLite database in a temporary folder, or a fresh database created on the PostgreSQL server
   named by ``--postgres-url`` and dropped afterwards; signed webhooks on). The schema is created
   once before gunicorn starts, as in production.
2. ``--concurrency`` client threads run ``--calls`` whole calls through ``tests/twilio_sim.py``
   (signed exactly like Twilio): voice, 2-4 speech or keypad turns, whisper and dial for the
   handoffs, the status callback. Every webhook request is timed on the client (signing excluded).
3. The same requests, grouped by call, are replayed at the same concurrency against a floor from
   ``benchmarks/floor_app.py`` under the same gunicorn settings (workers, config): ``--floor bare``
   (default, the issue's: a fixed ``<Say>``) or ``--floor checked`` (the same after Twilio's
   signature check and one committed row in a fresh database of the same kind).

With ``--pause-ms 0`` each call sends its next webhook as soon as the previous one is answered, so
``--concurrency`` requests are always in flight (the harshest reading of "N concurrent calls"); a
pause (uniform between 0 and twice the value, before every webhook) paces calls more like people.
The client shares the machine's cores with the server: its threads sign, send and parse too.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


from frontdoor.storage.database import Database  # noqa: E402
from scratch_postgres import scratch_database  # noqa: E402
from twilio_sim import Agent, HttpTransport, Reply, TwilioSimulator  # noqa: E402

PUBLIC = "https://frontdoor.example.com"
TOKEN = "bench-auth-token"
AGENT = "+15550002001"
CALLERS = ("+15551230001", "+15551230002", "+15551230003", "+15557770101", "+15557770102")
P99_LIMIT_MS = 50.0
RATIO_LIMIT = 2.0
START_SECONDS = 30.0
SERVER_CONFIG = "python:frontdoor.gunicorn_config"

T = TypeVar("T")

Step = tuple[str, str]
SCRIPTS: tuple[tuple[str, tuple[Step, ...]], ...] = (
    ("incident question, then a person", (("say", "is email down"), ("say", "yes"), ("say", "can I talk to a person"))),
    ("incident question, helped, survey", (("say", "is email down"), ("say", "yes please"), ("say", "no that's all thanks"), ("press", "4"))),
    ("straight to a person", (("say", "my laptop will not start"), ("say", "I want to talk to a person"))),
)


@dataclass(frozen=True)
class Sent:
    """One webhook request as sent, with its client-side latency."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]
    hook: str
    status: int
    seconds: float


@dataclass
class TimedTransport:
    """An ``HttpTransport`` that pauses like a caller before each request, then times it."""

    inner: HttpTransport
    pause_ms: float
    sent: list[Sent] = field(default_factory=list)

    def post(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        if self.pause_ms:
            time.sleep(random.uniform(0, 2 * self.pause_ms) / 1000)
        started = time.perf_counter()
        reply = self.inner.post(url, params, headers)
        seconds = time.perf_counter() - started
        self.sent.append(Sent(url, dict(params), dict(headers), hook_name(url), reply.status, seconds))
        return reply


@dataclass(frozen=True)
class CallResult:
    script: str
    sent: list[Sent]
    ended: bool
    bridged: bool
    error: str = ""


@dataclass(frozen=True)
class Run:
    """What one server did for the measured calls."""

    sent: list[Sent]
    wall_seconds: float
    failed_calls: list[str]


def hook_name(url: str) -> str:
    """``https://host/twilio/whisper/accept?call=..`` → ``whisper/accept``."""
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return path.removeprefix("twilio/")


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gunicorn_command(app: str, port: int, workers: int, threads: int, extra: Sequence[str] = ()) -> list[str]:
    worker_class = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else ["--worker-class", "sync"]
    return [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), *worker_class,
        "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", *extra, app,
    ]


@contextmanager
def serving(command: list[str], environ: dict[str, str], ready_path: str, log_path: Path) -> Iterator[str]:
    """Start gunicorn, wait until it answers ``ready_path``, and always stop it (also on Ctrl-C)."""
    port = int(command[command.index("--bind") + 1].rsplit(":", 1)[1])
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_until_up(process, base + ready_path, log_path)
            yield base
        finally:
            stop(process)


def wait_until_up(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start ({url}):\n{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fresh_database(folder: Path, postgres_url: str | None) -> Iterator[str]:
    """A new, empty database URL: SQLite in ``folder``, or a database created on the PostgreSQL server."""
    if not postgres_url:
        yield f"sqlite:///{folder / 'frontdoor.db'}"
        return
    with scratch_database(postgres_url, "frontdoor_bench") as url:
        yield url


def frontdoor_environment(folder: Path, database_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "FRONTDOOR_DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "FRONTDOOR_PUBLIC_URL": PUBLIC,
        "FRONTDOOR_AGENTS": AGENT,
    }


@contextmanager
def floor_server(folder: Path, args: argparse.Namespace) -> Iterator[str]:
    """The floor app chosen by ``--floor``, served like frontdoor."""
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder)}
    extra = ["--config", SERVER_CONFIG, "--pythonpath", str(ROOT / "benchmarks")]
    if args.floor == "bare":
        with serving(gunicorn_command("floor_app:app", free_port(), args.workers, args.threads, extra), environment, "/", folder / "floor.log") as server:
            yield server
        return
    with fresh_database(folder / "floor", args.postgres_url) as database_url:
        Database(database_url).dispose()
        environment.update(TWILIO_AUTH_TOKEN=TOKEN, FRONTDOOR_PUBLIC_URL=PUBLIC, FLOOR_DATABASE_URL=database_url)
        command = gunicorn_command("floor_app:create_checked_app()", free_port(), args.workers, args.threads, extra)
        with serving(command, environment, "/", folder / "floor.log") as server:
            yield server


# --- the client --------------------------------------------------------------------------------


def one_call(server: str, index: int, pause_ms: float) -> CallResult:
    """One whole simulated call against frontdoor, following its TwiML."""
    name, steps = SCRIPTS[index % len(SCRIPTS)]
    transport = TimedTransport(HttpTransport(server), pause_ms)
    twilio = TwilioSimulator(transport, TOKEN, PUBLIC, agents={AGENT: Agent()})
    try:
        call = twilio.call(CALLERS[index % len(CALLERS)])
        for kind, value in steps:
            if kind == "say":
                call.say(value)
            else:
                call.press(value)
        if not call.ended:
            call.hang_up()
    except (AssertionError, OSError) as exc:
        return CallResult(name, transport.sent, False, False, f"{type(exc).__name__}: {exc}")
    return CallResult(name, transport.sent, call.ended, call.bridged_to == AGENT)


def replay(server: str, requests: list[Sent], pause_ms: float) -> CallResult:
    """Send one recorded call's requests, in order, to another server."""
    transport = TimedTransport(HttpTransport(server), pause_ms)
    try:
        for sent in requests:
            reply = transport.post(sent.url, sent.params, sent.headers)
            if reply.status != 200:
                return CallResult("replay", transport.sent, False, False, f"{sent.hook} answered {reply.status}")
    except OSError as exc:
        return CallResult("replay", transport.sent, False, False, f"{type(exc).__name__}: {exc}")
    return CallResult("replay", transport.sent, True, False)


def drive(concurrency: int, jobs: Sequence[T], target: Callable[[T], CallResult]) -> tuple[list[CallResult], float]:
    """Run ``target`` over ``jobs`` on ``concurrency`` threads; on Ctrl-C drop what has not started."""
    pool = ThreadPoolExecutor(max_workers=concurrency)
    started = time.perf_counter()
    try:
        results = list(pool.map(target, jobs))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results, time.perf_counter() - started


def measure_frontdoor(server: str, args: argparse.Namespace) -> tuple[Run, list[CallResult]]:
    drive(args.concurrency, list(range(args.warmup)), lambda i: one_call(server, i, args.pause_ms))
    results, wall = drive(args.concurrency, list(range(args.calls)), lambda i: one_call(server, i, args.pause_ms))
    return as_run(results, wall), results


def measure_floor(server: str, calls: list[CallResult], args: argparse.Namespace) -> Run:
    recorded = [result.sent for result in calls]
    drive(args.concurrency, recorded[: args.warmup], lambda sent: replay(server, sent, args.pause_ms))
    results, wall = drive(args.concurrency, recorded, lambda sent: replay(server, sent, args.pause_ms))
    return as_run(results, wall)


def as_run(results: list[CallResult], wall: float) -> Run:
    sent = [each for result in results for each in result.sent]
    failed = [result.error or f"{result.script}: call did not end" for result in results if result.error or not result.ended]
    return Run(sent, wall, failed)


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def figures(seconds: Sequence[float]) -> Figures:
    ordered = sorted(seconds)
    if not ordered:
        return Figures(0, 0.0, 0.0, 0.0)
    return Figures(len(ordered), percentile(ordered, 50) * 1000, percentile(ordered, 99) * 1000, ordered[-1] * 1000)


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def by_hook(run: Run) -> dict[str, list[float]]:
    hooks: dict[str, list[float]] = {}
    for sent in run.sent:
        hooks.setdefault(sent.hook, []).append(sent.seconds)
    return hooks


def report(frontdoor: Run, floor: Run, calls: list[CallResult], args: argparse.Namespace, backend: str) -> bool:
    mode = "sync" if args.threads <= 1 else f"gthread x{args.threads} threads"
    print(f"gunicorn: {args.workers} workers ({mode}) on 127.0.0.1; database: {backend}; {os.cpu_count()} cores shared with the client")
    print(f"floor: {'a fixed <Say>' if args.floor == 'bare' else 'a fixed <Say> after the signature check and one committed row'}")
    print(f"load average (1 min) before the run: {args.load_before:.2f}, after: {os.getloadavg()[0]:.2f} (other work on the machine skews the figures)")
    print(f"calls: {args.calls} ({args.warmup} warm-up calls first, not counted); concurrency: {args.concurrency}; "
          f"pause before each webhook: {'none' if not args.pause_ms else f'0-{2 * args.pause_ms:.0f} ms'}")
    handed = sum(call.bridged for call in calls)
    print(f"frontdoor calls: {handed} handed to the agent, {len(calls) - handed - len(frontdoor.failed_calls)} helped, "
          f"{len(frontdoor.failed_calls)} failed; floor replays failed: {len(floor.failed_calls)}")
    print()
    header = f"{'webhook':<10} {'requests':>8} | {'frontdoor p50':>13} {'p99':>8} {'max':>8} | {'floor p50':>9} {'p99':>8} {'max':>8} | {'p99 ratio':>9}"
    print(header)
    print("-" * len(header))
    front_hooks, floor_hooks = by_hook(frontdoor), by_hook(floor)
    rows = [(hook, front_hooks[hook], floor_hooks.get(hook, [])) for hook in sorted(front_hooks, key=lambda h: -len(front_hooks[h]))]
    rows.append(("all", [s.seconds for s in frontdoor.sent], [s.seconds for s in floor.sent]))
    for hook, front_seconds, floor_seconds in rows:
        f, g = figures(front_seconds), figures(floor_seconds)
        ratio = f.p99_ms / g.p99_ms if g.p99_ms else float("nan")
        print(f"{hook:<10} {f.count:>8} | {f.p50_ms:>10.1f} ms {f.p99_ms:>5.1f} ms {f.max_ms:>5.1f} ms | "
              f"{g.p50_ms:>6.1f} ms {g.p99_ms:>5.1f} ms {g.max_ms:>5.1f} ms | {ratio:>8.2f}x")
    print()
    front_rps, floor_rps = len(frontdoor.sent) / frontdoor.wall_seconds, len(floor.sent) / floor.wall_seconds
    print(f"throughput: frontdoor {front_rps:.0f} requests/s ({args.calls / frontdoor.wall_seconds:.1f} calls/s), "
          f"floor {floor_rps:.0f} requests/s; frontdoor mean {statistics.fmean(s.seconds for s in frontdoor.sent) * 1000:.1f} ms")
    overall_front, overall_floor = figures([s.seconds for s in frontdoor.sent]), figures([s.seconds for s in floor.sent])
    ratio = overall_front.p99_ms / overall_floor.p99_ms
    under_limit, within_ratio = overall_front.p99_ms < P99_LIMIT_MS, ratio <= RATIO_LIMIT
    print(f"p99 frontdoor / p99 floor = {overall_front.p99_ms:.1f} / {overall_floor.p99_ms:.1f} ms = {ratio:.2f}x")
    print(f"target p99 < {P99_LIMIT_MS:.0f} ms: {'met' if under_limit else 'MISSED'}; "
          f"target ratio <= {RATIO_LIMIT:.0f}x: {'met' if within_ratio else 'MISSED'}"
          f"{'' if args.floor == 'bare' else ' (against the checked floor; the issue sets its target against the bare one)'}")
    for failure in (frontdoor.failed_calls + floor.failed_calls)[:5]:
        print(f"failure: {failure[:300]}")
    return under_limit and within_ratio and not frontdoor.failed_calls and not floor.failed_calls


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="measured calls (default 200)")
    parser.add_argument("--concurrency", type=int, default=50, help="calls in progress at once (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2: best measured on 2 cores)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker; above 1 uses the gthread worker (default 1: sync)")
    parser.add_argument("--pause-ms", type=float, default=0.0, help="mean pause before each webhook of a call (default 0)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured calls first (default 20)")
    parser.add_argument("--postgres-url", help="a PostgreSQL URL of a role allowed to create databases (default: SQLite)")
    parser.add_argument("--gunicorn-config", default=SERVER_CONFIG,
                        help=f"gunicorn config for the frontdoor server only, e.g. a file with profiling hooks (default: {SERVER_CONFIG}, as in production)")
    parser.add_argument("--floor", choices=("bare", "checked"), default="bare",
                        help="bare: a fixed <Say> (the issue's floor, default); checked: the same after the signature check and one committed row")
    parser.add_argument("--keep-logs", action="store_true", help="print where the gunicorn logs are and keep them")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_before = os.getloadavg()[0]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="bench-phone-line-"))
    try:
        with fresh_database(folder, args.postgres_url) as database_url:
            Database(database_url).dispose()
            command = gunicorn_command("frontdoor.web:create_app()", free_port(), args.workers, args.threads, ["--config", args.gunicorn_config])
            with serving(command, frontdoor_environment(folder, database_url), "/healthz", folder / "frontdoor.log") as server:
                frontdoor, calls = measure_frontdoor(server, args)
            with floor_server(folder, args) as server:
                floor = measure_floor(server, calls, args)
        ok = report(frontdoor, floor, calls, args, "PostgreSQL" if args.postgres_url else "SQLite (WAL)")
        if args.keep_logs:
            print(f"gunicorn logs: {folder}")
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted: servers stopped", file=sys.stderr)
        return 130
    finally:
        if not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
