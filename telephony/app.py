"""The Twilio webhooks: ``register(app, service)`` adds the ``/twilio`` blueprint to frontdoor's Flask app.

Every request is checked for Twilio's signature (403 otherwise) and sane parameters (400), then
answered with TwiML. Steps that change the call are answered once: a retried request gets the
stored reply. Any failure still answers with TwiML that routes the caller to a person.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import Blueprint, Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse

from frontdoor.calls import CallService
from frontdoor.conversation.model import Action, CallerTurn, Decision
from frontdoor.errors import FrontdoorError, NotFoundError
from telephony import records, twiml
from telephony.security import (
    SIGNATURE_HEADER,
    RejectedRequest,
    WebhookParams,
    check_signature,
    read_params,
    requested_url,
    warn_if_unprotected,
)
from telephony.twiml import Line

log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[\w\-]{1,64}$")
_ANONYMOUS = {"", "anonymous", "restricted", "unknown", "+266696687", "+7378742833", "+2562533", "+8656696"}
_FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
_CONNECTED_DIAL_STATUSES = {"completed", "answered"}
_VOICEMAIL_WORDS = re.compile(r"\b(message|voicemail|voice mail|record)\b", re.IGNORECASE)
GENERIC_WHISPER = "A caller is being transferred to you by the service desk assistant. Their details could not be loaded; please ask what they need."

Handler = Callable[[WebhookParams, str], str]


def register(app: Flask, service: CallService) -> None:
    """Plug the phone line into the app (entry point ``frontdoor.web: twilio``)."""
    warn_if_unprotected(service.settings.twilio)
    app.register_blueprint(PhoneLine(service, Line.from_settings(service.settings)).blueprint())


@dataclass(frozen=True)
class PhoneLine:
    service: CallService
    line: Line

    def blueprint(self) -> Blueprint:
        bp = Blueprint("twilio", __name__, url_prefix=twiml.BASE)
        routes: dict[str, tuple[Handler, Handler]] = {
            "voice": (self.incoming, self.apologise_and_connect),
            "gather": (self.gather, self.apologise_and_connect),
            "dial": (self.dial_ended, self.after_failed_agent),
            "whisper": (self.whisper, self.generic_whisper),
            "whisper/accept": (self.whisper_accept, self.accept_anyway),
            "queue/wait": (self.queue_wait, self.plain_wait),
            "queue/leave": (self.queue_leave, self.stay_in_queue),
            "queue/done": (self.queue_done, self.after_failed_agent),
            "fallback": (self.fallback_choice, self.record_instead),
            "voicemail": (self.voicemail, self.voicemail_thanks),
            "status": (self.status, self.nothing),
        }
        for path, (handler, fallback) in routes.items():
            bp.add_url_rule(f"/{path}", endpoint=path.replace("/", "_"), view_func=self._view(handler, fallback), methods=["POST"])
        return bp

    # --- request plumbing -------------------------------------------------------------------

    def _view(self, handler: Handler, fallback: Handler) -> Callable[[], Response]:
        def view() -> Response:
            try:
                params, call_id = self._checked_request()
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

    def _checked_request(self) -> tuple[WebhookParams, str]:
        url = requested_url(
            self.service.settings.twilio.public_url,
            request.path,
            request.query_string.decode("latin-1"),
            request.scheme,
            request.host,
            request.headers,
        )
        check_signature(self.service.settings.twilio, url, request.form, request.headers.get(SIGNATURE_HEADER))
        params = read_params(request.form, len(list(request.form.items(multi=True))))
        call_id = request.args.get("call") or params.call_sid
        if not _CALL_ID.match(call_id):
            raise RejectedRequest(400, "call is malformed")
        return params, call_id

    def _step(self, request_key: str) -> int:
        raw = request.args.get(request_key, "0")
        if not raw.isdigit() or len(raw) > 4:
            raise RejectedRequest(400, f"{request_key} is malformed")
        return int(raw)

    def _once(self, key: str, call_id: str, answer: Callable[[], str]) -> str:
        """Answer a state-changing request once; a retry of the same request gets the same reply."""
        database = self.service.database
        try:
            previous = records.claim_reply(database, key, self.service.clock())
        except FrontdoorError as exc:
            log.error("cannot check for a retried webhook (%s): answering anyway", exc)
            return answer()
        if previous is not None:
            log.info("retried webhook %s: repeating the stored reply", key)
            return previous or self.safe_handoff(call_id)
        try:
            body = answer()
        except Exception:
            self._quietly(records.release_reply, database, key)
            raise
        self._quietly(records.store_reply, database, key, body)
        return body

    def _quietly(self, action: Callable[..., object], *args: object) -> None:
        """Record something the call can go on without; a database failure is logged, not fatal."""
        try:
            action(*args)
        except FrontdoorError as exc:
            log.error("could not record %s: %s", action.__name__, exc)

    # --- the conversation -------------------------------------------------------------------

    def incoming(self, params: WebhookParams, call_id: str) -> str:
        def answer() -> str:
            decision = self.service.start_call(
                channel="phone", caller_number=_number(params.caller), call_id=call_id, provider_id=params.call_sid
            )
            return self.render(decision, params)

        return self._once(f"{params.call_sid}:voice", call_id, answer)

    def gather(self, params: WebhookParams, call_id: str) -> str:
        step = self._step("turn")
        turn = CallerTurn(text=params.get("SpeechResult").strip(), confidence=params.number("Confidence"), digits=params.get("Digits"))

        def answer() -> str:
            try:
                decision = self.service.take_turn(call_id, turn)
            except NotFoundError:
                log.error("speech for unknown call %s: handing the caller to a person", call_id)
                return self.apologise_and_connect(params, call_id)
            return self.render(decision, params)

        return self._once(f"{params.call_sid}:gather:{step}", call_id, answer)

    def render(self, decision: Decision, params: WebhookParams) -> str:
        if decision.action is Action.LISTEN:
            return twiml.listen(decision, self.line)
        if decision.action is Action.END:
            return twiml.end(decision, self.line)
        self._ringing(decision.call_id, 0)
        can_call_back = self._callback_number(params, decision.call_id) is not None
        return twiml.hand_off(decision.say, decision.call_id, self.line, decision.speaking_rate, 0, can_call_back)

    # --- ringing agents ---------------------------------------------------------------------

    def dial_ended(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        status = params.get("DialCallStatus")

        def answer() -> str:
            if status in _CONNECTED_DIAL_STATUSES and self._agent_took_call(call_id):
                duration = params.number("DialCallDuration") or 0.0
                self._connected(call_id, attempt, self.service.clock() - timedelta(seconds=duration))
                return twiml.goodbye(twiml.GOODBYE_AFTER_CALL, self.line)
            self._quietly(records.not_answered, self.service.database, call_id, "declined" if status in _CONNECTED_DIAL_STATUSES else status or "failed")
            return self._try_next(params, call_id, attempt + 1)

        return self._once(f"{params.call_sid}:dial:{attempt}", call_id, answer)

    def _agent_took_call(self, call_id: str) -> bool:
        """With press-to-accept, a completed dial counts only if the agent accepted during the whisper."""
        if not self.line.whisper_accept_digit:
            return True
        try:
            return records.call_facts(self.service.database, call_id).handoff_status == "connected"
        except FrontdoorError:
            return True

    def _try_next(self, params: WebhookParams, call_id: str, attempt: int) -> str:
        self._ringing(call_id, attempt)
        return twiml.next_agent(call_id, self.line, attempt, self._can_call_back(params, call_id))

    def _ringing(self, call_id: str, attempt: int) -> None:
        if attempt < len(self.line.destinations):
            self._quietly(records.ringing, self.service.database, call_id, self.line.destinations[attempt].label)

    def _connected(self, call_id: str, attempt: int, at: datetime, queued_seconds: float | None = None) -> None:
        agent = self.line.destinations[attempt].label if attempt < len(self.line.destinations) else None
        self._quietly(records.connected, self.service.database, call_id, agent, at, queued_seconds)

    def whisper(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        try:
            summary = records.call_facts(self.service.database, call_id).summary
        except FrontdoorError as exc:
            log.error("whisper without a summary for call %s: %s", call_id, exc)
            summary = None
        if not self.line.whisper_accept_digit:
            self._connected(call_id, attempt, self.service.clock())
        text = summary.whisper() if summary is not None else GENERIC_WHISPER
        return twiml.whisper(text, call_id, attempt, self.line)

    def whisper_accept(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        accepted = params.get("Digits") == self.line.whisper_accept_digit
        if accepted:
            self._connected(call_id, attempt, self.service.clock())
        return twiml.whisper_answer(accepted, self.line)

    # --- queues -----------------------------------------------------------------------------

    def queue_wait(self, params: WebhookParams, call_id: str) -> str:
        position = params.number("QueuePosition")
        return twiml.queue_wait(int(position) if position is not None else None, params.number("AvgQueueTime"), call_id, self.line)

    def queue_leave(self, params: WebhookParams, call_id: str) -> str:
        return twiml.queue_leave(params.get("Digits") == "1", self.line)

    def queue_done(self, params: WebhookParams, call_id: str) -> str:
        attempt = self._step("attempt")
        result = params.get("QueueResult")

        def answer() -> str:
            if result == "bridged":
                self._connected(call_id, attempt, self.service.clock(), params.number("QueueTime") or 0.0)
                return twiml.goodbye(twiml.GOODBYE_AFTER_CALL, self.line)
            if result == "hangup":
                return str(VoiceResponse())
            if result == "leave":
                return twiml.record_voicemail(call_id, self.line, "Okay.")
            self._quietly(records.not_answered, self.service.database, call_id, "queue_" + (result or "error"))
            return self._try_next(params, call_id, attempt + 1)

        return self._once(f"{params.call_sid}:queue:{attempt}", call_id, answer)

    # --- when nobody answers ----------------------------------------------------------------

    def fallback_choice(self, params: WebhookParams, call_id: str) -> str:
        digits, speech = params.get("Digits"), params.get("SpeechResult")

        def answer() -> str:
            if digits == "1" or (not digits and _VOICEMAIL_WORDS.search(speech)):
                return twiml.record_voicemail(call_id, self.line, "Okay.")
            return self._book_callback(params, call_id, "Asked for a callback after no agent answered.")

        return self._once(f"{params.call_sid}:fallback", call_id, answer)

    def voicemail(self, params: WebhookParams, call_id: str) -> str:
        recording_sid, recording_url = params.get("RecordingSid"), params.get("RecordingUrl")
        seconds = params.number("RecordingDuration")

        def answer() -> str:
            if recording_sid and recording_url and (seconds or 0) > 0:
                records.save_voicemail(self.service.database, call_id, recording_sid, recording_url, int(seconds or 0), self.service.clock())
                return twiml.goodbye(twiml.VOICEMAIL_SAVED, self.line)
            if self._can_call_back(params, call_id):
                return self._book_callback(params, call_id, "Left an empty voicemail after no agent answered.", twiml.VOICEMAIL_EMPTY)
            return twiml.goodbye(f"{twiml.VOICEMAIL_EMPTY} Please call again, or email the service desk. Goodbye.", self.line)

        return self._once(f"{params.call_sid}:voicemail", call_id, answer)

    def _book_callback(self, params: WebhookParams, call_id: str, note: str, preface: str = "") -> str:
        number = self._callback_number(params, call_id)
        records.request_callback(self.service.database, call_id, number, note, self.service.clock())
        return twiml.goodbye(f"{preface} {twiml.callback_booked(number)}".strip(), self.line)

    def _callback_number(self, params: WebhookParams, call_id: str) -> str | None:
        try:
            stored = records.call_facts(self.service.database, call_id).caller_number
        except FrontdoorError:
            stored = None
        return stored or _number(params.caller if params.direction != "outbound-api" else params.called)

    def _can_call_back(self, params: WebhookParams, call_id: str) -> bool:
        return self._callback_number(params, call_id) is not None

    # --- the end of the call ----------------------------------------------------------------

    def status(self, params: WebhookParams, call_id: str) -> str:
        call_status = params.get("CallStatus")
        if call_status in _FINAL_CALL_STATUSES:
            if not records.finish(self.service.database, call_id, call_status, self.service.clock()):
                log.info("status callback for a call frontdoor does not know: %s", call_id)
        return str(VoiceResponse())

    # --- answers when something failed ------------------------------------------------------

    def safe_handoff(self, call_id: str = "", can_call_back: bool = True) -> str:
        return twiml.hand_off(twiml.APOLOGY, call_id, self.line, 1.0, 0, can_call_back)

    def apologise_and_connect(self, params: WebhookParams, call_id: str) -> str:
        return self.safe_handoff(call_id, _number(params.caller) is not None)

    def after_failed_agent(self, params: WebhookParams, call_id: str) -> str:
        return twiml.next_agent(call_id, self.line, self._step_or_zero("attempt") + 1, _number(params.caller) is not None)

    def generic_whisper(self, params: WebhookParams, call_id: str) -> str:
        return twiml.whisper(GENERIC_WHISPER, call_id, self._step_or_zero("attempt"), self.line)

    def accept_anyway(self, params: WebhookParams, call_id: str) -> str:
        return twiml.whisper_answer(params.get("Digits") == self.line.whisper_accept_digit, self.line)

    def plain_wait(self, params: WebhookParams, call_id: str) -> str:
        return twiml.queue_wait(None, None, call_id, self.line)

    def stay_in_queue(self, params: WebhookParams, call_id: str) -> str:
        return twiml.queue_leave(False, self.line)

    def record_instead(self, params: WebhookParams, call_id: str) -> str:
        return twiml.record_voicemail(call_id, self.line, "I'm sorry, something went wrong on my side.")

    def voicemail_thanks(self, params: WebhookParams, call_id: str) -> str:
        return twiml.goodbye(twiml.VOICEMAIL_RECORDED, self.line)

    def nothing(self, params: WebhookParams, call_id: str) -> str:
        return str(VoiceResponse())

    def _step_or_zero(self, key: str) -> int:
        raw = request.args.get(key, "0")
        return int(raw) if raw.isdigit() and len(raw) <= 4 else 0


def _number(value: str | None) -> str | None:
    """A caller ID worth calling back: not anonymous, not a client or SIP identity."""
    if value is None or value.strip().lower() in _ANONYMOUS:
        return None
    cleaned = value.strip()
    return cleaned if re.fullmatch(r"\+?\d{7,15}", cleaned) else None
