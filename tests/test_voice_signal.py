"""Pure audio arithmetic on real numpy arrays: PCM decoding, WAV parsing, resampling, μ-law, endpointing, prosody."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from frontdoor.voice.endpointing import Boundary, Endpointer
from frontdoor.voice.errors import AudioFormatError, UnsupportedAudioError
from frontdoor.voice.pcm import Resampler, decode_pcm, mulaw_decode, mulaw_encode, rms_dbfs
from frontdoor.voice.prosody import loudness_dbfs, pitch_hz, words_per_second
from frontdoor.voice.recognizer import Word
from frontdoor.voice.sources import FRAME_SAMPLES, MulawSource, WavFileSource, parse_device
from frontdoor.voice.speaker import BargeInDetector


def tone(hz: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int) -> Path:
    """``samples``: float (frames, channels) in [-1, 1], written as ``width``-byte PCM with the wave module."""
    scaled = np.clip(samples, -1, 1 - 1e-9)
    if width == 1:
        data = (scaled * 128 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        ints = (scaled * (1 << 23)).astype(np.int32).reshape(-1)
        data = b"".join(struct.pack("<i", int(v))[:3] for v in ints)
    else:
        dtype = {2: "<i2", 4: "<i4"}[width]
        data = (scaled * float(1 << (8 * width - 1))).astype(dtype).tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def read_all(source) -> np.ndarray:  # type: ignore[no-untyped-def]
    frames = list(source.frames())
    assert all(len(f) == FRAME_SAMPLES for f in frames[:-1]) and all(f.dtype == np.int16 for f in frames)
    return np.concatenate(frames)


def test_mulaw_known_codes_and_round_trip_error() -> None:
    assert mulaw_decode(bytes([0xFF, 0x7F, 0x80, 0x00])).tolist() == [0, 0, 32124, -32124]
    samples = np.arange(-32768, 32768, 3, dtype=np.int32).astype(np.int16)
    decoded = mulaw_decode(mulaw_encode(samples)).astype(np.int64)
    error = np.abs(decoded - samples.astype(np.int64))
    assert np.all(error <= np.maximum(np.abs(samples.astype(np.int64)) / 16 + 8, 8))


def test_mulaw_round_trip_of_a_tone_keeps_it_clean() -> None:
    signal = (tone(440, 1.0, 8000, 0.3) * 32767).astype(np.int16)
    decoded = mulaw_decode(mulaw_encode(signal)).astype(np.float64)
    noise = decoded - signal
    snr = 10 * np.log10(np.sum(signal.astype(np.float64) ** 2) / np.sum(noise**2))
    assert snr > 30


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_decode_pcm_widths(width: int) -> None:
    values = np.array([[0.0], [0.5], [-0.5], [0.25]], dtype=np.float32)
    scale = {1: 128, 2: 1 << 15, 3: 1 << 23, 4: 1 << 31}[width]
    ints = (values[:, 0] * scale).astype(np.int64)
    if width == 1:
        raw = bytes(int(v) + 128 for v in ints)
    else:
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in ints)
    assert np.allclose(decode_pcm(raw, width, 1), values, atol=1 / 128)


def test_resampler_keeps_frequency_and_chunking_does_not_matter() -> None:
    source = tone(440, 1.0, 44100)
    whole = Resampler(44100, 16000).process(source)
    streamer = Resampler(44100, 16000)
    pieces = np.concatenate([streamer.process(source[i:i + 441]) for i in range(0, len(source), 441)])
    assert len(whole) == len(pieces) == 16000
    assert np.allclose(whole, pieces, atol=1e-5)
    assert abs(dominant_hz(whole, 16000) - 440) < 3


def test_resampler_removes_what_16k_cannot_hold() -> None:
    out = Resampler(44100, 16000).process(tone(12000, 0.5, 44100))
    assert rms_dbfs((out * 32767).astype(np.int16)) < -40


@pytest.mark.parametrize(("rate", "channels", "width"), [(8000, 1, 2), (44100, 2, 2), (22050, 1, 1), (48000, 2, 3), (16000, 1, 4)])
def test_wav_files_become_16k_mono_int16(tmp_path: Path, rate: int, channels: int, width: int) -> None:
    mono = tone(300, 1.0, rate, 0.4)
    stereo = np.stack([mono, mono * 0.5], axis=1)[:, :channels]
    path = write_wav(tmp_path / "in.wav", stereo, rate, width)
    audio = read_all(WavFileSource(path))
    assert abs(len(audio) - 16000) <= 40
    assert abs(dominant_hz(audio[:16000].astype(np.float32), 16000) - 300) < 3
    expected = 0.4 * (0.75 if channels == 2 else 1.0)
    assert abs(np.max(np.abs(audio[200:-200])) / 32768 - expected) < 0.03


def test_extensible_float_and_mulaw_wav_headers(tmp_path: Path) -> None:
    signal = tone(500, 0.5, 16000, 0.5)

    def riff(fmt: bytes, data: bytes) -> bytes:
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"LIST" + struct.pack("<I", 4) + b"INFO" + b"data" + struct.pack("<I", len(data)) + data
        return b"RIFF" + struct.pack("<I", len(body)) + body

    pcm_guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    extensible = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 16000, 32000, 2, 16, 22, 16, 4) + pcm_guid
    floats = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    mulaw = struct.pack("<HHIIHH", 7, 1, 16000, 16000, 1, 8)
    ints = (signal * 32767).astype("<i2")
    cases = {
        "ext.wav": riff(extensible, ints.tobytes()),
        "float.wav": riff(floats, signal.astype("<f4").tobytes()),
        "mulaw.wav": riff(mulaw, mulaw_encode(ints)),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        audio = read_all(WavFileSource(tmp_path / name))
        assert len(audio) == 8000, name
        assert abs(dominant_hz(audio.astype(np.float32), 16000) - 500) < 3, name


def test_unreadable_files_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("hello")
    mp3 = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 0x55, 1, 8000, 1000, 1, 0) + b"data" + struct.pack("<I", 0)
    (tmp_path / "mp3.wav").write_bytes(mp3)
    write_wav(tmp_path / "empty.wav", np.zeros((0, 1), dtype=np.float32), 16000, 2)
    expectations = {
        "notes.wav": "not a WAV file",
        "mp3.wav": "compressed WAV (MP3)",
        "empty.wav": "no audio",
        "missing.wav": "no such file",
    }
    for name, words in expectations.items():
        with pytest.raises(UnsupportedAudioError) as caught:
            WavFileSource(tmp_path / name)
        assert words in str(caught.value) and "\n" not in str(caught.value)
    assert UnsupportedAudioError.exit_status == 2


def test_mulaw_source_decodes_twilio_sized_chunks_and_rejects_text() -> None:
    ints = (tone(400, 0.5, 8000, 0.5) * 32767).astype(np.int16)
    payload = mulaw_encode(ints)
    audio = read_all(MulawSource([payload[i:i + 160] for i in range(0, len(payload), 160)]))
    assert abs(len(audio) - 8000) <= 40
    assert abs(dominant_hz(audio.astype(np.float32), 16000) - 400) < 3
    with pytest.raises(AudioFormatError):
        list(MulawSource(["not bytes"]).frames())  # type: ignore[list-item]


def burst_stream(pattern: list[tuple[str, float]]) -> list[np.ndarray]:
    noise = np.random.default_rng(7)
    pieces = []
    for kind, seconds in pattern:
        n = int(seconds * 16000)
        if kind == "speech":
            pieces.append((tone(180, seconds, 16000, 0.3) * 32767).astype(np.int16))
        else:
            pieces.append(noise.normal(0, 30, n).astype(np.int16))
    audio = np.concatenate(pieces)
    return [audio[i:i + FRAME_SAMPLES] for i in range(0, len(audio), FRAME_SAMPLES)]


def test_endpointer_splits_utterances_on_trailing_silence_only() -> None:
    endpointer = Endpointer(silence_seconds=0.8, no_speech_seconds=None)
    frames = burst_stream([("quiet", 0.5), ("speech", 1.0), ("quiet", 0.4), ("speech", 0.5), ("quiet", 1.2), ("speech", 0.7), ("quiet", 1.0)])
    events = [e for f in frames for e in endpointer.push(f)]
    kinds = [e.boundary for e in events]
    assert kinds == [Boundary.SPEECH_STARTED, Boundary.UTTERANCE_ENDED, Boundary.SPEECH_STARTED, Boundary.UTTERANCE_ENDED]
    assert events[0].at_seconds == pytest.approx(0.5, abs=0.05)
    assert events[1].at_seconds == pytest.approx(2.4, abs=0.05)
    assert events[2].at_seconds == pytest.approx(3.6, abs=0.05)


def test_endpointer_reports_no_speech_and_restarts_the_wait() -> None:
    endpointer = Endpointer(silence_seconds=0.8, no_speech_seconds=2.0)
    events = [e for f in burst_stream([("quiet", 5.0)]) for e in endpointer.push(f)]
    assert [round(e.at_seconds, 1) for e in events] == [2.0, 4.0]
    endpointer.restart_wait()
    assert endpointer.push(burst_stream([("quiet", 1.0)])[0]) == []


def test_endpointer_closes_an_utterance_cut_off_by_the_end_of_input() -> None:
    endpointer = Endpointer(silence_seconds=0.8, no_speech_seconds=None)
    for frame in burst_stream([("quiet", 0.3), ("speech", 0.5)]):
        endpointer.push(frame)
    assert [e.boundary for e in endpointer.finish()] == [Boundary.UTTERANCE_ENDED]


def test_prosody_measures_pitch_loudness_and_rate() -> None:
    t = np.arange(16000) / 16000
    voiced = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    samples = (0.3 * voiced / np.max(np.abs(voiced)) * 32767).astype(np.int16)
    assert pitch_hz(samples) == pytest.approx(150, rel=0.05)
    higher = (0.3 * np.sin(2 * np.pi * 240 * t) * 32767).astype(np.int16)
    assert pitch_hz(higher) == pytest.approx(240, rel=0.05)
    assert pitch_hz(np.random.default_rng(3).normal(0, 3000, 16000).astype(np.int16)) is None
    quiet = (samples * 0.1).astype(np.int16)
    assert loudness_dbfs(samples) - loudness_dbfs(quiet) == pytest.approx(20, abs=0.5)
    words = [Word("a", 0.5, 0.8, 1.0), Word("b", 0.8, 1.2, 1.0), Word("c", 1.2, 1.5, 1.0)]
    assert words_per_second(words) == pytest.approx(3.0)
    assert words_per_second([]) is None


def test_barge_in_needs_sustained_speech() -> None:
    detector = BargeInDetector()
    assert not any(detector.push(f) for f in burst_stream([("quiet", 1.0), ("speech", 0.1), ("quiet", 0.5)]))
    assert any(detector.push(f) for f in burst_stream([("speech", 0.5)]))


def test_device_settings_parse_as_default_index_or_name() -> None:
    assert [parse_device(v) for v in ("", "  ", "3", "USB Mic", None, 2)] == [None, None, 3, "USB Mic", None, 2]
