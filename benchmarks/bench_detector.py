"""Handoff decisions benchmark: labelled calls through the real engine and trained model, as `frontdoor assess` runs them.

For each set: decision accuracy, precision/recall/F1 per reason, calm callers handed off, requests
for a person handed off by their turn, handoffs no later than the labelled turn, per-turn latency
(p50/p99, the detector with the model), and at the end the process's resident memory with the model
loaded. Sets: the development set, the reference set (../shared, when present), the frozen split of
the corpus's scripted calls, the external train and test shares (../shared/data/external, when
present; the test share is for evaluation only — never tune on it), and any --jsonl FILE.

    python3 benchmarks/bench_detector.py [--jsonl FILE ...] [--only NAME ...] [--errors]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
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
from frontdoor.handoff.signals import Assessment, CallerContext, Detector, Evidence, TurnObservation  # noqa: E402
from frontdoor.incidents.board import IncidentBoard  # noqa: E402
from frontdoor.settings import load_settings  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "dev_conversations.jsonl"
CALLS = ROOT / "config" / "corpus" / "calls.jsonl"
SHARED = ROOT.parent / "shared" / "data"
REFERENCE_SET = SHARED / "reference_conversations.jsonl"
REASONS = ("human_request", "frustration", "urgency", "no_progress")
FROZEN_CALLS_PERCENT = 25
TWEETS = "airline_tweets.jsonl"


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

    def explain(self, evidence: Evidence, text: str) -> Evidence:
        return self.inner.explain(evidence, text)


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
    caught: dict[str, float]
    per_reason: dict[str, tuple[float, float, float]]
    latency_p50_ms: float
    latency_p99_ms: float


def read_conversations(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def frozen_calls() -> list[dict[str, Any]]:
    """The corpus's scripted calls that are never tuned on: a fixed share chosen by a hash of the call's id."""
    return [c for c in read_conversations(CALLS) if int(hashlib.sha256(c["id"].encode()).hexdigest(), 16) % 100 < FROZEN_CALLS_PERCENT]


def external(split: str, tweets: bool = False) -> list[dict[str, Any]]:
    """The external share ``split``: the sources with a train share, or (``tweets``) the airline tweets, which have none."""
    folder = SHARED / "external" / split
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return [c for path in paths if (path.name == TWEETS) == tweets for c in read_conversations(path)]


def run_conversations(conversations: Sequence[dict[str, Any]], engine: ConversationEngine, directory: EmployeeDirectory) -> list[Outcome]:
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
    caught_handoffs = [o for o in expected if o.handoff]
    explicit = [o for o in expected if o.expect.get("reason") == "human_request"]
    per_reason = {}
    caught = {}
    for reason in REASONS:
        predicted = sum(1 for o in outcomes if o.handoff and o.reason == reason)
        actual = [o for o in outcomes if o.expect["handoff"] and o.expect.get("reason") == reason]
        hits = sum(1 for o in actual if o.handoff and o.reason == reason)
        precision, recall = _share(hits, predicted), _share(hits, len(actual))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_reason[reason] = (precision, recall, f1)
        if actual:
            caught[reason] = _share(sum(o.handoff for o in actual), len(actual))
    ordered = sorted(latencies) or [0.0]
    return Report(
        conversations=len(outcomes),
        accuracy=_share(sum(o.correct for o in outcomes), len(outcomes)),
        calm_false_handoffs=_share(sum(o.handoff for o in calm), len(calm)) if calm else 0.0,
        explicit_requests_on_time=_share(sum(o.handoff and o.in_time for o in explicit), len(explicit)),
        reason_correct=_share(sum(o.reason == o.expect.get("reason") for o in caught_handoffs), len(caught_handoffs)),
        on_time=_share(sum(o.in_time for o in caught_handoffs), len(caught_handoffs)),
        caught=caught,
        per_reason=per_reason,
        latency_p50_ms=ordered[len(ordered) // 2] * 1000,
        latency_p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def resident_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build() -> tuple[ConversationEngine, TimedDetector, EmployeeDirectory]:
    settings = load_settings(None, {})
    engine = build_engine(settings, IncidentBoard.from_settings(settings, None))
    timed = TimedDetector(engine.detector)
    engine.detector = timed
    return engine, timed, load_directory(settings.directory_file)


def evaluate(conversations: Sequence[dict[str, Any]], built: tuple[ConversationEngine, TimedDetector, EmployeeDirectory] | None = None) -> tuple[Report, list[Outcome]]:
    """Run labelled calls through the engine with a timed detector."""
    engine, timed, directory = built or build()
    timed.seconds = []
    outcomes = run_conversations(conversations, engine, directory)
    return score(outcomes, timed.seconds), outcomes


def render(name: str, report: Report) -> str:
    caught = ", ".join(f"{reason} {share:.1%}" for reason, share in report.caught.items())
    lines = [
        f"## {name}: {report.conversations} calls",
        f"decision accuracy            {report.accuracy:6.1%}",
        f"calm callers handed off      {report.calm_false_handoffs:6.1%}",
        f"person requests on turn      {report.explicit_requests_on_time:6.1%}",
        f"caught (handed off at all)   {caught}",
        f"reason correct (handoffs)    {report.reason_correct:6.1%}",
        f"handoffs by labelled turn    {report.on_time:6.1%}",
        f"per-turn latency p50 / p99   {report.latency_p50_ms:.2f} ms / {report.latency_p99_ms:.2f} ms",
        "reason          precision  recall     F1",
    ]
    for reason, (precision, recall, f1) in report.per_reason.items():
        lines.append(f"{reason:15} {precision:9.1%} {recall:7.1%} {f1:6.1%}")
    return "\n".join(lines)


def describe_errors(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for o in outcomes:
        expect = o.expect
        late = o.handoff and expect["handoff"] and expect.get("reason") == "human_request" and not o.in_time
        if not o.correct or late:
            got = f"{o.reason}@{o.turn}" if o.handoff else "none"
            want = f"{expect.get('reason')}@{expect.get('by_turn')}" if expect["handoff"] else "none"
            quotes = "; ".join(f"{e['signal']}/{e['kind']} {e['what']} {e['weight']}" for e in o.evidence[:3])
            lines.append(f"{o.id}: got {got}, want {want} | {' / '.join(o.turns)} | {quotes}")
    return "\n".join(lines)


def sets(extra: Sequence[Path]) -> list[tuple[str, list[dict[str, Any]]]]:
    found = [("development set", read_conversations(DEV_SET))]
    if REFERENCE_SET.exists():
        found.append(("reference set", read_conversations(REFERENCE_SET)))
    found.append(("corpus calls, frozen split", frozen_calls()))
    train = external("train")
    if train:
        found.append(("external train share", train))
    if external("test"):
        found.append(("external test share, sources with a train share (evaluation only)", external("test")))
        found.append(("external test share, airline tweets (evaluation only)", external("test", tweets=True)))
    found.extend((str(path), read_conversations(path)) for path in extra)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", action="append", type=Path, default=[], help="another labelled JSON-lines file")
    parser.add_argument("--only", action="append", default=[], help="only the sets whose name contains this")
    parser.add_argument("--errors", action="store_true", help="list the calls the decisions got wrong")
    args = parser.parse_args(argv)
    before = resident_mb()
    started = time.perf_counter()
    built = build()
    print(f"engine and model loaded in {time.perf_counter() - started:.1f} s ({built[1].inner.model.variant} model); "
          f"resident memory {before:.0f} MB before, {resident_mb():.0f} MB after (+{resident_mb() - before:.0f} MB)\n")
    for name, conversations in sets(args.jsonl):
        if args.only and not any(part in name for part in args.only):
            continue
        report, outcomes = evaluate(conversations, built)
        print(render(name, report))
        if args.errors:
            print(describe_errors(outcomes))
        print()
    print(f"resident memory now {resident_mb():.0f} MB, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
