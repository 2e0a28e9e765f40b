"""Matching a caller's words to incidents, tolerant of recogniser slips ("out look", "the v p n")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from frontdoor.conversation.language import words
from frontdoor.incidents.model import Incident

_PROBLEM_WORDS = frozenset(
    "down broken broke crashing crashes crashed crash error errors failing fails failed slow stuck frozen freezing "
    "problem problems issue issues outage offline dead bouncing bounced delayed disconnecting disconnects dropping "
    "drops unreachable unavailable locked trouble jammed wrong blank missing disappeared lost denied blocked rejected "
    "unable hangs hanging dim cracked spilled".split()
)
_PROBLEM_STEMS = ("flicker", "freez", "froze", "glitch", "crash", "fail", "lag", "overheat", "beep", "buzz", "disconnect", "reboots", "restarts")
_PROBLEM_PHRASES = (
    "not working", "isn't working", "is not working", "doesn't work", "does not work", "won't", "can't", "cannot",
    "can not", "couldn't", "not loading", "won't load", "not connecting", "no signal", "keeps", "stopped", "not sending",
    "not receiving", "not syncing", "wont", "cant", "doesnt", "isnt", "no access", "lost access", "acting up",
)

COMMON_SERVICES = (
    "email", "outlook", "vpn", "wifi", "printer", "laptop", "teams", "zoom", "sharepoint", "onedrive", "workday",
    "payroll", "password", "monitor", "phone", "badge", "calendar", "internet", "network", "salesforce", "jira",
    "slack", "excel", "word", "computer", "keyboard", "mouse", "headset", "camera", "webcam", "account", "login",
)


_TOO_COMMON = frozenset(
    "i a an it its is in on at to of and or the my me we us you he she they them this that these those be am are was "
    "were been do does did done can could will would should may might must have has had get got go going not no yes so "
    "but if then than up down out off over all any some one two new now just like with for from by as about into what "
    "when where who why how which there here again still also very really please thanks hi hello ok okay help need want "
    "work working use using see say said know think make try time day today way thing things something anything "
    "nothing back call other slow issue issues problem problems status page service services system systems".split()
)
"""Everyday words that a service name must not be, or "i can't print" would match a component called "I"."""


SYSTEMS = tuple(name for name in COMMON_SERVICES if name not in {"password", "account", "login", "computer"})
"""Services that name a system for an agent ("the computer" or "your password" say little)."""
_SYSTEM_NAMES = {
    "vpn": "VPN", "wifi": "Wi-Fi", "sharepoint": "SharePoint", "onedrive": "OneDrive", "salesforce": "Salesforce",
    "workday": "Workday", "outlook": "Outlook", "teams": "Teams", "zoom": "Zoom", "jira": "Jira", "slack": "Slack",
    "excel": "Excel", "word": "Word", "email": "Email",
}


def system_name(spoken: str) -> str:
    """A service as an agent writes it: "the VPN" -> "VPN", "the laptop" -> "Laptop"."""
    bare = spoken.removeprefix("the ").removeprefix("your ")
    return _SYSTEM_NAMES.get(compact(bare), bare[:1].upper() + bare[1:])


@dataclass(frozen=True)
class IncidentMatch:
    incident: Incident
    matched: tuple[str, ...]


@lru_cache(maxsize=4096)
def compact(text: str) -> str:
    """A name as matched: lower case, letters and digits only ("Wi-Fi" -> "wifi", "One Drive" -> "onedrive")."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def matchable(name: str) -> bool:
    """Whether callers can name a service by ``name``: more than one letter, and not an everyday word ("it", "a")."""
    key = compact(name)
    return len(key) > 1 and key not in _TOO_COMMON


def spoken_forms(text: str) -> set[str]:
    """Words, runs of two or three neighbours written together, and singulars ("e mails" -> "emails", "email")."""
    tokens = [compact(t.removesuffix("'s")) for t in words(text)]
    tokens = [t for t in tokens if t]
    forms = set(tokens)
    for size in (2, 3):
        forms |= {"".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
    letters = "".join(t if len(t) == 1 else " " for t in tokens).split()
    forms |= {run for run in letters if len(run) > 1}
    return forms | {f[:-1] for f in forms if len(f) > 3 and f.endswith("s")}


def match_incidents(text: str, incidents: Iterable[Incident]) -> list[IncidentMatch]:
    """Active incidents whose services the caller named, most severe and best matched first."""
    forms = spoken_forms(text)
    found = []
    for incident in incidents:
        if not incident.active:
            continue
        matched = tuple(name for name in incident.services if matchable(name) and compact(name) in forms)
        if matched:
            found.append(IncidentMatch(incident, matched))
    return sorted(found, key=lambda m: (-len(m.matched), -m.incident.severity))


_NOT_DOING = re.compile(r"\b(?:isn't|isnt|aren't|arent|not|never|stopped)\s+(?:\w+\s+)?\w+ing\b")


def is_problem_report(text: str) -> bool:
    """Whether the caller is reporting something broken (rather than asking how to do something)."""
    lowered = f" {' '.join(words(text))} "
    if _NOT_DOING.search(lowered) or any(token.startswith(_PROBLEM_STEMS) for token in lowered.split()):
        return True
    return bool(_PROBLEM_WORDS & set(lowered.split())) or any(f" {phrase} " in lowered or f" {phrase}" in lowered for phrase in _PROBLEM_PHRASES)


def mentioned_service(text: str, known: Sequence[str] = COMMON_SERVICES) -> str | None:
    """The first service the caller named, as they would say it."""
    forms = spoken_forms(text)
    for name in known:
        if compact(name) in forms:
            return _spoken_name(name)
    return None


def _spoken_name(name: str) -> str:
    return _SPOKEN_NAMES.get(name, name)


_SPOKEN_NAMES = {
    "vpn": "the VPN", "wifi": "the Wi-Fi", "teams": "Teams", "outlook": "Outlook", "zoom": "Zoom", "sharepoint": "SharePoint",
    "onedrive": "OneDrive", "workday": "Workday", "salesforce": "Salesforce", "jira": "Jira", "slack": "Slack",
    "excel": "Excel", "word": "Word", "printer": "the printer", "laptop": "the laptop", "monitor": "the monitor",
    "phone": "the phone", "badge": "the badge", "network": "the network", "internet": "the internet",
    "computer": "the computer", "calendar": "the calendar", "password": "your password", "account": "your account",
    "keyboard": "the keyboard", "mouse": "the mouse", "headset": "the headset", "camera": "the camera", "webcam": "the webcam",
}
