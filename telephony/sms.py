"""Texts through Twilio's Messages API (entry point ``frontdoor.sms: twilio``)."""

from __future__ import annotations

from dataclasses import dataclass

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from frontdoor.outbox import SmsError, SmsSender
from frontdoor.settings import Settings
from frontdoor.telephony.rest import twilio_client


@dataclass(frozen=True)
class TwilioSmsSender:
    client: Client
    from_number: str

    def send(self, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(from_=self.from_number, to=to, body=body)
        except (TwilioException, OSError) as exc:
            raise SmsError(f"Twilio did not take the text: {exc}") from exc
        return str(message.sid)


def sender_from_settings(settings: Settings) -> SmsSender | None:
    """A Twilio sender when the account and a from-number are configured, else None (texts stay queued)."""
    twilio = settings.twilio
    if not (twilio.account_sid and twilio.auth_token and twilio.from_number):
        return None
    return TwilioSmsSender(twilio_client(twilio), twilio.from_number)
