"""The schema of ``config/detector.yaml``: how model readings and call features become handoff evidence."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from frontdoor.handoff.signals import SIGNALS

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0, le=10.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerSignal(_Strict):
    human_request: Share
    frustration: Share
    urgency: Share
    security: Share

    def get(self, signal: str) -> float:
        return float(getattr(self, signal))


class ModelEvidence(_Strict):
    floor: PerSignal
    alone: PerSignal

    @model_validator(mode="after")
    def _alone_above_floor(self) -> ModelEvidence:
        for signal in SIGNALS:
            if self.alone.get(signal) <= self.floor.get(signal):
                raise ValueError(f"model.alone.{signal} must be above model.floor.{signal}")
        return self


class PersonOnly(_Strict):
    person_words: frozenset[str]
    fillers: frozenset[str]
    needs: frozenset[str]


class Repetition(_Strict):
    similarity: Share
    weight: Weight
    after_reprompt: Weight


class LowConfidence(_Strict):
    below: Share
    weight: Weight


class Single(_Strict):
    weight: Weight


class RecentCalls(_Strict):
    at_least: Annotated[int, Field(ge=1)]
    weight: Weight


class IncidentImpact(_Strict):
    impact: frozenset[str]
    weight: Weight


class Prosody(_Strict):
    loudness_rise_db: Annotated[float, Field(gt=0)]
    loudness_weight: Weight
    pitch_rise_ratio: Annotated[float, Field(gt=1)]
    pitch_weight: Weight
    rate_rise_ratio: Annotated[float, Field(gt=1)]
    rate_weight: Weight


class DetectorConfig(_Strict):
    model: ModelEvidence
    decay: PerSignal
    person_only: PersonOnly
    stopwords: frozenset[str]
    repetition: Repetition
    low_confidence: LowConfidence
    reprompted: Single
    silence: Single
    recent_calls: RecentCalls
    vip: Single
    incident: IncidentImpact
    prosody: Prosody
