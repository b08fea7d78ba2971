"""A small FAISS index wrapper: cosine done right, ids and texts kept beside the vectors,
saved and loaded with the model that made it (no pickle).

Index kinds: ``flat`` (exact), ``ivf`` (inverted lists), ``hnsw`` (graph), ``ivfpq``
(inverted lists + product quantisation). With ``metric="cosine"`` (the default) every
vector and query is L2-normalised before it reaches an inner-product index, so the scores
are cosines whatever the model does.

Behaviour at the edges (tested in tests/test_search.py):
* an empty index, an empty or non-string query: ValueError / TypeError;
* ``k`` larger than the index: fewer than ``k`` hits, never padding or -1 ids;
* vectors of another dimension, or from another model (by fingerprint): IndexMismatch;
* a truncated or mismatched saved index: IndexMismatch on load.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import faiss
import numpy as np

from .errors import IndexMismatch
from .storage import atomic_save, load_saved

KINDS = ("flat", "ivf", "hnsw", "ivfpq")
METRICS = ("cosine", "ip", "l2")


@dataclass(frozen=True)
class Hit:
    """One search result: the document's id, its score (cosine for metric="cosine") and text."""

    id: str
    score: float
    text: str | None = None


def refuse_other_model(folder: str | Path, meta: dict, fingerprint: str, using: str) -> None:
    """Raise IndexMismatch unless the saved ``meta`` was built by the model with ``fingerprint``."""
    if meta["fingerprint"] != fingerprint:
        raise IndexMismatch(f"{folder} was built with {meta['model_name']} (fingerprint {meta['fingerprint']}), "
                            f"not with {using} (fingerprint {fingerprint}); re-index with one model.")


def _as_vectors(x: Any, dim: int | None = None) -> np.ndarray:
    v = np.asarray(x, dtype=np.float32)
    if v.ndim == 1:
        v = v.reshape(1, -1)
    if v.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {v.shape}")
    if dim is not None and v.shape[1] != dim:
        raise IndexMismatch(f"vectors have dimension {v.shape[1]}, the index holds dimension {dim}: "
                            "were they made by another model?")
    if not np.isfinite(v).all():
        raise ValueError("vectors contain NaN or infinity")
    return np.ascontiguousarray(v)


