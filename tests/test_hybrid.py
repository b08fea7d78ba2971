"""Hybrid search through SearchEngine: BM25 + dense, fused by reciprocal rank fusion, on every store.

The reference is a plain model: a dict of the documents, brute-force cosines over the fake
encoder's vectors, a fresh BM25 over the texts, and ``reciprocal_rank_fusion`` of the two.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semsim.search.engine import SearchEngine
from semsim.search.hybrid import reciprocal_rank_fusion
from semsim.search.index import VectorIndex
from semsim.search.milvus import MilvusStore
from semsim.text.lexical import BM25

from conftest import FakeEncoder

WORDS = ("river bank money loan cat dog piano violin bread butter train station rain snow "
         "doctor nurse garden flower mountain lake").split()


def corpus(n: int = 40, seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    return {f"d{i}": " ".join(rng.choice(WORDS, size=6)) for i in range(n)}


def reference(docs: dict[str, str], query: str, k: int, candidates: int, model: FakeEncoder,
              allowed: set[str] | None = None) -> list[str]:
    """What hybrid search must return, computed without the engine."""
    ids = [i for i in docs if allowed is None or i in allowed]
    vecs = model.encode([docs[i] for i in ids])
    cos = vecs @ model.encode([query])[0]
    dense = [ids[j] for j in np.argsort(-cos, kind="stable")[:candidates]]
    everything = sorted(docs)   # the engine's BM25 breaks ties by id
    found = BM25([docs[i] for i in everything], everything, "en").search([query], len(everything))[0]
    words = [i for i, _ in found if allowed is None or i in allowed][:candidates]
    return reciprocal_rank_fusion([dense, words], limit=k)


@pytest.fixture(params=["faiss", "milvus-lite", "milvus-server"])
def make_engine(request, tmp_path):
    def make(model):
        if request.param == "faiss":
            return SearchEngine(model, None)
        uri = (str(tmp_path / "lite.db") if request.param == "milvus-lite"
               else request.getfixturevalue("milvus_server").uri)
        store = MilvusStore(uri, f"h{abs(hash(str(tmp_path))) % 10**8}", model.dim,
                            model_name=model.name, fingerprint=model.semsim_fingerprint())
        return SearchEngine(model, None, store=store)
    return make


def test_hybrid_equals_the_plain_fusion_on_every_store(make_engine):
    model = FakeEncoder()
    docs = corpus()
    engine = make_engine(model)
    engine.add(docs, {i: {"half": int(i[1:]) % 2} for i in docs})
    for query in ["money bank", "piano lessons by the lake", "snow"]:
        got = [h.id for h in engine.hybrid_search(query, k=8, candidates=15)]
        assert got == reference(docs, query, 8, 15, model)
    odd = {i for i in docs if int(i[1:]) % 2}
    got = engine.hybrid_search("bread butter", k=8, candidates=15, filter={"half": 1})
    assert [h.id for h in got] == reference(docs, "bread butter", 8, 15, model, allowed=odd)
    assert all(h.metadata == {"half": 1} and h.text == docs[h.id] for h in got)


def test_a_rare_word_is_found_even_when_the_dense_ranking_misses_it():
    model = FakeEncoder()
    docs = corpus(200) | {"z": "a zeppelin over the station"}
    engine = SearchEngine(model, None)
    engine.add(docs)
    dense = [h.id for h in engine.search("zeppelin", k=200, min_score=-1.0)]
    hybrid = [h.id for h in engine.hybrid_search("zeppelin", k=3)]
    assert "z" in hybrid and dense.index("z") > 3   # the fake model ranks it low; BM25 brings it up


def test_changes_reach_the_lexical_index():
    model = FakeEncoder()
    engine = SearchEngine(model, None)
    engine.add({"a": "the cat sleeps", "b": "a dog barks", "c": "rain in the garden"})
    assert engine.hybrid_search("cat", k=1)[0].id == "a"
    engine.upsert({"a": "the violin plays"})
    assert engine.hybrid_search("violin", k=1)[0].id == "a"
    engine.delete(["a"])
    assert "a" not in {h.id for h in engine.hybrid_search("violin", k=3)}
    engine.add({"d": "violin and piano"})
    assert engine.hybrid_search("violin", k=1)[0].id == "d"


def test_italian_stemming_and_the_log():
    engine = SearchEngine(FakeEncoder(), None)
    engine.add({"x": "I gatti dormono sul divano", "y": "Il treno parte dalla stazione"})
    assert engine.hybrid_search("un gatto", k=1, language="it")[0].id == "x"
    assert len(engine.log) == 1 and engine.log[0].query is None and -1 <= engine.log[0].top_score <= 1


def test_empty_engine_and_stop_word_queries():
    engine = SearchEngine(FakeEncoder(), None)
    assert engine.hybrid_search("anything") == []
    engine.add({"a": "the cat"})
    assert [h.id for h in engine.hybrid_search("the of and")] == ["a"]   # BM25 has nothing; dense still answers


@pytest.mark.parametrize("kwargs, err", [
    ({"query": ""}, ValueError), ({"query": "  "}, ValueError), ({"query": []}, ValueError),
    ({"query": 3}, TypeError), ({"query": "x", "language": "fr"}, ValueError),
    ({"query": "x", "k": 0}, ValueError), ({"query": "x", "candidates": 0}, ValueError),
    ({"query": "x", "filter": {}}, TypeError), ({"query": "x", "filter": {"text": "a"}}, ValueError)])
def test_bad_input_is_refused_clearly(kwargs, err):
    engine = SearchEngine(FakeEncoder(), None)
    engine.add({"a": "the cat"})
    with pytest.raises(err):
        engine.hybrid_search(**kwargs)


def test_a_store_without_texts_is_refused_and_plain_search_still_works():
    model = FakeEncoder()
    store = VectorIndex(model.dim, model_name=model.name, fingerprint=model.semsim_fingerprint())
    store.add(model.encode(["one", "two"]), ["a", "b"])   # vectors only, no texts
    engine = SearchEngine(model, None, store=store)
    with pytest.raises(ValueError, match="needs every document's text"):
        engine.hybrid_search("one")
    assert engine.search("one", k=1, min_score=-1.0)[0].id == "a"


def test_hybrid_search_after_save_and_load(tmp_path):
    model = FakeEncoder()
    docs = corpus()
    engine = SearchEngine(model, tmp_path / "cache")
    engine.add(docs)
    before = [h.id for h in engine.hybrid_search("river money", k=10)]
    engine.save(tmp_path / "saved")
    again = SearchEngine.load(tmp_path / "saved", model, tmp_path / "cache")
    assert [h.id for h in again.hybrid_search("river money", k=10)] == before


ids = st.sampled_from([f"d{i}" for i in range(12)])
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join)
ops = st.lists(st.one_of(st.tuples(st.just("upsert"), st.dictionaries(ids, texts, min_size=1, max_size=4)),
                         st.tuples(st.just("delete"), st.lists(ids, min_size=1, max_size=3))), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops, query=texts)
def test_hybrid_search_matches_a_plain_model_after_any_changes(ops, query):
    model = FakeEncoder()
    engine, plain = SearchEngine(model, None), {}
    for op, arg in ops:
        if op == "upsert":
            arg = {i: f"{t} {i}" for i, t in arg.items()}   # distinct texts: FAISS orders equal cosines freely
            engine.upsert(arg)
            plain.update(arg)
        else:
            gone = [i for i in dict.fromkeys(arg) if i in plain]
            if gone:
                engine.delete(gone)
                for i in gone:
                    del plain[i]
        if plain:   # interleave searches so a stale BM25 index would show
            got = [h.id for h in engine.hybrid_search(query, k=5, candidates=6)]
            assert got == reference(plain, query, 5, 6, model)
