"""Reading the incident file (``config/incidents.yaml`` by default)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from frontdoor.errors import ConfigError
from frontdoor.yamlfile import read_yaml
from frontdoor.incidents.model import IMPACTS, STATUSES, Incident

KNOWN_KEYS = frozenset({"id", "title", "services", "status", "impact", "started", "eta", "workaround"})


def load_incident_file(path: Path, zone: ZoneInfo, today: date) -> list[Incident]:
    """Incidents from a YAML file; times are ISO 8601, or ``"HH:MM"`` for today in ``zone``."""
    data = read_yaml(path, "incident file")
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("incidents", []), list):
        raise ConfigError(f"{path}: expected 'incidents:' followed by a list")
    incidents: list[Incident] = []
    for index, entry in enumerate(data.get("incidents") or []):
        incident = parse_incident(entry, f"{path}: incidents[{index}]", zone, today)
        if any(existing.id == incident.id for existing in incidents):
            raise ConfigError(f"{path}: incidents[{index}].id: {incident.id!r} appears twice")
        incidents.append(incident)
    return incidents


def parse_incident(entry: Any, where: str, zone: ZoneInfo, today: date) -> Incident:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with id, title and services")
    for key in ("id", "title"):
        if not isinstance(entry.get(key), (str, int)) or not str(entry[key]).strip():
            raise ConfigError(f"{where}.{key}: required")
    services = entry.get("services")
    if isinstance(services, str):
        services = [services]
    if not isinstance(services, list) or not services or not all(isinstance(s, str) and s.strip() for s in services):
        raise ConfigError(f"{where}.services: expected a list of service names, e.g. [email, outlook]")
    status = str(entry.get("status", "investigating")).lower()
    if status not in STATUSES:
        raise ConfigError(f"{where}.status: {status!r} is not one of {', '.join(STATUSES)}")
    impact = str(entry.get("impact", "minor")).lower()
    if impact not in IMPACTS:
        raise ConfigError(f"{where}.impact: {impact!r} is not one of {', '.join(IMPACTS)}")
    workaround = entry.get("workaround")
    if workaround is not None and not isinstance(workaround, str):
        raise ConfigError(f"{where}.workaround: expected text")
    return Incident(
        id=str(entry["id"]).strip(),
        title=str(entry["title"]).strip(),
        services=tuple(s.strip() for s in services),
        status=status,
        impact=impact,
        started=parse_moment(entry.get("started"), f"{where}.started", zone, today),
        eta=parse_moment(entry.get("eta"), f"{where}.eta", zone, today),
        workaround=workaround.strip() if workaround else None,
        source="file",
    )


def parse_moment(value: Any, where: str, zone: ZoneInfo, today: date) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (or a YAML timestamp), or ``HH:MM`` meaning today in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) <= 5 and ":" in text:
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
