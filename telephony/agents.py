"""The REST side of a conference transfer: ring an agent, give a call new TwiML, cancel an agent's ringing call."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from frontdoor.errors import FrontdoorError
from frontdoor.settings import TwilioSettings
from frontdoor.telephony.rest import twilio_client

log = logging.getLogger(__name__)

AGENT_CALL_EVENTS = ["answered", "completed"]
"""What frontdoor needs to hear about an agent's call: that they picked up (to hang up right), and how it ended."""


class RestError(FrontdoorError):
    """Twilio's REST API refused a request or could not be reached."""


@dataclass
class AgentDialer:
    """Twilio's REST API for one account, one client per thread (a client holds an HTTP session)."""

    settings: TwilioSettings
    _clients: threading.local = field(default_factory=threading.local)

    def ring(self, to: str, answer_url: str, status_url: str, timeout_seconds: int) -> str:
        """Place a call to an agent from ``twilio.from_number``; Twilio fetches ``answer_url`` when they pick up. Returns its SID."""
        try:
            call = self._client().calls.create(
                to=to,
                from_=self.settings.from_number,
                url=answer_url,
                method="POST",
                status_callback=status_url,
                status_callback_method="POST",
                status_callback_event=AGENT_CALL_EVENTS,
                timeout=timeout_seconds,
            )
        except (TwilioException, OSError) as exc:
            raise RestError(f"Twilio could not ring {to}: {exc}") from exc
        return str(call.sid)

    def redirect(self, call_sid: str, twiml: str) -> None:
        """Give a call in progress new TwiML (a holding caller leaves the conference for it)."""
        try:
            self._client().calls(call_sid).update(twiml=twiml)
        except (TwilioException, OSError) as exc:
            raise RestError(f"Twilio could not redirect call {call_sid}: {exc}") from exc

    def cancel(self, call_sid: str) -> None:
        """Stop an agent's phone ringing (a call not yet answered)."""
        try:
            self._client().calls(call_sid).update(status="canceled")
        except (TwilioException, OSError) as exc:
            raise RestError(f"Twilio could not cancel call {call_sid}: {exc}") from exc

    def warm(self) -> None:
        """Load the REST client's calls API now (about 40 ms of imports), not during the first caller's handoff."""
        _ = self._client().calls

    def _client(self) -> Client:
        client = getattr(self._clients, "client", None)
        if client is None:
            client = self._clients.client = twilio_client(self.settings)
        return client
