"""Callback requests and voicemails left for the desk: work through them and mark them done."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, url_for

from frontdoor.errors import NotFoundError
from frontdoor.console import records
from frontdoor.console.context import console
from frontdoor.console.security import protect

bp = protect(Blueprint("console_followups", __name__, url_prefix="/agent/follow-ups", template_folder="templates"))


@bp.get("", strict_slashes=False)
def follow_ups():  # type: ignore[no-untyped-def]
    items = records.open_follow_ups(console().service.database)
    return render_template(
        "console/followups.html",
        callbacks=[item for item in items if item.kind == "callback"],
        voicemails=[item for item in items if item.kind == "voicemail"],
    )


@bp.post("/<any(callback, voicemail):kind>/<int:item_id>/done")
def mark_done(kind: records.FollowUpKind, item_id: int):  # type: ignore[no-untyped-def]
    try:
        records.mark_done(console().service.database, kind, item_id, g.console_user, console().now())
    except NotFoundError:
        abort(404, description=f"No {kind} with id {item_id}.")
    return redirect(url_for("console_followups.follow_ups"))
