"""Signing in and out of the console (and its static files, which need no sign-in)."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, url_for

from frontdoor.console.context import console
from frontdoor.console.security import end_session, protect, safe_next, session_user, start_session

log = logging.getLogger(__name__)

bp = protect(
    Blueprint("console_auth", __name__, url_prefix="/agent", static_folder="static", static_url_path="/static", template_folder="templates"),
    sign_in=False,
)


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
    stamp = console().users.verify(name, password) if name and password else None
    if stamp is None:
        log.warning("console sign-in refused for %r from %s", name[:100], request.remote_addr)
        page = render_template("console/login.html", error="Wrong name or password.", next=target, name=name)
        return page, 401
    start_session(name, stamp, console().now())
    log.info("console user %s signed in from %s", name, request.remote_addr)
    return redirect(safe_next(target))


@bp.post("/logout")
def sign_out():  # type: ignore[no-untyped-def]
    name, _ = session_user(console().now())
    end_session()
    if name:
        log.info("console user %s signed out", name)
    return redirect(url_for("console_auth.login"))
