"""TwiML for every step of a phone call, built only with ``VoiceResponse``: pure functions of their inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from frontdoor.conversation import replies
from frontdoor.conversation.model import Decision, Expecting
from frontdoor.settings import Settings
from frontdoor.telephony.destinations import Destination, parse_destinations

BASE = "/twilio"
SILENCE_SECONDS = 6
SPEECH_END_SECONDS = 2
MAX_HINTS = 100
MAX_HINT_CHARS = 100
VOICEMAIL_MAX_SECONDS = 180

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

    @classmethod
    def from_settings(cls, settings: Settings) -> Line:
        return cls(
            language=settings.twilio.language,
            speech_model=settings.twilio.speech_model,
            voice=settings.twilio.voice,
            dial_timeout_seconds=settings.twilio.dial_timeout_seconds,
            whisper_accept_digit=settings.handoff.whisper_accept_digit.strip(),
            destinations=parse_destinations(settings.handoff.agents),
        )


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
    dial = response.dial(
        action=url(line, "dial", call_id, attempt=attempt),
        method="POST",
        timeout=line.dial_timeout_seconds,
        answer_on_bridge=True,
    )
    _ring(dial, destination, url(line, "whisper", call_id, attempt=attempt))


def _ring(dial: Dial, destination: Destination, whisper_url: str) -> None:
    if destination.kind == "number":
        dial.number(destination.target, url=whisper_url, method="POST")
    elif destination.kind == "sip":
        dial.sip(destination.target, url=whisper_url, method="POST")
    else:
        dial.client(destination.target, url=whisper_url, method="POST")


def _speech_gather(response: VoiceResponse, action: str, line: Line, hints: Sequence[str]) -> Gather:
    """A caller's answer by voice or one key; silence still reaches ``action`` (speechTimeout "auto" only without a named model, as Twilio requires)."""
    return response.gather(
        input="speech dtmf",
        action=action,
        method="POST",
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
    """What the agent hears before the call is bridged; the call connects when this document ends."""
    response = VoiceResponse()
    if not line.whisper_accept_digit:
        say(response, text, line)
        return str(response)
    gather = response.gather(
        input="dtmf",
        num_digits=1,
        timeout=8,
        action=url(line, "whisper/accept", call_id, attempt=attempt),
        method="POST",
    )
    say(gather, replies.whisper_accept_prompt(text, line.whisper_accept_digit), line)
    say(response, replies.WHISPER_NO_ANSWER, line)
    response.hangup()
    return str(response)


def whisper_answer(accepted: bool, line: Line) -> str:
    """After the agent pressed a key: an empty document bridges the call, ``<Hangup>`` declines it."""
    response = VoiceResponse()
    if accepted:
        say(response, replies.WHISPER_CONNECTING, line)
    else:
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
