"""One contract, three stores: FAISS in process, Milvus Lite (a local file) and a real Milvus server.

The server is the C++ Milvus standalone from the PyPI package ``milvus``, started by a
fixture on 127.0.0.1 on a free port in a temporary folder, and stopped afterwards. Where it
cannot start, its tests are skipped with the reason; everything else still runs.
"""
import numpy as np
import pytest

from semsim.engine import SearchEngine
from semsim.errors import IndexMismatch
from semsim.index import VectorIndex
from semsim.stores import MilvusStore, StoreUnavailable, load_store, milvus_filter

from conftest import FakeEncoder

DIM = 16


def unit(n, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    from semsim.milvus_server import LocalMilvus, ServerNotStarted

    server = LocalMilvus(tmp_path_factory.mktemp("milvus-server"))
    try:
        server.start()
    except ServerNotStarted as e:
        pytest.skip(f"the local Milvus server cannot start here: {e}")
    yield server
    server.stop()


_names = iter(range(10_000))


@pytest.fixture(params=["faiss", "milvus-lite", "milvus-server"])
def make_store(request, tmp_path):
    """A factory: make_store(fingerprint=..., model_name=...) -> a new, empty store of the kind."""

    def make(fingerprint="fp-a", model_name="model-a", name=None):
        if request.param == "faiss":
            return VectorIndex(DIM, "flat", model_name=model_name, fingerprint=fingerprint)
        uri = (str(tmp_path / "lite.db") if request.param == "milvus-lite"
               else request.getfixturevalue("milvus_server").uri)
        return MilvusStore(uri, name or f"c{next(_names)}", DIM, model_name=model_name, fingerprint=fingerprint)

    make.kind = request.param
    return make


def filled(make):
    s = make()
    s.add(unit(30), [f"d{i}" for i in range(30)], [f"text {i}" for i in range(30)],
          [{"lang": "en" if i % 3 else "it", "n": i} for i in range(30)])
    return s


def test_add_search_get_and_len(make_store):
    s = filled(make_store)
    assert len(s) == 30 and "d3" in s and "zz" not in s
    hits = s.search(unit(30)[[4, 9]], k=3)
    assert [row[0].id for row in hits] == ["d4", "d9"]
    assert hits[0][0].score == pytest.approx(1.0, abs=1e-4) and hits[0][0].text == "text 4"
    assert hits[0][0].metadata == {"lang": "en", "n": 4}
    assert s.get("d6") == ("text 6", {"lang": "it", "n": 6})
    with pytest.raises(KeyError):
        s.get("zz")


def test_filters_behave_the_same(make_store):
    s = filled(make_store)
    q = unit(30)[[4]]
    it = s.search(q, k=5, filter={"lang": "it"})[0]
    assert len(it) == 5 and all(h.metadata["lang"] == "it" for h in it)
    some = s.search(q, k=30, filter={"n": [1, 2, 3]})[0]
    assert sorted(h.id for h in some) == ["d1", "d2", "d3"]
    assert s.search(q, k=5, filter={"lang": "fr"}) == [[]]


def test_delete_upsert_and_refusals(make_store):
    s = filled(make_store)
    with pytest.raises(KeyError, match="nothing was deleted"):
        s.delete(["d1", "nope"])
    assert len(s) == 30
    assert s.delete(["d1", "d1"]) == 1 and len(s) == 29 and "d1" not in s
    with pytest.raises(ValueError, match="already in|unique"):
        s.add(unit(1, seed=5), ["d2"], ["again"])
    s.upsert(unit(1, seed=5), ["d2"], ["replaced"], [{"lang": "de"}])
    assert s.get("d2") == ("replaced", {"lang": "de"}) and len(s) == 29
    with pytest.raises(IndexMismatch, match="dimension"):
        s.add(np.ones((1, DIM + 1), np.float32), ["bad"])
    with pytest.raises(ValueError, match="NaN"):
        s.add(np.full((1, DIM), np.nan, np.float32), ["bad"])
    with pytest.raises(IndexMismatch, match="another model"):
        s.add(unit(1, seed=6), ["bad"], fingerprint="fp-other")
    with pytest.raises(IndexMismatch, match="another model"):
        s.search(unit(1), 1, fingerprint="fp-other")
    with pytest.raises(ValueError, match="k must be"):
        s.search(unit(1), 0)
    with pytest.raises(TypeError):
        s.search(unit(1), 1, filter={"lang": {"nested": 1}})
    assert len(s) == 29 and "bad" not in s


def test_another_model_is_refused_when_reopened(make_store, tmp_path):
    s = filled(make_store)
    s.save(tmp_path / "saved")
    with pytest.raises(IndexMismatch, match="built with model-a"):
        load_store(tmp_path / "saved", expect_fingerprint="fp-other")
    back = load_store(tmp_path / "saved", expect_fingerprint="fp-a")
    assert len(back) == 30 and back.search(unit(30)[[7]], 1)[0][0].id == "d7"
    if make_store.kind != "faiss":  # the collection itself carries the fingerprint too
        with pytest.raises(IndexMismatch, match="built with model-a"):
            MilvusStore(s.uri, s.collection, DIM, model_name="model-b", fingerprint="fp-b")


def test_the_engine_runs_on_every_store(make_store, tmp_path):
    model = FakeEncoder(dim=DIM)
    store = make_store(fingerprint=model.semsim_fingerprint(), model_name="fake")
    e = SearchEngine(model, None, store=store)
    e.add({"a": "alpha text", "b": "beta text", "c": "gamma text"}, {"a": {"kind": "x"}, "b": {"kind": "y"}})
    assert e.search("beta text", k=1)[0].id == "b"
    assert [h.id for h in e.search("beta text", k=3, filter={"kind": "x"}, min_score=-1)] == ["a"]
    e.save(tmp_path / "engine")
    back = SearchEngine.load(tmp_path / "engine", model, None)
    assert len(back) == 3 and back.search("gamma text", k=1)[0].id == "c"
    with pytest.raises(IndexMismatch):
        SearchEngine(FakeEncoder(dim=DIM, name="other"), None, store=store)


def test_milvus_filter_expressions():
    assert milvus_filter({"lang": "it"}) == 'meta["lang"] == "it"'
    assert milvus_filter({"n": [1, 2], "ok": True}) == '(meta["n"] == 1 or meta["n"] == 2) and meta["ok"] == true'
    with pytest.raises(TypeError):
        milvus_filter({"lang": []})


def test_an_unreachable_server_gives_one_clear_error():
    from semsim.milvus_server import free_port

    port = free_port()
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}.*Start a server"):
        MilvusStore(f"http://127.0.0.1:{port}", "c", DIM, timeout=3)


