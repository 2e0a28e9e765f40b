"""Real pyttsx3 with espeak-ng writing real WAV files."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdoor.voice.errors import SpeechOutputError
from frontdoor.voice.pcm import rms_dbfs
from frontdoor.voice.speaker import Synthesizer, read_wav_int16

pytestmark = pytest.mark.audio

REPLY = "Hi, this is the IT service desk assistant. What can I help you with?"


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    return Synthesizer(rate_wpm=175, voice="en-us")


def seconds(path: Path) -> float:
    samples, rate = read_wav_int16(path)
    return len(samples) / rate


def test_writes_a_complete_audible_wav(synthesizer: Synthesizer, tmp_path: Path) -> None:
    path = synthesizer.to_file(REPLY, tmp_path / "nested" / "reply.wav")
    samples, rate = read_wav_int16(path)
    assert rate > 8000
    assert 2.5 < len(samples) / rate < 8.0
    assert rms_dbfs(samples) > -35


def test_distressed_callers_hear_slower_speech_and_each_file_gets_its_own_rate(synthesizer: Synthesizer, tmp_path: Path) -> None:
    lengths = [seconds(synthesizer.to_file(REPLY, tmp_path / f"{i}.wav", rate)) for i, rate in enumerate((1.0, 0.85, 1.0, 0.6))]
    assert lengths[1] > lengths[0] * 1.1
    assert lengths[3] > lengths[1] * 1.2
    assert lengths[2] == pytest.approx(lengths[0], rel=0.05)


def test_unknown_voice_is_a_config_error() -> None:
    with pytest.raises(SpeechOutputError, match="unknown voice 'klingon-x'"):
        Synthesizer(rate_wpm=175, voice="klingon-x")
    assert SpeechOutputError.exit_status == 2
