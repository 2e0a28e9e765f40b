"""What the handoff detector reads and what it returns: plain, typed, channel-agnostic values.

The conversation engine (``frontdoor.conversation``) builds a ``TurnObservation`` for each caller
turn and a ``CallerContext`` for the call; a ``Detector`` turns them into an ``Assessment`` whose
``Evidence`` items a person can read and a test can check. Channels compute ``AudioFeatures``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence

Signal = Literal["human_request", "frustration", "urgency", "security"]
Reason = Literal["human_request", "frustration", "urgency", "no_progress", "failure"]
"""Why a call went to a person; a security emergency is ``urgency`` with ``security`` set on the verdict."""

SIGNALS: tuple[Signal, ...] = ("human_request", "frustration", "urgency", "security")


@dataclass(frozen=True)
class AudioFeatures:
    """Prosody of one caller turn, measured by the channel that heard it."""

    rms_db: float | None = None
    pitch_hz: float | None = None
    words_per_second: float | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True)
class TurnObservation:
    """One caller turn as the detector sees it."""

    index: int
    text: str
    confidence: float | None = None
    digits: str = ""
    audio: AudioFeatures | None = None
    silent: bool = False
    misunderstood: bool = False


@dataclass(frozen=True)
class CallerContext:
    """What is known about the caller and the call beyond their words."""

    vip: bool = False
    recent_calls: int = 0
    incident_impact: str | None = None
    reprompts: int = 0
    offered_person: bool = False


@dataclass(frozen=True)
class Evidence:
    """One reason a score moved: readable by an agent, checkable by a test.

    Evidence from the model also carries the signal's probability, the words that moved it most
    (each left out in turn) and the training utterances it sounds most like.
    """

    signal: Signal
    kind: str
    what: str
    weight: float
    turn: int
    probability: float | None = None
    words: tuple[str, ...] = ()
    sounds_like: tuple[str, ...] = ()


def evidence_from_dict(data: dict) -> Evidence:
    """``Evidence`` back from its JSON form (lists become tuples)."""
    return Evidence(**{**data, "words": tuple(data.get("words", ())), "sounds_like": tuple(data.get("sounds_like", ()))})


@dataclass(frozen=True)
class Scores:
    human_request: float = 0.0
    frustration: float = 0.0
    urgency: float = 0.0
    security: float = 0.0

    def get(self, signal: Signal) -> float:
        return float(getattr(self, signal))


@dataclass(frozen=True)
class Assessment:
    """The detector's reading of one turn: this turn's scores, the call's running totals, and why."""

    turn: int
    scores: Scores
    totals: Scores
    evidence: tuple[Evidence, ...] = ()
    security: bool = False
    distress: bool = False
    topics: tuple[str, ...] = field(default=())
    act: str = ""
    """The dialogue act the model read ("" when no model read the turn, as after a failure)."""
    act_probability: float = 0.0
    probabilities: Scores = field(default_factory=Scores)
    """The model's probability of each signal in this turn (before call features)."""


class Detector(Protocol):
    """Scores one caller turn given the call so far, and explains model evidence for agents. Pure: same input, same output."""

    def assess(
        self,
        turn: TurnObservation,
        earlier: Sequence[TurnObservation],
        previous: Sequence[Assessment],
        context: CallerContext,
    ) -> Assessment: ...

    def explain(self, evidence: Evidence, text: str) -> Evidence: ...
