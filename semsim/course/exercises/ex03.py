"""Checkers of notebook 03's exercises (Sentence-BERT)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .registry import checker, increasing


@checker("03.1", "(d_pos, d_neg, contributions) for the triplets, with margin 0.3")
def _ex_03_1(answer: Any) -> tuple[bool, str]:
    # the notebook's tensors carry gradients: detach them before numpy reads them
    d_pos, d_neg, contrib = (np.asarray(x.detach() if hasattr(x, "detach") else x, dtype=float).ravel() for x in answer)
    expected = np.maximum(d_pos - d_neg + 0.3, 0.0)
    if contrib.shape != expected.shape or not np.allclose(contrib, expected, atol=1e-4):
        return False, "each contribution is relu(d_pos - d_neg + 0.3): distance to the positive minus to the negative, plus the margin."
    zero = np.flatnonzero(expected == 0).tolist()
    return True, f"triplets {zero} contribute nothing (already separated by the margin); the others give the gradient."


@checker("03.2", "(Spearman of the English-only model, Spearman of the multilingual model) on English-German or English-Chinese pairs")
def _ex_03_2(answer: Any) -> tuple[bool, str]:
    return increasing(answer, "on the notebook's 300 rows the English-only model trails the multilingual one for German and "
                               "for Chinese: same rows, same language for both, and MiniLM's value first?",
                       "the English-only model trails by {gain:.2f}: its model card lists English as its language, and "
                       "its tokenizer reads Chinese as mostly [UNK] pieces.")


@checker("03.3", "(Spearman on the full split, lower and upper end of the sample's 95 % interval) for one model")
def _ex_03_3(answer: Any) -> tuple[bool, str]:
    full, lo, hi = (float(x) for x in answer)
    if not (-1 <= lo < hi <= 1 and -1 <= full <= 1):
        return False, "give (full-split Spearman, lower end, upper end): lower < upper, all three between -1 and 1."
    if lo <= full <= hi:
        return True, ("inside the interval. The 95 % describes the procedure, and only nominally (a percentile bootstrap, "
                      "a sample drawn without replacement from a finite split): over many random samples, roughly 19 "
                      "intervals in 20 should contain the full-split value.")
    return False, ("outside the interval: when the course was built, with the notebook's fixed sample (seed 0), the "
                   "full-split value fell inside for both models. Check that the interval comes from the 300-pair "
                   "sample (the notebook's table), the Spearman from the full split (full_table), and both from the "
                   "same model's EN-IT column.")
