"""How agents close handoffs: the outcomes they choose from, and checking what they typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from frontdoor.errors import InputError
from frontdoor.storage.migrations import ARCHIVED

OUTCOMES: dict[str, str] = {
    "resolved": "Resolved",
    "escalated": "Escalated",
    "follow_up": "Follow-up needed",
    "unreachable": "Caller unreachable",
}
"""The outcomes an agent can close a handoff with, and how the console words them."""

MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class ClosingForm:
    outcome: str
    note: str | None


def read_closing(form: Mapping[str, str]) -> ClosingForm:
    """The outcome and optional note from a submitted form; ``InputError`` if the outcome is not one of ``OUTCOMES``."""
    outcome = form.get("outcome", "")
    if outcome not in OUTCOMES:
        raise InputError(f"choose how the handoff ended: {', '.join(OUTCOMES.values())}")
    note = form.get("note", "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InputError(f"the note is too long: use at most {MAX_NOTE_LENGTH} characters")
    return ClosingForm(outcome, note or None)


def outcome_label(outcome: str | None) -> str:
    if not outcome:
        return ""
    if outcome == ARCHIVED:
        return "Archived when the database was upgraded"
    return OUTCOMES.get(outcome, outcome.replace("_", " ").capitalize())
