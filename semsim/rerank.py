"""Retrieve with a bi-encoder, rerank with a cross-encoder.

A cross-encoder reads query and candidate *together*, so it scores a pair more precisely
than two independent embeddings can, at the cost of one transformer pass per pair.
No pretrained cross-encoder has an offline copy on the course machines, so
:func:`load_reranker` uses ``cross-encoder/ms-marco-MiniLM-L-6-v2`` when it can be had, and
otherwise a cross-encoder that :func:`train_stsb_cross_encoder` trains once from
all-MiniLM-L6-v2 on STS-B (a few minutes on two cores) and keeps in semsim's cache.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import ModelNotAvailable
from .paths import cache_dir
from .index import Hit

HUB_RERANKER = "cross-encoder/ms-marco-MiniLM-L-6-v2"
STSB_RERANKER = "stsb-cross-encoder-MiniLM-L6"


def stsb_cross_encoder_dir() -> Path:
    return cache_dir() / "models" / STSB_RERANKER


def stsb_cross_encoder_trained() -> bool:
    """True once :func:`train_stsb_cross_encoder` has finished (its folder holds the training record)."""
    return (stsb_cross_encoder_dir() / "semsim-training.json").is_file()


def train_stsb_cross_encoder(n_pairs: int | None = None, epochs: int = 1, batch_size: int = 16,
                             learning_rate: float = 1e-4, seed: int = 0, force: bool = False) -> Path:
    """Train (once) a cross-encoder on STS-B train from all-MiniLM-L6-v2; returns its folder.

    The result is cached: a second call returns at once unless ``force``. The folder
    appears only when training has finished (trained in a temporary folder, then renamed).
    """
    target = stsb_cross_encoder_dir()
    if stsb_cross_encoder_trained() and not force:
        return target
    from datasets import Dataset
    from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from .data import load_stsb
    from .models import _quiet_loading, _quiet_trainer, resolve

    train = load_stsb("train")
    if n_pairs is not None:
        train = train.sample(n_pairs, random_state=seed)
    data = Dataset.from_dict({"sentence1": train["sentence1"].tolist(), "sentence2": train["sentence2"].tolist(),
                              "label": (train["score"] / 5.0).tolist()})
    with _quiet_loading():
        model = CrossEncoder(resolve("all-MiniLM-L6-v2").location, num_labels=1, max_length=128, device="cpu")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        args = CrossEncoderTrainingArguments(
            output_dir=str(Path(tmp) / "checkpoints"), num_train_epochs=epochs, per_device_train_batch_size=batch_size,
            learning_rate=learning_rate, warmup_steps=0.1, save_strategy="no", report_to=[], seed=seed,
            logging_steps=10_000, disable_tqdm=True, dataloader_pin_memory=False)
        trainer = _quiet_trainer(CrossEncoderTrainer, model, args=args, train_dataset=data,
                                 loss=BinaryCrossEntropyLoss(model))
        t0 = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t0
        out = Path(tmp) / "model"
        model.save(str(out))
        info = {"base": "all-MiniLM-L6-v2", "data": "STS-B train", "pairs": len(train), "epochs": epochs,
                "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed, "train_seconds": round(seconds, 1)}
        (out / "semsim-training.json").write_text(json.dumps(info, indent=1))
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target


def load_reranker(allow_training: bool = True, verbose: bool = True) -> Any:
    """The hub's ms-marco cross-encoder when it can be had, else the cached STS-B one.

    The model gets ``semsim_source`` (what was used) like :func:`semsim.models.load_model`.
    """
    from .models import ResolvedModel, load_cross_encoder

    try:
        return load_cross_encoder(HUB_RERANKER, verbose=verbose)
    except ModelNotAvailable:
        if not allow_training and not stsb_cross_encoder_trained():
            raise
    folder = train_stsb_cross_encoder()
    model = load_cross_encoder(str(folder), verbose=False)
    info = json.loads((folder / "semsim-training.json").read_text())
    model.semsim_source = ResolvedModel(HUB_RERANKER, STSB_RERANKER, f"trained here on {info['pairs']} STS-B pairs",
                                        str(folder), substitute_for=HUB_RERANKER)
    if verbose:
        print(f"[semsim] reranker: {model.semsim_source}")
    return model


def rerank(cross_encoder: Any, query: str, hits: Sequence[Hit], top_k: int | None = None,
           batch_size: int = 32) -> list[Hit]:
    """Re-score bi-encoder hits with a cross-encoder; best first (scores are the cross-encoder's)."""
    if not hits:
        return []
    texts = [h.text for h in hits]
    if any(t is None for t in texts):
        raise ValueError("reranking needs the hits' texts; add texts to the index")
    scores = np.asarray(cross_encoder.predict([(query, t) for t in texts], batch_size=batch_size, show_progress_bar=False))
    order = np.argsort(-scores, kind="stable")[: top_k or len(hits)]
    return [Hit(hits[i].id, float(scores[i]), hits[i].text) for i in order]