class VectorIndex:
    """FAISS index + ids + texts + the model fingerprint, as one object."""

    def __init__(self, dim: int, kind: str = "flat", metric: str = "cosine", *, nlist: int = 256,
                 m: int = 32, pq_m: int = 48, pq_bits: int = 8, model_name: str | None = None,
                 fingerprint: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
        self.dim, self.kind, self.metric = dim, kind, metric
        self.params = {"nlist": nlist, "m": m, "pq_m": pq_m, "pq_bits": pq_bits}
        self.model_name, self.fingerprint = model_name, fingerprint
        self.ids: list[str] = []
        self.texts: list[str | None] = []
        self.index = self._make()

    def _make(self) -> faiss.Index:
        fmetric = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
        p = self.params
        if self.kind == "flat":
            return faiss.IndexFlatL2(self.dim) if self.metric == "l2" else faiss.IndexFlatIP(self.dim)
        if self.kind == "hnsw":
            return faiss.IndexHNSWFlat(self.dim, p["m"], fmetric)
        quantizer = faiss.IndexFlatL2(self.dim) if self.metric == "l2" else faiss.IndexFlatIP(self.dim)
        if self.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, self.dim, p["nlist"], fmetric)
        else:
            if self.dim % p["pq_m"]:
                raise ValueError(f"pq_m={p['pq_m']} must divide the dimension {self.dim}")
            index = faiss.IndexIVFPQ(quantizer, self.dim, p["nlist"], p["pq_m"], p["pq_bits"], fmetric)
        self._quantizer = quantizer  # keep the Python object alive beside the index
        return index

    # -- building -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def _prepare(self, vectors: Any) -> np.ndarray:
        v = _as_vectors(vectors, self.dim)
        if self.metric == "cosine":
            norms = np.linalg.norm(v, axis=1, keepdims=True)
            if (norms == 0).any():
                raise ValueError("a zero vector has no direction (an empty text?); cosine is undefined")
            if not np.allclose(norms, 1.0, atol=1e-5):  # already unit length: no copy (saves memory)
                v = v / norms
        return v

    def _check_model(self, fingerprint: str | None) -> None:
        if fingerprint and self.fingerprint and fingerprint != self.fingerprint:
            raise IndexMismatch(f"these vectors come from another model (fingerprint {fingerprint}) than "
                                f"the index ({self.model_name or '?'}, fingerprint {self.fingerprint}): "
                                "scores between them would be meaningless. Re-encode with the index's model.")

    def train(self, vectors: Any) -> None:
        """Train IVF / IVF-PQ on a sample of vectors (flat and HNSW need no training)."""
        v = self._prepare(vectors)
        if not self.index.is_trained:
            if len(v) < self.params["nlist"]:
                raise ValueError(f"need at least nlist={self.params['nlist']} vectors to train, got {len(v)}")
            self.index.train(v)

    def add(self, vectors: Any, ids: Sequence[str] | None = None, texts: Sequence[str] | None = None,
            fingerprint: str | None = None) -> None:
        """Add vectors (trains first if needed). ``fingerprint`` must match the index's model."""
        self._check_model(fingerprint)
        v = self._prepare(vectors)
        n = len(v)
        ids = [str(len(self.ids) + i) for i in range(n)] if ids is None else [str(i) for i in ids]
        if len(ids) != n or (texts is not None and len(texts) != n):
            raise ValueError(f"{n} vectors but {len(ids)} ids / {None if texts is None else len(texts)} texts")
        if len(set(ids)) != n or set(ids) & set(self.ids):
            raise ValueError("ids must be unique (within the call and against the index)")
        if not self.index.is_trained:
            self.train(v)
        self.index.add(v)
        self.ids += ids
        self.texts += list(texts) if texts is not None else [None] * n
        self.fingerprint = self.fingerprint or fingerprint

    # -- searching ------------------------------------------------------------------------
    def set_search_params(self, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """nprobe for IVF kinds (lists visited), efSearch for HNSW (candidate list size)."""
        if nprobe is not None and self.kind in ("ivf", "ivfpq"):
            self.index.nprobe = nprobe
        if ef_search is not None and self.kind == "hnsw":
            self.index.hnsw.efSearch = ef_search

    def search_vectors(self, queries: Any, k: int, fingerprint: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw search: (scores, positions), shape (n_queries, min(k, len(index))).

        ``fingerprint``: the model that encoded the queries; refused if it is not the index's.
        """
        self._check_model(fingerprint)
        if len(self) == 0:
            raise ValueError("the index is empty: add documents before searching")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, not {k!r}")
        q = self._prepare(queries)
        k = min(int(k), len(self))
        scores, pos = self.index.search(q, k)
        return scores, pos

    def search(self, queries: Any, k: int = 10, fingerprint: str | None = None) -> list[list[Hit]]:
        """Search with query vectors; returns hits per query (fewer than k when the index is small)."""
        scores, pos = self.search_vectors(queries, k, fingerprint)
        return [[Hit(self.ids[p], float(s), self.texts[p]) for s, p in zip(srow, prow) if p >= 0]
                for srow, prow in zip(scores, pos)]

    # -- persistence ----------------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        """Save atomically: index bytes + JSON metadata (ids, texts, model, fingerprint)."""
        meta = {"format": 1, "dim": self.dim, "kind": self.kind, "metric": self.metric, "params": self.params,
                "model_name": self.model_name, "fingerprint": self.fingerprint, "ids": self.ids, "texts": self.texts}
        atomic_save(folder, {"index.faiss": faiss.serialize_index(self.index).tobytes(),
                             "meta.json": json.dumps(meta).encode()})

    @classmethod
    def load(cls, folder: str | Path, expect_fingerprint: str | None = None) -> "VectorIndex":
        """Load a saved index; checks that index, ids, texts (and the model, if given) agree."""
        files = load_saved(folder)
        try:
            meta = json.loads(files["meta.json"])
            index = faiss.deserialize_index(np.frombuffer(files["index.faiss"], dtype=np.uint8))
        except (KeyError, ValueError, RuntimeError) as e:
            raise IndexMismatch(f"{folder} does not hold a semsim index ({type(e).__name__}: {e}).") from None
        if index.ntotal != len(meta["ids"]) or len(meta["ids"]) != len(meta["texts"]) or index.d != meta["dim"]:
            raise IndexMismatch(f"{folder}: the index holds {index.ntotal} vectors of dimension {index.d}, "
                                f"the metadata {len(meta['ids'])} ids of dimension {meta['dim']}: they do not belong together.")
        if expect_fingerprint and meta["fingerprint"]:
            refuse_other_model(folder, meta, expect_fingerprint, "the model you are using")
        self = cls(meta["dim"], meta["kind"], meta["metric"], model_name=meta["model_name"],
                   fingerprint=meta["fingerprint"], **meta["params"])
        self.index, self.ids, self.texts = index, meta["ids"], meta["texts"]
        return self


class SemanticSearch:
    """A model and a VectorIndex together: add texts, search with text queries."""

    def __init__(self, model: Any, kind: str = "flat", **index_params: Any) -> None:
        from .models import fingerprint

        self.model = model
        source = getattr(model, "semsim_source", None)
        self.index = VectorIndex(model.get_embedding_dimension(), kind, "cosine",
                                 model_name=source.name if source else None,
                                 fingerprint=fingerprint(model), **index_params)

    def _encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True))

    def add(self, texts: Sequence[str], ids: Sequence[str] | None = None, batch_size: int = 64,
            vectors: np.ndarray | None = None) -> None:
        """Encode and add texts (or add precomputed ``vectors`` of these texts from the same model)."""
        if isinstance(texts, str):
            raise TypeError("add() takes a list of texts, not one string")
        if not texts:
            raise ValueError("no texts to add")
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
        if bad:
            raise ValueError(f"texts must be non-empty strings; positions {bad[:5]} are not")
        v = self._encode(texts, batch_size) if vectors is None else vectors
        self.index.add(v, ids=ids, texts=list(texts))

    def search(self, query: str | Sequence[str], k: int = 5) -> list[Hit] | list[list[Hit]]:
        """Search with one query (returns a list of hits) or a list of queries."""
        single = isinstance(query, str)
        if not single and not isinstance(query, (list, tuple)):
            raise TypeError(f"a query must be a string or a list of strings, not {type(query).__name__}")
        queries = [query] if single else list(query)
        if not queries or not all(isinstance(q, str) and q.strip() for q in queries):
            raise (TypeError if not all(isinstance(q, str) for q in queries) else ValueError)(
                "a query must be a non-empty string")
        hits = self.index.search(self._encode(queries), k)
        return hits[0] if single else hits

    def save(self, folder: str | Path) -> None:
        self.index.save(folder)

    @classmethod
    def load(cls, folder: str | Path, model: Any) -> "SemanticSearch":
        """Load a saved search; refuses if ``model`` is not the model that built it."""
        from .models import fingerprint

        self = cls.__new__(cls)
        self.model = model
        self.index = VectorIndex.load(folder, expect_fingerprint=fingerprint(model))
        return self


def corpus_shaped_vectors(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` synthetic unit vectors shaped like ``base`` (real, normalised embeddings): each is a
    random mix of two base vectors plus a little noise. They keep the uneven, clustered layout
    that approximate indexes exploit, for index benchmarks larger than one can encode."""
    i, j = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
    a = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    v = a * base[i] + (1 - a) * base[j] + rng.normal(0, 0.02, (n, base.shape[1])).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true top-k (rows of ``truth``) that appear in ``found``'s rows."""
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)]))
