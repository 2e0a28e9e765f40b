"""The live queue of open handoffs, most pressing first; the page polls ``queue.json`` to stay current."""

from __future__ import annotations

from typing import Iterable

from flask import Blueprint, abort, g, jsonify, render_template, url_for

from frontdoor.console import records
from frontdoor.console.context import console
from frontdoor.console.formatting import SECURITY, duration
from frontdoor.console.security import protect

bp = protect(Blueprint("console_queue", __name__, url_prefix="/agent", template_folder="templates"))

POLL_SECONDS = 3

FIRST = (SECURITY, "urgency")
"""The kinds of handoff ahead of all others, in this order: security emergencies, then urgent calls."""


def priority(entry: records.QueueEntry) -> int:
    """0 for a security emergency, 1 for an urgent call, 2 for the rest."""
    return FIRST.index(entry.badge.key) if entry.badge.key in FIRST else len(FIRST)


def in_queue_order(entries: Iterable[records.QueueEntry]) -> list[records.QueueEntry]:
    """Security emergencies, then urgent calls, then the rest; within each, the caller waiting longest first."""
    return sorted(entries, key=lambda entry: (priority(entry), entry.created_at, entry.call_id))


def open_handoffs() -> list[records.QueueEntry]:
    return in_queue_order(records.queue(console().service.database, console().now()))


def _entry_json(entry: records.QueueEntry) -> dict[str, object]:
    return {
        "call_id": entry.call_id,
        "caller": entry.caller.label,
        "number": entry.caller.number,
        "department": entry.caller.department,
        "vip": entry.caller.vip,
        "kind": entry.badge.key,
        "label": entry.badge.label,
        "priority": priority(entry),
        "status": entry.status,
        "agent": entry.agent,
        "issue": entry.issue,
        "created_at": entry.created_at.isoformat(),
        "waiting_seconds": round(entry.waiting_seconds, 1),
        "waiting": duration(entry.waiting_seconds),
        "claimed_by": entry.claim.by if entry.claim else None,
        "claimed_at": entry.claim.at.isoformat() if entry.claim else None,
        "mine": entry.claim is not None and entry.claim.by == g.console_user,
        "link": url_for("console_handoffs.handoff", call_id=entry.call_id),
        "claim": url_for("console_handoffs.claim", call_id=entry.call_id),
    }


@bp.get("", strict_slashes=False)
def queue():  # type: ignore[no-untyped-def]
    return render_template("console/queue.html", entries=open_handoffs(), poll_seconds=POLL_SECONDS)


@bp.get("/queue.json")
def queue_json():  # type: ignore[no-untyped-def]
    return jsonify(handoffs=[_entry_json(entry) for entry in open_handoffs()], poll_seconds=POLL_SECONDS)


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):  # type: ignore[no-untyped-def]
    """Any other /agent address: signed-in users learn it does not exist, strangers are sent to sign in."""
    abort(404)
