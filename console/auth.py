"""Signing in and out of the console (and its static files, which need no sign-in)."""

from __future__ import annotations

import logging
import math
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for

from frontdoor.console.context import console
from frontdoor.console.formatting import duration, local_time
from frontdoor.console.security import end_session, protect, safe_next, session_user, start_session
from frontdoor.errors import LockedOut, Overloaded

log = logging.getLogger(__name__)

bp = protect(
    Blueprint("console_auth", __name__, url_prefix="/agent", static_folder="static", static_url_path="/static", template_folder="templates"),
    sign_in=False,
)

BUSY_RETRY_SECONDS = 1


@bp.get("/login")
def login():  # type: ignore[no-untyped-def]
    name, _ = session_user(console().now())
    if name is not None:
        return redirect(safe_next(request.args.get("next")))
    notice = "Your session has ended. Sign in again." if request.args.get("expired") else None
    return render_template("console/login.html", notice=notice, next=request.args.get("next", ""))


@bp.post("/login")
def sign_in():  # type: ignore[no-untyped-def]
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    address = request.remote_addr or "unknown"
    now = console().now()
    try:
        right = console().sign_ins.verify(name, password, address, now) if name and password else False
    except LockedOut as locked:
        wait = max(1, math.ceil((locked.until - now).total_seconds()))
        when = local_time(locked.until, ZoneInfo(console().settings.general.timezone), now, seconds=True)
        return _refused(f"Too many failed sign-ins. Try again after {when} (in {duration(wait)}).", 429, target, name, wait)
    except Overloaded:
        return _refused("The console is busy checking other sign-ins. Try again in a moment.", 503, target, name, BUSY_RETRY_SECONDS)
    if not right:
        log.warning("console sign-in refused for %r from %s", name[:100], address)
        return _refused("Wrong name or password.", 401, target, name)
    start_session(name, now)
    log.info("console user %s signed in from %s", name, address)
    return redirect(safe_next(target))


def _refused(error: str, status: int, target: str, name: str, retry_after: int | None = None):  # type: ignore[no-untyped-def]
    page = render_template("console/login.html", error=error, next=target, name=name)
    return page, status, {"Retry-After": str(retry_after)} if retry_after is not None else {}


@bp.post("/logout")
def sign_out():  # type: ignore[no-untyped-def]
    name, _ = session_user(console().now())
    end_session()
    if name:
        log.info("console user %s signed out", name)
    return redirect(url_for("console_auth.login"))
