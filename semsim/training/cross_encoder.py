"""Notebook 07's reranker: a cross-encoder trained here, once, from all-MiniLM-L6-v2 on STS-B.

No pretrained cross-encoder has an offline copy, so set-up (``make prepare``, or ``make
course`` in the background) trains one with sentence-transformers' ``CrossEncoderTrainer``
and keeps it in semsim's cache. :func:`load_reranker` gives that model, waiting for a
training that is still running. The hub's ``cross-encoder/ms-marco-MiniLM-L6-v2`` is used
only when the learner opts in to hub models (``SEMSIM_USE_HUB=1``): by default the course
runs with the same models online and offline, the ones its outputs were measured with.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import ModelNotAvailable
from ..paths import cache_dir, hub_allowed
from ..files import flocked, lock_is_held, publish_dir
from ..models.identity import remember, source
from ..models.load import load_cross_encoder, quiet_loading
from ..models.locate import ResolvedModel, resolve
from ..models.registry import spec
from .bi_encoder import quiet_trainer

STSB_RERANKER = "stsb-cross-encoder-MiniLM-L6"
RECORD = "semsim-training.json"


def stsb_cross_encoder_dir() -> Path:
    """Where the trained cross-encoder lives (in semsim's cache)."""
    return cache_dir() / "models" / STSB_RERANKER


def stsb_cross_encoder_trained() -> bool:
    """True once :func:`train_stsb_cross_encoder` has finished (its folder holds the training record)."""
    return (stsb_cross_encoder_dir() / RECORD).is_file()


def stsb_training_lock() -> Path:
    """The lock file a training run holds: a second run (or notebook 07) waits on it."""
    return cache_dir() / "models" / f".{STSB_RERANKER}.lock"


def stsb_training_in_progress() -> bool:
    """True while another process trains the cross-encoder (``make course`` starts one in the background)."""
    return lock_is_held(stsb_training_lock())


def train_stsb_cross_encoder(n_pairs: int | None = None, epochs: int = 1, batch_size: int = 16,
                             learning_rate: float = 1e-4, seed: int = 0, force: bool = False) -> Path:
    """Train (once) a cross-encoder on STS-B train from all-MiniLM-L6-v2; returns its folder.

    The result is cached: a second call returns at once unless ``force``. The folder appears
    only when training has finished, and a forced retraining swaps the new folder in whole.
    Runs hold a lock: a call made while another process trains waits for it, then returns
    its result instead of training a second time.
    """
    target = stsb_cross_encoder_dir()
    if stsb_cross_encoder_trained() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with flocked(stsb_training_lock()):
        if stsb_cross_encoder_trained() and not force:
            return target  # another process finished while we waited
        return publish_dir(target, lambda out: _train(out, n_pairs, epochs, batch_size, learning_rate, seed),
                           complete=RECORD, replace=force)


def _train(out: Path, n_pairs: int | None, epochs: int, batch_size: int, learning_rate: float, seed: int) -> None:
    """Train with the current CrossEncoderTrainer API and save the model and its record into ``out``."""
    import tempfile

    from datasets import Dataset
    from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from ..data import load_stsb

    train = load_stsb("train")
    if n_pairs is not None:
        train = train.sample(n_pairs, random_state=seed)
    data = Dataset.from_dict({"sentence1": train["sentence1"].tolist(), "sentence2": train["sentence2"].tolist(),
                              "label": (train["score"] / 5.0).tolist()})
    with quiet_loading():
        model = CrossEncoder(resolve("all-MiniLM-L6-v2").location, num_labels=1, max_length=128, device="cpu")
    with tempfile.TemporaryDirectory(dir=out.parent) as checkpoints:
        args = CrossEncoderTrainingArguments(
            output_dir=checkpoints, num_train_epochs=epochs, per_device_train_batch_size=batch_size,
            learning_rate=learning_rate, warmup_steps=0.1, save_strategy="no", report_to=[], seed=seed,
            logging_steps=10_000, disable_tqdm=True, dataloader_pin_memory=False)
        trainer = quiet_trainer(CrossEncoderTrainer, model, args=args, train_dataset=data,
                                loss=BinaryCrossEntropyLoss(model))
        t0 = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t0
    model.save(str(out))
    info = {"base": "all-MiniLM-L6-v2", "data": "STS-B train", "pairs": len(train), "epochs": epochs,
            "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed, "train_seconds": round(seconds, 1)}
    (out / RECORD).write_text(json.dumps(info, indent=1))


def load_reranker(allow_training: bool = False, verbose: bool = True) -> Any:
    """Notebook 07's cross-encoder: the one trained here on STS-B (or, with ``SEMSIM_USE_HUB=1``,
    the hub's ms-marco cross-encoder when it can be had).

    If the STS-B cross-encoder is being trained in the background (``make course`` starts
    that), this waits for it. If it was never trained, this raises ModelNotAvailable saying
    how to train it, unless ``allow_training`` (training peaks near 2 GB: too much for a
    2 GB Binder session next to a notebook). ``identity(model).source`` says which was used.
    """
    hub = spec("ms-marco-MiniLM-L-6-v2")
    assert hub is not None
    if hub_allowed():
        try:
            return load_cross_encoder(hub.hub_id, verbose=verbose)
        except ModelNotAvailable:
            pass  # not reachable now: the trained one below
    if not stsb_cross_encoder_trained():
        if stsb_training_in_progress():
            print("[semsim] notebook 07's cross-encoder is being trained in the background "
                  "(started by `make course`); waiting for it ...", flush=True)
        elif not allow_training:
            raise ModelNotAvailable(
                "Notebook 07's cross-encoder is not trained yet. Train it once (a few minutes on two cores, "
                "about 2 GB of memory): `make prepare`, or `python -m semsim prepare --with-trained`; "
                "then run this cell again.")
    folder = train_stsb_cross_encoder()
    model = load_cross_encoder(str(folder), verbose=False)
    info = json.loads((folder / RECORD).read_text())
    remember(model, ResolvedModel(hub.hub_id, STSB_RERANKER, f"trained here on {info['pairs']} STS-B pairs",
                                  str(folder), substitute_for=hub.hub_id))
    if verbose:
        print(f"[semsim] reranker: {source(model)}")
    return model
