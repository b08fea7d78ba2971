"""Sentence vectors from a plain transformer: [CLS] and mean pooling, from any layer.

This is what sentence-transformers does inside (its Pooling module), written out so that
notebook 02 can compare pooling choices on encoders that were never trained for sentences.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def pooled_embeddings(tokenizer: Any, model: Any, texts: Sequence[str], layers: Sequence[int] = (-1,),
                      batch_size: int = 64, max_length: int = 128) -> dict[str, np.ndarray]:
    """Return {"cls@L": ..., "mean@L": ...} for each requested hidden layer L.

    Layer 0 is the input embedding layer (word pieces, no context); -1 the last layer.
    Mean pooling averages the real tokens only (padding is masked out). Texts are batched
    longest first, as sentence-transformers does, so a batch holds little padding; the
    rows come back in the input order.
    """
    import torch

    if not texts:
        raise ValueError("no texts to embed")
    order = np.argsort([-len(t) for t in texts], kind="stable")
    ordered = [texts[i] for i in order]
    out: dict[str, list[np.ndarray]] = {f"{p}@{layer}": [] for layer in layers for p in ("cls", "mean")}
    with torch.no_grad():
        for i in range(0, len(ordered), batch_size):
            batch = tokenizer(ordered[i:i + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            hidden = model(**batch, output_hidden_states=True).hidden_states
            mask = batch["attention_mask"].unsqueeze(-1).float()
            for layer in layers:
                h = hidden[layer]
                out[f"cls@{layer}"].append(h[:, 0].numpy())
                out[f"mean@{layer}"].append(((h * mask).sum(1) / mask.sum(1)).numpy())
    inverse = np.argsort(order)
    return {k: np.concatenate(v)[inverse] for k, v in out.items()}
