"""A small semantic search engine built like a production service.

* Embeddings go through an on-disk :class:`~semsim.cache.EmbeddingCache`: re-adding or
  re-loading documents never encodes a text twice.
* Documents are added and deleted incrementally (a FAISS ``IndexIDMap2`` over an exact
  inner-product index): no rebuild of the whole index per change.
* ``min_score`` drops hits that are too weak to show.
* ``save`` is atomic (:mod:`semsim.storage`): vectors as ``.npy`` bytes and JSON metadata,
  never pickle; a save killed or failing halfway leaves the previous state loadable.
* ``load`` checks that vectors, ids, texts and the model agree, and refuses otherwise.
* Every query is logged (time, top score, hits) and :meth:`drift` compares the score
  distribution of recent queries with a reference window.
"""
from __future__ import annotations

import io
import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import faiss
import numpy as np
from scipy.stats import ks_2samp

from .cache import EmbeddingCache
from .errors import IndexMismatch
from .search import Hit, refuse_other_model
from .storage import atomic_save, load_saved


@dataclass(frozen=True)
class QueryRecord:
    time: float
    query: str
    top_score: float | None
    hits: int


def _check_docs(docs: Mapping[str, str]) -> None:
    if not isinstance(docs, Mapping):
        raise TypeError("documents must be a mapping {id: text}")
    bad = [i for i, t in docs.items() if not isinstance(i, str) or not i or not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"ids must be non-empty strings and texts non-empty strings; bad ids: {bad[:5]}")


