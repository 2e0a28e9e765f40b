"""What a call leaves for people after the assistant: a person taking it, voicemails, callback requests, how it ended.

Writers take the open ``Connection`` of one transaction; each can run twice with the same effect
(a retried webhook, a journal record replayed), so none is ever stored twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from frontdoor.storage.schema import CallbackRequest, CallRecord, HandoffRecord, Voicemail

_CALLS = CallRecord.__table__
_HANDOFFS = HandoffRecord.__table__
_VOICEMAILS = Voicemail.__table__
_CALLBACKS = CallbackRequest.__table__

_CALL_TIMES = select(_CALLS.c.started_at, _CALLS.c.ended_at, _CALLS.c.outcome, _CALLS.c.automation_seconds, _CALLS.c.seconds_to_person).where(
    _CALLS.c.id == bindparam("call_id")
)
_UPDATE_CALL = update(_CALLS).where(_CALLS.c.id == bindparam("b_call_id"))
_HANDOFF_FOR_UPDATE = (
    select(_HANDOFFS.c.id, _HANDOFFS.c.status, _HANDOFFS.c.attempts, _HANDOFFS.c.created_at)
    .where(_HANDOFFS.c.call_id == bindparam("call_id"))
    .with_for_update()
)
_UPDATE_HANDOFF = update(_HANDOFFS).where(_HANDOFFS.c.id == bindparam("b_id"))
_VOICEMAIL_ID = select(_VOICEMAILS.c.id).where(_VOICEMAILS.c.recording_sid == bindparam("recording_sid"))
_CALLBACK_ID = select(_CALLBACKS.c.id).where(_CALLBACKS.c.call_id == bindparam("call_id"))

_OUTCOMES = {"connected": "transferred", "voicemail": "voicemail", "callback": "callback"}


def connected(connection: Connection, call_id: str, agent: str | None, at: datetime, queued_seconds: float | None = None) -> None:
    """A person took the call at ``at`` (or ``queued_seconds`` after the handoff began): connected, time to a person known."""
    handoff = locked_handoff(connection, call_id)
    if handoff is not None and queued_seconds is not None:
        at = handoff.created_at + timedelta(seconds=queued_seconds)
    if handoff is not None and handoff.status != "connected":
        change_handoff(connection, handoff, status="connected", connected_at=at, **({"agent": agent} if agent else {}))
    call = connection.execute(_CALL_TIMES, {"call_id": call_id}).first()
    if call is not None and call.seconds_to_person is None:
        change_call(connection, call_id, seconds_to_person=max(0.0, (at - call.started_at).total_seconds()))


def save_voicemail(connection: Connection, call_id: str, recording_sid: str, recording_url: str, seconds: int | None, now: datetime) -> None:
    if connection.scalar(_VOICEMAIL_ID, {"recording_sid": recording_sid}) is None:
        connection.execute(
            insert(_VOICEMAILS),
            {"call_id": call_id, "recording_sid": recording_sid, "recording_url": recording_url, "duration_seconds": seconds, "created_at": now},
        )
    set_handoff_status(connection, call_id, "voicemail")


def request_callback(connection: Connection, call_id: str, number: str | None, note: str, now: datetime) -> None:
    if connection.scalar(_CALLBACK_ID, {"call_id": call_id}) is None:
        connection.execute(insert(_CALLBACKS), {"call_id": call_id, "phone_number": number, "note": note, "created_at": now})
    set_handoff_status(connection, call_id, "callback")


def finish(connection: Connection, call_id: str, call_status: str, now: datetime) -> bool:
    """The call is over: record how it ended and the time spent with the assistant. False if unknown."""
    call = connection.execute(_CALL_TIMES, {"call_id": call_id}).first()
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
        change_call(connection, call_id, **changes)
    return True


def _outcome(current: str | None, handoff_status: str | None, call_status: str) -> str:
    if handoff_status is not None:
        return _OUTCOMES.get(handoff_status, "abandoned")
    if current:
        return current
    return "hung_up" if call_status == "completed" else call_status.replace("-", "_")


def set_handoff_status(connection: Connection, call_id: str, status: str) -> None:
    handoff = locked_handoff(connection, call_id)
    if handoff is not None and handoff.status != "connected":
        change_handoff(connection, handoff, status=status)


def locked_handoff(connection: Connection, call_id: str) -> Row[Any] | None:
    """The call's handoff, held until the transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    return connection.execute(_HANDOFF_FOR_UPDATE, {"call_id": call_id}).first()


def change_handoff(connection: Connection, handoff: Row[Any], **changes: Any) -> None:
    connection.execute(_UPDATE_HANDOFF, {"b_id": handoff.id, **changes})


def change_call(connection: Connection, call_id: str, **changes: Any) -> None:
    connection.execute(_UPDATE_CALL, {"b_call_id": call_id, **changes})
