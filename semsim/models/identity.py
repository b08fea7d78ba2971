"""What an encoder is: its name, where it came from, its backend, and its fingerprint.

:func:`identity` answers for any encoder semsim handles (a SentenceTransformer, the 4-bit
E5 adapter, an ONNX or int8 copy, a test double) in one place, so the rest of semsim never
reads attributes of third-party objects. Where a model came from is remembered by
:func:`remember` when semsim loads or derives it (in a weak table: nothing is attached to
the model object). The fingerprint is computed afresh at each call, never cached: a model
fine-tuned in place gets a new one at once.

**Fingerprints** are a short id that changes whenever a model would give other vectors.
Stored beside every saved index, cache folder and vector store, the fingerprint is what
lets semsim refuse to mix vectors of two models. Two things decide a sentence-transformers
model's vectors, so both are hashed:

* **the weights**: every parameter's name and shape and a strided sample of its values
  (two copies of the same weights agree; a fine-tuned or quantised copy does not);
* **the configuration**: each module's type and settings (pooling mode, normalisation,
  ``max_seq_length``, prompts) and the tokenizer (vocabulary, normalisation rules).
  The same weights with [CLS] pooling instead of mean pooling are another model.

An encoder that is not a torch model (the E5 adapter, the ONNX encoder, a test double)
supplies its own by defining a ``semsim_fingerprint()`` method, and may name its backend
with a ``backend`` attribute.
"""
from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass
from typing import Any, Iterator

from .locate import ResolvedModel

_SOURCES: "weakref.WeakKeyDictionary[Any, tuple[ResolvedModel | None, str]]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Identity:
    """An encoder's name, fingerprint and backend, and where it came from (None if semsim did not load it)."""

    name: str
    fingerprint: str
    backend: str
    source: ResolvedModel | None = None


def remember(model: Any, source: ResolvedModel | None, backend: str | None = None) -> Any:
    """Record where ``model`` came from and which backend runs it; returns the model."""
    _SOURCES[model] = (source, backend or default_backend(model))
    return model


def source(model: Any) -> ResolvedModel | None:
    """Where semsim loaded ``model`` from, or None."""
    entry = _SOURCES.get(model)
    return entry[0] if entry else None


def default_backend(model: Any) -> str:
    """A torch model is run by sentence-transformers; semsim's own encoders name theirs (``backend``)."""
    if hasattr(model, "_modules"):
        return "sentence-transformers"
    own = getattr(model, "backend", None)
    return own if isinstance(own, str) else type(model).__name__


def identity(model: Any) -> Identity:
    """The encoder's name (the course model it came from, else its class), fingerprint and backend."""
    src, backend = _SOURCES.get(model, (None, default_backend(model)))
    return Identity(src.name if src else type(model).__name__, fingerprint(model), backend, src)


def _config(model: Any) -> dict[str, Any]:
    """The settings of a SentenceTransformer that change its vectors (JSON-friendly)."""
    modules = []
    for name, module in getattr(model, "_modules", {}).items():
        entry: dict[str, Any] = {"name": name, "type": type(module).__name__}
        get = getattr(module, "get_config_dict", None)
        if callable(get):
            entry["config"] = get()
        modules.append(entry)
    return {"modules": modules, "max_seq_length": getattr(model, "max_seq_length", None),
            "prompts": getattr(model, "prompts", None), "default_prompt_name": getattr(model, "default_prompt_name", None),
            "truncate_dim": getattr(model, "truncate_dim", None)}


def _tokenizer(model: Any) -> str:
    """The tokenizer's rules and vocabulary, without its per-call truncation/padding state."""
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        return ""
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        spec.pop("truncation", None)
        spec.pop("padding", None)
        return json.dumps(spec, sort_keys=True)
    return json.dumps(sorted(tok.get_vocab().items())) + type(tok).__name__


def fingerprint(model: Any) -> str:
    """A 16-hex-digit id of a model's weights, module configuration and tokenizer."""
    own = getattr(model, "semsim_fingerprint", None)
    if callable(own):
        return str(own())
    import torch

    h = hashlib.sha256()

    def tensors(value: Any) -> Iterator[Any]:  # quantised models store tuples, dtypes, packed params
        if isinstance(value, torch.Tensor):
            yield value.dequantize() if value.is_quantized else value
        elif isinstance(value, (tuple, list)):
            for v in value:
                yield from tensors(v)
        else:
            h.update(repr(value).encode())

    with torch.no_grad():
        for pname, value in model.state_dict().items():
            for p in tensors(value):
                flat = p.detach().reshape(-1)
                step = max(1, flat.numel() // 1024)
                h.update(f"{pname}{tuple(p.shape)}".encode())
                h.update(flat[::step].to(torch.float32).cpu().numpy().tobytes())
    h.update(json.dumps(_config(model), sort_keys=True, default=str).encode())
    h.update(_tokenizer(model).encode())
    return h.hexdigest()[:16]
