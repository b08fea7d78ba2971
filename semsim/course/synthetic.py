"""Synthetic vectors for index benchmarks larger than one can encode (taught in notebook 05).

They are built from *real* sentence embeddings, so they keep the uneven, clustered layout
that approximate indexes exploit. They are still easier than a real corpus of the same
size: every synthetic vector is a near-duplicate mixture of two real ones, so there are
about ``n / len(base)`` close neighbours per real sentence. Notebook 05 and
benchmarks/engine.py say so where they use them.
"""
from __future__ import annotations

import numpy as np


def corpus_shaped_vectors(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors, each a random mix of two rows of ``base`` (real, normalised
    embeddings) plus a little noise."""
    if base.ndim != 2 or len(base) < 2:
        raise ValueError(f"base must be a matrix of at least two embeddings, got shape {base.shape}")
    i, j = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
    a = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for lo in range(0, n, 8192):   # in blocks, so the temporaries stay small (the same draws as all at once)
        hi = min(lo + 8192, n)
        v = a[lo:hi] * base[i[lo:hi]] + (1 - a[lo:hi]) * base[j[lo:hi]]
        v += rng.normal(0, 0.02, (hi - lo, base.shape[1])).astype(np.float32)
        out[lo:hi] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out
