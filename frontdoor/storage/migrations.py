"""Schema upgrades: entry N of ``MIGRATIONS`` brings a database from version N to N + 1.

Tables new in a release are made by ``create_all``; migrations change what already exists (add a
column, backfill). Each runs inside the transaction that records the new version.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from sqlalchemy import Table, or_, select, text, update
from sqlalchemy.orm import Session

from frontdoor.storage.schema import CallRecord, HandoffRecord

Migration = Callable[[Session], None]

ARCHIVED = "archived"
"""How a handoff made before agents could close them is closed by the upgrade."""

STILL_LIVE = timedelta(hours=1)
"""A handoff this recent on a call not yet over is left open by the upgrade: its caller may still be waiting."""


def add_columns(session: Session, table: Table, names: Sequence[str]) -> None:
    """Add the model's ``names`` columns (nullable, no default) to an existing table, with their indexes."""
    dialect = session.get_bind().dialect
    for name in names:
        column = table.c[name]
        session.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(dialect)}"))
    for index in table.indexes:
        if any(column.name in names for column in index.columns):
            index.create(session.connection())


def handoffs_are_claimed_and_closed(session: Session) -> None:
    """Version 1 to 2: console agents claim handoffs and close them; handoffs already over are closed as archived."""
    add_columns(session, HandoffRecord.__table__, ("claimed_by", "claimed_at", "closed_by", "closed_at", "close_outcome", "close_note"))
    now = datetime.now(timezone.utc)
    over = select(CallRecord.id).where(CallRecord.ended_at.is_not(None))
    session.execute(
        update(HandoffRecord)
        .where(or_(HandoffRecord.created_at < now - STILL_LIVE, HandoffRecord.call_id.in_(over)))
        .values(closed_at=now, close_outcome=ARCHIVED)
        .execution_options(synchronize_session=False)
    )


MIGRATIONS: tuple[Migration, ...] = (handoffs_are_claimed_and_closed,)
