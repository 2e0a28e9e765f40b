"""A handoff's page: the warm-transfer summary, who has it, the pathway turn by turn, the score chart, the incident;
claiming it and closing it with an outcome."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from frontdoor.errors import InputError, NotFoundError
from frontdoor.console import closing, records
from frontdoor.console.charts import LineChart, SeriesInput, line_chart
from frontdoor.console.context import console
from frontdoor.console.security import protect
from frontdoor.console.summary_fields import summary_fields

bp = protect(Blueprint("console_handoffs", __name__, url_prefix="/agent/handoffs", template_folder="templates"))


def score_chart(trajectory: list[records.TurnScores], threshold: float) -> LineChart | None:
    """Frustration and urgency over the caller's turns (None before the caller said anything)."""
    if not trajectory:
        return None
    return line_chart(
        [f"Turn {item.turn + 1}" for item in trajectory],
        [
            SeriesInput("frustration", "frustration", [item.frustration for item in trajectory]),
            SeriesInput("urgency", "urgency", [item.urgency for item in trajectory]),
        ],
        threshold=threshold,
    )


def refusal(hold: records.Hold, who: str) -> str | None:
    """Why ``who`` cannot work on a handoff held like this (it is closed, or another agent's), or None if they can."""
    if hold.closing is not None:
        by = f" by {hold.closing.by}" if hold.closing.by else ""
        return f"This handoff was closed{by} at {console().local_time(hold.closing.at)}: {closing.outcome_label(hold.closing.outcome)}."
    if hold.claim is not None and hold.claim.by != who:
        return f"{hold.claim.by} has this handoff: claimed at {console().local_time(hold.claim.at)}."
    return None


def _page(call_id: str, error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    service = console().service
    try:
        view = records.handoff_view(service.database, call_id)
    except NotFoundError:
        abort(404, description=f"No handoff for call {call_id}.")
    trajectory = view.trajectory or [
        records.TurnScores(point.turn, 0.0, point.frustration, point.urgency) for point in view.summary.trajectory
    ]
    thresholds = service.settings.handoff
    chart = score_chart(trajectory, min(thresholds.frustration_threshold, thresholds.urgency_threshold))
    incident = service.board.get(view.summary.incident.id) if view.summary.incident is not None else None
    page = render_template(
        "console/handoff.html", view=view, summary=view.summary, fields=summary_fields(view.summary), chart=chart, incident=incident,
        outcomes=closing.OUTCOMES, error=error,
    )
    return page, status


@bp.get("/<call_id>")
def handoff(call_id: str):  # type: ignore[no-untyped-def]
    return _page(call_id)


@bp.post("/<call_id>/claim")
def claim(call_id: str):  # type: ignore[no-untyped-def]
    try:
        hold = records.claim(console().service.database, call_id, g.console_user, console().now())
    except NotFoundError:
        abort(404, description=f"No handoff for call {call_id}.")
    refused = refusal(hold, g.console_user)
    if refused:
        return _page(call_id, error=refused, status=409)
    flash("You have this handoff.")
    return redirect(url_for("console_handoffs.handoff", call_id=call_id), code=303)


@bp.post("/<call_id>/close")
def close(call_id: str):  # type: ignore[no-untyped-def]
    try:
        typed = closing.read_closing(request.form)
        hold = records.close(console().service.database, call_id, g.console_user, typed, console().now())
    except InputError as exc:
        return _page(call_id, error=str(exc), status=400)
    except NotFoundError:
        abort(404, description=f"No handoff for call {call_id}.")
    if hold.closing is None or hold.closing.by != g.console_user:
        return _page(call_id, error=refusal(hold, g.console_user), status=409)
    flash(f"Closed: {closing.outcome_label(hold.closing.outcome)}. The handoff has left the queue.")
    return redirect(url_for("console_queue.queue"), code=303)
