"""Retrieve with a bi-encoder, rerank with a cross-encoder (taught in notebook 07).

A cross-encoder reads query and candidate *together*, so it scores a pair more precisely
than two independent embeddings can, at the cost of one transformer pass per pair.
No pretrained cross-encoder has an offline copy on the course machines, so
:func:`load_reranker` uses ``cross-encoder/ms-marco-MiniLM-L-6-v2`` when it can be had, and
otherwise the cross-encoder that :func:`semsim.training.train_stsb_cross_encoder` trains
once from all-MiniLM-L6-v2 on STS-B (a few minutes on two cores) and keeps in semsim's cache.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from .errors import ModelNotAvailable
from .index import Hit, check_k
from .training import STSB_RERANKER, stsb_cross_encoder_trained, stsb_training_in_progress, train_stsb_cross_encoder

HUB_RERANKER = "cross-encoder/ms-marco-MiniLM-L-6-v2"


def load_reranker(allow_training: bool = False, verbose: bool = True) -> Any:
    """The hub's ms-marco cross-encoder when it can be had, else the cached STS-B one.

    If the STS-B cross-encoder is being trained in the background (``make course`` starts
    that), this waits for it. If it was never trained, this raises ModelNotAvailable saying
    how to train it, unless ``allow_training`` (training peaks near 1.9 GB: too much for a
    2 GB Binder session next to a notebook). The model gets ``semsim_source`` (what was used)
    like :func:`semsim.models.load_model`.
    """
    from .locate import ResolvedModel
    from .models import load_cross_encoder

    try:
        return load_cross_encoder(HUB_RERANKER, verbose=verbose)
    except ModelNotAvailable:
        if not stsb_cross_encoder_trained():
            if stsb_training_in_progress():
                print("[semsim] notebook 07's cross-encoder is being trained in the background "
                      "(started by `make course`, about 5 minutes in all); waiting for it ...", flush=True)
            elif not allow_training:
                raise ModelNotAvailable(
                    f"No offline copy of {HUB_RERANKER}, and the STS-B cross-encoder that replaces it is not "
                    "trained yet. Train it once (about 5 minutes, 1.9 GB of memory): `make prepare`, or "
                    "`python -m semsim prepare --with-reranker`; then run this cell again.") from None
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
    """Re-score bi-encoder hits with a cross-encoder; best first (scores are the cross-encoder's).

    ``top_k``: how many to return (None: all of them; otherwise a positive integer, as ``k``
    everywhere in semsim). The hits keep their ids, texts and metadata.
    """
    if not isinstance(query, str) or not query.strip():
        raise (TypeError if not isinstance(query, str) else ValueError)("a query must be a non-empty string")
    keep = len(hits) if top_k is None else check_k(top_k)
    if not hits:
        return []
    texts = [h.text for h in hits]
    if any(t is None for t in texts):
        raise ValueError("reranking needs the hits' texts; add texts to the index")
    scores = np.asarray(cross_encoder.predict([(query, t) for t in texts], batch_size=batch_size, show_progress_bar=False))
    order = np.argsort(-scores, kind="stable")[:keep]
    return [Hit(hits[i].id, float(scores[i]), hits[i].text, hits[i].metadata) for i in order]
