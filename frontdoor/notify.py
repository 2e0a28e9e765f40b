"""Telling agents about a handoff: chat webhook (Slack-compatible JSON), email over SMTP and SMS.

Every destination is tried on a background thread of its own, retried with exponential backoff, and
never delays the call. The SMS sender comes from the ``frontdoor.sms`` entry point group (the phone
line's Twilio sender) and is loaded only when a text is first due.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Callable

from frontdoor.outbox import SmsSender, load_sender
from frontdoor.settings import NotificationSettings, Settings
from frontdoor.handoff.summary import WarmTransferSummary

log = logging.getLogger(__name__)

SMS_MAX_CHARACTERS = 1600
SUBJECT_MAX_CHARACTERS = 150


@dataclass(frozen=True)
class HandoffNotice:
    summary: WarmTransferSummary
    link: str


class DeliveryRefused(Exception):
    """A failure that retrying cannot fix (e.g. no SMS sender is configured)."""


SmsSenderLoader = Callable[[], "SmsSender | None"]


def _caller(summary: WarmTransferSummary) -> str:
    return summary.caller.name or summary.caller.number or "Unknown caller"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def chat_payload(notice: HandoffNotice) -> dict[str, object]:
    """A Slack-compatible incoming-webhook body: ``text`` for any chat tool, the summary for machines."""
    summary = notice.summary
    headline = f"Handoff ({summary.reason.replace('_', ' ')}): {_caller(summary)} - {summary.issue}"
    text = f"{headline}\n{summary.whisper()}\n<{notice.link}|Open in the agent console>" if notice.link else f"{headline}\n{summary.whisper()}"
    return {"text": text, "frontdoor": {"link": notice.link, "summary": summary.to_dict()}}


def email_message(notice: HandoffNotice, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """A plain-text email: subject with reason and caller, body the Markdown summary and the console link."""
    summary = notice.summary
    message = EmailMessage()
    message["Subject"] = _one_line(f"Handoff: {summary.reason_label} - {summary.caller.describe()}")[:SUBJECT_MAX_CHARACTERS]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=f"handoff-{summary.call_id}"[:60])
    body = summary.to_markdown()
    if notice.link:
        body += f"\nOpen in the agent console: {notice.link}\n"
    message.set_content(body)
    return message


def sms_text(notice: HandoffNotice) -> str:
    """The whisper plus the console link, within one SMS body's limit."""
    link = f" {notice.link}" if notice.link else ""
    whisper = notice.summary.whisper()
    room = SMS_MAX_CHARACTERS - len(link)
    if len(whisper) > room:
        whisper = whisper[: room - 1].rstrip() + "…"
    return whisper + link


def post_json(url: str, payload: dict[str, object], timeout: float = 5.0) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def send_email(settings: NotificationSettings, message: EmailMessage, timeout: float = 10.0) -> None:
    """Hand ``message`` to the SMTP server; with ``smtp_starttls`` never in clear text (fails instead)."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def deliver_with_retries(send: Callable[[], object], attempts: int, base_seconds: float, what: str) -> bool:
    """Try ``send`` up to ``attempts`` times with exponential backoff; log, never raise."""
    for attempt in range(1, attempts + 1):
        try:
            send()
            return True
        except DeliveryRefused as exc:
            log.error("%s not sent: %s", what, exc)
            return False
        except Exception as exc:  # an outside service failing in any way is retried, then logged
            log.warning("%s failed (attempt %d of %d): %s: %s", what, attempt, attempts, type(exc).__name__, exc)
            if attempt < attempts:
                time.sleep(base_seconds * 2 ** (attempt - 1))
    log.error("%s gave up after %d attempts", what, attempts)
    return False


def load_sms_sender(settings: Settings) -> SmsSender | None:
    """The configured ``frontdoor.sms`` sender (the phone line's Twilio sender), else None (logged)."""
    try:
        sender = load_sender(settings)
    except ImportError as exc:
        log.error("the SMS sender cannot be loaded: %s", exc)
        return None
    if sender is None:
        log.error("no SMS sender is configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER): handoff texts are not sent")
    return sender


class HandoffNotifier:
    """Sends each handoff to the configured destinations on background threads: never delays a call."""

    def __init__(self, settings: NotificationSettings, sms_sender: SmsSenderLoader | None = None) -> None:
        self.settings = settings
        self._load_sms_sender = sms_sender
        self._sms_sender: SmsSender | None = None
        self._sms_loaded = False
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        if settings.sms_to and sms_sender is None:
            log.warning("notifications.sms_to is set but this notifier has no SMS sender: build it with HandoffNotifier.from_settings")
        if settings.smtp_host and not (settings.email_from and settings.email_to):
            log.warning("notifications.smtp_host is set but email_from or email_to is empty: no handoff emails")

    @classmethod
    def from_settings(cls, settings: Settings) -> HandoffNotifier:
        """A notifier whose SMS sender is loaded from ``frontdoor.sms`` when a text is first due."""
        return cls(settings.notifications, lambda: load_sms_sender(settings))

    @property
    def email_enabled(self) -> bool:
        return bool(self.settings.smtp_host and self.settings.email_from and self.settings.email_to)

    @property
    def sms_enabled(self) -> bool:
        return bool(self.settings.sms_to and self._load_sms_sender is not None)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhook_url) or self.email_enabled or self.sms_enabled

    def deliveries(self, notice: HandoffNotice) -> list[tuple[str, Callable[[], object]]]:
        """What to send for ``notice``: (description, send) per destination; SMS one per number."""
        call_id = notice.summary.call_id
        found: list[tuple[str, Callable[[], object]]] = []
        if self.settings.webhook_url:
            payload = chat_payload(notice)
            found.append((f"chat webhook for call {call_id}", lambda: post_json(self.settings.webhook_url, payload)))
        if self.email_enabled:
            message = email_message(notice, self.settings.email_from, self.settings.email_to)
            found.append((f"email for call {call_id}", lambda: send_email(self.settings, message)))
        if self.sms_enabled:
            body = sms_text(notice)
            for number in self.settings.sms_to:
                found.append((f"SMS to {number} for call {call_id}", lambda number=number: self._send_sms(number, body)))
        return found

    def notify(self, notice: HandoffNotice) -> None:
        """Start delivering ``notice`` everywhere it should go; returns at once."""
        for what, send in self.deliveries(notice):
            thread = threading.Thread(
                target=deliver_with_retries,
                args=(send, self.settings.retry_attempts, self.settings.retry_base_seconds, what),
                name="handoff-notify",
                daemon=True,
            )
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for deliveries under way (a short-lived CLI process calls this before it exits)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _send_sms(self, number: str, body: str) -> object:
        sender = self._sender()
        if sender is None:
            raise DeliveryRefused("no SMS sender is configured")
        return sender.send(number, body)

    def _sender(self) -> SmsSender | None:
        with self._lock:
            if not self._sms_loaded and self._load_sms_sender is not None:
                self._sms_sender = self._load_sms_sender()
                self._sms_loaded = True
            return self._sms_sender
