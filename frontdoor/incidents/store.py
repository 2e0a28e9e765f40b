"""Incidents added or changed through the CLI or console, their subscribers, and the texts they are owed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from frontdoor.errors import InputError, NotFoundError
from frontdoor.incidents.model import Incident
from frontdoor.storage.database import Database, insert_new
from frontdoor.storage.schema import IncidentRecord, OutboundMessage, SubscriptionRecord


def fixed_message(incident: Incident, organisation: str) -> str:
    return f"Fixed: {incident.title} ({incident.id}) is resolved. Thanks for your patience. - {organisation}"


def fixed_dedupe_key(incident_id: str, phone_number: str) -> str:
    return f"incident-fixed:{incident_id}:{phone_number}"


class IncidentStore:
    def __init__(self, database: Database, organisation: str = "IT service desk") -> None:
        self.database = database
        self.organisation = organisation

    def all(self) -> list[Incident]:
        with self.database.reading() as session:
            return [_incident(record) for record in session.scalars(select(IncidentRecord).order_by(IncidentRecord.updated_at))]

    def add(self, incident: Incident, now: datetime) -> Incident:
        """Store a new incident; its id must be new."""
        with self.database.session() as session:
            if session.get(IncidentRecord, incident.id) is not None:
                raise InputError(f"incident {incident.id} already exists; use 'frontdoor incidents update'")
            session.add(_record(incident, now))
        return replace(incident, source="database")

    def save(self, incident: Incident, now: datetime) -> Incident:
        """Store ``incident`` (new or changed): the database copy wins over the file and the feed."""
        with self.database.session() as session:
            record = session.get(IncidentRecord, incident.id)
            if record is None:
                session.add(_record(incident, now))
            else:
                _update(record, incident, now)
        return replace(incident, source="database")

    def resolve(self, incident: Incident, now: datetime) -> int:
        """Mark ``incident`` resolved and queue one "it's fixed" text per subscriber; the number queued."""
        resolved = replace(incident, status="resolved")
        with self.database.session() as session:
            record = session.get(IncidentRecord, incident.id)
            if record is None:
                record = _record(resolved, now)
                session.add(record)
            else:
                _update(record, resolved, now)
            record.resolved_at = record.resolved_at or now
            return _queue_fixed_messages(session, resolved, self.organisation, now)

    def subscribe(self, incident_id: str, phone_number: str, call_id: str | None, now: datetime | None = None) -> bool:
        """Subscribe ``phone_number`` to ``incident_id``; False when it already was."""
        with self.database.transaction() as connection:
            return add_subscription(connection, incident_id, phone_number, call_id, now or datetime.now().astimezone())


def add_subscription(connection: Connection, incident_id: str, phone_number: str, call_id: str | None, now: datetime) -> bool:
    """Subscribe inside an open transaction (a call's turn subscribes in its own); False when it already was."""
    values = {"incident_id": incident_id, "phone_number": phone_number, "call_id": call_id, "created_at": now}
    return insert_new(connection, SubscriptionRecord.__table__, values, ("incident_id", "phone_number"))


def require(incident: Incident | None, incident_id: str) -> Incident:
    if incident is None:
        raise NotFoundError(f"no incident {incident_id!r} (see 'frontdoor incidents list')")
    return incident


def _queue_fixed_messages(session: Session, incident: Incident, organisation: str, now: datetime) -> int:
    numbers = session.scalars(select(SubscriptionRecord.phone_number).where(SubscriptionRecord.incident_id == incident.id))
    queued = 0
    for number in numbers:
        key = fixed_dedupe_key(incident.id, number)
        if session.scalar(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == key)) is not None:
            continue
        session.add(
            OutboundMessage(
                dedupe_key=key, to_number=number, body=fixed_message(incident, organisation), status="pending",
                attempts=0, next_attempt_at=now, created_at=now,
            )
        )
        queued += 1
    return queued


def _record(incident: Incident, now: datetime) -> IncidentRecord:
    record = IncidentRecord(id=incident.id)
    _update(record, incident, now)
    return record


def _update(record: IncidentRecord, incident: Incident, now: datetime) -> None:
    record.title = incident.title
    record.services = list(incident.services)
    record.status = incident.status
    record.impact = incident.impact
    record.started = incident.started
    record.eta = incident.eta
    record.workaround = incident.workaround
    record.updated_at = now
    if incident.active:
        record.resolved_at = None


def _incident(record: IncidentRecord) -> Incident:
    return Incident(
        id=record.id, title=record.title, services=tuple(record.services), status=record.status, impact=record.impact,
        started=record.started, eta=record.eta, workaround=record.workaround, source="database",
    )
