"""What the understanding model reads in a caller turn: signals (any number) and one dialogue act."""

from __future__ import annotations

from typing import Literal

SIGNAL_LABELS: tuple[str, ...] = ("human_request", "frustration", "urgency", "security", "distress")
"""What a turn can carry, any number of them; a turn with none is calm. The first four can send a call to a
person; ``distress`` (upset, panicking, close to tears: always with frustration) asks for a gentler voice."""

ACTS: tuple[str, ...] = (
    "request_person",
    "report_problem",
    "ask_status",
    "ask_how_to",
    "request_service",
    "inform",
    "yes",
    "no",
    "text_me",
    "call_me_later",
    "goodbye",
    "greeting",
    "bot_check",
    "unclear",
)
"""The main thing a turn does; exactly one per turn."""

Act = Literal[
    "request_person", "report_problem", "ask_status", "ask_how_to", "request_service", "inform", "yes", "no",
    "text_me", "call_me_later", "goodbye", "greeting", "bot_check", "unclear",
]
