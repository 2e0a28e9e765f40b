"""A handoff's page: the warm-transfer summary, the pathway turn by turn, the score chart, the incident."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from frontdoor.errors import NotFoundError
from frontdoor.console import records
from frontdoor.console.charts import LineChart, SeriesInput, line_chart
from frontdoor.console.context import console
from frontdoor.console.security import protect

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


@bp.get("/<call_id>")
def handoff(call_id: str):  # type: ignore[no-untyped-def]
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
    return render_template("console/handoff.html", view=view, summary=view.summary, chart=chart, incident=incident)
