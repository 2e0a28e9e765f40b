"""Reading and writing call records: calls, turns, decisions, evidence, handoffs, survey answers.

A turn is decided on a call's state as read (no lock held) and saved only if nobody saved another
turn of that call meanwhile (``calls.version``); a save that finds a newer version raises ``StaleCall``.
The writes are plain SQL statements: a webhook's whole write is one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
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

_CALLS = CallRecord.__table__
_TURNS = TurnRecord.__table__
_DECISIONS = DecisionRecord.__table__
_EVIDENCE = EvidenceRecord.__table__
_HANDOFFS = HandoffRecord.__table__
_SURVEY = SurveyAnswer.__table__


class StaleCall(Exception):
    """Another turn of the call was saved since its state was read: decide again."""


@dataclass(frozen=True)
class StoredCall:
    """A call's state as read, with the version a save expects to replace."""

    state: CallState
    version: int


class CallStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, session: Session, state: CallState, provider_id: str | None = None) -> None:
        """Store a new call with its greeting (the assistant's turn -1)."""
        session.execute(
            insert(_CALLS).values(
                id=state.call_id, channel=state.channel, provider_id=provider_id, caller_number=state.caller.number,
                caller_name=state.caller.name, department=state.caller.department, vip=state.caller.vip,
                started_at=state.started_at, state=state.to_dict(), version=0,
            )
        )
        lines = [
            {"call_id": state.call_id, "turn": -1 - index, "speaker": "assistant", "text": line, "confidence": None, "digits": None, "created_at": state.started_at}
            for index, line in enumerate(state.replies)
        ]
        if lines:
            session.execute(insert(_TURNS), lines)

    def load(self, call_id: str) -> StoredCall:
        """The call's state as it is now, without holding anything."""
        with self.database.reading() as session:
            return self._stored(session, call_id, lock=False)

    def lock(self, session: Session, call_id: str) -> StoredCall:
        """The call's state, held for update until ``session`` ends: other writers of this call wait."""
        return self._stored(session, call_id, lock=True)

    def _stored(self, session: Session, call_id: str, lock: bool) -> StoredCall:
        query = select(_CALLS.c.state, _CALLS.c.version).where(_CALLS.c.id == call_id)
        row = session.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(f"no call with id {call_id!r}")
        return StoredCall(CallState.from_dict(row.state), row.version)

    def save(self, session: Session, stored: StoredCall, outcome: Outcome, turn: CallerTurn, now: datetime) -> None:
        """Record one answered caller turn: the new state, both lines of transcript, the decision, the evidence."""
        state, decision = outcome.state, outcome.decision
        call_id = state.call_id
        heard = state.turns[decision.turn] if 0 <= decision.turn < len(state.turns) else None
        on_line = (now - state.started_at).total_seconds()
        changes: dict[str, Any] = {"state": state.to_dict(), "version": stored.version + 1, "topic": state.topic, "request_type": state.request_type}
        if decision.action is Action.HANDOFF and decision.summary is not None:
            changes["automation_seconds"] = on_line
        if decision.action is Action.END:
            changes.update(ended_at=now, outcome="helped" if state.helped else "ended", automation_seconds=on_line)
        saved = session.execute(update(_CALLS).where(_CALLS.c.id == call_id, _CALLS.c.version == stored.version).values(changes))
        if saved.rowcount != 1:
            raise StaleCall(call_id)

        lines = [{"call_id": call_id, "turn": decision.turn, "speaker": "assistant", "text": decision.say, "confidence": None, "digits": None, "created_at": now}]
        scores = None
        if heard is not None:
            lines.insert(0, {"call_id": call_id, "turn": heard.index, "speaker": "caller", "text": heard.text,
                             "confidence": heard.confidence, "digits": heard.digits or None, "created_at": now})
            assessment = state.assessments[heard.index]
            scores = {"human_request": assessment.totals.human_request, "frustration": assessment.totals.frustration, "urgency": assessment.totals.urgency}
            evidence = [
                {"call_id": call_id, "turn": item.turn, "signal": item.signal, "kind": item.kind, "what": item.what, "weight": item.weight}
                for item in assessment.evidence
            ]
            if evidence:
                session.execute(insert(_EVIDENCE), evidence)
        session.execute(insert(_TURNS), lines)
        session.execute(
            insert(_DECISIONS).values(
                call_id=call_id, turn=decision.turn, action=decision.action.value, say=decision.say, reason=decision.reason,
                speaking_rate=decision.speaking_rate, scores=scores, created_at=now,
            )
        )
        if decision.action is Action.HANDOFF and decision.summary is not None:
            self._save_handoff(session, call_id, decision.reason or "failure", decision.summary.to_dict(), now)
        for effect in outcome.effects:
            if isinstance(effect, RecordSurvey):
                session.execute(insert(_SURVEY).values(call_id=call_id, request_type=effect.request_type, score=effect.score, created_at=now))

    def _save_handoff(self, session: Session, call_id: str, reason: str, summary: dict[str, Any], now: datetime) -> None:
        existing = session.execute(select(_HANDOFFS.c.id).where(_HANDOFFS.c.call_id == call_id)).first()
        if existing is None:
            session.execute(insert(_HANDOFFS).values(call_id=call_id, reason=reason, summary=summary, status="waiting", attempts=0, created_at=now))
        else:
            session.execute(update(_HANDOFFS).where(_HANDOFFS.c.id == existing.id).values(summary=summary))

    def state(self, call_id: str) -> CallState:
        return self.load(call_id).state

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
