"""Does a small offline sentiment model help the rules? VADER (``vaderSentiment`` on PyPI, lexicon shipped
inside the package, no downloads) beside the lexicon detector, measured through the real engine.

Run: ``pip install vaderSentiment && python3 benchmarks/compare_sentiment.py``. The weight and threshold
are chosen on the development set only, then reported on the reference set (when present) and on
held-out probes written here in wording the lexicons do not contain.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_detector as bench  # noqa: E402

from frontdoor.calls import build_engine  # noqa: E402
from frontdoor.directory import load_directory  # noqa: E402
from frontdoor.incidents.board import IncidentBoard  # noqa: E402
from frontdoor.settings import load_settings  # noqa: E402
from frontdoor.handoff.signals import Assessment, CallerContext, Detector, Evidence, TurnObservation  # noqa: E402

PROBES: list[dict[str, Any]] = [
    {"id": "p-fr-1", "turns": ["my files vanished from the shared drive", "honestly this whole week has been a disaster and nobody helps"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-fr-2", "turns": ["the docking station keeps dropping my screens", "i am fed up to the back teeth with this junk"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-fr-3", "turns": ["teams calls cut out every few minutes", "this is driving me up the wall, it's hopeless"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-fr-4", "turns": ["my laptop battery dies in an hour", "i'm so annoyed, third laptop in a year and they're all terrible"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-fr-5", "turns": ["the scanner won't email me", "this is absurd, i've wasted my entire morning on it"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-fr-6", "turns": ["badge reader on floor two rejects me", "i'm losing my patience here, seriously"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-ds-1", "turns": ["i can't get into anything today", "i'm at the end of my rope, i really can't cope with this"], "expect": {"handoff": True, "reason": "frustration", "by_turn": 1}},
    {"id": "p-ur-1", "turns": ["the card machines at the front desk stopped taking payments and there's a queue of customers"], "expect": {"handoff": True, "reason": "urgency", "by_turn": 0}},
    {"id": "p-ur-2", "turns": ["our whole floor lost the network and the audit team needs the files by three"], "expect": {"handoff": True, "reason": "urgency", "by_turn": 0}},
    {"id": "p-hr-1", "turns": ["could you put me through to somebody on the desk"], "expect": {"handoff": True, "reason": "human_request", "by_turn": 0}},
    {"id": "p-hr-2", "turns": ["i'd rather speak with one of your colleagues"], "expect": {"handoff": True, "reason": "human_request", "by_turn": 0}},
    {"id": "p-calm-1", "turns": ["my printer is broken and shows a paper jam error", "okay i'll try opening the back tray, thanks"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
    {"id": "p-calm-2", "turns": ["the projector in room four is dead", "no worries, i'll use the other room, bye"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
    {"id": "p-calm-3", "turns": ["i lost my badge yesterday, how do i get a new one", "great, thanks a lot"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
    {"id": "p-calm-4", "turns": ["is email down? mine is terribly slow", "ah okay that explains it, thanks"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
    {"id": "p-calm-5", "turns": ["the wifi on three is awful today", "fine, i'll plug in, cheers"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
    {"id": "p-calm-6", "turns": ["my monitor died, can i get a new one", "perfect, thank you"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
    {"id": "p-calm-7", "turns": ["i hate to bother you, how do i clear my browser cache", "lovely, thanks"], "expect": {"handoff": False, "reason": None, "by_turn": None}},
]


class SentimentDetector:
    """The rules, plus frustration evidence when VADER's compound score is at or below ``threshold``."""

    def __init__(self, rules: Detector, analyzer: Any, weight: float, threshold: float) -> None:
        self.rules = rules
        self.analyzer = analyzer
        self.weight = weight
        self.threshold = threshold

    def assess(
        self, turn: TurnObservation, earlier: Sequence[TurnObservation], previous: Sequence[Assessment], context: CallerContext
    ) -> Assessment:
        result = self.rules.assess(turn, earlier, previous, context)
        compound = self.analyzer.polarity_scores(turn.text)["compound"] if turn.text else 0.0
        if self.weight <= 0 or compound > self.threshold:
            return result
        item = Evidence("frustration", "sentiment", f"sentiment {compound:.2f}", self.weight, turn.index)
        return replace(
            result,
            scores=replace(result.scores, frustration=result.scores.frustration + self.weight),
            totals=replace(result.totals, frustration=result.totals.frustration + self.weight),
            evidence=(*result.evidence, item),
        )


def measure(conversations: Sequence[dict[str, Any]], analyzer: Any, weight: float, threshold: float) -> bench.Report:
    settings = load_settings(None, {})
    engine = build_engine(settings, IncidentBoard.from_settings(settings, None))
    timed = bench.TimedDetector(SentimentDetector(engine.detector, analyzer, weight, threshold))
    engine.detector = timed
    outcomes = bench.run_conversations(conversations, engine, load_directory(settings.directory_file))
    return bench.score(outcomes, timed.seconds)


def model_alone(conversations: Sequence[dict[str, Any]], analyzer: Any, threshold: float) -> float:
    """Accuracy of VADER alone as a frustration detector: hand off when any turn scores at or below ``threshold``."""
    relevant = [c for c in conversations if not c["expect"]["handoff"] or c["expect"].get("reason") == "frustration"]
    right = sum(
        any(analyzer.polarity_scores(turn)["compound"] <= threshold for turn in c["turns"]) == bool(c["expect"]["handoff"])
        for c in relevant
    )
    return right / len(relevant) if relevant else 0.0


def row(name: str, report: bench.Report) -> str:
    return (
        f"{name:34} {report.accuracy:8.1%} {report.calm_false_handoffs:8.1%} {report.explicit_requests_on_time:8.1%} "
        f"{report.reason_correct:8.1%} {report.latency_p99_ms:8.3f}"
    )


def main() -> int:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        print("needs the vaderSentiment package: pip install vaderSentiment", file=sys.stderr)
        return 1
    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for _ in range(1000):
        analyzer.polarity_scores("this is the third time i've called and it's still broken")
    vader_ms = (time.perf_counter() - started)
    sets = {"development": bench.read_conversations(bench.DEV_SET), "probes (held out)": PROBES}
    if bench.REFERENCE_SET.exists():
        sets["reference"] = bench.read_conversations(bench.REFERENCE_SET)
    candidates = [(w, t) for w in (0.2, 0.4, 0.6, 1.0) for t in (-0.3, -0.5, -0.7)]
    best = max(candidates, key=lambda c: (round(measure(sets["development"], analyzer, *c).accuracy, 4), -c[0]))
    print(f"VADER per-turn cost: {vader_ms:.3f} ms; best setting on the development set: weight {best[0]}, compound <= {best[1]}")
    print(f"{'':34} {'accuracy':>8} {'calm FP':>8} {'explicit':>8} {'reason':>8} {'p99 ms':>8}")
    for name, conversations in sets.items():
        print(f"## {name} ({len(conversations)} conversations)")
        print(row("rules alone", measure(conversations, analyzer, 0.0, 0.0)))
        print(row(f"rules + VADER (w={best[0]}, t={best[1]})", measure(conversations, analyzer, *best)))
        print(f"{'VADER alone (frustration vs calm)':34} {model_alone(conversations, analyzer, best[1]):8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
