"""The journal's costs: keeping a voicemail on disk (fsync'd), what every transaction now checks, replaying a backlog.

Run: ``python3 benchmarks/bench_journal.py [--appends 500] [--backlog 2000] [--postgres-url URL]``.
Prints append latency (one thread, and 8 threads at once), the per-transaction SQLite file check
and journal look-up, and replay throughput into SQLite (and PostgreSQL when a URL is given).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from frontdoor.conversation.state import CallState  # noqa: E402
from frontdoor.handoff.summary import CallerCard  # noqa: E402
from frontdoor.keeper import RecordKeeper, call_record, handoff_record, voicemail_record  # noqa: E402
from frontdoor.storage.database import Database  # noqa: E402
from frontdoor.storage.journal import Journal, Record  # noqa: E402
from frontdoor.storage.sqlitefile import DatabaseFile  # noqa: E402

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def promises(call_id: str) -> list[Record]:
    state = CallState(call_id=call_id, channel="phone", caller=CallerCard("+15551230001", "Dana Whitfield", "Finance"), started_at=NOW)
    return [
        call_record(state, call_id),
        handoff_record(call_id, "failure", {"call_id": call_id, "caller": {"number": "+15551230001", "name": None, "department": None}}, NOW),
        voicemail_record(call_id, f"RE{call_id}", f"https://api.twilio.com/2010-04-01/Recordings/RE{call_id}", 12, NOW + timedelta(minutes=1)),
    ]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


def bench_appends(folder: Path, count: int) -> None:
    journal = Journal(folder / "single")
    samples = []
    for n in range(count):
        message = promises(f"CA{n}")[2:]
        started = time.perf_counter()
        journal.append(message)
        samples.append(time.perf_counter() - started)
    print(f"append one voicemail (fsync), 1 thread: {percentiles(samples)}")

    journal = Journal(folder / "threads")
    shared: list[float] = []
    lock = threading.Lock()

    def append(thread: int) -> None:
        for n in range(count // 8):
            started = time.perf_counter()
            journal.append(promises(f"CA{thread}-{n}")[2:])
            with lock:
                shared.append(time.perf_counter() - started)

    threads = [threading.Thread(target=append, args=(t,)) for t in range(8)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"append one voicemail (fsync), 8 threads at once: {percentiles(shared)}; {len(shared) / elapsed:.0f} appends/s")


def bench_checks(folder: Path) -> None:
    database = Database(f"sqlite:///{folder / 'check.db'}")
    with database.transaction():
        pass
    checked = DatabaseFile.opened(folder / "check.db")
    rounds = 20_000
    started = time.perf_counter()
    for _ in range(rounds):
        checked.check(writing=True)
    print(f"SQLite file check before a write transaction: {(time.perf_counter() - started) / rounds * 1e6:.1f} us")
    database.dispose()

    empty, busy = Journal(folder / "none"), Journal(folder / "busy")
    for n in range(2000):
        busy.append(promises(f"CA{n}")[:1])
    busy.backlog()
    for name, journal in (("no journal file", empty), ("2,000 records waiting", busy)):
        started = time.perf_counter()
        for _ in range(rounds):
            journal.holds("CA-none")
        print(f"journal look-up before a promised write ({name}): {(time.perf_counter() - started) / rounds * 1e6:.1f} us")


def bench_replay(folder: Path, url: str, calls: int, label: str) -> None:
    journal = Journal(folder / f"replay-{label}")
    for n in range(calls):
        journal.append(promises(f"CA{label}{n}"))
    database = Database(url)
    started = time.perf_counter()
    report = RecordKeeper(database, journal).replay(NOW)
    elapsed = time.perf_counter() - started
    database.dispose()
    print(f"replay into {label}: {report.replayed} records in {elapsed:.2f} s ({report.replayed / elapsed:.0f} records/s), {report.waiting} waiting")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=2000, help="records to replay (a third each: calls, handoffs, voicemails)")
    parser.add_argument("--postgres-url", default=os.environ.get("FRONTDOOR_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        bench_appends(folder, args.appends)
        bench_checks(folder)
        bench_replay(folder, f"sqlite:///{folder / 'replay.db'}", args.backlog // 3, "SQLite")
        if args.postgres_url:
            from scratch_postgres import scratch_database

            with scratch_database(args.postgres_url, "frontdoor_bench") as url:
                bench_replay(folder, url, args.backlog // 3, "PostgreSQL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
