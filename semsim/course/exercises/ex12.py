"""Checkers of notebook 12's exercises (benchmarks)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("12.1", "the benchmark table with the extra languages (rows: models; columns 'STS xx')")
def _ex_12_1(answer: Any) -> tuple[bool, str]:
    cols = [c for c in answer.columns if str(c).startswith("STS ") and c != "STS mean"]
    if len(cols) < 8:
        return False, f"only {len(cols)} language columns: add the other languages to LANGS and re-run section 3."
    e5 = [r for r in answer.index if "e5" in str(r).lower()]
    english = [r for r in answer.index if r not in e5]
    if not e5 or not english:
        return False, "the table needs the English-only models and multilingual-e5-small."
    spread = answer[cols].max(axis=1) - answer[cols].min(axis=1)
    hardest = answer.loc[english[0], cols].astype(float).idxmin()
    if spread[e5[0]] >= spread[english].min():
        return False, "E5's scores should vary less across languages than the English-only models': check its column values."
    return True, f"hardest for {english[0]}: {hardest}; E5 varies by {spread[e5[0]]:.2f} across languages, the others by more."


@checker("12.2", "(half-width of the interval at 100 pairs, gap between MiniLM and mpnet, pairs you would need)")
def _ex_12_2(answer: Any) -> tuple[bool, str]:
    half, gap, n = (float(x) for x in answer)
    if half <= 0 or gap <= 0:
        return False, "give the half-width and the gap as positive numbers."
    # half-width at n pairs ~ half * sqrt(100 / n); the difference of two independent estimates has
    # about sqrt(2) times that half-width, which must fall below the gap: n ~ 200 * (half / gap)^2.
    # A factor 2.5 either way also accepts the stricter "intervals do not overlap" (400x) and the
    # looser "each value outside the other's interval" (100x) readings.
    needed = 200 * (half / gap) ** 2
    if not needed / 2.5 <= n <= needed * 2.5:
        return False, (f"the half-width shrinks with sqrt(n), and a difference of two independent estimates has about "
                       f"sqrt(2) times their half-width: n ~= 200 x (half-width / gap)^2 = {needed:.0f}.")
    return True, f"about {needed:.0f} pairs for unpaired intervals; a paired bootstrap on the same pairs needs fewer."


@checker("12.3", "(diff, lo, hi): paired difference of nDCG@10, RRF(BM25, MiniLM) minus BM25, on the live Italian sample")
def _ex_12_3(answer: Any) -> tuple[bool, str]:
    diff, lo, hi = (float(x) for x in answer)
    if not lo <= diff <= hi:
        return False, "the difference should lie inside its own interval: pass (diff, lo, hi) in that order."
    if diff >= 0:
        return False, ("a positive difference: check that you fused BM25 with MiniLM (not E5) and passed "
                       "fused minus BM25, in that order.")
    if hi >= 0:
        return False, "the interval still contains zero: use all the live questions (qids) and their paired scores."
    return True, (f"fused - BM25 = {diff:+.3f} [{lo:+.3f}, {hi:+.3f}]: fusing with a much weaker list pulls BM25 down.")
