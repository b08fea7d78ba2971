"""Checkers of notebook 04's exercises (choosing a model)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("04.1", "(sentences per second on 32 single sentences, on 32 five-sentence texts), same model and batch size")
def _ex_04_1(answer: Any) -> tuple[bool, str]:
    short, long = (float(x) for x in answer)
    if long >= short / 2:
        return False, "five sentences per text should cost well over twice the time: did both runs use the same batch size?"
    return True, (f"{short / long:.1f}x slower per text on your machine: more word pieces per text, each through every "
                  "layer, and attention grows faster than the length.")


@checker("04.2", "a dict {model name: Spearman on the Italian STS-B test pairs (notebook 04: the same 300-pair sample)}")
def _ex_04_2(answer: Any) -> tuple[bool, str]:
    scores = {str(k): float(v) for k, v in dict(answer).items()}
    best = max(scores, key=scores.get)
    if "multilingual" not in best and "e5" not in best.lower():
        return False, f"{best} comes first: were the Italian sentences passed to every model?"
    return True, (f"{best} is first on Italian; the English-only models score lower. Compare each score with the "
                  "same model's English one: quality is measured one language at a time.")
