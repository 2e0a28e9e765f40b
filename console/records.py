"""What the console reads from (and marks in) the call records: queue, pathway, follow-ups, insight facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

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
from frontdoor.console.figures import CallFacts, HandoffFacts, SurveyFacts, seconds_to_person
from frontdoor.handoff.summary import WarmTransferSummary

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
class QueueEntry:
    call_id: str
    caller: Caller
    channel: str
    reason: str
    status: str
    agent: str | None
    issue: str
    created_at: datetime
    waiting_seconds: float


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
    greeting: tuple[Line, ...]
    steps: tuple[Step, ...]

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
    recording_url: str | None = None
    duration_seconds: int | None = None


def _listenable(url: str) -> str | None:
    """``url`` if it is one of Twilio's recording addresses (only those become links), else None."""
    return url if twilio_recording_sid(url) is not None else None


def _caller(call: CallRecord) -> Caller:
    return Caller(call.caller_number, call.caller_name, call.department, bool(call.vip))


def queue(database: Database, now: datetime, limit: int = 50) -> list[QueueEntry]:
    """The latest handoffs, newest first, with how long each caller has waited (until connected or gone)."""
    with database.session() as session:
        rows = session.execute(
            select(HandoffRecord, CallRecord)
            .join(CallRecord, CallRecord.id == HandoffRecord.call_id)
            .order_by(HandoffRecord.created_at.desc(), HandoffRecord.id.desc())
            .limit(limit)
        ).all()
        entries = []
        for handoff, call in rows:
            until = handoff.connected_at or call.ended_at or now
            entries.append(
                QueueEntry(
                    call_id=call.id,
                    caller=_caller(call),
                    channel=call.channel,
                    reason=handoff.reason,
                    status=handoff.status,
                    agent=handoff.agent,
                    issue=WarmTransferSummary.from_dict(handoff.summary).issue,
                    created_at=handoff.created_at,
                    waiting_seconds=max(0.0, (until - handoff.created_at).total_seconds()),
                )
            )
        return entries


def handoff_view(database: Database, call_id: str) -> HandoffView:
    """A handoff with its whole pathway: every line of the call, the evidence and the decisions per turn."""
    with database.session() as session:
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
            connected_at=handoff.connected_at, summary=WarmTransferSummary.from_dict(handoff.summary), greeting=greeting, steps=steps,
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
    """Callback requests and voicemails nobody has marked done, oldest first."""
    with database.session() as session:
        callbacks = session.execute(
            select(CallbackRequest, CallRecord).join(CallRecord, CallRecord.id == CallbackRequest.call_id).where(CallbackRequest.done_at.is_(None))
        ).all()
        voicemails = session.execute(
            select(Voicemail, CallRecord).join(CallRecord, CallRecord.id == Voicemail.call_id).where(Voicemail.done_at.is_(None))
        ).all()
        items = [
            FollowUp("callback", c.id, call.id, _caller(call), c.phone_number or call.caller_number, c.note, c.created_at)
            for c, call in callbacks
        ] + [
            FollowUp("voicemail", v.id, call.id, _caller(call), call.caller_number, "", v.created_at, _listenable(v.recording_url), v.duration_seconds)
            for v, call in voicemails
        ]
    return sorted(items, key=lambda item: (item.created_at, item.kind, item.id))


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
    with database.session() as session:
        rows = session.execute(
            select(
                CallRecord.started_at, CallRecord.ended_at, CallRecord.seconds_to_person,
                HandoffRecord.created_at, HandoffRecord.connected_at, HandoffRecord.reason,
            )
            .outerjoin(HandoffRecord, HandoffRecord.call_id == CallRecord.id)
            .where(CallRecord.started_at >= since)
        ).all()
        answers = session.execute(
            select(SurveyAnswer.request_type, SurveyAnswer.score)
            .join(CallRecord, CallRecord.id == SurveyAnswer.call_id)
            .where(CallRecord.started_at >= since)
        ).all()
    calls = [
        CallFacts(
            started_at=started, ended=ended is not None, handed_off=handed is not None,
            seconds_to_person=seconds_to_person(started, recorded, handed, connected) if handed is not None or recorded is not None else None,
        )
        for started, ended, recorded, handed, connected, _ in rows
    ]
    handoffs = [HandoffFacts(handed, reason) for _, _, _, handed, _, reason in rows if handed is not None]
    return calls, handoffs, [SurveyFacts(kind, score) for kind, score in answers]
