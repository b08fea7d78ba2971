"""Reopening a saved store, whichever it is (taught in notebook 10).

``store.save(folder)`` writes either a whole FAISS index (:class:`~semsim.search.index.VectorIndex`)
or a reference to a Milvus collection (:class:`~semsim.search.milvus.MilvusStore`: its URI and
name, never its token). :func:`load_store` reads the folder once and reopens the right one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import IndexMismatch
from ..files import parse_json
from ..storage import current_version, read_version
from .index import VectorIndex
from .vectors import Store, refuse_other_model


def load_store(folder: str | Path, expect_fingerprint: str | None = None, token: str = "") -> Store:
    """Reopen the store saved in ``folder``: a VectorIndex, or a MilvusStore (give its ``token``)."""
    folder = Path(folder)
    if current_version(folder) is None:
        raise IndexMismatch(f"{folder} holds no semsim save: wrong folder, or it was never saved.")
    saved = read_version(folder)
    if "index.json" in saved.files:
        return VectorIndex.from_version(saved, expect_fingerprint=expect_fingerprint)
    if "store.json" not in saved.files:
        raise IndexMismatch(f"{folder} holds a semsim save, but neither an index nor a store reference.")
    try:
        ref: Any = parse_json(saved.data["store.json"], f"{folder}: store.json")
        if not isinstance(ref, dict):
            raise TypeError("store.json does not hold an object")
        if ref.get("kind") != "milvus":
            raise ValueError(f"unknown store kind {ref.get('kind')!r}")
        if expect_fingerprint and ref["fingerprint"]:
            refuse_other_model(folder, ref, expect_fingerprint, "the model you are using")
        from .milvus import MilvusStore   # pymilvus only where a Milvus save is reopened

        extra = {n: bytes(d) for n, d in saved.data.items() if n != "store.json" and isinstance(d, bytes)}
        return MilvusStore.from_saved(folder, ref, saved.version, extra, token=token)
    except (KeyError, ValueError, TypeError) as e:
        raise IndexMismatch(f"{folder}: store.json is not valid ({type(e).__name__}: {e}).") from e
