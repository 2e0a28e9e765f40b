"""Conference transfers, whole calls: the caller holds while frontdoor rings agents over the REST stand-in.

The REST stand-in (``TwilioApiServer``) plays every call the app places, on the caller's timeline:
the agent rings, answers after ``ring_seconds`` (or declines, is busy, never answers), hears the
whisper and joins the caller's conference, with every webhook and status callback signed as Twilio
signs them. Times below are the simulator's virtual seconds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from frontdoor.conversation import replies
from frontdoor.storage.schema import AgentLeg, CallbackRequest, CallRecord, HandoffRecord, TurnRecord, Voicemail, WebhookReply
from phone_line import AGENT_1, AGENT_2, PUBLIC, Phone
from twilio_sim import KEY_SECONDS, Agent, QueueBehaviour, SimulatedCall, speech_seconds

FROM_NUMBER = "+15550001000"
RING_TIMEOUT = 15.0


def legs(line: Phone, call: SimulatedCall) -> list[AgentLeg]:
    return line.rows(AgentLeg, AgentLeg.call_id == call.sid, order_by=AgentLeg.attempt)


def request_ended(call: SimulatedCall) -> float:
    """When the caller finished saying what they wanted."""
    return call.spoke[-1][1]


def moved(line: Phone, call: SimulatedCall) -> list[ET.Element]:
    """The TwiML the app gave the caller's call over the REST API (taking it out of the conference)."""
    return [ET.fromstring(form["Twiml"]) for sid, form in line.api.call_updates() if sid == call.sid]


# --- the first agent answers ---------------------------------------------------------------------


def test_the_first_agent_is_rung_at_the_decision_and_joins_the_holding_caller_after_the_whisper(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent(ring_seconds=6)})
    call = line.call()
    call.say("agent")

    (placed,) = line.api.calls()
    query = f"call={call.sid}&attempt=0"
    assert (placed["To"], placed["From"], placed["Timeout"]) == (AGENT_1, FROM_NUMBER, str(int(RING_TIMEOUT)))
    assert placed["Url"] == f"{PUBLIC}/twilio/agent?{query}" and placed["StatusCallback"] == f"{PUBLIC}/twilio/agent/status?{query}"
    created = next(request for request in line.api.requests if request.path.endswith("/Calls.json"))
    assert created.values["StatusCallbackEvent"] == ["answered", "completed"]

    (leg,) = call.legs
    handoff_said = next(heard for heard in call.audio if "connecting you to a person" in heard.text)
    assert leg.placed_at == request_ended(call) <= handoff_said.start, "the agent rings while the caller hears the handoff sentence"
    assert replies.HOLD in call.heard and call.bridged_to == AGENT_1
    whisper = call.agent_heard[0]
    assert "Asked for a person" in whisper and "Dana Whitfield" in whisper
    assert call.bridged_at == pytest.approx(leg.placed_at + 6 + speech_seconds(whisper))
    assert call.longest_silence(request_ended(call), call.bridged_at) <= 2.0
    assert line.api.call_updates() == [], "nothing had to move the caller"

    (row,) = legs(line, call)
    assert (row.attempt, row.agent, row.call_sid, row.outcome, row.status) == (0, AGENT_1, leg.sid, "accepted", "completed")
    assert row.conference == f"frontdoor-{call.sid}" and row.joined_at is not None
    handoff = line.row(HandoffRecord, call)
    assert (handoff.status, handoff.agent, handoff.attempts) == ("connected", AGENT_1, 1)
    record = line.row(CallRecord, call)
    assert record.outcome == "transferred" and record.seconds_to_person is not None
    assert call.ended and call.heard[-1] == replies.GOODBYE_AFTER_CALL


# --- the next agent, at once ---------------------------------------------------------------------


@pytest.mark.parametrize("declines", ["presses another key", "hangs up during the whisper"])
def test_an_agent_who_declines_is_followed_at_once_and_the_caller_is_told(phone, phone_settings, declines: str) -> None:  # type: ignore[no-untyped-def]
    if declines == "presses another key":
        settings = phone_settings(FRONTDOOR_HANDOFF_WHISPER_ACCEPT_DIGIT="1")
        agents = {AGENT_1: Agent(presses="2"), AGENT_2: Agent(presses="1")}
    else:
        settings = phone_settings()
        agents = {AGENT_1: Agent(hangs_up_in_whisper=True), AGENT_2: Agent()}
    line = phone(agents, settings=settings)
    call = line.call()
    call.say("can I speak to a human")

    first, second = call.legs
    assert line.agents_rung(call) == [AGENT_1, AGENT_2] and call.bridged_to == AGENT_2
    assert second.placed_at == pytest.approx(first.ended_at), "the next agent rings the moment the first declines"
    (told,) = moved(line, call)
    assert told.findtext("Say") == replies.NEXT_AGENT
    conference = told.find("Dial/Conference")
    assert conference is not None and conference.get("waitUrl") == f"{PUBLIC}/twilio/hold?call={call.sid}&attempt=1"
    assert replies.NEXT_AGENT in call.heard
    assert [(row.attempt, row.outcome) for row in legs(line, call)] == [(0, "declined"), (1, "accepted")]
    handoff = line.row(HandoffRecord, call)
    assert (handoff.status, handoff.agent, handoff.attempts) == ("connected", AGENT_2, 2)


