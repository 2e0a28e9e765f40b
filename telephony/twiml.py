"""TwiML for every step of a phone call, built only with ``VoiceResponse``: pure functions of their inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from frontdoor.conversation import replies
from frontdoor.conversation.model import Decision, Expecting
from frontdoor.errors import ConfigError
from frontdoor.settings import Settings, TwilioSettings
from frontdoor.telephony.destinations import Destination, parse_destinations

BASE = "/twilio"
SILENCE_SECONDS = 6
SPEECH_END_SECONDS = 2
MAX_HINTS = 100
MAX_HINT_CHARS = 100
VOICEMAIL_MAX_SECONDS = 180
CONFERENCE_EVENTS = "join"

_BASE_HINTS = {
    Expecting.REQUEST: ("agent", "a person", "representative", "help desk"),
    Expecting.YES_NO: ("yes", "no", "yes please", "no thanks", "agent"),
    Expecting.SURVEY: ("one", "two", "three", "four", "five"),
    Expecting.NOTHING: (),
}

@dataclass(frozen=True)
class Line:
    """What the TwiML needs from settings: recogniser options and where people are."""

    language: str
    speech_model: str
    dial_timeout_seconds: int
    whisper_accept_digit: str
    destinations: tuple[Destination, ...]
    url_base: str = ""
    voice: str = ""
    transfer_mode: str = "dial"
    hold_music_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Line:
        return cls(
            language=settings.twilio.language,
            speech_model=settings.twilio.speech_model,
            voice=settings.twilio.voice,
            dial_timeout_seconds=settings.twilio.dial_timeout_seconds,
            whisper_accept_digit=settings.handoff.whisper_accept_digit.strip(),
            destinations=parse_destinations(settings.handoff.agents),
            transfer_mode=transfer_mode(settings.twilio),
            hold_music_url=settings.twilio.hold_music_url.strip(),
        )

    @property
    def conferencing(self) -> bool:
        return self.transfer_mode == "conference"


def transfer_mode(settings: TwilioSettings) -> str:
    """How agents are reached: ``conference`` needs the REST API, so without its credentials the line uses ``dial``."""
    mode = settings.transfer_mode
    if mode == "conference" and not (settings.account_sid and settings.auth_token and settings.from_number):
        return "dial"
    if mode == "conference" and not settings.hold_music_url:
        raise ConfigError("'twilio.hold_music_url': a conference transfer needs hold audio (an MP3 or WAV URL)")
    return mode


def conference_name(call_id: str) -> str:
    """The conference a caller holds in: one per call, named by the call's id (Twilio asks for no personal data here)."""
    return f"frontdoor-{call_id}"


def agent_address(destination: Destination) -> str:
    """What the REST API dials for a person: the number, the SIP URI or ``client:identity``."""
    return f"client:{destination.target}" if destination.kind == "client" else destination.target


def url(line: Line, step: str, call_id: str, **query: object) -> str:
    """A webhook URL, relative unless ``line.url_base`` is set: Twilio resolves it against the URL it requested."""
    return f"{line.url_base}{BASE}/{step}?{urlencode({'call': call_id, **query})}"


def say(parent: VoiceResponse, text: str, line: Line, rate: float = 1.0) -> None:
    """Say ``text``; a rate under 1 wraps it in SSML ``<prosody rate="85%">`` to slow down for a distressed caller."""
    voice = line.voice or None
    if rate < 1.0:
        spoken = parent.say(language=line.language, voice=voice)
        spoken.prosody(text, rate=f"{max(20, round(rate * 100))}%")
    else:
        parent.say(text, language=line.language, voice=voice)


def listen(decision: Decision, line: Line) -> str:
    """Say the reply inside a ``<Gather>`` for speech or keypad; silence still reaches the action URL."""
    response = VoiceResponse()
    hints = _hints(decision.expecting, decision.hints)
    gather = _speech_gather(response, url(line, "gather", decision.call_id, turn=decision.turn + 1), line, hints)
    say(gather, decision.say, line, decision.speaking_rate)
    return str(response)