class SearchEngine:
    """Semantic search over documents {id: text} with a model, a cache and a folder."""

    def __init__(self, model: Any, cache_folder: str | Path, min_score: float = 0.0) -> None:
        self.model = model
        self.cache = EmbeddingCache(cache_folder, model)
        self.fingerprint = self.cache.fingerprint  # hashing the weights once is enough
        source = getattr(model, "semsim_source", None)
        self.model_name = source.name if source else type(model).__name__
        self.dim = self.cache.dim
        self.min_score = float(min_score)
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self.texts: dict[str, str] = {}
        self._num: dict[str, int] = {}  # document id -> FAISS int64 id
        self._ids: dict[int, str] = {}
        self._next = 0
        self.log: list[QueryRecord] = []

    def __len__(self) -> int:
        return len(self.texts)

    # -- documents ------------------------------------------------------------------------
    def _insert(self, docs: Mapping[str, str], vectors: np.ndarray) -> None:
        nums = np.arange(self._next, self._next + len(docs), dtype=np.int64)
        self.index.add_with_ids(vectors, nums)
        for n, (doc_id, text) in zip(nums.tolist(), docs.items()):
            self.texts[doc_id], self._num[doc_id], self._ids[n] = text, n, doc_id
        self._next += len(docs)

    def add(self, docs: Mapping[str, str]) -> int:
        """Add new documents; returns how many texts had to be encoded (the rest came from the cache).

        Adding an id that exists raises ValueError (use :meth:`upsert` to replace).
        """
        _check_docs(docs)
        clash = [i for i in docs if i in self.texts]
        if clash:
            raise ValueError(f"ids already in the engine: {clash[:5]} (use upsert() to replace them)")
        if not docs:
            return 0
        misses = self.cache.misses
        vectors = self.cache.encode(list(docs.values()))
        self._insert(docs, vectors)
        return self.cache.misses - misses

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids raise KeyError and nothing is removed."""
        ids = list(ids)
        unknown = [i for i in ids if i not in self.texts]
        if unknown:
            raise KeyError(f"unknown ids: {unknown[:5]}")
        nums = np.array([self._num[i] for i in ids], dtype=np.int64)
        self.index.remove_ids(nums)
        for i in ids:
            del self._ids[self._num.pop(i)], self.texts[i]

    def upsert(self, docs: Mapping[str, str]) -> int:
        """Add documents, replacing any with the same id."""
        _check_docs(docs)
        existing = [i for i in docs if i in self.texts]
        if existing:
            self.delete(existing)
        return self.add(docs)

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, min_score: float | None = None) -> list[Hit]:
        """Top-k documents with cosine >= min_score (the engine's default if None); logged."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("a query must be a non-empty string")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, not {k!r}")
        threshold = self.min_score if min_score is None else float(min_score)
        hits: list[Hit] = []
        if len(self):
            q = self.cache.encode([query]) if query in self.cache else np.asarray(
                self.model.encode([query], normalize_embeddings=True), dtype=np.float32)
            scores, nums = self.index.search(q, min(k, len(self)))
            hits = [Hit(self._ids[n], float(s), self.texts[self._ids[n]])
                    for s, n in zip(scores[0], nums[0]) if n >= 0 and s >= threshold]
        top = float(scores[0][0]) if len(self) else None
        self.log.append(QueryRecord(time.time(), query, top, len(hits)))
        return hits

    # -- monitoring -----------------------------------------------------------------------
    def drift(self, reference: int = 100, recent: int = 100) -> dict[str, float]:
        """Compare top-score distributions: the first ``reference`` logged queries vs the last ``recent``.

        Returns the two means, their difference and a two-sample Kolmogorov-Smirnov test;
        a small p-value says recent queries score differently (new topics, a broken model...).
        """
        scores = [r.top_score for r in self.log if r.top_score is not None]
        if len(scores) < reference + recent:
            raise ValueError(f"need at least {reference + recent} logged queries, have {len(scores)}")
        ref, new = np.array(scores[:reference]), np.array(scores[-recent:])
        test = ks_2samp(ref, new)
        return {"reference_mean": float(ref.mean()), "recent_mean": float(new.mean()),
                "shift": float(new.mean() - ref.mean()), "ks_statistic": float(test.statistic), "p_value": float(test.pvalue)}

    # -- persistence ----------------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        """Save documents, vectors and the model fingerprint atomically into ``folder``."""
        ids = list(self.texts)
        nums = np.array([self._num[i] for i in ids], dtype=np.int64)
        vectors = np.vstack([self.index.reconstruct(int(n)) for n in nums]) if ids else np.zeros((0, self.dim), np.float32)
        buf = io.BytesIO()
        np.save(buf, vectors.astype(np.float32), allow_pickle=False)
        meta = {"format": 1, "model_name": self.model_name, "fingerprint": self.fingerprint, "dim": self.dim,
                "min_score": self.min_score, "ids": ids, "texts": [self.texts[i] for i in ids],
                "log": [asdict(r) for r in self.log]}
        atomic_save(folder, {"vectors.npy": buf.getvalue(), "meta.json": json.dumps(meta).encode()})

    @classmethod
    def load(cls, folder: str | Path, model: Any, cache_folder: str | Path) -> "SearchEngine":
        """Load a saved engine; refuses if files disagree or ``model`` is not the one that built it."""
        files = load_saved(folder)
        try:
            meta = json.loads(files["meta.json"])
            vectors = np.load(io.BytesIO(files["vectors.npy"]), allow_pickle=False)
        except (KeyError, ValueError) as e:
            raise IndexMismatch(f"{folder} does not hold a semsim engine ({type(e).__name__}: {e}).") from None
        self = cls(model, cache_folder, meta["min_score"])
        refuse_other_model(folder, meta, self.fingerprint, self.model_name)
        n = len(meta["ids"])
        if vectors.shape != (n, self.dim) or len(meta["texts"]) != n or len(set(meta["ids"])) != n:
            raise IndexMismatch(f"{folder}: {vectors.shape} vectors, {n} ids and {len(meta['texts'])} texts "
                                f"(dimension {self.dim}) do not belong together.")
        if n:
            self._insert(dict(zip(meta["ids"], meta["texts"])), np.ascontiguousarray(vectors, dtype=np.float32))
        self.log = [QueryRecord(**r) for r in meta["log"]]
        return self


def quantize_int8(model: Any) -> Any:
    """A copy of a SentenceTransformer with int8 dynamic quantisation of its Linear layers (CPU)."""
    import copy

    import torch

    with warnings.catch_warnings():  # torch marks its quantized tensors deprecated; they still work in 2.13
        warnings.simplefilter("ignore", UserWarning)
        q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    q.semsim_source = getattr(model, "semsim_source", None)
    return q
