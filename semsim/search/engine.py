"""A small semantic search engine built like a production service (taught in notebook 10).

The path of a query reads straight down: ``engine.search(text)`` -> the model (through
the embedding cache) -> ``store.search(vector, k, filter)`` -> hits.

* Embeddings go through an on-disk :class:`~semsim.models.cache.EmbeddingCache`: re-adding
  or re-loading documents never encodes a text twice (queries are encoded through it too,
  but never written to it).
* Documents live in a store: a :class:`~semsim.search.index.VectorIndex` (FAISS, in process:
  flat, HNSW, IVF or IVF-PQ) by default, or a :class:`~semsim.search.milvus.MilvusStore`
  (Milvus Lite file, server or cluster). Add, upsert and delete are incremental; metadata
  filters work on both.
* Every change encodes first and touches the store only once encoding has succeeded, so
  a failing model never loses documents.
* ``save`` is crash-safe and refuses to overwrite changes another process saved after
  this engine loaded the folder (:class:`~semsim.errors.StaleSave`).
* ``hybrid_search`` fuses the dense ranking with BM25 (reciprocal rank fusion, notebook 07).
  The BM25 index is built in this process from the store's texts, on the first hybrid search
  and again after any change made through this engine; it is the same for the FAISS store
  and Milvus (fusion on the client, see :meth:`SearchEngine.hybrid_search`).
* Queries are logged in a bounded window and :meth:`drift` compares recent best scores with
  a reference window. By default the log keeps no trace of what was asked: no text and no
  hash of it (a hash of a short query can be confirmed by hashing a guess). ``log_text=True``
  keeps the texts, for a service whose users agreed to it.
"""
from __future__ import annotations

import json
import math
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import IndexMismatch
from ..models.cache import EmbeddingCache
from ..files import parse_json
from ..text.lexical import BM25, check_language
from .hybrid import rrf_scores
from .index import VectorIndex
from .stores import load_store
from .vectors import Filter, Hit, Scalar, Store, check_k, check_query, filter_values, matches, refuse_other_model

FORMAT = 2


@dataclass(frozen=True)
class QueryRecord:
    """One logged query: when, its best score and how many hits passed; its text only if the engine keeps texts."""

    time: float
    top_score: float | None
    hits: int
    query: str | None = None


def _check_docs(docs: Mapping[str, str], metadata: Mapping[str, Mapping[str, Scalar]] | None) -> None:
    if not isinstance(docs, Mapping):
        raise TypeError("documents must be a mapping {id: text}")
    bad = [i for i, t in docs.items() if not isinstance(i, str) or not i or not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"ids must be non-empty strings and texts non-empty strings; bad ids: {bad[:5]}")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise TypeError("metadata must be a mapping {id: {field: value}}")
        stray = [i for i in metadata if i not in docs]
        if stray:
            raise ValueError(f"metadata for ids that are not among the documents: {stray[:5]}")


def check_score(value: Any) -> float:
    """A score threshold: a real number (NaN would silently return nothing, so it is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
        raise ValueError(f"min_score must be a number, not {value!r}")
    return float(value)


def _queries(query: str | Sequence[str]) -> tuple[list[str], bool]:
    single = isinstance(query, str)
    if not single and not isinstance(query, (list, tuple)):
        raise TypeError(f"a query must be a string or a list of strings, not {type(query).__name__}")
    queries = [query] if single else list(query)
    if not queries:
        raise ValueError("a query must be a non-empty string (got an empty list)")
    return [check_query(q) for q in queries], single


class Lexical:
    """BM25 over a store's texts, with each document's (text, metadata) to answer and filter with.

    Documents are indexed in id order, so equal BM25 scores rank by id whatever order the store
    lists them in."""

    def __init__(self, store: Store, language: str) -> None:
        self.language = language
        self.documents: dict[str, tuple[str, dict[str, Scalar]]] = {}
        missing = []
        for doc_id, text, meta in store.documents():
            if text is None:
                missing.append(doc_id)
            else:
                self.documents[doc_id] = (text, meta)
        if missing:
            raise ValueError(f"hybrid search needs every document's text, and {len(missing)} documents in the store "
                             f"have none (e.g. {sorted(missing)[:3]}): add them through SearchEngine, which "
                             "stores texts, or search them with search() alone.")
        ids = sorted(self.documents)   # stores list documents in their own order; ties in BM25 go by id
        try:
            self.bm25: BM25 | None = BM25([self.documents[i][0] for i in ids], ids, language) if ids else None
        except ValueError:   # no text has a word left after stop words: BM25 ranks nothing
            self.bm25 = None

    def ranked(self, queries: list[str], n: int, wanted: dict[str, list[Scalar]] | None) -> list[list[str]]:
        """The ids of each query's first ``n`` BM25 matches that pass the checked filter ``wanted``."""
        if self.bm25 is None:
            return [[] for _ in queries]
        depth = len(self.documents) if wanted is not None else n   # filter after ranking, so rank them all
        found = self.bm25.search(queries, depth)
        return [[i for i, _ in row if wanted is None or matches(self.documents[i][1], wanted)][:n] for row in found]


