"""Audio sources: anything that yields 16 kHz mono int16 frames (microphone, WAV file, μ-law stream)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Protocol

from frontdoor.voice.errors import AudioFormatError, AudioLibraryMissingError, NoInputDeviceError, UnsupportedAudioError
from frontdoor.voice.pcm import Resampler, decode_pcm, mix_down, mulaw_decode, to_int16
from frontdoor.voice.wavfile import IEEE_FLOAT, MULAW, read_blocks, read_format

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.1
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)
MULAW_RATE = 8_000


class AudioSource(Protocol):
    """16 kHz mono int16 frames of ``FRAME_SAMPLES`` (the last one may be shorter)."""

    description: str
    live: bool

    def frames(self) -> Iterator[np.ndarray]: ...


class Reframer:
    """Cuts a stream of float sample arrays into int16 frames of a fixed length."""

    def __init__(self, frame_samples: int = FRAME_SAMPLES) -> None:
        self.frame_samples = frame_samples
        self._pending: list[np.ndarray] = []
        self._count = 0

    def push(self, samples: np.ndarray) -> Iterator[np.ndarray]:
        import numpy as np

        if samples.size:
            self._pending.append(samples)
            self._count += samples.size
        if self._count < self.frame_samples:
            return
        joined = np.concatenate(self._pending)
        whole = (joined.size // self.frame_samples) * self.frame_samples
        for start in range(0, whole, self.frame_samples):
            yield to_int16(joined[start:start + self.frame_samples])
        rest = joined[whole:]
        self._pending = [rest] if rest.size else []
        self._count = rest.size

    def flush(self) -> Iterator[np.ndarray]:
        import numpy as np

        if self._count:
            yield to_int16(np.concatenate(self._pending))
        self._pending, self._count = [], 0


@dataclass
class WavFileSource:
    """A WAV file, resampled to 16 kHz and mixed down to mono as it is read."""

    path: Path
    live: bool = False

    def __post_init__(self) -> None:
        require_numpy()
        try:
            with open(self.path, "rb") as handle:
                self.format = read_format(self.path, handle)
        except FileNotFoundError:
            raise UnsupportedAudioError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise UnsupportedAudioError(f"{self.path}: is a folder, not a WAV file") from None
        except PermissionError:
            raise UnsupportedAudioError(f"{self.path}: permission denied") from None
        if self.format.data_bytes < self.format.frame_bytes:
            raise UnsupportedAudioError(f"{self.path}: WAV file has no audio in it")
        self.description = str(self.path)

    @property
    def duration_seconds(self) -> float:
        return self.format.duration_seconds

    def frames(self) -> Iterator[np.ndarray]:
        fmt = self.format
        resampler = Resampler(fmt.sample_rate, SAMPLE_RATE)
        reframer = Reframer()
        with open(self.path, "rb") as handle:
            for block in read_blocks(handle, fmt, fmt.sample_rate // 10 or 1):
                if fmt.encoding == MULAW:
                    samples = mix_down(mulaw_decode(block).reshape(-1, fmt.channels) / 32768.0)
                else:
                    samples = mix_down(decode_pcm(block, fmt.sample_width, fmt.channels, is_float=fmt.encoding == IEEE_FLOAT))
                yield from reframer.push(resampler.process(samples))
        yield from reframer.push(resampler.flush())
        yield from reframer.flush()


@dataclass
class MulawSource:
    """8 kHz G.711 μ-law chunks, as Twilio Media Streams sends them (base64-decoded ``media.payload``)."""

    chunks: Iterable[bytes]
    description: str = "μ-law stream"
    live: bool = False

    def frames(self) -> Iterator[np.ndarray]:
        require_numpy()
        resampler = Resampler(MULAW_RATE, SAMPLE_RATE)
        reframer = Reframer()
        for chunk in self.chunks:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise AudioFormatError(f"μ-law audio must be bytes, got {type(chunk).__name__} (base64-decode Twilio payloads first)")
            yield from reframer.push(resampler.process(mulaw_decode(bytes(chunk)) / 32768.0))
        yield from reframer.push(resampler.flush())
        yield from reframer.flush()


@dataclass
class MicrophoneSource:
    """A sounddevice input stream, opened at 16 kHz when the device allows, else at its own rate and resampled."""

    device: int | str | None
    sample_rate: int
    name: str
    live: bool = True

    @property
    def description(self) -> str:
        return f"microphone {self.name!r} at {self.sample_rate} Hz"

    def frames(self) -> Iterator[np.ndarray]:
        sd = import_sounddevice()
        resampler = Resampler(self.sample_rate, SAMPLE_RATE)
        reframer = Reframer()
        block = int(self.sample_rate * FRAME_SECONDS)
        try:
            stream = sd.InputStream(device=self.device, channels=1, dtype="int16", samplerate=self.sample_rate, blocksize=block)
        except (sd.PortAudioError, ValueError) as exc:
            raise NoInputDeviceError(f"cannot open {self.description}: {exc}") from None
        with stream:
            while True:
                data, _overflowed = stream.read(block)
                yield from reframer.push(resampler.process(data[:, 0] / 32768.0))


def parse_device(value: str | int | None) -> int | str | None:
    """A device setting: empty means the system default, digits an index, anything else part of a name."""
    if value is None or isinstance(value, int):
        return value
    value = value.strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


def open_microphone(device: str | int | None) -> MicrophoneSource:
    """Find the input device and settle on a sample rate it supports."""
    require_numpy()
    sd = import_sounddevice()
    wanted = parse_device(device)
    try:
        info = sd.query_devices(wanted, kind="input")
    except (sd.PortAudioError, ValueError) as exc:
        raise NoInputDeviceError(_no_device_message(sd, wanted, exc)) from None
    if int(info["max_input_channels"]) < 1:
        raise NoInputDeviceError(f"{info['name']!r} has no input channels; pick a microphone with --device")
    index = int(info["index"])
    for rate in (SAMPLE_RATE, int(info["default_samplerate"])):
        try:
            sd.check_input_settings(device=index, channels=1, dtype="int16", samplerate=rate)
        except (sd.PortAudioError, ValueError):
            continue
        return MicrophoneSource(device=index, sample_rate=rate, name=str(info["name"]))
    raise NoInputDeviceError(f"{info['name']!r} accepts neither 16000 Hz nor its default rate in mono 16-bit")


def _no_device_message(sd, wanted: int | str | None, exc: Exception) -> str:  # type: ignore[no-untyped-def]
    try:
        names = [f"{d['index']}: {d['name']}" for d in sd.query_devices() if int(d["max_input_channels"]) > 0]
    except sd.PortAudioError:
        names = []
    available = f"; input devices: {', '.join(names)}" if names else "; no input devices found (is a microphone connected?)"
    what = "no default input device" if wanted is None else f"no input device matches {wanted!r}"
    detail = str(exc).splitlines()[0] if names else ""
    return f"{what}{f' ({detail})' if detail else ''}{available}; use --input FILE.wav to run from a recording"


def import_sounddevice():  # type: ignore[no-untyped-def]
    """sounddevice, or a one-line error saying what to install."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise AudioLibraryMissingError(
            f"the microphone and speaker need sounddevice and PortAudio ({exc}): "
            "pip install 'frontdoor[voice]' and apt install libportaudio2, or use --input FILE.wav --output-dir DIR"
        ) from None
    return sounddevice


def require_numpy() -> None:
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise AudioLibraryMissingError("audio needs numpy: pip install 'frontdoor[voice]'") from None
