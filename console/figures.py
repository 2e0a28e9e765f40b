"""Insight figures: plain functions over plain facts about calls (no database, no Flask)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

WAIT_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 30 s", 30.0),
    ("30–60 s", 60.0),
    ("1–2 min", 120.0),
    ("2–5 min", 300.0),
    ("5+ min", math.inf),
)


@dataclass(frozen=True)
class CallFacts:
    """One call as the insight page sees it: ``seconds_to_person`` only when a person took the call."""

    started_at: datetime
    ended: bool
    handed_off: bool
    helped: bool
    seconds_to_person: float | None


@dataclass(frozen=True)
class HandoffFacts:
    """One handoff: when, its kind and label as the console shows them (a security emergency is its own kind),
    and how an agent closed it (None while open)."""

    created_at: datetime
    kind: str
    label: str
    closed_outcome: str | None


@dataclass(frozen=True)
class SurveyFacts:
    request_type: str | None
    score: int


@dataclass(frozen=True)
class Spread:
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Share:
    part: int
    total: int

    @property
    def fraction(self) -> float | None:
        return self.part / self.total if self.total else None


@dataclass(frozen=True)
class SurveyScore:
    request_type: str
    answers: int
    average: float


@dataclass(frozen=True)
class DayReasons:
    day: date
    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def seconds_to_person(started_at: datetime, recorded: float | None, connected_at: datetime | None) -> float | None:
    """Seconds from the call's start to a person taking it: as recorded by the channel, else to the agent
    connecting; None when no person took the call (a handoff nobody answered is not a person reached)."""
    if recorded is not None:
        return max(0.0, recorded)
    return None if connected_at is None else max(0.0, (connected_at - started_at).total_seconds())


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction {fraction} is not between 0 and 1")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def time_to_person(calls: Iterable[CallFacts]) -> Spread:
    waits = [call.seconds_to_person for call in calls if call.seconds_to_person is not None]
    if not waits:
        return Spread(0, None, None)
    return Spread(len(waits), percentile(waits, 0.5), percentile(waits, 0.9))


def wait_histogram(calls: Iterable[CallFacts]) -> list[tuple[str, int]]:
    """How many calls reached a person within each of ``WAIT_BUCKETS``."""
    counts = Counter[str]()
    for call in calls:
        if call.seconds_to_person is None:
            continue
        label = next(label for label, limit in WAIT_BUCKETS if call.seconds_to_person < limit)
        counts[label] += 1
    return [(label, counts[label]) for label, _ in WAIT_BUCKETS]


def _settled(calls: Iterable[CallFacts]) -> list[CallFacts]:
    """The calls that are over or went to a person (a call still with the assistant counts nowhere yet)."""
    return [call for call in calls if call.ended or call.handed_off]


def handled_without_person(calls: Iterable[CallFacts]) -> Share:
    """Of the settled calls, those the assistant helped that never needed a person."""
    settled = _settled(calls)
    return Share(sum(1 for call in settled if not call.handed_off and call.helped), len(settled))


def left_without_help(calls: Iterable[CallFacts]) -> Share:
    """Of the settled calls, those that ended before the assistant helped and without a person: callers who hung up (or said goodbye) unhelped."""
    settled = _settled(calls)
    return Share(sum(1 for call in settled if not call.handed_off and not call.helped), len(settled))


def reached_person(calls: Iterable[CallFacts]) -> Share:
    """Of the calls handed off, those a person took (the only ones time to a person is measured over)."""
    handed_off = [call for call in calls if call.handed_off]
    return Share(sum(1 for call in handed_off if call.seconds_to_person is not None), len(handed_off))


def survey_scores(answers: Iterable[SurveyFacts]) -> list[SurveyScore]:
    """Average survey score per request type, most answered first."""
    scores: dict[str, list[int]] = defaultdict(list)
    for answer in answers:
        scores[answer.request_type or "other"].append(answer.score)
    rows = [SurveyScore(kind, len(values), sum(values) / len(values)) for kind, values in scores.items()]
    return sorted(rows, key=lambda row: (-row.answers, row.request_type))


def closings(handoffs: Iterable[HandoffFacts]) -> list[tuple[str | None, int]]:
    """How many handoffs were closed with each outcome, most first; ``None`` counts those still open."""
    counts = Counter(handoff.closed_outcome for handoff in handoffs)
    return sorted(counts.items(), key=lambda item: (item[0] is None, -item[1], item[0] or ""))


def reasons_by_day(handoffs: Iterable[HandoffFacts], zone: ZoneInfo, first: date, last: date) -> list[DayReasons]:
    """Handoffs per local day and kind, every day from ``first`` to ``last`` included (empty days too)."""
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    reasons: set[str] = set()
    for handoff in handoffs:
        day = handoff.created_at.astimezone(zone).date()
        if first <= day <= last:
            per_day[day][handoff.kind] += 1
            reasons.add(handoff.kind)
    order = sorted(reasons)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    return [DayReasons(day, tuple((reason, per_day[day][reason]) for reason in order)) for day in days]
