"""What the phone line writes beyond the conversation: stored replies, ringing, connecting, messages, endings.

Writers take the open ``Connection`` of the webhook's one transaction; ``stored_reply`` reads on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from frontdoor.calls import AnsweredBefore
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.handoffs import change_handoff, locked_handoff, set_handoff_status
from frontdoor.storage.schema import CallRecord, HandoffRecord, Voicemail, WebhookReply
from frontdoor.handoff.summary import WarmTransferSummary


_CALLS = CallRecord.__table__
_HANDOFFS = HandoffRecord.__table__
_REPLIES = WebhookReply.__table__
_VOICEMAILS = Voicemail.__table__

_REPLY = select(_REPLIES.c.body).where(_REPLIES.c.key == bindparam("key"))
_CALL = select(_CALLS.c.caller_number, _CALLS.c.started_at, _CALLS.c.ended_at, _CALLS.c.outcome, _CALLS.c.automation_seconds,
               _CALLS.c.seconds_to_person).where(_CALLS.c.id == bindparam("call_id"))
_UPDATE_CALL = update(_CALLS).where(_CALLS.c.id == bindparam("b_call_id"))
_HANDOFF_FACTS = select(_HANDOFFS.c.status, _HANDOFFS.c.summary).where(_HANDOFFS.c.call_id == bindparam("call_id"))
_VOICEMAIL_ID = select(_VOICEMAILS.c.id).where(_VOICEMAILS.c.recording_sid == bindparam("recording_sid"))


@dataclass(frozen=True)
class CallFacts:
    """The little the phone line needs to know about a call outside the engine."""

    caller_number: str | None
    handoff_status: str | None
    summary: WarmTransferSummary | None


def stored_reply(database: Database, key: str) -> str | None:
    """The reply already given to the request ``key``, if any."""
    with database.read() as connection:
        return connection.scalar(_REPLY, {"key": key})


def store_reply(connection: Connection, key: str, body: str, now: datetime) -> None:
    """Keep the reply to ``key`` with the request's other writes; ``AnsweredBefore`` if another answer got there first."""
    if not insert_new(connection, _REPLIES, {"key": key, "body": body, "created_at": now}, ("key",)):
        raise AnsweredBefore(key)


def call_facts(connection: Connection, call_id: str) -> CallFacts:
    call = connection.execute(_CALL, {"call_id": call_id}).first()
    handoff = connection.execute(_HANDOFF_FACTS, {"call_id": call_id}).first()
    return CallFacts(
        caller_number=call.caller_number if call is not None else None,
        handoff_status=handoff.status if handoff is not None else None,
        summary=WarmTransferSummary.from_dict(handoff.summary) if handoff is not None and handoff.summary else None,
    )


def ringing(connection: Connection, call_id: str, agent: str) -> None:
    """An agent is being rung for this call's handoff."""
    handoff = locked_handoff(connection, call_id)
    if handoff is not None and handoff.status != "connected":
        change_handoff(connection, handoff, status="ringing", agent=agent, attempts=handoff.attempts + 1)


def not_answered(connection: Connection, call_id: str, status: str) -> None:
    set_handoff_status(connection, call_id, status.replace("-", "_"))


def connected(connection: Connection, call_id: str, agent: str | None, at: datetime, queued_seconds: float | None = None) -> None:
    """A person took the call at ``at`` (or ``queued_seconds`` after the handoff began): connected, time to a person known."""
    handoff = locked_handoff(connection, call_id)
    if handoff is not None and queued_seconds is not None:
        at = handoff.created_at + timedelta(seconds=queued_seconds)
    if handoff is not None and handoff.status != "connected":
        change_handoff(connection, handoff, status="connected", connected_at=at, **({"agent": agent} if agent else {}))
    call = connection.execute(_CALL, {"call_id": call_id}).first()
    if call is not None and call.seconds_to_person is None:
        _change_call(connection, call_id, seconds_to_person=max(0.0, (at - call.started_at).total_seconds()))


def save_voicemail(connection: Connection, call_id: str, recording_sid: str, recording_url: str, seconds: int | None, now: datetime) -> None:
    if connection.scalar(_VOICEMAIL_ID, {"recording_sid": recording_sid}) is None:
        connection.execute(
            insert(_VOICEMAILS),
            {"call_id": call_id, "recording_sid": recording_sid, "recording_url": recording_url, "duration_seconds": seconds, "created_at": now},
        )
    set_handoff_status(connection, call_id, "voicemail")


_OUTCOMES = {"connected": "transferred", "voicemail": "voicemail", "callback": "callback"}


def finish(connection: Connection, call_id: str, call_status: str, now: datetime) -> bool:
    """Twilio says the call is over: record how it ended and the time spent with the assistant. False if unknown."""
    call = connection.execute(_CALL, {"call_id": call_id}).first()
    if call is None:
        return False
    handoff = locked_handoff(connection, call_id)
    changes: dict[str, Any] = {}
    if call.ended_at is None or (handoff is not None and call.outcome not in _OUTCOMES.values()):
        changes["ended_at"] = call.ended_at or now
        changes["outcome"] = _outcome(call.outcome, handoff.status if handoff else None, call_status)
    if handoff is not None and handoff.status not in _OUTCOMES:
        change_handoff(connection, handoff, status="abandoned")
    if call.automation_seconds is None:
        changes["automation_seconds"] = max(0.0, (now - call.started_at).total_seconds())
    if changes:
        _change_call(connection, call_id, **changes)
    return True


def _outcome(current: str | None, handoff_status: str | None, call_status: str) -> str:
    if handoff_status is not None:
        return _OUTCOMES.get(handoff_status, "abandoned")
    if current:
        return current
    return "hung_up" if call_status == "completed" else call_status.replace("-", "_")


def _change_call(connection: Connection, call_id: str, **changes: Any) -> None:
    connection.execute(_UPDATE_CALL, {"b_call_id": call_id, **changes})
