"""A conference transfer's moves: open an attempt, settle it, and the REST requests that follow.

The caller holds in the call's conference (``twiml.hold``) while frontdoor rings agents one after
another over the REST API. Each attempt is a row in ``agent_legs``. Whichever request settles an
attempt first (the agent's status callback, a declined whisper, the caller hanging up) decides what
follows, inside its own transaction, and only that request makes the REST calls (``FollowUp``): a
retried, repeated or late callback finds the attempt settled and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Callable, Union

from sqlalchemy import Connection

from frontdoor.storage.followups import connected
from frontdoor.telephony import records, twiml
from frontdoor.telephony.agents import AgentDialer, RestError
from frontdoor.telephony.records import Write
from frontdoor.telephony.twiml import Line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ring:
    """Ring the agent of ``attempt``; ``announce``: the caller already holds and is told someone else is being tried."""

    call_id: str
    attempt: int
    announce: bool


@dataclass(frozen=True)
class MoveCaller:
    """Take the holding caller out of the conference to what comes at ``attempt``: a queue, or the voicemail/callback offer."""

    call_id: str
    attempt: int
    can_call_back: bool


@dataclass(frozen=True)
class HangUp:
    """End an agent's call that nobody needs any more: stop it ringing, or tell the agent the caller is gone."""

    call_sid: str
    answered: bool


FollowUp = Union[Ring, MoveCaller, HangUp]

LEG_OUTCOMES = {"completed": "declined", "busy": "busy", "no-answer": "no_answer", "failed": "failed", "canceled": "canceled"}
"""How an attempt ended, from the final status of an agent's call that was not accepted."""


@dataclass(frozen=True)
class ConferenceTransfer:
    line: Line
    dialer: AgentDialer
    clock: Callable[[], datetime]

    # --- writes, inside the webhook's transaction ---------------------------------------------

    def open_attempt(self, connection: Connection, call_id: str, attempt: int, follow_ups: list[FollowUp], announce: bool = False) -> None:
        destination = self.line.destinations[attempt]
        if records.open_leg(connection, call_id, attempt, destination.label, twiml.conference_name(call_id), self.clock()):
            follow_ups.append(Ring(call_id, attempt, announce))

    def attempt_over(self, connection: Connection, call_id: str, attempt: int, outcome: str, follow_ups: list[FollowUp]) -> None:
        """``attempt`` ended without the agent taking the call: ring the next agent at once, or offer a message or callback."""
        if not records.end_leg(connection, call_id, attempt, outcome, self.clock()):
            return
        records.not_answered(connection, call_id, outcome)
        following = attempt + 1
        if following < len(self.line.destinations):
            destination = self.line.destinations[following]
            records.ringing(connection, call_id, destination.label)
            if destination.kind != "queue":
                self.open_attempt(connection, call_id, following, follow_ups, announce=True)
                return
        can_call_back = records.call_facts(connection, call_id).caller_number is not None
        follow_ups.append(MoveCaller(call_id, following, can_call_back))

    def take(self, connection: Connection, call_id: str, attempt: int) -> None:
        """The agent of ``attempt`` accepted: they join the caller, who now has a person."""
        if records.end_leg(connection, call_id, attempt, "accepted", self.clock()):
            connected(connection, call_id, self.line.destinations[attempt].label, self.clock())

    def caller_gone(self, connection: Connection, call_id: str, follow_ups: list[FollowUp]) -> None:
        """The caller hung up: settle the open attempts and hang up the agents still ringing or listening to the whisper."""
        for leg in records.end_open_legs(connection, call_id, "caller_left", self.clock()):
            follow_ups.append(HangUp(leg.call_sid, leg.answered))

    # --- REST requests, once the writes are kept ----------------------------------------------

    def carry_out(self, follow_ups: list[FollowUp], base: str, record: Callable[[str, tuple[Write, ...]], None]) -> Ring | None:
        """Make the REST requests the kept writes call for (``base``: frontdoor's public URL, for Twilio's callbacks).

        Returns the ring that failed while the caller's reply is still being sent (the caller does not
        hold yet, so that reply must reach the agents another way); an agent who cannot be rung once
        the caller holds counts as an attempt that failed, and the next one follows.
        """
        line = replace(self.line, url_base=base)
        pending = list(follow_ups)
        while pending:
            step = pending.pop(0)
            try:
                if isinstance(step, Ring):
                    self._ring(step, line, record)
                    if step.announce:
                        pending.append(MoveCaller(step.call_id, step.attempt, True))
                elif isinstance(step, MoveCaller):
                    self.dialer.redirect(step.call_id, twiml.next_agent(step.call_id, line, step.attempt, step.can_call_back))
                elif step.answered:
                    self.dialer.redirect(step.call_sid, twiml.caller_left(line))
                else:
                    self.dialer.cancel(step.call_sid)
            except RestError as exc:
                log.error("%s", exc)
                if isinstance(step, Ring):
                    if not step.announce:
                        return step
                    pending.extend(self._after_unreachable(step, record))
        return None

    def _ring(self, step: Ring, line: Line, record: Callable[[str, tuple[Write, ...]], None]) -> None:
        destination = line.destinations[step.attempt]
        sid = self.dialer.ring(
            twiml.agent_address(destination),
            twiml.url(line, "agent", step.call_id, attempt=step.attempt),
            twiml.url(line, "agent/status", step.call_id, attempt=step.attempt),
            line.dial_timeout_seconds,
        )
        noted = partial(records.leg_progress, call_id=step.call_id, attempt=step.attempt, call_sid=sid, status="queued")
        record(step.call_id, (records.unhurried, noted))

    def _after_unreachable(self, step: Ring, record: Callable[[str, tuple[Write, ...]], None]) -> list[FollowUp]:
        follow_ups: list[FollowUp] = []
        record(step.call_id, (partial(self.attempt_over, call_id=step.call_id, attempt=step.attempt, outcome="unreachable", follow_ups=follow_ups),))
        return follow_ups


def settled_unreachable(call_id: str, attempt: int, now: datetime) -> Write:
    """The write for an agent the REST API could not ring while the caller's reply was being sent."""
    return partial(records.end_leg, call_id=call_id, attempt=attempt, outcome="unreachable", now=now)
