"""Scripted calls benchmark: the share of ``tests/conversations/*.yaml`` calls whose every expectation holds.

    python3 benchmarks/bench_conversations.py [--failures]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conversation_scripts import run_call, scripted_calls  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="print what failed")
    args = parser.parse_args(argv)
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for call in scripted_calls():
        file = call.source.split("[")[0]
        failures = run_call(call)
        total[file] += 1
        passed[file] += not failures
        if failures and args.failures:
            print(f"{call.source} {call.name}:\n  " + "\n  ".join(failures))
    for file in sorted(total):
        print(f"{file:28} {passed[file]:4d} / {total[file]:4d}")
    print(f"{'all':28} {sum(passed.values()):4d} / {sum(total.values()):4d} ({sum(passed.values()) / sum(total.values()):.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
