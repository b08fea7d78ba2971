"""Property-based tests of SearchEngine (Hypothesis stateful testing) against a plain model.

The model is a dict {id: (text, metadata)}. Hypothesis runs random sequences of

* ``add`` (new ids; an id already there raises ValueError and nothing changes),
* ``upsert``,
* ``delete`` (an unknown id raises KeyError and nothing is deleted; duplicates count once),
* ``save`` (always to the same folder) and ``load`` (the engine is replaced by
  ``SearchEngine.load`` of that folder),
* ``search`` (no hit is a document the model does not hold, a hit's text and metadata are
  the model's, every hit matches the filter, at most k hits, best first; on an exact store
  -- FAISS "flat", Milvus "FLAT" -- also: a document's own text finds that document, or
  one with the same text, at the top, and a filter that leaves at most k documents returns
  all of them),

and checks after every step that the engine holds exactly the model's documents
(``len``, ``in``, ``get``; deleted ids are gone) and, right after a save, that the saved
folder loads into a second engine holding exactly the same documents.

Metadata values are compared with their types: True, 1 and "1" are three values (semsim
keeps what it was given). Ids include quotes, backslashes, brackets, spaces, a newline,
non-ASCII and emoji; texts come from a few words, so documents share texts.

It runs on the FAISS store for every index kind (approximate kinds are checked loosely
in search, exactly through get/len/in) and on Milvus Lite with shorter runs. The runs are
derandomized (the same sequences every time) and take about 40 s of CPU in all. To explore
more, raise max_examples below.
"""
from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

from semsim.search.engine import SearchEngine

from conftest import FakeEncoder

DIM = 16
# IVF kinds train on their first add: nlist=4 lists, and IVF-PQ 2**pq_bits = 16 codes per sub-vector.
INDEX_PARAMS = {"flat": {}, "hnsw": {}, "ivf": {"nlist": 4}, "ivfpq": {"nlist": 4, "pq_m": 4, "pq_bits": 4}}
TRAIN_SIZE = {"ivf": 4, "ivfpq": 16}
# Saves fsync every file: on a RAM disk they cost a tenth, which keeps runs (and shrinking) short.
FAST_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None

BASE = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FAISS_SETTINGS = settings(BASE, max_examples=40, stateful_step_count=30)
# Shorter runs on Milvus Lite (a collection per example, a flush per save); with 10 examples no
# search ever filtered on a non-ASCII value.
MILVUS_SETTINGS = settings(BASE, max_examples=30, stateful_step_count=15)

# -- what Hypothesis draws ------------------------------------------------------------------
# A fixed pool of ids (so that adds clash and deletes hit), most of them awkward for a database.
IDS = ["a", "b", "c", "d", "e", "O'Brien", 'say "hi"', "back\\slash", "a\\'b", "[0]", "x'] or id not in ['x",
       "two words", " ", "line\nbreak", "tab\there", "café", "日本", "🙂", "Ωμέγα", "%_*"]
NEVER_ADDED = "nobody's \"id\""  # never drawn by ids: deleting it must raise KeyError
ids = st.sampled_from(IDS)
texts = st.lists(st.sampled_from(["cat", "dog", "tea", "sun", "café", "日本"]), min_size=1, max_size=2).map(" ".join)
KEYS = ["lang", "n"]
values = st.one_of(st.sampled_from(["en", "it", "café"]), st.integers(0, 2), st.booleans())
metadata = st.dictionaries(st.sampled_from(KEYS), values, max_size=2)
docs = st.dictionaries(ids, st.tuples(texts, metadata), min_size=1, max_size=4)
filters = st.dictionaries(st.sampled_from(KEYS), st.one_of(values, st.lists(values, min_size=1, max_size=2)),
                          min_size=1, max_size=2)


def typed(meta):
    """Metadata with each value's type, so that True, 1 and 1.0 are told apart."""
    return {key: (type(value), value) for key, value in meta.items()}


def matches(meta, flt):
    """Whether metadata passes a filter ({field: value or list of values}, all fields must match)."""
    for key, want in flt.items():
        wanted = [(type(v), v) for v in (want if isinstance(want, list) else [want])]
        if key not in meta or (type(meta[key]), meta[key]) not in wanted:
            return False
    return True


def split(batch):
    """{id: (text, metadata)} as the engine's two arguments."""
    return {i: t for i, (t, _) in batch.items()}, {i: m for i, (_, m) in batch.items()}


def assert_holds(engine, model, gone):
    """The engine holds exactly the model's documents; ids in ``gone`` are absent."""
    assert len(engine) == len(model)
    for doc_id, (text, meta) in model.items():
        assert doc_id in engine, doc_id
        got_text, got_meta = engine.get(doc_id)
        assert (got_text, typed(got_meta)) == (text, typed(meta)), doc_id
    for doc_id in gone - model.keys():
        assert doc_id not in engine, doc_id
        with pytest.raises(KeyError):
            engine.get(doc_id)


