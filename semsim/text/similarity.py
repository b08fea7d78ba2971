"""Similarity and distance between embeddings, for single vectors and batched matrices.

Every function accepts numpy arrays or torch tensors and answers in the same kind.
The rules the course teaches, all checked in tests/test_similarity.py:

* ``cosine(a, b) = dot(a, b) / (norm(a) * norm(b))``: it ignores length, only direction counts;
* for unit vectors ``dot == cosine``, and ``euclidean**2 == 2 - 2 * cosine``, so the three
  rank neighbours identically once vectors are normalised;
* ``pearson(a, b) == cosine(a - mean(a), b - mean(b))``;
* a zero vector has no direction: cosine and pearson refuse it (ValueError).
"""
from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # np.ndarray or torch.Tensor


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _as_matrix(x: Array) -> Array:
    if _is_torch(x):
        return x.float().reshape(1, -1) if x.ndim == 1 else x.float()
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(1, -1) if x.ndim == 1 else x


def _pair(a: Array, b: Array | None) -> tuple[Array, Array]:
    a = _as_matrix(a)
    b = a if b is None else _as_matrix(b)
    if _is_torch(a) != _is_torch(b):
        raise TypeError("mix of numpy and torch inputs: convert one of them first")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"dimensions differ: {tuple(a.shape)} vs {tuple(b.shape)}; "
                         "were the vectors made by the same model?")
    return a, b


def _norms(x: Array) -> Array:
    return x.norm(dim=1, keepdim=True) if _is_torch(x) else np.linalg.norm(x, axis=1, keepdims=True)


def normalize(x: Array) -> Array:
    """Scale each row (or the vector) to unit length. Zero rows raise ValueError."""
    m = _as_matrix(x)
    n = _norms(m)
    if (n == 0).any():
        raise ValueError("cannot normalise a zero vector (it has no direction); is a text empty?")
    out = m / n
    return out[0] if np.ndim(x) == 1 else out


def _mean_center(x: Array) -> Array:
    return x - (x.mean(dim=1, keepdim=True) if _is_torch(x) else x.mean(axis=1, keepdims=True))


def dot_matrix(a: Array, b: Array | None = None) -> Array:
    """Inner products between the rows of a and b (b defaults to a): shape (len(a), len(b))."""
    a, b = _pair(a, b)
    return a @ b.T


def cosine_matrix(a: Array, b: Array | None = None) -> Array:
    """Cosine similarity between the rows of a and b: values in [-1, 1]."""
    a, b = _pair(a, b)
    return normalize(a) @ normalize(b).T


def euclidean_matrix(a: Array, b: Array | None = None) -> Array:
    """Euclidean (L2) distances between the rows of a and b."""
    a, b = _pair(a, b)
    if _is_torch(a):
        import torch

        return torch.cdist(a, b, p=2)
    from scipy.spatial.distance import cdist

    return cdist(a, b, "euclidean").astype(np.float32)


def manhattan_matrix(a: Array, b: Array | None = None) -> Array:
    """Manhattan (L1) distances between the rows of a and b."""
    a, b = _pair(a, b)
    if _is_torch(a):
        import torch

        return torch.cdist(a, b, p=1)
    from scipy.spatial.distance import cdist

    return cdist(a, b, "cityblock").astype(np.float32)


def pearson_matrix(a: Array, b: Array | None = None) -> Array:
    """Pearson correlation between the rows of a and b (cosine of mean-centred rows)."""
    a, b = _pair(a, b)
    return cosine_matrix(_mean_center(a), _mean_center(b))


def _scalar(m: Array) -> float:
    return float(m.reshape(-1)[0])


def _vectors(a: Array, b: Array) -> None:
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise ValueError("expected two 1-D vectors; use the *_matrix functions for batches")


def cosine(a: Array, b: Array) -> float:
    """Cosine similarity of two vectors."""
    _vectors(a, b)
    return _scalar(cosine_matrix(a, b))


def dot(a: Array, b: Array) -> float:
    """Inner product of two vectors."""
    _vectors(a, b)
    return _scalar(dot_matrix(a, b))


def euclidean(a: Array, b: Array) -> float:
    """Euclidean distance between two vectors."""
    _vectors(a, b)
    return _scalar(euclidean_matrix(a, b))


def manhattan(a: Array, b: Array) -> float:
    """Manhattan distance between two vectors."""
    _vectors(a, b)
    return _scalar(manhattan_matrix(a, b))


def pearson(a: Array, b: Array) -> float:
    """Pearson correlation between the components of two vectors."""
    _vectors(a, b)
    return _scalar(pearson_matrix(a, b))


def paired_cosine(a: Array, b: Array) -> Array:
    """Row-wise cosine: cosine(a[i], b[i]) for each i (the STS-B scoring step)."""
    a, b = _pair(a, b)
    if len(a) != len(b):
        raise ValueError(f"paired rows differ in number: {len(a)} vs {len(b)}")
    return (normalize(a) * normalize(b)).sum(1)


def jaccard(text_a: str, text_b: str) -> float:
    """Lexical similarity: shared lower-cased words over all words (0 when both are empty)."""
    import re

    wa = set(re.findall(r"\w+", text_a.lower()))
    wb = set(re.findall(r"\w+", text_b.lower()))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0
