"""A static embedding model, distilled once at set-up from all-MiniLM-L6-v2 (measured in notebook 04).

A *static* model keeps one vector per token of the vocabulary and embeds a sentence as the
mean of its tokens' vectors: no transformer runs at encoding time, so it encodes orders of
magnitude faster, and loses quality (notebook 04 measures both). ``model2vec``'s ``distill``
makes such a model from a sentence-transformers model: it passes every token of the
tokenizer's vocabulary through the model once and keeps the outputs (reduced by PCA).
That takes minutes, so set-up does it once (``make prepare``, or ``make course`` in the
background) and keeps the result in semsim's cache; :func:`load_static` loads it through
sentence-transformers' ``StaticEmbedding``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import ModelNotAvailable
from ..files import flocked, lock_is_held, publish_dir
from ..paths import cache_dir
from .identity import remember, source
from .locate import ResolvedModel, resolve

STATIC_NAME = "static-MiniLM-L6-distilled"
BASE = "all-MiniLM-L6-v2"
PCA_DIMS = 256
RECORD = "semsim-distill.json"


def static_model_dir() -> Path:
    """Where the distilled model lives (in semsim's cache)."""
    return cache_dir() / "models" / STATIC_NAME


def static_model_ready() -> bool:
    """True once :func:`distill_static` has finished."""
    return (static_model_dir() / RECORD).is_file()


def _lock() -> Path:
    return cache_dir() / "models" / f".{STATIC_NAME}.lock"


def distill_static(force: bool = False) -> Path:
    """Distil (once) the static model from all-MiniLM-L6-v2 with ``model2vec.distill``; returns its folder.

    Runs hold a lock, so a second call waits for the first and then returns its result."""
    target = static_model_dir()
    if static_model_ready() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with flocked(_lock()):
        if static_model_ready() and not force:
            return target
        return publish_dir(target, _distill, complete=RECORD, replace=force)


def _distill(out: Path) -> None:
    from model2vec.distill import distill

    base = resolve(BASE, allow_substitute=False)
    t0 = time.perf_counter()
    model = distill(model_name=base.location, pca_dims=PCA_DIMS)   # every vocabulary token through MiniLM, then PCA
    seconds = time.perf_counter() - t0
    model.save_pretrained(str(out))
    info = {"base": BASE, "pca_dims": PCA_DIMS, "vocabulary": int(model.embedding.shape[0]),
            "distill_seconds": round(seconds, 1)}
    (out / RECORD).write_text(json.dumps(info, indent=1))


def load_static(verbose: bool = True) -> Any:
    """The distilled static model as a SentenceTransformer (``StaticEmbedding`` module); waits for a
    distillation running in the background; raises ModelNotAvailable if set-up never made it."""
    if not static_model_ready():
        if lock_is_held(_lock()):
            print("[semsim] the static model is being distilled in the background (started by `make course`); "
                  "waiting for it ...", flush=True)
        else:
            raise ModelNotAvailable(
                "The static model of notebook 04 is not distilled yet. Make it once (a minute or two on two cores, "
                "about 1 GB of memory): `make prepare`, or `python -m semsim prepare --with-trained`; then run "
                "this cell again.")
    folder = distill_static()
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    model = SentenceTransformer(modules=[StaticEmbedding.from_model2vec(str(folder))], device="cpu")
    info = json.loads((folder / RECORD).read_text())
    remember(model, ResolvedModel(STATIC_NAME, STATIC_NAME, f"distilled here from {BASE} "
                                  f"({info['vocabulary']:,} tokens, {info['pca_dims']} dimensions)", str(folder)),
             "sentence-transformers (static)")
    if verbose:
        print(f"[semsim] model: {source(model)}")
    return model
