"""The incident board: every known incident from the file, the database and the feed, in one place."""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from frontdoor.errors import FrontdoorError, InputError
from frontdoor.incidents.feed import StatuspageFeed
from frontdoor.incidents.files import load_incident_file
from frontdoor.incidents.matching import IncidentMatch, match_incidents
from frontdoor.incidents.model import IMPACTS, STATUSES, Incident
from frontdoor.incidents.speech import describe_incident, headline
from frontdoor.incidents.store import IncidentStore, require
from frontdoor.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
STORE_CACHE_SECONDS = 2.0
EDITABLE = frozenset({"title", "services", "status", "impact", "started", "eta", "workaround"})


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class IncidentBoard:
    """Merges the sources (database over file over feed, by id) and answers the engine's questions."""

    def __init__(
        self,
        *,
        incident_file: Path | None,
        store: IncidentStore | None,
        feed: StatuspageFeed | None,
        timezone: ZoneInfo,
        clock: Clock = _utcnow,
    ) -> None:
        self.incident_file = incident_file
        self.store = store
        self.feed = feed
        self.timezone = timezone
        self.clock = clock
        self._file_incidents: list[Incident] = []
        self._file_stamp: tuple[float, str] | None = None
        self._stored: list[Incident] = []
        self._stored_at: float | None = None
        self._pinned = threading.local()
        self._load_file(strict=True)

    @classmethod
    def from_settings(cls, settings: Settings, store: IncidentStore | None, clock: Clock = _utcnow) -> IncidentBoard:
        feed = None
        if settings.incidents.feed_url:
            feed = StatuspageFeed(settings.incidents.feed_url, settings.incidents.feed_timeout_seconds, settings.incidents.feed_cache_seconds)
        return cls(incident_file=settings.incidents_file, store=store, feed=feed, timezone=ZoneInfo(settings.general.timezone), clock=clock)

    def incidents(self) -> list[Incident]:
        """All known incidents, resolved ones included; never raises for a failing source."""
        self._load_file(strict=False)
        merged: dict[str, Incident] = {}
        for incident in self.feed.incidents() if self.feed else []:
            merged[incident.id] = incident
        for incident in self._file_incidents:
            merged[incident.id] = incident
        for incident in self._stored_incidents():
            merged[incident.id] = incident
        return sorted(merged.values(), key=lambda i: (not i.active, -i.severity, i.id))

    def active(self) -> list[Incident]:
        return [incident for incident in self.incidents() if incident.active]

    def get(self, incident_id: str) -> Incident | None:
        return next((incident for incident in self.incidents() if incident.id == incident_id), None)

    def match(self, text: str) -> list[IncidentMatch]:
        return match_incidents(text, self.active())

    def major(self) -> list[Incident]:
        """Active major and critical incidents, worst first: mentioned in the greeting."""
        return [incident for incident in self.active() if incident.severity >= IMPACTS.index("major") and incident.status != "maintenance"]

    def maintenance(self) -> list[Incident]:
        """Planned maintenance not yet over, soonest first."""
        planned = [i for i in self.active() if i.status == "maintenance"]
        return sorted(planned, key=lambda i: i.started or datetime.min.replace(tzinfo=timezone.utc))

    def hints(self) -> tuple[str, ...]:
        """Service names and aliases to help speech recognition."""
        return tuple(dict.fromkeys(name for incident in self.active() for name in incident.services))

    def describe(self, incident: Incident) -> str:
        return describe_incident(incident, self.timezone, self.clock())

    def headline(self, incident: Incident) -> str:
        return headline(incident, self.timezone, self.clock())

    def add(self, incident: Incident) -> Incident:
        if self.get(incident.id) is not None:
            raise InputError(f"incident {incident.id} already exists; use 'frontdoor incidents update'")
        added = self._writable_store().add(replace(incident, source="database"), self.clock())
        self.refresh()
        return added

    def update(self, incident_id: str, changes: dict[str, Any]) -> Incident:
        """Change fields of any known incident; the changed copy is stored in the database."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InputError(f"cannot change {', '.join(sorted(unknown))} (editable: {', '.join(sorted(EDITABLE))})")
        current = require(self.get(incident_id), incident_id)
        updated = validated(replace(current, **changes))
        saved = self._writable_store().save(updated, self.clock())
        self.refresh()
        return saved

    def resolve(self, incident_id: str) -> int:
        """Resolve any known incident and queue the "it's fixed" texts; how many were queued."""
        current = require(self.get(incident_id), incident_id)
        queued = self._writable_store().resolve(current, self.clock())
        self.refresh()
        return queued

    def _writable_store(self) -> IncidentStore:
        if self.store is None:
            raise FrontdoorError("incidents cannot be changed without a database")
        return self.store

    def refresh(self) -> None:
        """Read the database incidents now (changes made by other processes and workers)."""
        if self.store is None:
            return
        try:
            self._stored = self.store.all()
        except FrontdoorError as exc:
            log.error("incidents from the database unavailable, using the last ones read: %s", exc)
        self._stored_at = time.monotonic()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Answer from what was last read, without touching the database (while a call row is locked)."""
        self._stored_incidents()
        self._pinned.active = True
        try:
            yield
        finally:
            self._pinned.active = False

    def _stored_incidents(self) -> list[Incident]:
        stale = self._stored_at is None or time.monotonic() - self._stored_at > STORE_CACHE_SECONDS
        if stale and not getattr(self._pinned, "active", False):
            self.refresh()
        return self._stored

    def _load_file(self, strict: bool) -> None:
        """Read the incident file when it changed; a broken edit keeps the last good incidents (logged)."""
        if self.incident_file is None:
            return
        try:
            stat = os.stat(self.incident_file)
            stamp = (stat.st_mtime, f"{stat.st_size}:{stat.st_ino}")
        except OSError:
            stamp = None
        if stamp is not None and stamp == self._file_stamp:
            return
        now = self.clock()
        try:
            self._file_incidents = load_incident_file(self.incident_file, self.timezone, now)
        except FrontdoorError as exc:
            if strict:
                raise
            log.error("incident file unreadable, keeping the last good incidents: %s", exc)
        self._file_stamp = stamp


def validated(incident: Incident) -> Incident:
    """``incident`` if its fields are valid, else ``InputError`` naming the field."""
    if not incident.id.strip():
        raise InputError("incident id must not be empty")
    if not incident.title.strip():
        raise InputError("incident title must not be empty")
    if not incident.services or not all(name.strip() for name in incident.services):
        raise InputError("an incident needs at least one service name, e.g. --services email,outlook")
    if incident.status not in STATUSES:
        raise InputError(f"status {incident.status!r} is not one of {', '.join(STATUSES)}")
    if incident.impact not in IMPACTS:
        raise InputError(f"impact {incident.impact!r} is not one of {', '.join(IMPACTS)}")
    return incident
