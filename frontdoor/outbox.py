"""The SMS outbox: texts queued in ``outbound_messages`` are sent once each, retried with backoff.

Rows are claimed with a lease (``claimed_until``) by one ``UPDATE ... RETURNING`` statement, so
several workers or a restarted one never send the same text twice; a failed send is retried later
with exponential backoff up to ``MAX_ATTEMPTS``. A round with nothing due only reads (on SQLite it
never takes the writer lock). The sender comes from the ``frontdoor.sms`` entry point group
(Twilio's is ``telephony.sms:sender_from_settings``), so the core never imports a channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points
from typing import Callable, Protocol

from sqlalchemy import bindparam, or_, select, update

from frontdoor.errors import FrontdoorError
from frontdoor.rounds import BackgroundRounds
from frontdoor.settings import Settings
from frontdoor.storage.database import Database
from frontdoor.storage.schema import OutboundMessage

SMS_PLUGINS = "frontdoor.sms"
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
LEASE = timedelta(seconds=120)
BATCH = 50

log = logging.getLogger(__name__)


class SmsError(FrontdoorError):
    """A text could not be handed to the SMS provider (it will be retried)."""


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send one text; return the provider's message id; raise ``SmsError`` on failure."""
        ...


SenderFactory = Callable[[Settings], "SmsSender | None"]


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    to_number: str
    body: str
    attempts: int
    claimed_until: datetime


_DUE = (
    OutboundMessage.status == "pending",
    OutboundMessage.next_attempt_at <= bindparam("now"),
    or_(OutboundMessage.claimed_until.is_(None), OutboundMessage.claimed_until <= bindparam("now")),
)
_ANY_DUE = select(OutboundMessage.id).where(*_DUE).limit(1)
_CLAIMABLE = (
    select(OutboundMessage.id)
    .where(*_DUE)
    .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("claimable")
    .prefix_with("MATERIALIZED", dialect="postgresql")
)
_CLAIM = (
    update(OutboundMessage)
    .where(OutboundMessage.id == _CLAIMABLE.c.id, *_DUE)
    .values(claimed_until=bindparam("until"))
    .returning(OutboundMessage.id, OutboundMessage.to_number, OutboundMessage.body, OutboundMessage.attempts, OutboundMessage.next_attempt_at)
)


def claim_due(database: Database, now: datetime, lease: timedelta = LEASE, limit: int = BATCH) -> list[ClaimedMessage]:
    """Take up to ``limit`` pending texts that are due and not leased to another worker, oldest due first.

    One statement claims them all: the due rows are picked once (a materialised ``WITH``: PostgreSQL
    would otherwise run an ``IN`` subquery again for each row and claim past the limit), rows
    another worker is claiming at the same moment are skipped (``FOR UPDATE SKIP LOCKED``; SQLite has
    one writer at a time), and the conditions are checked again on each row as it is updated.
    """
    with database.read() as connection:
        if connection.scalar(_ANY_DUE, {"now": now}) is None:
            return []
    until = now + lease
    with database.transaction() as connection:
        rows = connection.execute(_CLAIM, {"now": now, "until": until, "limit": limit}).all()
    ordered = sorted(rows, key=lambda row: (row.next_attempt_at, row.id))
    return [ClaimedMessage(row.id, row.to_number, row.body, row.attempts, until) for row in ordered]


def mark_sent(database: Database, message: ClaimedMessage, provider_id: str, now: datetime) -> None:
    with database.session() as session:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id)
            .values(status="sent", provider_id=provider_id, sent_at=now, claimed_until=None, attempts=message.attempts + 1, last_error=None)
            .execution_options(synchronize_session=False)
        )


def mark_failed(database: Database, message: ClaimedMessage, error: str, now: datetime) -> bool:
    """Record a failed attempt; retry later with backoff, or give up after ``MAX_ATTEMPTS``. True if it will be retried."""
    attempts = message.attempts + 1
    retry = attempts < MAX_ATTEMPTS
    with database.session() as session:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id)
            .values(
                status="pending" if retry else "failed",
                attempts=attempts,
                next_attempt_at=now + retry_delay(attempts) if retry else now,
                claimed_until=None,
                last_error=error[:2000],
            )
            .execution_options(synchronize_session=False)
        )
    return retry


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, then 1, 2, 4, 8 minutes."""
    return FIRST_RETRY * 2 ** max(0, attempts - 1)


def load_sender(settings: Settings) -> SmsSender | None:
    """The first configured sender among the ``frontdoor.sms`` plugins, or None."""
    for plugin in entry_points(group=SMS_PLUGINS):
        factory: SenderFactory = plugin.load()
        sender = factory(settings)
        if sender is not None:
            return sender
    return None


def send_pending_messages(settings: Settings, database: Database, now: datetime | None = None, sender: SmsSender | None = None) -> int:
    """Send every due text once; return how many were sent. Without a configured sender, texts stay queued."""
    sender = sender or load_sender(settings)
    if sender is None:
        log.info("no SMS sender configured (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER): texts stay queued")
        return 0
    moment = now or datetime.now(timezone.utc)
    sent = 0
    for message in claim_due(database, moment):
        try:
            provider_id = sender.send(message.to_number, message.body)
        except SmsError as exc:
            again = mark_failed(database, message, str(exc), moment)
            log.warning("text %d to %s failed (%s)%s", message.id, _masked(message.to_number), exc, "; will retry" if again else "; giving up")
            continue
        mark_sent(database, message, provider_id, moment)
        sent += 1
    return sent


def _masked(number: str) -> str:
    return f"...{number[-4:]}" if len(number) > 4 else number


class OutboxCourier(BackgroundRounds):
    """Sends due texts every ``interval`` seconds (retries included) while the web app runs."""

    work = "SMS outbox"

    def __init__(
        self, settings: Settings, database: Database, interval: float = 30.0, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(interval)
        self.settings = settings
        self.database = database
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def round(self) -> None:
        send_pending_messages(self.settings, self.database, self.clock())
