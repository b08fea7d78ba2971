"""Checkers of notebook 02's exercises (why plain BERT embeddings fail)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .registry import checker

# Printed by notebook 02, section 3 (all-MiniLM-L6-v2 on the STS-B test split; deterministic on CPU).
SBERT_SPEARMAN = 0.820     # the 'all-MiniLM-L6-v2, mean' row (mean of the last layer): layer 6 of exercise 1
RAW_CLS_SPEARMAN = 0.735   # the uncentred [CLS] vector: the baseline of exercises 2 and 3


@checker("02.1", "the 7 Spearman values of mean pooling at layers 0..6 of MiniLM")
def _ex_02_1(answer: Any) -> tuple[bool, str]:
    try:
        rho = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False, "expected 7 numbers, one Spearman per layer 0 to 6."
    if rho.shape != (7,):
        return False, f"expected 7 values (layers 0 to 6), got shape {rho.shape}."
    best = int(np.argmax(rho))
    if best < 5:
        return False, "the best layer should be one of the last two: check that you pool layer l for both sides."
    if abs(rho[-1] - SBERT_SPEARMAN) > 0.01:
        return False, (f"layer 6 gives {rho[-1]:.3f}, but mean pooling of the last layer is the "
                       f"'all-MiniLM-L6-v2, mean' row of section 3 ({SBERT_SPEARMAN:.3f}): pool the same layer for s1 and s2 and compare with gold.")
    values = " → ".join(f"{r:.3f}" for r in rho)
    total = rho[-1] - rho[0]
    late = rho[-1] - rho[3]
    return True, (f"best at layer {best}. Layers 0 to 6: {values}. Of the total change from layer 0 to layer 6 "
                  f"({total:+.3f}), layers 4 to 6 bring {late:+.3f}; layers 1 to 3 stay within "
                  f"{np.abs(rho[1:4] - rho[0]).max():.3f} of layer 0.")


@checker("02.2", "(Spearman, random-pair mean cosine) of the centred [CLS] vectors")
def _ex_02_2(answer: Any) -> tuple[bool, str]:
    spearman, random_mean = (float(x) for x in answer)
    if abs(random_mean) > 0.05:
        return False, f"the random-pair mean is {random_mean:.3f}: subtract the mean of *all* [CLS] vectors from both sides."
    if not 0 < spearman < 1:
        return False, "the Spearman correlation must lie between 0 and 1 here."
    return True, (f"random pairs now average {random_mean:+.3f} (centring removes the shared mean by construction). "
                  f"What it did to the ranking: Spearman {spearman:.3f}, "
                  f"{spearman - RAW_CLS_SPEARMAN:+.3f} against the uncentred [CLS] vector ({RAW_CLS_SPEARMAN:.3f}).")


def _test_data(seed: int = 0, n: int = 3000, d: int = 12) -> np.ndarray:
    """Vectors in a narrow, elongated cone: a large shared offset and strongly correlated directions."""
    rng = np.random.default_rng(seed)
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]                  # principal directions off the axes
    spread = np.sqrt(np.logspace(0, -3, d))                              # variances from 1 down to 0.001
    return (rng.normal(size=(n, d)) * spread) @ rotation.T + 5.0 * rng.normal(size=d)


@checker("02.3", "(whiten, Spearman): a function x -> (mu, W) that whitens, and the whitened [CLS] Spearman")
def _ex_02_3(answer: Any) -> tuple[bool, str]:
    try:
        whiten, spearman = answer
        spearman = float(spearman)
    except (TypeError, ValueError):
        return False, "pass a pair: (your whiten function, the Spearman of the whitened [CLS] vectors)."
    if not callable(whiten):
        return False, "the first item should be your function whiten(x) returning (mu, W)."
    x = _test_data()
    d = x.shape[1]
    try:
        mu, w = whiten(x.copy())
        mu, w = np.asarray(mu, dtype=float).reshape(-1), np.asarray(w, dtype=float)
    except Exception as e:  # the learner's code: report, do not crash
        return False, f"whiten(x) raised {type(e).__name__}: {e}"
    if mu.shape == (d,) and w.ndim == 2 and w.shape[0] == d and w.shape[1] < d:
        return False, (f"your W keeps {w.shape[1]} of {d} directions, but on the checker's test data every direction "
                       "has variance (the smallest is about 0.001 of the largest): drop only those with (almost) none.")
    if mu.shape != (d,) or w.shape != (d, d):
        return False, f"for x of shape {x.shape}, expected mu of shape ({d},) and W of shape ({d}, {d}); got {mu.shape} and {w.shape}."
    z = (x - mu) @ w
    if np.abs(z.mean(0)).max() > 1e-6 * max(1.0, np.abs(z).max()):
        return False, "(x - mu) @ W does not have mean 0: mu should be the mean of the rows of x."
    cov = np.cov(z, rowvar=False)
    off = np.abs(cov - np.diag(np.diag(cov))).max()
    if np.abs(np.diag(cov) - 1).max() > 0.01 and off < 0.01:
        return False, "the directions are uncorrelated but their variances are not 1: divide by the square root of each eigenvalue."
    if off > 0.01:
        if np.abs(np.diag(cov) - 1).max() < 0.01:
            return False, ("each coordinate has variance 1, but the coordinates are still correlated "
                           f"(largest covariance {off:.2f}): rotate onto the eigenvectors of the covariance first.")
        return False, f"the covariance of (x - mu) @ W is far from the identity (largest off-diagonal {off:.2f}): that is centring, not whitening yet."
    if not 0 < spearman < 1:
        return False, "the whitened vectors' Spearman correlation must lie between 0 and 1 here."
    return True, (f"your W whitens (on the checker's own test data the covariance is the identity within "
                  f"{np.abs(cov - np.eye(d)).max():.1e}). Whitened [CLS]: Spearman {spearman:.3f}, "
                  f"{spearman - RAW_CLS_SPEARMAN:+.3f} against the raw [CLS] vector ({RAW_CLS_SPEARMAN:.3f}).")