# -- the machine ------------------------------------------------------------------------------
class EngineMachine(RuleBasedStateMachine):
    """One engine and the dict it must agree with. ``make_store``: None (FAISS of ``kind``) or a
    function returning a new empty store; ``exact``: whether search is exact; ``live``: the saved
    folder points at the store itself (Milvus), so loading it gives the current documents."""

    def __init__(self, kind="flat", make_store=None, exact=None, live=False):
        super().__init__()
        self.encoder = FakeEncoder(dim=DIM)
        self.kind, self.live = kind, live
        self.exact = (kind == "flat") if exact is None else exact
        self.train_size = TRAIN_SIZE.get(kind, 0) if make_store is None else 0
        self.tmp = Path(tempfile.mkdtemp(prefix="semsim-prop-", dir=FAST_TMP))
        self.folder = self.tmp / "saved"
        self.store = None if make_store is None else make_store()
        self.engine = SearchEngine(self.encoder, None, store=self.store, kind=kind, **INDEX_PARAMS.get(kind, {}))
        self.model: dict[str, tuple[str, dict]] = {}
        self.gone: set[str] = set()      # ids once used: checked absent unless the model holds them
        self.saved: dict | None = None   # the model at the last save
        self.just_saved = False

    def teardown(self):
        if self.store is not None:
            self.store.drop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize(data=st.data())
    def first_documents(self, data):
        """Start with a few documents (IVF kinds train on their first add: enough for that)."""
        batch = data.draw(st.dictionaries(ids, st.tuples(texts, metadata), min_size=self.train_size,
                                          max_size=self.train_size + 8), label="first")
        if batch:
            self.engine.add(*split(batch))
            self.model.update(batch)

    # -- changes --------------------------------------------------------------------------
    @rule(batch=docs)
    def add(self, batch):
        self.gone |= batch.keys()
        if batch.keys() & self.model.keys():
            with pytest.raises(ValueError):
                self.engine.add(*split(batch))
        else:
            self.engine.add(*split(batch))
            self.model.update(batch)

    @rule(batch=docs)
    def upsert(self, batch):
        self.gone |= batch.keys()
        self.engine.upsert(*split(batch))
        self.model.update(batch)

    @rule(data=st.data())
    def delete(self, data):
        known = st.lists(st.sampled_from(sorted(self.model)), max_size=4) if self.model else st.just([])
        chosen = data.draw(known, label="known ids")
        unknown = [NEVER_ADDED] if data.draw(st.booleans(), label="with an unknown id") else []
        mixed = data.draw(st.permutations(chosen + unknown), label="ids")
        self.gone |= set(mixed)
        if unknown:
            with pytest.raises(KeyError):
                self.engine.delete(mixed)
        else:
            assert self.engine.delete(mixed) == len(set(mixed))
            for doc_id in mixed:
                self.model.pop(doc_id, None)

    @rule()
    def save(self):
        self.engine.save(self.folder)
        self.saved = dict(self.model)
        self.just_saved = True

    @precondition(lambda self: self.saved is not None)
    @rule()
    def load(self):
        self.engine = SearchEngine.load(self.folder, self.encoder, None)
        if not self.live:  # a FAISS folder holds the documents of its save
            self.model = dict(self.saved)

    # -- search ---------------------------------------------------------------------------
    @rule(data=st.data(), k=st.integers(1, 6), flt=st.none() | filters)
    def search(self, data, k, flt):
        own = data.draw(st.sampled_from(sorted(self.model)) | st.none() if self.model else st.none(), label="own")
        query = self.model[own][0] if own is not None else data.draw(texts, label="query")
        hits = self.engine.search(query, k=k, min_score=-1.0, filter=flt)
        assert len(hits) <= k
        assert len({h.id for h in hits}) == len(hits), "a document appears twice"
        assert all(a.score >= b.score - 1e-6 for a, b in zip(hits, hits[1:])), "hits are not best first"
        for h in hits:
            assert h.id in self.model, f"hit {h.id!r} is not a document of the model (deleted or never added)"
            assert (h.text, typed(h.metadata or {})) == (self.model[h.id][0], typed(self.model[h.id][1])), h.id
            assert flt is None or matches(self.model[h.id][1], flt), f"hit {h.id!r} does not match {flt}"
        if not self.exact:
            return
        allowed = {i for i, (_, m) in self.model.items() if flt is None or matches(m, flt)}
        assert len(hits) == min(k, len(allowed)), "an exact store returned too few hits"
        twins = {i for i in allowed if self.model[i][0] == query}
        if twins:
            assert hits[0].id in twins and hits[0].score == pytest.approx(1.0, abs=1e-4), \
                f"{query!r} does not find its own document first"

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def engine_holds_the_model(self):
        assert_holds(self.engine, self.model, self.gone)

    @precondition(lambda self: self.just_saved)
    @invariant()
    def the_save_loads_to_the_model(self):
        self.just_saved = False
        assert_holds(SearchEngine.load(self.folder, self.encoder, None), self.model, self.gone)


# -- the tests --------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def one_faiss_thread():
    """On indexes this small FAISS's OpenMP threads mostly wait for each other: one is faster."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "ivfpq"])
def test_faiss_engine_agrees_with_a_dict(kind):
    run_state_machine_as_test(lambda: EngineMachine(kind), settings=FAISS_SETTINGS)


def test_milvus_lite_engine_agrees_with_a_dict():
    from semsim.search.milvus import MilvusStore

    folder = Path(tempfile.mkdtemp(prefix="semsim-prop-milvus-", dir=FAST_TMP))
    uri, names = str(folder / "lite.db"), itertools.count()
    encoder = FakeEncoder(dim=DIM)

    def make_store():
        return MilvusStore(uri, f"prop{next(names)}", DIM, model_name="FakeEncoder",
                           fingerprint=encoder.semsim_fingerprint())

    try:
        run_state_machine_as_test(lambda: EngineMachine("milvus", make_store, exact=True, live=True),
                                  settings=MILVUS_SETTINGS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
