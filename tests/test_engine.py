"""semsim.search.engine.SearchEngine: documents, search, filters, the query log, and saves that lose nothing."""
import errno
import json
import multiprocessing as mp

import numpy as np
import pytest

from semsim import storage
from semsim.search.engine import SearchEngine
from semsim.models.quantize import quantize_int8
from semsim.errors import IndexMismatch
from semsim.errors import StaleSave, UnsafeFolder

from conftest import FakeEncoder

DOCS = {"cat": "The cat sleeps on the sofa.", "stocks": "Stock markets fell sharply today.",
        "soup": "A recipe for tomato soup.", "goal": "The striker scored twice.",
        "pw": "How to reset a forgotten password."}
META = {"cat": {"topic": "home"}, "stocks": {"topic": "news"}, "soup": {"topic": "home"},
        "goal": {"topic": "news"}, "pw": {"topic": "help"}}


@pytest.fixture
def engine(minilm, tmp_path):
    e = SearchEngine(minilm, tmp_path / "cache", min_score=0.2)
    e.add(DOCS, META)
    return e


def test_add_search_threshold_and_filters(engine):
    hits = engine.search("I forgot my login password", k=3)
    assert hits[0].id == "pw" and all(h.score >= 0.2 for h in hits)
    assert engine.search("quantum chromodynamics lecture", k=5, min_score=0.9) == []
    assert len(engine.log) == 2 and engine.log[0].hits == len(hits)
    news = engine.search("a dish to cook at home", k=5, min_score=-1, filter={"topic": "news"})
    assert {h.id for h in news} == {"stocks", "goal"} and news[0].metadata == {"topic": "news"}
    batch = engine.search(["football match", "soup"], k=1)
    assert [b[0].id for b in batch] == ["goal", "soup"]
    assert engine.get("soup") == (DOCS["soup"], {"topic": "home"})


def test_cache_means_nothing_is_encoded_twice(minilm, tmp_path):
    e = SearchEngine(minilm, tmp_path / "cache")
    assert e.add(DOCS) == len(DOCS)
    e2 = SearchEngine(minilm, tmp_path / "cache")
    assert e2.add(DOCS) == 0  # all from the on-disk cache


def test_incremental_delete_and_upsert(engine):
    assert engine.delete(["pw", "pw"]) == 1  # duplicates count once, nothing raised
    assert len(engine) == 4 and all(h.id != "pw" for h in engine.search("password", k=10, min_score=-1))
    engine.upsert({"soup": "A recipe for onion soup.", "new": "Trains leave every hour."})
    assert engine.get("soup")[0] == "A recipe for onion soup." and len(engine) == 5
    with pytest.raises(KeyError, match="nothing was deleted"):
        engine.delete(["nope", "cat"])
    assert "cat" in engine  # nothing removed


def test_a_failing_encoder_loses_no_documents(tmp_path):
    model = FakeEncoder()
    e = SearchEngine(model, tmp_path / "cache")
    e.add({"a": "first text", "b": "second text"})
    model.fail_on = "replacement for a"
    with pytest.raises(RuntimeError, match="injected"):
        e.upsert({"a": "replacement for a", "c": "third"})
    assert len(e) == 2 and e.get("a")[0] == "first text" and "c" not in e
    with pytest.raises(RuntimeError, match="injected"):
        e.add({"d": "replacement for a"})
    assert len(e) == 2 and "d" not in e


@pytest.mark.parametrize("docs,err", [({"a": ""}, ValueError), ({"": "text"}, ValueError), ({"a": None}, ValueError),
                                      (["just", "a list"], TypeError)])
def test_bad_documents(engine, docs, err):
    with pytest.raises(err):
        engine.add(docs)
    assert len(engine) == len(DOCS)


def test_duplicate_ids_and_stray_metadata_are_refused(engine):
    with pytest.raises(ValueError, match="already in the engine"):
        engine.add({"cat": "Another cat."})
    with pytest.raises(ValueError, match="not among the documents"):
        engine.add({"x": "text"}, {"y": {"topic": "z"}})


@pytest.mark.parametrize("query,err", [("", ValueError), ("  ", ValueError), (None, TypeError), (3, TypeError),
                                       ([], ValueError), (["ok", 5], TypeError)])
