"""Checkers of notebook 11's exercises (common errors and anti-patterns)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("11.1", "(accuracy@1 of mean pooling unnormalised, of sum pooling unnormalised, of sum pooling normalised)")
def _ex_11_1(answer: Any) -> tuple[bool, str]:
    mean_raw, sum_raw, sum_norm = (float(x) for x in answer)
    if sum_raw >= mean_raw:
        return False, "sum pooling without normalising should do worse: long documents get long vectors. Multiply by the token count."
    if sum_norm <= sum_raw:
        return False, "normalising should restore the cosine ranking: divide each vector by its length."
    return True, "lengths decide raw inner products; after normalising, sum and mean pooling rank the same."


@checker("11.2", "True if chunking is still needed for this question with the answer at the start, else False")
def _ex_11_2(answer: Any) -> tuple[bool, str]:
    if bool(answer):
        return False, "with the answer in the first 256 word pieces the model reads it: look at the whole document's rank now."
    return True, "not for this question; chunking stays the safe default, because you rarely know where the answer is."


@checker("11.3", "your function check_same_model(index, model), tried on a semsim VectorIndex")
def _ex_11_3(answer: Any) -> tuple[bool, str]:
    from sentence_transformers import SentenceTransformer

    from ...models.load import load_model
    from ...models.identity import fingerprint
    from ...search.index import VectorIndex

    minilm = load_model("all-MiniLM-L6-v2")
    other = SentenceTransformer(modules=[minilm[0], minilm[1]], device="cpu")   # same weights, no Normalize
    index = VectorIndex(384, model_name="all-MiniLM-L6-v2", fingerprint=fingerprint(minilm))
    try:
        answer(index, minilm)
    except Exception as e:  # noqa: BLE001 - any exception is the learner's function refusing the right model
        return False, f"it refused the model the index was built with ({type(e).__name__}: {e})."
    try:
        answer(index, other)
    except Exception:  # noqa: BLE001
        return True, "it accepts the same model and refuses one with the same weights but another configuration."
    return False, "it accepted MiniLM without its Normalize module: compare fingerprints, not names."
