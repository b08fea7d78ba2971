"""One contract, three stores: FAISS in process, Milvus Lite (a local file) and a real Milvus server.

The server is the C++ Milvus standalone from the PyPI package ``milvus``, started by a
fixture on 127.0.0.1 on a free port in a temporary folder, and stopped afterwards. Where it
cannot start, its tests are skipped with the reason; everything else still runs.
"""
import numpy as np
import pytest

from semsim.search.engine import SearchEngine
from semsim.errors import IndexMismatch
from semsim.search.index import VectorIndex
from semsim.search.milvus import MilvusStore, milvus_filter
from semsim.errors import StoreUnavailable
from semsim.search.stores import load_store

from conftest import FakeEncoder

DIM = 16


def unit(n, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


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
    assert milvus_filter({"name": 'a"b\\c\nd'}) == r'meta["name"] == "a\"b\\c\nd"'
    assert milvus_filter({"city": "café"}) == 'meta["city"] == "café"'       # as is, not \u00e9
    with pytest.raises(TypeError):
        milvus_filter({"lang": []})
    with pytest.raises(ValueError, match="plain identifier"):
        milvus_filter({'tenant"] != "zzz" or meta["tenant': "alice"})


# -- issue 22: ids and filters that cannot widen a result, on every store -------------------------
AWKWARD_IDS = ["O'Brien", 'say "hi"', "a\\b", "trailing\\", "x]", "[y", "new\nline", "cr\rhere", "tab\there",
               "café", "日本語", "emoji 🙂", "zero\u200bwidth", "nul\x00byte", "  spaced  ", "id in ['a']"]
INJECTIONS = ["nothing', 'd3", 'nothing", "d3', "zz'] or id not in ['zz", 'zz"] or id not in ["zz', "d3' or '1'=='1"]


def test_awkward_ids_round_trip_on_every_store(make_store):
    s = filled(make_store)
    s.add(unit(len(AWKWARD_IDS), seed=3), AWKWARD_IDS, [f"awk {i}" for i in range(len(AWKWARD_IDS))])
    assert len(s) == 30 + len(AWKWARD_IDS)
    for n, i in enumerate(AWKWARD_IDS):
        assert i in s and s.get(i) == (f"awk {n}", {}), repr(i)
    found = s.search(unit(len(AWKWARD_IDS), seed=3), k=1)
    assert [row[0].id for row in found] == AWKWARD_IDS
    assert s.delete(AWKWARD_IDS[:8]) == 8 and len(s) == 30 + len(AWKWARD_IDS) - 8
    assert not any(i in s for i in AWKWARD_IDS[:8]) and all(i in s for i in AWKWARD_IDS[8:])
    s.upsert(unit(2, seed=4), AWKWARD_IDS[8:10], ["again 8", "again 9"])
    assert s.get(AWKWARD_IDS[9])[0] == "again 9" and len(s) == 30 + len(AWKWARD_IDS) - 8


def test_ids_crafted_as_expressions_select_nothing_else(make_store):
    s = filled(make_store)
    for bad in INJECTIONS:
        assert bad not in s
        with pytest.raises(KeyError):
            s.get(bad)
        with pytest.raises(KeyError, match="nothing was deleted"):
            s.delete([bad])
    assert len(s) == 30
    s.upsert(unit(len(INJECTIONS), seed=9), INJECTIONS, INJECTIONS)        # stored as ordinary ids
    assert len(s) == 30 + len(INJECTIONS) and all(s.get(i)[0] == i for i in INJECTIONS)
    assert s.delete(INJECTIONS) == len(INJECTIONS) and len(s) == 30      # exactly those, not every row
    assert all(f"d{i}" in s for i in range(30))


@pytest.mark.parametrize("bad", ["", 7, None, "a" * 513, "é" * 257, "lone \ud800 surrogate"])
def test_invalid_ids_are_refused_the_same_way(make_store, bad):
    s = filled(make_store)
    with pytest.raises((ValueError, TypeError)):
        s.add(unit(1, seed=2), [bad], ["t"])
    with pytest.raises((ValueError, TypeError)):
        s.upsert(unit(1, seed=2), [bad], ["t"])
    assert len(s) == 30


@pytest.mark.parametrize("key", ['tenant"] != "zzz" or meta["tenant', "a b", "é", "1x", "x-y", "id", "", "k" * 65])
def test_filter_keys_that_are_not_identifiers_are_refused(make_store, key):
    s = filled(make_store)
    with pytest.raises((ValueError, TypeError)):
        s.search(unit(1), 5, filter={key: "alice"})
    with pytest.raises((ValueError, TypeError)):
        s.add(unit(1, seed=2), ["m"], ["t"], [{key: "x"}])
    assert len(s) == 30


def test_filter_values_never_widen_and_non_ascii_values_match(make_store):
    s = make_store()
    values = ["alice", "café", "日本", "🙂", "zero\u200bwidth", "nul\x00x", 'q"uote', "back\\slash",
              "alice\" or meta[\"tenant\"] != \"", "new\nline"]
    s.add(unit(len(values)), [f"v{i}" for i in range(len(values))], values, [{"tenant": v} for v in values])
    for i, v in enumerate(values):
        hits = s.search(unit(1), k=20, filter={"tenant": v})[0]
        assert [h.id for h in hits] == [f"v{i}"], repr(v)
    assert s.search(unit(1), k=20, filter={"tenant": 'zzz" or meta["tenant"] != "zzz'})[0] == []


def test_true_one_and_one_point_zero(make_store):
    s = make_store()
    flags = [True, 1, 1.0, "1", False, 0]
    s.add(unit(len(flags)), [f"f{i}" for i in range(len(flags))], None, [{"flag": f} for f in flags])
    ids = lambda value: sorted(h.id for h in s.search(unit(1), k=10, filter={"flag": value})[0])
    assert ids(True) == ["f0"] and ids(False) == ["f4"]
    assert ids(1) == ids(1.0) == ["f1", "f2"]          # equal numbers, as in JSON; never the boolean
    assert ids("1") == ["f3"] and ids(0) == ["f5"]
    assert [s.get(f"f{i}")[1]["flag"] for i in range(len(flags))] == flags
    assert [type(s.get(f"f{i}")[1]["flag"]) for i in range(len(flags))] == [type(f) for f in flags]


def test_an_unreachable_server_gives_one_clear_error():
    from semsim.search.milvus_server import free_port

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


def test_milvus_consistency_levels_are_checked_and_default_per_use(tmp_path):
    """Searches read with Session consistency (no wait for the server's time tick on a quiet read, yet
    a process sees its own writes), id lookups with Strong (benchmarks/results/milvus_consistency.md)."""
    with pytest.raises(ValueError, match="consistency must be one of"):
        MilvusStore(tmp_path / "x.db", "docs", 4, search_consistency="strong")
    store = MilvusStore(tmp_path / "levels.db", "docs", 4, fingerprint="f")
    assert (store.search_consistency, store.lookup_consistency) == ("Session", "Strong")
    store.add(np.eye(4, dtype=np.float32)[:2], ["a", "b"], fingerprint="f")
    assert [h.id for h in store.search(np.eye(4, dtype=np.float32)[:1], k=1, fingerprint="f")[0]] == ["a"]
    store.close()
