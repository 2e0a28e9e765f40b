"""What happens after a handoff at a desk: ring the employee's phone through Twilio when possible, else a callback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points

from frontdoor.conversation import replies
from frontdoor.conversation.model import Decision
from frontdoor.settings import Settings

log = logging.getLogger(__name__)

PHONE_BRIDGE_PLUGINS = "frontdoor.phone_bridge"
"""Where a channel that can ring phones offers ``ring_employee_and_agent(settings, number, summary, call_id) -> sid``."""



@dataclass(frozen=True)
class DeskHandoff:
    """The sentence the employee hears and whether their phone is being rung."""

    say: str
    bridged: bool
    twilio_call_sid: str = ""


def twilio_ready(settings: Settings) -> bool:
    twilio = settings.twilio
    return bool(twilio.account_sid and twilio.auth_token and twilio.from_number)


def hand_over(settings: Settings, decision: Decision, employee_number: str | None) -> DeskHandoff:
    """Ring the employee and bridge them to an agent when Twilio is configured and their number known."""
    if twilio_ready(settings) and employee_number and decision.summary is not None:
        try:
            ring_employee_and_agent = next(iter(entry_points(group=PHONE_BRIDGE_PLUGINS))).load()
            sid = ring_employee_and_agent(settings, employee_number, decision.summary, decision.call_id)
            return DeskHandoff(f"{decision.say} {replies.RING_SOON}", bridged=True, twilio_call_sid=sid)
        except Exception as exc:
            log.error("could not ring %s for call %s: %s", employee_number, decision.call_id, exc)
    follow_up = replies.CALL_BACK if employee_number else replies.COME_BACK
    return DeskHandoff(f"{decision.say} {follow_up}", bridged=False)
