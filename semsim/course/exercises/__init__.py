"""Check your answer to an exercise: ``check("01.1", answer)`` prints whether it is right.

Each checker knows what a right answer looks like (a number within a tolerance, a
relation that the exercise's solution claims, or a function that must behave) and says what
to look at when it is not. Where an exercise is a measurement with no single right value, the
checker validates the answer's shape and says what the measured values mean. The checkers
of notebook NN live in ``exNN.py``; they join :data:`registry.CHECKS` when imported here.
"""
from __future__ import annotations

from typing import Any

from . import ex01, ex02, ex03, ex04, ex05, ex06, ex07, ex08, ex09, ex10, ex11, ex12  # noqa: F401 (they register)
from .registry import CHECKS


def exercises() -> dict[str, str]:
    """The exercises that have a checker, and what each expects as its answer."""
    return {name: asks for name, (asks, _) in sorted(CHECKS.items())}


def check(exercise: str, answer: Any, quiet: bool = False) -> bool:
    """Check an answer; prints a verdict (unless ``quiet``) and returns True when it is right."""
    if exercise not in CHECKS:
        raise KeyError(f"no checker for exercise {exercise!r}; checkers exist for {sorted(CHECKS)}")
    asks, fn = CHECKS[exercise]
    try:
        ok, why = fn(answer)
    except (TypeError, ValueError) as e:
        ok, why = False, f"the answer should be {asks} ({type(e).__name__}: {e})"
    if not quiet:
        print(("✔ right: " if ok else "✘ not yet: ") + why)
    return ok
