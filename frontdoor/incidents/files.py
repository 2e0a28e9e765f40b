"""Reading the incident file (``config/incidents.yaml`` by default)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from frontdoor.errors import ConfigError
from frontdoor.incidents.model import Incident
from frontdoor.schemas import IncidentEntry, IncidentFile, check
from frontdoor.yamlfile import read_yaml


def load_incident_file(path: Path, zone: ZoneInfo, now: datetime) -> list[Incident]:
    """Incidents from a YAML file; times are ISO 8601, or ``"HH:MM"`` in ``zone``.

    ``HH:MM`` is the day's time as an operator means it at ``now``: a start is the last such moment
    (yesterday's when today's is still ahead; today's for planned maintenance, which lies ahead),
    and a fix time the first such moment after the start.
    """
    data = read_yaml(path, "incident file")
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected 'incidents:' followed by a list")
    incidents: list[Incident] = []
    for index, entry in enumerate(check(IncidentFile, data, str(path)).incidents or []):
        incident = _incident_from(entry, f"{path}: incidents[{index}]", zone, now)
        if any(existing.id == incident.id for existing in incidents):
            raise ConfigError(f"{path}: incidents[{index}].id: {incident.id!r} appears twice")
        incidents.append(incident)
    return incidents


def _incident_from(entry: IncidentEntry, where: str, zone: ZoneInfo, now: datetime) -> Incident:
    today = now.astimezone(zone).date()
    started = parse_moment(entry.started, f"{where}.started", zone, today)
    if started is not None and _time_of_day(entry.started) and started > now and entry.status != "maintenance":
        started = parse_moment(entry.started, f"{where}.started", zone, today - timedelta(days=1))
    eta = parse_moment(entry.eta, f"{where}.eta", zone, (started.astimezone(zone).date() if started else today))
    if eta is not None and started is not None and _time_of_day(entry.eta) and eta < started:
        eta = parse_moment(entry.eta, f"{where}.eta", zone, started.astimezone(zone).date() + timedelta(days=1))
    return Incident(
        id=entry.id,
        title=entry.title,
        services=tuple(entry.services),
        status=entry.status,
        impact=entry.impact,
        started=started,
        eta=eta,
        workaround=entry.workaround.strip() if entry.workaround else None,
        source="file",
    )


def _time_of_day(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) <= 5 and ":" in value


def parse_moment(value: Any, where: str, zone: ZoneInfo, today: date) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (or a YAML timestamp), or ``HH:MM`` meaning today in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _time_of_day(text):
                moment = datetime.combine(today, time.fromisoformat(text.zfill(5)), zone)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a time (use 2026-11-22T14:30:00Z or 14:30)") from None
    else:
        raise ConfigError(f"{where}: {value!r} is not a time (use 2026-11-22T14:30:00Z or 14:30)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)
