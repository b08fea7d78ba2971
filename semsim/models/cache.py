"""An on-disk embedding cache keyed by model and text content: nothing is encoded twice.

Layout: ``<folder>/<model fingerprint>/<shard>.npy`` with ``<shard>.keys.json`` beside it
(the sha256 of each text in row order, the shard's size and checksum). A shard is
written to its final name, fsynced, and counts only once its keys file has been
renamed into place, so a crash never leaves a half-shard that is read. A shard that is
damaged anyway (a disk error, a manual edit) is skipped with a warning and its texts
are encoded again: a cache can lose speed, never data. No pickle anywhere.

A model that returns NaN or infinite values is refused before anything is written, so a
broken model never poisons the cache. A cache folder on read-only media (a classroom's
shared copy) is read as usual; new embeddings are then kept in memory only, with a warning.

Every ``encode`` call that meets new texts writes one small shard; shards of similar
size are merged four at a time (an LSM-style tiering), so adding 100,000 texts in 1,000
calls leaves a few dozen shards, not a thousand. Merging happens under an exclusive lock
and opening under a shared one, so processes can share one cache folder.
"""
from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import uuid
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .identity import identity
from ..errors import SemsimError
from ..files import file_sha256, flocked, fsync_dir, publish_file, read_limited, write_synced

_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)

MERGE_FANIN = 4  # merge this many shards of the same size tier into one


