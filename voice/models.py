"""Which speech model to use: the official Vosk models frontdoor knows, and where they are installed.

``FRONTDOOR_MODEL_BASE_URL`` replaces https://alphacephei.com/vosk/models as the place model zips
are fetched from (a mirror inside your network, or a local server in tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from frontdoor.settings import Settings
from frontdoor.voice.errors import ModelError

BASE_URL_ENV = "FRONTDOOR_MODEL_BASE_URL"
OFFICIAL_BASE_URL = "https://alphacephei.com/vosk/models"
DEFAULT_MODEL = "vosk-model-small-en-us-0.15"


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model; ``size_bytes`` and ``sha256`` are checked when known."""

    name: str
    language: str
    size_text: str
    description: str
    size_bytes: int | None = None
    sha256: str | None = None

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.name}.zip"


CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(DEFAULT_MODEL, "en-us", "40 MB", "small US English: desk speakers, laptops, Raspberry Pi (default)"),
    ModelSpec("vosk-model-en-us-0.22-lgraph", "en-us", "128 MB", "US English, more accurate, still fast; supports grammars"),
    ModelSpec("vosk-model-en-us-0.22", "en-us", "1.8 GB", "US English, most accurate; needs about 6 GB of memory"),
)


def base_url() -> str:
    return os.environ.get(BASE_URL_ENV, "").strip() or OFFICIAL_BASE_URL


def find_spec(name: str) -> ModelSpec | None:
    return next((spec for spec in CATALOG if spec.name == name), None)


def models_dir(settings: Settings) -> Path:
    """The per-user folder downloaded models are unpacked into."""
    return settings.data_dir / "models"


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and ((path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file())


def installed_models(settings: Settings) -> list[str]:
    folder = models_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(child.name for child in folder.iterdir() if is_model_dir(child))


def resolve_model_dir(settings: Settings, override: str | None = None) -> Path:
    """``--model DIR``, else ``voice.model_dir``, else the default (or any) downloaded model."""
    chosen = override or settings.voice.model_dir
    if chosen:
        return Path(chosen).expanduser()
    installed = installed_models(settings)
    if DEFAULT_MODEL in installed:
        return models_dir(settings) / DEFAULT_MODEL
    if installed:
        return models_dir(settings) / installed[0]
    raise ModelError(f"no speech model installed in {models_dir(settings)}: run `frontdoor model download` or pass --model DIR")
