"""The phone line's pure parts: agent destinations, TwiML building, signature and parameter checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from twilio.request_validator import RequestValidator

from frontdoor.conversation import replies
from frontdoor.conversation.model import Action, Decision, Expecting
from frontdoor.errors import ConfigError
from frontdoor.telephony import twiml
from frontdoor.telephony.destinations import Destination, parse_destination, parse_destinations
from frontdoor.telephony.security import RejectedRequest, check_signature, read_params, requested_url
from frontdoor.schemas import twilio_recording_sid
from frontdoor.settings import TwilioSettings, load_settings

CALL_SID = "CA" + "ab" * 16


HOLD_MUSIC = "https://music.example.com/hold.mp3"


def line(*agents: str, accept: str = "", speech_model: str = "phone_call", mode: str = "dial") -> twiml.Line:
    return twiml.Line("en-US", speech_model, 20, accept, parse_destinations(agents), transfer_mode=mode, hold_music_url=HOLD_MUSIC)


def decision(say: str = "What can I help you with?", **fields: object) -> Decision:
    values: dict[str, object] = {"call_id": CALL_SID, "turn": 0, "action": Action.LISTEN, "say": say}
    values.update(fields)
    return Decision(**values)  # type: ignore[arg-type]


def parse(body: str) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+15551234567", Destination("number", "+15551234567")),
        ("sip:desk@pbx.example.com", Destination("sip", "sip:desk@pbx.example.com")),
        ("client:alex", Destination("client", "alex")),
        ("queue:support", Destination("queue", "support")),
        (" queue: after hours ", Destination("queue", "after hours")),
    ],
)
def test_agent_destinations_are_read_from_their_setting_form(text: str, expected: Destination) -> None:
    assert parse_destination(text) == expected


@pytest.mark.parametrize("text", ["5551234567", "+1555", "sip:nobody", "client:", "client:bad name", "queue:", "tel:+15551234567"])
def test_unusable_agent_destinations_are_a_config_error_naming_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match="handoff.agents"):
        parse_destination(text)


def test_listening_gathers_speech_and_keys_and_sends_silence_to_the_app() -> None:
    root = parse(twiml.listen(decision(turn=2, hints=("email", "outlook")), line()))
    gather = root.find("Gather")
    assert gather is not None and [child.tag for child in root] == ["Gather"]
    assert gather.get("input") == "speech dtmf"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("action") == f"/twilio/gather?call={CALL_SID}&turn=3"
    assert gather.get("numDigits") == "1"
    assert gather.get("speechModel") == "phone_call" and gather.get("language") == "en-US"
    assert gather.get("bargeIn") == "true", "speaking over the prompt interrupts it"
    assert gather.get("hints", "").split(", ")[-2:] == ["email", "outlook"]
    assert gather.findtext("Say") == "What can I help you with?"


def test_speech_timeout_is_automatic_without_a_speech_model_and_whole_seconds_with_one() -> None:
    assert parse(twiml.listen(decision(), line(speech_model=""))).find("Gather").get("speechTimeout") == "auto"  # type: ignore[union-attr]
    with_model = parse(twiml.listen(decision(), line(speech_model="phone_call"))).find("Gather")
    assert with_model is not None and with_model.get("speechTimeout", "").isdigit()


def test_survey_listens_for_one_key_or_a_spoken_number() -> None:
    gather = parse(twiml.listen(decision("On a scale from one to five?", expecting=Expecting.SURVEY), line())).find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert {"one", "five"} <= set(gather.get("hints", "").split(", "))


def test_a_distressed_caller_is_spoken_to_more_slowly_with_ssml_prosody() -> None:
    gather = parse(twiml.listen(decision("I'm here.", speaking_rate=0.85), line())).find("Gather")
    prosody = gather.find("Say/prosody")  # type: ignore[union-attr]
    assert prosody is not None and prosody.get("rate") == "85%" and prosody.text == "I'm here."


def test_caller_words_and_hints_never_become_markup() -> None:
    body = twiml.listen(decision('You said "<Hangup/>" & <Dial>+1900</Dial>', hints=("<Redirect>x</Redirect>",)), line())
    root = parse(body)
    assert [element.tag for element in root.iter()] == ["Response", "Gather", "Say"]
    assert root.find("Gather/Say").text == 'You said "<Hangup/>" & <Dial>+1900</Dial>'  # type: ignore[union-attr]


def test_ending_says_goodbye_then_hangs_up() -> None:
    root = parse(twiml.end(decision("Thanks for calling. Goodbye!", action=Action.END), line()))
    assert [child.tag for child in root] == ["Say", "Hangup"]


def test_a_handoff_to_a_number_dials_it_with_the_whisper_on_the_noun() -> None:
    root = parse(twiml.hand_off("Connecting you now.", CALL_SID, line("+15550002001"), 1.0, 0))
    assert [child.tag for child in root] == ["Say", "Dial"]
    dial = root.find("Dial")
    assert dial is not None and dial.get("action") == f"/twilio/dial?call={CALL_SID}&attempt=0"
    assert dial.get("answerOnBridge") == "true" and dial.get("timeout") == "20"
    number = dial.find("Number")
    assert number is not None and number.text == "+15550002001"
    assert number.get("url") == f"/twilio/whisper?call={CALL_SID}&attempt=0"


@pytest.mark.parametrize(("agent", "noun", "text"), [("sip:desk@pbx.example.com", "Sip", "sip:desk@pbx.example.com"), ("client:alex", "Client", "alex")])
def test_sip_and_client_agents_get_their_own_nouns_with_the_whisper(agent: str, noun: str, text: str) -> None:
    dial = parse(twiml.hand_off("Connecting you now.", CALL_SID, line(agent), 1.0, 0)).find("Dial")
    element = dial.find(noun)  # type: ignore[union-attr]
    assert element is not None and (element.text or "").strip() == text and "whisper" in element.get("url", "")


def test_a_queue_destination_enqueues_with_a_wait_url_and_an_action() -> None:
    root = parse(twiml.hand_off("Connecting you now.", CALL_SID, line("queue:support"), 1.0, 0))
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "support"
    assert enqueue.get("waitUrl") == f"/twilio/queue/wait?call={CALL_SID}"
    assert enqueue.get("action") == f"/twilio/queue/done?call={CALL_SID}&attempt=0"


def test_the_next_agent_is_announced_and_rung() -> None:
    root = parse(twiml.next_agent(CALL_SID, line("+15550002001", "+15550002002"), 1, True))
    assert [child.tag for child in root] == ["Say", "Dial"]
    assert "trying someone else" in (root.findtext("Say") or "")
    assert root.findtext("Dial/Number") == "+15550002002"


def test_when_every_agent_failed_the_caller_is_offered_a_message_or_a_callback() -> None:
    root = parse(twiml.next_agent(CALL_SID, line("+15550002001"), 1, True))
    gather = root.find("Gather")
    assert gather is not None and gather.get("action") == f"/twilio/fallback?call={CALL_SID}"
    said = gather.findtext("Say") or ""
    assert "nobody" in said and "press 1" in said and "press 2" in said


def test_without_a_number_to_call_back_the_caller_goes_straight_to_voicemail() -> None:
    root = parse(twiml.next_agent(CALL_SID, line(), 0, False))
    assert [child.tag for child in root] == ["Say", "Record"]
    record = root.find("Record")
    assert record is not None and record.get("action") == f"/twilio/voicemail?call={CALL_SID}"
    assert record.get("finishOnKey") == "#" and record.get("playBeep") == "true"


def test_the_whisper_bridges_when_it_ends_or_asks_the_agent_to_accept() -> None:
    plain = parse(twiml.whisper("Asked for a person: Dana Whitfield.", CALL_SID, 0, line("+15550002001")))
    assert [child.tag for child in plain] == ["Say"]
    accepting = parse(twiml.whisper("Asked for a person.", CALL_SID, 0, line("+15550002001", accept="1")))
    assert [child.tag for child in accepting] == ["Gather", "Say", "Hangup"]
    gather = accepting.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1" and "Press 1" in (gather.findtext("Say") or "")
    assert [child.tag for child in parse(twiml.whisper_answer(False, line()))] == ["Hangup"]
    assert "Hangup" not in [child.tag for child in parse(twiml.whisper_answer(True, line()))]


def test_a_conference_handoff_holds_the_caller_in_the_calls_own_conference() -> None:
    root = parse(twiml.hand_off("Connecting you now.", CALL_SID, line("+15550002001", mode="conference"), 1.0, 0))
    assert [child.tag for child in root] == ["Say", "Dial"]
    dial = root.find("Dial")
    assert dial is not None and dial.get("action") == f"/twilio/conference/done?call={CALL_SID}"
    conference = dial.find("Conference")
    assert conference is not None and conference.text == f"frontdoor-{CALL_SID}" and "+1555" not in conference.text
    assert (conference.get("startConferenceOnEnter"), conference.get("endConferenceOnExit"), conference.get("beep")) == ("false", "true", "false")
    assert conference.get("waitUrl") == f"/twilio/hold?call={CALL_SID}&attempt=0" and conference.get("waitMethod") == "POST"
    assert conference.get("statusCallback") == f"/twilio/conference/status?call={CALL_SID}"
    assert conference.get("statusCallbackEvent") == "join"


def test_a_queue_stays_an_enqueue_in_a_conference_transfer() -> None:
    root = parse(twiml.hand_off("Connecting you now.", CALL_SID, line("queue:support", mode="conference"), 1.0, 0))
    assert [child.tag for child in root] == ["Say", "Enqueue"]


@pytest.mark.parametrize(
    ("attempt", "loop", "said"),
    [(0, 0, replies.HOLD), (1, 0, None), (0, 1, replies.STILL_HOLDING), (1, 3, replies.STILL_HOLDING)],
)
def test_holding_is_a_short_word_then_hold_music_again_and_again(attempt: int, loop: int, said: str | None) -> None:
    root = parse(twiml.hold(CALL_SID, attempt, loop, line("+15550002001", mode="conference")))
    assert {child.tag for child in root} <= {"Say", "Play", "Pause", "Redirect"}, "a waitUrl may use nothing else"
    assert root.findtext("Say") == said
    assert root.findtext("Play") == HOLD_MUSIC
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.text == f"/twilio/hold?call={CALL_SID}&attempt={attempt}&loop={loop + 1}"
    assert [child.tag for child in root][-1] == "Redirect"


def test_in_a_conference_the_agent_joins_after_the_whisper_or_the_accept_key() -> None:
    conference = line("+15550002001", mode="conference")
    plain = parse(twiml.whisper("Asked for a person.", CALL_SID, 0, conference))
    assert [child.tag for child in plain] == ["Say", "Redirect"]
    assert plain.findtext("Redirect") == f"/twilio/agent/accept?call={CALL_SID}&attempt=0"
    accepting = parse(twiml.whisper("Asked for a person.", CALL_SID, 2, line("+15550002001", accept="1", mode="conference")))
    assert accepting.find("Gather").get("action") == f"/twilio/agent/accept?call={CALL_SID}&attempt=2"  # type: ignore[union-attr]
    joined = parse(twiml.whisper_answer(True, conference, CALL_SID, pressed=False))
    agent_side = joined.find("Dial/Conference")
    assert agent_side is not None and agent_side.text == f"frontdoor-{CALL_SID}"
    assert (agent_side.get("startConferenceOnEnter"), agent_side.get("endConferenceOnExit")) == ("true", "true")
    assert [child.tag for child in parse(twiml.whisper_answer(False, conference, CALL_SID))] == ["Hangup"]


def test_the_transfer_mode_is_checked_and_needs_the_rest_api_for_a_conference() -> None:
    ready = TwilioSettings(account_sid="AC1", auth_token="t", from_number="+15550001000")
    assert twiml.transfer_mode(ready) == "conference"
    assert twiml.transfer_mode(replace(ready, transfer_mode=" Dial ")) == "dial"
    assert twiml.transfer_mode(replace(ready, from_number="")) == "dial"
    with pytest.raises(ConfigError, match="^environment variable FRONTDOOR_TWILIO_TRANSFER_MODE: 'twilio.transfer_mode': expected conference or dial"):
        load_settings(environ={"FRONTDOOR_TWILIO_TRANSFER_MODE": "parallel"})
    with pytest.raises(ConfigError, match="twilio.hold_music_url"):
        twiml.transfer_mode(replace(ready, hold_music_url=""))


@pytest.mark.parametrize(
    ("position", "average", "expected"),
    [(1, 30, "You're next in line"), (4, 300, "You're number 4 in line"), (2, 300, "about 5 minutes"), (None, None, "You're in line")],
)
def test_the_queue_wait_tells_the_caller_their_place_honestly(position: int | None, average: float | None, expected: str) -> None:
    root = parse(twiml.queue_wait(position, average, CALL_SID, line()))
    assert expected in "".join(root.itertext())
    assert "press 1" in "".join(root.itertext())


def test_absolute_urls_for_calls_placed_through_the_rest_api() -> None:
    absolute = replace(line("+15550002001"), url_base="https://fd.example.com")
    number = parse(twiml.hand_off("Hi.", "desk-1", absolute, 1.0, 0)).find("Dial/Number")
    assert number is not None and number.get("url") == "https://fd.example.com/twilio/whisper?call=desk-1&attempt=0"


# --- signatures and parameters ------------------------------------------------------------------


def settings_with(token: str = "secret", validate: bool = True, public_url: str = "https://fd.example.com", hosts: tuple[str, ...] = ()) -> TwilioSettings:
    return TwilioSettings(auth_token=token, validate_signatures=validate, public_url=public_url, public_hosts=hosts)


def test_a_signature_made_like_twilios_is_accepted_and_any_change_is_not() -> None:
    url, params = "https://fd.example.com/twilio/gather?call=x&turn=1", {"CallSid": CALL_SID, "SpeechResult": "agent"}
    signature = RequestValidator("secret").compute_signature(url, params)
    check_signature(settings_with(), url, params, signature)
    for changed_url, changed_params in [
        (url.replace("turn=1", "turn=2"), params),
        (url, {**params, "SpeechResult": "never mind"}),
        (url.replace("https", "http"), params),
    ]:
        with pytest.raises(RejectedRequest) as caught:
            check_signature(settings_with(), changed_url, changed_params, signature)
        assert caught.value.status == 403
    with pytest.raises(RejectedRequest):
        check_signature(settings_with(), url, params, None)
    with pytest.raises(RejectedRequest):
        check_signature(settings_with(token=""), url, params, signature)
    check_signature(settings_with(validate=False), url, params, None)


def test_a_signature_counts_only_for_a_configured_public_host() -> None:
    params = {"CallSid": CALL_SID}
    elsewhere = "https://other.example.net/twilio/voice"
    signature = RequestValidator("secret").compute_signature(elsewhere, params)
    for settings in (settings_with(), settings_with(public_url=""), settings_with(public_url="", hosts=("fd.example.com",))):
        with pytest.raises(RejectedRequest, match="not a public host") as caught:
            check_signature(settings, elsewhere, params, signature)
        assert caught.value.status == 403
    check_signature(settings_with(public_url="", hosts=("other.example.net",)), elsewhere, params, signature)
    check_signature(settings_with(public_url="", hosts=(".example.net",)), elsewhere, params, signature)
    on_a_port = "https://other.example.net:8443/twilio/voice"
    check_signature(settings_with(public_url="", hosts=("Other.Example.NET",)), on_a_port, params, RequestValidator("secret").compute_signature(on_a_port, params))


def test_the_requested_url_comes_from_the_public_url_or_the_request() -> None:
    assert requested_url("https://fd.example.com/", "/twilio/voice", "", "http", "10.0.0.5:8080") == "https://fd.example.com/twilio/voice"
    assert requested_url("", "/twilio/dial", "attempt=1", "https", "phones.example.org") == "https://phones.example.org/twilio/dial?attempt=1"
    assert requested_url("", "/twilio/voice", "", "http", "10.0.0.5:8080") == "http://10.0.0.5:8080/twilio/voice"


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"CallSid": "CA123"},
        {"CallSid": CALL_SID, "Digits": "1; DROP TABLE"},
        {"CallSid": CALL_SID, "Confidence": "very"},
        {"CallSid": CALL_SID, "SpeechResult": "x" * 5000},
        {"CallSid": CALL_SID, "From": "<script>"},
        {"CallSid": CALL_SID, "SpeechResult": "a\x00b"},
    ],
)
def test_malformed_or_oversized_parameters_are_refused_with_400(form: dict[str, str]) -> None:
    with pytest.raises(RejectedRequest) as caught:
        read_params(form, len(form))
    assert caught.value.status == 400


def test_well_formed_parameters_are_read() -> None:
    params = read_params({"CallSid": CALL_SID, "From": "+15551230001", "Confidence": "0.82", "Digits": "0"}, 4)
    assert params.call_sid == CALL_SID and params.caller == "+15551230001"
    assert params.number("Confidence") == pytest.approx(0.82) and params.get("Digits") == "0"
    with pytest.raises(RejectedRequest):
        read_params({"CallSid": CALL_SID}, 500)


def test_the_configured_voice_speaks_and_slows_down_for_distress() -> None:
    from dataclasses import replace as with_fields

    polly = with_fields(line(), voice="Polly.Joanna")
    calm = parse(twiml.listen(decision(), polly)).find(".//Say")
    slow = parse(twiml.listen(decision(speaking_rate=0.85), polly)).find(".//Say")
    assert calm is not None and calm.get("voice") == "Polly.Joanna"
    assert slow is not None and slow.get("voice") == "Polly.Joanna" and slow.find("prosody").get("rate") == "85%"  # type: ignore[union-attr]


SID = "RE" + "a1" * 16
ACCOUNT = "AC" + "b2" * 16


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}.mp3",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}.wav",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls/CA{'c3' * 16}/Recordings/{SID}",
        f"https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
    ],
)
def test_twilios_documented_recording_urls_are_accepted(url: str) -> None:
    assert twilio_recording_sid(url) == SID


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        f"http://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
        f"https://api.twilio.com.evil.example/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
        f"https://evil.example/api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
        f"https://user@api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
        f"https://api.twilio.com:8443/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}?redirect=https://evil.example",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{SID}.html",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/../../evil",
        "https://[::1/",
        "",
    ],
)
def test_anything_else_is_not_a_recording(url: str) -> None:
    assert twilio_recording_sid(url) is None
