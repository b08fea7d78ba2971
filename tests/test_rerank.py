"""semsim.search.rerank with a stand-in cross-encoder (fast, offline): order, top_k, edges."""
import numpy as np
import pytest

from semsim.search.vectors import Hit
from semsim.search.rerank import rerank


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
    for bad in (0, -1):
        with pytest.raises(ValueError, match="top_k must be"):
            rerank(LengthScorer(), "q", HITS, top_k=bad)
    for bad in (1.5, True, "3"):
        with pytest.raises(TypeError, match="top_k must be"):
            rerank(LengthScorer(), "q", HITS, top_k=bad)


def test_edges():
    assert rerank(LengthScorer(), "q", []) == []
    with pytest.raises(ValueError, match="texts"):
        rerank(LengthScorer(), "q", [Hit("x", 1.0, None)])
    with pytest.raises(ValueError):
        rerank(LengthScorer(), "  ", HITS)
    with pytest.raises(TypeError):
        rerank(LengthScorer(), None, HITS)


# -- load_reranker's branches (issue 26: it crashed with NameError while set-up trained) --------
def _fake_load(calls):
    def load(name, verbose=True):
        from semsim.errors import ModelNotAvailable

        calls.append(name)
        if not str(name).startswith("/"):
            raise ModelNotAvailable("no offline copy (test)")
        return LengthScorer()
    return load


def test_load_reranker_waits_for_training_in_another_process(tmp_path, monkeypatch, offline, capsys):
    import subprocess
    import sys
    import textwrap

    from semsim.models.identity import source
    from semsim.training import cross_encoder as training
    from semsim.training.cross_encoder import load_reranker

    monkeypatch.setenv("SEMSIM_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(training, "load_cross_encoder", _fake_load(calls))
    lock, target = training.stsb_training_lock(), training.stsb_cross_encoder_dir()
    lock.parent.mkdir(parents=True, exist_ok=True)
    # A real second process holds the training lock, as `make course`'s background training does,
    # and writes the trained folder before it lets go.
    trainer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, json, os, sys, time
        fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(1.5)
        os.makedirs({str(target)!r})
        open(os.path.join({str(target)!r}, "semsim-training.json"), "w").write(json.dumps({{"pairs": 7}}))
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert trainer.stdout.readline().strip() == "locked"
        assert training.stsb_training_in_progress()
        model = load_reranker()
    finally:
        trainer.wait(timeout=30)
    assert isinstance(model, LengthScorer) and calls[-1] == str(target)
    assert "being trained in the background" in capsys.readouterr().out
    assert source(model).origin == "trained here on 7 STS-B pairs"


def test_load_reranker_never_trained_says_how_to_train(tmp_path, monkeypatch, offline):
    from semsim.errors import ModelNotAvailable
    from semsim.training import cross_encoder
    from semsim.training.cross_encoder import load_reranker

    monkeypatch.setenv("SEMSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cross_encoder, "load_cross_encoder", _fake_load([]))
    with pytest.raises(ModelNotAvailable, match="make prepare"):
        load_reranker(allow_training=False)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
