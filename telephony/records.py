"""What the phone line writes beyond the conversation: stored replies, agents being rung.

Writers take the open ``Connection`` of the webhook's one transaction; ``stored_reply`` reads on its own.
A person taking the call, voicemails, callback requests and the end of a call are the core's
(``frontdoor.storage.followups``): the journal keeps them while the database cannot be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from frontdoor.calls import AnsweredBefore
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.followups import change_handoff, locked_handoff, set_handoff_status
from frontdoor.storage.schema import CallRecord, HandoffRecord, WebhookReply
from frontdoor.handoff.summary import WarmTransferSummary


_CALLS = CallRecord.__table__
_HANDOFFS = HandoffRecord.__table__
_REPLIES = WebhookReply.__table__

_REPLY = select(_REPLIES.c.body).where(_REPLIES.c.key == bindparam("key"))
_CALLER = select(_CALLS.c.caller_number).where(_CALLS.c.id == bindparam("call_id"))
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
    handoff = connection.execute(_HANDOFF_FACTS, {"call_id": call_id}).first()
    return CallFacts(
        caller_number=connection.scalar(_CALLER, {"call_id": call_id}),
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

