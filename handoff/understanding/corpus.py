"""The training corpus: labelled caller utterances in JSON lines, read and checked against one schema.

Each line of a ``*.jsonl`` file in the corpus folder (``config/corpus/`` by default) is
``{"text": ..., "signals": [...], "act": ..., "note": ...}`` (see ``config/corpus/README.md``);
``calls.jsonl`` there holds whole labelled calls instead and is read by the evaluation, not here.
A fixed share of utterances, chosen by a hash of their words, is the frozen split: never trained or
tuned on, only reported.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from frontdoor.handoff.understanding.labels import ACTS, SIGNAL_LABELS

CALLS_FILE = "calls.jsonl"
FROZEN_PERCENT = 15
_KEYS = {"text", "signals", "act", "note"}
_WORD = re.compile(r"[a-z0-9']+")

Split = Literal["train", "frozen", "all"]


class CorpusError(Exception):
    """A corpus file is missing, unreadable or holds a line that breaks the schema."""


@dataclass(frozen=True)
class Utterance:
    text: str
    signals: frozenset[str]
    act: str
    source: str

    @property
    def calm(self) -> bool:
        return not self.signals & set(SIGNAL_LABELS)


def comparable(text: str) -> str:
    """Lower-case words only: how utterances are compared for duplicates and split."""
    return " ".join(_WORD.findall(text.lower().replace("\u2019", "'")))


def is_frozen(text: str) -> bool:
    """Whether ``text`` belongs to the frozen split (a fixed hash of its words, so the split never moves)."""
    digest = hashlib.sha256(comparable(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < FROZEN_PERCENT


def corpus_files(folder: Path) -> list[Path]:
    files = sorted(path for path in folder.glob("*.jsonl") if path.name != CALLS_FILE)
    if not files:
        raise CorpusError(f"{folder}: no corpus files (*.jsonl)")
    return files


def read_corpus(folder: Path, split: Split = "train") -> list[Utterance]:
    """Every utterance of the corpus in ``folder`` (the train or frozen split, or all), checked; duplicates rejected."""
    found: dict[str, str] = {}
    utterances = []
    for path in corpus_files(folder):
        for number, item in _lines(path):
            where = f"{path.name}:{number}"
            utterance = _utterance(item, where)
            key = comparable(utterance.text)
            if key in found:
                raise CorpusError(f"{where}: duplicate of {found[key]} ({utterance.text!r})")
            found[key] = where
            if split == "all" or (split == "frozen") == is_frozen(utterance.text):
                utterances.append(utterance)
    return utterances


def corpus_digest(folder: Path) -> str:
    """SHA-256 over the corpus files' names and bytes: what a trained model was built from."""
    digest = hashlib.sha256()
    for path in corpus_files(folder):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _lines(path: Path) -> Iterable[tuple[int, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path.name}:{number}: not valid JSON ({exc.msg})") from None


def _utterance(item: object, where: str) -> Utterance:
    if not isinstance(item, dict):
        raise CorpusError(f"{where}: expected an object with text, signals and act")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise CorpusError(f"{where}: unknown key {unknown[0]!r}")
    text, signals, act = item.get("text"), item.get("signals"), item.get("act")
    if not isinstance(text, str) or not comparable(text):
        raise CorpusError(f"{where}: 'text' must be a non-empty string")
    if not isinstance(signals, list) or not all(isinstance(s, str) for s in signals):
        raise CorpusError(f"{where}: 'signals' must be a list of strings")
    wrong = [s for s in signals if s not in SIGNAL_LABELS]
    if wrong:
        raise CorpusError(f"{where}: unknown signal {wrong[0]!r} (known: {', '.join(SIGNAL_LABELS)})")
    if act not in ACTS:
        raise CorpusError(f"{where}: unknown act {act!r} (known: {', '.join(ACTS)})")
    return Utterance(text=text, signals=frozenset(signals), act=act, source=where)
