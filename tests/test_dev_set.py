"""The labelled development set (and the shared reference set, when present) through the real engine and model.

The targets are the understanding issue's for these sets: every request for a person on its turn,
accuracy at least 92%, calm callers handed off at most 5%. Figures on the external sets and the
frozen corpus calls are reported by ``benchmarks/bench_detector.py``, not asserted here (the test
share is for evaluation only).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_detector.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_detector", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def built():  # type: ignore[no-untyped-def]
    return bench.build()


@pytest.fixture(scope="module")
def dev(built):  # type: ignore[no-untyped-def]
    return bench.evaluate(bench.read_conversations(bench.DEV_SET), built)


@pytest.fixture(scope="module")
def reference(built):  # type: ignore[no-untyped-def]
    if not bench.REFERENCE_SET.exists():
        pytest.skip(f"{bench.REFERENCE_SET} not present (only on the development machine)")
    return bench.evaluate(bench.read_conversations(bench.REFERENCE_SET), built)


def test_dev_set_is_large_and_labelled_in_both_directions() -> None:
    conversations = bench.read_conversations(bench.DEV_SET)
    assert len(conversations) >= 150
    assert len({c["id"] for c in conversations}) == len(conversations)
    reasons = {c["expect"]["reason"] for c in conversations}
    assert {"human_request", "frustration", "urgency", "no_progress", None} <= reasons
    for c in conversations:
        expect = c["expect"]
        assert expect["handoff"] == (expect["reason"] is not None) == (expect["by_turn"] is not None), c["id"]
        assert expect["by_turn"] is None or 0 <= expect["by_turn"] < len(c["turns"]), c["id"]


def check_targets(report) -> list[str]:  # type: ignore[no-untyped-def]
    """The targets of the handoff-intelligence issue that this report misses."""
    missed = []
    if report.explicit_requests_on_time < 1.0:
        missed.append(f"explicit requests on their turn {report.explicit_requests_on_time:.1%} < 100%")
    if report.accuracy < 0.92:
        missed.append(f"decision accuracy {report.accuracy:.1%} < 92%")
    if report.calm_false_handoffs > 0.05:
        missed.append(f"calm callers handed off {report.calm_false_handoffs:.1%} > 5%")
    return missed


def test_dev_set_meets_every_target(dev) -> None:  # type: ignore[no-untyped-def]
    report, outcomes = dev
    assert check_targets(report) == [], bench.describe_errors(outcomes)


def test_every_dev_request_for_a_person_is_honoured_on_its_turn(dev) -> None:  # type: ignore[no-untyped-def]
    _, outcomes = dev
    late = [o.id for o in outcomes if o.expect["reason"] == "human_request" and not (o.handoff and o.in_time)]
    assert late == []


def test_dev_security_emergencies_go_to_a_person_flagged_as_security(dev) -> None:  # type: ignore[no-untyped-def]
    _, outcomes = dev
    security = [o for o in outcomes if o.id.endswith("-sec")]
    flagged = [o for o in security if o.reason == "urgency" and any(e["signal"] == "security" for e in o.evidence)]
    assert security and len(flagged) >= 0.9 * len(security), bench.describe_errors([o for o in security if o not in flagged])


@pytest.mark.parametrize("target", ["explicit_requests_on_time", "accuracy", "calm_false_handoffs"])
def test_reference_set_meets_the_target(reference, target: str) -> None:  # type: ignore[no-untyped-def]
    report, outcomes = reference
    missed = [m for m in check_targets(report) if m.startswith(_LABELS[target])]
    assert missed == [], bench.describe_errors(outcomes)


_LABELS = {"explicit_requests_on_time": "explicit requests", "accuracy": "decision accuracy", "calm_false_handoffs": "calm callers"}
