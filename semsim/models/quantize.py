"""int8 dynamic quantisation of a sentence-transformers model with torch (measured in notebook 10)."""
from __future__ import annotations

import warnings
from typing import Any

from .identity import remember, source


def quantize_int8(model: Any) -> Any:
    """A copy of a SentenceTransformer with int8 dynamic quantisation of its Linear layers (CPU)."""
    import copy

    import torch

    with warnings.catch_warnings():  # torch marks its quantized tensors deprecated; they still work in 2.13
        warnings.simplefilter("ignore", UserWarning)
        q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    return remember(q, source(model), "torch int8")
