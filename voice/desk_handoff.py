"""What happens after a handoff at a desk: ring the employee's phone through Twilio when possible, else a callback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from frontdoor.conversation import replies
from frontdoor.conversation.model import Decision
from frontdoor.settings import Settings

if TYPE_CHECKING:
    from frontdoor.calls import CallService

log = logging.getLogger(__name__)

PHONE_BRIDGE_PLUGINS = "frontdoor.phone_bridge"
"""Where a channel that can ring phones offers ``ring_employee_and_agent(settings, number, summary, call_id) -> sid``."""

CALL_BACK_NOTE = "The desk speaker told them a person would call them back."
COME_BACK_NOTE = "The desk speaker told them a person would get back to them; it had no number for them."


@dataclass(frozen=True)
class DeskHandoff:
    """The sentence the employee hears and whether their phone is being rung."""

    say: str
    bridged: bool
    twilio_call_sid: str = ""


def twilio_ready(settings: Settings) -> bool:
    twilio = settings.twilio
    return bool(twilio.account_sid and twilio.auth_token and twilio.from_number)


def hand_over(service: CallService, decision: Decision, employee_number: str | None) -> DeskHandoff:
    """Ring the employee and bridge them to an agent when Twilio is configured and their number known;
    otherwise promise that a person will be in touch, and book that callback so the console lists it."""
    if twilio_ready(service.settings) and employee_number and decision.summary is not None:
        try:
            ring_employee_and_agent = next(iter(entry_points(group=PHONE_BRIDGE_PLUGINS))).load()
            sid = ring_employee_and_agent(service.settings, employee_number, decision.summary, decision.call_id)
            return DeskHandoff(f"{decision.say} {replies.RING_SOON}", bridged=True, twilio_call_sid=sid)
        except Exception as exc:
            log.error("could not ring %s for call %s: %s", employee_number, decision.call_id, exc)
    follow_up, note = (replies.CALL_BACK, CALL_BACK_NOTE) if employee_number else (replies.COME_BACK, COME_BACK_NOTE)
    try:
        service.book_callback(decision.call_id, employee_number, note)
    except Exception as exc:
        log.error("could not record the callback promised on call %s: %s", decision.call_id, exc)
    return DeskHandoff(f"{decision.say} {follow_up}", bridged=False)