def text_key(text: str) -> str:
    """The cache key of a text: its sha256 (first 32 hex digits), never the text itself."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _tier(rows: int) -> int:
    return int(math.log(max(rows, 1), MERGE_FANIN))


class EmbeddingCache:
    """Encode texts with ``model``, reusing every embedding computed before (normalised)."""

    def __init__(self, folder: str | Path | None, model: Any) -> None:
        """``folder``: where shards go (one sub-folder per model); None keeps them in memory only."""
        self.model = model
        self.identity = identity(model)
        self.fingerprint = self.identity.fingerprint
        self.dim = int(model.get_embedding_dimension())
        self._where: dict[str, tuple[str, int]] = {}
        self._shards: dict[str, np.ndarray] = {}
        self._shard_keys: dict[str, list[str]] = {}
        self._damaged: set[str] = set()
        self.hits = self.misses = 0
        self.read_only = False
        self.folder = None if folder is None else Path(folder) / self.fingerprint
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            if e.errno not in _READ_ONLY:
                raise
            if not self.folder.is_dir():
                warnings.warn(f"embedding cache: {self.folder} cannot be created ({e.strerror}); "
                              "embeddings are kept in memory only")
                self.folder = None
                return
        self.read_only = not os.access(self.folder, os.W_OK)
        if self.read_only:
            warnings.warn(f"embedding cache: {self.folder} is read-only; cached embeddings are used, "
                          "new ones are kept in memory only")
        with flocked(self.folder / ".lock", shared=True):
            for keys_file in sorted(self.folder.glob("*.keys.json")):
                if self._read_shard(keys_file) is None:
                    self._damaged.add(keys_file.name[: -len(".keys.json")])

    def _read_shard(self, keys_file: Path) -> tuple[str, list[str]] | None:
        shard = keys_file.name[: -len(".keys.json")]
        npy = self.folder / f"{shard}.npy"
        try:
            info = json.loads(read_limited(keys_file, 1 << 30))
            if isinstance(info, list):  # format 1: just the keys, no checksum
                info = {"keys": info}
            keys = info["keys"]
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise ValueError("its keys are not a list of strings")
            if "sha256" in info and (npy.stat().st_size != info["bytes"] or file_sha256(npy) != info["sha256"]):
                raise ValueError("checksum mismatch")
            vecs = np.load(npy, mmap_mode="r", allow_pickle=False)
            if vecs.shape != (len(keys), self.dim):
                raise ValueError(f"shape {vecs.shape} does not match {len(keys)} keys of dimension {self.dim}")
        except FileNotFoundError:
            return None  # merged away by another process while we listed the folder
        except (OSError, ValueError, KeyError, TypeError, RecursionError, SemsimError) as e:
            warnings.warn(f"embedding cache: skipping damaged shard {shard} ({str(e)[:200]}); "
                          "its texts will be re-encoded")
            return None
        self._shards[shard], self._shard_keys[shard] = vecs, keys
        for row, key in enumerate(keys):
            self._where[key] = (shard, row)
        return shard, keys

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, text: str) -> bool:
        return text_key(text) in self._where

    @property
    def shards(self) -> int:
        """How many shard files this cache has open (memory maps)."""
        return len(self._shards)

    def lookup(self, text: str) -> np.ndarray | None:
        """The cached embedding of ``text``, or None (nothing is encoded or written)."""
        where = self._where.get(text_key(text))
        return None if where is None else np.asarray(self._shards[where[0]][where[1]], dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = False,
               remember: bool = True) -> np.ndarray:
        """Embeddings of ``texts`` (rows in order); only texts never seen are encoded.

        ``remember=False``: texts not in the cache are encoded but not written to it (a search
        engine's queries: users' questions have no place on disk)."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not one string")
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise TypeError(f"texts must be strings; positions {bad[:5]} are not")
        keys = [text_key(t) for t in texts]
        todo = list(dict.fromkeys(k_t for k_t in zip(keys, texts) if k_t[0] not in self._where))
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            new = np.asarray(self.model.encode([t for _, t in todo], batch_size=batch_size,
                                               normalize_embeddings=True, show_progress_bar=show_progress_bar),
                             dtype=np.float32)
            if new.shape != (len(todo), self.dim):
                raise ValueError(f"the model returned shape {new.shape} for {len(todo)} texts of dimension {self.dim}")
            bad = ~np.isfinite(new).all(axis=1)
            if bad.any():
                first = todo[int(np.flatnonzero(bad)[0])][1]
                raise ValueError(f"the model returned NaN or infinite values for {int(bad.sum())} of {len(todo)} texts "
                                 f"(the first: {first[:60]!r}); nothing was cached. Check the model (a damaged or "
                                 "badly quantised copy?) before encoding again.")
            if remember:
                self._write_shard([k for k, _ in todo], new)
                self._merge()
        fresh = {} if remember or not todo else {k: row for (k, _), row in zip(todo, new)}
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in fresh:
                out[i] = fresh[key]
            else:
                shard, row = self._where[key]
                out[i] = self._shards[shard][row]
        return out

    def _write_shard(self, keys: list[str], vecs: np.ndarray) -> str:
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        shard = uuid.uuid4().hex[:12]
        if self.folder is None or self.read_only:  # in memory only
            self._shards[shard], self._shard_keys[shard] = vecs, keys
            self._where.update((key, (shard, row)) for row, key in enumerate(keys))
            return shard
        npy = self.folder / f"{shard}.npy"
        digest = write_synced(npy, vecs)
        info = {"format": 2, "rows": len(keys), "dim": self.dim, "bytes": npy.stat().st_size, "sha256": digest,
                "keys": keys}
        publish_file(self.folder / f"{shard}.keys.json", json.dumps(info).encode())  # the shard counts from here on
        header = info["bytes"] - vecs.nbytes  # map what was just written (no header parsing)
        self._shards[shard] = np.memmap(npy, dtype=np.float32, mode="r", shape=vecs.shape, offset=header)
        self._shard_keys[shard] = keys
        for row, key in enumerate(keys):
            self._where[key] = (shard, row)
        return shard

    def _merge(self) -> None:
        """Merge shards of the same size tier, MERGE_FANIN at a time, until no tier is full."""
        if self.folder is None or self.read_only:
            return
        with flocked(self.folder / ".lock"):
            while True:
                shards: dict[str, list[str]] = {}  # the valid shards on disk now (others may have written some)
                for keys_file in sorted(self.folder.glob("*.keys.json")):
                    name = keys_file.name[: -len(".keys.json")]
                    if name in self._damaged:
                        continue  # a damaged shard is never merged, nor deleted
                    if name in self._shards:
                        shards[name] = self._shard_keys[name]
                        continue
                    read = self._read_shard(keys_file)
                    if read is None:
                        self._damaged.add(name)
                    else:
                        shards[name] = read[1]
                tiers: dict[int, list[str]] = {}
                for name, keys in sorted(shards.items(), key=lambda kv: len(kv[1])):
                    tiers.setdefault(_tier(len(keys)), []).append(name)
                full = [names[:MERGE_FANIN] for _, names in sorted(tiers.items()) if len(names) >= MERGE_FANIN]
                if not full:
                    return
                group = full[0]
                self._write_shard([k for s in group for k in shards[s]], np.concatenate([self._shards[s] for s in group]))
                for s in group:  # the merged shard holds every key now: the parts can go
                    (self.folder / f"{s}.keys.json").unlink(missing_ok=True)
                    (self.folder / f"{s}.npy").unlink(missing_ok=True)
                    del self._shards[s], self._shard_keys[s]
                fsync_dir(self.folder)


def cached_encoder(model: Any, folder: str | Path | None = None) -> EmbeddingCache:
    """An EmbeddingCache in semsim's cache folder (or ``folder``), for notebooks."""
    from ..paths import cache_dir

    return EmbeddingCache(Path(folder) if folder else cache_dir() / "embeddings", model)
