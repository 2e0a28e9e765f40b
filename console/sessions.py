"""Console sessions kept on the server: signing out or a new password ends them, whatever cookies were saved.

The session cookie carries only a random token; ``console_sessions`` holds its SHA-256 and whose it
is. Every request looks the token up in a read-only transaction (on SQLite it never waits for the
writer lock); a token whose row is gone, or older than ``console.session_minutes``, signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, insert, select

from frontdoor.errors import NotFoundError
from frontdoor.storage.database import Database
from frontdoor.storage.schema import ConsoleSession, ConsoleUser

CLOCK_SKEW = timedelta(minutes=1)

_SESSIONS = ConsoleSession.__table__
_SESSION_USER = (
    select(ConsoleUser.name, ConsoleSession.started_at)
    .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
    .where(ConsoleSession.id == bindparam("id"))
)
_USER_ID = select(ConsoleUser.id).where(ConsoleUser.name == bindparam("name"))


@dataclass(frozen=True)
class SessionCheck:
    """Who a session token signs in (None if nobody), and whether it once signed someone in."""

    user: str | None
    ended: bool


def token_id(token: str) -> str:
    """The row id of a token: its SHA-256, so the table alone signs nobody in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def end_user_sessions(connection: Connection, user_id: int) -> None:
    """End every session of one user (a new password, a removed user)."""
    connection.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))


class ConsoleSessions:
    def __init__(self, database: Database, lifetime: timedelta) -> None:
        self.database = database
        self.lifetime = lifetime

    def start(self, name: str, now: datetime) -> str:
        """A new session for ``name``; returns the token for the cookie. Sessions past their lifetime are cleared out."""
        token = secrets.token_urlsafe(32)
        with self.database.transaction() as connection:
            user_id = connection.scalar(_USER_ID, {"name": name})
            if user_id is None:
                raise NotFoundError(f"no console user named {name!r}")
            connection.execute(delete(ConsoleSession).where(ConsoleSession.started_at < now - self.lifetime - CLOCK_SKEW))
            connection.execute(insert(_SESSIONS), {"id": token_id(token), "user_id": user_id, "started_at": now})
        return token

    def check(self, token: str | None, now: datetime) -> SessionCheck:
        if not token:
            return SessionCheck(None, False)
        with self.database.read() as connection:
            found = connection.execute(_SESSION_USER, {"id": token_id(token)}).first()
        if found is None:
            return SessionCheck(None, True)
        name, started_at = found
        if not started_at - CLOCK_SKEW <= now <= started_at + self.lifetime:
            return SessionCheck(None, True)
        return SessionCheck(str(name), False)

    def end(self, token: str) -> None:
        with self.database.transaction() as connection:
            connection.execute(delete(ConsoleSession).where(ConsoleSession.id == token_id(token)))
