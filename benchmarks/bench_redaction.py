"""Redaction on the corpora in ``tests/data/pii/``: secrets redacted, ordinary lines changed, and time per turn.

Run: ``python3 benchmarks/bench_redaction.py [--misses]``. The time is for every caller turn of
``tests/data/dev_conversations.jsonl`` (ordinary speech), best of 15 passes for the mean, and one
pass for p50/p99.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from frontdoor.handoff.redaction import REDACTED, redact  # noqa: E402
from test_redaction import leaked, lines  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print each secret left and each ordinary line changed")
    args = parser.parse_args()
    for pii, calm in (("spoken_pii.txt", "calm.txt"), ("held_out_pii.txt", "held_out_calm.txt")):
        missed = [marked for marked in lines(pii) if REDACTED not in leaked(marked)[0] or leaked(marked)[1]]
        changed = [line for line in lines(calm) if redact(line) != line]
        print(f"{pii}: {len(lines(pii)) - len(missed)}/{len(lines(pii))} secrets redacted; "
              f"{calm}: {len(changed)}/{len(lines(calm))} ordinary lines changed ({len(changed) / len(lines(calm)):.1%})")
        if args.misses:
            for line in missed + changed:
                print(f"  {line!r} -> {redact(line)!r}")
    turns = [turn for line in (ROOT / "tests/data/dev_conversations.jsonl").open() for turn in json.loads(line)["turns"]]
    passes = []
    for _ in range(15):
        start = time.perf_counter()
        for turn in turns:
            redact(turn)
        passes.append((time.perf_counter() - start) / len(turns))
    each = []
    for turn in turns:
        start = time.perf_counter()
        redact(turn)
        each.append(time.perf_counter() - start)
    each.sort()
    print(f"per turn ({len(turns)} turns): mean {min(passes) * 1e3:.3f} ms, p50 {each[len(each) // 2] * 1e3:.3f} ms, "
          f"p99 {each[int(len(each) * 0.99)] * 1e3:.3f} ms (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
