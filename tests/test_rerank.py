"""semsim.rerank with a stand-in cross-encoder (fast, offline): order, top_k, edges."""
import numpy as np
import pytest

from semsim.index import Hit
from semsim.rerank import rerank


class LengthScorer:
    """A 'cross-encoder' that prefers longer passages: easy to predict."""

    def __init__(self):
        self.pairs = []

    def predict(self, pairs, batch_size=32, show_progress_bar=False):
        self.pairs += pairs
        return np.array([len(p) for _, p in pairs], dtype=float)


HITS = [Hit("a", 0.9, "short", {"lang": "en"}), Hit("b", 0.8, "a much longer passage"), Hit("c", 0.7, "medium one")]


def test_reorders_by_the_cross_encoder_and_keeps_metadata():
    scorer = LengthScorer()
    out = rerank(scorer, "q", HITS)
    assert [h.id for h in out] == ["b", "c", "a"] and out[0].score == len("a much longer passage")
    assert out[2].metadata == {"lang": "en"}
    assert scorer.pairs == [("q", "short"), ("q", "a much longer passage"), ("q", "medium one")]


def test_top_k_follows_the_one_rule_for_k():
    assert [h.id for h in rerank(LengthScorer(), "q", HITS, top_k=2)] == ["b", "c"]
    assert len(rerank(LengthScorer(), "q", HITS, top_k=np.int64(1))) == 1
    assert len(rerank(LengthScorer(), "q", HITS, top_k=10)) == 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="k must be"):
            rerank(LengthScorer(), "q", HITS, top_k=bad)


def test_edges():
    assert rerank(LengthScorer(), "q", []) == []
    with pytest.raises(ValueError, match="texts"):
        rerank(LengthScorer(), "q", [Hit("x", 1.0, None)])
    with pytest.raises(ValueError):
        rerank(LengthScorer(), "  ", HITS)
    with pytest.raises(TypeError):
        rerank(LengthScorer(), None, HITS)
