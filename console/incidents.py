"""Incidents on the console: list every known one, add, update, resolve (which texts the subscribers)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from frontdoor.errors import ConfigError, FrontdoorError, InputError, NotFoundError
from frontdoor.incidents.board import validated
from frontdoor.incidents.files import parse_moment
from frontdoor.incidents.model import IMPACTS, STATUSES, Incident
from frontdoor.outbox import send_pending_messages
from frontdoor.settings import Settings
from frontdoor.storage.database import Database
from frontdoor.console.context import console
from frontdoor.console.security import protect

log = logging.getLogger(__name__)

bp = protect(Blueprint("console_incidents", __name__, url_prefix="/agent/incidents", template_folder="templates"))


@dataclass(frozen=True)
class IncidentForm:
    """An incident's fields as typed into the console's form."""

    title: str
    services: tuple[str, ...]
    status: str
    impact: str
    eta: datetime | None
    workaround: str | None


def read_form(form: Mapping[str, str], zone: ZoneInfo, today: date) -> IncidentForm:
    """The incident fields from a submitted form; ``InputError`` naming the field that is wrong."""
    try:
        eta = parse_moment(form.get("eta", "").strip(), "fix expected", zone, today)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    return IncidentForm(
        title=form.get("title", "").strip(),
        services=tuple(dict.fromkeys(name.strip() for name in form.get("services", "").split(",") if name.strip())),
        status=form.get("status", "investigating"),
        impact=form.get("impact", "minor"),
        eta=eta,
        workaround=form.get("workaround", "").strip() or None,
    )


def changed_fields(current: Incident, typed: IncidentForm) -> dict[str, Any]:
    """The fields of ``typed`` that differ from ``current``."""
    wanted = {"title": typed.title, "services": typed.services, "status": typed.status, "impact": typed.impact, "eta": typed.eta, "workaround": typed.workaround}
    return {key: value for key, value in wanted.items() if getattr(current, key) != value}


def send_texts_in_background(settings: Settings, database: Database, clock: Callable[[], datetime]) -> threading.Thread:
    """Send the queued "it's fixed" texts without keeping the agent's page waiting."""
    thread = threading.Thread(target=_send_texts, args=(settings, database, clock), name="incident-texts", daemon=True)
    thread.start()
    return thread


def _send_texts(settings: Settings, database: Database, clock: Callable[[], datetime]) -> None:
    try:
        sent = send_pending_messages(settings, database, clock())
        log.info("sent %d \"it's fixed\" text(s)", sent)
    except FrontdoorError as exc:
        log.error("could not send the \"it's fixed\" texts now (the outbox retries them): %s", exc)


def _local_today() -> tuple[ZoneInfo, date]:
    zone = ZoneInfo(console().settings.general.timezone)
    return zone, console().now().astimezone(zone).date()


def _page(error: str | None = None, status: int = 200, typed: Mapping[str, str] | None = None):  # type: ignore[no-untyped-def]
    board = console().service.board
    zone, _ = _local_today()
    return (
        render_template(
            "console/incidents.html", incidents=board.incidents(), statuses=STATUSES, impacts=IMPACTS, error=error,
            typed=typed or {}, zone=zone,
        ),
        status,
    )


@bp.get("", strict_slashes=False)
def incidents():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("", strict_slashes=False)
def add():  # type: ignore[no-untyped-def]
    zone, today = _local_today()
    try:
        typed = read_form(request.form, zone, today)
        incident = validated(
            Incident(
                id=request.form.get("id", "").strip(), title=typed.title, services=typed.services, status=typed.status,
                impact=typed.impact, started=console().now(), eta=typed.eta, workaround=typed.workaround, source="database",
            )
        )
        console().service.board.add(incident)
    except InputError as exc:
        return _page(error=str(exc), status=400, typed=request.form)
    flash(f"Added {incident.id}: {incident.title}")
    return redirect(url_for("console_incidents.incidents"))


@bp.post("/<incident_id>")
def update(incident_id: str):  # type: ignore[no-untyped-def]
    board = console().service.board
    current = board.get(incident_id)
    if current is None:
        abort(404, description=f"No incident {incident_id}.")
    zone, today = _local_today()
    try:
        changes = changed_fields(current, read_form(request.form, zone, today))
        if changes:
            board.update(incident_id, changes)
    except (InputError, NotFoundError) as exc:
        return _page(error=f"{incident_id}: {exc}", status=400)
    flash(f"Updated {incident_id}: {', '.join(sorted(changes))}." if changes else f"{incident_id}: nothing changed.")
    return redirect(url_for("console_incidents.incidents"))


@bp.post("/<incident_id>/resolve")
def resolve(incident_id: str):  # type: ignore[no-untyped-def]
    service = console().service
    try:
        queued = service.board.resolve(incident_id)
    except NotFoundError:
        abort(404, description=f"No incident {incident_id}.")
    if queued:
        send_texts_in_background(service.settings, service.database, service.clock)
    texts = f"{queued} \"it's fixed\" text{'s' if queued != 1 else ''} on the way" if queued else "nobody had asked for a text"
    flash(f"Resolved {incident_id}; {texts}.")
    return redirect(url_for("console_incidents.incidents"))