def test_bad_queries(engine, query, err):
    with pytest.raises(err):
        engine.search(query)


def test_bad_k(engine):
    for k in (0, -1):
        with pytest.raises(ValueError, match="k must be"):
            engine.search("x", k=k)
    for k in (2.5, True, "3"):                  # a wrong type is a TypeError, as in scikit-learn
        with pytest.raises(TypeError, match="k must be"):
            engine.search("x", k=k)
    assert len(engine.search("x", k=np.int64(2), min_score=-1)) == 2


def test_empty_engine_search_is_empty_and_logged(fake, tmp_path):
    e = SearchEngine(fake, tmp_path / "c")
    assert e.search("anything") == [] and e.log[-1].top_score is None


def test_query_log_is_bounded_and_keeps_no_text_by_default(fake, tmp_path):
    e = SearchEngine(fake, None, log_size=5)
    e.add({"a": "alpha", "b": "beta"})
    for i in range(8):
        e.search(f"private question {i}", min_score=-1)
    assert len(e.log) == 5 and all(r.query is None for r in e.log)
    e.save(tmp_path / "state")
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "state").iterdir() if p.is_file())
    assert b"private question" not in on_disk
    kept = SearchEngine(fake, None, log_text=True)
    kept.add({"a": "alpha"})
    kept.search("visible question")
    assert kept.log[-1].query == "visible question"


def test_drift_with_a_rolling_or_frozen_reference(fake):
    e = SearchEngine(fake, None)
    e.add({f"d{i}": f"document {i}" for i in range(20)})
    for i in range(30):
        e.search(f"document {i % 20}")  # exact matches: best score 1
    for i in range(30):
        e.search(f"an unrelated question {i}")
    rolling = e.drift(recent=30)
    assert rolling["shift"] < -0.2 and rolling["p_value"] < 0.01 and rolling["reference_size"] == 30
    e.set_drift_reference(last=30)  # freeze the off-topic period as "normal"
    for i in range(30):
        e.search(f"another unrelated question {i}")
    assert abs(e.drift(recent=30)["shift"]) < 0.2
    with pytest.raises(ValueError, match="need at least"):
        e.drift(recent=1000)


# -- saving and loading ----------------------------------------------------------------------
def test_save_load_round_trip(engine, tmp_path, minilm):
    engine.search("soup")
    engine.set_drift_reference()
    engine.save(tmp_path / "state")
    back = SearchEngine.load(tmp_path / "state", minilm, tmp_path / "cache")
    assert len(back) == len(engine) and back.get("pw") == engine.get("pw") and len(back.log) == 1
    assert back.reference is not None and back.min_score == 0.2
    assert [h.id for h in back.search("password help", k=2)] == [h.id for h in engine.search("password help", k=2)]


