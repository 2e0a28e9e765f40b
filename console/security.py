"""Sign-in sessions, CSRF tokens and response headers for every console page."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, g, has_request_context, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from frontdoor.console.context import console

TOKEN = "session"
CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF] = token
    return str(token)


def check_csrf() -> None:
    """Refuse (400) any POST whose form field or header does not carry this session's token."""
    if request.method != "POST":
        return
    expected = session.get(CSRF)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(str(expected), given):
        abort(400, description="The form has expired or did not come from this console. Reload the page and try again.")


def start_session(name: str, now: datetime) -> None:
    """A fresh session for a user who just signed in, kept on the server (a new CSRF token too: no fixation)."""
    token = console().sessions.start(name, now)
    session.clear()
    session.permanent = True
    session[TOKEN] = token
    csrf_token()


def end_session() -> None:
    """Sign out: the session ends on the server, so a copy of the cookie signs nobody in."""
    token = session.get(TOKEN)
    if token:
        console().sessions.end(str(token))
    session.clear()


def session_user(now: datetime) -> tuple[str | None, bool]:
    """The signed-in user (None if nobody) and whether a session was there but has expired or been ended."""
    check = console().sessions.check(session.get(TOKEN), now)
    return check.user, check.ended


def require_login() -> Response | None:
    """Before every console page but the sign-in page: send strangers to sign in."""
    name, expired = session_user(console().now())
    if name is not None:
        g.console_user = name
        return None
    if expired:
        session.pop(TOKEN, None)
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        response = jsonify(error="sign in to the agent console", login=url_for("console_auth.login"))
        response.status_code = 401
        return response
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("console_auth.login", next=target, expired=1 if expired else None))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a console path on this site, never elsewhere."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/agent") and "\\" not in target:
            return target
    return url_for("console_queue.queue")


def over_https(app: Flask) -> bool:
    """Whether browsers reach the console over https: ``twilio.public_url`` says so, or this request
    came over TLS (directly, or by a trusted proxy's ``X-Forwarded-Proto``)."""
    return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, marked ``Secure`` whenever the console is reached over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return over_https(app)


def secure_headers(response: Response) -> Response:
    """No external resources, no framing, no sniffing; pages are never cached; HSTS over https."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "console_auth.static":
        response.headers["Cache-Control"] = "no-store"
    if over_https(current_app):  # type: ignore[arg-type]
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def template_context() -> dict[str, object]:
    return {"csrf_token": csrf_token, "csrf_field": CSRF_FIELD, "console_user": g.get("console_user")}


def protect(blueprint: Blueprint, *, sign_in: bool = True) -> Blueprint:
    """Give a console blueprint its guards: sign-in (unless it is the sign-in page), CSRF, headers."""
    if sign_in:
        blueprint.before_request(require_login)
    blueprint.before_request(check_csrf)
    blueprint.after_request(secure_headers)
    blueprint.context_processor(template_context)
    return blueprint
