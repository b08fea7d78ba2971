"""Where semsim looks for data, models and its own cache (all overridable by environment)."""
from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

DATA_ENV = "SEMSIM_DATA_DIR"      # folder with stsb/, stsb_multi_mt/, corpus/
MODELS_ENV = "SEMSIM_MODELS_DIR"  # folder with one sub-folder per model
CACHE_ENV = "SEMSIM_CACHE_DIR"    # semsim's own cache (assembled models, trained models)
OFFLINE_ENV = ("SEMSIM_OFFLINE", "HF_HUB_OFFLINE")
HUB_ENV = "SEMSIM_HUB_MODELS"     # "1": a learner's opt-in to models from the Hugging Face hub


def _env_dir(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def data_dir() -> Path | None:
    """The local data folder named by $SEMSIM_DATA_DIR, or None when it is not set."""
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


def hub_models_allowed() -> bool:
    """True when the learner opted in to hub models ($SEMSIM_HUB_MODELS=1).

    By default the course uses only its offline models (and documented substitutes), online
    or not, so that a network connection never changes what a notebook computes."""
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