def end(decision: Decision, line: Line) -> str:
    response = VoiceResponse()
    say(response, decision.say, line, decision.speaking_rate)
    response.hangup()
    return str(response)


def hand_off(text: str, call_id: str, line: Line, rate: float = 1.0, attempt: int = 0, can_call_back: bool = True) -> str:
    """One honest sentence, then ring the agent at ``attempt`` (or offer a message when there is none)."""
    response = VoiceResponse()
    say(response, text, line, rate)
    _connect(response, call_id, line, attempt, can_call_back)
    return str(response)


def next_agent(call_id: str, line: Line, attempt: int, can_call_back: bool) -> str:
    """After an agent did not answer: say so, then the next agent, or the message/callback offer."""
    response = VoiceResponse()
    if attempt < len(line.destinations):
        say(response, replies.NEXT_AGENT, line)
    _connect(response, call_id, line, attempt, can_call_back)
    return str(response)


def _connect(response: VoiceResponse, call_id: str, line: Line, attempt: int, can_call_back: bool) -> None:
    if attempt >= len(line.destinations):
        _offer_fallback(response, call_id, line, can_call_back)
        return
    destination = line.destinations[attempt]
    if destination.kind == "queue":
        response.enqueue(
            destination.target,
            action=url(line, "queue/done", call_id, attempt=attempt),
            method="POST",
            wait_url=url(line, "queue/wait", call_id),
            wait_url_method="POST",
        )
        return
    if line.conferencing:
        _hold_in_conference(response, call_id, line, attempt)
        return
    dial = response.dial(
        action=url(line, "dial", call_id, attempt=attempt),
        method="POST",
        timeout=line.dial_timeout_seconds,
        answer_on_bridge=True,
    )
    _ring(dial, destination, url(line, "whisper", call_id, attempt=attempt))


def _hold_in_conference(response: VoiceResponse, call_id: str, line: Line, attempt: int) -> None:
    """The caller waits in the call's conference, hearing ``hold``, while frontdoor rings the agent; it starts when they join."""
    dial = response.dial(action=url(line, "conference/done", call_id), method="POST")
    _conference(dial, call_id, line, caller=True, wait_url=url(line, "hold", call_id, attempt=attempt))


def _conference(dial: Dial, call_id: str, line: Line, caller: bool, wait_url: str) -> None:
    """The call's conference: the agent starts it on entering, and whoever leaves first ends it for both."""
    dial.conference(
        conference_name(call_id),
        start_conference_on_enter=not caller,
        end_conference_on_exit=True,
        beep=False,
        wait_url=wait_url,
        wait_method="POST",
        status_callback=url(line, "conference/status", call_id),
        status_callback_method="POST",
        status_callback_event=CONFERENCE_EVENTS,
    )


def hold(call_id: str, attempt: int, loop: int, line: Line) -> str:
    """What a caller waiting in the conference hears: a short word, hold audio, again (only verbs a waitUrl allows)."""
    response = VoiceResponse()
    if loop > 0:
        say(response, replies.STILL_HOLDING, line)
    elif attempt == 0:
        say(response, replies.HOLD, line)
    response.play(line.hold_music_url)
    response.redirect(url(line, "hold", call_id, attempt=attempt, loop=loop + 1), method="POST")
    return str(response)


def _ring(dial: Dial, destination: Destination, whisper_url: str) -> None:
    if destination.kind == "number":
        dial.number(destination.target, url=whisper_url, method="POST")
    elif destination.kind == "sip":
        dial.sip(destination.target, url=whisper_url, method="POST")
    else:
        dial.client(destination.target, url=whisper_url, method="POST")


def _speech_gather(response: VoiceResponse, action: str, line: Line, hints: Sequence[str]) -> Gather:
    """A caller's answer by voice or one key, interrupting the prompt; silence still reaches ``action`` (speechTimeout "auto" only without a named model, as Twilio requires)."""
    return response.gather(
        input="speech dtmf",
        action=action,
        method="POST",
        barge_in=True,
        action_on_empty_result=True,
        timeout=SILENCE_SECONDS,
        speech_timeout=SPEECH_END_SECONDS if line.speech_model else "auto",
        speech_model=line.speech_model or None,
        language=line.language,
        hints=", ".join(hints) if hints else None,
        num_digits=1,
    )


