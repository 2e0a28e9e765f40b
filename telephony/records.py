"""What the phone line writes beyond the conversation: stored replies, ringing, connecting, messages, endings.

Writers take the open ``Session`` of the webhook's one transaction; ``stored_reply`` reads on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdoor.calls import AnsweredBefore
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.schema import CallbackRequest, CallRecord, HandoffRecord, Voicemail, WebhookReply
from handoff.summary import WarmTransferSummary


@dataclass(frozen=True)
class CallFacts:
    """The little the phone line needs to know about a call outside the engine."""

    caller_number: str | None
    handoff_status: str | None
    summary: WarmTransferSummary | None


def stored_reply(database: Database, key: str) -> str | None:
    """The reply already given to the request ``key``, if any."""
    with database.reading() as session:
        return session.scalar(select(WebhookReply.body).where(WebhookReply.key == key))


def store_reply(session: Session, key: str, body: str, now: datetime) -> None:
    """Keep the reply to ``key`` with the request's other writes; ``AnsweredBefore`` if another answer got there first."""
    if not insert_new(session, WebhookReply.__table__, {"key": key, "body": body, "created_at": now}, ("key",)):
        raise AnsweredBefore(key)


def call_facts(session: Session, call_id: str) -> CallFacts:
    record = session.get(CallRecord, call_id)
    handoff = session.scalar(select(HandoffRecord).where(HandoffRecord.call_id == call_id))
    return CallFacts(
        caller_number=record.caller_number if record is not None else None,
        handoff_status=handoff.status if handoff is not None else None,
        summary=WarmTransferSummary.from_dict(handoff.summary) if handoff is not None and handoff.summary else None,
    )


def ringing(session: Session, call_id: str, agent: str) -> None:
    """An agent is being rung for this call's handoff."""
    handoff = _handoff(session, call_id)
    if handoff is not None and handoff.status != "connected":
        handoff.status = "ringing"
        handoff.agent = agent
        handoff.attempts += 1


def not_answered(session: Session, call_id: str, status: str) -> None:
    handoff = _handoff(session, call_id)
    if handoff is not None and handoff.status != "connected":
        handoff.status = status.replace("-", "_")


def connected(session: Session, call_id: str, agent: str | None, at: datetime, queued_seconds: float | None = None) -> None:
    """A person took the call at ``at`` (or ``queued_seconds`` after the handoff began): connected, time to a person known."""
    handoff = _handoff(session, call_id)
    if handoff is not None and queued_seconds is not None:
        at = handoff.created_at + timedelta(seconds=queued_seconds)
    if handoff is not None and handoff.status != "connected":
        handoff.status = "connected"
        handoff.connected_at = at
        handoff.agent = agent or handoff.agent
    record = session.get(CallRecord, call_id)
    if record is not None and record.seconds_to_person is None:
        record.seconds_to_person = max(0.0, (at - record.started_at).total_seconds())


def save_voicemail(session: Session, call_id: str, recording_sid: str, recording_url: str, seconds: int | None, now: datetime) -> None:
    if session.scalar(select(Voicemail.id).where(Voicemail.recording_sid == recording_sid)) is None:
        session.add(Voicemail(call_id=call_id, recording_sid=recording_sid, recording_url=recording_url, duration_seconds=seconds, created_at=now))
    _set_handoff_status(session, call_id, "voicemail")


def request_callback(session: Session, call_id: str, number: str | None, note: str, now: datetime) -> None:
    if session.scalar(select(CallbackRequest.id).where(CallbackRequest.call_id == call_id)) is None:
        session.add(CallbackRequest(call_id=call_id, phone_number=number, note=note, created_at=now))
    _set_handoff_status(session, call_id, "callback")


_OUTCOMES = {"connected": "transferred", "voicemail": "voicemail", "callback": "callback"}


def finish(session: Session, call_id: str, call_status: str, now: datetime) -> bool:
    """Twilio says the call is over: record how it ended and the time spent with the assistant. False if unknown."""
    record = session.get(CallRecord, call_id)
    if record is None:
        return False
    handoff = _handoff(session, call_id)
    if record.ended_at is None or (handoff is not None and record.outcome not in _OUTCOMES.values()):
        record.ended_at = record.ended_at or now
        record.outcome = _outcome(record.outcome, handoff.status if handoff else None, call_status)
    if handoff is not None and handoff.status not in _OUTCOMES:
        handoff.status = "abandoned"
    if record.automation_seconds is None:
        record.automation_seconds = max(0.0, (now - record.started_at).total_seconds())
    return True


def _outcome(current: str | None, handoff_status: str | None, call_status: str) -> str:
    if handoff_status is not None:
        return _OUTCOMES.get(handoff_status, "abandoned")
    if current:
        return current
    return "hung_up" if call_status == "completed" else call_status.replace("-", "_")


def _set_handoff_status(session: Session, call_id: str, status: str) -> None:
    handoff = _handoff(session, call_id)
    if handoff is not None and handoff.status != "connected":
        handoff.status = status


def _handoff(session: Session, call_id: str) -> HandoffRecord | None:
    return session.scalar(select(HandoffRecord).where(HandoffRecord.call_id == call_id).with_for_update())
