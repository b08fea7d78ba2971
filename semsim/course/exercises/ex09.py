"""Checkers of notebook 09's exercises (fine-tuning)."""
from __future__ import annotations

from typing import Any

from .registry import checker, increasing


@checker("09.1", "((gain, lo, hi) with 480 training pairs, (gain, lo, hi) with all of them)")
def _ex_09_1(answer: Any) -> tuple[bool, str]:
    (g_small, lo_small, hi_small), (g_all, lo_all, hi_all) = ((float(a), float(b), float(c)) for a, b, c in answer)
    if g_all <= g_small:
        return False, "twelve times the data should give a larger gain: did the full run train on all pairs, one epoch?"
    return True, (f"gain {g_small:.3f} -> {g_all:.3f}; interval width {hi_small - lo_small:.3f} -> {hi_all - lo_all:.3f}: "
                  "the width depends on the evaluation pairs more than on the training size.")


@checker("09.2", "(STS probe drop with learning_rate=1e-3, drop with learning_rate=2e-5), after the same epochs")
def _ex_09_2(answer: Any) -> tuple[bool, str]:
    drop_at_1e3, drop_at_2e5 = answer
    return increasing((drop_at_2e5, drop_at_1e3), "50 times smaller steps should forget less: a drop is probe before minus probe after.",
                       "drop {high:.3f} at 1e-3 vs {low:.3f} at 2e-5: forgetting follows the learning rate as well as the steps.")
