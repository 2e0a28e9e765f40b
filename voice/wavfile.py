"""Reading WAV files of any rate, channel count and PCM width (8/16/24/32-bit, float, μ-law)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from frontdoor.voice.errors import UnsupportedAudioError

PCM = 0x0001
IEEE_FLOAT = 0x0003
MULAW = 0x0007
EXTENSIBLE = 0xFFFE
_FORMAT_NAMES = {0x0002: "ADPCM", 0x0006: "A-law", 0x0011: "IMA ADPCM", 0x0031: "GSM 6.10", 0x0055: "MP3", 0x0161: "WMA"}


@dataclass(frozen=True)
class WavFormat:
    """What a WAV file's ``fmt`` chunk says, reduced to what decoding needs."""

    encoding: int
    channels: int
    sample_rate: int
    sample_width: int
    data_offset: int
    data_bytes: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.sample_width

    @property
    def duration_seconds(self) -> float:
        return self.data_bytes / self.frame_bytes / self.sample_rate


def read_format(path: Path, handle: BinaryIO) -> WavFormat:
    """Walk the RIFF chunks up to ``data``; raise ``UnsupportedAudioError`` for anything unreadable."""
    header = handle.read(12)
    if len(header) < 12 or header[:4] not in (b"RIFF", b"RIFX") or header[8:12] != b"WAVE":
        raise UnsupportedAudioError(f"{path}: not a WAV file (convert it first, e.g. `sox {path.name} -b 16 out.wav`)")
    if header[:4] == b"RIFX":
        raise UnsupportedAudioError(f"{path}: big-endian WAV (RIFX) is not supported; convert it with `sox {path.name} out.wav`")
    fmt: tuple[int, int, int, int] | None = None
    while True:
        chunk = handle.read(8)
        if len(chunk) < 8:
            raise UnsupportedAudioError(f"{path}: WAV file has no audio data chunk (truncated?)")
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"fmt ":
            fmt = _parse_fmt(path, handle.read(size))
            handle.seek(size % 2, 1)
        elif name == b"data":
            if fmt is None:
                raise UnsupportedAudioError(f"{path}: WAV data comes before its format chunk")
            encoding, channels, rate, width = fmt
            offset = handle.tell()
            available = handle.seek(0, 2) - offset
            handle.seek(offset)
            return WavFormat(encoding, channels, rate, width, offset, min(size, available))
        else:
            handle.seek(size + size % 2, 1)


def _parse_fmt(path: Path, body: bytes) -> tuple[int, int, int, int]:
    if len(body) < 16:
        raise UnsupportedAudioError(f"{path}: WAV format chunk is too short")
    encoding, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if encoding == EXTENSIBLE and len(body) >= 26:
        encoding = struct.unpack("<H", body[24:26])[0]
    if encoding not in (PCM, IEEE_FLOAT, MULAW):
        name = _FORMAT_NAMES.get(encoding, f"format 0x{encoding:04x}")
        raise UnsupportedAudioError(f"{path}: compressed WAV ({name}); convert it to PCM, e.g. `sox {path.name} -b 16 out.wav`")
    if channels < 1 or rate < 1:
        raise UnsupportedAudioError(f"{path}: WAV header says {channels} channels at {rate} Hz")
    valid_bits = {PCM: (8, 16, 24, 32), IEEE_FLOAT: (32, 64), MULAW: (8,)}[encoding]
    if bits not in valid_bits:
        raise UnsupportedAudioError(f"{path}: {bits}-bit samples are not supported (8, 16, 24 or 32-bit PCM)")
    return encoding, channels, rate, bits // 8


def read_blocks(handle: BinaryIO, fmt: WavFormat, frames_per_block: int) -> Iterator[bytes]:
    """The data chunk in blocks of whole frames."""
    handle.seek(fmt.data_offset)
    remaining = fmt.data_bytes - fmt.data_bytes % fmt.frame_bytes
    block = frames_per_block * fmt.frame_bytes
    while remaining > 0:
        data = handle.read(min(block, remaining))
        if not data:
            return
        remaining -= len(data)
        yield data
