"""What the phone line writes beyond the conversation: stored replies, ringing, connecting.

Writers take the open ``Connection`` of the webhook's one transaction; ``stored_reply`` reads on its own.
Voicemails, callback requests and the end of a call are the core's (``frontdoor.storage.followups``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select

from frontdoor.calls import AnsweredBefore
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.followups import change_call, change_handoff, locked_handoff, set_handoff_status
from frontdoor.storage.schema import CallRecord, HandoffRecord, WebhookReply
from frontdoor.handoff.summary import WarmTransferSummary


_CALLS = CallRecord.__table__
_HANDOFFS = HandoffRecord.__table__
_REPLIES = WebhookReply.__table__

_REPLY = select(_REPLIES.c.body).where(_REPLIES.c.key == bindparam("key"))
_CALL = select(_CALLS.c.caller_number, _CALLS.c.started_at, _CALLS.c.ended_at, _CALLS.c.outcome, _CALLS.c.automation_seconds,
               _CALLS.c.seconds_to_person).where(_CALLS.c.id == bindparam("call_id"))
_HANDOFF_FACTS = select(_HANDOFFS.c.status, _HANDOFFS.c.summary).where(_HANDOFFS.c.call_id == bindparam("call_id"))


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
        change_call(connection, call_id, seconds_to_person=max(0.0, (at - call.started_at).total_seconds()))