def test_an_agent_who_does_not_answer_is_followed_when_their_phone_stops_ringing(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("no-answer"), AGENT_2: Agent(ring_seconds=6)})
    call = line.call()
    call.say("agent")

    first, second = call.legs
    assert second.placed_at - first.placed_at == pytest.approx(RING_TIMEOUT)
    assert call.bridged_to == AGENT_2
    assert call.bridged_at - request_ended(call) == pytest.approx(RING_TIMEOUT + 6 + speech_seconds(call.agent_heard[0]))
    assert call.longest_silence(request_ended(call), call.bridged_at) <= 2.0
    assert [(row.attempt, row.outcome, row.status) for row in legs(line, call)] == [(0, "no_answer", "no-answer"), (1, "accepted", "completed")]


def test_when_every_agent_fails_the_caller_leaves_a_voicemail_or_asks_for_a_callback(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("busy"), AGENT_2: Agent("failed")})
    call = line.call()
    call.say("let me talk to someone")
    trying, offer = moved(line, call)
    assert trying.findtext("Say") == replies.NEXT_AGENT
    assert offer.find("Gather").get("action") == f"{PUBLIC}/twilio/fallback?call={call.sid}"  # type: ignore[union-attr]
    assert "nobody at the service desk" in call.heard[-1]
    assert [row.outcome for row in legs(line, call)] == ["busy", "failed"]
    call.press("1")
    call.leave_message(seconds=12)
    assert line.row(Voicemail, call).duration_seconds == 12
    assert line.row(CallRecord, call).outcome == "voicemail"

    again = line.call()
    again.say("agent")
    again.say("call me back please")
    assert again.ended and "call you back" in again.heard[-1]
    assert line.row(CallbackRequest, again).phone_number == again.caller
    assert line.row(HandoffRecord, again).status == "callback"


# --- every kind of agent -------------------------------------------------------------------------


def test_sip_and_client_agents_are_rung_whispered_and_joined_the_same_way(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    settings = phone_settings(agents="sip:desk@pbx.example.com,client:alex", FRONTDOOR_HANDOFF_WHISPER_ACCEPT_DIGIT="1")
    line = phone({"sip:desk@pbx.example.com": Agent("no-answer"), "alex": Agent(presses="1")}, settings=settings)
    call = line.call()
    call.say("agent")
    assert line.agents_rung(call) == ["sip:desk@pbx.example.com", "client:alex"]
    assert call.bridged_to == "alex" and "Press 1 to take this call" in call.agent_heard[0]
    assert line.row(HandoffRecord, call).agent == "client:alex"


def test_a_queue_after_an_agent_keeps_enqueue_and_the_honest_place_in_line(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    settings = phone_settings(agents=f"{AGENT_1},queue:support")
    line = phone({AGENT_1: Agent("no-answer")}, settings=settings, queues={"support": QueueBehaviour(position=2, average_seconds=60)})
    call = line.call()
    call.say("agent")
    (queued,) = moved(line, call)
    enqueue = queued.find("Enqueue")
    assert enqueue is not None and enqueue.text == "support" and enqueue.get("waitUrl", "").startswith(PUBLIC)
    assert any("You're number 2 in line" in said for said in call.heard)
    assert call.bridged_to == "queue:support"
    assert line.row(HandoffRecord, call).status == "connected"


# --- the caller leaves --------------------------------------------------------------------------


@pytest.mark.parametrize("agent_answered", [False, True])
def test_a_caller_who_hangs_up_while_holding_ends_the_agents_call(phone, agent_answered: bool) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent(ring_seconds=6)})
    call = line.call()
    call.hang_up_in(call.waiting.ready_at + speech_seconds("agent") + (9.0 if agent_answered else 3.0))  # type: ignore[union-attr]
    call.say("agent")
    (leg,) = call.legs
    ((sid, asked),) = line.api.call_updates()
    assert sid == leg.sid and call.bridged_to is None
    if agent_answered:
        assert replies.CALLER_LEFT in asked["Twiml"] and call.agent_heard[-1] == replies.CALLER_LEFT, "the agent is told, not cut off"
        assert leg.status == "completed"
    else:
        assert asked == {"Status": "canceled"} and leg.status == "canceled"
    (row,) = legs(line, call)
    assert row.outcome == "caller_left"
    assert line.row(HandoffRecord, call).status == "abandoned"
    assert line.row(CallRecord, call).outcome == "abandoned"


# --- failures, retries and callbacks out of order ------------------------------------------------


