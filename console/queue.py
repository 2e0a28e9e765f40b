"""The live queue of handoffs, newest first; the page polls ``queue.json`` to stay current."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, url_for

from frontdoor.console import records
from frontdoor.console.context import console
from frontdoor.console.formatting import duration, reason_label
from frontdoor.console.security import protect

bp = protect(Blueprint("console_queue", __name__, url_prefix="/agent", template_folder="templates"))

POLL_SECONDS = 3


def _entry_json(entry: records.QueueEntry) -> dict[str, object]:
    return {
        "call_id": entry.call_id,
        "caller": entry.caller.label,
        "number": entry.caller.number,
        "department": entry.caller.department,
        "vip": entry.caller.vip,
        "reason": entry.reason,
        "reason_label": reason_label(entry.reason),
        "status": entry.status,
        "agent": entry.agent,
        "issue": entry.issue,
        "created_at": entry.created_at.isoformat(),
        "waiting_seconds": round(entry.waiting_seconds, 1),
        "waiting": duration(entry.waiting_seconds),
        "link": url_for("console_handoffs.handoff", call_id=entry.call_id),
    }


@bp.get("", strict_slashes=False)
def queue():  # type: ignore[no-untyped-def]
    entries = records.queue(console().service.database, console().now())
    return render_template("console/queue.html", entries=entries, poll_seconds=POLL_SECONDS)


@bp.get("/queue.json")
def queue_json():  # type: ignore[no-untyped-def]
    entries = records.queue(console().service.database, console().now())
    return jsonify(handoffs=[_entry_json(entry) for entry in entries], poll_seconds=POLL_SECONDS)


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):  # type: ignore[no-untyped-def]
    """Any other /agent address: signed-in users learn it does not exist, strangers are sent to sign in."""
    abort(404)
