"""Texts when an incident is fixed, and the desk-speaker bridge: through the real twilio REST client to a local API."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from frontdoor.errors import ConfigError
from frontdoor.incidents.model import Incident
from frontdoor.incidents.store import IncidentStore
from frontdoor.outbox import MAX_ATTEMPTS, claim_due, load_sender, send_pending_messages
from frontdoor.settings import Settings
from frontdoor.storage.database import Database
from frontdoor.storage.schema import OutboundMessage
from frontdoor.handoff.summary import CallerCard, WarmTransferSummary
from frontdoor.telephony.bridge import BridgeError, ring_employee_and_agent
from frontdoor.telephony.rest import twilio_client
from twilio_sim import ACCOUNT_SID, TwilioApiServer

NOW = datetime(2026, 11, 24, 14, 35, tzinfo=timezone.utc)
SUBSCRIBERS = ("+15551230001", "+15551230002", "+15551230003")
EMAIL = Incident("INC-1042", "Email delivery delayed", ("email", "outlook"), status="identified", impact="major")


@pytest.fixture
def twilio_settings(settings_for, database_url: str, twilio_api: TwilioApiServer) -> Settings:  # type: ignore[no-untyped-def]
    return settings_for(
        f'[database]\nurl = "{database_url}"\n',
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=twilio_api.auth_token,
        TWILIO_FROM_NUMBER="+15550001000",
        FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url,
        FRONTDOOR_PUBLIC_URL="https://fd.example.com",
        FRONTDOOR_AGENTS="+15550002001,queue:support",
    )


@pytest.fixture
def resolved(twilio_settings: Settings):  # type: ignore[no-untyped-def]
    database = Database(twilio_settings.database_url)
    store = IncidentStore(database)
    for number in SUBSCRIBERS:
        store.subscribe(EMAIL.id, number, None, NOW - timedelta(hours=1))
    assert store.resolve(EMAIL, NOW) == len(SUBSCRIBERS)
    yield database
    database.dispose()


def rows(database: Database) -> list[OutboundMessage]:
    with database.session() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_resolving_an_incident_texts_each_subscriber_exactly_once(twilio_settings: Settings, resolved: Database, twilio_api: TwilioApiServer) -> None:
    assert send_pending_messages(twilio_settings, resolved, NOW) == len(SUBSCRIBERS)
    texts = twilio_api.messages()
    assert sorted(text["To"] for text in texts) == sorted(SUBSCRIBERS)
    assert all(text["From"] == "+15550001000" and "Email delivery delayed (INC-1042) is resolved" in text["Body"] for text in texts)
    stored = rows(resolved)
    assert [row.status for row in stored] == ["sent"] * len(SUBSCRIBERS)
    assert all(row.provider_id and row.provider_id.startswith("SM") for row in stored)
    assert send_pending_messages(twilio_settings, resolved, NOW + timedelta(hours=1)) == 0
    IncidentStore(resolved).resolve(EMAIL, NOW + timedelta(hours=2))
    assert send_pending_messages(twilio_settings, resolved, NOW + timedelta(hours=3)) == 0
    assert len(twilio_api.messages()) == len(SUBSCRIBERS)


def test_a_restarted_or_second_worker_never_sends_twice(twilio_settings: Settings, resolved: Database, twilio_api: TwilioApiServer) -> None:
    workers = [Database(twilio_settings.database_url) for _ in range(3)]
    counts: list[int] = []
    barrier = threading.Barrier(len(workers))

    def work(database: Database) -> None:
        barrier.wait()
        counts.append(send_pending_messages(twilio_settings, database, NOW))

    threads = [threading.Thread(target=work, args=(database,)) for database in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(counts) == len(SUBSCRIBERS)
    assert sorted(text["To"] for text in twilio_api.messages()) == sorted(SUBSCRIBERS)
    for database in workers:
        database.dispose()


def test_a_worker_that_died_holding_texts_gives_them_up_when_its_lease_ends(twilio_settings: Settings, resolved: Database, twilio_api: TwilioApiServer) -> None:
    claimed = claim_due(resolved, NOW, lease=timedelta(minutes=2))
    assert len(claimed) == len(SUBSCRIBERS)
    assert send_pending_messages(twilio_settings, resolved, NOW + timedelta(minutes=1)) == 0
    assert twilio_api.messages() == []
    assert send_pending_messages(twilio_settings, resolved, NOW + timedelta(minutes=3)) == len(SUBSCRIBERS)


def test_workers_claiming_at_once_share_the_due_texts_without_overlap_oldest_due_first(database_url: str) -> None:
    """The claim is one ``UPDATE ... RETURNING``: rows another worker is claiming at the same moment are skipped."""
    owner = Database(database_url)
    store = IncidentStore(owner)
    for number in range(60):
        store.subscribe(EMAIL.id, f"+1555000{number:04d}", None, NOW - timedelta(hours=1))
    store.resolve(EMAIL, NOW)
    workers = [Database(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(workers))
    claims: list[list[int]] = []

    def claim(database: Database) -> None:
        barrier.wait()
        while batch := claim_due(database, NOW, limit=7):
            claims.append([message.id for message in batch])

    threads = [threading.Thread(target=claim, args=(database,)) for database in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = [message_id for batch in claims for message_id in batch]
    assert sorted(claimed) == sorted(row.id for row in rows(owner)) and len(claimed) == 60
    assert all(batch == sorted(batch) and len(batch) <= 7 for batch in claims), claims
    assert claim_due(owner, NOW + timedelta(minutes=1)) == []
    assert len(claim_due(owner, NOW + timedelta(minutes=3))) == 50
    for database in [owner, *workers]:
        database.dispose()


def test_texts_twilio_refused_are_retried_later_with_backoff(twilio_settings: Settings, resolved: Database, twilio_api: TwilioApiServer) -> None:
    twilio_api.fail_next(len(SUBSCRIBERS), status=503)
    assert send_pending_messages(twilio_settings, resolved, NOW) == 0
    failed = rows(resolved)
    assert all(row.status == "pending" and row.attempts == 1 and "503" in (row.last_error or "") for row in failed)
    assert all(row.next_attempt_at == NOW + timedelta(seconds=30) for row in failed)
    assert send_pending_messages(twilio_settings, resolved, NOW + timedelta(seconds=10)) == 0
    assert send_pending_messages(twilio_settings, resolved, NOW + timedelta(seconds=31)) == len(SUBSCRIBERS)
    assert [row.status for row in rows(resolved)] == ["sent"] * len(SUBSCRIBERS)
    assert len(twilio_api.messages()) == 2 * len(SUBSCRIBERS)


def test_a_text_that_keeps_failing_is_given_up_after_the_last_attempt(twilio_settings: Settings, resolved: Database, twilio_api: TwilioApiServer) -> None:
    twilio_api.fail_next(len(SUBSCRIBERS) * MAX_ATTEMPTS)
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        send_pending_messages(twilio_settings, resolved, moment)
        moment += timedelta(hours=1)
    assert [(row.status, row.attempts) for row in rows(resolved)] == [("failed", MAX_ATTEMPTS)] * len(SUBSCRIBERS)
    assert send_pending_messages(twilio_settings, resolved, moment) == 0


def test_without_twilio_settings_texts_stay_queued(settings_for, database_url: str, twilio_api: TwilioApiServer) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(f'[database]\nurl = "{database_url}"\n')
    database = Database(settings.database_url)
    IncidentStore(database).subscribe(EMAIL.id, SUBSCRIBERS[0], None, NOW)
    IncidentStore(database).resolve(EMAIL, NOW)
    assert load_sender(settings) is None
    assert send_pending_messages(settings, database, NOW) == 0
    assert [row.status for row in rows(database)] == ["pending"]
    database.dispose()


def test_a_wrong_auth_token_is_a_failed_attempt_not_a_crash(settings_for, database_url: str, twilio_api: TwilioApiServer) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(
        f'[database]\nurl = "{database_url}"\n', TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN="wrong",
        TWILIO_FROM_NUMBER="+15550001000", FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url,
    )
    database = Database(settings.database_url)
    IncidentStore(database).subscribe(EMAIL.id, SUBSCRIBERS[0], None, NOW)
    IncidentStore(database).resolve(EMAIL, NOW)
    assert send_pending_messages(settings, database, NOW) == 0
    assert twilio_api.requests and not twilio_api.requests[0].authorized
    assert rows(database)[0].attempts == 1 and "Authenticate" in (rows(database)[0].last_error or "")
    database.dispose()


def test_the_rest_client_needs_credentials(settings_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        twilio_client(settings_for("").twilio)


def summary() -> WarmTransferSummary:
    return WarmTransferSummary(
        call_id="desk-7", caller=CallerCard("+15551230001", "Dana Whitfield", "Finance"), issue="Laptop will not start", reason="human_request"
    )


def test_the_desk_speaker_bridge_calls_the_employee_and_dials_the_agent_with_the_whisper(twilio_settings: Settings, twilio_api: TwilioApiServer) -> None:
    sid = ring_employee_and_agent(twilio_settings, "+15551230001", summary(), "desk-7")
    assert sid.startswith("CA")
    (call,) = twilio_api.calls()
    assert call["To"] == "+15551230001" and call["From"] == "+15550001000"
    document = ET.fromstring(call["Twiml"])
    assert [child.tag for child in document] == ["Say", "Dial"]
    assert "Dana" in (document.findtext("Say") or "")
    dial = document.find("Dial")
    assert dial is not None and dial.get("action") == "https://fd.example.com/twilio/dial?call=desk-7&attempt=0"
    number = dial.find("Number")
    assert number is not None and number.text == "+15550002001"
    assert number.get("url") == "https://fd.example.com/twilio/whisper?call=desk-7&attempt=0"


def test_the_bridge_reports_twilio_refusing_the_call_and_needs_a_public_url(twilio_settings: Settings, settings_for, twilio_api: TwilioApiServer) -> None:  # type: ignore[no-untyped-def]
    twilio_api.fail_next(1, status=400)
    with pytest.raises(BridgeError):
        ring_employee_and_agent(twilio_settings, "+15551230001", summary(), "desk-7")
    no_public = settings_for("", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN="x", TWILIO_FROM_NUMBER="+15550001000")
    with pytest.raises(ConfigError, match="FRONTDOOR_PUBLIC_URL"):
        ring_employee_and_agent(no_public, "+15551230001", summary(), "desk-7")


def test_the_web_app_courier_sends_queued_texts_and_retries_without_a_request(twilio_settings: Settings, resolved: Database, twilio_api: TwilioApiServer) -> None:
    import time

    from frontdoor.outbox import OutboxCourier

    courier = OutboxCourier(twilio_settings, resolved, interval=0.2, clock=lambda: NOW).start()
    try:
        deadline = time.monotonic() + 10
        while len(twilio_api.messages()) < len(SUBSCRIBERS) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        courier.stop()
    assert sorted(m["To"] for m in twilio_api.messages()) == sorted(SUBSCRIBERS)
    assert {row.status for row in rows(resolved)} == {"sent"}
