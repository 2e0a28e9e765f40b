"""The insight figures and chart geometry: plain functions, checked with hand-worked numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from frontdoor.console.charts import SeriesInput, bar_chart, line_chart, nice_ceiling, stacked_columns
from frontdoor.console.figures import (
    CallFacts,
    HandoffFacts,
    SurveyFacts,
    closings,
    handled_without_person,
    left_without_help,
    percentile,
    reached_person,
    reasons_by_day,
    seconds_to_person,
    survey_scores,
    time_to_person,
    wait_histogram,
)
from frontdoor.console.closing import read_closing
from frontdoor.console.formatting import Badge, badge, duration, local_time, reason_label
from frontdoor.console.summary_fields import Item, summary_fields
from frontdoor.errors import InputError
from frontdoor.handoff.signals import Evidence
from frontdoor.handoff.summary import CallerCard, WarmTransferSummary

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def call(seconds: float | None, *, ended: bool = True, handed_off: bool | None = None, helped: bool = False) -> CallFacts:
    return CallFacts(T0, ended, seconds is not None if handed_off is None else handed_off, helped, seconds)


def handoff(created_at: datetime, kind: str, closed: str | None = None) -> HandoffFacts:
    return HandoffFacts(created_at, kind, kind.replace("_", " ").capitalize(), closed)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([10, 20, 30, 40], 0.5) == 25
    assert percentile([40, 10, 30, 20], 0.9) == pytest.approx(37)
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    with pytest.raises(ValueError):
        percentile([], 0.5)
    with pytest.raises(ValueError):
        percentile([1], 1.5)


def test_time_to_person_counts_only_calls_that_reached_one() -> None:
    spread = time_to_person([call(30), call(None), call(90), call(60), call(None)])
    assert (spread.count, spread.median, spread.p90) == (3, 60, pytest.approx(84))
    assert time_to_person([call(None)]).median is None


def test_seconds_to_person_is_the_recorded_figure_else_the_connection_and_nothing_for_a_handoff_nobody_took() -> None:
    connected = T0 + timedelta(seconds=75)
    assert seconds_to_person(T0, 12.5, connected) == 12.5
    assert seconds_to_person(T0, None, connected) == 75
    assert seconds_to_person(T0, None, None) is None
    assert seconds_to_person(T0, -3.0, None) == 0


def test_handled_without_a_person_counts_only_helped_calls_and_callers_left_unhelped_apart() -> None:
    calls = [
        call(None, helped=True), call(None, helped=True), call(None), call(45), call(None, handed_off=True),
        call(None, ended=False, helped=True), call(20, ended=False),
    ]
    share = handled_without_person(calls)
    assert (share.part, share.total) == (2, 6)
    left = left_without_help(calls)
    assert (left.part, left.total) == (1, 6)
    assert handled_without_person([]).fraction is None and left_without_help([]).fraction is None


def test_reached_a_person_is_the_share_of_handoffs_a_person_took() -> None:
    share = reached_person([call(30), call(None, handed_off=True), call(None, handed_off=True, ended=False), call(None, helped=True)])
    assert (share.part, share.total) == (1, 3)


def test_closings_count_each_outcome_with_the_open_ones_last() -> None:
    handoffs = [handoff(T0, "urgency", "resolved"), handoff(T0, "security"), handoff(T0, "failure", "escalated"), handoff(T0, "urgency", "resolved")]
    assert closings(handoffs) == [("resolved", 2), ("escalated", 1), (None, 1)]
    assert closings([]) == []


def test_wait_histogram_buckets() -> None:
    counts = dict(wait_histogram([call(5), call(29.9), call(30), call(61), call(299), call(600), call(None)]))
    assert counts == {"< 30 s": 2, "30–60 s": 1, "1–2 min": 1, "2–5 min": 1, "5+ min": 1}


def test_survey_scores_average_by_request_type_most_answered_first() -> None:
    rows = survey_scores([SurveyFacts("password", 5), SurveyFacts("password", 4), SurveyFacts(None, 2), SurveyFacts("vpn", 1), SurveyFacts("password", 3)])
    assert [(row.request_type, row.answers, row.average) for row in rows] == [("password", 3, 4.0), ("other", 1, 2.0), ("vpn", 1, 1.0)]


def test_reasons_by_day_uses_the_local_day_and_keeps_empty_days() -> None:
    zone = ZoneInfo("America/New_York")
    late_evening = datetime(2026, 3, 3, 2, 30, tzinfo=timezone.utc)  # 21:30 on March 2 in New York
    days = reasons_by_day(
        [handoff(late_evening, "security"), handoff(T0 + timedelta(days=2), "human_request"), handoff(T0 - timedelta(days=9), "failure")],
        zone, date(2026, 3, 1), date(2026, 3, 4),
    )
    assert [d.day.day for d in days] == [1, 2, 3, 4]
    assert [dict(d.counts) for d in days] == [
        {"human_request": 0, "security": 0},
        {"human_request": 0, "security": 1},
        {"human_request": 0, "security": 0},
        {"human_request": 1, "security": 0},
    ]
    assert [d.total for d in days] == [0, 1, 0, 1]


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0, 0.7, 1, 1.2, 2.2, 3, 7, 12, 480)] == [1, 1, 1, 2, 2.5, 5, 10, 20, 500]


def test_line_chart_places_points_and_threshold_inside_the_plot() -> None:
    chart = line_chart(
        ["Turn 1", "Turn 2", "Turn 3"],
        [SeriesInput("frustration", "frustration", [0.0, 0.5, 1.4]), SeriesInput("urgency", "urgency", [0.2, 0.2, 0.2])],
        threshold=1.0,
    )
    frame = chart.frame
    frustration = chart.lines[0].points
    assert [p.x for p in frustration] == [frame.left, frame.left + frame.plot_width / 2, frame.width - frame.right]
    assert frustration[0].y == frame.baseline
    assert frustration[2].y < chart.threshold < frustration[1].y < frustration[0].y
    assert chart.lines[0].path.count(",") == 3
    assert frustration[2].caption == "Turn 3: frustration 1.4"
    assert [tick.label for tick in chart.y_ticks] == ["0", "0.5", "1", "1.5", "2"]


def test_line_chart_with_one_turn_centres_the_point_and_scales_to_the_threshold() -> None:
    chart = line_chart(["Turn 1"], [SeriesInput("urgency", "urgency", [0.3])], threshold=1.0)
    point = chart.lines[0].points[0]
    assert point.x == chart.frame.left + chart.frame.plot_width / 2
    assert chart.frame.top <= chart.threshold < point.y < chart.frame.baseline


def test_bar_chart_lengths_are_proportional() -> None:
    chart = bar_chart([("password", 4.0, "4.0"), ("vpn", 2.0, "2.0")], maximum=5.0)
    assert chart.bars[0].width == pytest.approx(chart.frame.plot_width * 0.8, abs=0.1)
    assert chart.bars[1].width == pytest.approx(chart.bars[0].width / 2, abs=0.1)
    assert [label.label for label in chart.labels] == ["password", "vpn"]


def test_stacked_columns_stack_to_the_total() -> None:
    chart = stacked_columns([("Mar 1", [("urgency", 1), ("failure", 3)]), ("Mar 2", [("urgency", 0), ("failure", 0)])])
    assert len(chart.bars) == 2
    lower, upper = chart.bars
    assert lower.y + lower.height == pytest.approx(chart.frame.baseline, abs=0.1)
    assert upper.y + upper.height == pytest.approx(lower.y, abs=0.1)
    assert upper.height == pytest.approx(lower.height * 3, abs=0.2)
    assert chart.values[-1].caption == "5"


def test_formatting() -> None:
    assert [duration(s) for s in (None, 4.4, 59.6, 185, 7800)] == ["–", "4 s", "1 min 00 s", "3 min 05 s", "2 h 10 min"]
    assert reason_label("human_request") == "Asked for a person"
    assert reason_label("something_new") == "Something new"
    zone = ZoneInfo("Europe/Paris")
    assert local_time(T0 + timedelta(seconds=9), zone, T0 + timedelta(hours=1)) == "10:00"
    assert local_time(T0 + timedelta(seconds=9), zone, T0 + timedelta(hours=1), seconds=True) == "10:00:09"
    assert local_time(T0, zone, T0 + timedelta(days=3)) == "Mar 2 10:00"
    assert local_time(None, zone) == ""


def test_a_security_emergency_is_badged_as_one_whatever_reason_carried_it() -> None:
    summary = WarmTransferSummary(call_id="c1", caller=CallerCard("+15551230001", "Dana Whitfield", "Finance"), issue="x", reason="urgency", security=True)
    assert badge(summary) == Badge("security", "Security emergency")
    assert badge(replace(summary, security=False)) == Badge("urgency", "Urgent")
    assert badge(replace(summary, security=False, reason="frustration")) == Badge("frustration", "Frustrated caller")


def test_summary_fields_show_what_the_summary_has_and_leave_out_empty_ones() -> None:
    summary = WarmTransferSummary(
        call_id="c1", caller=CallerCard(None, None, None), issue='"payroll for 400 people by 5 pm"', reason="urgency",
        told=("Email delivery delayed right now.",), evidence=(Evidence("urgency", "deadline", '"by 5 pm"', 0.6, 1),),
    )
    fields = summary_fields(summary)
    assert [(field.key, field.label) for field in fields] == [
        ("caller", "Caller"), ("number", "Number"), ("issue", "Issue"), ("why", "Evidence"), ("told", "Already told"),
    ]
    assert (fields[0].text, fields[1].text, fields[2].text) == ("Unknown caller", "withheld", '"payroll for 400 people by 5 pm"')
    assert fields[3].items == (Item('"by 5 pm"', "turn 2, Urgent"),)


def test_closing_form_needs_a_known_outcome_and_keeps_a_note_only_when_given() -> None:
    assert read_closing({"outcome": "follow_up", "note": "  call Friday  "}) == read_closing({"outcome": "follow_up", "note": "call Friday"})
    assert read_closing({"outcome": "resolved", "note": "   "}).note is None
    with pytest.raises(InputError, match="choose how the handoff ended"):
        read_closing({"outcome": "archived"})
    with pytest.raises(InputError, match="too long"):
        read_closing({"outcome": "resolved", "note": "x" * 2001})
