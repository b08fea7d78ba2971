"""The vocabulary of semsim's vector stores: hits, filters, the checks every store runs, the
one model-mismatch refusal, and the :class:`Store` protocol (taught in notebooks 05 and 10).

Both stores (the FAISS :class:`~semsim.search.index.VectorIndex` and the Milvus
:class:`~semsim.search.milvus.MilvusStore`) and the engine take their rules from here, so a
rule (what an id may be, what a filter means, when two models' vectors are refused) is
written once and holds on every store. Nothing here imports FAISS or pymilvus.

Metadata values are typed as JSON types are: ``True``, ``1`` and ``"1"`` are three values;
``1`` and ``1.0`` are the same number (kept as written).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence, Union, runtime_checkable

import numpy as np

from ..errors import IndexMismatch

Scalar = Union[str, int, float, bool]
Filter = Mapping[str, Union[Scalar, Sequence[Scalar]]]
RESERVED = {"id", "text", "vector", "row"}
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # metadata field names: plain ASCII identifiers


def value_key(value: Scalar) -> tuple[str, Scalar]:
    """How a metadata value is told apart: True, 1 and "1" are three values; 1 and 1.0 are equal
    numbers but kept as written (as JSON and Milvus do)."""
    return ("b" if isinstance(value, bool) else "i" if isinstance(value, int) else
            "f" if isinstance(value, float) else "s", value)


def matching_keys(value: Scalar) -> list[tuple[str, Scalar]]:
    """The value keys a filter value matches: a number matches the same number written as int or float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [value_key(value)]
    return [("i", value), ("f", value)]


def matches(metadata: Mapping[str, Scalar] | None, values: Mapping[str, list[Scalar]]) -> bool:
    """True if ``metadata`` passes a checked filter (:func:`filter_values`) by the rules of :func:`matching_keys`."""
    meta = metadata or {}
    return all(key in meta and value_key(meta[key]) in {k for v in want for k in matching_keys(v)}
               for key, want in values.items())


def check_field(key: object) -> str:
    """A metadata field name: an ASCII identifier of at most 64 characters, not a reserved name."""
    if not isinstance(key, str) or not FIELD.match(key) or key in RESERVED:
        raise ValueError(f"metadata field {key!r}: use a plain identifier (letters, digits, _; at most 64) "
                         f"other than {sorted(RESERVED)}")
    return key


def check_scalar(value: object, where: str) -> Scalar:
    """A metadata or filter value: str, int, float (finite) or bool; strings must be valid Unicode."""
    if not isinstance(value, (str, int, float, bool)) or (isinstance(value, float) and not np.isfinite(value)):
        raise TypeError(f"{where}={value!r}: values must be str, int, finite float or bool")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where}: {value!r} is not valid Unicode text (a lone surrogate)") from None
    return value


@dataclass(frozen=True)
class Hit:
    """One search result: the document's id, its score (a cosine for metric="cosine"), text and metadata."""

    id: str
    score: float
    text: str | None = None
    metadata: Mapping[str, Scalar] | None = None


def refuse_other_model(where: Any, meta: Mapping[str, Any], fingerprint: str, using: str) -> None:
    """Raise IndexMismatch unless the saved ``meta`` was built by the model with ``fingerprint``.

    The one model-mismatch refusal of semsim: indexes, stores and engines all call it.
    """
    if meta.get("fingerprint") != fingerprint:
        raise IndexMismatch(f"{where} was built with {meta.get('model_name')} (fingerprint {meta.get('fingerprint')}), "
                            f"not with {using} (fingerprint {fingerprint}); re-index with one model.")


def refuse_mixed_vectors(fingerprint: str | None, own: str | None, own_name: str | None, where: str) -> None:
    """Raise IndexMismatch when vectors or queries of model ``fingerprint`` meet a store of model ``own``.

    Either side unknown (None) passes: a store learns its model from the first vectors added."""
    if fingerprint and own and fingerprint != own:
        raise IndexMismatch(f"these vectors come from another model (fingerprint {fingerprint}) than {where} "
                            f"({own_name or '?'}, fingerprint {own}): scores between them would be meaningless. "
                            "Re-encode with one model.")


def as_vectors(x: Any, dim: int | None = None) -> np.ndarray:
    """A C-contiguous float32 matrix of vectors; refuses NaN/inf and another dimension."""
    if np.iscomplexobj(x):
        raise TypeError("vectors must be real numbers, not complex")
    try:
        v = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise TypeError(f"vectors must be numbers ({e})") from None
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


MAX_ID = 512  # bytes of an id in UTF-8 (Milvus' primary key limit; the same on every store)


