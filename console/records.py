"""What the console reads from (and marks in) the call records: queue, claims and closings, pathway, follow-ups, insight facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, bindparam, select, update

from frontdoor.errors import NotFoundError
from frontdoor.schemas import twilio_recording_sid
from frontdoor.storage.database import Database
from frontdoor.storage.schema import (
    CallbackRequest,
    CallRecord,
    DecisionRecord,
    EvidenceRecord,
    HandoffRecord,
    SurveyAnswer,
    TurnRecord,
    Voicemail,
)
from frontdoor.console.closing import ClosingForm
from frontdoor.console.figures import CallFacts, HandoffFacts, SurveyFacts, seconds_to_person
from frontdoor.console.formatting import Badge, badge
from frontdoor.handoff.summary import WarmTransferSummary

_HANDOFFS = HandoffRecord.__table__

FollowUpKind = Literal["callback", "voicemail"]


@dataclass(frozen=True)
class Caller:
    number: str | None
    name: str | None
    department: str | None
    vip: bool

    @property
    def label(self) -> str:
        return self.name or self.number or "Unknown caller"


@dataclass(frozen=True)
class Claim:
    """The console agent who took a handoff, and when."""

    by: str
    at: datetime


@dataclass(frozen=True)
class Closing:
    """How a handoff was closed: by whom (nobody for an upgrade's archiving), when, the outcome and a note."""

    by: str | None
    at: datetime
    outcome: str
    note: str | None


@dataclass(frozen=True)
class Hold:
    """Who has a handoff now."""

    claim: Claim | None
    closing: Closing | None


@dataclass(frozen=True)
class QueueEntry:
    call_id: str
    caller: Caller
    channel: str
    badge: Badge
    status: str
    agent: str | None
    issue: str
    created_at: datetime
    waiting_seconds: float
    claim: Claim | None


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str
    confidence: float | None
    digits: str | None
    at: datetime


@dataclass(frozen=True)
class EvidenceLine:
    signal: str
    kind: str
    what: str
    weight: float


@dataclass(frozen=True)
class TurnScores:
    turn: int
    human_request: float
    frustration: float
    urgency: float


@dataclass(frozen=True)
class Step:
    """One caller turn and what followed: the assistant's reply, the evidence, the decision."""

    turn: int
    caller: Line | None
    replies: tuple[Line, ...]
    evidence: tuple[EvidenceLine, ...]
    action: str | None
    reason: str | None
    scores: TurnScores | None


@dataclass(frozen=True)
class HandoffView:
    call_id: str
    caller: Caller
    channel: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    reason: str
    status: str
    agent: str | None
    created_at: datetime
    connected_at: datetime | None
    summary: WarmTransferSummary
    hold: Hold
    greeting: tuple[Line, ...]
    steps: tuple[Step, ...]

    @property
    def badge(self) -> Badge:
        return badge(self.summary)

    @property
    def trajectory(self) -> list[TurnScores]:
        return [step.scores for step in self.steps if step.scores is not None]


@dataclass(frozen=True)
class FollowUp:
    kind: FollowUpKind
    id: int
    call_id: str
    caller: Caller
    phone_number: str | None
    note: str
    created_at: datetime
    issue: str | None
    recording_url: str | None = None
    duration_seconds: int | None = None


def _listenable(url: str) -> str | None:
    """``url`` if it is one of Twilio's recording addresses (only those become links), else None."""
    return url if twilio_recording_sid(url) is not None else None


def _caller(call: CallRecord) -> Caller:
    return Caller(call.caller_number, call.caller_name, call.department, bool(call.vip))


def _claim(handoff: HandoffRecord | Row[Any]) -> Claim | None:
    return Claim(handoff.claimed_by, handoff.claimed_at) if handoff.claimed_by and handoff.claimed_at else None


def _hold(handoff: HandoffRecord | Row[Any]) -> Hold:
    closing = None
    if handoff.closed_at is not None:
        closing = Closing(handoff.closed_by, handoff.closed_at, handoff.close_outcome or "", handoff.close_note)
    return Hold(_claim(handoff), closing)


_CALLS = CallRecord.__table__
_OPEN_HANDOFFS = (
    select(
        _CALLS.c.id, _CALLS.c.channel, _CALLS.c.caller_number, _CALLS.c.caller_name, _CALLS.c.department, _CALLS.c.vip, _CALLS.c.ended_at,
        _HANDOFFS.c.summary, _HANDOFFS.c.status, _HANDOFFS.c.agent, _HANDOFFS.c.created_at, _HANDOFFS.c.connected_at,
        _HANDOFFS.c.claimed_by, _HANDOFFS.c.claimed_at,
    )
    .join(_CALLS, _CALLS.c.id == _HANDOFFS.c.call_id)
    .where(_HANDOFFS.c.closed_at.is_(None))
)


def queue(database: Database, now: datetime) -> list[QueueEntry]:
    """Every handoff nobody has closed, with how long each caller has waited (until a person took the call,
    an agent claimed it, or the caller hung up); the queue page puts them in order."""
    with database.read() as connection:
        rows = connection.execute(_OPEN_HANDOFFS).all()
    entries = []
    for row in rows:
        summary = WarmTransferSummary.from_dict(row.summary)
        until = min((moment for moment in (row.connected_at, row.claimed_at, row.ended_at) if moment is not None), default=now)
        entries.append(
            QueueEntry(
                call_id=row.id,
                caller=Caller(row.caller_number, row.caller_name, row.department, bool(row.vip)),
                channel=row.channel,
                badge=badge(summary),
                status=row.status,
                agent=row.agent,
                issue=summary.issue,
                created_at=row.created_at,
                waiting_seconds=max(0.0, (until - row.created_at).total_seconds()),
                claim=_claim(row),
            )
        )
    return entries


_HOLD = select(
    _HANDOFFS.c.claimed_by, _HANDOFFS.c.claimed_at, _HANDOFFS.c.closed_by, _HANDOFFS.c.closed_at, _HANDOFFS.c.close_outcome, _HANDOFFS.c.close_note
).where(_HANDOFFS.c.call_id == bindparam("call_id"))
_CLAIM = (
    update(_HANDOFFS)
    .where(_HANDOFFS.c.call_id == bindparam("b_call_id"), _HANDOFFS.c.claimed_by.is_(None), _HANDOFFS.c.closed_at.is_(None))
    .values(claimed_by=bindparam("who"), claimed_at=bindparam("now"))
)
_CLOSE = (
    update(_HANDOFFS)
    .where(_HANDOFFS.c.call_id == bindparam("b_call_id"), _HANDOFFS.c.claimed_by == bindparam("who"), _HANDOFFS.c.closed_at.is_(None))
    .values(closed_by=bindparam("who"), closed_at=bindparam("now"), close_outcome=bindparam("outcome"), close_note=bindparam("note"))
)


def claim(database: Database, call_id: str, who: str, now: datetime) -> Hold:
    """Claim the handoff for ``who`` unless someone has it or it is closed (a conditional UPDATE, so of two
    agents on two workers only one wins); returns who has it now."""
    with database.transaction() as connection:
        connection.execute(_CLAIM, {"b_call_id": call_id, "who": who, "now": now})
        return _hold_of(connection.execute(_HOLD, {"call_id": call_id}).first(), call_id)


def close(database: Database, call_id: str, who: str, closing: ClosingForm, now: datetime) -> Hold:
    """Close the handoff with an outcome if it is open and unclaimed (claiming it first) or claimed by ``who``;
    returns who has it now."""
    with database.transaction() as connection:
        connection.execute(_CLAIM, {"b_call_id": call_id, "who": who, "now": now})
        connection.execute(_CLOSE, {"b_call_id": call_id, "who": who, "now": now, "outcome": closing.outcome, "note": closing.note})
        return _hold_of(connection.execute(_HOLD, {"call_id": call_id}).first(), call_id)


def _hold_of(row: Row[Any] | None, call_id: str) -> Hold:
    if row is None:
        raise NotFoundError(f"no handoff for call {call_id!r}")
    return _hold(row)


def handoff_view(database: Database, call_id: str) -> HandoffView:
    """A handoff with its whole pathway: every line of the call, the evidence and the decisions per turn."""
    with database.reading() as session:
        found = session.execute(
            select(HandoffRecord, CallRecord).join(CallRecord, CallRecord.id == HandoffRecord.call_id).where(HandoffRecord.call_id == call_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no handoff for call {call_id!r}")
        handoff, call = found
        turns = session.scalars(select(TurnRecord).where(TurnRecord.call_id == call_id)).all()
        evidence = session.scalars(select(EvidenceRecord).where(EvidenceRecord.call_id == call_id).order_by(EvidenceRecord.id)).all()
        decisions = session.scalars(select(DecisionRecord).where(DecisionRecord.call_id == call_id)).all()
        greeting = tuple(_line(t) for t in sorted((t for t in turns if t.turn < 0), key=lambda t: -t.turn))
        steps = tuple(_steps(turns, evidence, decisions))
        return HandoffView(
            call_id=call.id, caller=_caller(call), channel=call.channel, started_at=call.started_at, ended_at=call.ended_at,
            outcome=call.outcome, reason=handoff.reason, status=handoff.status, agent=handoff.agent, created_at=handoff.created_at,
            connected_at=handoff.connected_at, summary=WarmTransferSummary.from_dict(handoff.summary), hold=_hold(handoff),
            greeting=greeting, steps=steps,
        )


def _line(turn: TurnRecord) -> Line:
    return Line(turn.speaker, turn.text, turn.confidence, turn.digits, turn.created_at)


def _steps(turns: list[TurnRecord], evidence: list[EvidenceRecord], decisions: list[DecisionRecord]) -> list[Step]:
    numbers = sorted({t.turn for t in turns if t.turn >= 0} | {d.turn for d in decisions if d.turn >= 0})
    by_turn = {d.turn: d for d in decisions}
    steps = []
    for number in numbers:
        lines = [t for t in turns if t.turn == number]
        decision = by_turn.get(number)
        scores = decision.scores if decision is not None else None
        steps.append(
            Step(
                turn=number,
                caller=next((_line(t) for t in lines if t.speaker == "caller"), None),
                replies=tuple(_line(t) for t in lines if t.speaker != "caller"),
                evidence=tuple(EvidenceLine(e.signal, e.kind, e.what, e.weight) for e in evidence if e.turn == number),
                action=decision.action if decision is not None else None,
                reason=decision.reason if decision is not None else None,
                scores=None if not scores else TurnScores(
                    number, float(scores.get("human_request", 0.0)), float(scores.get("frustration", 0.0)), float(scores.get("urgency", 0.0))
                ),
            )
        )
    return steps


def open_follow_ups(database: Database) -> list[FollowUp]:
    """Callback requests and voicemails nobody has marked done, oldest first, each with its call's issue when it was handed off."""
    with database.reading() as session:
        callbacks = session.execute(
            select(CallbackRequest, CallRecord, HandoffRecord.summary)
            .join(CallRecord, CallRecord.id == CallbackRequest.call_id)
            .outerjoin(HandoffRecord, HandoffRecord.call_id == CallRecord.id)
            .where(CallbackRequest.done_at.is_(None))
        ).all()
        voicemails = session.execute(
            select(Voicemail, CallRecord, HandoffRecord.summary)
            .join(CallRecord, CallRecord.id == Voicemail.call_id)
            .outerjoin(HandoffRecord, HandoffRecord.call_id == CallRecord.id)
            .where(Voicemail.done_at.is_(None))
        ).all()
        items = [
            FollowUp("callback", c.id, call.id, _caller(call), c.phone_number or call.caller_number, c.note, c.created_at, _issue(summary))
            for c, call, summary in callbacks
        ] + [
            FollowUp(
                "voicemail", v.id, call.id, _caller(call), call.caller_number, "", v.created_at, _issue(summary),
                _listenable(v.recording_url), v.duration_seconds,
            )
            for v, call, summary in voicemails
        ]
    return sorted(items, key=lambda item: (item.created_at, item.kind, item.id))


def _issue(summary: dict[str, Any] | None) -> str | None:
    return WarmTransferSummary.from_dict(summary).issue if summary else None


def mark_done(database: Database, kind: FollowUpKind, item_id: int, who: str, now: datetime) -> bool:
    """Mark a callback request or voicemail done; False if someone already had."""
    table = CallbackRequest if kind == "callback" else Voicemail
    with database.session() as session:
        item = session.scalar(select(table).where(table.id == item_id).with_for_update())
        if item is None:
            raise NotFoundError(f"no {kind} with id {item_id}")
        if item.done_at is not None:
            return False
        item.done_at = now
        item.done_by = who
        return True


def insight_facts(database: Database, since: datetime) -> tuple[list[CallFacts], list[HandoffFacts], list[SurveyFacts]]:
    """The calls started since ``since``, their handoffs and survey answers, as plain facts."""
    with database.reading() as session:
        rows = session.execute(
            select(
                CallRecord.started_at, CallRecord.ended_at, CallRecord.outcome, CallRecord.seconds_to_person, CallRecord.state["helped"].as_boolean(),
                HandoffRecord.created_at, HandoffRecord.connected_at, HandoffRecord.summary, HandoffRecord.close_outcome,
            )
            .outerjoin(HandoffRecord, HandoffRecord.call_id == CallRecord.id)
            .where(CallRecord.started_at >= since)
        ).all()
        answers = session.execute(
            select(SurveyAnswer.request_type, SurveyAnswer.score)
            .join(CallRecord, CallRecord.id == SurveyAnswer.call_id)
            .where(CallRecord.started_at >= since)
        ).all()
    calls, handoffs = [], []
    for started, ended, outcome, recorded, helped, handed, connected, summary, closed in rows:
        calls.append(
            CallFacts(
                started_at=started, ended=ended is not None, handed_off=handed is not None, helped=bool(helped) or outcome == "helped",
                seconds_to_person=seconds_to_person(started, recorded, connected),
            )
        )
        if handed is not None:
            kind = badge(WarmTransferSummary.from_dict(summary))
            handoffs.append(HandoffFacts(handed, kind.key, kind.label, closed))
    return calls, handoffs, [SurveyFacts(kind, score) for kind, score in answers]
