"""An optional live incident feed in the Atlassian Statuspage ``/api/v2/summary.json`` format.

Fetched on a background thread with a total deadline (connect, headers and body together: a server that
drips one byte a second is cut off), a size cap, a schema and a short cache: a slow, down, oversized or
malformed feed is logged and never delays or breaks a call, the last good data is kept, and the cache
applies to failures too, so a broken feed is asked again only when the cache period is over.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
import urllib.request
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlsplit

from frontdoor.errors import ConfigError
from frontdoor.incidents.model import Incident
from frontdoor.schemas import FeedIncident, FeedSummary, check

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 2_000_000

_INCIDENT_STATUS = {"investigating": "investigating", "identified": "identified", "monitoring": "monitoring", "resolved": "resolved", "postmortem": "resolved"}
_MAINTENANCE_ACTIVE = {"in_progress", "verifying"}
_COMPONENT_IMPACT = {"degraded_performance": "minor", "partial_outage": "major", "major_outage": "critical", "under_maintenance": "minor"}
_IMPACT = {"none": "minor", "minor": "minor", "major": "major", "critical": "critical", "maintenance": "minor"}


class FeedError(Exception):
    """The feed could not be read in time, or answered with something that is not a Statuspage summary."""


def parse_summary(data: Any) -> list[Incident]:
    """Incidents, in-progress maintenance and non-operational components from a ``summary.json`` body."""
    try:
        summary = check(FeedSummary, data, "summary")
    except ConfigError as exc:
        raise FeedError(f"not a Statuspage summary ({exc})") from None
    found: list[Incident] = []
    covered: set[str] = set()
    for item in summary.incidents or []:
        incident = _from_incident(item)
        if incident is not None:
            found.append(incident)
            covered |= {name.lower() for name in incident.services}
    for item in summary.scheduled_maintenances or []:
        if item.status in _MAINTENANCE_ACTIVE:
            services = _component_names(item)
            found.append(
                Incident(
                    id=f"feed-{item.id or len(found)}", title=item.name or "Planned maintenance",
                    services=services or _title_words(item), status="maintenance", impact=_IMPACT.get(str(item.impact), "minor"),
                    started=_moment(item.scheduled_for), eta=_moment(item.scheduled_until), source="feed",
                )
            )
            covered |= {name.lower() for name in services}
    for component in summary.components or []:
        name = component.name.strip()
        if component.status not in _COMPONENT_IMPACT or component.group or not name or name.lower() in covered:
            continue
        found.append(
            Incident(
                id=f"feed-component-{component.id or name}", title=f"{name} {component.status.replace('_', ' ')}",
                services=(name,), status="investigating", impact=_COMPONENT_IMPACT[component.status], source="feed",
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
        """Fetch now; keep the last good data and log when the feed fails. The cache restarts either way."""
        try:
            incidents = parse_summary(json_body(fetch(self.url, self.timeout, MAX_FEED_BYTES)))
        except FeedError as exc:
            log.warning("incident feed %s unavailable, keeping the last good data: %s", self.url, exc)
            return False
        else:
            with self._lock:
                self._incidents = incidents
            return True
        finally:
            with self._lock:
                self._fetched_at = self.monotonic()


def fetch(url: str, deadline_seconds: float, max_bytes: int) -> bytes:
    """The body of a GET of ``url`` (proxies and redirects as urllib does them), all of it within ``deadline_seconds``."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FeedError(f"{url!r} is not an http(s) address")
    deadline = _Deadline(deadline_seconds)
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(), _WatchedHTTP(deadline), _WatchedHTTPS(deadline), urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(), urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "frontdoor"})
    try:
        with opener.open(request, timeout=deadline_seconds) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FeedError(f"summary is larger than {max_bytes:,} bytes")
            body = response.read(max_bytes + 1)
        deadline.check()
    except (OSError, http.client.HTTPException) as exc:
        deadline.check()
        raise FeedError(f"{type(exc).__name__}: {exc}") from None
    finally:
        deadline.finish()
    if len(body) > max_bytes:
        raise FeedError(f"summary is larger than {max_bytes:,} bytes")
    return body


class _Deadline:
    """Cuts off the connections of one fetch when its time is up, whatever they wait for (a socket timeout restarts with every byte)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.connection: http.client.HTTPConnection | None = None
        self.expired = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._watch, name="incident-feed-deadline", daemon=True).start()

    def watch(self, kind: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
        """A connection factory for urllib whose connections this deadline can cut."""

        def connect(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            self.connection = kind(*args, **kwargs)
            return self.connection

        return connect

    def _watch(self) -> None:
        if self.done.wait(self.seconds):
            return
        self.expired.set()
        while not self.done.wait(0.05):
            sock = self.connection.sock if self.connection is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def check(self) -> None:
        if self.expired.is_set():
            raise FeedError(f"no complete answer within {self.seconds:g} s")

    def finish(self) -> None:
        self.done.set()


class _Watched:
    """urllib's handler, its connections made through ``deadline.watch``."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        return super().do_open(self.deadline.watch(http_class), req, **kwargs)  # type: ignore[misc]


class _WatchedHTTP(_Watched, urllib.request.HTTPHandler):
    pass


class _WatchedHTTPS(_Watched, urllib.request.HTTPSHandler):
    pass


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError(f"not JSON ({exc})") from None


def _from_incident(item: FeedIncident) -> Incident | None:
    if not item.name:
        return None
    status = _INCIDENT_STATUS.get(str(item.status), "investigating")
    if status == "resolved":
        return None
    return Incident(
        id=f"feed-{item.id or item.name}", title=item.name, services=_component_names(item) or _title_words(item), status=status,
        impact=_IMPACT.get(str(item.impact), "minor"), started=_moment(item.started_at or item.created_at), source="feed",
    )


def _component_names(item: FeedIncident) -> tuple[str, ...]:
    return tuple(component.name for component in item.components or [] if component.name)


def _title_words(item: FeedIncident) -> tuple[str, ...]:
    return tuple(word for word in (item.name or "").lower().split() if len(word) > 3)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
