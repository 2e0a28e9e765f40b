"""The handoff policy: reason priority, thresholds, evidence chosen, and the acknowledgement."""

from __future__ import annotations

from frontdoor.handoff.policy import HandoffVerdict, PolicyThresholds, acknowledgement, decide_handoff
from frontdoor.handoff.signals import Assessment, Evidence, Scores


def assessment(
    human_request: float = 0.0,
    frustration: float = 0.0,
    urgency: float = 0.0,
    security: float = 0.0,
    *,
    evidence: tuple[Evidence, ...] = (),
    distress: bool = False,
    turn: int = 0,
) -> Assessment:
    totals = Scores(human_request, frustration, urgency, security)
    return Assessment(turn, totals, totals, evidence, security > 0, distress)


DEFAULT = PolicyThresholds()


def test_nothing_heard_yet_is_no_handoff() -> None:
    assert decide_handoff([], DEFAULT) == HandoffVerdict(False, None)


def test_below_every_threshold_is_no_handoff() -> None:
    verdict = decide_handoff([assessment(0.9, 0.9, 0.9)], DEFAULT)
    assert not verdict.handoff and verdict.reason is None


def test_request_for_a_person_wins_over_everything() -> None:
    verdict = decide_handoff([assessment(1.0, 3.0, 3.0, 3.0)], DEFAULT)
    assert (verdict.handoff, verdict.reason, verdict.security) == (True, "human_request", False)


def test_a_security_emergency_wins_over_frustration_and_is_urgency_flagged_security() -> None:
    verdict = decide_handoff([assessment(0.0, 2.0, 0.0, 1.0)], DEFAULT)
    assert (verdict.reason, verdict.security) == ("urgency", True)


def test_frustration_wins_over_plain_urgency() -> None:
    verdict = decide_handoff([assessment(0.0, 1.0, 2.0)], DEFAULT)
    assert (verdict.reason, verdict.security) == ("frustration", False)


def test_plain_urgency_hands_off_with_reason_urgency() -> None:
    verdict = decide_handoff([assessment(0.0, 0.2, 1.0)], DEFAULT)
    assert (verdict.reason, verdict.security) == ("urgency", False)


def test_decision_reads_the_latest_running_totals() -> None:
    calmed = [assessment(0.0, 1.2), assessment(0.0, 0.6, turn=1)]
    assert not decide_handoff(calmed, DEFAULT).handoff


def test_thresholds_come_from_the_caller() -> None:
    strict = PolicyThresholds(human_request=1.0, security=1.0, frustration=2.0, urgency=0.5)
    assert decide_handoff([assessment(0.0, 1.5, 0.0)], strict).handoff is False
    assert decide_handoff([assessment(0.0, 0.0, 0.6)], strict).reason == "urgency"
    lenient_security = PolicyThresholds(security=0.5, urgency=5.0)
    assert decide_handoff([assessment(0.0, 0.0, 0.0, 0.6)], lenient_security).security
    assert not decide_handoff([assessment(0.0, 0.0, 0.0, 0.6)], DEFAULT).handoff


def test_evidence_is_the_reasons_own_most_weighty_first_and_positive_only() -> None:
    items = (
        Evidence("frustration", "wording", '"annoying"', 0.7, 0),
        Evidence("urgency", "deadline", '"by noon"', 0.6, 0),
        Evidence("frustration", "negated", '"upset"', 0.0, 0),
        Evidence("frustration", "repetition", "repeats turn 0", 0.5, 1),
        Evidence("frustration", "wording", '"ridiculous"', 1.0, 1),
        Evidence("frustration", "wording", '"again"', 0.2, 1),
    )
    verdict = decide_handoff([assessment(0.0, 0.7, evidence=items[:3]), assessment(0.0, 1.5, evidence=items[3:], turn=1)], DEFAULT)
    assert [e.what for e in verdict.evidence] == ['"ridiculous"', '"annoying"', "repeats turn 0"]


def test_a_security_handoff_carries_the_security_evidence_not_the_urgency() -> None:
    items = (
        Evidence("urgency", "model", '"by three"', 0.9, 0),
        Evidence("security", "model", '"clicked a link"', 1.2, 0),
    )
    verdict = decide_handoff([assessment(0.0, 0.0, 0.9, 1.2, evidence=items)], DEFAULT)
    assert [e.what for e in verdict.evidence] == ['"clicked a link"']


def test_distress_anywhere_in_the_call_is_carried_in_the_verdict() -> None:
    verdict = decide_handoff([assessment(0.0, 1.0, distress=True), assessment(1.0, 0.8, turn=1)], DEFAULT)
    assert verdict.reason == "human_request" and verdict.distress


def test_acknowledgement_for_frustration_is_brief_and_sincere() -> None:
    text = acknowledgement(HandoffVerdict(True, "frustration"))
    assert "sorry" in text.lower() and len(text.split()) <= 20


def test_acknowledgement_for_distress_reassures() -> None:
    text = acknowledgement(HandoffVerdict(True, "human_request", distress=True)).lower()
    assert "sorry" in text and "not on your own" in text


def test_no_acknowledgement_for_calm_requests_or_no_handoff() -> None:
    assert acknowledgement(HandoffVerdict(True, "human_request")) == ""
    assert acknowledgement(HandoffVerdict(True, "urgency")) == ""
    assert acknowledgement(HandoffVerdict(False, None, distress=True)) == ""
