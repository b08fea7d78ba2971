"""semsim.search.index.VectorIndex: the one FAISS layer (kinds, deletes, filters, segments on disk)."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import faiss
import numpy as np
import pytest

from semsim.errors import IndexMismatch
from semsim.evaluation import recall_at_k
from semsim.search.index import KINDS, VectorIndex
from semsim.errors import StaleSave
from semsim.storage import read_version

PARAMS = {"nlist": 16, "pq_m": 8, "m": 16}


def rand(n, d=32, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(kind, n=2000, d=32, seed=0, **kw):
    idx = VectorIndex(d, kind, **{**PARAMS, **kw})
    idx.add(rand(n, d, seed), ids=[f"d{i}" for i in range(n)], texts=[f"text {i}" for i in range(n)],
            metadata=[{"parity": "even" if i % 2 == 0 else "odd", "bucket": i % 10} for i in range(n)])
    idx.set_search_params(nprobe=16, ef_search=64)
    return idx


def exact_ids(vectors, ids, queries, k, allowed=None):
    scores = queries @ vectors.T
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    return [[ids[j] for j in row] for row in np.argsort(-scores, axis=1, kind="stable")[:, :k]]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_finds_neighbours_and_round_trips(tmp_path, kind):
    idx = build(kind)
    v = rand(2000)
    exact = VectorIndex(32, "flat")
    exact.add(v)
    _, truth = exact.search_vectors(v[:50], 10)
    _, found = idx.search_vectors(v[:50], 10)
    assert recall_at_k(found, truth) > (0.3 if kind == "ivfpq" else 0.9)
    idx.save(tmp_path / kind)
    again = VectorIndex.load(tmp_path / kind)
    assert again.kind == kind and again.ids == idx.ids and again.texts[5] == "text 5"
    assert [h.id for h in again.search(v[:3], 5)[0]] == [h.id for h in idx.search(v[:3], 5)[0]]
    assert again.get("d7") == ("text 7", {"parity": "odd", "bucket": 7})


def test_recall_at_k_agrees_with_faiss():
    from faiss.contrib.evaluation import knn_intersection_measure

    rng = np.random.default_rng(1)
    truth = np.array([rng.permutation(50)[:10] for _ in range(20)])
    found = np.array([np.r_[t[:rng.integers(0, 11)], rng.permutation(np.arange(50, 60))][:10] for t in truth])
    assert recall_at_k(found, truth) == pytest.approx(knn_intersection_measure(found, truth))


@pytest.mark.parametrize("kind", KINDS)
def test_delete_is_all_or_nothing_and_hits_never_show_deleted(kind):
    idx = build(kind)
    v = rand(2000)
    with pytest.raises(KeyError, match="nothing was deleted"):
        idx.delete(["d1", "nope"])
    assert "d1" in idx and len(idx) == 2000
    assert idx.delete(["d1", "d1", "d2"]) == 2  # duplicates count once
    assert len(idx) == 1998 and "d1" not in idx
    hits = idx.search(v[:3], 10)
    assert all(h.id not in ("d1", "d2") for row in hits for h in row)
    assert hits[1][0].id != "d1"
    with pytest.raises(TypeError):
        idx.delete("d3")


def test_hnsw_tombstones_then_rebuild_when_a_quarter_is_dead():
    idx = build("hnsw", n=400)
    idx.delete([f"d{i}" for i in range(50)])
    assert idx.tombstones == 50 and idx.index.ntotal == 400  # still in the graph, skipped at search
    idx.delete([f"d{i}" for i in range(50, 120)])  # 120 of 400 dead > 25 %: rebuilt
    assert idx.tombstones == 0 and idx.index.ntotal == 280
    v = rand(400)
    assert idx.search(v[200:201], 1)[0][0].id == "d200"


@pytest.mark.parametrize("exact_limit", [20_000, 10])  # answered exactly, or by FAISS with an ID selector
@pytest.mark.parametrize("kind", KINDS)
def test_filters_return_only_matching_documents(kind, exact_limit, monkeypatch):
    monkeypatch.setattr("semsim.search.index.EXACT_LIMIT", exact_limit)
    idx = build(kind)
    v = rand(2000)
    q = v[1:4]  # odd documents: their own vectors are filtered out below
    ids = [f"d{i}" for i in range(2000)]
    even = np.arange(2000) % 2 == 0
    hits = idx.search(q, 5, filter={"parity": "even"})
    assert all(h.metadata["parity"] == "even" for row in hits for h in row)
    if kind != "ivfpq":  # exact or selector search over half the rows: the same top 5 as brute force
        assert [[h.id for h in row] for row in hits] == exact_ids(v, ids, q, 5, even)
    few = idx.search(q, 5, filter={"bucket": [3, 7], "parity": "odd"})  # 400 rows
    assert all(h.metadata["bucket"] in (3, 7) for row in few for h in row) and all(len(r) == 5 for r in few)
    assert idx.search(q, 5, filter={"parity": "none"}) == [[], [], []]
    assert idx.search(q, 5, filter={"missing_field": 1}) == [[], [], []]
    with pytest.raises(TypeError):
        idx.search(q, 5, filter={"parity": None})


def test_bad_input_is_refused_and_changes_nothing():
    idx = build("flat", n=10)
    with pytest.raises(IndexMismatch, match="dimension 768"):
        idx.add(rand(2, 768), ids=["x1", "x2"])
    with pytest.raises(ValueError, match="already in the index"):
        idx.add(rand(1), ids=["d0"])
    with pytest.raises(ValueError, match="unique"):
        idx.add(rand(2), ids=["n1", "n1"])
    with pytest.raises(ValueError, match="NaN"):
        idx.add(np.full((1, 32), np.nan), ids=["nan"])
    with pytest.raises(ValueError, match="zero vector"):
        idx.add(np.zeros((1, 32)), ids=["zero"])
    with pytest.raises(ValueError, match="identifier"):
        idx.add(rand(1), ids=["m"], metadata=[{"bad key": 1}])
    with pytest.raises(TypeError, match="scalar|str, int"):
        idx.add(rand(1), ids=["m"], metadata=[{"tags": ["a", "b"]}])
    assert len(idx) == 10 and "m" not in idx
    for k in (0, -1):
        with pytest.raises(ValueError, match="k must be"):
            idx.search(rand(1), k)
    for k in (2.5, True, "3"):
        with pytest.raises(TypeError, match="k must be"):
            idx.search(rand(1), k)
    assert len(idx.search(rand(1), np.int64(3))[0]) == 3  # numpy integers are integers


def test_empty_index_and_k_beyond_size():
    idx = VectorIndex(32)
    assert idx.search(rand(2), 5) == [[], []]
    idx.add(rand(3), ids=["a", "b", "c"])
    hits = idx.search(rand(1, seed=5), 50)[0]
    assert len(hits) == 3 and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_upsert_replaces_and_refuses_atomically():
    idx = build("hnsw", n=20)
    idx.upsert(rand(2, seed=9), ids=["d3", "new"], texts=["replaced", "added"], metadata=[{"parity": "x"}, None])
    assert idx.get("d3") == ("replaced", {"parity": "x"}) and len(idx) == 21
    with pytest.raises(IndexMismatch):
        idx.upsert(rand(1, 16), ids=["d4"])
    assert idx.get("d4")[0] == "text 4"


def test_cosine_metric_normalises_vectors():
    v = rand(50)
    idx = VectorIndex(32, "flat", "cosine")
    idx.add(v * 10)  # long vectors
    scores, pos = idx.search_vectors(v[:3], 1)
    assert (pos[:, 0] == [0, 1, 2]).all() and np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_other_model_fingerprint_is_refused():
    idx = VectorIndex(32, fingerprint="aaaa", model_name="one")
    idx.add(rand(3), fingerprint="aaaa")
    with pytest.raises(IndexMismatch, match="another model"):
        idx.add(rand(1, seed=2), fingerprint="bbbb")
    with pytest.raises(IndexMismatch, match="another model"):
        idx.search(rand(1), 1, fingerprint="bbbb")


def test_ivf_needs_enough_training_vectors():
    idx = VectorIndex(16, "ivf", nlist=64)
    with pytest.raises(ValueError, match="at least 64"):
        idx.add(rand(10, 16))


# -- saving ------------------------------------------------------------------------------
def written(folder, version):
    """Names and sizes of the files a version wrote itself (not the ones it kept)."""
    return {n: i.bytes for n, i in read_version(folder).files.items() if i.path.startswith(version)}


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_a_save_writes_what_changed_not_the_corpus(tmp_path, kind):
    idx = build(kind, n=4000)
    idx.save(tmp_path / "s")
    idx.add(rand(20, seed=3), ids=[f"n{i}" for i in range(20)])
    idx.delete(["d5"])
    v2 = idx.save(tmp_path / "s")
    new = written(tmp_path / "s", v2)
    assert sum(new.values()) < 40_000, new  # 20 vectors of 32 floats and a little JSON, not 4,000 vectors
    back = VectorIndex.load(tmp_path / "s")
    assert len(back) == 4019 and "n19" in back and "d5" not in back
    assert [h.id for h in back.search(rand(1, seed=3), 1)[0]] == ["n0"]


def test_hnsw_checkpoint_is_rewritten_only_when_it_lags(tmp_path):
    idx = build("hnsw", n=1000)
    idx.save(tmp_path / "s")
    idx.add(rand(50, seed=4), ids=[f"a{i}" for i in range(50)])  # 5 % newer than the checkpoint
    v2 = idx.save(tmp_path / "s")
    assert "checkpoint-vectors.npy" not in written(tmp_path / "s", v2)
    back = VectorIndex.load(tmp_path / "s")  # the checkpoint plus the 50 rows added on load
    assert len(back) == 1050 and back.search(rand(50, seed=4)[7:8], 1)[0][0].id == "a7"
    back.add(rand(100, seed=5), ids=[f"b{i}" for i in range(100)])  # now > 10 % newer
    v3 = back.save(tmp_path / "s")
    assert "checkpoint-vectors.npy" in written(tmp_path / "s", v3)


def test_segments_are_merged_when_many_or_mostly_deleted(tmp_path):
    idx = build("flat", n=100)
    for i in range(20):
        idx.add(rand(5, seed=100 + i), ids=[f"s{i}-{j}" for j in range(5)])
        idx.save(tmp_path / "s")
    head = json.loads(read_version(tmp_path / "s").data["index.json"])
    assert len(head["segments"]) <= 16
    idx.delete([f"d{i}" for i in range(60)])
    idx.save(tmp_path / "s")
    head = json.loads(read_version(tmp_path / "s").data["index.json"])
    assert len(head["segments"]) == 1 and len(read_version(tmp_path / "s").data["dead.npy"]) == 0
    assert len(VectorIndex.load(tmp_path / "s")) == len(idx) == 140


def test_ivfpq_round_trip_after_deletes(tmp_path):
    idx = build("ivfpq", n=2000)
    idx.delete(["d0", "d1"])
    idx.save(tmp_path / "s")
    idx.add(rand(5, seed=8), ids=[f"n{i}" for i in range(5)])
    idx.save(tmp_path / "s")
    back = VectorIndex.load(tmp_path / "s")
    assert len(back) == 2003 and "d0" not in back and back.index.ntotal == 2003


def test_stale_save_and_other_folders(tmp_path):
    a = build("flat", n=10)
    a.save(tmp_path / "s")
    b = VectorIndex.load(tmp_path / "s")
    b.add(rand(1, seed=3), ids=["from-b"])
    b.save(tmp_path / "s")
    a.add(rand(1, seed=4), ids=["from-a"])
    with pytest.raises(StaleSave):
        a.save(tmp_path / "s")
    a.save(tmp_path / "elsewhere")  # a new folder gets everything
    assert len(VectorIndex.load(tmp_path / "elsewhere")) == 11
    assert "from-b" in VectorIndex.load(tmp_path / "s")


def test_truncated_or_mismatched_files_are_refused(tmp_path):
    idx = build("flat", n=20)
    idx.save(tmp_path / "i")
    with pytest.raises(IndexMismatch, match="no semsim save"):
        VectorIndex.load(tmp_path / "nowhere")
    seg = next((tmp_path / "i").glob("*.seg-*.npy"))
    data = seg.read_bytes()
    seg.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexMismatch, match="truncated or damaged"):
        VectorIndex.load(tmp_path / "i")
    seg.write_bytes(data)
    from semsim.storage import save_version

    saved = read_version(tmp_path / "i")
    docs_name = next(n for n in saved.files if n.endswith(".json") and n.startswith("seg-"))
    docs = json.loads(saved.data[docs_name])
    docs["ids"] = docs["ids"][:5]
    files = {n: (bytes(d) if isinstance(d, bytes) else np.asarray(d)) for n, d in saved.data.items()}
    files[docs_name] = json.dumps(docs).encode()
    save_version(tmp_path / "j", files)
    with pytest.raises(IndexMismatch, match="do not belong together"):
        VectorIndex.load(tmp_path / "j")
    head = json.loads(saved.data["index.json"])
    files["index.json"] = json.dumps({**head, "format": 1}).encode()
    files[docs_name] = saved.data[docs_name]
    save_version(tmp_path / "k", files)
    with pytest.raises(IndexMismatch, match="format 1"):
        VectorIndex.load(tmp_path / "k")


def test_load_checks_the_model(tmp_path):
    idx = VectorIndex(32, model_name="model-a", fingerprint="aaaa")
    idx.add(rand(3))
    idx.save(tmp_path / "s")
    with pytest.raises(IndexMismatch, match="built with model-a"):
        VectorIndex.load(tmp_path / "s", expect_fingerprint="bbbb")
    assert len(VectorIndex.load(tmp_path / "s", expect_fingerprint="aaaa")) == 3


def test_a_save_killed_halfway_leaves_the_previous_version(tmp_path):
    folder = tmp_path / "idx"
    idx = VectorIndex(16)
    idx.add(rand(10, 16), ids=[f"old{i}" for i in range(10)])
    idx.save(folder)
    script = textwrap.dedent(f"""
        import numpy as np, os, signal
        import semsim.storage as st
        real = st.write_synced
        def dying(path, data):
            if '.seg-' in path.name and path.name.endswith('.npy'):
                with open(path, 'wb') as f:
                    f.write(b'partial'); f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            return real(path, data)
        st.write_synced = dying
        from semsim.search.index import VectorIndex
        idx = VectorIndex.load({str(folder)!r})
        idx.add(np.ones((5000, 16), dtype='float32') + np.arange(5000)[:, None], ids=[f'new{{i}}' for i in range(5000)])
        idx.save({str(folder)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    again = VectorIndex.load(folder)
    assert again.ids[0] == "old0" and len(again) == 10
    again.add(rand(1, 16, seed=2), ids=["after"])
    again.save(folder)  # the next save cleans up the leftovers of the killed one
    assert len(list(folder.glob("*.seg-*.npy"))) == 2 and not list(folder.glob("*.pending.json"))


@pytest.mark.parametrize("reload", [False, True])
@pytest.mark.parametrize("change", ["delete", "upsert"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_change_stays_made_through_later_saves(tmp_path, kind, change, reload):
    """Issue 22: a delete or upsert saved once must survive two more saves (and reloads).

    Before the fix, rows deleted before the last save dropped out of the next save's list of
    deleted rows: the document came back, or the folder no longer loaded."""
    n = 300
    idx = build(kind, n=n)
    folder = tmp_path / "f"
    idx.save(folder)
    expected = {f"d{i}": f"text {i}" for i in range(n)}
    if change == "delete":
        idx.delete(["d1", "d2"])
        del expected["d1"], expected["d2"]
    else:
        idx.upsert(rand(2, seed=7), ids=["d1", "d2"], texts=["new 1", "new 2"])
        expected.update({"d1": "new 1", "d2": "new 2"})
    for step in range(3):
        idx.save(folder)
        idx = VectorIndex.load(folder) if reload else idx
        idx.add(rand(1, seed=100 + step), ids=[f"extra{step}"], texts=[f"extra {step}"])
        expected[f"extra{step}"] = f"extra {step}"
        idx.save(folder)
        back = VectorIndex.load(folder)
        assert dict(zip(back.ids, back.texts)) == expected, f"after save round {step + 1}"
        if reload:
            idx = back