def check_ids(ids: Any, unique: bool = True) -> list[str]:
    """Ids as a list of non-empty, valid Unicode strings of at most MAX_ID bytes (unique if asked)."""
    if isinstance(ids, str):
        raise TypeError("give a list of ids, not one string")
    ids = list(ids)
    for i in ids:
        if not isinstance(i, str) or not i:
            raise ValueError(f"ids must be non-empty strings, not {i!r}")
        check_scalar(i, "an id")
        if len(i.encode("utf-8")) > MAX_ID:
            raise ValueError(f"ids must be at most {MAX_ID} bytes (UTF-8): {i[:40]!r}...")
    if unique and len(set(ids)) != len(ids):
        raise ValueError("ids must be unique within the call")
    return ids


def check_k(k: Any, name: str = "k") -> int:
    """``k`` as an int: TypeError unless an int or numpy integer (not bool), ValueError unless positive."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, not {k!r}")
    if k < 1:
        raise ValueError(f"{name} must be a positive integer, not {k!r}")
    return int(k)


def check_metadata(metadata: Any, n: int) -> list[dict[str, Scalar]]:
    """``n`` metadata dicts (None -> empty): field names are identifiers, values scalars."""
    if metadata is None:
        return [{} for _ in range(n)]
    if isinstance(metadata, Mapping) or len(metadata) != n:
        raise ValueError(f"metadata must be a list of {n} dicts, one per document")
    out = []
    for m in metadata:
        m = {} if m is None else m
        if not isinstance(m, Mapping):
            raise TypeError(f"metadata must be dicts, not {type(m).__name__}")
        for key, value in m.items():
            check_scalar(value, f"metadata {check_field(key)}")
        out.append(dict(m))
    return out


def filter_values(flt: Filter) -> dict[str, list[Scalar]]:
    """A filter as {field: [accepted values]}, checked: a non-empty dict of scalars or lists of scalars."""
    if not isinstance(flt, Mapping) or not flt:
        raise TypeError("a filter is a non-empty dict {field: value or list of values}")
    out = {}
    for key, want in flt.items():
        check_field(key)
        values = list(want) if isinstance(want, (list, tuple, set, frozenset)) else [want]
        if not values:
            raise TypeError(f"filter {key}={want!r}: give a scalar or a non-empty list of scalars")
        out[key] = [check_scalar(v, f"filter {key}") for v in values]
    return out


def check_lengths(n: int, ids: Sequence[Any], texts: Sequence[Any] | None) -> None:
    """Refuse ids or texts that do not come one per vector."""
    if len(ids) != n or (texts is not None and len(texts) != n):
        raise ValueError(f"{n} vectors but {len(ids)} ids / {None if texts is None else len(texts)} texts")


def refuse_zero_vectors(vectors: np.ndarray) -> None:
    """Cosine is undefined for a zero vector (an empty text, often): refuse it."""
    if (np.linalg.norm(vectors, axis=1) == 0).any():
        raise ValueError("a zero vector has no direction (an empty text?); cosine is undefined")


def refuse_unknown_ids(unknown: Iterable[str]) -> None:
    """Deletes are all-or-nothing: any unknown id refuses the whole call."""
    unknown = sorted(unknown)
    if unknown:
        raise KeyError(f"unknown ids: {unknown[:5]} (nothing was deleted)")


def delete_ids(ids: Any) -> list[str]:
    """The ids of a delete call, checked, duplicates counted once (in order)."""
    if isinstance(ids, str):
        raise TypeError("delete() takes a list of ids, not one string")
    return list(dict.fromkeys(check_ids(ids, unique=False)))


def check_query(query: Any) -> str:
    """A query: a non-empty string (TypeError for another type, ValueError for an empty one)."""
    if not isinstance(query, str):
        raise TypeError(f"a query must be a string, not {type(query).__name__}")
    if not query.strip():
        raise ValueError("a query must be a non-empty string")
    return query


@runtime_checkable
class Store(Protocol):
    """What the engine needs from a vector store (the FAISS VectorIndex and MilvusStore have it)."""

    dim: int
    fingerprint: str | None
    model_name: str | None
    saved_version: str | None
    extra: dict[str, bytes]

    def add(self, vectors: Any, ids: Sequence[str], texts: Sequence[str | None] | None = None,
            metadata: Sequence[Mapping[str, Scalar] | None] | None = None, fingerprint: str | None = None) -> None: ...
    def upsert(self, vectors: Any, ids: Sequence[str], texts: Sequence[str | None] | None = None,
               metadata: Sequence[Mapping[str, Scalar] | None] | None = None, fingerprint: str | None = None) -> None: ...
    def delete(self, ids: Iterable[str]) -> int: ...
    def existing(self, ids: Sequence[str]) -> set[str]: ...
    def search(self, queries: Any, k: int = 10, fingerprint: str | None = None,
               filter: Filter | None = None) -> list[list[Hit]]: ...
    def get(self, doc_id: str) -> tuple[str | None, dict[str, Scalar]]: ...
    def documents(self) -> Iterator[tuple[str, str | None, dict[str, Scalar]]]: ...
    def save(self, folder: str | Path, *, extra: Mapping[str, bytes] | None = None, overwrite: bool = False) -> str: ...
    def __len__(self) -> int: ...
    def __contains__(self, doc_id: object) -> bool: ...
