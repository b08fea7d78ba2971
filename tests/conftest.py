"""Shared fixtures. Tests run offline: the hub is never contacted."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("SEMSIM_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    from semsim.models.load import load_model

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
    monkeypatch.setattr(data, "repo_data_dir", lambda: None)   # as a copy of semsim without the repository's data/
    monkeypatch.setenv("SEMSIM_DATA_DIR", str(root))
    monkeypatch.setenv("SEMSIM_CACHE_DIR", str(tmp_path / "cache"))
    data.clear_cache()
    yield root
    data.clear_cache()


class FakeEncoder:
    """A deterministic stand-in for a sentence model: fast, offline, with its own fingerprint.

    ``fail_on``: a text whose encoding raises RuntimeError (to inject failures)."""

    def __init__(self, dim: int = 16, name: str = "fake", fail_on: str | None = None) -> None:
        self.dim, self.name, self.fail_on, self.calls = dim, name, fail_on, 0

    def get_embedding_dimension(self) -> int:
        return self.dim

    def semsim_fingerprint(self) -> str:
        return f"fake-{self.name}-{self.dim}"

    def encode(self, texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False, **_):
        import hashlib

        import numpy as np

        self.calls += 1
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError(f"injected encoding failure on {self.fail_on!r}")
        raw = b"".join(hashlib.shake_256(t.encode()).digest(2 * self.dim) for t in texts)
        out = np.frombuffer(raw, dtype=np.uint16).reshape(len(texts), self.dim).astype(np.float32) - 32767.5
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake():
    return FakeEncoder()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """One local Milvus standalone server for the whole session (test_stores, test_hybrid), or a skip with the reason."""
    from semsim.search.milvus_server import LocalMilvus
    from semsim.errors import ServerNotStarted

    server = LocalMilvus(tmp_path_factory.mktemp("milvus-server"))
    try:
        server.start()
    except ServerNotStarted as e:
        pytest.skip(f"the local Milvus server cannot start here: {e}")
    yield server
    server.stop()
