"""Running calls: the engine plus the records, the incident board, the directory and notifications.

Every channel (phone line, desk speaker, typed chat) drives calls through ``CallService``: it loads
the call's state from the database, asks the engine, stores what happened, and carries out side
effects. If anything fails, the caller is handed to a person (reason ``failure``), never dropped;
the call and its handoff are then kept through ``keeper`` (in the journal if the database cannot
take them), so the agents see the handoff once the database is back.

A channel can store its own reply in the same transaction as the turn (``also``): the phone line
keeps the TwiML it answered with, so a retried webhook gets the same answer and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from frontdoor.answers import load_answer_book
from frontdoor.conversation.engine import ConversationEngine
from frontdoor.conversation.model import Action, BookCallback, CallerTurn, Decision, Expecting, Outcome, Subscribe
from frontdoor.conversation.replies import handoff as handoff_reply
from frontdoor.conversation.state import CallState
from frontdoor.detection import load_detector
from frontdoor.directory import EmployeeDirectory, load_directory, normalise_number
from frontdoor.errors import FrontdoorError, NotFoundError
from frontdoor.incidents.board import IncidentBoard
from frontdoor.incidents.store import IncidentStore, add_subscription
from frontdoor.settings import Settings
from frontdoor.keeper import RecordKeeper, call_record, handoff_record
from frontdoor.storage.calls import CallStore, StaleCall, StoredCall, insert_call
from frontdoor.storage.database import Database
from frontdoor.storage.followups import request_callback
from frontdoor.storage.journal import Journal
from frontdoor.notify import HandoffNotice, HandoffNotifier
from frontdoor.handoff.policy import PolicyThresholds
from frontdoor.handoff.summary import CallerCard, build_summary

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Also = Callable[[Connection, Decision], None]
"""Writes a channel makes in the turn's own transaction (it may raise ``AnsweredBefore``)."""


