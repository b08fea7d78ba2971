"""An on-disk embedding cache keyed by model and text content: nothing is encoded twice.

Layout: ``<folder>/<model fingerprint>/<shard>.npy`` with ``<shard>.keys.json`` beside it
(the sha256 of each text, in row order). Shards are written to a temporary name, fsynced
and renamed, so a crash never leaves a half-written shard under its final name. A shard
that is damaged anyway (a disk error, a manual edit) is skipped with a warning and its
texts are simply encoded again: a cache can lose speed, never data. No pickle anywhere.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .models import fingerprint


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Encode texts with ``model``, reusing every embedding computed before (normalised)."""

    def __init__(self, folder: str | Path, model: Any) -> None:
        self.model = model
        self.fingerprint = fingerprint(model)
        self.folder = Path(folder) / self.fingerprint
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dim = int(model.get_embedding_dimension())
        self._where: dict[str, tuple[str, int]] = {}
        self._shards: dict[str, np.ndarray] = {}
        self.hits = self.misses = 0
        for keys_file in sorted(self.folder.glob("*.keys.json")):
            self._read_shard(keys_file)

    def _read_shard(self, keys_file: Path) -> None:
        shard = keys_file.name[: -len(".keys.json")]
        try:
            keys = json.loads(keys_file.read_text())
            vecs = np.load(self.folder / f"{shard}.npy", mmap_mode="r", allow_pickle=False)
            if vecs.shape != (len(keys), self.dim):
                raise ValueError(f"shape {vecs.shape} does not match {len(keys)} keys of dimension {self.dim}")
        except (OSError, ValueError) as e:
            warnings.warn(f"embedding cache: skipping damaged shard {shard} ({e}); its texts will be re-encoded")
            return
        self._shards[shard] = vecs
        for row, key in enumerate(keys):
            self._where[key] = (shard, row)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, text: str) -> bool:
        return text_key(text) in self._where

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = False) -> np.ndarray:
        """Embeddings of ``texts`` (rows in order); only texts never seen are encoded."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not one string")
        keys = [text_key(t) for t in texts]
        todo = list(dict.fromkeys(k_t for k_t in zip(keys, texts) if k_t[0] not in self._where))
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            new = np.asarray(self.model.encode([t for _, t in todo], batch_size=batch_size,
                                               normalize_embeddings=True, show_progress_bar=show_progress_bar),
                             dtype=np.float32)
            self._write_shard([k for k, _ in todo], new)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            shard, row = self._where[key]
            out[i] = self._shards[shard][row]
        return out

    def _write_shard(self, keys: list[str], vecs: np.ndarray) -> None:
        shard = uuid.uuid4().hex[:12]
        tmp = self.folder / f".{shard}.tmp"
        with open(tmp, "wb") as f:
            np.save(f, vecs, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / f"{shard}.npy")
        keys_tmp = self.folder / f".{shard}.keys.tmp"
        keys_tmp.write_text(json.dumps(keys))
        os.replace(keys_tmp, self.folder / f"{shard}.keys.json")  # the shard counts from here on
        self._shards[shard] = vecs
        for row, key in enumerate(keys):
            self._where[key] = (shard, row)


def cached_encoder(model: Any, folder: str | Path | None = None) -> EmbeddingCache:
    """An EmbeddingCache in semsim's cache folder (or ``folder``), for notebooks."""
    from .paths import cache_dir

    return EmbeddingCache(Path(folder) if folder else cache_dir() / "embeddings", model)
