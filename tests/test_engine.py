import errno
import threading

import numpy as np
import pytest

from semsim import storage
from semsim.engine import SearchEngine, quantize_int8
from semsim.errors import IndexMismatch

DOCS = {"cat": "The cat sleeps on the sofa.", "stocks": "Stock markets fell sharply today.",
        "soup": "A recipe for tomato soup.", "goal": "The striker scored twice.",
        "pw": "How to reset a forgotten password."}


@pytest.fixture
def engine(minilm, tmp_path):
    e = SearchEngine(minilm, tmp_path / "cache", min_score=0.2)
    e.add(DOCS)
    return e


def test_add_search_and_threshold(engine):
    hits = engine.search("I forgot my login password", k=3)
    assert hits[0].id == "pw" and all(h.score >= 0.2 for h in hits)
    assert engine.search("quantum chromodynamics lecture", k=5, min_score=0.9) == []
    assert len(engine.log) == 2 and engine.log[0].hits == len(hits)


def test_cache_means_nothing_is_encoded_twice(minilm, tmp_path):
    e = SearchEngine(minilm, tmp_path / "cache")
    assert e.add(DOCS) == len(DOCS)
    e2 = SearchEngine(minilm, tmp_path / "cache")
    assert e2.add(DOCS) == 0  # all from the on-disk cache


def test_incremental_delete_and_upsert(engine):
    engine.delete(["pw"])
    assert len(engine) == 4 and all(h.id != "pw" for h in engine.search("password", k=10))
    engine.upsert({"soup": "A recipe for onion soup.", "new": "Trains leave every hour."})
    assert engine.texts["soup"] == "A recipe for onion soup." and len(engine) == 5
    assert engine.index.ntotal == 5
    with pytest.raises(KeyError):
        engine.delete(["nope", "cat"])
    assert "cat" in engine.texts  # nothing removed


@pytest.mark.parametrize("docs,err", [({"a": ""}, ValueError), ({"": "text"}, ValueError), ({"a": None}, ValueError),
                                      (["just", "a list"], TypeError)])
def test_bad_documents(engine, docs, err):
    with pytest.raises(err):
        engine.add(docs)
    assert len(engine) == len(DOCS)


def test_duplicate_ids_are_refused(engine):
    with pytest.raises(ValueError, match="already in the engine"):
        engine.add({"cat": "Another cat."})


def test_bad_queries(engine):
    for q in ["", "  ", None, 3]:
        with pytest.raises(ValueError):
            engine.search(q)
    with pytest.raises(ValueError):
        engine.search("x", k=0)


def test_empty_engine_search_is_empty_and_logged(minilm, tmp_path):
    e = SearchEngine(minilm, tmp_path / "c")
    assert e.search("anything") == [] and e.log[-1].top_score is None


def test_save_load_round_trip(engine, tmp_path, minilm):
    engine.search("soup")
    engine.save(tmp_path / "state")
    back = SearchEngine.load(tmp_path / "state", minilm, tmp_path / "cache")
    assert back.texts == engine.texts and len(back.log) == 1
    assert [h.id for h in back.search("password help", k=2)] == [h.id for h in engine.search("password help", k=2)]


def test_loading_with_a_different_model_is_refused(engine, tmp_path):
    from semsim.models import load_model

    engine.save(tmp_path / "state")
    with pytest.raises(IndexMismatch, match="built with all-MiniLM-L6-v2"):
        SearchEngine.load(tmp_path / "state", load_model("multilingual-e5-small", verbose=False), tmp_path / "c2")


def test_disk_full_during_save_keeps_the_previous_state(engine, tmp_path, minilm, monkeypatch):
    engine.save(tmp_path / "state")
    engine.add({"extra": "One more document."})
    real = storage._write_synced

    def full(path, data):
        if path.name.endswith("vectors.npy"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(storage, "_write_synced", full)
    with pytest.raises(OSError, match="No space left"):
        engine.save(tmp_path / "state")
    monkeypatch.setattr(storage, "_write_synced", real)
    back = SearchEngine.load(tmp_path / "state", minilm, tmp_path / "cache")
    assert "extra" not in back.texts and len(back) == len(DOCS)


def test_concurrent_saves_to_one_folder(engine, tmp_path, minilm):
    errors = []

    def save():
        try:
            engine.save(tmp_path / "state")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    back = SearchEngine.load(tmp_path / "state", minilm, tmp_path / "cache")
    assert back.texts == engine.texts
    assert len(list((tmp_path / "state").glob("*.vectors.npy"))) == 1


def test_mismatched_files_are_refused(engine, tmp_path, minilm):
    import io
    import json

    engine.save(tmp_path / "state")
    meta = json.loads(next((tmp_path / "state").glob("*.meta.json")).read_text())
    meta["ids"] = meta["ids"][:2]
    meta["texts"] = meta["texts"][:2]
    buf = io.BytesIO()
    np.save(buf, np.zeros((5, 384), np.float32))
    storage.atomic_save(tmp_path / "bad", {"vectors.npy": buf.getvalue(), "meta.json": json.dumps(meta).encode()})
    with pytest.raises(IndexMismatch, match="do not belong together"):
        SearchEngine.load(tmp_path / "bad", minilm, tmp_path / "cache")


def test_drift_detects_a_shift(engine):
    for i in range(30):
        engine.search(f"password reset problem number {i}")
    for i in range(30):
        engine.search(f"astronomy of distant galaxies, question {i}")
    report = engine.drift(reference=30, recent=30)
    assert report["shift"] < -0.2 and report["p_value"] < 0.01
    with pytest.raises(ValueError, match="need at least"):
        engine.drift(reference=100, recent=100)


def test_int8_copy_is_close_and_leaves_the_original(minilm):
    q = quantize_int8(minilm)
    a, b = minilm.encode(["A short test sentence."]), q.encode(["A short test sentence."])
    assert float(a[0] @ b[0]) > 0.85  # close, not equal: int8 weights shift every vector a little
    assert q is not minilm and type(next(minilm.modules())) is type(next(q.modules()))


def test_int8_copy_has_its_own_fingerprint(minilm):
    from semsim.models import fingerprint

    q = quantize_int8(minilm)
    assert fingerprint(q) == fingerprint(q) != fingerprint(minilm)
