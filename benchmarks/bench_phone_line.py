"""Webhook latency of the phone line under gunicorn, side by side with a floor, on SQLite and PostgreSQL.

Run: ``python3 benchmarks/bench_phone_line.py [--calls 200] [--concurrency 50] [--pause-ms 500]
[--workers 2] [--threads 1] [--postgres-url URL] [--floor checked|bare] [--transfer-mode conference|dial]
[--turn-cpu-ms N]``.

For each database (SQLite, then PostgreSQL when ``--postgres-url`` names a server and a role allowed
to create databases):

1. gunicorn serves ``frontdoor.web:create_app()`` on 127.0.0.1 with the production gunicorn settings
   (``python:frontdoor.gunicorn_config``), configured only through the environment: a fresh database
   (schema created once before gunicorn starts, as in production), signed webhooks on, Twilio's REST
   API pointed at the stand-in from ``tests/twilio_sim.py`` running in this process.
2. ``--concurrency`` client threads run ``--calls`` whole calls through ``tests/twilio_sim.py``
   (signed exactly like Twilio): voice, 2-4 speech or keypad turns, and for the handoffs the whole
   transfer (in a conference: the agent's call placed over REST, its status callbacks, the whisper,
   the accept, the conference events, the hold music document; with ``dial``: whisper and dial),
   then the status callback. Each call pauses 0 to 2 x ``--pause-ms`` before every webhook (people
   are not instant); every webhook request is timed on the client (signing excluded).
3. The same requests, grouped by call, are replayed at the same concurrency and pacing against the
   floor from ``benchmarks/floor_app.py`` under the same gunicorn settings: ``checked`` (default:
   a fixed ``<Say>`` after Twilio's signature check and one committed row in a fresh database of the
   same kind, the least a webhook that keeps calls must do) or ``bare`` (a fixed ``<Say>``).
4. Saturated: the same again with no pause, so ``--concurrency`` requests are always in flight, for
   throughput (requests per second) of frontdoor as a share of the floor's.

``--turn-cpu-ms N`` serves frontdoor with ``benchmarks/turn_cpu_config.py``: N ms of CPU before every
speech turn, standing in for a language model on every turn. The client shares the machine's cores
with the servers: its threads sign, send and parse too.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence, TypeVar

from serving import PUBLIC, SERVER_CONFIG, fresh_database, free_port, frontdoor_environment, gunicorn_command, serving

from frontdoor.storage.database import Database
from twilio_sim import ACCOUNT_SID, Agent, HttpTransport, Reply, TwilioApiServer, TwilioSimulator

ROOT = Path(__file__).resolve().parent.parent
AGENT = "+15550002001"
FROM_NUMBER = "+15550001000"
CALLERS = ("+15551230001", "+15551230002", "+15551230003", "+15557770101", "+15557770102")
P99_LIMIT_MS = 20.0
RATIO_LIMIT = 2.0
THROUGHPUT_SHARE = 0.5

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
        self.sent.append(Sent(url, dict(params), dict(headers), hook_name(url, reply.body), reply.status, seconds))
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

    @property
    def throughput(self) -> float:
        return len(self.sent) / self.wall_seconds if self.wall_seconds else 0.0


@dataclass(frozen=True)
class Measured:
    """One database's figures: paced calls on frontdoor and the floor, and the same saturated."""

    backend: str
    paced: Run
    paced_floor: Run
    saturated: Run
    saturated_floor: Run
    calls: list[CallResult]


def hook_name(url: str, reply: str = "") -> str:
    """``https://host/twilio/whisper/accept?call=..`` → ``whisper/accept``; a turn that hands off → ``gather (handoff)``."""
    hook = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0].removeprefix("twilio/")
    return f"{hook} (handoff)" if hook in {"voice", "gather"} and "<Dial" in reply else hook


# --- servers -----------------------------------------------------------------------------------


@contextmanager
def frontdoor_server(folder: Path, database_url: str, api: TwilioApiServer, args: argparse.Namespace) -> Iterator[str]:
    Database(database_url).dispose()
    environment = frontdoor_environment(
        folder, database_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=api.auth_token, TWILIO_FROM_NUMBER=FROM_NUMBER,
        FRONTDOOR_AGENTS=AGENT, FRONTDOOR_TWILIO_API_BASE_URL=api.base_url, FRONTDOOR_TWILIO_TRANSFER_MODE=args.transfer_mode,
        FRONTDOOR_BENCH_TURN_CPU_MS=str(args.turn_cpu_ms),
    )
    config = str(ROOT / "benchmarks" / "turn_cpu_config.py") if args.turn_cpu_ms else args.gunicorn_config
    command = gunicorn_command("frontdoor.web:create_app()", free_port(), args.workers, args.threads, ["--config", config])
    with serving(command, environment, "/healthz", folder / "frontdoor.log") as server:
        yield server


