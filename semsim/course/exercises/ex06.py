"""Checkers of notebook 06's exercises (FAQ matching)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("06.1", "recall on the test half at the threshold chosen with min_precision=1.0, and at the default one")
def _ex_06_1(answer: Any) -> tuple[bool, str]:
    strict, default = (float(x) for x in answer)
    if not (0.0 <= strict <= 1.0 and 0.0 <= default <= 1.0):
        return False, "recalls are shares between 0 and 1: pass at(strict)['recall'] and at(chosen)['recall']."
    if strict > default:
        return False, ("the strict threshold is never below the default one, and a higher threshold cannot answer "
                       "more in-scope questions: check which threshold each came from.")
    if strict == default:
        return True, ("same recall: the strict threshold lost no right answer on the test half (or equals the default "
                      "one); compare precision and oos_refused in the two rows too.")
    return True, (f"recall fell from {default:.3f} to {strict:.3f} on the test half: fewer wrong answers cost right "
                  "ones, a business decision to make with these numbers.")


@checker("06.2", "(entries2, users2): copies of entries and users after adding the 'bank-close' entry and its user questions")
def _ex_06_2(answer: Any) -> tuple[bool, str]:
    entries, users = answer
    ids = [getattr(e, "id", None) for e in entries]
    if "bank-close" not in ids:
        return False, "no entry with id 'bank-close' yet: add a FAQEntry to entries2, a copy of entries."
    targets = list(users["target"]) if hasattr(users, "columns") else [u.get("target") for u in users]
    if targets.count("bank-close") < 2:
        return False, "add at least two user questions whose target is 'bank-close'."
    return True, ("entry and questions in place: score users2 with a matcher built on entries2, choose the threshold again on "
                  "its calibration half and compare it with the old one.")


@checker("06.3", "(mini_table, helps): margin_test's table for MiniLM, and whether a margin rule handles more test questions than the score rule")
def _ex_06_3(answer: Any) -> tuple[bool, str]:
    table, helps = answer
    if not hasattr(table, "columns") or "test handled" not in table.columns or len(table) < 2:
        return False, "pass the table margin_test returns: one row per rule, the score rule first, a 'test handled' column."
    handled = [float(x) for x in table["test handled"]]
    if not all(0.0 <= h <= 1.0 for h in handled):
        return False, "'test handled' holds shares between 0 and 1: pass margin_test's table as it is."
    better = any(h > handled[0] for h in handled[1:])
    if bool(helps) != better:
        return False, (f"your table says {'a margin rule handles more' if better else 'no margin rule handles more'} test "
                       "questions than the score rule (its first row): set helps from the 'test handled' column.")
    gain = max(handled[1:]) - handled[0]
    return True, (f"best margin rule minus score rule on the test half: {gain:+.3f} of the questions; with so few "
                  "test questions, a gain of one or two is no evidence either way.")
