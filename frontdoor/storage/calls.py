"""Reading and writing call records: calls, turns, decisions, evidence, handoffs, survey answers."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdoor.conversation.engine import Outcome, RecordSurvey
from frontdoor.conversation.model import Action, CallerTurn
from frontdoor.conversation.state import CallState
from frontdoor.errors import NotFoundError
from frontdoor.storage.database import Database
from frontdoor.storage.schema import (
    CallRecord,
    DecisionRecord,
    EvidenceRecord,
    HandoffRecord,
    SurveyAnswer,
    TurnRecord,
)


@dataclass(frozen=True)
class LockedCall:
    """A call row held for update inside an open transaction."""

    session: Session
    record: CallRecord

    @property
    def state(self) -> CallState:
        return CallState.from_dict(self.record.state)


class CallStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, state: CallState, provider_id: str | None = None) -> None:
        """Store a new call with its greeting (the assistant's turn -1)."""
        with self.database.session() as session:
            session.add(
                CallRecord(
                    id=state.call_id,
                    channel=state.channel,
                    provider_id=provider_id,
                    caller_number=state.caller.number,
                    caller_name=state.caller.name,
                    department=state.caller.department,
                    vip=state.caller.vip,
                    started_at=state.started_at,
                    state=state.to_dict(),
                    version=0,
                )
            )
            session.flush()
            for index, line in enumerate(state.replies):
                session.add(TurnRecord(call_id=state.call_id, turn=-1 - index, speaker="assistant", text=line, created_at=state.started_at))

    @contextmanager
    def locked(self, call_id: str) -> Iterator[LockedCall]:
        """Hold the call for update: concurrent webhooks for one call are taken one at a time."""
        with self.database.session() as session:
            record = session.scalar(select(CallRecord).where(CallRecord.id == call_id).with_for_update())
            if record is None:
                raise NotFoundError(f"no call with id {call_id!r}")
            yield LockedCall(session, record)

    def save(self, locked: LockedCall, outcome: Outcome, turn: CallerTurn, now: datetime) -> None:
        """Record one answered caller turn: the new state, both lines of transcript, the decision, the evidence."""
        session, record, state, decision = locked.session, locked.record, outcome.state, outcome.decision
        heard = state.turns[decision.turn] if 0 <= decision.turn < len(state.turns) else None
        record.state = state.to_dict()
        record.version += 1
        record.topic = state.topic
        record.request_type = state.request_type
        if heard is not None:
            session.add(
                TurnRecord(
                    call_id=record.id, turn=heard.index, speaker="caller", text=heard.text,
                    confidence=heard.confidence, digits=heard.digits or None, created_at=now,
                )
            )
            for item in state.assessments[heard.index].evidence:
                session.add(
                    EvidenceRecord(call_id=record.id, turn=item.turn, signal=item.signal, kind=item.kind, what=item.what, weight=item.weight)
                )
        session.add(TurnRecord(call_id=record.id, turn=decision.turn, speaker="assistant", text=decision.say, created_at=now))
        scores = state.assessments[heard.index].totals if heard is not None else None
        session.add(
            DecisionRecord(
                call_id=record.id, turn=decision.turn, action=decision.action.value, say=decision.say, reason=decision.reason,
                speaking_rate=decision.speaking_rate, created_at=now,
                scores=None if scores is None else {"human_request": scores.human_request, "frustration": scores.frustration, "urgency": scores.urgency},
            )
        )
        if decision.action is Action.HANDOFF and decision.summary is not None:
            record.automation_seconds = (now - record.started_at).total_seconds()
            existing = session.scalar(select(HandoffRecord).where(HandoffRecord.call_id == record.id))
            if existing is None:
                session.add(HandoffRecord(call_id=record.id, reason=decision.reason or "failure", summary=decision.summary.to_dict(), status="waiting", created_at=now))
            else:
                existing.summary = decision.summary.to_dict()
        if decision.action is Action.END:
            record.ended_at = now
            record.outcome = "helped" if state.helped else "ended"
            record.automation_seconds = (now - record.started_at).total_seconds()
        for effect in outcome.effects:
            if isinstance(effect, RecordSurvey):
                session.add(SurveyAnswer(call_id=record.id, request_type=effect.request_type, score=effect.score, created_at=now))

    def state(self, call_id: str) -> CallState:
        with self.database.reading() as session:
            record = session.get(CallRecord, call_id)
            if record is None:
                raise NotFoundError(f"no call with id {call_id!r}")
            return CallState.from_dict(record.state)

    def recent_topics(self, number: str, since: datetime) -> list[str]:
        """Topics of earlier calls from this number (for 'third call about this this week')."""
        with self.database.reading() as session:
            rows = session.scalars(
                select(CallRecord.topic).where(
                    CallRecord.caller_number == number, CallRecord.started_at >= since, CallRecord.topic.is_not(None)
                )
            )
            return [topic for topic in rows if topic]

    def end(self, call_id: str, outcome: str, now: datetime) -> None:
        """Mark a call ended (hung up, transferred...) unless it already is."""
        with self.database.session() as session:
            record = session.get(CallRecord, call_id)
            if record is None:
                raise NotFoundError(f"no call with id {call_id!r}")
            if record.ended_at is None:
                record.ended_at = now
                record.outcome = record.outcome or outcome
            if record.automation_seconds is None:
                record.automation_seconds = (now - record.started_at).total_seconds()

    def handoff(self, call_id: str) -> HandoffRecord | None:
        with self.database.reading() as session:
            return session.scalar(select(HandoffRecord).where(HandoffRecord.call_id == call_id))