def test_a_collection_not_made_by_semsim_is_refused(tmp_path):
    from pymilvus import MilvusClient

    client = MilvusClient(str(tmp_path / "x.db"))
    client.create_collection("theirs", dimension=DIM)
    client.close()
    with pytest.raises(IndexMismatch, match="not created by semsim"):
        MilvusStore(str(tmp_path / "x.db"), "theirs", DIM)


def test_nothing_acknowledged_is_lost_when_the_server_restarts(milvus_server):
    """Restarts the session's server (Milvus' embedded etcd allows one server per machine)."""
    s = MilvusStore(milvus_server.uri, "restart", DIM, fingerprint="fp-a", model_name="model-a")
    s.add(unit(10), [f"d{i}" for i in range(10)], [f"t{i}" for i in range(10)])
    s.flush()
    s.add(unit(5, seed=1), [f"late{i}" for i in range(5)])  # acknowledged, not flushed
    s.delete(["d0"])
    s.close()
    milvus_server.stop()  # SIGTERM, then SIGKILL after a second
    milvus_server.start()
    back = MilvusStore(milvus_server.uri, "restart", DIM, fingerprint="fp-a", model_name="model-a")
    assert len(back) == 14 and "late4" in back and "d0" not in back
    assert back.search(unit(10)[[3]], 1)[0][0].id == "d3"
