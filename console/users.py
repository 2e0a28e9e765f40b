"""Console users: names with salted scrypt password hashes in the ``console_users`` table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from frontdoor.console.sessions import end_user_sessions
from frontdoor.errors import InputError, NotFoundError
from frontdoor.storage.database import Database
from frontdoor.storage.schema import ConsoleUser

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")

# Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
_UNKNOWN_USER_HASH = generate_password_hash("frontdoor: no such console user")


@dataclass(frozen=True)
class UserListing:
    name: str
    created_at: datetime


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InputError(f"user name {name!r}: use 1-100 letters, digits and . _ @ + - (starting with a letter or digit)")
    return name


def check_password(password: str) -> str:
    """Refuse passwords that are empty, short, all blank or absurdly long."""
    if not password.strip():
        raise InputError("the password is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters")
    return password


class ConsoleUsers:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, name: str, password: str, now: datetime, *, replace: bool = False) -> bool:
        """Store a user with a hashed password; True if created, False if an existing password was replaced (ending their sessions)."""
        check_name(name)
        password_hash = generate_password_hash(check_password(password))
        try:
            with self.database.session() as session:
                user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name).with_for_update())
                if user is None:
                    session.add(ConsoleUser(name=name, password_hash=password_hash, created_at=now))
                    return True
                if not replace:
                    raise InputError(f"console user {name!r} already exists: pass --replace to set a new password")
                user.password_hash = password_hash
                end_user_sessions(session.connection(), user.id)
                return False
        except IntegrityError:
            raise InputError(f"console user {name!r} already exists: pass --replace to set a new password") from None

    def verify(self, name: str, password: str) -> bool:
        """Whether ``password`` is the password of ``name`` (one password hash either way, so unknown names cost the same)."""
        with self.database.reading() as session:
            stored = session.scalar(select(ConsoleUser.password_hash).where(ConsoleUser.name == name))
        if stored is None:
            check_password_hash(_UNKNOWN_USER_HASH, password)
            return False
        return check_password_hash(stored, password)

    def listing(self) -> list[UserListing]:
        with self.database.reading() as session:
            rows = session.execute(select(ConsoleUser.name, ConsoleUser.created_at).order_by(ConsoleUser.name))
            return [UserListing(name, created_at) for name, created_at in rows]

    def remove(self, name: str) -> None:
        with self.database.session() as session:
            user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
            if user is None:
                raise NotFoundError(f"no console user named {name!r}")
            end_user_sessions(session.connection(), user.id)
            session.delete(user)
