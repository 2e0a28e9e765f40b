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

    @property
    def severity(self) -> int:
        return IMPACTS.index(self.impact) if self.impact in IMPACTS else 0
