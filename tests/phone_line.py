"""A phone line for tests: the real app and its call service, with the Twilio simulator pointed at it.

The fixtures that build one (``phone_settings``, ``phone``, ``mode``) are in ``conftest.py``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import func, select

from frontdoor.calls import CallService
from frontdoor.settings import Settings
from frontdoor.storage.schema import CallRecord
from frontdoor.web import create_app
from twilio_sim import Agent, FlaskTransport, SimulatedCall, TwilioApiServer, TwilioSimulator

PUBLIC = "https://frontdoor.example.com"
DANA = "+15551230001"  # Dana Whitfield, Finance, in config/directory.yaml
AGENT_1, AGENT_2 = "+15550002001", "+15550002002"


class Phone:
    """The app, its call service and a simulated Twilio pointed at it (``api``: the REST stand-in that plays the calls the app places)."""

    def __init__(self, settings: Settings, api: TwilioApiServer, agents: dict[str, Agent] | None = None, **simulator: object) -> None:
        self.service = CallService.from_settings(settings)
        self.app = create_app(settings, self.service)
        self.api = api
        self.twilio = TwilioSimulator(
            simulator.pop("transport", None) or FlaskTransport(self.app.test_client()),  # type: ignore[arg-type]
            settings.twilio.auth_token, str(simulator.pop("public_url", PUBLIC)), agents=agents or {AGENT_1: Agent()}, api=api,
            **simulator,  # type: ignore[arg-type]
        )

    def call(self, caller: str = DANA) -> SimulatedCall:
        return self.twilio.call(caller)

    def row(self, model, call: SimulatedCall):  # type: ignore[no-untyped-def]
        with self.service.database.session() as session:
            column = model.id if model is CallRecord else model.call_id
            return session.scalar(select(model).where(column == call.sid))

    def rows(self, model, *where, order_by=None) -> list:  # type: ignore[no-untyped-def]
        with self.service.database.session() as session:
            return list(session.scalars(select(model).where(*where).order_by(order_by)))

    def count(self, model, *where) -> int:  # type: ignore[no-untyped-def]
        with self.service.database.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def agents_rung(self, call: SimulatedCall) -> list[str]:
        """Who was rung for ``call``, in order: over the REST API (conference) or by ``<Dial>``."""
        placed = [created["To"] for created in self.api.calls() if call.sid in created.get("Url", "")]
        dialled = [noun.text or "" for dial in replies_with(call, "Dial") for noun in dial if noun.tag in {"Number", "Sip", "Client"}]
        return placed + dialled


def replies_with(call: SimulatedCall, tag: str) -> list[ET.Element]:
    """Every ``tag`` element in the TwiML the app answered on ``call`` (its own requests and its agents')."""
    return [element for reply in call.replies if reply.body.startswith("<?xml") for element in reply.xml().iter(tag)]
