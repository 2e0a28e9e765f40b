"""The state of one call, as the engine sees it; round-trips through JSON for the database."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from frontdoor.handoff.signals import Assessment, AudioFeatures, Scores, evidence_from_dict
from frontdoor.handoff.summary import CallerCard


@dataclass(frozen=True)
class HeardTurn:
    """A caller turn once heard: redacted text plus what the recogniser and detector needed."""

    index: int
    text: str
    confidence: float | None = None
    digits: str = ""
    silent: bool = False
    misunderstood: bool = False
    audio: AudioFeatures | None = None


@dataclass(frozen=True)
class CallState:
    call_id: str
    channel: str
    caller: CallerCard
    started_at: datetime
    recent_topics: tuple[str, ...] = ()
    turns: tuple[HeardTurn, ...] = ()
    replies: tuple[str, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    asked: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    told: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()
    pending: str | None = None
    reprompts: int = 0
    topic: str | None = None
    request_type: str | None = None
    helped: bool = False
    status: str = "open"
    handoff_reason: str | None = None
    survey_score: int | None = None

    @property
    def open(self) -> bool:
        return self.status == "open"

    def has_asked(self, question: str) -> bool:
        return question in self.asked

    def asking(self, question: str) -> CallState:
        """This state with ``question`` asked and awaited."""
        asked = self.asked if question in self.asked else (*self.asked, question)
        return replace(self, asked=asked, pending=question)

    def with_fact(self, key: str, value: str) -> CallState:
        return replace(self, facts=tuple((k, v) for k, v in self.facts if k != key) + ((key, value),))

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["started_at"] = self.started_at.isoformat()
        data["facts"] = [list(pair) for pair in self.facts]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        return cls(
            call_id=data["call_id"],
            channel=data["channel"],
            caller=CallerCard(**data["caller"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            recent_topics=tuple(data.get("recent_topics", ())),
            turns=tuple(_heard_turn(t) for t in data.get("turns", ())),
            replies=tuple(data.get("replies", ())),
            assessments=tuple(_assessment(a) for a in data.get("assessments", ())),
            asked=tuple(data.get("asked", ())),
            facts=tuple((k, v) for k, v in data.get("facts", ())),
            told=tuple(data.get("told", ())),
            incidents=tuple(data.get("incidents", ())),
            subscriptions=tuple(data.get("subscriptions", ())),
            pending=data.get("pending"),
            reprompts=data.get("reprompts", 0),
            topic=data.get("topic"),
            request_type=data.get("request_type"),
            helped=data.get("helped", False),
            status=data.get("status", "open"),
            handoff_reason=data.get("handoff_reason"),
            survey_score=data.get("survey_score"),
        )


_LEAVES = (str, int, float, type(None))


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies (a call's state is saved every turn): dicts, lists and leaves."""
    if isinstance(value, _LEAVES):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    names = _field_names(type(value))
    if names is None:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The fields of a dataclass type, looked up once per type; None for anything else."""
    return tuple(field.name for field in fields(kind)) if is_dataclass(kind) else None


def _heard_turn(data: dict[str, Any]) -> HeardTurn:
    audio = data.get("audio")
    return HeardTurn(**{**data, "audio": AudioFeatures(**audio) if audio else None})


def _assessment(data: dict[str, Any]) -> Assessment:
    return Assessment(
        **{
            **data,
            "scores": Scores(**data["scores"]),
            "totals": Scores(**data["totals"]),
            "probabilities": Scores(**data.get("probabilities", {})),
            "evidence": tuple(evidence_from_dict(e) for e in data.get("evidence", ())),
            "topics": tuple(data.get("topics", ())),
        }
    )

