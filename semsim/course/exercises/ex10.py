"""Checkers of notebook 10's exercises (a production pipeline)."""
from __future__ import annotations

from typing import Any

from .registry import checker, close


@checker("10.1", "the number of texts the first run after a restart had to encode (cache misses)")
def _ex_10_1(answer: Any) -> tuple[bool, str]:
    misses = int(answer)
    if misses:
        return False, f"{misses} texts were encoded again: did both kernels use the same cache folder and the same model?"
    return True, "nothing encoded: the cache lives on disk, keyed by model fingerprint and text."


@checker("10.2", "(did a warning name the damaged shard?, how many texts the next add re-encoded)")
def _ex_10_2(answer: Any) -> tuple[bool, str]:
    warned, re_encoded = bool(answer[0]), int(answer[1])
    if not warned:
        return False, "the cache checks each shard's checksum when it opens: create the new engine after the edit."
    if re_encoded == 0:
        return False, "the texts of the damaged shard must be encoded again on the next add: add the same texts."
    return True, f"warned, and {re_encoded} texts re-encoded: a damaged file is skipped, never served."


@checker("10.3", "(drift p-value with 20 recent queries, with all 38) for the mixed week")
def _ex_10_3(answer: Any) -> tuple[bool, str]:
    p20, p38 = (float(x) for x in answer)
    if not (0 <= p20 <= 1 and 0 <= p38 <= 1):
        return False, "p-values lie between 0 and 1."
    seen = lambda p: "detected" if p < 0.05 else "not detected"   # noqa: E731
    return True, (f"20 queries: {seen(p20)} (p={p20:.3g}); 38: {seen(p38)} (p={p38:.3g}). "
                  "A diluted shift needs more queries.")


@checker("10.4", "recall@10, with the genre filter, of the separate Milvus engine built with index='FLAT'")
def _ex_10_4(answer: Any) -> tuple[bool, str]:
    if not close(answer, 1.0, 0.011):
        return False, (f"recall {float(answer):.3f}: a FLAT collection is exact; did you build the new engine with "
                       "index='FLAT', add the documents, flush, and search with the genre filter?")
    return True, "exact search finds the exact top 10 (up to ties)."