@contextmanager
def floor_server(folder: Path, args: argparse.Namespace, token: str) -> Iterator[str]:
    """The floor app chosen by ``--floor``, served like frontdoor."""
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder)}
    extra = ["--config", SERVER_CONFIG, "--pythonpath", str(ROOT / "benchmarks")]
    if args.floor == "bare":
        with serving(gunicorn_command("floor_app:app", free_port(), args.workers, args.threads, extra), environment, "/", folder / "floor.log") as server:
            yield server
        return
    with fresh_database(folder / "floor", args.postgres_url_now) as database_url:
        Database(database_url).dispose()
        environment.update(TWILIO_AUTH_TOKEN=token, FRONTDOOR_PUBLIC_URL=PUBLIC, FLOOR_DATABASE_URL=database_url)
        command = gunicorn_command("floor_app:create_checked_app()", free_port(), args.workers, args.threads, extra)
        with serving(command, environment, "/", folder / "floor.log") as server:
            yield server


# --- the client --------------------------------------------------------------------------------


def one_call(server: str, api: TwilioApiServer, index: int, pause_ms: float) -> CallResult:
    """One whole simulated call against frontdoor, following its TwiML (and its agent's call, placed over REST)."""
    name, steps = SCRIPTS[index % len(SCRIPTS)]
    transport = TimedTransport(HttpTransport(server), pause_ms)
    twilio = TwilioSimulator(transport, api.auth_token, PUBLIC, agents={AGENT: Agent(talk_seconds=60)}, api=api)
    try:
        call = twilio.call(CALLERS[index % len(CALLERS)])
        for kind, value in steps:
            if call.ended:
                break
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
            transport.sent[-1] = replace(transport.sent[-1], hook=sent.hook)
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


def calls_on(server: str, api: TwilioApiServer, args: argparse.Namespace, pause_ms: float) -> tuple[Run, list[CallResult]]:
    drive(args.concurrency, list(range(args.warmup)), lambda i: one_call(server, api, i, pause_ms))
    results, wall = drive(args.concurrency, list(range(args.calls)), lambda i: one_call(server, api, i, pause_ms))
    return as_run(results, wall), results


def replays_on(server: str, calls: list[CallResult], args: argparse.Namespace, pause_ms: float) -> Run:
    recorded = [result.sent for result in calls]
    drive(args.concurrency, recorded[: args.warmup], lambda sent: replay(server, sent, pause_ms))
    results, wall = drive(args.concurrency, recorded, lambda sent: replay(server, sent, pause_ms))
    return as_run(results, wall)


def as_run(results: list[CallResult], wall: float) -> Run:
    sent = [each for result in results for each in result.sent]
    failed = [result.error or f"{result.script}: call did not end" for result in results if result.error or not result.ended]
    return Run(sent, wall, failed)


def measure(folder: Path, api: TwilioApiServer, args: argparse.Namespace, backend: str) -> Measured:
    """Paced then saturated, on fresh databases for frontdoor and the floor each time."""
    runs: dict[str, tuple[Run, Run, list[CallResult]]] = {}
    for load, pause_ms in (("paced", args.pause_ms), ("saturated", 0.0)):
        with fresh_database(folder / load, args.postgres_url_now) as database_url:
            with frontdoor_server(folder / load, database_url, api, args) as server:
                frontdoor, calls = calls_on(server, api, args, pause_ms)
        with floor_server(folder / load, args, api.auth_token) as server:
            floor = replays_on(server, calls, args, pause_ms)
        runs[load] = (frontdoor, floor, calls)
    return Measured(backend, runs["paced"][0], runs["paced"][1], runs["saturated"][0], runs["saturated"][1], runs["paced"][2])


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


