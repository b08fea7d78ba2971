import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from semsim.errors import IndexMismatch
from semsim.search import SemanticSearch, VectorIndex, recall_at_k

DOCS = ["The cat sleeps on the sofa.", "Stock markets fell sharply today.", "A recipe for tomato soup.",
        "The striker scored twice.", "How to reset a forgotten password."]


@pytest.fixture(scope="module")
def engine(minilm):
    s = SemanticSearch(minilm)
    s.add(DOCS, ids=[f"d{i}" for i in range(len(DOCS))])
    return s


def rand(n, d=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_text_search_finds_the_right_document(engine):
    hits = engine.search("I can't remember my login", k=2)
    assert hits[0].id == "d4" and hits[0].text == DOCS[4] and -1 <= hits[0].score <= 1
    assert [h[0].id for h in engine.search(["football match", "soup"], k=1)] == ["d3", "d2"]


def test_k_larger_than_corpus_returns_all_without_padding(engine):
    hits = engine.search("anything", k=50)
    assert len(hits) == len(DOCS) and len({h.id for h in hits}) == len(DOCS)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("query,err", [("", ValueError), ("   ", ValueError), (123, TypeError), (None, TypeError),
                                       ([], ValueError), (["ok", 5], TypeError)])
def test_bad_queries(engine, query, err):
    with pytest.raises(err):
        engine.search(query)


def test_bad_k(engine):
    for k in (0, -1, 2.5):
        with pytest.raises(ValueError, match="k must be"):
            engine.search("x", k=k)


def test_empty_corpus_and_empty_texts(minilm):
    s = SemanticSearch(minilm)
    with pytest.raises(ValueError, match="empty"):
        s.search("hello")
    with pytest.raises(ValueError, match="no texts"):
        s.add([])
    with pytest.raises(ValueError, match="non-empty strings"):
        s.add(["fine", ""])
    with pytest.raises(TypeError):
        s.add("one string")


def test_wrong_dimension_and_other_model_are_refused(engine, minilm):
    with pytest.raises(IndexMismatch, match="dimension 768"):
        engine.index.add(rand(2, 768), ids=["x1", "x2"])
    from semsim.models import load_model, fingerprint

    e5 = load_model("multilingual-e5-small", verbose=False)
    with pytest.raises(IndexMismatch, match="another model"):
        engine.index.add(e5.encode(["x"]), ids=["x"], fingerprint=fingerprint(e5))
    with pytest.raises(IndexMismatch, match="another model"):
        engine.index.search(e5.encode(["x"]), k=1, fingerprint=fingerprint(e5))
    assert engine.index.search(minilm.encode(["x"]), k=1, fingerprint=fingerprint(minilm))


def test_duplicate_ids_and_nan(engine):
    with pytest.raises(ValueError, match="unique"):
        engine.index.add(rand(1, 384), ids=["d0"])
    with pytest.raises(ValueError, match="NaN"):
        engine.index.add(np.full((1, 384), np.nan), ids=["nan"])
    assert len(engine.index) == len(DOCS)  # nothing half-added


def test_cosine_metric_normalises_vectors():
    v = rand(50)
    idx = VectorIndex(16, "flat", "cosine")
    idx.add(v * 10)  # long vectors
    scores, pos = idx.search_vectors(v[:3], 1)
    assert (pos[:, 0] == [0, 1, 2]).all() and np.allclose(scores[:, 0], 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw", "ivfpq"])
def test_every_kind_builds_searches_and_round_trips(tmp_path, kind):
    v = rand(2000, 32)
    idx = VectorIndex(32, kind, nlist=16, pq_m=8)
    idx.add(v, texts=[f"t{i}" for i in range(2000)])
    idx.set_search_params(nprobe=16, ef_search=64)
    exact = VectorIndex(32, "flat")
    exact.add(v)
    _, truth = exact.search_vectors(v[:50], 10)
    _, found = idx.search_vectors(v[:50], 10)
    assert recall_at_k(found, truth) > (0.3 if kind == "ivfpq" else 0.9)
    idx.save(tmp_path / kind)
    again = VectorIndex.load(tmp_path / kind)
    assert again.kind == kind and again.ids == idx.ids and again.texts[5] == "t5"
    assert again.search(v[:1], 3)[0][0].id == idx.search(v[:1], 3)[0][0].id


def test_ivf_needs_enough_training_vectors():
    idx = VectorIndex(16, "ivf", nlist=64)
    with pytest.raises(ValueError, match="at least nlist=64"):
        idx.add(rand(10))


def test_save_load_with_model_check(engine, tmp_path, minilm):
    engine.save(tmp_path / "s")
    loaded = SemanticSearch.load(tmp_path / "s", minilm)
    assert loaded.search("password help", k=1)[0].id == "d4"
    from semsim.models import load_model

    with pytest.raises(IndexMismatch, match="built with all-MiniLM-L6-v2"):
        SemanticSearch.load(tmp_path / "s", load_model("multilingual-e5-small", verbose=False))


def test_truncated_or_missing_or_mismatched_files(tmp_path):
    idx = VectorIndex(16)
    idx.add(rand(20), texts=[str(i) for i in range(20)])
    idx.save(tmp_path / "i")
    with pytest.raises(IndexMismatch, match="no saved index"):
        VectorIndex.load(tmp_path / "nowhere")
    faiss_file = next((tmp_path / "i").glob("*.index.faiss"))
    data = faiss_file.read_bytes()
    faiss_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexMismatch, match="truncated or damaged"):
        VectorIndex.load(tmp_path / "i")
    # a well-formed folder whose metadata belongs to another index
    import json
    from semsim.storage import atomic_save

    other = json.loads(next((tmp_path / "i").glob("*.meta.json")).read_text())
    other["ids"] = other["ids"][:5]
    other["texts"] = other["texts"][:5]
    atomic_save(tmp_path / "j", {"index.faiss": data, "meta.json": json.dumps(other).encode()})
    with pytest.raises(IndexMismatch, match="do not belong together"):
        VectorIndex.load(tmp_path / "j")


def test_a_save_killed_halfway_leaves_the_previous_version(tmp_path):
    folder = tmp_path / "idx"
    idx = VectorIndex(16)
    idx.add(rand(10), ids=[f"old{i}" for i in range(10)])
    idx.save(folder)
    # A child process starts a big save and is killed while writing.
    script = textwrap.dedent(f"""
        import numpy as np, os, signal
        import semsim.storage as st
        real = st._write_synced
        def slow(path, data):
            if path.name.endswith('index.faiss'):
                with open(path, 'wb') as f:
                    f.write(data[: len(data) // 3]); f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            real(path, data)
        st._write_synced = slow
        from semsim.search import VectorIndex
        idx = VectorIndex(16)
        idx.add(np.ones((5000, 16), dtype='float32') + np.arange(5000)[:, None], ids=[f'new{{i}}' for i in range(5000)])
        idx.save({str(folder)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert len([p for p in folder.iterdir() if p.name.endswith("index.faiss")]) == 2  # old + partial new
    again = VectorIndex.load(folder)
    assert again.ids[0] == "old0" and len(again) == 10
    idx.save(folder)  # the next save cleans up the leftovers
    assert len([p for p in folder.iterdir() if p.name.endswith("index.faiss")]) == 1


def test_corpus_shaped_vectors_are_unit_and_repeatable():
    from semsim.search import corpus_shaped_vectors

    base = rand(50, 384)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    a = corpus_shaped_vectors(base, 200, np.random.default_rng(0))
    b = corpus_shaped_vectors(base, 200, np.random.default_rng(0))
    assert a.shape == (200, 384) and a.dtype == np.float32 and np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
