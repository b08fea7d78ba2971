"""FAISS indexes as plain arrays, and back: how semsim saves a graph or compressed codes.

FAISS's own file format is fast, but its reader trusts the file: a crafted or damaged
file can make it allocate without end, hang or crash the process. So semsim never hands
a saved file to that reader. It saves the parts of an index as ``.npy`` arrays (read by
numpy with ``allow_pickle=False``), checks every count, offset and neighbour id, and only
then copies them into a fresh FAISS object. A check that fails raises ValueError.

* HNSW (``IndexIDMap2(IndexHNSWFlat)``): each node's level, the offsets of its neighbour
  lists, the neighbour ids, the vectors, and the row of each node; entry point and top level.
* IVF (``IndexIVFFlat``): the coarse centroids (the lists are refilled from the vectors).
* IVF-PQ (``IndexIVFPQ``): the coarse centroids, the PQ codebooks, and per list the rows
  and codes (IVF-PQ keeps no vectors to refill from).
"""
from __future__ import annotations

from typing import Any

import faiss
import numpy as np


def _vector(v: Any) -> np.ndarray:
    return faiss.vector_to_array(v)


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


# -- HNSW ----------------------------------------------------------------------------------------
def hnsw_arrays(index: Any) -> dict[str, np.ndarray]:
    """The arrays of an ``IndexIDMap2(IndexHNSWFlat)``."""
    inner = faiss.downcast_index(index.index)
    graph = inner.hnsw
    n = inner.ntotal
    return {"levels": _vector(graph.levels), "offsets": _vector(graph.offsets).astype(np.int64),
            "neighbors": _vector(graph.neighbors), "rows": _vector(index.id_map),
            "vectors": _vector(faiss.downcast_index(inner.storage).codes).view(np.float32).reshape(n, inner.d),
            "top": np.array([graph.entry_point, graph.max_level], dtype=np.int64)}


def hnsw_from_arrays(fresh: Any, a: dict[str, np.ndarray], next_row: int) -> Any:
    """Fill ``fresh`` (a new, empty ``IndexIDMap2(IndexHNSWFlat)`` of the right d, M and metric) from
    :func:`hnsw_arrays`, after checking that every part agrees with every other."""
    inner = faiss.downcast_index(fresh.index)
    graph = inner.hnsw
    levels, offsets, neighbors = (np.asarray(a[k]) for k in ("levels", "offsets", "neighbors"))
    rows, vectors, top = np.asarray(a["rows"]), np.asarray(a["vectors"]), np.asarray(a["top"])
    n = len(levels)
    per_level = _vector(graph.cum_nneighbor_per_level).astype(np.int64)
    _need(levels.dtype == np.int32 and neighbors.dtype == np.int32 and rows.dtype == np.int64
          and offsets.dtype == np.int64 and vectors.dtype == np.float32 and top.shape == (2,), "array types")
    _need(vectors.shape == (n, inner.d) and rows.shape == (n,) and offsets.shape == (n + 1,), "array sizes")
    _need(n == 0 or (levels.min() >= 1 and levels.max() < len(per_level)), "node levels")
    _need(offsets[0] == 0 and np.array_equal(np.diff(offsets), per_level[levels] if n else []), "neighbour offsets")
    _need(offsets[-1] == len(neighbors), "neighbour count")
    _need(len(neighbors) == 0 or (neighbors.min() >= -1 and neighbors.max() < n), "neighbour ids")
    _need(n == 0 or (rows.min() >= 0 and rows.max() < next_row and len(np.unique(rows)) == n), "rows")
    entry, top_level = int(top[0]), int(top[1])
    _need((n == 0 and entry == -1) or (0 <= entry < n and top_level == levels.max() - 1
                                       and levels[entry] - 1 == top_level), "entry point")
    _need(np.isfinite(vectors).all(), "vectors")
    for name, arr in (("levels", levels), ("offsets", offsets.astype(np.uint64)), ("neighbors", neighbors)):
        faiss.copy_array_to_vector(np.ascontiguousarray(arr), getattr(graph, name))
    graph.entry_point, graph.max_level = entry, top_level
    storage = faiss.downcast_index(inner.storage)
    faiss.copy_array_to_vector(np.ascontiguousarray(vectors).view(np.uint8).ravel(), storage.codes)
    storage.ntotal = inner.ntotal = n
    faiss.copy_array_to_vector(np.ascontiguousarray(rows), fresh.id_map)
    fresh.ntotal = n
    fresh.construct_rev_map()
    return fresh


