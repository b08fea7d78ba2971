"""Shared fixtures. Tests run offline: the hub is never contacted."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("SEMSIM_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    from semsim.models import load_model

    return load_model("all-MiniLM-L6-v2", verbose=False)


@pytest.fixture
def offline(monkeypatch):
    """Force offline mode for one test and forget the cached hub probe."""
    from semsim import paths

    monkeypatch.setenv("SEMSIM_OFFLINE", "1")
    paths.hub_reachable.cache_clear()
    yield
    paths.hub_reachable.cache_clear()


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty data folder (and cache) for one test; returns the folder."""
    from semsim import data

    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SEMSIM_DATA_DIR", str(root))
    monkeypatch.setenv("SEMSIM_CACHE_DIR", str(tmp_path / "cache"))
    data.clear_cache()
    yield root
    data.clear_cache()
