"""How the console shows times, durations and reasons (template filters; pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from frontdoor.handoff.summary import REASON_LABELS, WarmTransferSummary

SECURITY = "security"


@dataclass(frozen=True)
class Badge:
    """A handoff's label everywhere in the console: a key to style, order and count by, and the summary's own words."""

    key: str
    label: str


def badge(summary: WarmTransferSummary) -> Badge:
    """``security`` for a security emergency (whatever reason carried it), else the handoff reason."""
    return Badge(SECURITY if summary.security else summary.reason, summary.reason_label)


def reason_label(reason: str | None) -> str:
    if not reason:
        return ""
    return REASON_LABELS.get(reason, reason.replace("_", " ").capitalize())


def duration(seconds: float | None) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 10 min``."""
    if seconds is None:
        return "–"
    whole = int(round(max(0.0, seconds)))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def local_time(moment: datetime | None, zone: tzinfo, now: datetime | None = None, seconds: bool = False) -> str:
    """``14:05`` today, ``Mar 3 14:05`` on another day, in the desk's time zone (``14:05:09`` with seconds)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if now is not None and local.date() == now.astimezone(zone).date():
        return clock
    return f"{local:%b} {local.day} {clock}"
