"""The FAISS store of semsim: vectors with string ids, texts and metadata, searchable,
deletable, saved crash-safely (taught in notebook 05; used by the engine of notebook 10).

Kinds (notebook 05 teaches each one with plain FAISS calls first):

=========  ==============================  ========================================
kind       FAISS index                     delete
=========  ==============================  ========================================
``flat``   ``IndexIDMap2(IndexFlatIP)``    removed from FAISS at once
``ivf``    ``IndexIVFFlat``                removed from FAISS at once
``ivfpq``  ``IndexIVFPQ``                  removed from FAISS at once
``hnsw``   ``IndexIDMap2(IndexHNSWFlat)``  a tombstone, skipped at search time; the
                                           graph is rebuilt when a quarter is dead
=========  ==============================  ========================================

Every document gets a *row*: an int64 that FAISS stores as its id and that is never
reused. With ``metric="cosine"`` (the default) vectors and queries are L2-normalised
before they reach an inner-product index, so scores are cosines whatever the model does.

**Metadata and filters.** ``add(..., metadata=[{"category": "billing"}, ...])`` keeps
scalar fields (str, int, float, bool) per document; ``search(..., filter={"category":
"billing"})`` returns only matching documents (``{"lang": ["en", "it"]}`` means any of;
several fields must all match). A filter that leaves few documents is answered exactly
over those documents (flat, and HNSW/IVF up to ``EXACT_LIMIT`` matches); otherwise it is
passed to FAISS as an ID selector, and an approximate index may then return fewer than
``k`` hits.

**Saving** (:meth:`save`) goes through :mod:`semsim.storage`: each save adds one
*segment* holding only the rows added since the previous save, plus the list of deleted
rows, so its cost follows the change, not the corpus. ``hnsw`` also keeps a checkpoint
of its graph, rewritten when more than a tenth of the rows are newer than it; ``ivfpq``
keeps only its compressed codes, rewritten at each save. Segments are merged when too
many accumulate or a quarter of their rows is deleted.

The rules it shares with the Milvus store (ids, metadata, filters, refusals) live in
:mod:`semsim.search.vectors`; the arrays a save holds are made and checked by
:mod:`semsim.search.faiss_arrays`. Edges (tests/test_index.py): searching an empty index
gives no hits; ``k`` larger than the index gives fewer hits, never padding; another
dimension or another model's fingerprint raises :class:`~semsim.errors.IndexMismatch`;
deleting an unknown id raises KeyError and deletes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import faiss
import numpy as np

from ..errors import IndexMismatch
from ..files import parse_json
from ..storage import FileInfo, Version, read_version, save_version
from .faiss_arrays import (coarse_centroids, hnsw_arrays, hnsw_from_arrays, ivfpq_arrays, ivfpq_from_arrays,
                           set_coarse_centroids)
from .metadata import MetadataColumns
from .segments import read_segments, segment_files, segment_names
from .vectors import (Filter, Hit, Scalar, as_vectors, check_ids, check_k, check_lengths, check_metadata, delete_ids,
                      refuse_mixed_vectors, refuse_other_model, refuse_unknown_ids, refuse_zero_vectors)

KINDS = ("flat", "ivf", "hnsw", "ivfpq")
METRICS = ("cosine", "ip", "l2")
FORMAT = 3             # 3: checkpoints as checked .npy arrays (semsim/faiss_arrays.py); 2 read as well
EXACT_LIMIT = 20_000   # a filter leaving at most this many rows is answered by exact search
HNSW_REBUILD = 0.25    # rebuild the graph when this share of its rows is deleted
CHECKPOINT_LAG = 0.10  # rewrite the hnsw checkpoint when this share of rows is newer than it
MAX_SEGMENTS = 16      # merge segments beyond this many, or when a quarter of their rows is deleted

@dataclass
class _Saved:
    """What the last save or load wrote to / read from a folder (so the next save only adds)."""

    folder: Path
    version: str
    files: dict[str, FileInfo]
    segments: list[dict[str, Any]]
    checkpoint_rows: int = 0
    extra: dict[str, bytes] = field(default_factory=dict)


class VectorIndex:
    """FAISS index + string ids + texts + metadata + the model fingerprint, as one object."""

    def __init__(self, dim: int, kind: str = "flat", metric: str = "cosine", *, nlist: int = 256,
                 m: int = 32, ef_construction: int = 40, pq_m: int = 48, pq_bits: int = 8,
                 model_name: str | None = None, fingerprint: str | None = None) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim <= 65_536:
            raise ValueError(f"dim must be an integer from 1 to 65,536, not {dim!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
        for name, value, top in (("nlist", nlist, 1 << 20), ("m", m, 512), ("ef_construction", ef_construction, 1 << 16),
                                 ("pq_m", pq_m, 1 << 12), ("pq_bits", pq_bits, 16)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= top:
                raise ValueError(f"{name} must be an integer from 1 to {top:,}, not {value!r}")
        if kind == "ivfpq" and dim % pq_m:
            raise ValueError(f"pq_m={pq_m} must divide the dimension {dim}")
        self.dim, self.kind, self.metric = int(dim), kind, metric
        self.params = {"nlist": nlist, "m": m, "ef_construction": ef_construction, "pq_m": pq_m, "pq_bits": pq_bits}
        self.model_name, self.fingerprint = model_name, fingerprint
        self._row_id: list[str | None] = []        # row -> id (None once deleted)
        self._row_text: list[str | None] = []
        self._alive = bytearray()                  # row -> 1 while the document exists
        self._row: dict[str, int] = {}             # id -> row, live documents only
        self._columns = MetadataColumns()          # metadata, one code per row and field
        self._tombstones: set[int] = set()         # rows deleted but still in the FAISS graph (hnsw)
        self._persisted = bytearray()              # row -> 1 if a segment of the last save holds it (alive or not)
        self._saved: _Saved | None = None
        self._alive_bits: np.ndarray | None = None
        self._trained: np.ndarray | None = None    # the IVF coarse centroids (saved once)
        self.index = self._make()

    # -- FAISS objects --------------------------------------------------------------------
    @property
    def _fmetric(self) -> int:
        return faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT

    def _flat(self) -> faiss.Index:
        return faiss.IndexFlatL2(self.dim) if self.metric == "l2" else faiss.IndexFlatIP(self.dim)

    def _make(self) -> faiss.Index:
        p = self.params
        if self.kind == "flat":
            return faiss.IndexIDMap2(self._flat())
        if self.kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, p["m"], self._fmetric)
            inner.hnsw.efConstruction = p["ef_construction"]
            return faiss.IndexIDMap2(inner)
        quantizer = self._flat()
        if self.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, self.dim, p["nlist"], self._fmetric)
        else:
            index = faiss.IndexIVFPQ(quantizer, self.dim, p["nlist"], p["pq_m"], p["pq_bits"], self._fmetric)
        index.own_fields = True
        quantizer.this.disown()  # the IVF index owns its quantizer now
        if self.kind == "ivf":  # reconstruct by id (for saving); IVF-PQ keeps no such map: it would cost
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # a third of its compressed size
        return index

    @property
    def _inner(self) -> Any:
        """The FAISS index that holds the search parameters (inside the id map for flat/hnsw)."""
        return faiss.downcast_index(self.index.index) if isinstance(self.index, faiss.IndexIDMap2) else self.index

    # -- size and contents ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    @property
    def tombstones(self) -> int:
        """Deleted documents still in the HNSW graph (skipped by searches; 0 for other kinds)."""
        return len(self._tombstones)

    @property
    def ids(self) -> list[str]:
        """The ids of the live documents, in the order they were added."""
        return [i for i in self._row_id if i is not None]

    @property
    def texts(self) -> list[str | None]:
        """The texts of the live documents, aligned with :attr:`ids`."""
        return [t for t, a in zip(self._row_text, self._alive) if a]

    def documents(self) -> Iterator[tuple[str, str | None, dict[str, Scalar]]]:
        """Every live document as (id, text, metadata), in the order they were added."""
        for row, alive in enumerate(self._alive):
            if alive:
                yield self._row_id[row], self._row_text[row], self._metadata(row)

    def get(self, doc_id: str) -> tuple[str | None, dict[str, Scalar]]:
        """(text, metadata) of one document; KeyError if it is not in the index."""
        row = self._row[doc_id]
        return self._row_text[row], self._metadata(row)

    def _metadata(self, row: int) -> dict[str, Scalar]:
        return self._columns.row(row)

    # -- adding ---------------------------------------------------------------------------
    def _prepare(self, vectors: Any) -> np.ndarray:
        v = as_vectors(vectors, self.dim)
        if self.metric == "cosine":
            refuse_zero_vectors(v)
            if not np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5):  # already unit length: no copy
                v = v.copy()
                faiss.normalize_L2(v)
        return v

    def _check_model(self, fingerprint: str | None) -> None:
        refuse_mixed_vectors(fingerprint, self.fingerprint, self.model_name, "the index")

    def train(self, vectors: Any) -> None:
        """Train IVF / IVF-PQ on a sample of vectors (flat and HNSW need no training)."""
        v = self._prepare(vectors)
        if not self.index.is_trained:
            need = max(self.params["nlist"], 2 ** self.params["pq_bits"] if self.kind == "ivfpq" else 0)
            if len(v) < need:
                raise ValueError(f"need at least {need} vectors to train a {self.kind} index "
                                 f"(nlist={self.params['nlist']}), got {len(v)}")
            self.index.train(v)
            self._trained = coarse_centroids(self.index)

    def _checked(self, vectors: Any, ids: Sequence[str] | None, texts: Sequence[str | None] | None,
                 metadata: Any, fingerprint: str | None) -> tuple[np.ndarray, list[str], list[str | None], list[dict]]:
        """Every check of add and upsert, run once before anything changes."""
        self._check_model(fingerprint)
        v = self._prepare(vectors)
        n = len(v)
        ids = [str(len(self._row_id) + i) for i in range(n)] if ids is None else check_ids(ids)
        check_lengths(n, ids, texts)
        texts = list(texts) if texts is not None else [None] * n
        if not all(t is None or isinstance(t, str) for t in texts):
            raise TypeError("texts must be strings (or None)")
        return v, ids, texts, check_metadata(metadata, n)

    def _insert(self, v: np.ndarray, ids: list[str], texts: list[str | None], meta: list[dict],
                fingerprint: str | None) -> None:
        if not len(v):
            return
        if not self.index.is_trained:
            self.train(v)
        start = len(self._row_id)
        self.index.add_with_ids(v, np.arange(start, start + len(v), dtype=np.int64))
        self._append_rows(ids, texts, meta)
        self.fingerprint = self.fingerprint or fingerprint

    def add(self, vectors: Any, ids: Sequence[str] | None = None, texts: Sequence[str | None] | None = None,
            metadata: Sequence[Mapping[str, Scalar] | None] | None = None, fingerprint: str | None = None) -> None:
        """Add vectors with their ids, texts and metadata (trains IVF kinds on the first call).

        Everything is checked before anything changes: a refused call adds nothing. An id
        already in the index raises ValueError (use :meth:`upsert` to replace documents).
        """
        v, ids, texts, meta = self._checked(vectors, ids, texts, metadata, fingerprint)
        clash = self.existing(ids)
        if clash:
            raise ValueError(f"ids already in the index: {sorted(clash)[:5]} (use upsert to replace them)")
        self._insert(v, ids, texts, meta, fingerprint)

    def _append_rows(self, ids: list[str], texts: list[str | None], meta: list[dict[str, Scalar]]) -> None:
        start = len(self._row_id)
        self._row_id += ids
        self._row_text += texts
        self._alive += b"\x01" * len(ids)
        self._persisted += b"\x00" * len(ids)
        for i, doc_id in enumerate(ids):
            self._row[doc_id] = start + i
        self._columns.append(meta)
        self._alive_bits = None

    def upsert(self, vectors: Any, ids: Sequence[str], texts: Sequence[str | None] | None = None,
               metadata: Sequence[Mapping[str, Scalar] | None] | None = None, fingerprint: str | None = None) -> None:
        """Add documents, replacing those whose id exists; a refused call changes nothing."""
        v, ids, texts, meta = self._checked(vectors, ids, texts, metadata, fingerprint)
        replaced = sorted(self.existing(ids))
        if replaced:
            self.delete(replaced)
        self._insert(v, ids, texts, meta, fingerprint)

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are in the index."""
        return {i for i in ids if i in self._row}

    # -- deleting -------------------------------------------------------------------------
    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id (duplicates count once); returns how many were deleted.

        Unknown ids raise KeyError and nothing is deleted.
        """
        ids = delete_ids(ids)
        refuse_unknown_ids(i for i in ids if i not in self._row)
        rows = np.array([self._row[i] for i in ids], dtype=np.int64)
        if len(rows) == 0:
            return 0
        if self.kind == "hnsw":
            self._tombstones.update(rows.tolist())
        else:
            self.index.remove_ids(rows)
        for i, r in zip(ids, rows.tolist()):
            del self._row[i]
            self._row_id[r] = self._row_text[r] = None
            self._alive[r] = 0
        self._alive_bits = None
        if self.kind == "hnsw" and len(self._tombstones) > HNSW_REBUILD * self.index.ntotal:
            self.compact()
        return len(rows)

    def compact(self) -> None:
        """Rebuild the HNSW graph without its tombstones (other kinds delete at once)."""
        if self.kind != "hnsw" or not self._tombstones:
            return
        rows = np.flatnonzero(np.frombuffer(self._alive, dtype=np.uint8)).astype(np.int64)
        fresh = self._make()
        for lo in range(0, len(rows), 65_536):
            chunk = rows[lo:lo + 65_536]
            fresh.add_with_ids(self.index.reconstruct_batch(chunk), chunk)
        ef = self._inner.hnsw.efSearch
        self.index = fresh
        self._inner.hnsw.efSearch = ef
        self._tombstones.clear()
        if self._saved is not None:
            self._saved.checkpoint_rows = 0  # the saved checkpoint is out of date now

    # -- searching ------------------------------------------------------------------------
    def set_search_params(self, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """nprobe for IVF kinds (lists visited), efSearch for HNSW (candidate list size)."""
        if nprobe is not None and self.kind in ("ivf", "ivfpq"):
            self.index.nprobe = int(nprobe)
        if ef_search is not None and self.kind == "hnsw":
            self._inner.hnsw.efSearch = int(ef_search)

    def _allowed(self, flt: Filter | None) -> np.ndarray | None:
        """A boolean mask over rows of the live documents a filter lets through (None: all)."""
        if flt is None:
            return None
        return self._columns.mask(flt, np.frombuffer(self._alive, dtype=np.uint8).astype(bool))

    def _selector(self, mask: np.ndarray) -> tuple[Any, np.ndarray]:
        bits = np.packbits(mask, bitorder="little")
        return faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits)), bits  # keep bits alive

    def _params(self, selector: Any) -> Any:
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self._inner.hnsw.efSearch)
        if self.kind in ("ivf", "ivfpq"):
            return faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nprobe)
        return faiss.SearchParameters(sel=selector)

    def _exact(self, q: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        vecs = self.index.reconstruct_batch(rows) if len(rows) else np.zeros((0, self.dim), np.float32)
        if self.metric == "l2":
            scores = (q * q).sum(1)[:, None] - 2 * q @ vecs.T + (vecs * vecs).sum(1)[None, :]
            order = np.argsort(scores, axis=1, kind="stable")[:, :k]
        else:
            scores = q @ vecs.T
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, order, 1).astype(np.float32), rows[order]

    def search_vectors(self, queries: Any, k: int, fingerprint: str | None = None,
                       filter: Filter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw search: (scores, rows), both of shape (n_queries, min(k, matching documents)).

        ``rows`` are the documents' row numbers (their FAISS ids); with no deletions they are
        the positions in :attr:`ids`. ``fingerprint``: the model that encoded the queries,
        refused if it is not the index's. A row of -1 marks a place an approximate index
        left empty (possible only with a filter or after deletions).
        """
        self._check_model(fingerprint)
        k = check_k(k)
        q = self._prepare(queries)
        mask = self._allowed(filter)
        n_ok = len(self) if mask is None else int(mask.sum())
        k = min(k, n_ok)
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        if mask is not None and n_ok <= EXACT_LIMIT and self.kind in ("hnsw", "ivf"):
            return self._exact(q, np.flatnonzero(mask).astype(np.int64), k)
        if mask is None and self._tombstones:
            if self._alive_bits is None:
                self._alive_bits = np.frombuffer(self._alive, dtype=np.uint8).astype(bool)
            mask = self._alive_bits
        if mask is None:
            return self.index.search(q, k)
        selector, _bits = self._selector(mask)
        scores, rows = self.index.search(q, k, params=self._params(selector))
        return scores, rows

    def search(self, queries: Any, k: int = 10, fingerprint: str | None = None,
               filter: Filter | None = None) -> list[list[Hit]]:
        """Search with query vectors (one or a matrix); returns the hits of each query, best first."""
        scores, rows = self.search_vectors(queries, k, fingerprint, filter)
        return [[Hit(self._row_id[r], float(s), self._row_text[r], self._metadata(r))
                 for s, r in zip(srow, rrow) if r >= 0 and self._alive[r]]
                for srow, rrow in zip(scores.tolist(), rows.tolist())]

    # -- persistence ----------------------------------------------------------------------
    def _header(self, segments: list[dict[str, Any]], checkpoint_rows: int) -> dict[str, Any]:
        return {"format": FORMAT, "dim": self.dim, "kind": self.kind, "metric": self.metric, "params": self.params,
                "model_name": self.model_name, "fingerprint": self.fingerprint, "next_row": len(self._row_id),
                "segments": segments, "checkpoint_rows": checkpoint_rows,
                "search": {"nprobe": getattr(self.index, "nprobe", None),
                           "ef_search": self._inner.hnsw.efSearch if self.kind == "hnsw" else None}}

    def _segment(self, rows: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        listed = rows.tolist()
        vectors = None if self.kind == "ivfpq" else np.concatenate(  # IVF-PQ keeps only its codes (the checkpoint)
            [self.index.reconstruct_batch(rows[lo:lo + 65_536]) for lo in range(0, len(rows), 65_536)])
        return segment_files(rows, [self._row_id[r] for r in listed], [self._row_text[r] for r in listed],
                             {f: self._columns.column(f, listed) for f in self._columns.fields}, vectors)

    def save(self, folder: str | Path, *, extra: Mapping[str, bytes] | None = None, overwrite: bool = False) -> str:
        """Save into ``folder`` (crash-safe; only what changed since the last save there is written).

        ``extra``: more files to keep in the same version (the engine's query log).
        Refuses with :class:`~semsim.storage.StaleSave` if another process saved to the
        folder after this index was loaded from or saved to it, unless ``overwrite``.
        Returns the new version.
        """
        folder = Path(folder).resolve()
        same = self._saved is not None and self._saved.folder == folder
        alive = np.frombuffer(self._alive, dtype=np.uint8).astype(bool)
        persisted = np.frombuffer(self._persisted, dtype=np.uint8).astype(bool) if same else np.zeros_like(alive)
        dead = np.flatnonzero(persisted & ~alive).astype(np.int64)
        segments = list(self._saved.segments) if same else []
        seg_rows = sum(s["rows"] for s in segments)
        merge = same and (len(segments) >= MAX_SEGMENTS or len(dead) > 0.25 * max(seg_rows, 1))
        if merge:
            segments, persisted, dead = [], np.zeros_like(alive), np.zeros(0, np.int64)
        files: dict[str, Any] = {}
        keep: dict[str, FileInfo] = {}
        if same and not merge:
            for s in segments:
                for ext in ("json", "npy") if s["vectors"] else ("json",):
                    keep[f"{s['name']}.{ext}"] = self._saved.files[f"{s['name']}.{ext}"]
        new_rows = np.flatnonzero(alive & ~persisted).astype(np.int64)
        if len(new_rows):
            seg, seg_files = self._segment(new_rows)
            segments.append(seg)
            files.update(seg_files)
        files["dead.npy"] = dead
        checkpoint_rows = self._saved.checkpoint_rows if same and not merge else 0
        if self.kind in ("ivf",) and self.index.is_trained:
            if same and "trained.npy" in self._saved.files:
                keep["trained.npy"] = self._saved.files["trained.npy"]
            else:
                files["trained.npy"] = self._trained
        saved_checkpoint = {n: i for n, i in (self._saved.files if same else {}).items() if n.startswith("checkpoint-")}
        if self.kind == "ivfpq" or (self.kind == "hnsw" and (
                len(self._row_id) - checkpoint_rows > CHECKPOINT_LAG * max(len(self._row_id), 1)
                or not saved_checkpoint)):
            arrays = hnsw_arrays(self.index) if self.kind == "hnsw" else ivfpq_arrays(self.index)
            files.update({f"checkpoint-{k}.npy": v for k, v in arrays.items()})
            checkpoint_rows = len(self._row_id)
        elif self.kind == "hnsw":
            keep.update(saved_checkpoint)
        for name, data in (extra or {}).items():
            if name in files or name.startswith(("seg-", "dead.", "index.", "trained.", "checkpoint")):
                raise ValueError(f"extra file name {name!r} is taken by the index")
            files[name] = data
        files["index.json"] = json.dumps(self._header(segments, checkpoint_rows)).encode()
        version, infos = save_version(folder, files, keep=keep, expect=self._saved.version if same else None,
                                      overwrite=overwrite)
        # A row stays "persisted" while a kept segment holds it, deleted or not: dead.npy must
        # list it at every later save, or the document comes back on load.
        persisted[new_rows] = True
        self._persisted = bytearray(persisted.astype(np.uint8).tobytes())
        self._saved = _Saved(folder, version, infos, segments, checkpoint_rows, dict(extra or {}))
        return version

    @property
    def saved_version(self) -> str | None:
        """The version this index last loaded or saved (None if never)."""
        return self._saved.version if self._saved else None

    @property
    def extra(self) -> dict[str, bytes]:
        """The ``extra`` files of the version this index was loaded from or last saved."""
        return dict(self._saved.extra) if self._saved else {}

    @classmethod
    def load(cls, folder: str | Path, expect_fingerprint: str | None = None) -> "VectorIndex":
        """Load a saved index; checks checksums, that vectors, ids and texts agree, and the model."""
        return cls.from_version(read_version(Path(folder).resolve()), expect_fingerprint)

    @classmethod
    def from_version(cls, saved: Version, expect_fingerprint: str | None = None) -> "VectorIndex":
        """The index held by a version already read (and verified) by :func:`semsim.storage.read_version`."""
        folder = Path(saved.folder).resolve()
        try:
            head = parse_json(saved.data["index.json"], f"{folder}/index.json")
            if not isinstance(head, dict):
                raise TypeError("index.json does not hold an object")
            if head.get("format") not in (2, FORMAT):
                raise IndexMismatch(f"{folder} holds an index of format {head.get('format')!r}; this semsim reads "
                                    f"formats 2 and {FORMAT}. Re-create it with this version of semsim.")
            self = cls(head["dim"], head["kind"], head["metric"], model_name=head["model_name"],
                       fingerprint=head["fingerprint"], **head["params"])
            segments = head["segments"]
            next_row, checkpoint_rows = int(head["next_row"]), int(head["checkpoint_rows"])
        except IndexMismatch:
            raise
        except KeyError as e:
            raise IndexMismatch(f"{folder} does not hold a semsim index (no {e} in index.json).") from e
        except (ValueError, TypeError, AttributeError) as e:
            raise IndexMismatch(f"{folder}: index.json is not valid ({type(e).__name__}: {str(e)[:200]}).") from e
        if expect_fingerprint and self.fingerprint:
            refuse_other_model(folder, head, expect_fingerprint, "the model you are using")
        self._restore(folder, saved, segments, next_row, checkpoint_rows, legacy=head["format"] == 2)
        nprobe, ef = head.get("search", {}).get("nprobe"), head.get("search", {}).get("ef_search")
        self.set_search_params(nprobe=nprobe, ef_search=ef)
        known = {"index.json", "dead.npy", "trained.npy", "trained.faiss", "checkpoint.faiss"} | segment_names(
            segments) | {n for n in saved.data if n.startswith("checkpoint-")}
        extra = {n: d for n, d in saved.data.items() if n not in known}
        self._saved = _Saved(folder, saved.version, saved.files, segments, checkpoint_rows,
                             {n: bytes(d) for n, d in extra.items() if isinstance(d, bytes)})
        return self

    def _read_arrays(self, folder: Path, data: Mapping[str, Any], next_row: int) -> Any:
        """The HNSW graph or IVF-PQ codes rebuilt from their checked arrays (semsim/faiss_arrays.py)."""
        arrays = {n[len("checkpoint-"):-len(".npy")]: d for n, d in data.items() if n.startswith("checkpoint-")}
        try:
            build = hnsw_from_arrays if self.kind == "hnsw" else ivfpq_from_arrays
            return build(self._make(), arrays, next_row)
        except KeyError as e:
            raise IndexMismatch(f"{folder} is missing the checkpoint array {e}: the save is incomplete.") from e
        except (ValueError, TypeError, IndexError, MemoryError) as e:
            raise IndexMismatch(f"{folder}: the {self.kind} checkpoint does not hold together ({e}).") from e

    def _read_faiss(self, folder: Path, data: Mapping[str, Any], name: str) -> Any:
        """A FAISS index read from a format-2 file (FAISS's own reader: only for saves you trust),
        checked to be of this index's kind, dimension and metric."""
        try:
            index = faiss.deserialize_index(np.frombuffer(data[name], dtype=np.uint8))
        except KeyError as e:
            raise IndexMismatch(f"{folder} is missing {name}: the save is incomplete.") from e
        except (RuntimeError, MemoryError, AssertionError, IndexError, ValueError, TypeError) as e:
            raise IndexMismatch(f"{folder}: {name} cannot be read by FAISS ({type(e).__name__}: {str(e)[:200]}).") from e
        want = {"hnsw": faiss.IndexIDMap2, "ivf": faiss.IndexIVFFlat, "ivfpq": faiss.IndexIVFPQ}[self.kind]
        inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else None
        if not isinstance(index, want) or index.d != self.dim or index.metric_type != self._fmetric or (
                self.kind == "hnsw" and not isinstance(inner, faiss.IndexHNSWFlat)):
            raise IndexMismatch(f"{folder}: {name} holds a {type(index).__name__} of dimension {index.d}, "
                                f"not the {self.kind} index of dimension {self.dim} that index.json describes.")
        return index

    def _restore(self, folder: Path, saved: Any, segments: list[dict[str, Any]], next_row: int,
                 checkpoint_rows: int, legacy: bool = False) -> None:
        data = saved.data
        docs = read_segments(str(folder), data, segments, next_row, self.dim)
        alive, ids, texts, meta, vec_parts = docs.alive, docs.ids, docs.texts, docs.meta, docs.vectors
        if self.kind in ("hnsw", "ivfpq"):
            self.index = (self._read_faiss(folder, data, "checkpoint.faiss") if legacy
                          else self._read_arrays(folder, data, next_row))
            in_graph = faiss.vector_to_array(self.index.id_map) if self.kind == "hnsw" else None
            if in_graph is not None and len(in_graph) and (in_graph.min() < 0 or in_graph.max() >= next_row):
                raise IndexMismatch(f"{folder}: the HNSW graph holds rows the documents do not: they do not belong together.")
            if self.kind == "ivfpq":  # written at every save: it holds exactly the live rows
                coded = ivfpq_arrays(self.index)["rows"] if not legacy else None
                if self.index.ntotal != int(alive.sum()) or (
                        coded is not None and not np.array_equal(np.sort(coded), np.flatnonzero(alive))):
                    raise IndexMismatch(f"{folder}: the IVF-PQ codes hold {self.index.ntotal} vectors, the documents "
                                        f"{int(alive.sum())}: they do not belong together.")
            else:
                self._tombstones = {int(r) for r in in_graph.tolist() if not alive[r]}
        elif self.kind == "ivf":
            if legacy:
                self.index = self._read_faiss(folder, data, "trained.faiss")
            else:
                self.index = self._make()
                try:
                    set_coarse_centroids(self.index, data["trained.npy"])
                except (KeyError, ValueError) as e:
                    raise IndexMismatch(f"{folder}: the IVF centroids are missing or do not fit ({e}).") from e
                self.index.is_trained = True
            self._trained = coarse_centroids(self.index)
            self.index.set_direct_map_type(faiss.DirectMap.Hashtable)
        for rows, vecs, keep in vec_parts:
            if self.kind == "hnsw":
                new = rows >= checkpoint_rows
                rows, picked = rows[new], np.flatnonzero(keep)[new]
            else:
                picked = np.flatnonzero(keep)
            for lo in range(0, len(rows), 65_536):
                self.index.add_with_ids(np.ascontiguousarray(vecs[picked[lo:lo + 65_536]], dtype=np.float32),
                                        rows[lo:lo + 65_536])
        self._row_id, self._row_text, self._columns = [], [], MetadataColumns()
        self._alive, self._persisted = bytearray(), bytearray()
        self._append_rows([i if i is not None else "" for i in ids], texts, meta)
        self._row = {i: r for r, i in enumerate(ids) if i is not None}
        for r in np.flatnonzero(~alive).tolist():
            self._row_id[r] = None
            self._alive[r] = 0
        self._persisted = bytearray(docs.in_segment.astype(np.uint8).tobytes())
        if self.kind == "hnsw" and self.index.ntotal - len(self._tombstones) != len(self):
            raise IndexMismatch(f"{folder}: the HNSW graph holds {self.index.ntotal - len(self._tombstones)} live "
                                f"vectors, the documents {len(self)}: they do not belong together.")
        if self.kind in ("flat", "ivf") and self.index.ntotal != len(self):
            raise IndexMismatch(f"{folder}: {self.index.ntotal} vectors for {len(self)} documents.")
