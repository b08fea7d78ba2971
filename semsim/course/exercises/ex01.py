"""Checkers of notebook 01's exercises (cosine similarity and other metrics)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .registry import checker, close

# The sentences of the folded solutions of exercises 2 and 3 (notebook 01's last cell runs them
# without printing them in plain sight; keep them equal to the solutions' text).
SOLUTION_SENTENCES = {
    "01.2": ("A kid is playing with a puppy.", "The child plays next to small dogs."),
    "01.3": ("The train was delayed by an hour.", "I missed the last train home.", "The train leaves from platform 4."),
}


@checker("01.1", "(cosine, euclidean, pearson) of x = [1, 0, 0, 0] and y = [0, 1, 0, 0]")
def _ex_01_1(answer: Any) -> tuple[bool, str]:
    cos, l2, r = answer
    if not close(cos, 0.0, 1e-6):
        return False, "cosine: the vectors are orthogonal, so their dot product is 0."
    if not close(l2, math.sqrt(2), 1e-3):
        return False, "Euclidean distance: sqrt((1-0)^2 + (0-1)^2) = sqrt(2)."
    if not close(r, -1 / 3, 1e-3):
        return False, "Pearson: subtract each vector's mean (0.25) first, then take the cosine."
    return True, "cosine 0, distance sqrt(2), Pearson -1/3."


@checker("01.2", "(jaccard, cosine) of your two sentences: Jaccard 0 and MiniLM cosine above 0.6")
def _ex_01_2(answer: Any) -> tuple[bool, str]:
    jac, cos = answer
    if not close(jac, 0.0, 1e-9):
        return False, f"Jaccard is {float(jac):.2f}: small words such as 'a' and 'with' count as shared words too."
    if float(cos) <= 0.6:
        return False, f"cosine {float(cos):.2f}: keep the meaning closer (same event, other words)."
    return True, f"no shared word, and the model still scores the pair {float(cos):.2f}: it sees the same meaning."


@checker("01.3", "the cosine matrix of your sentences, three per topic in topic order (e.g. 12 x 12 for 4 topics)")
def _ex_01_3(answer: Any) -> tuple[bool, str]:
    S = np.asarray(answer, dtype=float)
    if S.ndim != 2 or S.shape[0] != S.shape[1] or S.shape[0] % 3:
        return False, f"expected a square matrix whose side is a multiple of 3, got shape {S.shape}."
    S = S.copy()
    np.fill_diagonal(S, -np.inf)                   # a sentence is not its own neighbour
    topic = np.arange(len(S)) // 3
    wrong = np.flatnonzero(topic[S.argmax(axis=1)] != topic)
    if wrong.size:
        return False, f"sentences {wrong.tolist()} have their nearest neighbour in another topic: look at those rows."
    off_diagonal = S[np.isfinite(S)]
    return True, (f"all {len(S)} sentences have their nearest neighbour in their own topic; the cosines off the "
                  f"diagonal range from {off_diagonal.min():.2f} to {off_diagonal.max():.2f}.")
