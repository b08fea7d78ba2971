"""Checkers of notebook 03's exercises (Sentence-BERT)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .registry import checker, increasing


@checker("03.1", "(d_pos, d_neg, contributions) for the triplets, with margin 0.3")
def _ex_03_1(answer: Any) -> tuple[bool, str]:
    d_pos, d_neg, contrib = (np.asarray(np.asarray(x, dtype=float)).ravel() for x in answer)
    expected = np.maximum(d_pos - d_neg + 0.3, 0.0)
    if contrib.shape != expected.shape or not np.allclose(contrib, expected, atol=1e-4):
        return False, "each contribution is relu(d_pos - d_neg + 0.3): distance to the positive minus to the negative, plus the margin."
    zero = np.flatnonzero(expected == 0).tolist()
    return True, f"triplets {zero} contribute nothing (already separated by the margin); the others give the gradient."


@checker("03.2", "(Spearman of the English-only model, Spearman of the multilingual model) on English-German or English-Japanese pairs")
def _ex_03_2(answer: Any) -> tuple[bool, str]:
    return increasing(answer, "the English-only model should trail the multilingual one across languages: same pairs, same "
                               "language for both?",
                       "the English-only model trails by {gain:.2f}: it sees the other language as unfamiliar word pieces.")


@checker("03.3", "(Spearman on the full split, lower and upper end of the sample's 95 % interval)")
def _ex_03_3(answer: Any) -> tuple[bool, str]:
    full, lo, hi = (float(x) for x in answer)
    if not -1 <= lo <= hi <= 1:
        return False, "an interval needs lower <= upper, both between -1 and 1."
    if lo <= full <= hi:
        return True, "inside the interval, as it should be in about 19 runs out of 20."
    return True, "outside: this happens in about 1 run in 20 at 95 %; check that the sample and the full split use the same model."
