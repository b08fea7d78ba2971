"""Checkers of notebook 02's exercises (why plain BERT embeddings fail)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .registry import checker


@checker("02.1", "the 7 Spearman values of mean pooling at layers 0..6 of MiniLM")
def _ex_02_1(answer: Any) -> tuple[bool, str]:
    rho = np.asarray(answer, dtype=float)
    if rho.shape != (7,):
        return False, f"expected 7 values (layers 0 to 6), got shape {rho.shape}."
    if int(np.argmax(rho)) < 5:
        return False, "the best layer should be one of the last two: check that you pool layer l for both sides."
    return True, f"best at layer {int(np.argmax(rho))}: training shaped the last layer's mean."


@checker("02.2", "(Spearman, random-pair mean cosine) of the centred [CLS] vectors")
def _ex_02_2(answer: Any) -> tuple[bool, str]:
    spearman, random_mean = (float(x) for x in answer)
    if abs(random_mean) > 0.05:
        return False, f"the random-pair mean is {random_mean:.3f}: subtract the mean of *all* [CLS] vectors from both sides."
    if not 0 < spearman < 1:
        return False, "the Spearman correlation must lie between 0 and 1 here."
    return True, "centring removed the cone (random pairs near 0); compare the Spearman with the uncentred one."
