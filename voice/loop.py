"""``frontdoor listen``: the conversation engine at a desk, from a microphone or a WAV file."""

from __future__ import annotations

import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator

from frontdoor.conversation.model import Action, CallerTurn, Decision
from frontdoor.handoff.redaction import redact
from frontdoor.settings import Settings
from frontdoor.voice import prosody
from frontdoor.voice.desk_handoff import hand_over
from frontdoor.voice.recognizer import (
    ANSWER_PHRASES,
    NoSpeech,
    Partial,
    SpeechRecognizer,
    Utterance,
    decode_once,
    load_model,
)
from frontdoor.voice.sources import AudioSource, WavFileSource, open_microphone

if TYPE_CHECKING:
    import numpy as np

    from frontdoor.voice.speaker import Player, Synthesizer

DEFAULT_NO_SPEECH_SECONDS = 8.0


@dataclass(frozen=True)
class ListenOptions:
    input: Path | None = None
    output_dir: Path | None = None
    model: str | None = None
    caller: str | None = None
    device: str | None = None
    no_speech_seconds: float = DEFAULT_NO_SPEECH_SECONDS


class Voice:
    """Says replies: writes each to ``output_dir`` as a WAV, or plays it (listening for barge-in on a live mic)."""

    def __init__(self, synthesizer: Synthesizer, output_dir: Path | None, player: Player | None) -> None:
        self.synthesizer = synthesizer
        self.output_dir = output_dir
        self.player = player
        self.written: list[Path] = []

    def say(self, text: str, speaking_rate: float, microphone: Iterator[np.ndarray] | None) -> list[np.ndarray]:
        """Speak ``text``; returns caller audio heard while barging in (to be recognised next)."""
        if self.output_dir is not None:
            path = self.output_dir / f"reply-{len(self.written) + 1:02d}.wav"
            self.written.append(self.synthesizer.to_file(text, path, speaking_rate))
            return []
        with tempfile.TemporaryDirectory(prefix="frontdoor-say-") as folder:
            path = self.synthesizer.to_file(text, Path(folder) / "reply.wav", speaking_rate)
            return self.player.play(path, microphone) if self.player is not None else []


class FrameFeed:
    """The source's frames, with room to put back audio heard during playback."""

    def __init__(self, frames: Iterator[np.ndarray]) -> None:
        self._frames = frames
        self._backlog: deque[np.ndarray] = deque()

    def put_back(self, frames: list[np.ndarray]) -> None:
        self._backlog.extend(frames)

    def __iter__(self) -> FrameFeed:
        return self

    def __next__(self) -> np.ndarray:
        if self._backlog:
            return self._backlog.popleft()
        return next(self._frames)


def open_source(settings: Settings, options: ListenOptions) -> AudioSource:
    if options.input is not None:
        return WavFileSource(options.input)
    return open_microphone(options.device if options.device is not None else settings.voice.input_device)


def run_listen(settings: Settings, options: ListenOptions, out: IO[str]) -> int:
    """Open the audio, load the model, run one call; returns the exit status."""
    from frontdoor.calls import CallService
    from frontdoor.voice.models import resolve_model_dir
    from frontdoor.voice.speaker import Player, Synthesizer

    source = open_source(settings, options)
    model = load_model(resolve_model_dir(settings, options.model))
    synthesizer = Synthesizer(rate_wpm=settings.voice.tts_rate, voice=settings.voice.tts_voice)
    player = None if options.output_dir is not None else Player(settings.voice.output_device)
    voice = Voice(synthesizer, options.output_dir, player)
    feed = FrameFeed(iter(source.frames()))
    microphone = feed if source.live else None

    if settings.voice.wake_phrase and not wait_for_wake_phrase(model, feed, settings, out):
        out.write("(end of input before the wake phrase)\n")
        return 0
    service = CallService.from_settings(settings)
    call = DeskCall(settings, service, model, voice, feed, microphone, options, out)
    try:
        call.run()
    finally:
        service.notifier.flush()
        out.flush()
    return 0