def test_saving_into_a_folder_of_other_files_is_refused(engine, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("my notes")
    (project / "report.csv").write_text("a,b")
    with pytest.raises(UnsafeFolder, match="not empty"):
        engine.save(project)
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt", "report.csv"]


def test_loading_with_a_different_model_is_refused(engine, tmp_path):
    engine.save(tmp_path / "state")
    with pytest.raises(IndexMismatch, match="built with all-MiniLM-L6-v2"):
        SearchEngine.load(tmp_path / "state", FakeEncoder(dim=384), tmp_path / "c2")


def test_disk_full_during_save_keeps_the_previous_state(engine, tmp_path, minilm, monkeypatch):
    engine.save(tmp_path / "state")
    engine.add({"extra": "One more document."})
    real = storage.write_synced

    def full(path, data):
        if ".seg-" in path.name and path.name.endswith(".npy"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(storage, "write_synced", full)
    with pytest.raises(OSError, match="No space left"):
        engine.save(tmp_path / "state")
    monkeypatch.setattr(storage, "write_synced", real)
    back = SearchEngine.load(tmp_path / "state", minilm, tmp_path / "cache")
    assert "extra" not in back and len(back) == len(DOCS)
    engine.save(tmp_path / "state")  # the same engine can save once there is room again
    assert "extra" in SearchEngine.load(tmp_path / "state", minilm, tmp_path / "cache")


def test_damaged_engine_state_is_refused_with_its_cause(engine, tmp_path, minilm):
    engine.save(tmp_path / "state")
    saved = storage.read_version(tmp_path / "state")
    files = {n: (bytes(d) if isinstance(d, bytes) else np.asarray(d)) for n, d in saved.data.items()}
    files["engine.json"] = json.dumps({"format": 2}).encode()  # keys missing
    storage.save_version(tmp_path / "bad", files)
    with pytest.raises(IndexMismatch, match="engine.json is not valid") as info:
        SearchEngine.load(tmp_path / "bad", minilm, tmp_path / "cache")
    assert isinstance(info.value.__cause__, KeyError)


def _add_and_save(folder: str, cache: str, tag: str, loaded: "mp.Barrier", out: "mp.Queue") -> None:
    import time

    from conftest import FakeEncoder
    from semsim.search.engine import SearchEngine
    from semsim.errors import StaleSave

    e = SearchEngine.load(folder, FakeEncoder(), cache)
    loaded.wait()
    e.add({f"{tag}-{i}": f"{tag} document {i}" for i in range(3)})
    time.sleep(0.3 if tag == "second" else 0)
    try:
        e.save(folder)
        out.put((tag, "saved"))
    except StaleSave as err:
        out.put((tag, f"refused: {err}"))


def test_two_processes_adding_to_one_engine_never_drop_documents(tmp_path):
    folder, cache = str(tmp_path / "state"), str(tmp_path / "cache")
    base = SearchEngine(FakeEncoder(), cache)
    base.add({"base": "the first document"})
    base.save(folder)
    ctx = mp.get_context("spawn")
    loaded, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_add_and_save, args=(folder, cache, tag, loaded, out)) for tag in ("first", "second")]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=180) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    assert sorted(v.split(":")[0] for v in results.values()) == ["refused", "saved"], results
    winner = next(t for t, v in results.items() if v == "saved")
    back = SearchEngine.load(folder, FakeEncoder(), cache)
    assert len(back) == 4 and all(f"{winner}-{i}" in back for i in range(3))


def test_a_stale_engine_can_be_saved_elsewhere(fake, tmp_path):
    a = SearchEngine(fake, None)
    a.add({"x": "one"})
    a.save(tmp_path / "s")
    b = SearchEngine.load(tmp_path / "s", fake, None)
    b.add({"y": "two"})
    b.save(tmp_path / "s")
    a.add({"z": "three"})
    with pytest.raises(StaleSave):
        a.save(tmp_path / "s")
    a.save(tmp_path / "s2")
    assert "z" in SearchEngine.load(tmp_path / "s2", fake, None)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_kinds_work_end_to_end(kind, tmp_path):
    model = FakeEncoder(dim=32)
    e = SearchEngine(model, None, kind=kind, nlist=8)
    docs = {f"d{i}": f"document number {i}" for i in range(400)}
    e.add(docs, {d: {"half": int(i >= 200)} for i, d in enumerate(docs)})
    assert e.search("document number 17", k=1)[0].id == "d17"
    assert e.search("document number 17", k=3, filter={"half": 1}, min_score=-1)[0].id != "d17"
    e.delete(["d17"])
    e.save(tmp_path / "s")
    back = SearchEngine.load(tmp_path / "s", model, None)
    assert back.store.kind == kind and len(back) == 399 and "d17" not in back


def test_int8_copy_is_close_and_leaves_the_original(minilm):
    before = minilm.encode(["A short test sentence."])
    q = quantize_int8(minilm)
    after = q.encode(["A short test sentence."])
    assert float(before[0] @ after[0]) > 0.85  # close, not equal: int8 weights shift every vector a little
    linear = type(minilm[0].auto_model.encoder.layer[0].attention.self.query)
    qlinear = type(q[0].auto_model.encoder.layer[0].attention.self.query)
    assert linear.__name__ == "Linear" and qlinear is not linear  # the copy's layers were replaced...
    np.testing.assert_array_equal(minilm.encode(["A short test sentence."]), before)  # ...the original's not


def test_int8_copy_has_its_own_fingerprint(minilm):
    from semsim.models.identity import fingerprint

    q = quantize_int8(minilm)
    assert fingerprint(q) == fingerprint(q) != fingerprint(minilm)
