"""Whole phone calls through the real Flask app, driven by the Twilio simulator with signed requests.

Transfers run in both modes where the caller's experience should be the same: ``conference`` (the
default: frontdoor rings agents over the REST stand-in while the caller holds) and ``dial``.
The conference flow's own cases are in ``test_telephony_conference.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from frontdoor.outbox import send_pending_messages
from frontdoor.storage.schema import (
    CallbackRequest,
    CallRecord,
    HandoffRecord,
    SubscriptionRecord,
    SurveyAnswer,
    TurnRecord,
    Voicemail,
    WebhookReply,
)
from phone_line import AGENT_1, AGENT_2, DANA, PUBLIC, replies_with
from twilio_sim import ACCOUNT_SID, Agent, FlaskTransport, QueueBehaviour, SimulatedCall, TwilioApiServer, TwilioSimulator, verbs


def last_tags(call: SimulatedCall) -> list[str]:
    return [element.tag for element in call.replies[-1].xml().iter()]


# --- asking for a person ------------------------------------------------------------------------


def test_asking_for_a_person_by_voice_rings_an_agent_who_hears_the_summary_first(phone, mode: str) -> None:  # type: ignore[no-untyped-def]
    line = phone(mode=mode)
    call = line.call()
    assert call.heard[0].startswith("Hi Dana") and "Email delivery delayed" in call.heard[0]
    call.say("I want to talk to a person")
    assert "connecting you to a person" in call.heard[1] and call.heard[-1].startswith("Thanks for calling")
    assert call.bridged_to == AGENT_1 and line.agents_rung(call) == [AGENT_1]
    whisper = call.agent_heard[0]
    assert "Asked for a person" in whisper and "Dana Whitfield" in whisper and "Finance" in whisper
    assert call.ended
    handoff = line.row(HandoffRecord, call)
    assert (handoff.status, handoff.agent, handoff.attempts, handoff.reason) == ("connected", AGENT_1, 1, "human_request")
    record = line.row(CallRecord, call)
    assert record.outcome == "transferred" and record.ended_at is not None
    assert record.automation_seconds is not None and record.seconds_to_person is not None


def test_pressing_zero_is_a_request_for_a_person_at_once(phone, mode: str) -> None:  # type: ignore[no-untyped-def]
    line = phone(mode=mode)
    call = line.call()
    call.press("0")
    assert line.agents_rung(call) == [AGENT_1] and call.bridged_to == AGENT_1
    assert line.row(HandoffRecord, call).reason == "human_request"


def test_a_frustrated_caller_goes_to_a_person(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    call.say("this is so frustrating, I have been trying for an hour and nothing works, I'm fed up")
    assert line.agents_rung(call) == [AGENT_1] and call.bridged_to == AGENT_1
    assert line.row(HandoffRecord, call).reason == "frustration"


def test_an_urgent_caller_goes_to_a_person_and_the_agent_hears_why(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    call.say("it's an emergency, the whole finance team is locked out and payroll has to run today")
    assert call.bridged_to == AGENT_1
    assert line.row(HandoffRecord, call).reason == "urgency"
    assert call.agent_heard and "Urgent" in call.agent_heard[0]


# --- answered without a person ------------------------------------------------------------------


def test_a_calm_incident_question_is_answered_subscribed_surveyed_and_texted_when_fixed(phone, twilio_api: TwilioApiServer) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    call.say("my email is really slow today, is something going on")
    assert "2:30 PM" in call.heard[-1] and "text message" in call.heard[-1]
    call.say("yes please")
    assert "0001" in call.heard[-1]
    call.say("no that's all thanks")
    gather = call.replies[-1].xml().find("Gather")
    assert gather is not None and gather.get("numDigits") == "1" and "one to five" in call.heard[-1]
    call.press("4")
    assert call.ended and "Thank you" in call.heard[-1]
    assert replies_with(call, "Dial") == [] and replies_with(call, "Enqueue") == []
    assert line.row(SurveyAnswer, call).score == 4
    assert line.row(SubscriptionRecord, call).phone_number == DANA
    assert line.row(CallRecord, call).outcome == "helped"

    board = line.service.board
    assert board.resolve("INC-1042") == 1
    assert send_pending_messages(line.service.settings, line.service.database) == 1
    (text,) = twilio_api.messages()
    assert text["To"] == DANA and "INC-1042" in text["Body"]
    assert send_pending_messages(line.service.settings, line.service.database) == 0


def test_a_caller_who_stays_silent_is_prompted_once_then_connected(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    call.silence()
    assert "I'm still here" in call.heard[-1] and not line.agents_rung(call)
    call.silence()
    assert line.agents_rung(call) == [AGENT_1] and call.bridged_to == AGENT_1
    assert line.row(HandoffRecord, call).reason == "no_progress"


def test_caller_words_never_become_twiml(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    call.say('<Hangup/> <Dial>+19005550100</Dial> <Redirect>https://evil.example</Redirect>')
    assert not call.ended
    body = call.replies[-1].body
    assert "+19005550100" not in "".join(n.text or "" for n in call.replies[-1].xml().iter("Number"))
    assert set(last_tags(call)) <= {"Response", "Gather", "Say", "prosody", "Dial", "Number"}
    assert "<Hangup" not in body and "<Redirect" not in body


# --- when agents do not answer ------------------------------------------------------------------


def test_an_agent_who_does_not_answer_is_followed_by_the_next(phone, mode: str) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("no-answer"), AGENT_2: Agent()}, mode=mode)
    call = line.call()
    call.say("agent please")
    assert line.agents_rung(call) == [AGENT_1, AGENT_2] and call.bridged_to == AGENT_2
    assert any("trying someone else" in said for said in call.heard)
    handoff = line.row(HandoffRecord, call)
    assert (handoff.status, handoff.agent, handoff.attempts) == ("connected", AGENT_2, 2)


def test_when_no_agent_answers_the_caller_can_leave_a_voicemail(phone, mode: str) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("busy"), AGENT_2: Agent("no-answer")}, mode=mode)
    call = line.call()
    call.say("let me talk to someone")
    assert line.agents_rung(call) == [AGENT_1, AGENT_2] and "nobody at the service desk" in call.heard[-1]
    call.press("1")
    assert call.waiting is not None and call.waiting.kind == "record"
    sid = call.leave_message(seconds=21)
    assert call.ended and "Your message is with the service desk" in call.heard[-1]
    voicemail = line.row(Voicemail, call)
    assert (voicemail.recording_sid, voicemail.duration_seconds) == (sid, 21)
    assert line.row(HandoffRecord, call).status == "voicemail"
    assert line.row(CallRecord, call).outcome == "voicemail"


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "https://evil.example.com/2010-04-01/Accounts/AC1/Recordings/RE1", "data:text/html,hi"])
def test_a_voicemail_url_that_is_not_twilios_is_never_stored(phone, url: str) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("busy")})
    call = line.call()
    call.say("let me talk to someone")
    call.press("1")
    call.leave_message(seconds=21, url=url)
    assert call.ended and "couldn't keep that message" in call.heard[-1] and "call you back" in call.heard[-1]
    assert line.count(Voicemail) == 0
    assert line.row(CallbackRequest, call).phone_number == DANA


def test_when_no_agent_answers_the_caller_can_ask_for_a_callback(phone, mode: str) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("failed"), AGENT_2: Agent("no-answer")}, mode=mode)

    call = line.call()
    call.press("0")
    call.say("please call me back")
    assert call.ended and "call you back at the number ending in 0001" in call.heard[-1]
    callback = line.row(CallbackRequest, call)
    assert callback.phone_number == DANA and callback.done_at is None
    assert line.row(CallRecord, call).outcome == "callback"


def test_an_agent_who_does_not_accept_after_the_whisper_is_passed_over(phone, phone_settings, mode: str) -> None:  # type: ignore[no-untyped-def]
    settings = phone_settings(FRONTDOOR_HANDOFF_WHISPER_ACCEPT_DIGIT="1", FRONTDOOR_TWILIO_TRANSFER_MODE=mode)
    line = phone({AGENT_1: Agent(), AGENT_2: Agent(presses="1")}, settings=settings)
    call = line.call()
    call.say("can I speak to a human")
    assert call.bridged_to == AGENT_2
    assert "Press 1 to take this call" in call.agent_heard[0] and len(call.agent_heard) >= 2
    handoff = line.row(HandoffRecord, call)
    assert (handoff.status, handoff.agent) == ("connected", AGENT_2)


def test_a_queue_tells_the_caller_their_place_and_records_the_time_to_a_person(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    settings = phone_settings(agents="queue:support")
    line = phone(queues={"support": QueueBehaviour(position=3, average_seconds=240, seconds_in_queue=50)}, settings=settings)
    call = line.call()
    call.say("agent")
    enqueue = replies_with(call, "Enqueue")
    assert len(enqueue) == 1 and enqueue[0].text == "support"
    assert any("You're number 3 in line" in said and "about 4 minutes" in said for said in call.heard)
    assert call.bridged_to == "queue:support"
    handoff = line.row(HandoffRecord, call)
    assert handoff.status == "connected" and handoff.agent == "queue:support"
    record = line.row(CallRecord, call)
    assert record.seconds_to_person == pytest.approx(record.automation_seconds + 50, abs=2)


def test_a_queued_caller_can_leave_a_message_instead(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    line = phone(queues={"support": QueueBehaviour(caller_presses="1")}, settings=phone_settings(agents="queue:support"))
    call = line.call()
    call.say("agent")
    assert call.waiting is not None and call.waiting.kind == "record"
    call.leave_message(seconds=9)
    assert line.row(Voicemail, call).duration_seconds == 9


# --- security -----------------------------------------------------------------------------------


def test_unsigned_and_forged_requests_are_refused_without_twiml(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    params = {"CallSid": "CA" + "1" * 32, "AccountSid": ACCOUNT_SID, "From": DANA, "To": "+15550001000"}
    voice = PUBLIC + "/twilio/voice"
    forged = TwilioSimulator(line.twilio.transport, "not-the-token", PUBLIC)
    for reply in [
        line.twilio.post(voice, params, signature=None),
        line.twilio.post(voice, params, signature="bm90IGEgc2lnbmF0dXJl"),
        forged.post(voice, params),
        line.twilio.post(voice, params, signature=line.twilio.sign(PUBLIC + "/twilio/status", params)),
    ]:
        assert reply.status == 403 and "<Response" not in reply.body
    assert line.count(CallRecord) == 0


def test_a_signed_request_with_a_malformed_parameter_is_refused_cleanly(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    url = PUBLIC + f"/twilio/gather?call={call.sid}&turn=0"
    reply = line.twilio.post(url, call.params(SpeechResult="x" * 6000))
    assert reply.status == 400 and "<Response" not in reply.body
    assert line.twilio.post(url, call.params(Digits="12abc")).status == 400


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_host_are_what_twilio_signed(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    settings = phone_settings(public_url="", FRONTDOOR_WEB_TRUSTED_PROXY_COUNT="1", FRONTDOOR_TWILIO_PUBLIC_HOSTS="phones.example.org")
    public = "https://phones.example.org"
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "phones.example.org"}
    line = phone(settings=settings, public_url=public)
    line.twilio.transport = FlaskTransport(line.app.test_client(), base_url="http://10.0.0.5:8080", extra_headers=forwarded)
    call = line.call()
    call.say("agent")
    assert call.bridged_to == AGENT_1
    line.twilio.transport = FlaskTransport(line.app.test_client(), base_url="http://10.0.0.5:8080")
    assert line.twilio.post(public + "/twilio/voice", {"CallSid": "CA" + "2" * 32, "From": DANA}).status == 403
    untrusted = phone(settings=phone_settings(public_url="", FRONTDOOR_TWILIO_PUBLIC_HOSTS="phones.example.org"), public_url=public)
    untrusted.twilio.transport = FlaskTransport(untrusted.app.test_client(), base_url="http://10.0.0.5:8080", extra_headers=forwarded)
    assert untrusted.twilio.post(public + "/twilio/voice", {"CallSid": "CA" + "4" * 32, "From": DANA}).status == 403


def test_a_request_signed_for_another_host_is_refused_whatever_host_it_claims(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, item 3: without FRONTDOOR_PUBLIC_URL, a request signed for another host validated when it said
    ``X-Forwarded-Host: that-host``."""
    other = "https://other.example.net"
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "other.example.net"}
    for settings, base_url in (
        (phone_settings(public_url=""), "http://10.0.0.5:8080"),
        (phone_settings(public_url=""), other),
        (phone_settings(public_url="", FRONTDOOR_WEB_TRUSTED_PROXY_COUNT="1", FRONTDOOR_TWILIO_PUBLIC_HOSTS="phones.example.org"), "http://10.0.0.5:8080"),
        (phone_settings(), "http://10.0.0.5:8080"),
    ):
        line = phone(settings=settings, public_url=other)
        line.twilio.transport = FlaskTransport(line.app.test_client(), base_url=base_url, extra_headers=forged)
        reply = line.twilio.post(other + "/twilio/voice", {"CallSid": "CA" + "5" * 32, "From": DANA})
        assert reply.status == 403 and "<Response" not in reply.body, (settings.twilio, base_url)
        assert line.count(CallRecord) == 0


