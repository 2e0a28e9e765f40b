"""Prosody of one utterance: loudness, pitch and speaking rate, for the handoff detector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from frontdoor.handoff.signals import AudioFeatures
from frontdoor.voice.pcm import SILENCE_DBFS, rms_dbfs

if TYPE_CHECKING:
    import numpy as np

    from frontdoor.voice.recognizer import Word

PITCH_MIN_HZ = 60.0
PITCH_MAX_HZ = 400.0
PITCH_FRAME_SECONDS = 0.04
VOICING_THRESHOLD = 0.5
VOICED_ABOVE_QUIETEST_DB = 25.0
PITCH_MIN_DBFS = -50.0


def measure(samples: np.ndarray, words: Sequence[Word], sample_rate: int = 16_000) -> AudioFeatures:
    """AudioFeatures for one utterance's int16 samples and the recognizer's word timings."""
    duration = len(samples) / sample_rate
    return AudioFeatures(
        rms_db=round(loudness_dbfs(samples, sample_rate), 1) if len(samples) else None,
        pitch_hz=_rounded(pitch_hz(samples, sample_rate)),
        words_per_second=_rounded(words_per_second(words)),
        duration_seconds=round(duration, 2) if duration else None,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def loudness_dbfs(samples: np.ndarray, sample_rate: int = 16_000) -> float:
    """RMS level over the speech in the utterance (pauses left out), in dBFS."""
    import numpy as np

    frame = int(sample_rate * 0.02)
    levels = [rms_dbfs(samples[i:i + frame]) for i in range(0, len(samples) - frame + 1, frame)]
    if not levels:
        return rms_dbfs(samples)
    loudest = max(levels)
    if loudest <= SILENCE_DBFS:
        return SILENCE_DBFS
    speech = [i for i, level in enumerate(levels) if level > loudest - VOICED_ABOVE_QUIETEST_DB]
    voiced = np.concatenate([samples[i * frame:(i + 1) * frame] for i in speech])
    return rms_dbfs(voiced)


def pitch_hz(samples: np.ndarray, sample_rate: int = 16_000) -> float | None:
    """Median fundamental frequency over voiced frames (normalised autocorrelation), or None if unvoiced."""
    import numpy as np

    frame = int(sample_rate * PITCH_FRAME_SECONDS)
    shortest = int(sample_rate / PITCH_MAX_HZ)
    longest = int(sample_rate / PITCH_MIN_HZ)
    count = len(samples) // frame
    if count == 0 or frame <= longest:
        return None
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    frames -= frames.mean(axis=1, keepdims=True)
    energy = np.einsum("ij,ij->i", frames, frames)
    loud = energy / frame > (32768.0 * 10 ** (PITCH_MIN_DBFS / 20)) ** 2
    frames, energy = frames[loud], energy[loud]
    if not len(frames):
        return None
    spectrum = np.fft.rfft(frames, n=2 * frame, axis=1)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    normalised = correlation / energy[:, None] * (frame / np.arange(frame, 0, -1, dtype=np.float64))
    estimates = [sample_rate / lag for row in normalised if (lag := _first_strong_peak(row, shortest, longest)) is not None]
    return float(np.median(estimates)) if estimates else None


def _first_strong_peak(normalised: np.ndarray, shortest: int, longest: int) -> int | None:
    """The shortest lag whose correlation peak is near the best one (avoids picking a multiple of the period)."""
    window = normalised[shortest:longest + 1]
    best = float(window.max())
    if best < VOICING_THRESHOLD:
        return None
    for offset in range(1, len(window) - 1):
        value = window[offset]
        if value >= 0.9 * best and value >= window[offset - 1] and value >= window[offset + 1]:
            return shortest + offset
    return shortest + int(window.argmax())


def words_per_second(words: Sequence[Word]) -> float | None:
    """Words over the time from the first word's start to the last word's end."""
    if not words:
        return None
    span = words[-1].end - words[0].start
    return len(words) / span if span > 0 else None
