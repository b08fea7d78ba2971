import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from semsim.evaluation import (bootstrap_ci, correlations, evaluate_sts, paired_bootstrap_diff, pair_cosines,
                               retrieval_scores)

PAIRS = pd.DataFrame({
    "sentence1": ["A man plays a guitar.", "A cat sleeps.", "The stock market fell.", "Kids play football.",
                  "A woman slices onions.", "The train is late."],
    "sentence2": ["Someone is playing the guitar.", "A dog barks loudly.", "Shares dropped sharply.",
                  "Children are playing soccer.", "Someone is cutting an onion.", "Quantum physics is hard."],
    "score": [4.8, 0.8, 4.2, 4.6, 4.4, 0.0],
})


def test_correlations_match_scipy_and_reject_bad_input():
    rng = np.random.default_rng(0)
    p, g = rng.random(50), rng.random(50)
    r = correlations(p, g)
    assert r.spearman == pytest.approx(spearmanr(p, g).statistic) and r.n == 50
    with pytest.raises(ValueError):
        correlations([1, 2, 3], [1, 2])
    with pytest.raises(ValueError):
        correlations([1, 2], [1, 2])


def test_sts_with_a_real_model_agrees_with_sentence_transformers(minilm):
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    ours = evaluate_sts(minilm, PAIRS)
    theirs = EmbeddingSimilarityEvaluator(PAIRS["sentence1"].tolist(), PAIRS["sentence2"].tolist(),
                                          (PAIRS["score"] / 5).tolist(), name="t")(minilm)
    assert ours.spearman == pytest.approx(theirs["t_spearman_cosine"], abs=1e-6)
    assert ours.spearman > 0.7 and len(pair_cosines(minilm, PAIRS)) == len(PAIRS)


def test_bootstrap_intervals_bracket_the_estimate():
    rng = np.random.default_rng(1)
    g = rng.random(200)
    good, worse = g + 0.1 * rng.standard_normal(200), g + 0.6 * rng.standard_normal(200)
    lo, hi = bootstrap_ci(good, g, n_boot=200)
    assert lo < correlations(good, g).spearman < hi
    d, lo, hi = paired_bootstrap_diff(good, worse, g, n_boot=200)
    assert 0 < lo < d < hi


def test_retrieval_scores_by_hand():
    docs = np.eye(3, dtype=np.float32)
    queries = np.array([[1, 0, 0], [0.1, 0.9, 0.0], [0.9, 0.0, 0.1]], dtype=np.float32)
    s = retrieval_scores(queries, docs, ["a", "b", "c"], [{"a"}, {"b"}, {"c"}], k=3)
    assert s["accuracy@1"] == pytest.approx(2 / 3)
    assert s["mrr@3"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert s["ndcg@3"] == pytest.approx((1 + 1 + 1 / np.log2(3)) / 3)
    with pytest.raises(ValueError):
        retrieval_scores(queries, docs, ["a", "b", "c"], [{"a"}, set(), {"c"}])
    with pytest.raises(ValueError):
        retrieval_scores(queries[:2], docs, ["a", "b", "c"], [{"a"}, {"b"}, {"c"}])
    with pytest.raises(ValueError, match="unique"):
        retrieval_scores(queries, docs, ["a", "a", "c"], [{"a"}, {"a"}, {"c"}])


def test_retrieval_scores_agree_with_sentence_transformers(minilm):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    corpus = dict(zip(["d0", "d1", "d2", "d3", "d4", "d5"], PAIRS["sentence2"]))
    queries = dict(zip(["q0", "q1", "q2", "q3", "q4", "q5"], PAIRS["sentence1"]))
    relevant = {f"q{i}": {f"d{i}"} for i in range(6)}
    theirs = InformationRetrievalEvaluator(queries, corpus, relevant, name="t", ndcg_at_k=[5], mrr_at_k=[5],
                                           accuracy_at_k=[1], precision_recall_at_k=[1], map_at_k=[5])(minilm)
    ours = retrieval_scores(minilm.encode(list(queries.values()), normalize_embeddings=True),
                            minilm.encode(list(corpus.values()), normalize_embeddings=True),
                            list(corpus), [relevant[q] for q in queries], k=5)
    assert ours["ndcg@5"] == pytest.approx(theirs["t_cosine_ndcg@5"], abs=1e-6)
    assert ours["mrr@5"] == pytest.approx(theirs["t_cosine_mrr@5"], abs=1e-6)
