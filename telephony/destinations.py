"""Agent destinations from settings: phone numbers, SIP URIs, Twilio Client identities and queues."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from frontdoor.errors import ConfigError

Kind = Literal["number", "sip", "client", "queue"]

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CLIENT = re.compile(r"^[A-Za-z0-9_.\-]{1,121}$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.\- ]{1,64}$")


@dataclass(frozen=True)
class Destination:
    """Where a handoff rings: ``kind`` says which TwiML noun, ``target`` what goes inside it."""

    kind: Kind
    target: str

    @property
    def label(self) -> str:
        return self.target if self.kind in {"number", "sip"} else f"{self.kind}:{self.target}"


def parse_destination(text: str) -> Destination:
    """One destination from its setting form: ``+15551234567``, ``sip:desk@pbx``, ``client:alex``, ``queue:support``."""
    value = text.strip()
    lowered = value.lower()
    if _E164.match(value):
        return Destination("number", value)
    if lowered.startswith("sip:") and "@" in value and " " not in value:
        return Destination("sip", value)
    if lowered.startswith("client:") and _CLIENT.match(value[7:]):
        return Destination("client", value[7:])
    if lowered.startswith("queue:") and _QUEUE.match(value[6:].strip()):
        return Destination("queue", value[6:].strip())
    raise ConfigError(
        f"'handoff.agents': cannot use {text!r} (expected +E.164 number, sip:user@host, client:identity or queue:name)"
    )


def parse_destinations(values: tuple[str, ...]) -> tuple[Destination, ...]:
    return tuple(parse_destination(value) for value in values)
