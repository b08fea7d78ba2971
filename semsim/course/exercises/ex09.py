"""Checkers of notebook 09's exercises (fine-tuning)."""
from __future__ import annotations

from typing import Any

from .registry import checker, increasing, positive_difference


@checker("09.1", "((gain, lo, hi) with the notebook's training pairs, (gain, lo, hi) with all 5,749 of them)")
def _ex_09_1(answer: Any) -> tuple[bool, str]:
    """A measurement with no single right value: check its shape, then say what it shows."""
    (g_small, lo_small, hi_small), (g_all, lo_all, hi_all) = ((float(a), float(b), float(c)) for a, b, c in answer)
    for which, (g, lo, hi) in (("the notebook's", (g_small, lo_small, hi_small)), ("the full run's", (g_all, lo_all, hi_all))):
        if not lo <= g <= hi:
            return False, f"{which} gain should lie inside its own interval: pass (gain, lo, hi) in that order."
        if abs(g) > 0.2 or hi - lo > 0.2:
            return False, (f"{which} numbers ({g:+.3f} [{lo:+.3f}, {hi:+.3f}]) are too large for a difference of two "
                           "Spearman correlations: pass the paired_bootstrap_diff output as it is, not in percent.")
    if (g_small, lo_small, hi_small) == (g_all, lo_all, hi_all):
        return False, ("the two answers are the same numbers: give the full run's results new names "
                       "(diff_all, lo_all, hi_all) instead of overwriting the notebook's (diff, lo, hi).")
    grew = "grew" if g_all > g_small else "did not grow"
    clear = "the full run's interval excludes zero" if lo_all > 0 else "the full run's interval includes zero"
    return True, (f"gain {g_small:+.4f} -> {g_all:+.4f} (it {grew}); {clear}; interval width {hi_small - lo_small:.4f} -> "
                  f"{hi_all - lo_all:.4f}: both intervals come from the same validation pairs, so compare how far the "
                  "width moved with how far the gain did.")


@checker("09.2", "(STS probe drop with learning_rate=1e-3, drop with learning_rate=2e-5), after the same epochs")
def _ex_09_2(answer: Any) -> tuple[bool, str]:
    drop_at_1e3, drop_at_2e5 = answer
    return increasing((drop_at_2e5, drop_at_1e3), "50 times smaller steps should forget less: a drop is probe before minus probe after.",
                       "drop {high:.3f} at 1e-3 vs {low:.3f} at 2e-5: forgetting follows the learning rate as well as the steps.")


@checker("09.3", "(gain, lo, hi): nDCG@10 after minus before on your 300 Italian test questions, with its paired interval")
def _ex_09_3(answer: Any) -> tuple[bool, str]:
    return positive_difference(
        answer, "training should help unseen Italian questions: did you score the trained model minus the base "
                "model, on the same questions in the same order, with paragraphs encoded by each model?",
        "gain {diff:+.3f} [{lo:+.3f}, {hi:+.3f}]: eight steps on 64 questions of two articles already help unseen Italian questions.",
        "gain {diff:+.3f}, but its interval [{lo:+.3f}, {hi:+.3f}] includes zero: 300 test questions and 64 training "
        "questions of two articles did not show a gain here; the curve's points, on all test questions, do.")
