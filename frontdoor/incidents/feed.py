"""An optional live incident feed in the Atlassian Statuspage ``/api/v2/summary.json`` format.

Fetched on a background thread with a timeout and a short cache: a slow, down or malformed feed is
logged and never delays or breaks a call; the last good data is kept.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from datetime import datetime
from typing import Any, Callable

from frontdoor.incidents.model import Incident

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 2_000_000

_INCIDENT_STATUS = {"investigating": "investigating", "identified": "identified", "monitoring": "monitoring", "resolved": "resolved", "postmortem": "resolved"}
_MAINTENANCE_ACTIVE = {"in_progress", "verifying"}
_COMPONENT_IMPACT = {"degraded_performance": "minor", "partial_outage": "major", "major_outage": "critical", "under_maintenance": "minor"}
_IMPACT = {"none": "minor", "minor": "minor", "major": "major", "critical": "critical", "maintenance": "minor"}


class FeedError(Exception):
    """The feed answered with something that is not a Statuspage summary."""


def parse_summary(data: Any) -> list[Incident]:
    """Incidents, in-progress maintenance and non-operational components from a ``summary.json`` body."""
    if not isinstance(data, dict) or not isinstance(data.get("incidents", []), list):
        raise FeedError("not a Statuspage summary (no 'incidents' list)")
    found: list[Incident] = []
    covered: set[str] = set()
    for item in data.get("incidents") or []:
        incident = _from_incident(item)
        if incident is not None:
            found.append(incident)
            covered |= {name.lower() for name in incident.services}
    for item in data.get("scheduled_maintenances") or []:
        if isinstance(item, dict) and item.get("status") in _MAINTENANCE_ACTIVE:
            services = _component_names(item)
            found.append(
                Incident(
                    id=f"feed-{item.get('id', len(found))}", title=str(item.get("name", "Planned maintenance")),
                    services=services or _title_words(item), status="maintenance", impact=_IMPACT.get(str(item.get("impact")), "minor"),
                    started=_moment(item.get("scheduled_for")), eta=_moment(item.get("scheduled_until")), source="feed",
                )
            )
            covered |= {name.lower() for name in services}
    for item in data.get("components") or []:
        if not isinstance(item, dict) or item.get("status") not in _COMPONENT_IMPACT or item.get("group"):
            continue
        name = str(item.get("name", "")).strip()
        if name and name.lower() not in covered:
            found.append(
                Incident(
                    id=f"feed-component-{item.get('id', name)}", title=f"{name} {str(item['status']).replace('_', ' ')}",
                    services=(name,), status="investigating", impact=_COMPONENT_IMPACT[item["status"]], source="feed",
                )
            )
    return found


class StatuspageFeed:
    def __init__(self, url: str, timeout: float, cache_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic
        self._incidents: list[Incident] = []
        self._fetched_at: float | None = None
        self._refreshing: threading.Thread | None = None
        self._lock = threading.Lock()

    def incidents(self) -> list[Incident]:
        """The last good incidents at once; a refresh starts in the background when the cache is stale."""
        with self._lock:
            stale = self._fetched_at is None or self.monotonic() - self._fetched_at >= self.cache_seconds
            if stale and (self._refreshing is None or not self._refreshing.is_alive()):
                self._refreshing = threading.Thread(target=self.refresh, name="incident-feed", daemon=True)
                self._refreshing.start()
            return list(self._incidents)

    def refresh(self) -> bool:
        """Fetch now; keep the last good data and log when the feed fails."""
        try:
            incidents = parse_summary(self._fetch())
        except (OSError, ValueError, FeedError) as exc:
            log.warning("incident feed %s unavailable, keeping the last good data: %s", self.url, exc)
            with self._lock:
                self._fetched_at = self.monotonic()
            return False
        with self._lock:
            self._incidents = incidents
            self._fetched_at = self.monotonic()
        return True

    def _fetch(self) -> Any:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json", "User-Agent": "frontdoor"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            body = response.read(MAX_FEED_BYTES + 1)
        if len(body) > MAX_FEED_BYTES:
            raise FeedError(f"summary is larger than {MAX_FEED_BYTES:,} bytes")
        return json.loads(body.decode("utf-8"))


def _from_incident(item: Any) -> Incident | None:
    if not isinstance(item, dict) or not item.get("name"):
        return None
    status = _INCIDENT_STATUS.get(str(item.get("status")), "investigating")
    if status == "resolved":
        return None
    services = _component_names(item) or _title_words(item)
    return Incident(
        id=f"feed-{item.get('id') or item['name']}", title=str(item["name"]), services=services, status=status,
        impact=_IMPACT.get(str(item.get("impact")), "minor"), started=_moment(item.get("started_at") or item.get("created_at")),
        source="feed",
    )


def _component_names(item: dict[str, Any]) -> tuple[str, ...]:
    components = item.get("components") or []
    return tuple(str(c["name"]) for c in components if isinstance(c, dict) and c.get("name"))


def _title_words(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(word for word in str(item.get("name", "")).lower().split() if len(word) > 3)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