def report(measured: Measured, args: argparse.Namespace) -> bool:
    """Print one database's figures; True when every target is met and nothing failed."""
    front, floor = measured.paced, measured.paced_floor
    handed = sum(call.bridged for call in measured.calls)
    print(f"== {measured.backend}: {args.calls} calls, {args.concurrency} at once, 0-{2 * args.pause_ms:.0f} ms before every webhook; "
          f"{handed} handed to the agent ({args.transfer_mode}), {len(front.failed_calls)} failed, floor replays failed: {len(floor.failed_calls)}")
    header = f"{'webhook':<18} {'requests':>8} | {'frontdoor p50':>13} {'p99':>8} {'max':>8} | {'floor p50':>9} {'p99':>8} {'max':>8} | {'p99 ratio':>9}"
    print(header)
    print("-" * len(header))
    front_hooks, floor_hooks = by_hook(front), by_hook(floor)
    rows = [(hook, front_hooks[hook], floor_hooks.get(hook, [])) for hook in sorted(front_hooks, key=lambda h: -len(front_hooks[h]))]
    rows.append(("all", [s.seconds for s in front.sent], [s.seconds for s in floor.sent]))
    for hook, front_seconds, floor_seconds in rows:
        f, g = figures(front_seconds), figures(floor_seconds)
        ratio = f.p99_ms / g.p99_ms if g.p99_ms else float("nan")
        print(f"{hook:<18} {f.count:>8} | {f.p50_ms:>10.1f} ms {f.p99_ms:>5.1f} ms {f.max_ms:>5.1f} ms | "
              f"{g.p50_ms:>6.1f} ms {g.p99_ms:>5.1f} ms {g.max_ms:>5.1f} ms | {ratio:>8.2f}x")
    overall, overall_floor = figures([s.seconds for s in front.sent]), figures([s.seconds for s in floor.sent])
    ratio = overall.p99_ms / overall_floor.p99_ms
    share = measured.saturated.throughput / measured.saturated_floor.throughput
    saturated, saturated_floor = figures([s.seconds for s in measured.saturated.sent]), figures([s.seconds for s in measured.saturated_floor.sent])
    print(f"paced: frontdoor mean {statistics.fmean(s.seconds for s in front.sent) * 1000:.1f} ms; "
          f"p99 frontdoor / floor = {overall.p99_ms:.1f} / {overall_floor.p99_ms:.1f} ms = {ratio:.2f}x")
    print(f"saturated (no pause): frontdoor {measured.saturated.throughput:.0f} requests/s (p50 {saturated.p50_ms:.0f} ms, p99 {saturated.p99_ms:.0f} ms), "
          f"floor {measured.saturated_floor.throughput:.0f} requests/s (p50 {saturated_floor.p50_ms:.0f} ms, p99 {saturated_floor.p99_ms:.0f} ms): "
          f"{share:.0%} of the floor")
    targets = {
        f"paced p99 <= {RATIO_LIMIT:.0f}x the {args.floor} floor": ratio <= RATIO_LIMIT,
        f"paced p99 <= {P99_LIMIT_MS:.0f} ms": overall.p99_ms <= P99_LIMIT_MS,
        f"saturated throughput >= {THROUGHPUT_SHARE:.0%} of the floor": share >= THROUGHPUT_SHARE,
    }
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets.items()))
    failures = front.failed_calls + floor.failed_calls + measured.saturated.failed_calls + measured.saturated_floor.failed_calls
    for failure in failures[:5]:
        print(f"failure: {failure[:300]}")
    print()
    return all(targets.values()) and not failures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="measured calls per run (default 200)")
    parser.add_argument("--concurrency", type=int, default=50, help="calls in progress at once (default 50)")
    parser.add_argument("--pause-ms", type=float, default=500.0, help="mean pause before each webhook of a paced call (default 500: 0-1 s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2: best measured on 2 cores)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker; above 1 uses the gthread worker (default 1: sync)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured calls first (default 20)")
    parser.add_argument("--postgres-url", help="also on PostgreSQL: a URL of a role allowed to create databases")
    parser.add_argument("--transfer-mode", choices=("conference", "dial"), default="conference", help="how handoffs reach the agent (default conference)")
    parser.add_argument("--turn-cpu-ms", type=float, default=0.0, help="CPU added before every speech turn, as a language model would (default 0)")
    parser.add_argument("--gunicorn-config", default=SERVER_CONFIG,
                        help=f"gunicorn config for the frontdoor server only, e.g. a file with profiling hooks (default: {SERVER_CONFIG}, as in production)")
    parser.add_argument("--floor", choices=("checked", "bare"), default="checked",
                        help="checked (default): a fixed <Say> after the signature check and one committed row; bare: the fixed <Say> alone")
    parser.add_argument("--keep-logs", action="store_true", help="print where the gunicorn logs are and keep them")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="bench-phone-line-"))
    api = TwilioApiServer(auth_token="bench-auth-token").start()
    backends = [("SQLite (WAL)", None)] + ([("PostgreSQL", args.postgres_url)] if args.postgres_url else [])
    mode = "sync" if args.threads <= 1 else f"gthread x{args.threads} threads"
    print(f"gunicorn: {args.workers} workers ({mode}) on 127.0.0.1, {os.cpu_count()} cores shared with the client; "
          f"floor: {'a fixed <Say> after the signature check and one committed row' if args.floor == 'checked' else 'a fixed <Say>'}"
          f"{f'; {args.turn_cpu_ms:g} ms of CPU added before every speech turn' if args.turn_cpu_ms else ''}")
    print(f"load average (1 min) before the run: {load_before:.2f} (other work on the machine skews the figures)")
    print()
    try:
        results = []
        for backend, url in backends:
            args.postgres_url_now = url
            results.append(report(measure(folder / backend.split()[0].lower(), api, args, backend), args))
        print(f"load average (1 min) after the run: {os.getloadavg()[0]:.2f}")
        if args.keep_logs:
            print(f"gunicorn logs: {folder}")
        return 0 if all(results) else 1
    except KeyboardInterrupt:
        print("interrupted: servers stopped", file=sys.stderr)
        return 130
    finally:
        api.stop()
        if not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
