"""Retrieval pieces: the article split, rank metrics (against a hand computation), RRF, BM25."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semsim.data import article_split, english_article, load_retrieval, retrieval_split
from semsim.evaluation import dense_ranking, mean_ci, paired_mean_diff, rank_metrics, retrieval_scores
from semsim.search.hybrid import reciprocal_rank_fusion
from semsim.text.lexical import BM25


# --- the article split -------------------------------------------------------------------------

def test_split_is_by_article_and_the_same_in_both_languages():
    side = article_split()
    assert sorted(set(side.values())) == ["test", "train"] and list(side.values()).count("test") == 24
    for name in ("squad_v1_dev", "squad_it"):
        to_en = english_article(name)
        parts = {p: retrieval_split(name, p) for p in ("train", "test")}
        full = load_retrieval(name)
        assert sum(len(r.queries) for r in parts.values()) == len(full.queries)     # nothing lost
        assert sum(len(r.corpus) for r in parts.values()) == len(full.corpus)
        for p, r in parts.items():
            assert {side[to_en[t]] for t in r.corpus["title"]} == {p}
            assert set(r.qrels["doc_id"]) <= set(r.corpus["doc_id"])
    # a question id shared by both languages falls on the same side in both
    en_test = set(retrieval_split("squad_v1_dev", "test").queries["query_id"])
    it_train = set(retrieval_split("squad_it", "train").queries["query_id"])
    it_test = set(retrieval_split("squad_it", "test").queries["query_id"])
    assert not en_test & it_train and en_test & it_test


def test_split_depends_on_its_seed_and_rejects_bad_arguments():
    assert article_split(seed=1) != article_split(seed=0)
    with pytest.raises(ValueError):
        article_split(test_articles=0)
    with pytest.raises(ValueError):
        retrieval_split("squad_v1_dev", "validation")


# --- metrics -----------------------------------------------------------------------------------

def test_rank_metrics_match_a_hand_computation():
    relevant = {"q1": {"a"}, "q2": {"b", "c"}, "q3": {"z"}, "q4": {"a"}}
    run = {"q1": ["x", "a", "y"], "q2": ["b", "x", "c"], "q3": ["x", "y"]}     # q4 never answered
    got = rank_metrics(run, relevant)
    assert got.loc["q1", "mrr@10"] == pytest.approx(0.5)
    assert got.loc["q1", "ndcg@10"] == pytest.approx(1 / math.log2(3))
    ideal = 1 + 1 / math.log2(3)
    assert got.loc["q2", "ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert got.loc["q2", "hit@1"] == 1.0 and got.loc["q1", "hit@1"] == 0.0
    assert (got.loc[["q3", "q4"]] == 0).all().all()
    assert list(got.index) == ["q1", "q2", "q3", "q4"]


def test_mrr_is_cut_at_k_and_repeated_ids_count_once():
    run = {"q": [f"d{i}" for i in range(10)] + ["a"]}
    assert rank_metrics(run, {"q": {"a"}})["mrr@10"].iloc[0] == 0.0
    assert rank_metrics(run, {"q": {"a"}}, k=11)["mrr@11"].iloc[0] == pytest.approx(1 / 11)
    assert rank_metrics({"q": ["x", "x", "a"]}, {"q": {"a"}})["mrr@10"].iloc[0] == pytest.approx(0.5)


def test_rank_metrics_agree_with_the_vector_version():
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(30, 8)), rng.normal(size=(50, 8))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    ids = [f"d{i}" for i in range(50)]
    relevant = [{ids[i], ids[(i * 7) % 50]} for i in range(30)]
    order = np.argsort(-(q @ d.T), axis=1, kind="stable")
    got = rank_metrics({str(i): [ids[j] for j in row] for i, row in enumerate(order)},
                       {str(i): r for i, r in enumerate(relevant)})
    want = retrieval_scores(q, d, ids, relevant)
    assert got["ndcg@10"].mean() == pytest.approx(want["ndcg@10"])
    assert got["mrr@10"].mean() == pytest.approx(want["mrr@10"])
    assert got["hit@1"].mean() == pytest.approx(want["accuracy@1"])


def test_dense_ranking_orders_by_inner_product_and_keeps_ties_in_document_order():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    d = np.array([[0.5, 0.5], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    assert dense_ranking(q, d, ["a", "b", "c", "d"], k=3) == [["b", "a", "c"], ["d", "a", "c"]]
    assert dense_ranking(q, d, ["a", "b", "c", "d"], k=10)[0] == ["b", "a", "c", "d"]


def test_rank_metrics_refuse_queries_without_judgements():
    with pytest.raises(ValueError, match="no relevant"):
        rank_metrics({"q9": ["a"]}, {"q1": {"a"}})
    with pytest.raises(ValueError, match="at least one"):
        rank_metrics({}, {"q1": set()})


def test_paired_interval_is_narrower_than_the_unpaired_one_when_queries_vary():
    rng = np.random.default_rng(1)
    difficulty = rng.uniform(0, 1, 400)
    a, b = difficulty + 0.05, difficulty + rng.normal(0, 0.02, 400)
    diff, lo, hi = paired_mean_diff(a, b)
    assert lo > 0 and diff == pytest.approx(np.mean(a - b))
    _, alo, ahi = mean_ci(a)
    assert hi - lo < (ahi - alo) / 5
    with pytest.raises(ValueError):
        paired_mean_diff([1, 2], [1, 2, 3])


# --- reciprocal rank fusion --------------------------------------------------------------------

def test_rrf_by_hand():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    score = {"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61, "d": 1 / 63}
    assert fused == sorted(score, key=lambda x: -score[x])
    assert reciprocal_rank_fusion([["a", "b"]], limit=1) == ["a"]
    with pytest.raises(TypeError):
        reciprocal_rank_fusion(["abc"])
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=-1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 20), max_size=15), min_size=1, max_size=4))
def test_rrf_properties(rankings):
    fused = reciprocal_rank_fusion(rankings)
    assert sorted(fused) == sorted({x for r in rankings for x in r})       # every id once, none invented
    if len(rankings) == 1:
        assert fused == list(dict.fromkeys(rankings[0]))                   # one ranking comes back as it was
    if all(rankings) and len({r[0] for r in rankings}) == 1:
        assert fused[0] == rankings[0][0]                                  # first everywhere -> first


# --- BM25 --------------------------------------------------------------------------------------

def test_bm25_stems_and_drops_stop_words_per_language():
    it = BM25(["Il gatto mangia il pesce", "La crisi petrolifera del 1973", "Un cane dorme"], ["a", "b", "c"], "it")
    assert [d for d, _ in it.search(["Quando è iniziata la crisi petrolifera?"])[0]] == ["b"]
    assert [d for d, _ in it.search(["gatti"])[0]] == ["a"]                  # gatti -> gatt <- gatto
    assert it.search(["il la del", ""]) == [[], []]                          # only stop words, or nothing
    en = BM25(["The cat eats fish", "The oil crisis of 1973"], language="en")
    assert en.search(["cats eating"])[0][0][0] == 0
    unstemmed = BM25(["The cat eats fish", "The oil crisis of 1973"], language="en", stem=False)
    assert unstemmed.search(["cats"]) == [[]]


def test_bm25_refuses_bad_input():
    with pytest.raises(ValueError, match="language"):
        BM25(["a"], language="fr")
    with pytest.raises(ValueError, match="unique"):
        BM25(["a", "b"], ids=["x", "x"])
    with pytest.raises(ValueError):
        BM25([])
    with pytest.raises(ValueError, match="stop words"):
        BM25(["a the", "of"])
    with pytest.raises(TypeError):
        BM25(["cats and dogs"]).search("cats")
