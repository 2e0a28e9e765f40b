"""The insight page: time to a person (over the calls a person took), calls handled without one and calls
left without help, how agents closed handoffs, survey scores, handoff reasons per day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request

from frontdoor.console import figures, records
from frontdoor.console.charts import BarChart, bar_chart, stacked_columns
from frontdoor.console.closing import outcome_label
from frontdoor.console.context import console
from frontdoor.console.formatting import duration
from frontdoor.console.security import protect

bp = protect(Blueprint("console_insight", __name__, url_prefix="/agent/insight", template_folder="templates"))

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


def survey_chart(scores: list[figures.SurveyScore]) -> BarChart:
    return bar_chart([(row.request_type.replace("_", " "), row.average, f"{row.average:.1f} ({row.answers})") for row in scores], maximum=5.0)


def wait_chart(histogram: list[tuple[str, int]]) -> BarChart:
    return bar_chart([(label, float(count), str(count)) for label, count in histogram])


def closings_chart(counts: list[tuple[str | None, int]]) -> BarChart:
    return bar_chart([(outcome_label(outcome) if outcome else "still open", float(count), str(count)) for outcome, count in counts])


def reasons_chart(days: list[figures.DayReasons]) -> BarChart:
    every = max(1, len(days) // 10)
    return stacked_columns([(f"{day.day:%b} {day.day.day}", day.counts) for day in days], label_every=every)


@bp.get("", strict_slashes=False)
def insight():  # type: ignore[no-untyped-def]
    days = request.args.get("days", DEFAULT_PERIOD, type=int)
    days = days if days in PERIODS else DEFAULT_PERIOD
    zone = ZoneInfo(console().settings.general.timezone)
    today = console().now().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    calls, handoffs, answers = records.insight_facts(console().service.database, datetime.combine(first, time.min, zone))
    spread = figures.time_to_person(calls)
    scores = figures.survey_scores(answers)
    per_day = figures.reasons_by_day(handoffs, zone, first, today)
    labels = {handoff.kind: handoff.label for handoff in handoffs}
    return render_template(
        "console/insight.html",
        days=days, periods=PERIODS, spread=spread, scores=scores,
        median=duration(spread.median), p90=duration(spread.p90),
        reached=figures.reached_person(calls),
        without_person=figures.handled_without_person(calls),
        left=figures.left_without_help(calls),
        wait_chart=wait_chart(figures.wait_histogram(calls)),
        survey_chart=survey_chart(scores) if scores else None,
        reasons_chart=reasons_chart(per_day) if handoffs else None,
        reasons=[(kind, labels[kind]) for kind, _ in per_day[0].counts] if per_day else [],
        closings_chart=closings_chart(figures.closings(handoffs)) if handoffs else None,
        handoffs=len(handoffs),
    )
