"""A Milvus collection as a semsim store (taught in notebook 10): Milvus Lite, a server or a cluster.

:class:`MilvusStore` keeps documents in a Milvus collection through ``pymilvus.MilvusClient``:
a local Milvus Lite file (``"vectors.db"``), or any Milvus server or cluster by URI
(``"http://host:19530"``, with a token if it needs one). It keeps the rules of
:mod:`semsim.search.vectors` as the FAISS store does: it refuses vectors of another model
(the fingerprint is stored with the collection), refuses to add an id twice, deletes
all-or-nothing, searches with the same metadata filters and returns the same hits.

**No expression is built from a user's string.** Milvus selects rows by a boolean
expression, and pymilvus builds ``id in ['...']`` by pasting the ids in, so an id such as
``x'] or id not in ['x`` would select every row. Filter templates (``filter_params``) would
avoid that, but Milvus Lite and the 2.3 server do not read them. So :class:`MilvusStore`
writes every literal itself through :func:`milvus_string` (one escaping, checked by a round
trip against both), never lets pymilvus paste ids, accepts only plain identifiers as filter
keys, and before deleting checks that the expression selects exactly the ids asked for.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..errors import IndexMismatch, SemsimError, StoreUnavailable
from ..storage import save_version
from .vectors import (MAX_ID, Filter, Hit, Scalar, as_vectors, check_ids, check_k, check_lengths, check_metadata,
                      check_scalar, delete_ids, filter_values, matches, refuse_mixed_vectors, refuse_other_model,
                      refuse_unknown_ids, refuse_zero_vectors)

MAX_TEXT = 65_535  # Milvus VARCHAR limit (bytes)
BATCH = 2_000      # rows per insert request
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}


def _start_hint(uri: str) -> str:
    return (f"Start a server (for a local one: python -m semsim milvus-server --port {uri.rsplit(':', 1)[-1].strip('/')}"
            " --data <folder>), check the URI and token, or use a local Milvus Lite file such as 'vectors.db'.")


def milvus_string(text: str) -> str:
    """A Milvus string literal that reads back as exactly ``text`` (double quotes; backslash,
    quote, newline and carriage return escaped; every other character, non-ASCII included, as is)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string, not {type(text).__name__}")
    check_scalar(text, "a string")  # valid Unicode
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def milvus_literal(value: Scalar) -> str:
    """A checked scalar as a Milvus literal."""
    value = check_scalar(value, "a filter value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return milvus_string(value)


def ids_expression(ids: Sequence[str]) -> str:
    """``id in [...]`` with every id written by :func:`milvus_string`."""
    return "id in [" + ", ".join(milvus_string(i) for i in ids) + "]"


CONSISTENCY_LEVELS = ("Strong", "Session", "Bounded", "Eventually")


def milvus_filter(flt: Filter | None) -> str:
    """The Milvus boolean expression of a semsim filter (fields live in the JSON field ``meta``).

    Keys are checked to be plain identifiers and values are written as literals by semsim, so
    no part of the expression comes from a user's string unescaped."""
    if flt is None:
        return ""
    parts = []
    for key, values in filter_values(flt).items():  # filter_values checks keys and values
        field = f'meta["{key}"]'
        either = [f"{field} == {milvus_literal(v)}" for v in values]  # Milvus Lite has no 'in' on JSON
        parts.append(either[0] if len(either) == 1 else "(" + " or ".join(either) + ")")
    return " and ".join(parts)


class MilvusStore:
    """A Milvus collection as a semsim store (Milvus Lite file, standalone server or cluster).

    ``uri``: a file path ending in ``.db`` (embedded Milvus Lite) or ``http(s)://host:port``.
    ``index``: the collection's vector index, ``"FLAT"`` (exact), ``"HNSW"`` or ``"IVF_FLAT"``;
    ``index_params`` go to Milvus (``{"M": 16, "efConstruction": 64}`` or ``{"nlist": 256}``)
    and ``search_params`` to each search (``{"ef": 64}`` or ``{"nprobe": 16}``).

    Consistency (how far behind the writes a read may be), chosen per use from
    ``benchmarks/results/milvus_consistency.md``:

    * ``search_consistency`` (default ``"Session"``): a search sees every write *this* store
      object made, and the server need not wait for its next time tick, which under
      ``"Strong"`` costs each search up to one tick (about 200 ms). Writes by other clients
      show up within about a tick. Pass ``"Strong"`` where a search must see every client's
      acknowledged writes at once, ``"Bounded"`` where reading a few seconds behind is fine.
    * ``lookup_consistency`` (default ``"Strong"``): id lookups (``existing``, ``get``, ``in``,
      the checks of ``add`` and ``delete``) see every client's writes, so two processes cannot
      both add the same id unnoticed because one read a stale view. Lookups are rare next to
      searches; they pay the tick.
    """

    def __init__(self, uri: str | Path, collection: str = "semsim", dim: int | None = None, *,
                 model_name: str | None = None, fingerprint: str | None = None, token: str = "",
                 index: str = "FLAT", index_params: Mapping[str, Any] | None = None,
                 search_params: Mapping[str, Any] | None = None, timeout: float = 10.0,
                 search_consistency: str = "Session", lookup_consistency: str = "Strong") -> None:
        from pymilvus import DataType, MilvusClient
        from pymilvus.exceptions import MilvusException

        self.uri, self.collection = str(uri), collection
        self.search_params = dict(search_params or {})
        for level in (search_consistency, lookup_consistency):
            if level not in CONSISTENCY_LEVELS:
                raise ValueError(f"consistency must be one of {CONSISTENCY_LEVELS}, not {level!r}")
        self.search_consistency, self.lookup_consistency = search_consistency, lookup_consistency
        self.saved_version: str | None = None  # the version of the folder this store last saved to / came from
        self.extra: dict[str, bytes] = {}       # the other files of that version (the engine's state)
        self._saved_folder: Path | None = None
        self._exc = MilvusException
        try:
            self.client = MilvusClient(self.uri, token=token, timeout=timeout)
            exists = self.client.has_collection(collection)
        except MilvusException as e:
            raise StoreUnavailable(f"Milvus at {self.uri} cannot be reached ({e.message}). {_start_hint(self.uri)}") from e
        if exists:
            desc = self.client.describe_collection(collection)
            props = desc.get("properties", {}) or {}
            if "semsim.fingerprint" not in props:
                raise IndexMismatch(f"collection {collection!r} at {self.uri} was not created by semsim "
                                    "(no model fingerprint): choose another collection name.")
            saved = {"fingerprint": props["semsim.fingerprint"] or None, "model_name": props.get("semsim.model_name")}
            vec = next((f for f in desc["fields"] if f["name"] == "vector"), None)
            self.dim = int(vec["params"]["dim"]) if vec else -1
            if dim is not None and self.dim != dim:
                raise IndexMismatch(f"collection {collection!r} holds vectors of dimension {self.dim}, not {dim}: "
                                    "were they made by another model?")
            if fingerprint and saved["fingerprint"]:
                refuse_other_model(f"collection {collection!r} at {self.uri}", saved, fingerprint, model_name or "?")
            self.fingerprint, self.model_name = saved["fingerprint"] or fingerprint, saved["model_name"] or model_name
            self._call("loading the collection", self.client.load_collection, collection)  # after a server restart
        else:
            if dim is None:
                raise ValueError(f"collection {collection!r} does not exist at {self.uri}: give dim= to create it")
            self.dim, self.fingerprint, self.model_name = int(dim), fingerprint, model_name
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
            schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
            schema.add_field("meta", DataType.JSON)
            params = self.client.prepare_index_params()
            params.add_index(field_name="vector", index_type=index, metric_type="COSINE", params=dict(index_params or {}))
            self.client.create_collection(collection, schema=schema, index_params=params, consistency_level="Strong",
                                          properties={"semsim.fingerprint": fingerprint or "",
                                                      "semsim.model_name": model_name or "", "semsim.format": "1"})

    # -- helpers --------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except self._exc as e:
            if getattr(e, "code", None) == 2:
                raise StoreUnavailable(f"Milvus at {self.uri} went away during {what} ({e.message}). "
                                       f"{_start_hint(self.uri)}") from e
            raise

    def _select(self, ids: Sequence[str], fields: Sequence[str] = ("id",)) -> list[dict[str, Any]]:
        """The rows with these ids, by an expression semsim wrote; refuses one that selects any other row."""
        rows = self._call("a lookup", self.client.query, self.collection, filter=ids_expression(ids),
                          output_fields=list(fields), consistency_level=self.lookup_consistency)
        stray = {r["id"] for r in rows} - set(ids)
        if stray:
            raise SemsimError(f"a lookup of {len(ids)} ids in collection {self.collection!r} selected other rows "
                              f"({sorted(stray)[:3]}): refusing to go on. Please report this as a bug of semsim.")
        return rows

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are in the collection (one request per BATCH ids)."""
        ids = check_ids(ids, unique=False)
        found: set[str] = set()
        for lo in range(0, len(ids), BATCH):
            found.update(r["id"] for r in self._select(ids[lo:lo + BATCH]))
        return found

    def _rows(self, vectors: Any, ids: Sequence[str], texts: Sequence[str | None] | None,
              metadata: Any, fingerprint: str | None) -> list[dict[str, Any]]:
        refuse_mixed_vectors(fingerprint, self.fingerprint, self.model_name, f"collection {self.collection!r}")
        v = as_vectors(vectors, self.dim)
        refuse_zero_vectors(v)
        ids = check_ids(ids)
        check_lengths(len(v), ids, texts)
        texts = list(texts) if texts is not None else [None] * len(ids)
        for t in texts:
            if t is not None:
                check_scalar(t, "a text")
        too_long = [i for i, t in zip(ids, texts) if t is not None and len(t.encode()) > MAX_TEXT]
        if too_long:
            raise ValueError(f"texts longer than {MAX_TEXT} bytes (Milvus' limit): ids {too_long[:5]}")
        meta = check_metadata(metadata, len(ids))
        return [{"id": i, "vector": row, "text": t or "", "meta": m}
                for i, row, t, m in zip(ids, v.tolist(), texts, meta)]

    def _write(self, what: str, rows: list[dict[str, Any]]) -> None:
        op = self.client.insert if what == "insert" else self.client.upsert
        for lo in range(0, len(rows), BATCH):
            self._call(what, op, self.collection, rows[lo:lo + BATCH])

    # -- the store protocol ---------------------------------------------------------------
    def add(self, vectors: Any, ids: Sequence[str], texts: Sequence[str | None] | None = None,
            metadata: Sequence[Mapping[str, Scalar] | None] | None = None, fingerprint: str | None = None) -> None:
        """Insert new documents; an id already in the collection raises ValueError and nothing is added."""
        rows = self._rows(vectors, ids, texts, metadata, fingerprint)
        clash = self.existing([r["id"] for r in rows])
        if clash:
            raise ValueError(f"ids already in the collection: {sorted(clash)[:5]} (use upsert to replace them)")
        self._write("insert", rows)

    def upsert(self, vectors: Any, ids: Sequence[str], texts: Sequence[str | None] | None = None,
               metadata: Sequence[Mapping[str, Scalar] | None] | None = None, fingerprint: str | None = None) -> None:
        """Insert documents, replacing any with the same id."""
        self._write("upsert", self._rows(vectors, ids, texts, metadata, fingerprint))

    def delete(self, ids: Iterable[str]) -> int:
        """Delete by id (duplicates count once); unknown ids raise KeyError and nothing is deleted."""
        ids = delete_ids(ids)
        refuse_unknown_ids(set(ids) - self.existing(ids))   # also proves each batch's expression selects only these
        for lo in range(0, len(ids), BATCH):
            self._call("a delete", self.client.delete, self.collection, filter=ids_expression(ids[lo:lo + BATCH]))
        return len(ids)

    def search(self, queries: Any, k: int = 10, fingerprint: str | None = None,
               filter: Filter | None = None) -> list[list[Hit]]:
        """The hits of each query vector, best first (scores are cosines)."""
        refuse_mixed_vectors(fingerprint, self.fingerprint, self.model_name, f"collection {self.collection!r}")
        k = min(check_k(k), 16_384)
        q = as_vectors(queries, self.dim)
        expr = milvus_filter(filter)
        wanted = filter_values(filter) if filter is not None else None
        # Milvus Lite reads `true == 1` as Python does; the server and the FAISS store do not. Every hit is
        # checked against the filter by semsim's own rule, over-fetching a little where numbers are involved.
        loose = wanted is not None and any(isinstance(v, (bool, int, float)) for vs in wanted.values() for v in vs)
        limit = min(2 * k, 16_384) if loose else k
        res = self._call("a search", self.client.search, self.collection, data=q.tolist(), limit=limit, filter=expr,
                         output_fields=["text", "meta"], search_params={"params": self.search_params},
                         consistency_level=self.search_consistency)
        hits = [[Hit(h["id"], float(h["distance"]), h["entity"].get("text") or None, h["entity"].get("meta") or {})
                 for h in row] for row in res]
        return [[h for h in row if wanted is None or matches(h.metadata, wanted)][:k] for row in hits]

    def get(self, doc_id: str) -> tuple[str | None, dict[str, Scalar]]:
        """(text, metadata) of one document; KeyError if it is not in the collection."""
        if not isinstance(doc_id, str) or not doc_id:
            raise KeyError(doc_id)
        rows = self._select(check_ids([doc_id]), ("id", "text", "meta"))
        if not rows:
            raise KeyError(doc_id)
        return rows[0].get("text") or None, rows[0].get("meta") or {}

    def documents(self, batch_size: int = 1000) -> Iterator[tuple[str, str | None, dict[str, Scalar]]]:
        """Every document as (id, text, metadata), read in batches of ``batch_size`` (no order promised).

        Read with the lookup consistency; a document another client writes meanwhile may or may not appear.
        """
        # Milvus Lite keeps no MVCC timestamps: the iterator falls back to the client's clock and logs a
        # warning each time, which says nothing useful to a learner: silenced for this one call.
        quiet = logging.getLogger("pymilvus.client.iterator.query_iterator")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            it = self._call("a read of all documents", self.client.query_iterator, self.collection,
                            batch_size=check_k(batch_size, "batch_size"), output_fields=["id", "text", "meta"],
                            consistency_level=self.lookup_consistency)
        finally:
            quiet.setLevel(level)
        try:
            while True:
                rows = self._call("a read of all documents", it.next)
                if not rows:
                    return
                for r in rows:
                    yield r["id"], r.get("text") or None, r.get("meta") or {}
        finally:
            it.close()

    def __len__(self) -> int:
        rows = self._call("a count", self.client.query, self.collection, filter="", output_fields=["count(*)"],
                          consistency_level=self.lookup_consistency)
        return int(rows[0]["count(*)"])

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str) or not doc_id:
            return False
        try:
            return bool(self.existing(check_ids([doc_id])))
        except (ValueError, TypeError):
            return False

    def flush(self) -> None:
        """Make every acknowledged write durable in the collection's storage now."""
        self._call("a flush", self.client.flush, self.collection)

    def drop(self) -> None:
        """Delete the whole collection (irreversible)."""
        self._call("a drop", self.client.drop_collection, self.collection)

    def close(self) -> None:
        self.client.close()

    def save(self, folder: str | Path, *, extra: Mapping[str, bytes] | None = None, overwrite: bool = False) -> str:
        """Flush, then write where the collection lives (URI and name, never the token) to ``folder``."""
        self.flush()
        folder = Path(folder)
        uri = self.uri if "://" in self.uri else str(Path(self.uri).resolve())
        ref = {"kind": "milvus", "uri": uri, "collection": self.collection, "dim": self.dim,
               "fingerprint": self.fingerprint, "model_name": self.model_name, "search_params": self.search_params}
        files: dict[str, Any] = {"store.json": json.dumps(ref).encode(), **dict(extra or {})}
        expect = self.saved_version if self._saved_folder == folder.resolve() else None
        version, _ = save_version(folder, files, expect=expect, overwrite=overwrite)
        self.saved_version, self._saved_folder, self.extra = version, folder.resolve(), dict(extra or {})
        return version


    @classmethod
    def from_saved(cls, folder: Path, ref: Mapping[str, Any], version: str, extra: Mapping[str, bytes],
                   token: str = "") -> "MilvusStore":
        """Reconnect to the collection a save folder names (``ref``: its store.json), remembering the version."""
        store = cls(ref["uri"], ref["collection"], ref["dim"], model_name=ref["model_name"],
                    fingerprint=ref["fingerprint"], token=token, search_params=ref.get("search_params"))
        store.saved_version, store._saved_folder, store.extra = version, Path(folder).resolve(), dict(extra)
        return store
