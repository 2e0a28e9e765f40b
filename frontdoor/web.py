"""The web app factory: ``/healthz`` and the journal's replayer here; channels add their blueprints through ``frontdoor.web`` entry points.

``/healthz`` commits a real write (503 when the database cannot take it) and says how many records
wait in the journal; its body never names a host, a password or a file.

Production::

    gunicorn --config python:frontdoor.gunicorn_config --workers 4 --bind 0.0.0.0:8080 'frontdoor.web:create_app()'
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from frontdoor.calls import CallService
from frontdoor.errors import DatabaseFileChanged, FrontdoorError, JournalError
from frontdoor.keeper import JournalReplayer
from frontdoor.outbox import OutboxCourier, load_sender
from frontdoor.settings import Settings, load_settings
from frontdoor.storage.database import probe_write

WEB_PLUGINS = "frontdoor.web"

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: CallService | None = None) -> Flask:
    """Build the Flask app; ``settings`` default to ``load_settings()`` (the environment and FRONTDOOR_CONFIG)."""
    settings = settings or load_settings()
    service = service or CallService.from_settings(settings)
    app = Flask("frontdoor")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["frontdoor"] = service
    trust_proxies(app, settings.web.trusted_proxy_count)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        database, journal = database_health(service), journal_health(service)
        healthy = database == "ok"
        body = {"status": "ok" if healthy else "degraded", "database": database, "journal": journal, "incidents": len(service.board.active())}
        return jsonify(body), 200 if healthy else 503

    for plugin in entry_points(group=WEB_PLUGINS):
        plugin.load()(app, service)
    if load_sender(settings) is not None:
        app.extensions["frontdoor-outbox"] = OutboxCourier(settings, service.database, clock=service.clock).start()
    app.extensions["frontdoor-journal"] = JournalReplayer(service.keeper, clock=service.clock).start()
    return app


def database_health(service: CallService) -> str:
    """``ok`` after a real committed write, else a word for what is wrong: never a host name, password or path (those go to the log)."""
    try:
        probe_write(service.database, service.clock())
    except DatabaseFileChanged as exc:
        log.error("health: %s", exc)
        return "file missing or replaced"
    except FrontdoorError as exc:
        log.error("health: the database cannot be written: %s", exc)
        return "cannot write"
    return "ok"


def journal_health(service: CallService) -> dict[str, object]:
    """How many records wait in the journal for the database."""
    try:
        return {"waiting": service.keeper.backlog()}
    except JournalError as exc:
        log.error("health: %s", exc)
        return {"waiting": None, "error": "cannot read"}


def trust_proxies(app: Flask, count: int) -> None:
    """Believe ``X-Forwarded-For/-Proto/-Host/-Port`` as set by the ``count`` proxies in front (0: believe none)."""
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)  # type: ignore[method-assign]
