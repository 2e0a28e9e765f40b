"""Energy-based speech detection: where an utterance starts and ends, and when nobody has spoken."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from frontdoor.voice.pcm import SILENCE_DBFS

if TYPE_CHECKING:
    import numpy as np

WINDOW_SECONDS = 0.02
MIN_SPEECH_DBFS = -50.0
ABOVE_NOISE_DB = 12.0
SPEECH_ONSET_SECONDS = 0.06
NOISE_MEMORY_SECONDS = 3.0


class Boundary(str, Enum):
    SPEECH_STARTED = "speech_started"
    UTTERANCE_ENDED = "utterance_ended"
    NO_SPEECH = "no_speech"


@dataclass(frozen=True)
class EndpointEvent:
    boundary: Boundary
    at_seconds: float


class VoiceActivity:
    """Per-window speech/no-speech: loud enough, and well above the quietest level of the last few seconds."""

    def __init__(self, sample_rate: int = 16_000) -> None:
        self.window = int(sample_rate * WINDOW_SECONDS)
        self._recent: deque[float] = deque(maxlen=int(NOISE_MEMORY_SECONDS / WINDOW_SECONDS))

    @property
    def noise_floor(self) -> float:
        return min(self._recent) if self._recent else MIN_SPEECH_DBFS - ABOVE_NOISE_DB

    def windows(self, frame: np.ndarray) -> list[bool]:
        voiced = []
        for level in window_levels(frame, self.window):
            self._recent.append(level)
            voiced.append(level > max(MIN_SPEECH_DBFS, self.noise_floor + ABOVE_NOISE_DB))
        return voiced


def window_levels(frame: np.ndarray, window: int) -> list[float]:
    """dBFS of each ``window``-sample slice of ``frame`` (the last one may be shorter), in one numpy pass."""
    import numpy as np

    whole = len(frame) // window * window
    squares = np.square(frame.astype(np.float64))
    means = list(squares[:whole].reshape(-1, window).mean(axis=1)) if whole else []
    if whole < len(frame):
        means.append(float(squares[whole:].mean()))
    return [20.0 * math.log10(math.sqrt(m) / 32768.0) if m > 0 else SILENCE_DBFS for m in means]


class Endpointer:
    """Turns frames into boundaries: speech started, utterance ended after trailing silence, no speech for a while."""

    def __init__(self, *, silence_seconds: float, no_speech_seconds: float | None, sample_rate: int = 16_000) -> None:
        self.silence_seconds = silence_seconds
        self.no_speech_seconds = no_speech_seconds
        self.sample_rate = sample_rate
        self.activity = VoiceActivity(sample_rate)
        self.now = 0.0
        self.in_speech = False
        self.last_voice = 0.0
        self.speech_started = 0.0
        self._onset = 0.0
        self._waiting_since = 0.0

    def restart_wait(self) -> None:
        """Start counting the no-speech time afresh (after the assistant has spoken)."""
        self._waiting_since = self.now

    def push(self, frame: np.ndarray) -> list[EndpointEvent]:
        events = []
        step = self.activity.window / self.sample_rate
        for voiced in self.activity.windows(frame):
            self.now += step
            if voiced:
                self._onset += step
                self.last_voice = self.now
                if not self.in_speech and self._onset >= SPEECH_ONSET_SECONDS - 1e-9:
                    self.in_speech = True
                    self.speech_started = self.now - self._onset
                    events.append(EndpointEvent(Boundary.SPEECH_STARTED, self.speech_started))
                continue
            self._onset = 0.0
            if self.in_speech and self.now - self.last_voice >= self.silence_seconds - 1e-9:
                self.in_speech = False
                self._waiting_since = self.now
                events.append(EndpointEvent(Boundary.UTTERANCE_ENDED, self.last_voice))
            elif (
                not self.in_speech
                and self.no_speech_seconds is not None
                and self.now - max(self._waiting_since, self.last_voice) >= self.no_speech_seconds - 1e-9
            ):
                self._waiting_since = self.now
                events.append(EndpointEvent(Boundary.NO_SPEECH, self.now))
        return events

    def finish(self) -> list[EndpointEvent]:
        """End of input: close an utterance still under way."""
        if not self.in_speech:
            return []
        self.in_speech = False
        return [EndpointEvent(Boundary.UTTERANCE_ENDED, self.last_voice)]