class SearchEngine:
    """Semantic search over documents {id: text}: a model, an embedding cache, a store and a query log."""

    def __init__(self, model: Any, cache_folder: str | Path | EmbeddingCache | None, min_score: float = 0.0, *,
                 store: Store | None = None, kind: str = "flat", log_size: int = 10_000, log_text: bool = False,
                 **index_params: Any) -> None:
        """``cache_folder``: the on-disk embedding cache (None: in memory, gone with the engine; or an
        EmbeddingCache of ``model`` to share). ``store``: where documents live (default: a new FAISS
        ``VectorIndex`` of ``kind``, with ``index_params`` such as ``m`` or ``nlist``). ``log_size``:
        how many queries the log keeps. ``log_text``: keep the query texts in the log (and in
        saves); off by default."""
        self.model = model
        self.cache = cache_folder if isinstance(cache_folder, EmbeddingCache) else EmbeddingCache(cache_folder, model)
        if self.cache.model is not model:
            raise ValueError("the EmbeddingCache given belongs to another model object")
        self.fingerprint = self.cache.fingerprint      # the model's identity, computed once
        self.model_name = self.cache.identity.name
        self.dim = self.cache.dim
        self.min_score = check_score(min_score)
        if store is None:
            store = VectorIndex(self.dim, kind, "cosine", model_name=self.model_name, fingerprint=self.fingerprint,
                                **index_params)
        elif store.fingerprint:
            refuse_other_model("the store", {"fingerprint": store.fingerprint, "model_name": store.model_name},
                               self.fingerprint, self.model_name)
        elif store.dim != self.dim:
            raise IndexMismatch(f"the store holds vectors of dimension {store.dim}, the model makes {self.dim}")
        self.store = store
        if isinstance(log_size, bool) or not isinstance(log_size, int) or log_size < 1:
            raise ValueError(f"log_size must be a positive integer, not {log_size!r}")
        self.log: deque[QueryRecord] = deque(maxlen=log_size)
        self.log_text = bool(log_text)
        self.reference: np.ndarray | None = None  # frozen best scores for drift (None: a rolling window)
        self.lexical: Lexical | None = None         # BM25 over the store's texts, built by hybrid_search

    def __len__(self) -> int:
        return len(self.store)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.store

    def get(self, doc_id: str) -> tuple[str | None, dict[str, Scalar]]:
        """(text, metadata) of a document; KeyError if there is none with this id."""
        return self.store.get(doc_id)

    # -- documents ------------------------------------------------------------------------
    def _encode(self, docs: Mapping[str, str], metadata: Mapping[str, Mapping[str, Scalar]] | None
                ) -> tuple[list[str], np.ndarray, list[Mapping[str, Scalar] | None], int]:
        ids = list(docs)
        misses = self.cache.misses
        vectors = self.cache.encode([docs[i] for i in ids])
        meta = [(metadata or {}).get(i) for i in ids]
        return ids, vectors, meta, self.cache.misses - misses

    def add(self, docs: Mapping[str, str], metadata: Mapping[str, Mapping[str, Scalar]] | None = None) -> int:
        """Add new documents (and their metadata); returns how many texts had to be encoded.

        An id that exists raises ValueError and nothing is added (use :meth:`upsert`).
        """
        _check_docs(docs, metadata)
        clash = sorted(self.store.existing(list(docs)))   # one call (one round trip on a server)
        if clash:
            raise ValueError(f"ids already in the engine: {clash[:5]} (use upsert() to replace them)")
        if not docs:
            return 0
        ids, vectors, meta, encoded = self._encode(docs, metadata)
        self.lexical = None
        self.store.add(vectors, ids, [docs[i] for i in ids], meta, fingerprint=self.fingerprint)
        return encoded

    def upsert(self, docs: Mapping[str, str], metadata: Mapping[str, Mapping[str, Scalar]] | None = None) -> int:
        """Add documents, replacing any with the same id. Encodes first: if encoding fails, nothing changes."""
        _check_docs(docs, metadata)
        if not docs:
            return 0
        ids, vectors, meta, encoded = self._encode(docs, metadata)
        self.lexical = None
        self.store.upsert(vectors, ids, [docs[i] for i in ids], meta, fingerprint=self.fingerprint)
        return encoded

    def delete(self, ids: Iterable[str]) -> int:
        """Remove documents by id (duplicates count once); unknown ids raise KeyError and nothing is removed."""
        self.lexical = None
        return self.store.delete(ids)

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str | Sequence[str], k: int = 5, min_score: float | None = None,
               filter: Filter | None = None) -> list[Hit] | list[list[Hit]]:
        """Top-k documents with cosine >= min_score (the engine's default if None), logged.

        ``query``: one string (returns a list of hits) or a list of strings (a list per query).
        ``filter``: metadata that hits must have, e.g. ``{"category": "billing"}``.
        """
        queries, single = _queries(query)
        k = check_k(k)
        threshold = self.min_score if min_score is None else check_score(min_score)
        vectors = self.cache.encode(queries, remember=False)   # cached if seen as a document; never written
        found = self.store.search(vectors, k, fingerprint=self.fingerprint, filter=filter)
        results = []
        for q, hits in zip(queries, found):
            kept = [h for h in hits if h.score >= threshold]
            self.log.append(QueryRecord(time.time(), hits[0].score if hits else None, len(kept),
                                        q if self.log_text else None))
            results.append(kept)
        return results[0] if single else results

    def hybrid_search(self, query: str | Sequence[str], k: int = 5, *, language: str = "en", candidates: int = 50,
                      filter: Filter | None = None, rrf_k: int = 60) -> list[Hit] | list[list[Hit]]:
        """Top-k documents by reciprocal rank fusion of the dense and the BM25 ranking, logged.

        Each ranking contributes its first ``candidates`` documents (those passing ``filter``);
        a document's score is the sum of 1 / (``rrf_k`` + rank) over the rankings that hold it,
        so scores are not cosines and ``min_score`` does not apply. ``language`` ("en" or "it")
        picks BM25's stop words and stemmer. The log records the best dense cosine, as
        :meth:`search` does, so :meth:`drift` means the same for both.

        The BM25 index lives in this process, built from ``store.documents()`` on first use
        and after every change made through this engine (memory grows with the texts). Writes
        that another process makes to a shared Milvus collection reach it after
        :meth:`rebuild_lexical`. Fusion runs on the client for Milvus too, so both stores rank
        with the same BM25 (the course's stop words and stemmers).
        """
        queries, single = _queries(query)
        k, candidates = check_k(k), check_k(candidates, "candidates")
        check_language(language)   # before reading the store, which an empty store would never check
        wanted = filter_values(filter) if filter is not None else None
        lexical = self._lexical(language)
        vectors = self.cache.encode(queries, remember=False)
        dense = self.store.search(vectors, candidates, fingerprint=self.fingerprint, filter=filter)
        words = lexical.ranked(queries, candidates, wanted)
        results = []
        for q, dense_hits, word_ids in zip(queries, dense, words):
            known = {h.id: h for h in dense_hits}
            fused = rrf_scores([list(known), word_ids], rrf_k)   # best first
            best = list(fused)[:k]
            hits = [Hit(i, fused[i], known[i].text, known[i].metadata) if i in known
                    else Hit(i, fused[i], *lexical.documents[i]) for i in best]
            self.log.append(QueryRecord(time.time(), dense_hits[0].score if dense_hits else None, len(hits),
                                        q if self.log_text else None))
            results.append(hits)
        return results[0] if single else results

    def rebuild_lexical(self) -> None:
        """Forget the BM25 index: the next hybrid search rebuilds it from the store."""
        self.lexical = None

    def _lexical(self, language: str) -> "Lexical":
        if self.lexical is None or self.lexical.language != language:
            self.lexical = Lexical(self.store, language)
        return self.lexical

    # -- monitoring -----------------------------------------------------------------------
    def _top_scores(self) -> np.ndarray:
        return np.array([r.top_score for r in self.log if r.top_score is not None], dtype=float)

    def set_drift_reference(self, last: int | None = None) -> int:
        """Freeze the best scores of the ``last`` logged queries (all, if None) as drift's reference.

        Call it after a period you trust (a launch week); returns how many scores it keeps.
        Without a frozen reference, :meth:`drift` compares with the window just before.
        """
        scores = self._top_scores()
        if last is not None:
            scores = scores[-check_k(last):]
        if len(scores) == 0:
            raise ValueError("no logged query with a score yet: search first")
        self.reference = scores
        return len(scores)

    def drift(self, recent: int = 100, reference: int | None = None) -> dict[str, float]:
        """Compare the best scores of the last ``recent`` queries with a reference window.

        The reference is the frozen one (:meth:`set_drift_reference`) if set, else the
        ``reference`` (default: ``recent``) queries just before the recent ones (rolling).
        Returns the two means, their difference and a two-sample Kolmogorov-Smirnov test;
        a small p-value says recent queries score differently (new topics, a broken model...).
        """
        recent = check_k(recent)
        scores = self._top_scores()
        if self.reference is not None:
            ref, new = self.reference, scores[-recent:]
            if len(new) < recent:
                raise ValueError(f"need at least {recent} logged queries with a score, have {len(new)}")
        else:
            n_ref = recent if reference is None else check_k(reference)
            if len(scores) < recent + n_ref:
                raise ValueError(f"need at least {recent + n_ref} logged queries with a score, have {len(scores)}")
            ref, new = scores[-(recent + n_ref):-recent], scores[-recent:]
        from scipy.stats import ks_2samp   # taught in notebook 10

        test = ks_2samp(ref, new)
        return {"reference_mean": float(ref.mean()), "recent_mean": float(new.mean()),
                "shift": float(new.mean() - ref.mean()), "ks_statistic": float(test.statistic),
                "p_value": float(test.pvalue), "reference_size": float(len(ref)), "recent_size": float(len(new))}

    # -- persistence ----------------------------------------------------------------------
    def _state(self) -> bytes:
        return json.dumps({
            "format": FORMAT, "model_name": self.model_name, "fingerprint": self.fingerprint,
            "min_score": self.min_score, "log_size": self.log.maxlen, "log_text": self.log_text,
            "log": [asdict(r) | ({} if self.log_text else {"query": None}) for r in self.log],
            "reference": None if self.reference is None else self.reference.tolist()}).encode()

    def save(self, folder: str | Path, overwrite: bool = False) -> str:
        """Save the store and the engine's state crash-safely into ``folder``; returns the version.

        The folder must be new, empty, or a save of this engine: a save never deletes files it
        did not write. Refuses with StaleSave if another process saved there after this engine
        loaded it (``overwrite=True`` replaces their save knowingly).
        """
        return self.store.save(folder, extra={"engine.json": self._state()}, overwrite=overwrite)

    @classmethod
    def load(cls, folder: str | Path, model: Any, cache_folder: str | Path, token: str = "") -> "SearchEngine":
        """Load a saved engine; refuses if its files disagree or ``model`` is not the one that built it.

        ``token``: the Milvus token when the engine's store is a Milvus server (never saved).
        """
        cache = EmbeddingCache(cache_folder, model)          # the model's fingerprint, computed once
        store = load_store(folder, expect_fingerprint=cache.fingerprint, token=token)   # the one refusal
        raw = store.extra.get("engine.json")
        if raw is None:
            raise IndexMismatch(f"{folder} holds a store but no engine state (engine.json): "
                                "load it with VectorIndex.load or load_store instead.")
        try:
            state = parse_json(raw, f"{folder}: engine.json")
            if not isinstance(state, dict):
                raise TypeError("engine.json does not hold an object")
            if state.get("format") != FORMAT:
                raise IndexMismatch(f"{folder}: engine state of format {state.get('format')!r}, this semsim reads "
                                    f"format {FORMAT}. Re-create the engine with this version of semsim.")
            if state["fingerprint"] != store.fingerprint:
                raise IndexMismatch(f"{folder}: engine.json was written for model {state['fingerprint']}, the store "
                                    f"holds vectors of {store.fingerprint}: the save does not belong together.")
            self = cls(model, cache, state["min_score"], store=store, log_size=state["log_size"],
                       log_text=state["log_text"])
            fields = set(QueryRecord.__dataclass_fields__)   # older saves also kept a hash of each query: dropped
            self.log.extend(QueryRecord(**{k: v for k, v in r.items() if k in fields}) for r in state["log"])
            self.reference = None if state["reference"] is None else np.asarray(state["reference"], dtype=float)
        except IndexMismatch:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise IndexMismatch(f"{folder}: engine.json is not valid ({type(e).__name__}: {str(e)[:200]}).") from e
        return self
