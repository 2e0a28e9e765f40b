"""What goes into the engine (a caller turn) and what comes out (a decision, the next state, side effects)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from frontdoor.conversation.state import CallState
from frontdoor.handoff.signals import AudioFeatures, Evidence, Reason
from frontdoor.handoff.summary import WarmTransferSummary


class Action(str, Enum):
    LISTEN = "listen"
    HANDOFF = "handoff"
    END = "end"


class Expecting(str, Enum):
    """What the engine is listening for next, so channels can tune recognition (hints, keypad)."""

    REQUEST = "request"
    YES_NO = "yes_no"
    SURVEY = "survey"
    NOTHING = "nothing"


@dataclass(frozen=True)
class CallerTurn:
    """One thing the caller said or keyed. Empty text and no digits means silence."""

    text: str = ""
    confidence: float | None = None
    digits: str = ""
    audio: AudioFeatures | None = None

    @property
    def silent(self) -> bool:
        return not self.text.strip() and not self.digits.strip()


@dataclass(frozen=True)
class Decision:
    """What to do next: say ``say``, then listen, hand off to a person, or end the call."""

    call_id: str
    turn: int
    action: Action
    say: str
    reason: Reason | None = None
    speaking_rate: float = 1.0
    summary: WarmTransferSummary | None = None
    evidence: tuple[Evidence, ...] = ()
    expecting: Expecting = Expecting.REQUEST
    hints: tuple[str, ...] = ()
    policy: str = ""
    """The dialogue policy that decided the turn (``policies.POLICIES``); empty for a greeting or a failure."""


@dataclass(frozen=True)
class Subscribe:
    """Text ``phone_number`` when ``incident_id`` is resolved."""

    incident_id: str
    phone_number: str


@dataclass(frozen=True)
class RecordSurvey:
    score: int
    request_type: str | None


@dataclass(frozen=True)
class BookCallback:
    """A person is to call ``phone_number`` back later."""

    phone_number: str
    note: str


Effect = Subscribe | RecordSurvey | BookCallback


@dataclass(frozen=True)
class Outcome:
    state: CallState
    decision: Decision
    effects: tuple[Effect, ...] = ()
