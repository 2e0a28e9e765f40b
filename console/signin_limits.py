"""Limits on console sign-in: failures counted per address and per name in the database, with growing lockouts.

The counts live in ``signin_failures``, so every worker and every instance sharing the database
sees the same ones. After ``lockout_after_failures`` failures for a name (or
``address_lockout_after_failures`` from an address) it is locked for ``first_lockout_minutes``, and
each further failure doubles that, up to ``longest_lockout_minutes``; while locked, even the right
password is refused without being checked. Counts are forgotten a day after the last failure, or
when the name signs in from the address. A worker that has just seen a lockout in the database
refuses from memory for the next ``SEEN_FOR`` (a locked-out flood then costs no query at all).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Connection, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from frontdoor.errors import LockedOut
from frontdoor.settings import ConsoleSettings
from frontdoor.storage.database import Database
from frontdoor.storage.schema import SignInFailures

FORGOTTEN_AFTER = timedelta(days=1)
SEEN_FOR = 1.0
MAX_SEEN = 10_000
MAX_KEY_CHARS = 100

Kind = Literal["address", "name"]


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures are free, and how long the lockouts after them last."""

    free_failures: int
    first: timedelta
    longest: timedelta

    def locked_until(self, failures: int, last_failure_at: datetime) -> datetime | None:
        """The end of the lockout after ``failures`` failures (None while they are free): first, then doubling, capped."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 32)
        return last_failure_at + min(self.first * 2**doublings, self.longest)


@dataclass(frozen=True)
class Lockout:
    """A lockout that a failure just started."""

    kind: Kind
    value: str
    failures: int
    until: datetime


def policies(settings: ConsoleSettings) -> dict[Kind, LockoutPolicy]:
    """The per-name and per-address policies of the settings (checked by their schema, ``frontdoor.settings``)."""
    first, longest = timedelta(minutes=settings.first_lockout_minutes), timedelta(minutes=settings.longest_lockout_minutes)
    return {
        "name": LockoutPolicy(settings.lockout_after_failures, first, longest),
        "address": LockoutPolicy(settings.address_lockout_after_failures, first, longest),
    }


def keys(name: str, address: str) -> list[tuple[Kind, str]]:
    return [("name", name[:MAX_KEY_CHARS]), ("address", address[:MAX_KEY_CHARS])]


def _is(kind: Kind) -> ColumnElement[bool]:
    """The row of ``kind`` whose value is the parameter named ``kind``."""
    return (SignInFailures.kind == kind) & (SignInFailures.value == bindparam(kind))


_TABLE = SignInFailures.__table__

_LOCKED = select(SignInFailures.kind, SignInFailures.value, SignInFailures.locked_until).where(
    or_(_is("name"), _is("address")),
    SignInFailures.last_failure_at > bindparam("forgotten_before"),
    SignInFailures.locked_until > bindparam("now"),
)
_FORGET = delete(SignInFailures).where(or_(_is("name"), _is("address")))


class SignInLimits:
    def __init__(self, database: Database, settings: ConsoleSettings) -> None:
        self.database = database
        self.policies = policies(settings)
        self._seen: dict[tuple[Kind, str], tuple[datetime, float]] = {}

    def check_seen(self, name: str, address: str, now: datetime) -> None:
        """Raise ``LockedOut`` if this worker saw the name or the address locked in the last ``SEEN_FOR`` seconds."""
        moment = time.monotonic()
        seen = [entry for key in keys(name, address) if (entry := self._seen.get(key)) is not None]
        _refuse_until(max((until for until, at in seen if until > now and moment - at < SEEN_FOR), default=None))

    def check(self, name: str, address: str, now: datetime) -> None:
        """Raise ``LockedOut`` while the name or the address is locked (a read-only transaction: no writer lock)."""
        with self.database.read() as connection:
            locked = connection.execute(_LOCKED, dict(keys(name, address), forgotten_before=now - FORGOTTEN_AFTER, now=now)).all()
        for kind, value, until in locked:
            self._remember(kind, value, until)
        _refuse_until(max((until for _, _, until in locked), default=None))

    def failed(self, name: str, address: str, now: datetime) -> list[Lockout]:
        """Count a failed sign-in against the name and the address; the lockouts it started."""
        started = []
        with self.database.transaction() as connection:
            connection.execute(delete(SignInFailures).where(SignInFailures.last_failure_at <= now - FORGOTTEN_AFTER))
            for kind, value in keys(name, address):
                failures = _count_failure(connection, kind, value, now)
                until = self.policies[kind].locked_until(failures, now)
                if until is not None:
                    connection.execute(
                        update(SignInFailures).where(SignInFailures.kind == kind, SignInFailures.value == value).values(locked_until=until)
                    )
                    started.append(Lockout(kind, value, failures, until))
        for lockout in started:
            self._remember(lockout.kind, lockout.value, lockout.until)
        return started

    def succeeded(self, name: str, address: str) -> None:
        """Forget the failures of a name that just signed in, and of the address it signed in from."""
        with self.database.transaction() as connection:
            connection.execute(_FORGET, dict(keys(name, address)))

    def _remember(self, kind: Kind, value: str, until: datetime) -> None:
        if len(self._seen) >= MAX_SEEN:
            self._seen.clear()
        self._seen[(kind, value)] = (until, time.monotonic())

    def unlock(self, name: str) -> bool:
        """Forget the failures of a name (an administrator's decision); False if it had none."""
        with self.database.transaction() as connection:
            gone = connection.execute(delete(SignInFailures).where(SignInFailures.kind == "name", SignInFailures.value == name[:MAX_KEY_CHARS]))
        return bool(gone.rowcount)


def _refuse_until(until: datetime | None) -> None:
    if until is not None:
        raise LockedOut(f"too many failed sign-ins: try again after {until:%H:%M:%S} UTC", until)


def _count_failure(connection: Connection, kind: Kind, value: str, now: datetime) -> int:
    """One more failure for ``kind``/``value`` in one atomic statement; the count it comes to."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(kind=kind, value=value, failures=1, last_failure_at=now, locked_until=None)
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.kind, _TABLE.c.value],
        set_={"failures": _TABLE.c.failures + 1, "last_failure_at": statement.excluded.last_failure_at},
    ).returning(_TABLE.c.failures)
    return int(connection.scalar(statement))