def test_when_twilio_cannot_ring_the_agent_the_caller_is_dialled_with_dial_instead(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent()})
    call = line.call()
    line.api.fail_next(1, status=503)
    call.say("agent")
    gather = next(request for request in line.twilio.requests if "/twilio/gather" in request.url)
    assert ET.fromstring(gather.reply.body).find("Dial/Number") is not None
    assert call.bridged_to == AGENT_1 and call.dial_statuses == ["completed"]
    assert line.twilio.replay(gather).body == gather.reply.body, "a retry gets the reply the caller got"
    assert [row.outcome for row in legs(line, call)] == ["unreachable"]


def test_an_agent_twilio_refuses_to_ring_while_the_caller_holds_counts_as_not_answering(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("no-answer"), AGENT_2: Agent()})
    line.api.refuse(AGENT_2)
    call = line.call()
    call.say("agent")
    assert [row.outcome for row in legs(line, call)] == ["no_answer", "unreachable"]
    assert "nobody at the service desk" in call.heard[-1] and call.waiting is not None


def test_retried_webhooks_get_byte_identical_replies_and_ring_nobody_twice(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent("no-answer"), AGENT_2: Agent()})
    call = line.call()
    call.say("agent")
    assert call.bridged_to == AGENT_2
    before = (len(line.api.calls()), len(line.api.call_updates()), line.count(WebhookReply), line.count(TurnRecord))
    handoff_before = line.row(HandoffRecord, call)
    sent = [request for request in line.twilio.requests if call.sid in request.url or request.params.get("CallSid") == call.sid]
    assert {"agent", "agent/status", "conference/status", "hold", "conference/done"} <= {r.url.split("/twilio/")[1].split("?")[0] for r in sent}
    for request in sent:
        assert line.twilio.replay(request).body == request.reply.body, request.url
    assert (len(line.api.calls()), len(line.api.call_updates()), line.count(WebhookReply), line.count(TurnRecord)) == before
    assert len(legs(line, call)) == 2
    handoff = line.row(HandoffRecord, call)
    assert (handoff.status, handoff.agent, handoff.attempts, handoff.connected_at) == ("connected", AGENT_2, 2, handoff_before.connected_at)


def test_status_callbacks_that_arrive_late_or_out_of_order_change_nothing(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent(hangs_up_in_whisper=True, late=("in-progress",)), AGENT_2: Agent()})
    call = line.call()
    call.say("agent")
    first, _ = call.legs
    statuses = [r.params["CallStatus"] for r in line.twilio.requests if "/agent/status" in r.url and r.params["CallSid"] == first.sid]
    assert statuses == ["completed", "in-progress"], "the end came before the answer"
    assert [(row.status, row.outcome) for row in legs(line, call)] == [("completed", "declined"), ("completed", "accepted")]
    assert len(line.api.calls()) == 2 and call.bridged_to == AGENT_2

    status_url = f"{PUBLIC}/twilio/agent/status?call={call.sid}&attempt=0"
    stray = {**first.params(CallStatus="canceled"), "CallbackSource": "call-progress-events", "SequenceNumber": "9"}
    assert line.twilio.post(status_url, stray).status == 200
    assert len(line.api.calls()) == 2 and legs(line, call)[0].outcome == "declined"
    assert line.row(HandoffRecord, call).agent == AGENT_2

    second = legs(line, call)[1]
    joined = second.joined_at
    conference_url = f"{PUBLIC}/twilio/conference/status?call={call.sid}"
    for event in ("participant-join", "participant-leave", "participant-join"):
        params = {"AccountSid": first.params()["AccountSid"], "ConferenceSid": "CF" + "0" * 32, "StatusCallbackEvent": event,
                  "CallSid": second.call_sid, "SequenceNumber": "7"}
        assert line.twilio.post(conference_url, params).status == 200
    assert legs(line, call)[1].joined_at == joined, "a repeated join keeps the first"


def test_conference_events_without_a_call_are_accepted_and_forged_ones_refused(phone) -> None:  # type: ignore[no-untyped-def]
    line = phone()
    url = f"{PUBLIC}/twilio/conference/status?call=CA{'1' * 32}"
    params = {"AccountSid": "AC" + "0" * 32, "ConferenceSid": "CF" + "0" * 32, "StatusCallbackEvent": "conference-end", "SequenceNumber": "3"}
    assert line.twilio.post(url, params).status == 200
    assert line.twilio.post(url, params, signature=None).status == 403
    assert line.twilio.post(url, {**params, "CallSid": "not-a-sid"}).status == 400


def test_the_keypress_that_declines_is_read_after_the_whole_prompt(phone, phone_settings) -> None:  # type: ignore[no-untyped-def]
    line = phone({AGENT_1: Agent(presses="1")}, settings=phone_settings(FRONTDOOR_HANDOFF_WHISPER_ACCEPT_DIGIT="1"))
    call = line.call()
    call.say("agent")
    (leg,) = call.legs
    prompt = speech_seconds(call.agent_heard[0])
    assert call.bridged_at == pytest.approx(leg.answered_at + prompt + KEY_SECONDS + speech_seconds(replies.WHISPER_CONNECTING))