class AnsweredBefore(Exception):
    """The channel's request was answered before (a retried webhook, a call started twice): nothing of this attempt is kept."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def build_engine(settings: Settings, board: IncidentBoard) -> ConversationEngine:
    """The conversation engine configured from settings (the trained model, answers, thresholds)."""
    detector = load_detector(settings)
    return ConversationEngine(
        board=board,
        answers=load_answer_book(settings.answers_file),
        detector=detector,
        thresholds=PolicyThresholds(
            human_request=settings.handoff.human_request_threshold,
            security=settings.handoff.security_threshold,
            frustration=settings.handoff.frustration_threshold,
            urgency=settings.handoff.urgency_threshold,
        ),
        rules=settings.conversation,
        organisation=settings.general.organisation,
        distress_speaking_rate=settings.handoff.distress_speaking_rate,
        timezone=ZoneInfo(settings.general.timezone),
        frustration_floor=detector.config.model.floor.frustration,
    )


class CallService:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        board: IncidentBoard,
        directory: EmployeeDirectory,
        engine: ConversationEngine,
        notifier: HandoffNotifier,
        journal: Journal,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.database = database
        self.keeper = RecordKeeper(database, journal)
        self.calls = CallStore(database)
        self.incidents = IncidentStore(database, settings.general.organisation)
        self.board = board
        self.directory = directory
        self.engine = engine
        self.notifier = notifier
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utcnow) -> CallService:
        database = Database(settings.database_url)
        board = IncidentBoard.from_settings(settings, IncidentStore(database, settings.general.organisation), clock)
        return cls(
            settings=settings,
            database=database,
            board=board,
            directory=load_directory(settings.directory_file),
            engine=build_engine(settings, board),
            notifier=HandoffNotifier.from_settings(settings),
            journal=Journal(settings.data_dir / "journal"),
            clock=clock,
        )

    def caller_card(self, caller_number: str | None) -> CallerCard:
        number = normalise_number(caller_number)
        employee = self.directory.lookup(number)
        if employee is None:
            return CallerCard(number=number, name=None, department=None, vip=False)
        return CallerCard(number=number, name=employee.name, department=employee.department, vip=employee.vip)

    def start_call(
        self, *, channel: str, caller_number: str | None, call_id: str | None = None, provider_id: str | None = None, also: Also | None = None
    ) -> Decision:
        """Open a call and return the greeting."""
        now = self.clock()
        call_id = call_id or uuid.uuid4().hex
        caller = self.caller_card(caller_number)
        try:
            recent = self._recent_topics(caller.number, now)
            state = CallState(call_id=call_id, channel=channel, caller=caller, started_at=now, recent_topics=tuple(recent))
            outcome = self.engine.greet(state)
            with self.database.transaction() as connection:
                if not insert_call(connection, outcome.state, provider_id):
                    raise AnsweredBefore(call_id)
                if also is not None:
                    also(connection, outcome.decision)
            return outcome.decision
        except AnsweredBefore:
            raise
        except FrontdoorError as exc:
            log.error("cannot start call %s: %s", call_id, exc)
        except Exception:
            log.exception("cannot start call %s", call_id)
        return self._failure_decision(self.placeholder_call(call_id, channel, caller_number, now), provider_id)

    def take_turn(
        self, call_id: str, turn: CallerTurn, also: Also | None = None, *, channel: str = "unknown", caller_number: str | None = None
    ) -> Decision:
        """Answer one caller turn; any failure hands the caller to a person.

        ``channel`` and ``caller_number`` describe the call should its stored state be unreadable.
        """
        now = self.clock()
        try:
            outcome = self._decide_and_save(call_id, turn, now, lambda state: self.engine.respond(state, turn, now), also)
        except (NotFoundError, AnsweredBefore):
            raise
        except FrontdoorError as exc:
            log.error("turn failed on call %s: %s", call_id, exc)
            return self._fail_to_human(self.placeholder_call(call_id, channel, caller_number, now), turn, also)
        except Exception:
            log.exception("turn failed on call %s", call_id)
            return self._fail_to_human(self.placeholder_call(call_id, channel, caller_number, now), turn, also)
        self._carry_out(outcome)
        return outcome.decision

    def placeholder_call(self, call_id: str, channel: str, caller_number: str | None, now: datetime) -> CallState:
        """What is known of a call without its stored state: who is calling, from where, since when."""
        return CallState(call_id=call_id, channel=channel, caller=self.caller_card(caller_number), started_at=now)

    def _decide_and_save(self, call_id: str, turn: CallerTurn, now: datetime, decide: Callable[[CallState], Outcome], also: Also | None) -> Outcome:
        """Decide on the state as read and save; if another turn of the call was saved meanwhile, decide again holding the call."""
        stored = self.calls.load(call_id)
        outcome = decide(stored.state)
        try:
            with self.database.transaction() as connection:
                self._save(connection, stored, outcome, turn, now, also)
            return outcome
        except StaleCall:
            log.info("call %s changed while its turn was decided: deciding again", call_id)
        with self.board.pinned(), self.database.transaction() as connection:
            stored = self.calls.lock(connection, call_id)
            outcome = decide(stored.state)
            self._save(connection, stored, outcome, turn, now, also)
        return outcome

    def _save(self, connection: Connection, stored: StoredCall, outcome: Outcome, turn: CallerTurn, now: datetime, also: Also | None) -> None:
        self.calls.save(connection, stored, outcome, turn, now)
        for effect in outcome.effects:
            if isinstance(effect, Subscribe):
                add_subscription(connection, effect.incident_id, effect.phone_number, outcome.state.call_id, now)
            elif isinstance(effect, BookCallback):
                request_callback(connection, outcome.state.call_id, effect.phone_number, effect.note, now)
        if also is not None:
            also(connection, outcome.decision)

    def end_call(self, call_id: str, *, outcome: str) -> None:
        self.calls.end(call_id, outcome, self.clock())

    def book_callback(self, call_id: str, number: str | None, note: str) -> None:
        """Record that a person will call the caller back (a channel promised it): the console lists it."""
        with self.database.transaction() as connection:
            request_callback(connection, call_id, number, note, self.clock())

    def console_link(self, call_id: str) -> str:
        base = self.settings.twilio.public_url.rstrip("/")
        return f"{base}/agent/handoffs/{call_id}" if base else ""

    def _carry_out(self, outcome: Outcome) -> None:
        decision = outcome.decision
        if decision.action is Action.HANDOFF and decision.summary is not None:
            self.notifier.notify(HandoffNotice(decision.summary, self.console_link(decision.call_id)))

    def _recent_topics(self, number: str | None, now: datetime) -> list[str]:
        if not number:
            return []
        window = timedelta(days=self.settings.conversation.repeat_caller_window_days)
        return self.calls.recent_topics(number, now - window)

    def _fail_to_human(self, placeholder: CallState, turn: CallerTurn, also: Also | None) -> Decision:
        """Hand off with reason ``failure``: from the stored state when the database answers, else bare."""
        now, call_id = placeholder.started_at, placeholder.call_id
        try:
            outcome = self._decide_and_save(call_id, turn, now, lambda state: self.engine.fail_to_human(state, now, turn), also)
        except AnsweredBefore:
            raise
        except Exception:
            log.exception("could not record the failure handoff for call %s", call_id)
            return self._failure_decision(placeholder)
        self._carry_out(outcome)
        return outcome.decision

    def _failure_decision(self, placeholder: CallState, provider_id: str | None = None) -> Decision:
        """Hand off without the call's state; the call row and its handoff are kept (journaled if need be) for the agents."""
        call_id, now = placeholder.call_id, placeholder.started_at
        summary = build_summary(
            call_id=call_id, caller=placeholder.caller, caller_turns=(), assistant_replies=(), assessments=(), reason="failure",
            evidence=(), incident=None, seconds_on_line=0.0, known_facts={},
        )
        handed_off = replace(placeholder, status="handed_off", handoff_reason="failure")
        try:
            self.keeper.write((call_record(handed_off, provider_id), handoff_record(call_id, "failure", summary.to_dict(), now)))
        except Exception:
            log.exception("could not keep the failure handoff of call %s anywhere; the caller still goes to a person", call_id)
        self.notifier.notify(HandoffNotice(summary, self.console_link(call_id)))
        return Decision(
            call_id=call_id, turn=-1, action=Action.HANDOFF, say=handoff_reply("failure", "", security=False),
            reason="failure", summary=summary, expecting=Expecting.NOTHING,
        )

