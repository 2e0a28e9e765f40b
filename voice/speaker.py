"""Speech out: pyttsx3 (espeak-ng) renders each reply to a WAV file; sounddevice plays it, stopping on barge-in."""

from __future__ import annotations

import contextlib
import io
import logging
import time
import wave
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from frontdoor.voice.endpointing import VoiceActivity
from frontdoor.voice.errors import SpeechOutputError
from frontdoor.voice.sources import FRAME_SECONDS, SAMPLE_RATE, import_sounddevice, parse_device

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MIN_RATE_WPM = 80
BARGE_IN_SECONDS = 0.3
BARGE_IN_KEEP_SECONDS = 0.6
FILE_WAIT_SECONDS = 5.0
SYNTHESIS_ATTEMPTS = 2
"""espeak-ng through pyttsx3 now and then writes nothing (seen on a loaded machine): one more try before giving up."""


class Synthesizer:
    """pyttsx3 with the settings' voice and rate; ``speaking_rate`` from the decision slows it for distressed callers."""

    def __init__(self, *, rate_wpm: int, voice: str = "") -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init()
        except ImportError as exc:
            raise SpeechOutputError(f"speech output needs pyttsx3 ({exc}): pip install 'frontdoor[voice]'") from None
        except (OSError, RuntimeError) as exc:
            raise SpeechOutputError(f"cannot start speech synthesis ({exc}): apt install espeak-ng") from None
        self.rate_wpm = rate_wpm
        if voice:
            self._engine.setProperty("voice", self._voice_id(voice))

    def _voice_id(self, wanted: str) -> str:
        """The installed voice whose id, name or language is ``wanted`` (case-insensitive)."""
        key = wanted.strip().lower()
        for voice in self._engine.getProperty("voices"):
            languages = [str(lang).lower() for lang in (voice.languages or [])]
            if key in {str(voice.id).lower(), str(voice.name).lower(), *languages} or str(voice.id).lower().endswith(f"/{key}"):
                return str(voice.id)
        raise SpeechOutputError(f"unknown voice {wanted!r} in voice.tts_voice (list them with `espeak-ng --voices`)")

    def rate_for(self, speaking_rate: float) -> int:
        return max(MIN_RATE_WPM, int(round(self.rate_wpm * speaking_rate)))

    def to_file(self, text: str, path: Path, speaking_rate: float = 1.0) -> Path:
        """Render ``text`` to a WAV file and return once the file is complete."""
        path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, SYNTHESIS_ATTEMPTS + 1):
            if self._render(text, path, speaking_rate):
                return path
            if attempt < SYNTHESIS_ATTEMPTS:
                log.warning("speech synthesis wrote no audio to %s; synthesising it again", path)
        raise SpeechOutputError(f"speech synthesis wrote no audio to {path}")

    def _render(self, text: str, path: Path, speaking_rate: float) -> bool:
        path.unlink(missing_ok=True)
        self._apply_rate(self.rate_for(speaking_rate))
        self._engine.save_to_file(text, str(path))
        with contextlib.redirect_stdout(io.StringIO()):
            self._engine.runAndWait()
            try:
                return _complete_in_time(path)
            finally:
                self._wait_until_idle()

    def _wait_until_idle(self) -> None:
        deadline = time.monotonic() + FILE_WAIT_SECONDS
        while self._engine.isBusy() and time.monotonic() < deadline:
            time.sleep(0.01)


    def _apply_rate(self, wpm: int) -> None:
        """Set the rate and check it took: pyttsx3's espeak driver sometimes drops a queued rate change."""
        self._engine.setProperty("rate", wpm)
        deadline = time.monotonic() + FILE_WAIT_SECONDS
        while self._engine.getProperty("rate") != wpm and time.monotonic() < deadline:
            self._engine.proxy._driver.setProperty("rate", wpm)
            time.sleep(0.01)


def _complete_in_time(path: Path) -> bool:
    """pyttsx3 drivers may finish writing after runAndWait returns: wait until every frame in the header is there."""
    deadline = time.monotonic() + FILE_WAIT_SECONDS
    while True:
        try:
            with wave.open(str(path), "rb") as wav:
                expected = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
                if expected > 0 and len(wav.readframes(wav.getnframes())) == expected:
                    return True
        except (FileNotFoundError, EOFError, wave.Error):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def read_wav_int16(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit WAV as written by the synthesizer: (mono samples, sample rate)."""
    import numpy as np

    with wave.open(str(path), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        channels, rate = wav.getnchannels(), wav.getframerate()
    return data.reshape(-1, channels)[:, 0].copy(), rate


class BargeInDetector:
    """Caller speech while the assistant talks: this many seconds of voiced audio in a row."""

    def __init__(self, seconds: float = BARGE_IN_SECONDS) -> None:
        self.activity = VoiceActivity(SAMPLE_RATE)
        self.needed = max(1, int(round(seconds * SAMPLE_RATE / self.activity.window)))
        self._run = 0

    def push(self, frame: np.ndarray) -> bool:
        for voiced in self.activity.windows(frame):
            self._run = self._run + 1 if voiced else 0
            if self._run >= self.needed:
                return True
        return False


class Player:
    """Plays reply WAVs on the output device; with a live microphone, caller speech stops playback."""

    def __init__(self, device: str | int | None) -> None:
        self.sd = import_sounddevice()
        self.device = parse_device(device)
        try:
            self.sd.query_devices(self.device, kind="output")
        except (self.sd.PortAudioError, ValueError) as exc:
            raise SpeechOutputError(f"no output device {'(default)' if self.device is None else repr(self.device)}: {exc}; use --output-dir DIR") from None

    def play(self, path: Path, microphone: Iterator[np.ndarray] | None = None) -> list[np.ndarray]:
        """Play to the end, or until the caller talks over it; returns the caller's frames heard while interrupting."""
        samples, rate = read_wav_int16(path)
        try:
            self.sd.play(samples, rate, device=self.device)
        except (self.sd.PortAudioError, ValueError) as exc:
            raise SpeechOutputError(f"cannot play audio: {exc}") from None
        if microphone is None:
            self.sd.wait()
            return []
        detector = BargeInDetector()
        heard: deque[np.ndarray] = deque(maxlen=max(1, round(BARGE_IN_KEEP_SECONDS / FRAME_SECONDS)))
        finish = time.monotonic() + len(samples) / rate
        for frame in microphone:
            heard.append(frame)
            if detector.push(frame):
                self.sd.stop()
                return list(heard)
            if time.monotonic() >= finish:
                break
        self.sd.wait()
        return []
