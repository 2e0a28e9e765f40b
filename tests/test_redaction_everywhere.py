"""Redaction holds wherever a transcript goes: each test pushes a caller's secrets through the real path of one
destination (database, agent console, whisper, ``frontdoor chat``, notifications) and searches what was kept,
shown or sent."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from frontdoor.calls import CallService
from frontdoor.conversation.model import Action, CallerTurn
from frontdoor.handoff.redaction import REDACTED
from frontdoor.storage.schema import Base
from test_console_pages import agent, client, handed_off_call  # noqa: F401 - the console's signed-in client fixtures
from test_notify import Mailbox, Webhook, mailbox, webhook  # noqa: F401 - local chat webhook and SMTP server fixtures
from phone_line import AGENT_1
from twilio_sim import ACCOUNT_SID, Agent, TwilioApiServer

SAID = (
    "my outlook password is Hunter2! and I got 482913 by text but it still fails",
    "my card number is 4111, 1111, 1111, 1111 and my SSN is 123 45 6789, let me talk to a person",
)
SECRETS = ("hunter2", "482913", "4111", "1111", "6789")


def assert_no_secret(where: str, text: str) -> None:
    found = [secret for secret in SECRETS if secret in text.lower()]
    assert not found, f"{where} holds {found}"


def everything_stored(service: CallService) -> str:
    """Every row of every table, as text (JSON columns included)."""
    with service.database.session() as session:
        return "\n".join(f"{table.name}: {tuple(row)}" for table in Base.metadata.sorted_tables for row in session.execute(select(table)))


def test_the_database_keeps_no_secret_in_turns_summaries_or_evidence(phone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line = phone()
    call = line.call()
    for said in SAID:
        call.say(said)
    assert call.bridged_to == AGENT_1
    stored = everything_stored(line.service)
    assert "turns:" in stored and "handoffs:" in stored and "evidence:" in stored and REDACTED in stored
    assert_no_secret("the database", stored)


def test_the_whisper_says_no_secret(phone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line = phone({AGENT_1: Agent()})
    call = line.call()
    for said in SAID:
        call.say(said)
    whisper = " ".join(call.agent_heard)
    assert "Dana Whitfield" in whisper and REDACTED in whisper
    assert_no_secret("the whisper", whisper)


def test_the_console_shows_no_secret(console_site, agent) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    call_id = handed_off_call(console_site, "+15551230001", *SAID)
    pages = {path: agent.get(path) for path in ("/agent", "/agent/queue.json", f"/agent/handoffs/{call_id}", "/agent/follow-ups", "/agent/insight")}
    assert all(page.status_code == 200 for page in pages.values())
    assert REDACTED in pages[f"/agent/handoffs/{call_id}"].text
    for path, page in pages.items():
        assert_no_secret(path, page.text)


def test_frontdoor_chat_prints_no_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    typed = f"{SAID[0]}\n4111111111111111\n{SAID[1]}\n"
    env = {**os.environ, "FRONTDOOR_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "chat", "--caller", "+15551230001"], input=typed, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "warm-transfer summary" in result.stdout and f"you> {REDACTED}" in result.stdout
    assert_no_secret("the chat output", result.stdout + result.stderr)


def test_notifications_carry_no_secret(settings_for, database_url: str, twilio_api: TwilioApiServer, webhook: Webhook, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings = settings_for(
        f'[database]\nurl = "{database_url}"\n'
        f'[notifications]\nwebhook_url = "{webhook.url}"\nsmtp_host = "127.0.0.1"\nsmtp_port = {mailbox.port}\n'
        'email_from = "frontdoor@example.com"\nemail_to = ["desk@example.com"]\nsms_to = ["+15550000001"]\nretry_base_seconds = 0.01\n',
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=twilio_api.auth_token, TWILIO_FROM_NUMBER="+15550001000",
        FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url, FRONTDOOR_PUBLIC_URL="https://frontdoor.example.com",
    )
    service = CallService.from_settings(settings)
    try:
        call_id = service.start_call(channel="phone", caller_number="+15551230001").call_id
        decisions = [service.take_turn(call_id, CallerTurn(text=said, confidence=0.9)) for said in SAID]
        assert decisions[-1].action is Action.HANDOFF
        service.notifier.flush(10)
    finally:
        service.database.dispose()
    texts = [message["Body"] for message in twilio_api.messages()]
    emails = [raw.decode("utf-8", "replace") for _, _, raw in mailbox.messages]
    assert len(texts) == 1 and len(emails) == 1 and len(webhook.bodies) == 1
    assert REDACTED in texts[0] and REDACTED in emails[0]
    assert_no_secret("the SMS", texts[0])
    assert_no_secret("the email", emails[0])
    assert_no_secret("the chat webhook", str(webhook.bodies[0]))
