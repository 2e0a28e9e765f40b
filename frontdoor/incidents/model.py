"""An incident as the assistant and agents see it, whatever its source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("investigating", "identified", "monitoring", "maintenance", "resolved")
IMPACTS = ("minor", "major", "critical")


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    services: tuple[str, ...]
    status: str = "investigating"
    impact: str = "minor"
    started: datetime | None = None
    eta: datetime | None = None
    workaround: str | None = None
    source: str = "file"

    @property
    def active(self) -> bool:
        return self.status != "resolved"

    def in_effect(self, now: datetime) -> bool:
        """Whether it can be the cause of a problem now: started and not resolved; planned maintenance only inside its window."""
        if not self.active or (self.started is not None and self.started > now):
            return False
        return not (self.status == "maintenance" and self.eta is not None and self.eta <= now)

    @property
    def severity(self) -> int:
        return IMPACTS.index(self.impact) if self.impact in IMPACTS else 0
