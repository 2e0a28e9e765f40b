"""Reading and writing call records: calls, turns, decisions, evidence, handoffs, survey answers.

A turn is decided on a call's state as read (no lock held) and saved only if nobody saved another
turn of that call meanwhile (``calls.version``); a save that finds a newer version raises ``StaleCall``.
The writes are plain Core statements, built once, on the caller's ``Connection``: a webhook's
whole write is one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from frontdoor.conversation.model import Action, CallerTurn, Outcome, RecordSurvey
from frontdoor.conversation.state import CallState
from frontdoor.errors import NotFoundError
from frontdoor.storage.database import Database, insert_new
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

_STATE = select(_CALLS.c.state, _CALLS.c.version).where(_CALLS.c.id == bindparam("call_id"))
_STATE_FOR_UPDATE = _STATE.with_for_update()
_NEXT_VERSION = update(_CALLS).where(_CALLS.c.id == bindparam("b_call_id"), _CALLS.c.version == bindparam("b_version"))
_HANDOFF_ID = select(_HANDOFFS.c.id).where(_HANDOFFS.c.call_id == bindparam("call_id"))
_RECENT_TOPICS = select(_CALLS.c.topic).where(
    _CALLS.c.caller_number == bindparam("number"), _CALLS.c.started_at >= bindparam("since"), _CALLS.c.topic.is_not(None)
)
_NEW_SUMMARY = update(_HANDOFFS).where(_HANDOFFS.c.id == bindparam("b_id"))


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

    def load(self, call_id: str) -> StoredCall:
        """The call's state as it is now, without holding anything."""
        with self.database.read() as connection:
            return self._stored(connection, call_id, lock=False)

    def lock(self, connection: Connection, call_id: str) -> StoredCall:
        """The call's state, held for update until the transaction ends: other writers of this call wait."""
        return self._stored(connection, call_id, lock=True)

    def _stored(self, connection: Connection, call_id: str, lock: bool) -> StoredCall:
        row = connection.execute(_STATE_FOR_UPDATE if lock else _STATE, {"call_id": call_id}).first()
        if row is None:
            raise NotFoundError(f"no call with id {call_id!r}")
        return StoredCall(CallState.from_dict(row.state), row.version)

    def save(self, connection: Connection, stored: StoredCall, outcome: Outcome, turn: CallerTurn, now: datetime) -> None:
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
        saved = connection.execute(_NEXT_VERSION, {"b_call_id": call_id, "b_version": stored.version, **changes})
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
                connection.execute(insert(_EVIDENCE), evidence)
        connection.execute(insert(_TURNS), lines)
        connection.execute(
            insert(_DECISIONS),
            {
                "call_id": call_id, "turn": decision.turn, "action": decision.action.value, "say": decision.say, "reason": decision.reason,
                "speaking_rate": decision.speaking_rate, "scores": scores, "created_at": now,
            },
        )
        if decision.action is Action.HANDOFF and decision.summary is not None:
            self._save_handoff(connection, call_id, decision.reason or "failure", decision.summary.to_dict(), now)
        for effect in outcome.effects:
            if isinstance(effect, RecordSurvey):
                connection.execute(insert(_SURVEY), {"call_id": call_id, "request_type": effect.request_type, "score": effect.score, "created_at": now})

    def _save_handoff(self, connection: Connection, call_id: str, reason: str, summary: dict[str, Any], now: datetime) -> None:
        existing = connection.execute(_HANDOFF_ID, {"call_id": call_id}).first()
        if existing is None:
            insert_handoff(connection, call_id, reason, summary, now)
        else:
            connection.execute(_NEW_SUMMARY, {"b_id": existing.id, "summary": summary})

    def state(self, call_id: str) -> CallState:
        return self.load(call_id).state

    def recent_topics(self, number: str, since: datetime) -> list[str]:
        """Topics of earlier calls from this number (for 'third call about this this week')."""
        with self.database.read() as connection:
            rows = connection.scalars(_RECENT_TOPICS, {"number": number, "since": since})
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


def insert_call(connection: Connection, state: CallState, provider_id: str | None = None) -> bool:
    """Store a new call with its greeting (the assistant's turn -1); False if a call with its id exists."""
    values = {
        "id": state.call_id, "channel": state.channel, "provider_id": provider_id, "caller_number": state.caller.number,
        "caller_name": state.caller.name, "department": state.caller.department, "vip": state.caller.vip,
        "started_at": state.started_at, "state": state.to_dict(), "version": 0,
    }
    if not insert_new(connection, _CALLS, values, ("id",)):
        return False
    lines = [
        {"call_id": state.call_id, "turn": -1 - index, "speaker": "assistant", "text": line, "confidence": None, "digits": None, "created_at": state.started_at}
        for index, line in enumerate(state.replies)
    ]
    if lines:
        connection.execute(insert(_TURNS), lines)
    return True


def insert_handoff(connection: Connection, call_id: str, reason: str, summary: dict[str, Any], now: datetime) -> bool:
    """Store the call's handoff unless it has one; True when stored."""
    values = {"call_id": call_id, "reason": reason, "summary": summary, "status": "waiting", "attempts": 0, "created_at": now}
    return insert_new(connection, _HANDOFFS, values, ("call_id",))
