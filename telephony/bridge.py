"""The desk speaker's way to a person: ring the employee's phone, then dial the agents from that call."""

from __future__ import annotations

from dataclasses import replace

from twilio.base.exceptions import TwilioException

from frontdoor.conversation import replies
from frontdoor.errors import ConfigError, FrontdoorError
from frontdoor.settings import Settings
from frontdoor.handoff.summary import WarmTransferSummary
from frontdoor.telephony import twiml
from frontdoor.telephony.rest import twilio_client


class BridgeError(FrontdoorError):
    """Twilio would not place the call to the employee."""


def bridge_twiml(settings: Settings, call_id: str, summary: WarmTransferSummary) -> str:
    """What the employee hears when they pick up: one sentence, then the agents, each with the whisper."""
    public = settings.twilio.public_url.rstrip("/")
    if not public:
        raise ConfigError("the desk-speaker handoff needs twilio.public_url (FRONTDOOR_PUBLIC_URL) for Twilio's callbacks")
    line = replace(twiml.Line.from_settings(settings), url_base=public, transfer_mode="dial")
    text = replies.bridge_greeting(summary.caller.name.split()[0] if summary.caller.name else None)
    return twiml.hand_off(text, call_id, line, 1.0, 0, can_call_back=True)


def ring_employee_and_agent(settings: Settings, employee_number: str, summary: WarmTransferSummary, call_id: str) -> str:
    """Call ``employee_number`` and connect them to the service desk; returns the Twilio call SID."""
    if not settings.twilio.from_number:
        raise ConfigError("the desk-speaker handoff needs twilio.from_number (TWILIO_FROM_NUMBER)")
    document = bridge_twiml(settings, call_id, summary)
    try:
        call = twilio_client(settings.twilio).calls.create(to=employee_number, from_=settings.twilio.from_number, twiml=document)
    except (TwilioException, OSError) as exc:
        raise BridgeError(f"Twilio could not call {employee_number}: {exc}") from exc
    return str(call.sid)

