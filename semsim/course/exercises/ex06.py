"""Checkers of notebook 06's exercises (FAQ matching)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("06.1", "recall on the test half at the threshold chosen with min_precision=1.0, and at the default one")
def _ex_06_1(answer: Any) -> tuple[bool, str]:
    strict, default = (float(x) for x in answer)
    if strict > default:
        return False, "a stricter threshold cannot answer more in-scope questions: check which threshold each came from."
    return True, "fewer wrong answers cost recall: the threshold is a business decision, made with these numbers."


@checker("06.2", "(entries, users) after adding the 'bank-close' entry and its user questions")
def _ex_06_2(answer: Any) -> tuple[bool, str]:
    entries, users = answer
    ids = [getattr(e, "id", None) for e in entries]
    if "bank-close" not in ids:
        return False, "no entry with id 'bank-close' yet: append a FAQEntry to entries."
    targets = list(users["target"]) if hasattr(users, "columns") else [u.get("target") for u in users]
    if targets.count("bank-close") < 2:
        return False, "add at least two user questions whose target is 'bank-close'."
    return True, "entry and questions in place: rerun the curves and compare the chosen threshold with the old one."
