"""The handoff policy: from the detector's running assessment of a call to a yes/no, a reason and why.

Reason priority: a request for a person, then a security emergency, then frustration, then urgency.
``no_progress`` and ``failure`` are decided by the conversation engine, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from frontdoor.handoff.signals import Assessment, Evidence, Reason, Signal

TOP_EVIDENCE = 3


@dataclass(frozen=True)
class PolicyThresholds:
    """Running totals at or over which the call goes to a person, per signal."""

    human_request: float = 1.0
    security: float = 1.0
    frustration: float = 1.0
    urgency: float = 1.0


@dataclass(frozen=True)
class HandoffVerdict:
    handoff: bool
    reason: Reason | None
    security: bool = False
    distress: bool = False
    evidence: tuple[Evidence, ...] = ()


def decide_handoff(assessments: Sequence[Assessment], thresholds: PolicyThresholds) -> HandoffVerdict:
    """Whether the call so far should go to a person now, and for which reason."""
    if not assessments:
        return HandoffVerdict(False, None)
    latest = assessments[-1]
    totals = latest.totals
    distress = any(a.distress for a in assessments)
    if totals.human_request >= thresholds.human_request:
        return _verdict("human_request", "human_request", assessments, distress=distress)
    if totals.security >= thresholds.security:
        return _verdict("urgency", "security", assessments, distress=distress, security=True)
    if totals.frustration >= thresholds.frustration:
        return _verdict("frustration", "frustration", assessments, distress=distress)
    if totals.urgency >= thresholds.urgency:
        return _verdict("urgency", "urgency", assessments, distress=distress)
    return HandoffVerdict(False, None, distress=distress)


def _verdict(
    reason: Reason, signal: Signal, assessments: Sequence[Assessment], *, distress: bool, security: bool = False
) -> HandoffVerdict:
    items = [e for a in assessments for e in a.evidence if e.signal == signal and e.weight > 0]
    ranked = sorted(items, key=lambda e: (-e.weight, -e.turn))
    return HandoffVerdict(True, reason, security=security, distress=distress, evidence=tuple(ranked[:TOP_EVIDENCE]))


def acknowledgement(verdict: HandoffVerdict) -> str:
    """A brief, sincere acknowledgement for a frustrated or distressed caller; empty otherwise."""
    if not verdict.handoff:
        return ""
    if verdict.distress:
        return "I'm so sorry, that sounds really stressful. Take a breath; you're not on your own with this."
    if verdict.reason == "frustration":
        return "I'm really sorry this has been such a struggle."
    return ""