def test_turning_signature_checks_off_is_possible_only_explicitly_and_is_loud(phone, phone_settings, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING):
        line = phone(settings=phone_settings(FRONTDOOR_TWILIO_VALIDATE_SIGNATURES="false"))
    assert any("validate_signatures is OFF" in record.getMessage() for record in caplog.records)
    reply = line.twilio.post(PUBLIC + "/twilio/voice", {"CallSid": "CA" + "3" * 32, "From": DANA}, signature=None)
    assert reply.status == 200 and verbs(reply.xml()) == ["Gather"]


# --- robustness ---------------------------------------------------------------------------------


def test_an_exception_inside_the_engine_apologises_and_hands_off(phone, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(line.service.engine, "respond", broken)
    call.say("my laptop will not start")
    assert any("something went wrong on my side" in said for said in call.heard)
    assert call.bridged_to == AGENT_1 and call.agent_heard
    assert line.row(HandoffRecord, call).reason == "failure"


def test_an_exception_while_building_twiml_still_connects_the_caller(phone, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from frontdoor.telephony import twiml

    line = phone()
    call = line.call()

    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("bad TwiML")

    monkeypatch.setattr(twiml, "listen", broken)
    call.say("is the vpn down")
    assert any("something went wrong on my side" in said for said in call.heard)
    assert call.bridged_to == AGENT_1


def test_retried_webhooks_get_the_same_answer_and_change_nothing(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    call.say("is the vpn down")
    first_voice = next(r for r in line.twilio.requests if r.url.endswith("/twilio/voice"))
    gather = next(r for r in line.twilio.requests if "/twilio/gather" in r.url)
    turns_before = line.count(TurnRecord, TurnRecord.call_id == call.sid)
    assert line.twilio.replay(gather).body == gather.reply.body
    assert line.twilio.replay(first_voice).body == first_voice.reply.body
    assert line.count(TurnRecord, TurnRecord.call_id == call.sid) == turns_before
    assert line.count(CallRecord) == 1
    assert line.count(WebhookReply, WebhookReply.key.like(f"{call.sid}:%")) == 2


def test_with_the_database_down_the_caller_still_reaches_a_person(phone, cut_off_database) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    call = line.call()
    cut_off_database(line.service)
    call.say("my printer is jammed")
    assert any("something went wrong on my side" in said for said in call.heard)
    assert call.bridged_to == AGENT_1 and "transferred to you" in call.agent_heard[0]

    fresh = line.twilio.call("+15559990000")
    assert "something went wrong on my side" in fresh.heard[0] and fresh.bridged_to == AGENT_1


def test_the_status_callback_records_a_caller_who_hung_up_after_no_agent_answered(phone, mode: str) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("no-answer")}, mode=mode)
    call = line.call()
    call.say("agent")
    assert "nobody at the service desk" in call.heard[-1]
    call.hang_up()
    record = line.row(CallRecord, call)
    assert record.outcome == "abandoned" and record.seconds_to_person is None
    assert line.row(HandoffRecord, call).status == "abandoned"
    assert record.ended_at - record.started_at < timedelta(minutes=5)


def test_a_retry_that_arrives_while_the_first_request_is_still_answered_gets_the_same_reply(phone) -> None:  # type: ignore[no-untyped-def]
    import threading

    line = phone()
    call = line.call()
    url = PUBLIC + f"/twilio/gather?call={call.sid}&turn=0"
    params = call.params(SpeechResult="is the vpn down", Confidence="0.9")
    signature = line.twilio.sign(url, params)
    bodies: list[str] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        transport = FlaskTransport(line.app.test_client())
        barrier.wait()
        bodies.append(transport.post(url, params, {"X-Twilio-Signature": signature}).body)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(bodies) == 2 and bodies[0] == bodies[1] and "VPN" in bodies[0].upper()
    assert line.count(TurnRecord, TurnRecord.call_id == call.sid, TurnRecord.speaker == "caller") == 1
