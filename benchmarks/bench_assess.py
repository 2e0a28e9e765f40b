"""How long ``frontdoor assess`` takes for 1,000 conversations (a real process, the shipped config).

Run: ``python3 benchmarks/bench_assess.py [--count 1000]``. Prints the wall time of the whole
process (start-up included) and the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TURNS = [
    ["is email down", "yes please", "no thanks that's all"],
    ["how do i reset my password", "thanks"],
    ["my out look has not updated since nine", "this is the third time i'm calling about this", "i just want it fixed"],
    ["the v p n keeps dropping", "okay", "can i talk to a real person"],
    ["hi", "my laptop won't turn on and i have a board meeting in ten minutes"],
    ["someone logged into my account from another country"],
    ["uh", "what", "hello"],
    ["how do i set up voicemail on my desk phone", "and how do i book a meeting room", "thank you bye"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "conversations.jsonl"
        with source.open("w") as out:
            for index in range(args.count):
                caller = f"+1555123{index % 12:04d}" if index % 3 else None
                out.write(json.dumps({"id": index, "caller": caller, "turns": TURNS[index % len(TURNS)]}) + "\n")
        env = {**os.environ, "FRONTDOOR_DATA_DIR": folder}
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "frontdoor.cli", "assess", "--jsonl", str(source)], capture_output=True, text=True, env=env
        )
        elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return 1
    lines = result.stdout.splitlines()
    handoffs = sum(json.loads(line)["handoff"] for line in lines)
    print(f"conversations: {len(lines)} ({handoffs} handed off)")
    print(f"wall time (process start to exit): {elapsed:.2f} s on {os.cpu_count()} cores")
    print(f"throughput: {len(lines) / elapsed:.0f} conversations/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
