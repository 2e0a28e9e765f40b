"""How incidents are said aloud: short sentences, times in the caller's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from frontdoor.incidents.model import Incident

_STATUS = {
    "investigating": "the team is investigating",
    "identified": "the team has found the cause",
    "monitoring": "a fix is in and the team is watching it",
    "maintenance": "this is planned maintenance",
    "resolved": "it has been fixed",
}


def spoken_time(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``"2:30 PM"`` today, ``"tomorrow at 9 AM"``, ``"Monday at 9 AM"`` this week, else ``"December 3 at 9 AM"``."""
    local = moment.astimezone(zone)
    today = now.astimezone(zone).date()
    clock = local.strftime("%I:%M %p").lstrip("0").replace(":00 ", " ")
    days = (local.date() - today).days
    if days == 0:
        return clock
    if days == 1:
        return f"tomorrow at {clock}"
    if 1 < days < 7:
        return f"{local.strftime('%A')} at {clock}"
    if days == -1:
        return f"yesterday at {clock}"
    return f"{local.strftime('%B')} {local.day} at {clock}"


def describe_incident(incident: Incident, zone: ZoneInfo, now: datetime) -> str:
    """Status, expected fix time and workaround in one or two short sentences."""
    subject = _subject(incident)
    if incident.status == "maintenance" and incident.started is not None and incident.started > now:
        until = f" and should be done by {spoken_time(incident.eta, zone, now)}" if incident.eta else ""
        return f"{incident.title.rstrip('.')} starts at {spoken_time(incident.started, zone, now)}{until}; it isn't affecting anything yet."
    if not incident.active:
        return f"{subject} was a known problem, and it has been fixed. If it's still not working for you, a person can look into it."
    status = _STATUS.get(incident.status, "the team is on it")
    if incident.eta is None:
        first = f"That's a known problem ({subject}): {status}."
    elif incident.eta > now:
        first = f"That's a known problem ({subject}): {status}, and the fix is expected by {spoken_time(incident.eta, zone, now)}."
    else:
        first = (
            f"That's a known problem ({subject}): the fix was expected by {spoken_time(incident.eta, zone, now)} "
            "and is taking longer, but the team is still on it."
        )
    if incident.workaround:
        return f"{first} In the meantime: {incident.workaround.rstrip('.')}."
    return first


def headline(incident: Incident, zone: ZoneInfo, now: datetime) -> str:
    """One short sentence for the greeting: ``"Email delivery delayed right now, fix expected by 2:30 PM."``."""
    eta = f", fix expected by {spoken_time(incident.eta, zone, now)}" if incident.eta and incident.eta > now else ""
    return f"{incident.title} right now{eta}."


def _subject(incident: Incident) -> str:
    return incident.title.rstrip(".")
