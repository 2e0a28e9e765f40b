"""Word and character n-grams of a caller turn, weighted by TF-IDF: the model's wording features.

Words are lower-cased runs of letters, digits and apostrophes; a recogniser's spelled-out acronym
("v p n") also counts as the joined word ("vpn"). Word unigrams and bigrams form one block, character
n-grams of 2-5 inside space-padded words another; each block is weighted by sublinear term frequency
times inverse document frequency and scaled to unit length, as scikit-learn's ``TfidfVectorizer`` does.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

CHAR_SIZES = (2, 3, 4, 5)
_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """The turn's words, with each run of single letters ("v p n") also joined into one word."""
    tokens = [t.strip("'") for t in _WORD.findall(text.lower().replace("\u2019", "'"))]
    tokens = [t for t in tokens if t]
    joined = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if len(run) >= 2:
            joined.append("".join(run))
        run = []
    return tokens + joined


def word_features(tokens: Sequence[str]) -> list[str]:
    return [f"w {t}" for t in tokens] + [f"w {a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_features(tokens: Sequence[str]) -> list[str]:
    grams = []
    for token in tokens:
        padded = f" {token} "
        for size in CHAR_SIZES:
            grams.extend(f"c{padded[i:i + size]}" for i in range(len(padded) - size + 1))
    return grams


@dataclass(frozen=True)
class NgramVocabulary:
    """Feature names to columns, with their inverse document frequencies."""

    index: Mapping[str, int]
    idf: np.ndarray

    @property
    def size(self) -> int:
        return len(self.index)

    @classmethod
    def fit(cls, texts: Iterable[str], min_char_documents: int = 2) -> NgramVocabulary:
        """The vocabulary of ``texts``: every word n-gram, and character n-grams seen in at least ``min_char_documents``."""
        documents = Counter()
        count = 0
        for text in texts:
            tokens = words(text)
            documents.update(set(word_features(tokens)) | set(char_features(tokens)))
            count += 1
        kept = sorted(f for f, n in documents.items() if f.startswith("w ") or n >= min_char_documents)
        idf = np.array([math.log((1 + count) / (1 + documents[f])) + 1.0 for f in kept], dtype=np.float32)
        return cls({f: i for i, f in enumerate(kept)}, idf)

    def names(self) -> list[str]:
        return sorted(self.index, key=self.index.__getitem__)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The turn's sparse feature vector: column indices and their weights."""
        tokens = words(text)
        columns: list[int] = []
        values: list[float] = []
        for block in (word_features(tokens), char_features(tokens)):
            counts = Counter(self.index[f] for f in block if f in self.index)
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            weights = (1.0 + np.log(tf)) * self.idf[cols]
            weights /= np.linalg.norm(weights)
            columns.extend(cols.tolist())
            values.extend(weights.tolist())
        return np.asarray(columns, dtype=np.int64), np.asarray(values, dtype=np.float32)
