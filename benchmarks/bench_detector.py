"""Handoff detector benchmark: labelled conversations through the real engine, as `frontdoor assess` runs them.

Prints decision accuracy, precision/recall/F1 per reason, false handoffs among calm callers, the
share of handoffs no later than the labelled turn, and per-turn assessment latency (p50/p99), for
the development set (tests/data/dev_conversations.jsonl), the reference set
(../shared/data/reference_conversations.jsonl, when present) and any --jsonl FILE given.

    python3 benchmarks/bench_detector.py [--jsonl FILE ...] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure this checkout, whatever copy of frontdoor is installed

from frontdoor.assess import assess_conversation  # noqa: E402
from frontdoor.calls import build_engine  # noqa: E402
from frontdoor.conversation.engine import ConversationEngine  # noqa: E402
from frontdoor.directory import EmployeeDirectory, load_directory  # noqa: E402
from frontdoor.incidents.board import IncidentBoard  # noqa: E402
from frontdoor.settings import load_settings  # noqa: E402
from frontdoor.handoff.signals import Assessment, CallerContext, Detector, TurnObservation  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "dev_conversations.jsonl"
REFERENCE_SET = ROOT.parent / "shared" / "data" / "reference_conversations.jsonl"
REASONS = ("human_request", "frustration", "urgency", "no_progress")


class TimedDetector:
    """Wraps a detector and records how long each ``assess`` call takes."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.seconds: list[float] = []

    def assess(
        self, turn: TurnObservation, earlier: Sequence[TurnObservation], previous: Sequence[Assessment], context: CallerContext
    ) -> Assessment:
        start = time.perf_counter()
        result = self.inner.assess(turn, earlier, previous, context)
        self.seconds.append(time.perf_counter() - start)
        return result


@dataclass
class Outcome:
    """One labelled conversation and what the engine did with it."""

    id: str
    turns: list[str]
    expect: dict[str, Any]
    handoff: bool
    reason: str | None
    turn: int | None
    evidence: list[dict[str, Any]] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.handoff == bool(self.expect["handoff"])

    @property
    def in_time(self) -> bool:
        by_turn = self.expect.get("by_turn")
        return self.turn is not None and (by_turn is None or self.turn <= by_turn)


@dataclass(frozen=True)
class Report:
    conversations: int
    accuracy: float
    calm_false_handoffs: float
    explicit_requests_on_time: float
    reason_correct: float
    on_time: float
    per_reason: dict[str, tuple[float, float, float]]
    latency_p50_ms: float
    latency_p99_ms: float


def read_conversations(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_conversations(
    conversations: Sequence[dict[str, Any]], engine: ConversationEngine, directory: EmployeeDirectory
) -> list[Outcome]:
    outcomes = []
    for item in conversations:
        result = assess_conversation(engine, directory, item["id"], item.get("caller"), item["turns"])
        outcomes.append(
            Outcome(str(item["id"]), item["turns"], item["expect"], result["handoff"], result["reason"], result["handoff_turn"], result["evidence"])
        )
    return outcomes


def _share(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def score(outcomes: Sequence[Outcome], latencies: Sequence[float]) -> Report:
    expected = [o for o in outcomes if o.expect["handoff"]]
    calm = [o for o in outcomes if not o.expect["handoff"]]
    caught = [o for o in expected if o.handoff]
    explicit = [o for o in expected if o.expect.get("reason") == "human_request"]
    per_reason = {}
    for reason in REASONS:
        predicted = sum(1 for o in outcomes if o.handoff and o.reason == reason)
        actual = sum(1 for o in outcomes if o.expect["handoff"] and o.expect.get("reason") == reason)
        hits = sum(1 for o in outcomes if o.handoff and o.reason == reason and o.expect.get("reason") == reason)
        precision, recall = _share(hits, predicted), _share(hits, actual)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_reason[reason] = (precision, recall, f1)
    ordered = sorted(latencies) or [0.0]
    return Report(
        conversations=len(outcomes),
        accuracy=_share(sum(o.correct for o in outcomes), len(outcomes)),
        calm_false_handoffs=_share(sum(o.handoff for o in calm), len(calm)) if calm else 0.0,
        explicit_requests_on_time=_share(sum(o.handoff and o.reason == "human_request" and o.in_time for o in explicit), len(explicit)),
        reason_correct=_share(sum(o.reason == o.expect.get("reason") for o in caught), len(caught)),
        on_time=_share(sum(o.in_time for o in caught), len(caught)),
        per_reason=per_reason,
        latency_p50_ms=ordered[len(ordered) // 2] * 1000,
        latency_p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def evaluate(path: Path) -> tuple[Report, list[Outcome]]:
    """Run one labelled file through a freshly built engine with a timed detector."""
    settings = load_settings(None, {})
    engine = build_engine(settings, IncidentBoard.from_settings(settings, None))
    timed = TimedDetector(engine.detector)
    engine.detector = timed
    outcomes = run_conversations(read_conversations(path), engine, load_directory(settings.directory_file))
    return score(outcomes, timed.seconds), outcomes


def render(name: str, report: Report) -> str:
    lines = [
        f"## {name}: {report.conversations} conversations",
        f"decision accuracy            {report.accuracy:6.1%}",
        f"calm callers handed off      {report.calm_false_handoffs:6.1%}",
        f"explicit requests on turn    {report.explicit_requests_on_time:6.1%}",
        f"reason correct (handoffs)    {report.reason_correct:6.1%}",
        f"handoffs by labelled turn    {report.on_time:6.1%}",
        f"assess latency p50 / p99     {report.latency_p50_ms:.3f} ms / {report.latency_p99_ms:.3f} ms",
        "reason          precision  recall     F1",
    ]
    for reason, (precision, recall, f1) in report.per_reason.items():
        lines.append(f"{reason:15} {precision:9.1%} {recall:7.1%} {f1:6.1%}")
    return "\n".join(lines)


def describe_errors(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for o in outcomes:
        expect = o.expect
        wrong_reason = o.handoff and expect["handoff"] and o.reason != expect.get("reason")
        late = o.handoff and expect["handoff"] and not o.in_time
        if not o.correct or wrong_reason or late:
            got = f"{o.reason}@{o.turn}" if o.handoff else "none"
            want = f"{expect.get('reason')}@{expect.get('by_turn')}" if expect["handoff"] else "none"
            quotes = "; ".join(f"{e['signal']}/{e['kind']} {e['what']} {e['weight']}" for e in o.evidence[:4])
            lines.append(f"{o.id}: got {got}, want {want} | {' / '.join(o.turns)} | {quotes}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", action="append", type=Path, default=[], help="another labelled JSON-lines file")
    parser.add_argument("--errors", action="store_true", help="list the conversations the detector got wrong")
    args = parser.parse_args(argv)
    sets = [("development set", DEV_SET), ("reference set", REFERENCE_SET)]
    sets.extend((str(path), path) for path in args.jsonl)
    for name, path in sets:
        if not path.exists():
            print(f"## {name}: {path} not found, skipped\n")
            continue
        report, outcomes = evaluate(path)
        print(render(name, report))
        if args.errors:
            print(describe_errors(outcomes))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
