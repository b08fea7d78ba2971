"""The segments of a saved FAISS store: what a save adds, and reading them back, checked.

A save of :class:`~semsim.search.index.VectorIndex` adds one *segment* holding only the
rows added since the previous save: ``seg-<first row>-<count>.json`` (rows, ids, texts,
metadata columns) and, except for IVF-PQ, ``seg-....npy`` (their vectors), plus
``dead.npy``, every row of a kept segment that has been deleted since. So a save costs
what changed, not the corpus. Reading checks that every part agrees with every other
before an index is built from it: counts, row ranges, repeated rows, types of ids,
texts and metadata values, and the shape of the vectors.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import IndexMismatch
from ..files import parse_json
from .vectors import Scalar, check_field, check_ids, check_scalar

MAX_GAP_ROWS = 1 << 20  # rows a save may skip (added and deleted before any save) beyond 64x its stored rows


def segment_files(rows: np.ndarray, ids: Sequence[str | None], texts: Sequence[str | None],
                  metadata: Mapping[str, Sequence[Scalar | None]],
                  vectors: np.ndarray | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest entry and the files of one new segment (``vectors`` None: IVF-PQ, codes only)."""
    name = f"seg-{int(rows[0]):012d}-{len(rows)}"
    docs = {"rows": rows.tolist(), "ids": list(ids), "texts": list(texts), "metadata": {f: list(c) for f, c in metadata.items()}}
    files: dict[str, Any] = {f"{name}.json": json.dumps(docs).encode()}
    if vectors is not None:
        files[f"{name}.npy"] = vectors
    return {"name": name, "rows": len(rows), "vectors": vectors is not None}, files


def segment_names(segments: Sequence[Mapping[str, Any]]) -> set[str]:
    """The file names the segments of a save use."""
    return {f"{s['name']}.{ext}" for s in segments for ext in ("json", "npy")}


@dataclass
class Documents:
    """What the segments of a save hold, by row: ids and texts (None for deleted rows), metadata,
    which rows are alive, which rows some segment holds, and the vectors of the live rows."""

    ids: list[str | None]
    texts: list[str | None]
    meta: list[dict[str, Scalar]]
    alive: np.ndarray
    in_segment: np.ndarray
    vectors: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)  # (rows, vectors, keep)


def read_segments(where: str, data: Mapping[str, Any], segments: Any, next_row: int, dim: int) -> Documents:
    """Read and check every segment of a save (``data``: its files by name, as read_version gives them)."""
    try:
        dead = set(np.asarray(data["dead.npy"], dtype=np.int64).tolist())
        if not isinstance(segments, list):
            raise TypeError("the list of segments is not a list")
        stored = sum(int(s["rows"]) for s in segments)
        if not 0 <= next_row <= 64 * stored + MAX_GAP_ROWS:
            raise IndexMismatch(f"{where}: index.json counts {next_row:,} rows for {stored:,} stored ones: "
                                "the save is damaged or was not written by semsim.")
        docs_out = Documents([None] * next_row, [None] * next_row, [{} for _ in range(next_row)],
                             np.zeros(next_row, dtype=bool), np.zeros(next_row, dtype=bool))
        for s in segments:
            _read_one(where, data, s, dead, next_row, dim, docs_out)
    except KeyError as e:
        raise IndexMismatch(f"{where} is missing {e}: the save is incomplete or not a semsim index.") from e
    except (ValueError, TypeError, AttributeError, OverflowError) as e:
        raise IndexMismatch(f"{where}: a segment is not valid ({type(e).__name__}: {str(e)[:200]}).") from e
    live = [i for i in docs_out.ids if i is not None]
    if len(set(live)) != len(live):
        raise IndexMismatch(f"{where}: the same id appears twice: the save does not belong together.")
    return docs_out


def _read_one(where: str, data: Mapping[str, Any], s: Mapping[str, Any], dead: set[int], next_row: int, dim: int,
              out: Documents) -> None:
    docs = parse_json(data[f"{s['name']}.json"], f"{where}: segment {s['name']}")
    rows = np.asarray(docs["rows"], dtype=np.int64)
    fields = docs["metadata"]
    if len(docs["ids"]) != len(rows) or len(docs["texts"]) != len(rows) or s["rows"] != len(rows) or (
            len(rows) and (rows.min() < 0 or rows.max() >= next_row)) or any(
            len(col) != len(rows) for col in fields.values()):
        raise IndexMismatch(f"{where}: segment {s['name']} has {len(rows)} rows, {len(docs['ids'])} ids "
                            f"and {len(docs['texts'])} texts: they do not belong together.")
    if len(rows) and out.in_segment[rows].any():
        raise IndexMismatch(f"{where}: segment {s['name']} repeats rows of another segment: "
                            "the save does not belong together.")
    check_ids(docs["ids"], unique=False)
    if not all(t is None or isinstance(t, str) for t in docs["texts"]):
        raise TypeError(f"segment {s['name']} holds a text that is not a string")
    for f, col in fields.items():
        check_field(f)
        for v in col:
            if v is not None:
                check_scalar(v, f"metadata {f}")
    out.in_segment[rows] = True
    keep = np.array([r not in dead for r in rows.tolist()], dtype=bool)
    for j, r in enumerate(rows.tolist()):
        if keep[j]:
            out.ids[r], out.texts[r], out.alive[r] = docs["ids"][j], docs["texts"][j], True
            out.meta[r] = {f: col[j] for f, col in fields.items() if col[j] is not None}
    if s.get("vectors"):
        vecs = data[f"{s['name']}.npy"]
        if vecs.shape != (len(rows), dim) or vecs.dtype != np.float32:
            raise IndexMismatch(f"{where}: segment {s['name']} holds vectors of shape {vecs.shape} "
                                f"for {len(rows)} rows of dimension {dim}: they do not belong together.")
        out.vectors.append((rows[keep], vecs, keep))
