"""What the phone line writes beyond the conversation: stored replies, agents being rung, agents' calls (legs).

Writers take the open ``Connection`` of the webhook's one transaction; ``stored_reply`` reads on its own.
A person taking the call, voicemails, callback requests and the end of a call are the core's
(``frontdoor.storage.followups``): the journal keeps them while the database cannot be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, bindparam, select, update

from frontdoor.calls import AnsweredBefore
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.followups import change_handoff, locked_handoff, set_handoff_status
from frontdoor.storage.schema import AgentLeg, CallRecord, HandoffRecord, WebhookReply
from frontdoor.handoff.summary import WarmTransferSummary


Write = Callable[[Connection], object]
"""A write the phone line makes in a webhook's transaction."""

_CALLS = CallRecord.__table__
_HANDOFFS = HandoffRecord.__table__
_REPLIES = WebhookReply.__table__
_LEGS = AgentLeg.__table__

_REPLY = select(_REPLIES.c.body).where(_REPLIES.c.key == bindparam("key"))
_REPLACE_REPLY = update(_REPLIES).where(_REPLIES.c.key == bindparam("b_key"))
_CALLER = select(_CALLS.c.caller_number).where(_CALLS.c.id == bindparam("call_id"))
_HANDOFF_FACTS = select(_HANDOFFS.c.status, _HANDOFFS.c.summary).where(_HANDOFFS.c.call_id == bindparam("call_id"))
_THIS_LEG = (_LEGS.c.call_id == bindparam("b_call_id")) & (_LEGS.c.attempt == bindparam("b_attempt"))
_LEG = select(_LEGS.c.status, _LEGS.c.call_sid, _LEGS.c.outcome).where(_THIS_LEG)
_UPDATE_LEG = update(_LEGS).where(_THIS_LEG)
_END_LEG = update(_LEGS).where(_THIS_LEG, _LEGS.c.outcome.is_(None))
_OPEN_LEGS = select(_LEGS.c.attempt, _LEGS.c.call_sid, _LEGS.c.status).where(
    _LEGS.c.call_id == bindparam("b_call_id"), _LEGS.c.outcome.is_(None)
)
_LEG_BY_SID = _LEGS.c.call_sid == bindparam("b_call_sid")
_LEG_JOINED = update(_LEGS).where(_LEG_BY_SID, _LEGS.c.joined_at.is_(None))

LEG_PROGRESS = ("dialling", "queued", "initiated", "ringing", "in-progress")
"""Where an agent's call can be before it ends, in order; every other status is final."""




@dataclass(frozen=True)
class CallFacts:
    """The little the phone line needs to know about a call outside the engine."""

    caller_number: str | None
    handoff_status: str | None
    summary: WarmTransferSummary | None


@dataclass(frozen=True)
class OpenLeg:
    """An agent's call that was still ringing or whispering when its attempt was ended."""

    call_sid: str
    answered: bool


def unhurried(connection: Connection) -> None:
    """Commit this transaction without waiting for the disk (PostgreSQL's ``synchronous_commit``; SQLite in WAL mode never waits).

    For facts the call can go without or that Twilio sends again: a crash may lose the last of them, never anything else.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def stored_reply(database: Database, key: str) -> str | None:
    """The reply already given to the request ``key``, if any."""
    with database.read() as connection:
        return connection.scalar(_REPLY, {"key": key})


def store_reply(connection: Connection, key: str, body: str, now: datetime) -> None:
    """Keep the reply to ``key`` with the request's other writes; ``AnsweredBefore`` if another answer got there first."""
    if not insert_new(connection, _REPLIES, {"key": key, "body": body, "created_at": now}, ("key",)):
        raise AnsweredBefore(key)


def replace_reply(connection: Connection, key: str, body: str) -> None:
    """Change the reply kept for ``key``: the request answered differently after its writes were kept."""
    connection.execute(_REPLACE_REPLY, {"b_key": key, "body": body})


def call_facts(connection: Connection, call_id: str) -> CallFacts:
    handoff = connection.execute(_HANDOFF_FACTS, {"call_id": call_id}).first()
    return CallFacts(
        caller_number=connection.scalar(_CALLER, {"call_id": call_id}),
        handoff_status=handoff.status if handoff is not None else None,
        summary=WarmTransferSummary.from_dict(handoff.summary) if handoff is not None and handoff.summary else None,
    )


def attempt_open(connection: Connection, call_id: str, attempt: int) -> bool:
    """Whether conference ``attempt`` still waits for its agent (an attempt frontdoor has no row of counts as open)."""
    leg = connection.execute(_LEG, {"b_call_id": call_id, "b_attempt": attempt}).first()
    return leg is None or leg.outcome is None


def ringing(connection: Connection, call_id: str, agent: str) -> None:
    """An agent is being rung for this call's handoff."""
    handoff = locked_handoff(connection, call_id)
    if handoff is not None and handoff.status != "connected":
        change_handoff(connection, handoff, status="ringing", agent=agent, attempts=handoff.attempts + 1)


def not_answered(connection: Connection, call_id: str, status: str) -> None:
    set_handoff_status(connection, call_id, status.replace("-", "_"))


def open_leg(connection: Connection, call_id: str, attempt: int, agent: str, conference: str, now: datetime) -> bool:
    """The agent of ``attempt`` is about to be rung into ``conference``; False if that attempt was opened before."""
    values = {"call_id": call_id, "attempt": attempt, "agent": agent, "conference": conference, "status": LEG_PROGRESS[0], "created_at": now}
    return insert_new(connection, _LEGS, values, ("call_id", "attempt"))


def leg_progress(connection: Connection, call_id: str, attempt: int, call_sid: str, status: str) -> None:
    """Where Twilio says the agent's call is; a status behind the one recorded (a late callback) changes nothing."""
    leg = connection.execute(_LEG, {"b_call_id": call_id, "b_attempt": attempt}).first()
    if leg is None:
        return
    changes: dict[str, Any] = {}
    if call_sid and leg.call_sid is None:
        changes["call_sid"] = call_sid
    if _progress(status) > _progress(leg.status):
        changes["status"] = status
    if changes:
        connection.execute(_UPDATE_LEG, {"b_call_id": call_id, "b_attempt": attempt, **changes})


def end_leg(connection: Connection, call_id: str, attempt: int, outcome: str, now: datetime) -> bool:
    """Settle how ``attempt`` ended unless something already did; True only for the request that settled it."""
    ended = connection.execute(_END_LEG, {"b_call_id": call_id, "b_attempt": attempt, "outcome": outcome, "ended_at": now})
    return ended.rowcount == 1


def end_open_legs(connection: Connection, call_id: str, outcome: str, now: datetime) -> list[OpenLeg]:
    """Settle every attempt still open (the caller hung up); the agents' calls Twilio still has up, to hang up."""
    legs = connection.execute(_OPEN_LEGS, {"b_call_id": call_id}).all()
    ended = [leg for leg in legs if end_leg(connection, call_id, leg.attempt, outcome, now)]
    return [OpenLeg(leg.call_sid, leg.status == "in-progress") for leg in ended if leg.call_sid and leg.status in LEG_PROGRESS]


def leg_joined(connection: Connection, call_sid: str, at: datetime) -> None:
    """The agent's call joined the caller's conference at ``at`` (the first time counts)."""
    connection.execute(_LEG_JOINED, {"b_call_sid": call_sid, "joined_at": at})


def _progress(status: str) -> int:
    """How far along an agent's call is: its place in ``LEG_PROGRESS``, and past the end for a final status."""
    return LEG_PROGRESS.index(status) if status in LEG_PROGRESS else len(LEG_PROGRESS)
