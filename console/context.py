"""What every console view needs: the call service, the console users, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app

from frontdoor.settings import Settings
from frontdoor.console.formatting import local_time
from frontdoor.console.users import ConsoleUsers

if TYPE_CHECKING:
    from frontdoor.calls import CallService

EXTENSION = "frontdoor_console"


@dataclass(frozen=True)
class Console:
    service: CallService
    users: ConsoleUsers

    @property
    def settings(self) -> Settings:
        return self.service.settings

    def now(self) -> datetime:
        return self.service.clock()

    def local_time(self, moment: datetime | None, seconds: bool = False) -> str:
        """``moment`` as the desk reads it: its time zone, the date only when it is not today."""
        return local_time(moment, ZoneInfo(self.settings.general.timezone), self.now(), seconds)


def console() -> Console:
    """The console of the app handling this request."""
    return current_app.extensions[EXTENSION]
