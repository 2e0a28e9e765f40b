"""Checking a console sign-in: the limits, then one bounded password check, then the count.

Beyond a look at the lockouts this worker has just seen, everything a sign-in costs (the limits'
query, the password hash) runs in a password-check slot on its lowest-priority thread, so a flood
of sign-ins is answered at once with a refusal and yields the CPU to the phone line's webhooks.
"""

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
        self.limits.check_seen(name, address, now)
        right = self.slots.run(lambda: self._unlocked_and_right(name, password, address, now))
        if right:
            self.limits.succeeded(name, address)
            return True
        for lockout in self.limits.failed(name, address, now):
            log.warning(
                "console sign-in locked for %s %r until %s after %d failed sign-ins (the last for %r from %s)",
                lockout.kind, lockout.value, f"{lockout.until:%Y-%m-%d %H:%M:%S} UTC", lockout.failures, name[:100], address,
            )
        return False

    def _unlocked_and_right(self, name: str, password: str, address: str, now: datetime) -> bool:
        self.limits.check(name, address, now)
        return self.users.verify(name, password)
