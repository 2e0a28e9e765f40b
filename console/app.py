"""Plugs the agent console into the frontdoor web app (entry point ``frontdoor.web``: ``agent``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response

from frontdoor.console import auth, followups, handoffs, incidents, insight, queue
from frontdoor.console.context import EXTENSION, Console, console
from frontdoor.console.closing import outcome_label
from frontdoor.console.formatting import duration, reason_label
from frontdoor.console.password_checks import PasswordCheckSlots
from frontdoor.console.security import SessionCookies
from frontdoor.console.sessions import ConsoleSessions
from frontdoor.console.signin import SignInCheck
from frontdoor.console.signin_limits import SignInLimits
from frontdoor.console.users import ConsoleUsers

if TYPE_CHECKING:
    from frontdoor.calls import CallService

log = logging.getLogger(__name__)

DISABLED_MESSAGE = (
    "The agent console is disabled: set FRONTDOOR_SECRET_KEY (or console.secret_key in the settings file) "
    "to a long random secret, then restart frontdoor.\n"
)

disabled = Blueprint("console_disabled", __name__, url_prefix="/agent")


@disabled.route("", defaults={"rest": ""}, methods=["GET", "POST"])
@disabled.route("/<path:rest>", methods=["GET", "POST"])
def console_disabled(rest: str) -> Response:
    return Response(DISABLED_MESSAGE, status=503, mimetype="text/plain")


def register(app: Flask, service: CallService) -> None:
    """Serve the console under ``/agent`` when a secret key signs its sessions; otherwise explain why not (503)."""
    settings = service.settings.console
    if not settings.secret_key:
        log.error("agent console disabled: FRONTDOOR_SECRET_KEY (console.secret_key) is not set; /agent answers 503")
        app.register_blueprint(disabled)
        return
    if len(settings.secret_key) < 32:
        log.warning("console.secret_key is short (%d characters): use at least 32 random characters", len(settings.secret_key))
    app.secret_key = settings.secret_key
    app.session_interface = SessionCookies()
    app.config.update(
        SESSION_COOKIE_NAME="frontdoor_console",
        SESSION_COOKIE_PATH="/agent",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=service.settings.twilio.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
    )
    users = ConsoleUsers(service.database)
    slots = PasswordCheckSlots(service.settings.data_dir, settings.password_checks_at_once)
    app.extensions[EXTENSION] = Console(
        service,
        users,
        ConsoleSessions(service.database, timedelta(minutes=settings.session_minutes)),
        SignInCheck(users, SignInLimits(service.database, settings), slots),
    )
    app.add_template_filter(lambda moment, seconds=False: console().local_time(moment, seconds), "local_time")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(reason_label, "reason_label")
    app.add_template_filter(outcome_label, "outcome_label")
    for blueprint in (auth.bp, queue.bp, handoffs.bp, incidents.bp, followups.bp, insight.bp):
        app.register_blueprint(blueprint)
