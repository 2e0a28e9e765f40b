"""Checking a console sign-in: the limits first, then one bounded password check, then the count."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from frontdoor.console.password_checks import PasswordCheckSlots
from frontdoor.console.signin_limits import SignInLimits
from frontdoor.console.users import ConsoleUsers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInCheck:
    users: ConsoleUsers
    limits: SignInLimits
    slots: PasswordCheckSlots

    def verify(self, name: str, password: str, address: str, now: datetime) -> bool:
        """Whether ``password`` is ``name``'s; raise ``LockedOut`` while the name or address is locked,
        ``Overloaded`` when every password-check slot is taken (neither checks the password)."""
        self.limits.check(name, address, now)
        right = self.slots.run(lambda: self.users.verify(name, password))
        if right:
            self.limits.succeeded(name, address)
            return True
        for lockout in self.limits.failed(name, address, now):
            log.warning(
                "console sign-in locked for %s %r until %s after %d failed sign-ins (the last for %r from %s)",
                lockout.kind, lockout.value, f"{lockout.until:%Y-%m-%d %H:%M:%S} UTC", lockout.failures, name[:100], address,
            )
        return False