def _offer_fallback(response: VoiceResponse, call_id: str, line: Line, can_call_back: bool) -> None:
    if not can_call_back:
        say(response, f"{replies.ALL_BUSY} {replies.OFFER_VOICEMAIL}", line)
        _record(response, call_id, line)
        return
    gather = _speech_gather(response, url(line, "fallback", call_id), line, ("message", "leave a message", "call back", "call me back"))
    say(gather, f"{replies.ALL_BUSY} {replies.OFFER_BOTH}", line)


def record_voicemail(call_id: str, line: Line, preface: str = "") -> str:
    response = VoiceResponse()
    say(response, f"{preface} {replies.OFFER_VOICEMAIL}".strip(), line)
    _record(response, call_id, line)
    return str(response)


def _record(response: VoiceResponse, call_id: str, line: Line) -> None:
    response.record(
        action=url(line, "voicemail", call_id),
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        finish_on_key="#",
        play_beep=True,
        timeout=8,
    )


def goodbye(text: str, line: Line) -> str:
    response = VoiceResponse()
    say(response, text, line)
    response.hangup()
    return str(response)


def whisper(text: str, call_id: str, attempt: int, line: Line) -> str:
    """What the agent hears first: the summary, then (with an accept digit) a key to take the call.

    With ``<Dial>`` the call connects when this document ends; in a conference transfer the agent joins
    the caller through ``agent/accept`` (reached by the key, or straight after the summary without one).
    """
    response = VoiceResponse()
    accept = url(line, "agent/accept" if line.conferencing else "whisper/accept", call_id, attempt=attempt)
    if not line.whisper_accept_digit:
        say(response, text, line)
        if line.conferencing:
            response.redirect(accept, method="POST")
        return str(response)
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=accept, method="POST")
    say(gather, replies.whisper_accept_prompt(text, line.whisper_accept_digit), line)
    say(response, replies.WHISPER_NO_ANSWER, line)
    response.hangup()
    return str(response)


def whisper_answer(accepted: bool, line: Line, call_id: str = "", pressed: bool = True) -> str:
    """After the whisper: ``<Hangup>`` declines; accepting bridges (``<Dial>``: the document ends) or joins the caller's conference."""
    response = VoiceResponse()
    if not accepted:
        response.hangup()
        return str(response)
    if pressed:
        say(response, replies.WHISPER_CONNECTING, line)
    if line.conferencing:
        _conference(response.dial(), call_id, line, caller=False, wait_url="")
    return str(response)


def caller_left(line: Line) -> str:
    """The agent took a call whose caller is gone."""
    response = VoiceResponse()
    say(response, replies.CALLER_LEFT, line)
    response.hangup()
    return str(response)


def queue_wait(position: int | None, average_seconds: float | None, call_id: str, line: Line) -> str:
    """The caller's honest place in line, and a way out: press 1 to leave a message instead."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=20, action=url(line, "queue/leave", call_id), method="POST")
    say(gather, replies.queue_position(position, average_seconds), line)
    return str(response)


def queue_leave(wants_out: bool, line: Line) -> str:
    response = VoiceResponse()
    if wants_out:
        response.leave()
    else:
        say(response, replies.KEEPING_PLACE, line)
    return str(response)


def _hints(expecting: Expecting, extra: tuple[str, ...]) -> list[str]:
    seen: dict[str, None] = {}
    for hint in (*_BASE_HINTS.get(expecting, ()), *extra):
        cleaned = " ".join(hint.replace(",", " ").split())[:MAX_HINT_CHARS]
        if cleaned and cleaned.lower() not in seen:
            seen[cleaned.lower()] = None
    return list(seen)[:MAX_HINTS]