def wait_for_wake_phrase(model, feed: FrameFeed, settings: Settings, out: IO[str]) -> bool:  # type: ignore[no-untyped-def]
    """Listen with a grammar of just the wake phrase until it is heard; False if the input ends first."""
    phrase = settings.voice.wake_phrase.strip().lower()
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=settings.voice.endpoint_silence_seconds, phrases=[phrase])
    out.write(f"(waiting for {phrase!r})\n")
    out.flush()
    for frame in feed:
        for event in recognizer.feed(frame):
            if isinstance(event, Utterance) and phrase in event.text:
                return True
    return any(isinstance(e, Utterance) and phrase in e.text for e in recognizer.finish())


class DeskCall:
    """One conversation: greet, then recognise each utterance, take the turn, and speak the reply."""

    def __init__(self, settings, service, model, voice: Voice, feed: FrameFeed, microphone, options: ListenOptions, out: IO[str]) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.service = service
        self.model = model
        self.voice = voice
        self.feed = feed
        self.microphone = microphone
        self.options = options
        self.out = out
        self.recognizer = SpeechRecognizer(
            model, endpoint_silence_seconds=settings.voice.endpoint_silence_seconds, no_speech_seconds=options.no_speech_seconds
        )

    def run(self) -> None:
        decision = self.service.start_call(channel="desk", caller_number=self.options.caller)
        self.reply(decision)
        while decision.action is Action.LISTEN:
            turn = self.next_turn(decision)
            if turn is None:
                self.service.end_call(decision.call_id, outcome="hung_up")
                self.out.write("(end of input: call ended)\n")
                return
            decision = self.service.take_turn(decision.call_id, turn, channel="desk", caller_number=self.options.caller)
            if decision.action is Action.HANDOFF:
                self.hand_over(decision)
                return
            self.reply(decision)

    def next_turn(self, decision: Decision) -> CallerTurn | None:
        """The next utterance (or silence) as a caller turn; None when the input has ended."""
        self.recognizer.restart_wait()
        for frame in self.feed:
            for event in self.recognizer.feed(frame):
                turn = self.to_turn(event, decision)
                if turn is not None:
                    return turn
        for event in self.recognizer.finish():
            turn = self.to_turn(event, decision)
            if turn is not None:
                return turn
        return None

    def to_turn(self, event: object, decision: Decision) -> CallerTurn | None:
        if isinstance(event, Partial):
            if self.out.isatty():
                self.out.write(f"\r  … {event.text[-70:]}\x1b[K")
                self.out.flush()
            return None
        if isinstance(event, NoSpeech):
            self.show("you", "(silence)")
            return CallerTurn()
        if isinstance(event, Utterance):
            text, confidence = self.reread_if_doubtful(event, decision)
            self.show("you", redact(text))
            return CallerTurn(text=text, confidence=confidence, audio=prosody.measure(event.samples, event.words))
        return None

    def reread_if_doubtful(self, utterance: Utterance, decision: Decision) -> tuple[str, float | None]:
        """A low-confidence utterance is decoded again against the expected phrases (answers, incident and service names)."""
        confidence = utterance.confidence
        if confidence is None or confidence >= self.settings.conversation.low_confidence:
            return utterance.text, confidence
        text, hinted = decode_once(self.model, utterance.samples, [*ANSWER_PHRASES, *decision.hints])
        if text and hinted is not None and hinted > confidence:
            return text, hinted
        return utterance.text, confidence

    def reply(self, decision: Decision) -> None:
        self.show("frontdoor", decision.say)
        self.speak(decision.say, decision.speaking_rate)

    def speak(self, text: str, speaking_rate: float) -> None:
        heard = self.voice.say(text, speaking_rate, self.microphone)
        if heard:
            self.out.write("(caller spoke over the reply: listening)\n")
            self.feed.put_back(heard)

    def hand_over(self, decision: Decision) -> None:
        handoff = hand_over(self.service, decision, self.options.caller)
        self.show("frontdoor", handoff.say)
        self.speak(handoff.say, decision.speaking_rate)
        if decision.summary is not None:
            self.out.write(f"(handed off: {decision.reason}; agent whisper: {decision.summary.whisper()})\n")

    def show(self, who: str, text: str) -> None:
        if self.out.isatty():
            self.out.write("\r\x1b[K")
        self.out.write(f"{who}: {text}\n")
        self.out.flush()
