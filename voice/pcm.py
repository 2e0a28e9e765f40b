"""Pure sample arithmetic with numpy: PCM decoding, mixing down, resampling, G.711 μ-law, levels."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SILENCE_DBFS = -100.0
_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def decode_pcm(data: bytes, sample_width: int, channels: int, *, is_float: bool = False) -> np.ndarray:
    """Interleaved little-endian PCM bytes to float32 samples in [-1, 1], shaped (frames, channels)."""
    import numpy as np

    usable = len(data) - len(data) % (sample_width * channels)
    raw = data[:usable]
    if is_float and sample_width == 4:
        samples = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    elif is_float and sample_width == 8:
        samples = np.frombuffer(raw, dtype="<f8").astype(np.float32)
    elif sample_width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif sample_width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif sample_width == 3:
        triplets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triplets[:, 0] | (triplets[:, 1] << 8) | (triplets[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
        samples = values.astype(np.float32) / float(1 << 23)
    elif sample_width == 4:
        samples = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise ValueError(f"unsupported sample width: {sample_width} bytes")
    return samples.reshape(-1, channels)


def mix_down(samples: np.ndarray) -> np.ndarray:
    """(frames, channels) to mono by averaging the channels."""
    import numpy as np

    return samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, clipping anything louder."""
    import numpy as np

    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def mulaw_decode(data: bytes) -> np.ndarray:
    """G.711 μ-law bytes (Twilio Media Streams payloads) to int16 samples."""
    import numpy as np

    codes = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def mulaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples to G.711 μ-law bytes (for sending audio back down a phone line)."""
    import numpy as np

    values = samples.astype(np.int32)
    sign = np.where(values < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(values), _MULAW_CLIP) + _MULAW_BIAS
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def rms_dbfs(samples: np.ndarray) -> float:
    """Loudness of int16 samples in dB relative to full scale (-100 for digital silence)."""
    import numpy as np

    if samples.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(np.square(samples.astype(np.float64)))))
    return max(SILENCE_DBFS, 20.0 * math.log10(rms / 32768.0)) if rms > 0 else SILENCE_DBFS


class Resampler:
    """Streaming sample-rate conversion: anti-alias low-pass (windowed sinc) then linear interpolation."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        import numpy as np

        if rate_in <= 0 or rate_out <= 0:
            raise ValueError("sample rates must be positive")
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._filter = _lowpass(0.45 * rate_out / rate_in) if rate_out < rate_in else np.ones(1, dtype=np.float32)
        self._history = np.zeros(len(self._filter) - 1, dtype=np.float32)
        self._filtered = np.zeros(0, dtype=np.float32)
        self._dropped = 0
        self._emitted = 0

    @property
    def identity(self) -> bool:
        return self.rate_in == self.rate_out

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Float mono samples at ``rate_in`` to float mono samples at ``rate_out``."""
        import numpy as np

        if self.identity:
            return samples.astype(np.float32, copy=False)
        padded = np.concatenate([self._history, samples.astype(np.float32, copy=False)])
        filtered = np.convolve(padded, self._filter, mode="valid") if len(self._filter) > 1 else padded
        if len(self._filter) > 1:
            self._history = padded[len(padded) - (len(self._filter) - 1):]
        self._filtered = np.concatenate([self._filtered, filtered.astype(np.float32, copy=False)])
        available = self._dropped + len(self._filtered) - 1
        last = (available * self.rate_out) // self.rate_in
        if last < self._emitted:
            return np.zeros(0, dtype=np.float32)
        indices = np.arange(self._emitted, last + 1, dtype=np.int64)
        positions = indices * self.rate_in / self.rate_out - self._dropped
        out = np.interp(positions, np.arange(len(self._filtered)), self._filtered).astype(np.float32)
        self._emitted = last + 1
        next_position = (self._emitted * self.rate_in) // self.rate_out
        keep_from = min(len(self._filtered), max(0, next_position - self._dropped))
        self._filtered = self._filtered[keep_from:]
        self._dropped += keep_from
        return out

    def flush(self) -> np.ndarray:
        """Push the filter's tail out at the end of a stream."""
        import numpy as np

        if self.identity:
            return np.zeros(0, dtype=np.float32)
        return self.process(np.zeros(len(self._filter) // 2 + 2, dtype=np.float32))


def _lowpass(cutoff: float, half_width: int = 32) -> np.ndarray:
    """Windowed-sinc low-pass filter; ``cutoff`` in cycles per input sample."""
    import numpy as np

    n = np.arange(-half_width, half_width + 1, dtype=np.float64)
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(len(n))
    return (taps / taps.sum()).astype(np.float32)
