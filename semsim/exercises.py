"""Check your answer to an exercise: ``check("01.1", answer)`` prints whether it is right.

Each checker knows what a right answer looks like (a number within a tolerance, a
relation that the exercise's solution claims, or a function that must behave) and says what
to look at when it is not. Where an exercise is a measurement with no single right value, the
checker validates the answer's shape and says what the measured values mean.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

Checker = Callable[[Any], tuple[bool, str]]
_CHECKS: dict[str, tuple[str, Checker]] = {}


def _checker(exercise: str, asks: str) -> Callable[[Checker], Checker]:
    def register(fn: Checker) -> Checker:
        _CHECKS[exercise] = (asks, fn)
        return fn
    return register


def _close(value: Any, target: float, tol: float) -> bool:
    try:
        return abs(float(value) - target) <= tol
    except (TypeError, ValueError):
        return False


def _increasing(answer: Any, wrong: str, right: str) -> tuple[bool, str]:
    """Right when the second of two numbers is larger; ``right`` may use {low}, {high}, {gain}."""
    low, high = (float(x) for x in answer)
    if high <= low:
        return False, wrong
    return True, right.format(low=low, high=high, gain=high - low)


@_checker("01.1", "(cosine, euclidean, pearson) of x = [1, 0, 0, 0] and y = [0, 1, 0, 0]")
def _ex_01_1(answer: Any) -> tuple[bool, str]:
    cos, l2, r = answer
    if not _close(cos, 0.0, 1e-6):
        return False, "cosine: the vectors are orthogonal, so their dot product is 0."
    if not _close(l2, math.sqrt(2), 1e-3):
        return False, "Euclidean distance: sqrt((1-0)^2 + (0-1)^2) = sqrt(2)."
    if not _close(r, -1 / 3, 1e-3):
        return False, "Pearson: subtract each vector's mean (0.25) first, then take the cosine."
    return True, "cosine 0, distance sqrt(2), Pearson -1/3."


@_checker("01.2", "(jaccard, cosine) of your two sentences: Jaccard 0 and MiniLM cosine above 0.6")
def _ex_01_2(answer: Any) -> tuple[bool, str]:
    jac, cos = answer
    if not _close(jac, 0.0, 1e-9):
        return False, f"Jaccard is {float(jac):.2f}: small words such as 'a' and 'with' count as shared words too."
    if float(cos) <= 0.6:
        return False, f"cosine {float(cos):.2f}: keep the meaning closer (same event, other words)."
    return True, "no shared word, and the model still sees the same meaning."


@_checker("02.1", "the 7 Spearman values of mean pooling at layers 0..6 of MiniLM")
def _ex_02_1(answer: Any) -> tuple[bool, str]:
    rho = np.asarray(answer, dtype=float)
    if rho.shape != (7,):
        return False, f"expected 7 values (layers 0 to 6), got shape {rho.shape}."
    if int(np.argmax(rho)) < 5:
        return False, "the best layer should be one of the last two: check that you pool layer l for both sides."
    return True, f"best at layer {int(np.argmax(rho))}: training shaped the last layer's mean."


@_checker("02.2", "(Spearman, random-pair mean cosine) of the centred [CLS] vectors")
def _ex_02_2(answer: Any) -> tuple[bool, str]:
    spearman, random_mean = (float(x) for x in answer)
    if abs(random_mean) > 0.05:
        return False, f"the random-pair mean is {random_mean:.3f}: subtract the mean of *all* [CLS] vectors from both sides."
    if not 0 < spearman < 1:
        return False, "the Spearman correlation must lie between 0 and 1 here."
    return True, "centring removed the cone (random pairs near 0); compare the Spearman with the uncentred one."


@_checker("05.2", "(build seconds, recall@10 at nprobe=4) for nlist=256 and for nlist=1024, as two pairs")
def _ex_05_2(answer: Any) -> tuple[bool, str]:
    (build_256, recall_256), (build_1024, recall_1024) = answer
    if recall_1024 >= recall_256:
        return False, "with 4x more lists, nprobe=4 visits fewer candidates: recall should drop. Same nprobe for both?"
    return True, "more, smaller lists: each probe sees fewer vectors, so recall drops at the same nprobe."


@_checker("06.1", "recall on the test half at the threshold chosen with min_precision=1.0, and at the default one")
def _ex_06_1(answer: Any) -> tuple[bool, str]:
    strict, default = (float(x) for x in answer)
    if strict > default:
        return False, "a stricter threshold cannot answer more in-scope questions: check which threshold each came from."
    return True, "fewer wrong answers cost recall: the threshold is a business decision, made with these numbers."


@_checker("10.4", "recall@10 of the Milvus store built with index='FLAT'")
def _ex_10_4(answer: Any) -> tuple[bool, str]:
    if not _close(answer, 1.0, 0.011):
        return False, f"recall {float(answer):.3f}: a FLAT collection is exact; did you rebuild the store and re-add?"
    return True, "exact search finds the exact top 10 (up to ties)."


@_checker("01.3", "the cosine matrix of your sentences, three per topic in topic order (e.g. 12 x 12 for 4 topics)")
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
    return True, f"all {len(S)} sentences have their nearest neighbour in their own topic."


@_checker("03.1", "(d_pos, d_neg, contributions) for the triplets, with margin 0.3")
def _ex_03_1(answer: Any) -> tuple[bool, str]:
    d_pos, d_neg, contrib = (np.asarray(np.asarray(x, dtype=float)).ravel() for x in answer)
    expected = np.maximum(d_pos - d_neg + 0.3, 0.0)
    if contrib.shape != expected.shape or not np.allclose(contrib, expected, atol=1e-4):
        return False, "each contribution is relu(d_pos - d_neg + 0.3): distance to the positive minus to the negative, plus the margin."
    zero = np.flatnonzero(expected == 0).tolist()
    return True, f"triplets {zero} contribute nothing (already separated by the margin); the others give the gradient."


@_checker("03.2", "(Spearman of the English-only model, Spearman of the multilingual model) on English-German or English-Japanese pairs")
def _ex_03_2(answer: Any) -> tuple[bool, str]:
    return _increasing(answer, "the English-only model should trail the multilingual one across languages: same pairs, same "
                               "language for both?",
                       "the English-only model trails by {gain:.2f}: it sees the other language as unfamiliar word pieces.")


@_checker("03.3", "(Spearman on the full split, lower and upper end of the sample's 95 % interval)")
def _ex_03_3(answer: Any) -> tuple[bool, str]:
    full, lo, hi = (float(x) for x in answer)
    if not -1 <= lo <= hi <= 1:
        return False, "an interval needs lower <= upper, both between -1 and 1."
    if lo <= full <= hi:
        return True, "inside the interval, as it should be in about 19 runs out of 20."
    return True, "outside: this happens in about 1 run in 20 at 95 %; check that the sample and the full split use the same model."


@_checker("04.1", "(sentences per second on the short texts, on the five-sentence texts), same model and batch size")
def _ex_04_1(answer: Any) -> tuple[bool, str]:
    short, long = (float(x) for x in answer)
    if long >= short / 2:
        return False, "five sentences per text should cost well over twice the time: did both runs use the same batch size?"
    return True, f"{short / long:.1f}x slower: more tokens per text, and attention grows faster than the length."


@_checker("04.2", "a dict {model name: Spearman on the Italian STS-B test split}")
def _ex_04_2(answer: Any) -> tuple[bool, str]:
    scores = {str(k): float(v) for k, v in dict(answer).items()}
    best = max(scores, key=scores.get)
    if "multilingual" not in best and "e5" not in best.lower():
        return False, f"{best} comes first: were the Italian sentences passed to every model?"
    return True, f"{best} is first on Italian; the English-only models fall behind. Rankings are per language."


@_checker("05.1", "the engine (or index) holding the whole corpus")
def _ex_05_1(answer: Any) -> tuple[bool, str]:
    from .data import load_corpus

    expected = len(load_corpus())
    if len(answer) != expected:
        return False, f"it holds {len(answer)} documents, the corpus has {expected}: index all of load_corpus()."
    return True, f"all {expected} sentences indexed; now compare the three queries' results with the 4,000-sentence ones."


@_checker("05.3", "((bytes, best recall) with pq_m=48, (bytes, best recall) with pq_m=96)")
def _ex_05_3(answer: Any) -> tuple[bool, str]:
    (size_48, recall_48), (size_96, recall_96) = ((float(a), float(b)) for a, b in answer)
    if size_96 <= size_48:
        return False, "96 sub-quantisers store 96 codes per vector instead of 48: the index should grow."
    if recall_96 < recall_48 - 0.01:
        return False, "finer codes should not lose recall: compare the best recall of each sweep, at the same nprobe values."
    return True, f"{size_96 / size_48:.1f}x the size for recall {recall_48:.3f} -> {recall_96:.3f}: PQ trades memory for accuracy."


@_checker("06.2", "(entries, users) after adding the 'bank-close' entry and its user questions")
def _ex_06_2(answer: Any) -> tuple[bool, str]:
    entries, users = answer
    ids = [getattr(e, "id", None) for e in entries]
    if "bank-close" not in ids:
        return False, "no entry with id 'bank-close' yet: append a FAQEntry to entries."
    targets = list(users["target"]) if hasattr(users, "columns") else [u.get("target") for u in users]
    if targets.count("bank-close") < 2:
        return False, "add at least two user questions whose target is 'bank-close'."
    return True, "entry and questions in place: rerun the curves and compare the chosen threshold with the old one."


@_checker("07.1", "(MRR of the bi-encoder, of the reranker, of the 50/50 combination) on the same queries")
def _ex_07_1(answer: Any) -> tuple[bool, str]:
    bi, cross, both = (float(x) for x in answer)
    if not all(0 <= x <= 1 for x in (bi, cross, both)):
        return False, "an MRR lies between 0 and 1."
    if both < 0.5 * min(bi, cross):
        return False, "the combination is far below both: sort by the combined score in descending order."
    verdict = "beats both" if both > max(bi, cross) else "does not beat both"
    return True, f"the combination {verdict} here; with intervals (notebook 08) decide whether the difference is real."


@_checker("07.2", "(STS-B test Spearman of the one-epoch cross-encoder, of the three-epoch one)")
def _ex_07_2(answer: Any) -> tuple[bool, str]:
    return _increasing(answer, "three epochs should raise the STS-B Spearman: did force=True retrain, and did you reload the model?",
                       "+{gain:.3f} Spearman; now compare it with the bi-encoder on STS-B and on retrieval.")


@_checker("08.1", "(diff, lo, hi) from paired_bootstrap_diff(mpnet cosines, MiniLM cosines, gold)")
def _ex_08_1(answer: Any) -> tuple[bool, str]:
    diff, lo, hi = (float(x) for x in answer)
    if not lo <= diff <= hi:
        return False, "the difference should lie inside its own interval: pass (diff, lo, hi) in that order."
    if diff <= 0:
        return False, "mpnet should score higher than MiniLM on STS-B test: mpnet's cosines first, MiniLM's second."
    real = "excludes 0: the difference is real" if lo > 0 else "includes 0: not separable on these pairs"
    return True, f"mpnet ahead by {diff:.3f}; the interval {real}."


@_checker("08.2", "(Pearson before, Pearson after, Spearman before, Spearman after) on the test split")
def _ex_08_2(answer: Any) -> tuple[bool, str]:
    p0, p1, s0, s1 = (float(x) for x in answer)
    if p1 <= p0:
        return False, "the isotonic map should raise Pearson on test: fit on validation cosines, apply to test cosines."
    if abs(s1 - s0) > 0.01:
        return False, "Spearman should barely move (a monotonic map only ties ranks): apply the fitted map, do not refit on test."
    return True, f"Pearson {p0:.3f} -> {p1:.3f}, Spearman {s0:.3f} -> {s1:.3f}: calibration changes scale, not order."


@_checker("09.1", "((gain, lo, hi) with 480 training pairs, (gain, lo, hi) with all of them)")
def _ex_09_1(answer: Any) -> tuple[bool, str]:
    (g_small, lo_small, hi_small), (g_all, lo_all, hi_all) = ((float(a), float(b), float(c)) for a, b, c in answer)
    if g_all <= g_small:
        return False, "twelve times the data should give a larger gain: did the full run train on all pairs, one epoch?"
    return True, (f"gain {g_small:.3f} -> {g_all:.3f}; interval width {hi_small - lo_small:.3f} -> {hi_all - lo_all:.3f}: "
                  "the width depends on the evaluation pairs more than on the training size.")


@_checker("09.2", "(STS probe drop with learning_rate=1e-3, drop with learning_rate=2e-5), after the same epochs")
def _ex_09_2(answer: Any) -> tuple[bool, str]:
    drop_at_1e3, drop_at_2e5 = answer
    return _increasing((drop_at_2e5, drop_at_1e3), "50 times smaller steps should forget less: a drop is probe before minus probe after.",
                       "drop {high:.3f} at 1e-3 vs {low:.3f} at 2e-5: forgetting follows the learning rate as well as the steps.")


@_checker("10.1", "the number of texts the first run after a restart had to encode (cache misses)")
def _ex_10_1(answer: Any) -> tuple[bool, str]:
    misses = int(answer)
    if misses:
        return False, f"{misses} texts were encoded again: did both kernels use the same cache folder and the same model?"
    return True, "nothing encoded: the cache lives on disk, keyed by model fingerprint and text."


@_checker("10.2", "(did a warning name the damaged shard?, how many texts the next add re-encoded)")
def _ex_10_2(answer: Any) -> tuple[bool, str]:
    warned, re_encoded = bool(answer[0]), int(answer[1])
    if not warned:
        return False, "the cache checks each shard's checksum when it opens: create the new engine after the edit."
    if re_encoded == 0:
        return False, "the texts of the damaged shard must be encoded again on the next add: add the same texts."
    return True, f"warned, and {re_encoded} texts re-encoded: a damaged file is skipped, never served."


@_checker("10.3", "(drift p-value with 20 recent queries, with 40) for the mixed week")
def _ex_10_3(answer: Any) -> tuple[bool, str]:
    p20, p40 = (float(x) for x in answer)
    if not (0 <= p20 <= 1 and 0 <= p40 <= 1):
        return False, "p-values lie between 0 and 1."
    seen = lambda p: "detected" if p < 0.05 else "not detected"   # noqa: E731
    return True, f"20 queries: {seen(p20)} (p={p20:.3g}); 40: {seen(p40)} (p={p40:.3g}). A diluted shift needs more queries."


@_checker("11.1", "(accuracy@1 of mean pooling unnormalised, of sum pooling unnormalised, of sum pooling normalised)")
def _ex_11_1(answer: Any) -> tuple[bool, str]:
    mean_raw, sum_raw, sum_norm = (float(x) for x in answer)
    if sum_raw >= mean_raw:
        return False, "sum pooling without normalising should do worse: long documents get long vectors. Multiply by the token count."
    if sum_norm <= sum_raw:
        return False, "normalising should restore the cosine ranking: divide each vector by its length."
    return True, "lengths decide raw inner products; after normalising, sum and mean pooling rank the same."


@_checker("11.2", "True if chunking is still needed for this question with the answer at the start, else False")
def _ex_11_2(answer: Any) -> tuple[bool, str]:
    if bool(answer):
        return False, "with the answer in the first 256 word pieces the model reads it: look at the whole document's rank now."
    return True, "not for this question; chunking stays the safe default, because you rarely know where the answer is."


@_checker("11.3", "your function check_same_model(index, model), tried on a semsim VectorIndex")
def _ex_11_3(answer: Any) -> tuple[bool, str]:
    from sentence_transformers import SentenceTransformer

    from .fingerprints import fingerprint
    from .index import VectorIndex
    from .models import load_model

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


@_checker("12.1", "the benchmark table with the extra languages (rows: models; columns 'STS xx')")
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


@_checker("12.2", "(half-width of the interval at 100 pairs, gap between MiniLM and mpnet, pairs you would need)")
def _ex_12_2(answer: Any) -> tuple[bool, str]:
    half, gap, n = (float(x) for x in answer)
    if half <= 0 or gap <= 0:
        return False, "give the half-width and the gap as positive numbers."
    needed = 100 * (half / gap) ** 2
    if not needed / 1.5 <= n <= needed * 1.5:
        return False, f"the half-width shrinks with sqrt(n): n ~= 100 x (half-width / gap)^2 = {needed:.0f}."
    return True, f"about {needed:.0f} pairs for separate intervals; a paired bootstrap needs fewer."


def exercises() -> dict[str, str]:
    """The exercises that have a checker, and what each expects as its answer."""
    return {name: asks for name, (asks, _) in sorted(_CHECKS.items())}


def check(exercise: str, answer: Any, quiet: bool = False) -> bool:
    """Check an answer; prints a verdict (unless ``quiet``) and returns True when it is right."""
    if exercise not in _CHECKS:
        raise KeyError(f"no checker for exercise {exercise!r}; checkers exist for {sorted(_CHECKS)}")
    asks, fn = _CHECKS[exercise]
    try:
        ok, why = fn(answer)
    except (TypeError, ValueError) as e:
        ok, why = False, f"the answer should be {asks} ({type(e).__name__}: {e})"
    if not quiet:
        print(("✔ right: " if ok else "✘ not yet: ") + why)
    return ok
