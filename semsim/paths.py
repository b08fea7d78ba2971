"""Where semsim looks for data, models and its own cache (all overridable by environment)."""
from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

DATA_ENV = "SEMSIM_DATA_DIR"      # another folder laid out like the repository's data/ (read after it)
MODELS_ENV = "SEMSIM_MODELS_DIR"  # folder with one sub-folder per model
CACHE_ENV = "SEMSIM_CACHE_DIR"    # semsim's own cache (assembled models, trained models)
OFFLINE_ENV = ("SEMSIM_OFFLINE", "HF_HUB_OFFLINE")
HUB_ENV = "SEMSIM_USE_HUB"        # "1": the learner's opt-in to models and data from the Hugging Face hub


def _env_dir(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def repo_data_dir() -> Path | None:
    """The data/ folder of the repository this semsim runs from (a clone, or an editable install), or None."""
    folder = Path(__file__).resolve().parents[1] / "data"
    return folder if (folder / "SOURCES.md").is_file() else None


def data_dir() -> Path | None:
    """The extra data folder named by $SEMSIM_DATA_DIR, or None when it is not set."""
    return _env_dir(DATA_ENV)


def models_dir() -> Path | None:
    """The local models folder named by $SEMSIM_MODELS_DIR, or None when it is not set."""
    return _env_dir(MODELS_ENV)


def cache_dir() -> Path:
    """semsim's cache folder ($SEMSIM_CACHE_DIR, default ~/.cache/semsim), created on demand."""
    path = _env_dir(CACHE_ENV) or Path.home() / ".cache" / "semsim"
    path.mkdir(parents=True, exist_ok=True)
    return path


def size_bytes(path: str | Path) -> int:
    """The size of a file, or of every file under a folder, in bytes."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def hub_allowed() -> bool:
    """True when the learner opted in to the Hugging Face hub ($SEMSIM_USE_HUB=1).

    By default the course uses only its own data (the repository's data/ folder) and its
    offline models (and documented substitutes), online or not, so that a network connection
    never changes what a notebook computes."""
    return os.environ.get(HUB_ENV, "").strip() not in ("", "0")


@lru_cache(maxsize=1)
def hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """True when the Hugging Face hub answers; False offline. Checked once per process.

    Libraries retry an unreachable hub for over a minute; one quick probe avoids that.
    Setting SEMSIM_OFFLINE=1 or HF_HUB_OFFLINE=1 skips the probe.
    """
    if any(os.environ.get(v, "").strip() not in ("", "0") for v in OFFLINE_ENV):
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False
