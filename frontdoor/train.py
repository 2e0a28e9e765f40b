"""``frontdoor train``: rebuild the understanding model from the training corpus, or check that it matches."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Sequence

from frontdoor import CONFIG_DIR
from frontdoor.detection import sentence_encoder
from frontdoor.errors import ConfigError, InputError
from frontdoor.handoff.understanding.corpus import CorpusError, corpus_digest
from frontdoor.handoff.understanding.encoder import INSTALL_HINT
from frontdoor.handoff.understanding.model import MANIFEST, default_model_folder
from frontdoor.handoff.understanding.training import TrainingError, train_model
from frontdoor.settings import Settings

SHIPPED_CORPUS = CONFIG_DIR / "corpus"


def run_train(settings: Settings, corpora: Sequence[str] | None, out: str | None, check: bool, err: IO[str]) -> int:
    folders = [Path(c).expanduser() for c in corpora] if corpora else [SHIPPED_CORPUS]
    target = Path(out).expanduser() if out else settings.model_dir or default_model_folder()
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"{folder}: corpus folder not found")
    if check:
        return _check(folders, target, err)
    encoder = sentence_encoder()
    if encoder is None:
        raise ConfigError(f"training needs the sentence encoder: {INSTALL_HINT}")
    started = time.monotonic()
    try:
        manifest = train_model(folders, target, encoder, progress=ProgressBar(err))
    except (TrainingError, CorpusError) as exc:
        raise InputError(str(exc)) from None
    frozen = manifest.get("frozen_split", {})
    print(
        f"frontdoor: trained on {manifest['utterances']['train']} utterances in {time.monotonic() - started:.0f} s; "
        f"wrote {target}; frozen split ({frozen.get('utterances', 0)}): "
        + ", ".join(f"{k} P {v['precision']:.2f} R {v['recall']:.2f}" for k, v in frozen.items() if isinstance(v, dict)),
        file=err,
    )
    return 0


def _check(folders: Sequence[Path], target: Path, err: IO[str]) -> int:
    try:
        trained_on = json.loads((target / MANIFEST).read_text(encoding="utf-8"))["corpus"]
    except (OSError, ValueError, KeyError):
        raise InputError(f"{target}: no model manifest to check; run `frontdoor train`") from None
    try:
        current = [corpus_digest(folder) for folder in folders]
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    if sorted(trained_on.values()) != sorted(current):
        print(f"frontdoor: the model in {target} was not trained on the current corpus; run `frontdoor train`", file=err)
        return 1
    print(f"frontdoor: the model in {target} matches the corpus", file=err)
    return 0


class ProgressBar:
    """Training progress on stderr: a bar that redraws on a terminal, a line per stage otherwise."""

    def __init__(self, out: IO[str] = sys.stderr) -> None:
        self.out = out
        self.stage = ""
        self.live = out.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.live:
            filled = round(30 * done / max(total, 1))
            self.out.write(f"\r{stage}: [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            if done >= total:
                self.out.write("\n")
        elif stage != self.stage or done >= total:
            self.out.write(f"{stage}: {done}/{total}\n")
        self.stage = stage
        self.out.flush()
