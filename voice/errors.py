"""What can go wrong with audio, models and speech: one-line errors the CLI renders with exit status 2."""

from __future__ import annotations

from frontdoor.errors import ConfigError, FrontdoorError, InputError


class NoInputDeviceError(InputError):
    """No microphone, or none matching the requested name or index."""


class UnsupportedAudioError(InputError):
    """A file that is not audio frontdoor can read (not WAV, compressed, truncated)."""


class AudioFormatError(InputError):
    """Audio in the wrong shape for where it is used (sample width, rate, μ-law chunk)."""


class ModelError(ConfigError):
    """A speech model that is missing, incomplete or cannot be loaded."""


class ModelDownloadError(FrontdoorError):
    """A model download that failed (network, size or checksum mismatch, bad archive)."""


class SpeechOutputError(ConfigError):
    """Speech synthesis or playback that cannot start (no espeak-ng, no output device, bad voice)."""


class AudioLibraryMissingError(ConfigError):
    """A Python audio library that is not installed (pip install 'frontdoor[voice]')."""
