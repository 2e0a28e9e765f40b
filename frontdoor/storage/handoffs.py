"""A handoff after it is made: its status as a channel tries to reach a person, and the callbacks promised.

Every channel writes these through here (the phone line as agents are rung, the desk speaker when it
promises a call back), on the open ``Connection`` of its own transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from frontdoor.storage.schema import CallbackRequest, HandoffRecord

_HANDOFFS = HandoffRecord.__table__
_CALLBACKS = CallbackRequest.__table__

_HANDOFF_FOR_UPDATE = (
    select(_HANDOFFS.c.id, _HANDOFFS.c.status, _HANDOFFS.c.attempts, _HANDOFFS.c.created_at)
    .where(_HANDOFFS.c.call_id == bindparam("call_id"))
    .with_for_update()
)
_UPDATE_HANDOFF = update(_HANDOFFS).where(_HANDOFFS.c.id == bindparam("b_id"))
_CALLBACK_ID = select(_CALLBACKS.c.id).where(_CALLBACKS.c.call_id == bindparam("call_id"))


def locked_handoff(connection: Connection, call_id: str) -> Row[Any] | None:
    """The call's handoff, held until the transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    return connection.execute(_HANDOFF_FOR_UPDATE, {"call_id": call_id}).first()


def change_handoff(connection: Connection, handoff: Row[Any], **changes: Any) -> None:
    connection.execute(_UPDATE_HANDOFF, {"b_id": handoff.id, **changes})


def set_handoff_status(connection: Connection, call_id: str, status: str) -> None:
    """The handoff's new status, unless a person already took the call."""
    handoff = locked_handoff(connection, call_id)
    if handoff is not None and handoff.status != "connected":
        change_handoff(connection, handoff, status=status)


def request_callback(connection: Connection, call_id: str, number: str | None, note: str, now: datetime) -> None:
    """Book a call back to the caller of ``call_id`` (once per call): the handoff now waits on it."""
    if connection.scalar(_CALLBACK_ID, {"call_id": call_id}) is None:
        connection.execute(insert(_CALLBACKS), {"call_id": call_id, "phone_number": number, "note": note, "created_at": now})
    set_handoff_status(connection, call_id, "callback")
