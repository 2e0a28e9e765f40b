"""Telling agents about a handoff: a chat webhook (Slack-compatible JSON), retried in the background."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable

from frontdoor.settings import NotificationSettings
from handoff.summary import WarmTransferSummary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffNotice:
    summary: WarmTransferSummary
    link: str


def chat_payload(notice: HandoffNotice) -> dict[str, object]:
    """A Slack-compatible incoming-webhook body: ``text`` for any chat tool, the summary for machines."""
    summary = notice.summary
    who = summary.caller.name or summary.caller.number or "Unknown caller"
    headline = f"Handoff ({summary.reason.replace('_', ' ')}): {who} - {summary.issue}"
    text = f"{headline}\n{summary.whisper()}\n<{notice.link}|Open in the agent console>" if notice.link else f"{headline}\n{summary.whisper()}"
    return {"text": text, "frontdoor": {"link": notice.link, "summary": summary.to_dict()}}


def post_json(url: str, payload: dict[str, object], timeout: float = 5.0) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def deliver_with_retries(send: Callable[[], None], attempts: int, base_seconds: float, what: str) -> bool:
    """Try ``send`` up to ``attempts`` times with exponential backoff; log, never raise."""
    for attempt in range(1, attempts + 1):
        try:
            send()
            return True
        except (OSError, urllib.error.URLError, ValueError) as exc:
            log.warning("%s failed (attempt %d of %d): %s", what, attempt, attempts, exc)
            if attempt < attempts:
                time.sleep(base_seconds * 2 ** (attempt - 1))
    log.error("%s gave up after %d attempts", what, attempts)
    return False


class HandoffNotifier:
    """Sends each handoff to the configured destinations on a background thread: never delays a call."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhook_url)

    def notify(self, notice: HandoffNotice) -> None:
        if not self.enabled:
            return
        thread = threading.Thread(target=self._deliver, args=(notice,), name="handoff-notify", daemon=True)
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

    def _deliver(self, notice: HandoffNotice) -> None:
        payload = chat_payload(notice)
        deliver_with_retries(
            lambda: post_json(self.settings.webhook_url, payload),
            self.settings.retry_attempts,
            self.settings.retry_base_seconds,
            f"chat webhook for call {notice.summary.call_id}",
        )
