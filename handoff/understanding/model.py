"""The trained understanding model: from a caller turn's words to signal probabilities and a dialogue act.

Two feature sets feed small linear heads trained by ``frontdoor train`` (``training.py``): TF-IDF word
and character n-grams (``ngrams.py``) and the all-MiniLM-L6-v2 sentence embedding (``encoder.py``).
Signals are independent (one logistic head each: a turn can ask for a person *and* be frustrated);
the act is one of ``ACTS`` (a softmax head). The artifact also holds a *lite* set of heads on n-grams
alone, used only when the sentence encoder is not installed.

The artifact is a NumPy ``.npz`` file (no pickles) plus ``manifest.json`` beside it, both in
``config/model/`` by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Mapping, Protocol, Sequence

import numpy as np

from frontdoor.handoff.understanding.labels import ACTS, SIGNAL_LABELS
from frontdoor.handoff.understanding.ngrams import NgramVocabulary

ARTIFACT = "understanding.npz"
MANIFEST = "manifest.json"
VARIANTS = ("full", "lite")


def default_model_folder() -> Path:
    return Path(str(files("frontdoor.config"))) / "model"


class ModelError(Exception):
    """The model artifact is missing, unreadable, or does not fit the code or the encoder."""


class SentenceEncoder(Protocol):
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Head:
    """A linear head: logits = n-gram features @ ngram + embedding @ embedding + bias."""

    labels: tuple[str, ...]
    ngram: np.ndarray
    bias: np.ndarray
    embedding: np.ndarray | None = None

    def logits(self, columns: np.ndarray, values: np.ndarray, embedding: np.ndarray | None) -> np.ndarray:
        out = self.bias + values @ self.ngram[columns]
        if self.embedding is not None and embedding is not None:
            out = out + embedding @ self.embedding
        return out


@dataclass(frozen=True)
class Reading:
    """What the model read in one turn: each signal's probability and the act's."""

    signals: Mapping[str, float]
    acts: Mapping[str, float]

    @property
    def act(self) -> str:
        return max(self.acts, key=self.acts.__getitem__)

    @property
    def calm(self) -> float:
        """The probability that the turn carries no signal at all."""
        return float(np.prod([1.0 - p for p in self.signals.values()]))


@dataclass(frozen=True)
class Examples:
    """Training utterances with a signal, for "sounds like" evidence: their texts, signals and embeddings."""

    texts: tuple[str, ...]
    signals: tuple[frozenset[str], ...]
    embeddings: np.ndarray

    def __post_init__(self) -> None:
        self._by_signal  # made at load, not in the first handoff's webhook

    def nearest(self, embedding: np.ndarray, signal: str, count: int = 2) -> tuple[str, ...]:
        rows, embeddings = self._by_signal.get(signal, ((), None))
        if embeddings is None:
            return ()
        scores = embeddings @ embedding
        best = np.argsort(-scores, kind="stable")[:count]
        return tuple(self.texts[rows[i]] for i in best)

    @cached_property
    def _by_signal(self) -> dict[str, tuple[tuple[int, ...], np.ndarray]]:
        """Per signal, the rows that carry it and their embeddings as float32 (stored as float16), made once."""
        found: dict[str, tuple[tuple[int, ...], np.ndarray]] = {}
        for signal in {label for labels in self.signals for label in labels}:
            rows = tuple(i for i, labels in enumerate(self.signals) if signal in labels)
            found[signal] = (rows, self.embeddings[list(rows)].astype(np.float32))
        return found


class UnderstandingModel:
    """Reads caller turns. ``encoder`` None means the lite heads (n-grams only)."""

    def __init__(
        self,
        vocabulary: NgramVocabulary,
        heads: Mapping[str, Head],
        encoder: SentenceEncoder | None,
        examples: Examples | None,
        manifest: Mapping[str, object],
    ) -> None:
        self.vocabulary = vocabulary
        self.encoder = encoder
        self.variant = "full" if encoder is not None else "lite"
        self.signal_head = heads[f"{self.variant}.signals"]
        self.act_head = heads[f"{self.variant}.acts"]
        self.examples = examples if encoder is not None else None
        self.manifest = manifest

    def read(self, text: str) -> Reading:
        return self.read_many([text])[0]

    def read_many(self, texts: Sequence[str]) -> list[Reading]:
        embeddings = self.embed(texts)
        readings = []
        for row, text in enumerate(texts):
            embedding = embeddings[row] if embeddings is not None else None
            readings.append(self._reading(*self._ngrams(text), embedding))
        return readings

    def read_embedded(self, text: str) -> tuple[Reading, np.ndarray | None]:
        """The reading of ``text`` and its sentence embedding (None for the lite heads)."""
        embeddings = self.embed([text])
        embedding = embeddings[0] if embeddings is not None else None
        return self._reading(*self._ngrams(text), embedding), embedding

    def without_each_word(self, words: Sequence[str], signal: str, embedding: np.ndarray | None) -> list[float]:
        """``signal``'s probability with each word left out in turn: its n-grams gone, the turn's embedding kept."""
        head = self.signal_head
        column = head.labels.index(signal)
        found = []
        for i in range(len(words)):
            logits = head.logits(*self._ngrams(" ".join(words[:i] + words[i + 1 :])), embedding)
            found.append(float(1.0 / (1.0 + np.exp(-logits[column]))))
        return found

    def _ngrams(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The turn's n-gram features: columns and TF-IDF values."""
        return self.vocabulary.vector(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray | None:
        return self.encoder.encode(list(texts)) if self.encoder is not None and texts else None

    def _reading(self, columns: np.ndarray, values: np.ndarray, embedding: np.ndarray | None) -> Reading:
        signal = 1.0 / (1.0 + np.exp(-self.signal_head.logits(columns, values, embedding)))
        logits = self.act_head.logits(columns, values, embedding)
        act = np.exp(logits - logits.max())
        act /= act.sum()
        return Reading(
            signals=dict(zip(self.signal_head.labels, map(float, signal))),
            acts=dict(zip(self.act_head.labels, map(float, act))),
        )


def load_model(folder: Path | None = None, encoder: SentenceEncoder | None = None) -> UnderstandingModel:
    """The model in ``folder`` (default: the shipped one); lite heads when ``encoder`` is None."""
    folder = folder or default_model_folder()
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        with np.load(folder / ARTIFACT, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError as exc:
        raise ModelError(f"{folder}: no trained model ({Path(exc.filename).name} missing); run `frontdoor train`") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: cannot read the model ({exc})") from None
    try:
        vocabulary = NgramVocabulary({name: i for i, name in enumerate(arrays["vocabulary"].tolist())}, arrays["idf"])
        heads = {f"{variant}.{group}": _head(arrays, f"{variant}.{group}") for variant in VARIANTS for group in ("signals", "acts")}
        examples = Examples(
            texts=tuple(arrays["examples.texts"].tolist()),
            signals=tuple(frozenset(s.split()) for s in arrays["examples.signals"].tolist()),
            embeddings=arrays["examples.embeddings"],
        )
    except KeyError as exc:
        raise ModelError(f"{folder / ARTIFACT}: missing array {exc.args[0]}") from None
    if tuple(heads["full.signals"].labels) != SIGNAL_LABELS or tuple(heads["full.acts"].labels) != ACTS:
        raise ModelError(f"{folder / ARTIFACT}: trained for other labels; run `frontdoor train`")
    if encoder is not None and heads["full.signals"].embedding is not None and heads["full.signals"].embedding.shape[0] != encoder.dim:
        raise ModelError(f"{folder / ARTIFACT}: trained on {heads['full.signals'].embedding.shape[0]}-dimensional embeddings, the encoder gives {encoder.dim}")
    return UnderstandingModel(vocabulary, heads, encoder, examples, manifest)


def _head(arrays: Mapping[str, np.ndarray], name: str) -> Head:
    return Head(
        labels=tuple(arrays[f"{name}.labels"].tolist()),
        ngram=arrays[f"{name}.ngram"],
        bias=arrays[f"{name}.bias"],
        embedding=arrays.get(f"{name}.embedding"),
    )
