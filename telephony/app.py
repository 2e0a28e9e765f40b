"""The Twilio webhooks: ``register(app, service)`` adds the ``/twilio`` blueprint to frontdoor's Flask app.

Every request is checked for Twilio's signature (403 otherwise) and sane parameters (400), then
answered with TwiML. Steps that change the call are answered once: what a request writes and the
reply it gets are stored in one transaction, and a retried request gets the stored reply. Any
failure still answers with TwiML that routes the caller to a person. What the caller is told is kept
(a voicemail, a callback request) goes through the core's ``RecordKeeper``: into the database, or
into the journal while the database cannot be written; if neither can keep it, the caller hears so.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Callable, TypeVar

from flask import Blueprint, Flask, Response, request
from sqlalchemy import Connection
from twilio.twiml.voice_response import VoiceResponse

from frontdoor.calls import Also, AnsweredBefore, CallService
from frontdoor.conversation import replies
from frontdoor.conversation.model import Action, CallerTurn, Decision
from frontdoor.errors import FrontdoorError, NotFoundError
from frontdoor.keeper import call_record, callback_record, connected_record, end_record, voicemail_record
from frontdoor.schemas import twilio_recording_sid
from frontdoor.storage.journal import Record
from frontdoor.telephony import records, twiml
from frontdoor.telephony.agents import AgentDialer
from frontdoor.telephony.conference import LEG_OUTCOMES, ConferenceTransfer, FollowUp, settled_unreachable
from frontdoor.telephony.records import Write
from frontdoor.telephony.security import (
    SIGNATURE_HEADER,
    RejectedRequest,
    WebhookParams,
    check_signature,
    read_params,
    requested_url,
    warn_if_unprotected,
)
from frontdoor.telephony.twiml import Line

log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[\w\-]{1,64}$")
_ANONYMOUS = {"", "anonymous", "restricted", "unknown", "+266696687", "+7378742833", "+2562533", "+8656696"}
_FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
_CONNECTED_DIAL_STATUSES = {"completed", "answered"}
_VOICEMAIL_WORDS = re.compile(r"\b(message|voicemail|voice mail|record)\b", re.IGNORECASE)

Handler = Callable[[WebhookParams, str], str]
T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """A webhook's reply and what to record with it; if an ``essential`` write fails, the route's fallback answers instead."""

    body: str
    writes: tuple[Write | Record, ...] = ()
    essential: bool = False


def register(app: Flask, service: CallService) -> None:
    """Plug the phone line into the app (entry point ``frontdoor.web: twilio``)."""
    settings = service.settings.twilio
    warn_if_unprotected(settings)
    line = Line.from_settings(service.settings)
    if settings.transfer_mode.strip().lower() == "conference" and not line.conferencing:
        log.warning("twilio.transfer_mode is conference, but ringing agents needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                    "TWILIO_FROM_NUMBER: transfers use <Dial> instead")
    phone_line = PhoneLine(service, line)
    if line.conferencing:
        phone_line.transfer.dialer.warm()
    app.register_blueprint(phone_line.blueprint())


@dataclass(frozen=True)
class PhoneLine:
    service: CallService
    line: Line

    @cached_property
    def dial_line(self) -> Line:
        """The line as ``<Dial>`` transfers use it: what any reply uses whose conference writes could not be kept."""
        return replace(self.line, transfer_mode="dial")

    @cached_property
    def transfer(self) -> ConferenceTransfer:
        return ConferenceTransfer(self.line, AgentDialer(self.service.settings.twilio), self.service.clock)

    def blueprint(self) -> Blueprint:
        bp = Blueprint("twilio", __name__, url_prefix=twiml.BASE)
        routes: dict[str, tuple[Handler, Handler]] = {
            "voice": (self.incoming, self.apologise_and_connect),
            "gather": (self.gather, self.apologise_and_connect),
            "dial": (self.dial_ended, self.after_failed_agent),
            "whisper": (self.whisper, self.generic_whisper),
            "whisper/accept": (self.whisper_accept, self.accept_anyway),
            "hold": (self.hold, self.hold),
            "agent": (self.agent_answered, self.generic_agent_whisper),
            "agent/accept": (self.agent_accept, self.agent_accept_anyway),
            "agent/status": (self.agent_status, self.nothing),
            "conference/status": (self.conference_status, self.nothing),
            "conference/done": (self.conference_done, self.goodbye_after_call),
            "queue/wait": (self.queue_wait, self.plain_wait),
            "queue/leave": (self.queue_leave, self.stay_in_queue),
            "queue/done": (self.queue_done, self.after_failed_agent),
            "fallback": (self.fallback_choice, self.record_instead),
            "voicemail": (self.voicemail, self.keep_message_anyway),
            "status": (self.status, self.nothing),
        }
        for path, (handler, fallback) in routes.items():
            view = self._view(handler, fallback, call_sid_required=path != "conference/status")
            bp.add_url_rule(f"/{path}", endpoint=path.replace("/", "_"), view_func=view, methods=["POST"])
        return bp

    # --- request plumbing -------------------------------------------------------------------

    def _view(self, handler: Handler, fallback: Handler, call_sid_required: bool = True) -> Callable[[], Response]:
        def view() -> Response:
            try:
                params, call_id = self._checked_request(call_sid_required)
            except RejectedRequest as exc:
                log.warning("refused %s %s: %s", request.method, request.path, exc)
                return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
            try:
                body = handler(params, call_id)
            except Exception:
                log.exception("webhook %s failed for call %s; routing the caller to a person", request.path, call_id)
                body = fallback(params, call_id)
            return Response(body, mimetype="application/xml")

        view.__name__ = handler.__name__
        return view

    def _checked_request(self, call_sid_required: bool = True) -> tuple[WebhookParams, str]:
        url = requested_url(
            self.service.settings.twilio.public_url,
            request.path,
            request.query_string.decode("latin-1"),
            request.scheme,
            request.host,
        )
        check_signature(self.service.settings.twilio, url, request.form, request.headers.get(SIGNATURE_HEADER))
        params = read_params(request.form, len(list(request.form.items(multi=True))), call_sid_required)
        call_id = request.args.get("call") or params.call_sid
        if not _CALL_ID.match(call_id):
            raise RejectedRequest(400, "call is malformed")
        return params, call_id

    def _step(self, request_key: str) -> int:
        raw = request.args.get(request_key, "0")
        if not raw.isdigit() or len(raw) > 4:
            raise RejectedRequest(400, f"{request_key} is malformed")
        return int(raw)

    def _once(self, key: str, answer: Callable[[], Answer]) -> str:
        """Answer a state-changing request once; a retry of the same request gets the same reply."""
        result = answer()
        reply = partial(records.store_reply, key=key, body=result.body, now=self.service.clock())
        try:
            self.service.keeper.write((reply, *result.writes))
        except AnsweredBefore:
            return self._previous_reply(key) or result.body
        except FrontdoorError as exc:
            if result.essential:
                raise
            log.error("could not record webhook %s: %s; answering anyway", key, exc)
        return result.body

    def _once_per_turn(self, key: str, call_id: str, params: WebhookParams, decide: Callable[[Also], Decision]) -> str:
        """``_once`` for a conversation turn: the reply is stored in the turn's own transaction."""
        given: list[tuple[Decision, str, list[FollowUp]]] = []

        def store(connection: Connection, decision: Decision) -> None:
            follow_ups: list[FollowUp] = []
            result = self.render(decision, params, follow_ups)
            records.store_reply(connection, key, result.body, self.service.clock())
            for write in result.writes:
                write(connection)
            given.append((decision, result.body, follow_ups))

        try:
            decision = decide(store)
        except AnsweredBefore:
            return self._previous_reply(key) or self.safe_handoff(call_id)
        for answered, body, follow_ups in reversed(given):
            if answered is decision:
                return self._ring_or_dial(key, call_id, body, follow_ups, lambda: self.render(decision, params).body)
        return self.render(decision, params).body

    def _ring_or_dial(self, key: str, call_id: str, body: str, follow_ups: list[FollowUp], dial_instead: Callable[[], str]) -> str:
        """Make the REST requests a reply's kept writes call for; if no agent can be rung for it, answer with ``<Dial>`` instead."""
        if not follow_ups:
            return body
        failed = self.transfer.carry_out(follow_ups, self._public_base(), self._record)
        if failed is None:
            return body
        instead = dial_instead()
        self._record(call_id, (settled_unreachable(call_id, failed.attempt, self.service.clock()), partial(records.replace_reply, key=key, body=instead)))
        return instead

    def _follow_up(self, body: str, follow_ups: list[FollowUp]) -> str:
        """Answer ``body`` after the REST requests the kept writes call for (the caller already holds: nothing to answer instead)."""
        if follow_ups:
            self.transfer.carry_out(follow_ups, self._public_base(), self._record)
        return body

    def _public_base(self) -> str:
        """frontdoor's URL as Twilio reaches it, for the callbacks of calls it places."""
        return requested_url(self.service.settings.twilio.public_url, "", "", request.scheme, request.host)

    def _previous_reply(self, key: str) -> str | None:
        try:
            previous = records.stored_reply(self.service.database, key)
        except FrontdoorError as exc:
            log.error("cannot check for a retried webhook (%s): answering anyway", exc)
            return None
        if previous is not None:
            log.info("retried webhook %s: repeating the stored reply", key)
        return previous

    def _record(self, call_id: str, writes: tuple[Write | Record, ...]) -> None:
        """Record something the call can go on without; a failure to keep it is logged, not fatal."""
        try:
            self.service.keeper.write(writes)
        except FrontdoorError as exc:
            log.error("could not record the agent's answer for call %s: %s", call_id, exc)

    # --- the conversation -------------------------------------------------------------------

    def incoming(self, params: WebhookParams, call_id: str) -> str:
        def decide(also: Also) -> Decision:
            return self.service.start_call(
                channel="phone", caller_number=_number(params.caller), call_id=call_id, provider_id=params.call_sid, also=also
            )

        return self._once_per_turn(f"{params.call_sid}:voice", call_id, params, decide)

    def gather(self, params: WebhookParams, call_id: str) -> str:
        step = self._step("turn")
        turn = CallerTurn(text=params.get("SpeechResult").strip(), confidence=params.number("Confidence"), digits=params.get("Digits"))

        def decide(also: Also) -> Decision:
            return self.service.take_turn(call_id, turn, also, channel="phone", caller_number=self._callable(params))

        try:
            return self._once_per_turn(f"{params.call_sid}:gather:{step}", call_id, params, decide)
        except NotFoundError:
            log.error("speech for unknown call %s: handing the caller to a person", call_id)
            return self.apologise_and_connect(params, call_id)

    def render(self, decision: Decision, params: WebhookParams, follow_ups: list[FollowUp] | None = None) -> Answer:
        """The TwiML for a decision; a handoff holds the caller in a conference only when its writes carry ``follow_ups``."""
        if decision.action is Action.LISTEN:
            return Answer(twiml.listen(decision, self.line))
        if decision.action is Action.END:
            return Answer(twiml.end(decision, self.line))
        known = decision.summary.caller.number if decision.summary is not None else None
        can_call_back = (known or self._callable(params)) is not None
        line = self.line if follow_ups is not None else self.dial_line
        body = twiml.hand_off(decision.say, decision.call_id, line, decision.speaking_rate, 0, can_call_back)
        return Answer(body, self._ringing(decision.call_id, 0, follow_ups))

    # --- ringing agents ---------------------------------------------------------------------

    def dial_ended(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        status = params.get("DialCallStatus")

        def answer() -> Answer:
            if status in _CONNECTED_DIAL_STATUSES and self._agent_took_call(call_id):
                duration = params.number("DialCallDuration") or 0.0
                taken = self._connected(call_id, attempt, self.service.clock() - timedelta(seconds=duration))
                return Answer(twiml.goodbye(replies.GOODBYE_AFTER_CALL, self.line), taken)
            missed = partial(records.not_answered, call_id=call_id, status="declined" if status in _CONNECTED_DIAL_STATUSES else status or "failed")
            return self._try_next(params, call_id, attempt + 1, missed, None)

        return self._once(f"{params.call_sid}:dial:{attempt}", answer)

    def _agent_took_call(self, call_id: str) -> bool:
        """With press-to-accept, a completed dial counts only if the agent accepted during the whisper."""
        if not self.line.whisper_accept_digit:
            return True
        facts = self._facts(call_id)
        return facts is None or facts.handoff_status == "connected"

    def _facts(self, call_id: str) -> records.CallFacts | None:
        """What the line knows of the call; None if the database fails."""
        return self._read(call_id, partial(records.call_facts, call_id=call_id))

    def _caller_waits(self, call_id: str, attempt: int) -> bool:
        """The caller still holds for conference ``attempt`` (assumed so if the database fails: the agent joins)."""
        return self._read(call_id, partial(records.attempt_open, call_id=call_id, attempt=attempt)) is not False

    def _read(self, call_id: str, read: Callable[[Connection], T]) -> T | None:
        try:
            with self.service.database.read() as connection:
                return read(connection)
        except FrontdoorError as exc:
            log.error("cannot read call %s: %s", call_id, exc)
            return None

    def _try_next(self, params: WebhookParams, call_id: str, attempt: int, missed: Write, follow_ups: list[FollowUp] | None) -> Answer:
        """After an agent or queue did not connect: the next one (in a conference when ``follow_ups`` can carry its ring)."""
        line = self.line if follow_ups is not None else self.dial_line
        body = twiml.next_agent(call_id, line, attempt, self._can_call_back(params))
        return Answer(body, (missed, *self._ringing(call_id, attempt, follow_ups)), essential=follow_ups is not None and line.conferencing)

    def _ringing(self, call_id: str, attempt: int, follow_ups: list[FollowUp] | None) -> tuple[Write, ...]:
        """The writes for ringing ``attempt``; in a conference transfer they open the attempt and add its ring to ``follow_ups``."""
        if attempt >= len(self.line.destinations):
            return ()
        destination = self.line.destinations[attempt]
        writes: tuple[Write, ...] = (partial(records.ringing, call_id=call_id, agent=destination.label),)
        if follow_ups is not None and self.line.conferencing and destination.kind != "queue":
            writes += (partial(self.transfer.open_attempt, call_id=call_id, attempt=attempt, follow_ups=follow_ups),)
        return writes

    def _connected(self, call_id: str, attempt: int, at: datetime, queued_seconds: float | None = None) -> tuple[Record, ...]:
        agent = self.line.destinations[attempt].label if attempt < len(self.line.destinations) else None
        return (connected_record(call_id, agent, at, queued_seconds),)

    def whisper(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        facts = self._facts(call_id)
        if not self.line.whisper_accept_digit:
            self._record(call_id, self._connected(call_id, attempt, self.service.clock()))
        return twiml.whisper(_whisper_text(facts), call_id, attempt, self.dial_line)

    def whisper_accept(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        accepted = params.get("Digits") == self.line.whisper_accept_digit
        if accepted:
            self._record(call_id, self._connected(call_id, attempt, self.service.clock()))
        return twiml.whisper_answer(accepted, self.dial_line)

    # --- conference transfers ---------------------------------------------------------------

    def hold(self, params: WebhookParams, call_id: str) -> str:
        return twiml.hold(call_id, self._step_or_zero("attempt"), self._step_or_zero("loop"), self.line)

    def agent_answered(self, params: WebhookParams, call_id: str) -> str:
        """An agent picked up the call frontdoor placed: the whisper, unless the caller is gone."""
        attempt = self._step("attempt")

        def read(connection: Connection) -> tuple[bool, records.CallFacts]:
            return records.attempt_open(connection, call_id, attempt), records.call_facts(connection, call_id)

        def answer() -> Answer:
            waiting, facts = self._read(call_id, read) or (True, None)
            if not waiting:
                return Answer(twiml.caller_left(self.line))
            return Answer(twiml.whisper(_whisper_text(facts), call_id, attempt, self.line))

        return self._once(f"{params.call_sid}:agent", answer)

    def agent_accept(self, params: WebhookParams, call_id: str) -> str:
        """After the whisper: the agent joins the caller, or declines and the next agent rings at once."""
        attempt = self._step("attempt")
        digit = self.line.whisper_accept_digit
        follow_ups: list[FollowUp] = []

        def answer() -> Answer:
            if digit and params.get("Digits") != digit:
                declined = partial(self.transfer.attempt_over, call_id=call_id, attempt=attempt, outcome="declined", follow_ups=follow_ups)
                return Answer(twiml.whisper_answer(False, self.line), (declined,))
            if not self._caller_waits(call_id, attempt):
                return Answer(twiml.caller_left(self.line))
            taken = partial(self.transfer.take, call_id=call_id, attempt=attempt)
            return Answer(twiml.whisper_answer(True, self.line, call_id, pressed=bool(digit)), (taken,))

        return self._follow_up(self._once(f"{params.call_sid}:agent-accept", answer), follow_ups)

    def agent_status(self, params: WebhookParams, call_id: str) -> str:
        """Where an agent's call is; when it ends without the agent taking the caller, the next agent is rung.

        No stored reply is needed: the reply is always empty, a status behind the recorded one changes
        nothing, and only the first request to settle the attempt rings anyone.
        """
        attempt = self._step("attempt")
        status = params.get("CallStatus")
        follow_ups: list[FollowUp] = []
        writes: tuple[Write, ...] = (partial(records.leg_progress, call_id=call_id, attempt=attempt, call_sid=params.call_sid, status=status),)
        if status in _FINAL_CALL_STATUSES:
            writes += (partial(self.transfer.attempt_over, call_id=call_id, attempt=attempt, outcome=LEG_OUTCOMES[status], follow_ups=follow_ups),)
        else:
            writes = (records.unhurried, *writes)
        self._record(call_id, writes)
        return self._follow_up(str(VoiceResponse()), follow_ups)

    def conference_status(self, params: WebhookParams, call_id: str) -> str:
        """When the agent's call joined the caller's conference: the moment the caller had a person, kept once."""
        call_sid = params.call_sid
        if params.get("StatusCallbackEvent") == "participant-join" and call_sid and call_sid != call_id:
            self._record(call_id, (records.unhurried, partial(records.leg_joined, call_sid=call_sid, at=self.service.clock())))
        return str(VoiceResponse())

    def conference_done(self, params: WebhookParams, call_id: str) -> str:
        """The caller's conference ended: after a person, goodbye; otherwise (nobody joined) the message or callback offer."""

        def answer() -> Answer:
            facts = self._facts(call_id)
            if facts is None or facts.handoff_status == "connected":
                return Answer(twiml.goodbye(replies.GOODBYE_AFTER_CALL, self.line))
            return Answer(twiml.next_agent(call_id, self.line, len(self.line.destinations), self._can_call_back(params)))

        return self._once(f"{params.call_sid}:conference-done", answer)

    # --- queues -----------------------------------------------------------------------------

    def queue_wait(self, params: WebhookParams, call_id: str) -> str:
        position = params.number("QueuePosition")
        return twiml.queue_wait(int(position) if position is not None else None, params.number("AvgQueueTime"), call_id, self.line)

    def queue_leave(self, params: WebhookParams, call_id: str) -> str:
        return twiml.queue_leave(params.get("Digits") == "1", self.line)

    def queue_done(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        result = params.get("QueueResult")

        def answer() -> Answer:
            if result == "bridged":
                taken = self._connected(call_id, attempt, self.service.clock(), params.number("QueueTime") or 0.0)
                return Answer(twiml.goodbye(replies.GOODBYE_AFTER_CALL, self.line), taken)
            if result == "hangup":
                return Answer(str(VoiceResponse()))
            if result == "leave":
                return Answer(twiml.record_voicemail(call_id, self.line, replies.VOICEMAIL_PREFACE))
            missed = partial(records.not_answered, call_id=call_id, status="queue_" + (result or "error"))
            return self._try_next(params, call_id, attempt + 1, missed, follow_ups)

        follow_ups: list[FollowUp] = []
        key = f"{params.call_sid}:queue:{attempt}"
        dial_instead = partial(twiml.next_agent, call_id, self.dial_line, attempt + 1, self._can_call_back(params))
        return self._ring_or_dial(key, call_id, self._once(key, answer), follow_ups, dial_instead)

    # --- when nobody answers ----------------------------------------------------------------

    def fallback_choice(self, params: WebhookParams, call_id: str) -> str:
        digits, speech = params.get("Digits"), params.get("SpeechResult")

        def answer() -> Answer:
            if digits == "1" or (not digits and _VOICEMAIL_WORDS.search(speech)):
                return Answer(twiml.record_voicemail(call_id, self.line, replies.VOICEMAIL_PREFACE))
            return self._book_callback(params, call_id, "Asked for a callback after no agent answered.")

        return self._once(f"{params.call_sid}:fallback", answer)

    def voicemail(self, params: WebhookParams, call_id: str) -> str:
        def answer() -> Answer:
            recording_url, recording_sid = params.get("RecordingUrl"), params.get("RecordingSid")
            if recording_url and twilio_recording_sid(recording_url) != recording_sid:
                log.error("voicemail for call %s refused: %r is not the Twilio recording %r", call_id, recording_url[:200], recording_sid)
                if self._can_call_back(params):
                    return self._book_callback(params, call_id, "Left a voicemail that could not be kept.", replies.VOICEMAIL_NOT_KEPT)
                return Answer(twiml.goodbye(replies.VOICEMAIL_NOT_KEPT_NO_CALLBACK, self.line))
            message = self._message(params, call_id)
            if message:
                return Answer(twiml.goodbye(replies.VOICEMAIL_SAVED, self.line), message, essential=True)
            if self._can_call_back(params):
                return self._book_callback(params, call_id, "Left an empty voicemail after no agent answered.", replies.VOICEMAIL_EMPTY)
            return Answer(twiml.goodbye(replies.VOICEMAIL_EMPTY_NO_CALLBACK, self.line))

        return self._once(f"{params.call_sid}:voicemail", answer)

    def _message(self, params: WebhookParams, call_id: str) -> tuple[Record, ...]:
        """The voicemail Twilio recorded, after its call row (kept only if the call was never stored); () if none."""
        recording_sid, recording_url = params.get("RecordingSid"), params.get("RecordingUrl")
        seconds = params.number("RecordingDuration")
        if not (recording_sid and recording_url and (seconds or 0) > 0):
            return ()
        now = self.service.clock()
        return (self._call_row(params, call_id, now), voicemail_record(call_id, recording_sid, recording_url, int(seconds or 0), now))

    def _book_callback(self, params: WebhookParams, call_id: str, note: str, preface: str = "") -> Answer:
        facts = self._facts(call_id)
        number = (facts.caller_number if facts is not None else None) or self._callable(params)
        now = self.service.clock()
        booked = (self._call_row(params, call_id, now), callback_record(call_id, number, note, now))
        return Answer(twiml.goodbye(f"{preface} {replies.callback_booked(number)}".strip(), self.line), booked, essential=True)

    def _call_row(self, params: WebhookParams, call_id: str, now: datetime) -> Record:
        return call_record(self.service.placeholder_call(call_id, "phone", self._callable(params), now), params.call_sid)

    def _callable(self, params: WebhookParams) -> str | None:
        """The number to call back: the caller's, or the employee's on a call frontdoor placed (desk speaker bridge)."""
        return _number(params.caller if params.direction != "outbound-api" else params.called)

    def _can_call_back(self, params: WebhookParams) -> bool:
        return self._callable(params) is not None

    # --- the end of the call ----------------------------------------------------------------

    def status(self, params: WebhookParams, call_id: str) -> str:
        call_status = params.get("CallStatus")
        if call_status in _FINAL_CALL_STATUSES:
            self.service.keeper.write((end_record(call_id, call_status, self.service.clock()),))
            if self.line.conferencing:
                follow_ups: list[FollowUp] = []
                with self.service.database.transaction() as connection:
                    self.transfer.caller_gone(connection, call_id, follow_ups)
                self._follow_up("", follow_ups)
        return str(VoiceResponse())

    # --- answers when something failed ------------------------------------------------------

    def safe_handoff(self, call_id: str = "", can_call_back: bool = True) -> str:
        return twiml.hand_off(replies.APOLOGY, call_id, self.dial_line, 1.0, 0, can_call_back)

    def apologise_and_connect(self, params: WebhookParams, call_id: str) -> str:
        return self.safe_handoff(call_id, _number(params.caller) is not None)

    def after_failed_agent(self, params: WebhookParams, call_id: str) -> str:
        return twiml.next_agent(call_id, self.dial_line, self._step_or_zero("attempt") + 1, _number(params.caller) is not None)

    def generic_whisper(self, params: WebhookParams, call_id: str) -> str:
        return twiml.whisper(replies.GENERIC_WHISPER, call_id, self._step_or_zero("attempt"), self.dial_line)

    def generic_agent_whisper(self, params: WebhookParams, call_id: str) -> str:
        return twiml.whisper(replies.GENERIC_WHISPER, call_id, self._step_or_zero("attempt"), self.line)

    def accept_anyway(self, params: WebhookParams, call_id: str) -> str:
        return twiml.whisper_answer(params.get("Digits") == self.line.whisper_accept_digit, self.dial_line)

    def agent_accept_anyway(self, params: WebhookParams, call_id: str) -> str:
        digit = self.line.whisper_accept_digit
        return twiml.whisper_answer(not digit or params.get("Digits") == digit, self.line, call_id, pressed=bool(digit))

    def goodbye_after_call(self, params: WebhookParams, call_id: str) -> str:
        return twiml.goodbye(replies.GOODBYE_AFTER_CALL, self.line)

    def plain_wait(self, params: WebhookParams, call_id: str) -> str:
        return twiml.queue_wait(None, None, call_id, self.line)

    def stay_in_queue(self, params: WebhookParams, call_id: str) -> str:
        return twiml.queue_leave(False, self.line)

    def record_instead(self, params: WebhookParams, call_id: str) -> str:
        return twiml.record_voicemail(call_id, self.line, replies.VOICEMAIL_AFTER_FAILURE)

    def keep_message_anyway(self, params: WebhookParams, call_id: str) -> str:
        """The voicemail webhook failed: try once more to keep the message, and tell the caller the truth either way."""
        try:
            message = self._message(params, call_id)
            if message:
                self.service.keeper.write(message)
        except Exception:
            log.exception("could not keep the voicemail of call %s anywhere", call_id)
            return twiml.goodbye(replies.VOICEMAIL_NOT_SAVED, self.line)
        return twiml.goodbye(replies.VOICEMAIL_SAVED if message else replies.VOICEMAIL_EMPTY_NO_CALLBACK, self.line)

    def nothing(self, params: WebhookParams, call_id: str) -> str:
        return str(VoiceResponse())

    def _step_or_zero(self, key: str) -> int:
        raw = request.args.get(key, "0")
        return int(raw) if raw.isdigit() and len(raw) <= 4 else 0


def _whisper_text(facts: records.CallFacts | None) -> str:
    return facts.summary.whisper() if facts is not None and facts.summary is not None else replies.GENERIC_WHISPER


def _number(value: str | None) -> str | None:
    """A caller ID worth calling back: not anonymous, not a client or SIP identity."""
    if value is None or value.strip().lower() in _ANONYMOUS:
        return None
    cleaned = value.strip()
    return cleaned if re.fullmatch(r"\+?\d{7,15}", cleaned) else None
