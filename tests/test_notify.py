"""Handoff notifications against real local servers on 127.0.0.1: a chat webhook and an SMTP server."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from frontdoor.settings import NotificationSettings, Settings
from frontdoor.notify import (
    SMS_MAX_CHARACTERS,
    HandoffNotice,
    HandoffNotifier,
    chat_payload,
    deliver_with_retries,
    load_sms_sender,
    sms_text,
)
from frontdoor.handoff.signals import Evidence
from frontdoor.handoff.summary import CallerCard, IncidentNote, TrajectoryPoint, WarmTransferSummary
from twilio_sim import ACCOUNT_SID, TwilioApiServer

LINK = "https://frontdoor.example.com/agent/handoffs/call-7"


@pytest.fixture
def notice() -> HandoffNotice:
    summary = WarmTransferSummary(
        call_id="call-7",
        caller=CallerCard("+15551230001", "Dana Whitfield", "Finance", vip=False),
        issue='Caller said: "my email has not worked since this morning"',
        reason="human_request",
        incident=IncidentNote("INC-1042", "Email delivery delayed", "identified", "2:30 PM"),
        told=("Email delivery is delayed; fix expected by 2:30 PM.",),
        evidence=(Evidence("human_request", "phrase", '"talk to a real person"', 1.0, 1),),
        trajectory=(TrajectoryPoint(0, 0.2, 0.1), TrajectoryPoint(1, 0.6, 0.1)),
        seconds_on_line=48.0,
        do_not_ask=("who they are (Dana Whitfield, Finance, from caller ID)",),
    )
    return HandoffNotice(summary, LINK)


# --- a chat webhook: a local HTTP server that records JSON bodies and can fail or hold requests


@dataclass
class Webhook:
    url: str
    bodies: list[dict] = field(default_factory=list)
    failures_left: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    received: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    state = Webhook(url="")
    state.release.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.release.wait(10)
            if state.failures_left > 0:
                state.failures_left -= 1
                self.send_response(500)
                self.end_headers()
                return
            assert self.headers["Content-Type"] == "application/json"
            state.bodies.append(json.loads(body))
            state.received.set()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/handoff"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


# --- a small SMTP server (smtpd left the standard library in 3.12)


@dataclass
class Mailbox:
    port: int = 0
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    auth: bool = False
    temporary_failures: int = 0


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        box: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        sender, recipients = "", []
        self.reply("220 127.0.0.1 test ESMTP")
        while line := self.rfile.readline():
            command = line.decode("utf-8").rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            box.commands.append(verb)
            if verb == "EHLO":
                self.wfile.write(b"250-127.0.0.1\r\n" + (b"250-AUTH PLAIN\r\n" if box.auth else b"") + b"250 8BITMIME\r\n")
            elif verb == "HELO" or verb in {"NOOP", "RSET"}:
                sender, recipients = ("", []) if verb == "RSET" else (sender, recipients)
                self.reply("250 OK")
            elif verb == "AUTH" and box.auth:
                box.logins.append(base64.b64decode(command.split()[2]).decode("utf-8"))
                self.reply("235 Authentication successful")
            elif verb == "MAIL":
                if box.temporary_failures > 0:
                    box.temporary_failures -= 1
                    self.reply("451 Try again later")
                    continue
                sender = command.split(":", 1)[1].split()[0].strip("<>")
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                box.messages.append((sender, recipients, b"".join(lines)))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    server.mailbox = box  # type: ignore[attr-defined]
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


def settings(**values: object) -> NotificationSettings:
    return NotificationSettings(**{"retry_attempts": 3, "retry_base_seconds": 0.01, **values})  # type: ignore[arg-type]


# --- chat webhook


def test_chat_webhook_gets_a_slack_compatible_body_with_summary_and_link(webhook: Webhook, notice: HandoffNotice) -> None:
    notifier = HandoffNotifier(settings(webhook_url=webhook.url))
    notifier.notify(notice)
    notifier.flush(10)
    assert len(webhook.bodies) == 1
    body = webhook.bodies[0]
    assert body["text"].startswith("Handoff (human request): Dana Whitfield - Caller said:")
    assert notice.summary.whisper() in body["text"]
    assert f"<{LINK}|Open in the agent console>" in body["text"]
    assert body["frontdoor"]["link"] == LINK
    assert WarmTransferSummary.from_dict(body["frontdoor"]["summary"]) == notice.summary


def test_chat_webhook_is_retried_after_server_errors(webhook: Webhook, notice: HandoffNotice) -> None:
    webhook.failures_left = 2
    notifier = HandoffNotifier(settings(webhook_url=webhook.url, retry_attempts=3))
    notifier.notify(notice)
    notifier.flush(10)
    assert webhook.failures_left == 0
    assert len(webhook.bodies) == 1


def test_notify_returns_before_a_slow_webhook_answers(webhook: Webhook, notice: HandoffNotice) -> None:
    webhook.release.clear()
    notifier = HandoffNotifier(settings(webhook_url=webhook.url))
    notifier.notify(notice)
    assert webhook.bodies == []
    webhook.release.set()
    assert webhook.received.wait(10)
    notifier.flush(10)
    assert len(webhook.bodies) == 1


def test_delivery_gives_up_after_the_configured_attempts(notice: HandoffNotice) -> None:
    tries: list[int] = []

    def failing() -> None:
        tries.append(1)
        raise OSError("connection refused")

    assert deliver_with_retries(failing, 3, 0.0, "test delivery") is False
    assert len(tries) == 3


def test_nothing_configured_sends_nothing(notice: HandoffNotice) -> None:
    notifier = HandoffNotifier(settings())
    assert not notifier.enabled
    assert notifier.deliveries(notice) == []
    assert chat_payload(HandoffNotice(notice.summary, ""))["text"].count("Open in the agent console") == 0


# --- email


def email_settings(box: Mailbox, **values: object) -> NotificationSettings:
    return settings(
        smtp_host="127.0.0.1", smtp_port=box.port, email_from="frontdoor@example.com",
        email_to=("desk@example.com", "lead@example.com"), **values,
    )


def test_email_carries_reason_caller_markdown_summary_and_link(mailbox: Mailbox, notice: HandoffNotice) -> None:
    notifier = HandoffNotifier(email_settings(mailbox))
    notifier.notify(notice)
    notifier.flush(10)
    assert len(mailbox.messages) == 1
    sender, recipients, raw = mailbox.messages[0]
    assert sender == "frontdoor@example.com"
    assert recipients == ["desk@example.com", "lead@example.com"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Handoff: Asked for a person - Dana Whitfield, Finance"
    assert message["To"] == "desk@example.com, lead@example.com"
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert notice.summary.to_markdown().strip() in body
    assert f"Open in the agent console: {LINK}" in body


def test_email_is_retried_after_a_temporary_smtp_failure(mailbox: Mailbox, notice: HandoffNotice) -> None:
    mailbox.temporary_failures = 1
    notifier = HandoffNotifier(email_settings(mailbox, retry_attempts=2))
    notifier.notify(notice)
    notifier.flush(10)
    assert mailbox.temporary_failures == 0
    assert len(mailbox.messages) == 1


def test_email_logs_in_when_a_username_is_set(mailbox: Mailbox, notice: HandoffNotice) -> None:
    mailbox.auth = True
    notifier = HandoffNotifier(email_settings(mailbox, smtp_username="frontdoor", smtp_password="s3cret-relay"))
    notifier.notify(notice)
    notifier.flush(10)
    assert mailbox.logins == ["\0frontdoor\0s3cret-relay"]
    assert len(mailbox.messages) == 1


def test_starttls_required_but_not_offered_sends_nothing_in_clear_text(mailbox: Mailbox, notice: HandoffNotice) -> None:
    notifier = HandoffNotifier(email_settings(mailbox, smtp_starttls=True, retry_attempts=2))
    notifier.notify(notice)
    notifier.flush(10)
    assert mailbox.messages == []
    assert "MAIL" not in mailbox.commands
    assert mailbox.commands.count("EHLO") == 2


def test_a_failing_destination_does_not_stop_the_others(mailbox: Mailbox, notice: HandoffNotice) -> None:
    closed = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    dead_url = f"http://127.0.0.1:{closed.server_address[1]}/hook"
    closed.server_close()
    notifier = HandoffNotifier(email_settings(mailbox, webhook_url=dead_url, retry_attempts=2))
    notifier.notify(notice)
    notifier.flush(10)
    assert len(mailbox.messages) == 1


# --- SMS


def twilio_settings(settings_for, twilio_api: TwilioApiServer, **environ: str) -> Settings:  # type: ignore[no-untyped-def]
    return settings_for(
        "", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=twilio_api.auth_token, TWILIO_FROM_NUMBER="+15550001000",
        FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url, FRONTDOOR_NOTIFICATIONS_RETRY_BASE_SECONDS="0.01", **environ,
    )


def test_sms_goes_through_twilio_to_every_number_with_whisper_and_link(settings_for, twilio_api: TwilioApiServer, notice: HandoffNotice) -> None:  # type: ignore[no-untyped-def]
    notifier = HandoffNotifier.from_settings(twilio_settings(settings_for, twilio_api, FRONTDOOR_NOTIFICATIONS_SMS_TO="+15550000001,+15550000002"))
    twilio_api.fail_next(1, status=503)
    notifier.notify(notice)
    notifier.flush(10)
    texts = twilio_api.messages()
    assert len(texts) == 3
    assert sorted({text["To"] for text in texts}) == ["+15550000001", "+15550000002"]
    assert all(text["Body"] == f"{notice.summary.whisper()} {LINK}" and text["From"] == "+15550001000" for text in texts)


def test_sms_without_a_sender_is_loaded_once_and_not_retried(notice: HandoffNotice) -> None:
    loads: list[int] = []

    def load() -> None:
        loads.append(1)
        return None

    notifier = HandoffNotifier(settings(sms_to=("+15550000001", "+15550000002"), retry_attempts=4), sms_sender=load)
    notifier.notify(notice)
    notifier.flush(10)
    assert loads == [1]


def test_sms_text_fits_one_message_body(notice: HandoffNotice) -> None:
    long_issue = WarmTransferSummary(**{**notice.summary.__dict__, "issue": "word " * 2000})
    text = sms_text(HandoffNotice(long_issue, LINK))
    assert len(text) <= SMS_MAX_CHARACTERS
    assert text.endswith(LINK)


def test_sms_is_off_without_a_loader_even_with_numbers(notice: HandoffNotice) -> None:
    notifier = HandoffNotifier(settings(sms_to=("+15550000001",)))
    assert not notifier.sms_enabled
    assert notifier.deliveries(notice) == []


def test_sms_sender_from_entry_points_is_none_without_twilio_settings(settings_for) -> None:  # type: ignore[no-untyped-def]
    assert load_sms_sender(settings_for("")) is None
    assert not HandoffNotifier.from_settings(settings_for("")).enabled