# -- IVF and IVF-PQ -------------------------------------------------------------------------------
def coarse_centroids(index: Any) -> np.ndarray:
    """The coarse centroids of a trained IVF index (its flat quantizer's vectors)."""
    quantizer = faiss.downcast_index(index.quantizer)
    return _vector(quantizer.codes).view(np.float32).reshape(quantizer.ntotal, index.d)


def set_coarse_centroids(fresh: Any, centroids: np.ndarray) -> None:
    """Give a new, untrained IVF index its centroids (checked: nlist rows of dimension d, finite)."""
    centroids = np.asarray(centroids)
    _need(centroids.dtype == np.float32 and centroids.shape == (fresh.nlist, fresh.d)
          and np.isfinite(centroids).all(), "coarse centroids")
    faiss.downcast_index(fresh.quantizer).add(np.ascontiguousarray(centroids))


def ivfpq_arrays(index: Any) -> dict[str, np.ndarray]:
    """The arrays of an ``IndexIVFPQ``."""
    lists = index.invlists
    sizes = np.array([lists.list_size(i) for i in range(index.nlist)], dtype=np.int64)
    rows = [faiss.rev_swig_ptr(lists.get_ids(i), int(s)).copy() for i, s in enumerate(sizes) if s]
    codes = [faiss.rev_swig_ptr(lists.get_codes(i), int(s) * lists.code_size).copy() for i, s in enumerate(sizes) if s]
    return {"centroids": coarse_centroids(index), "codebooks": _vector(index.pq.centroids),
            "sizes": sizes, "rows": np.concatenate(rows) if rows else np.zeros(0, np.int64),
            "codes": np.concatenate(codes) if codes else np.zeros(0, np.uint8)}


def ivfpq_from_arrays(fresh: Any, a: dict[str, np.ndarray], next_row: int) -> Any:
    """Fill ``fresh`` (a new, untrained ``IndexIVFPQ`` of the right shape) from :func:`ivfpq_arrays`."""
    sizes, rows, codes, books = (np.asarray(a[k]) for k in ("sizes", "rows", "codes", "codebooks"))
    code_size = fresh.code_size
    _need(sizes.dtype == np.int64 and rows.dtype == np.int64 and codes.dtype == np.uint8
          and books.dtype == np.float32, "array types")
    _need(sizes.shape == (fresh.nlist,) and (sizes >= 0).all() and int(sizes.sum()) == len(rows), "list sizes")
    _need(codes.shape == (len(rows) * code_size,), "codes")
    _need(books.shape == (fresh.pq.M * fresh.pq.ksub * fresh.pq.dsub,) and np.isfinite(books).all(), "codebooks")
    _need(len(rows) == 0 or (rows.min() >= 0 and rows.max() < next_row and len(np.unique(rows)) == len(rows)), "rows")
    set_coarse_centroids(fresh, a["centroids"])
    faiss.copy_array_to_vector(np.ascontiguousarray(books), fresh.pq.centroids)
    fresh.is_trained = True
    fresh.precompute_table()
    start = 0
    for i, size in enumerate(sizes.tolist()):
        if size:
            fresh.invlists.add_entries(i, size, faiss.swig_ptr(rows[start:start + size]),
                                       faiss.swig_ptr(codes[start * code_size:(start + size) * code_size]))
            start += size
    fresh.ntotal = len(rows)
    return fresh
