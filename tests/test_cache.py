import json

import numpy as np
import pytest

from semsim.models.cache import EmbeddingCache

from conftest import FakeEncoder


def test_second_run_encodes_nothing(tmp_path, minilm):
    texts = ["one sentence", "another sentence", "one sentence"]
    c = EmbeddingCache(tmp_path, minilm)
    first = c.encode(texts)
    assert c.misses == 2 and c.hits == 1
    again = EmbeddingCache(tmp_path, minilm)  # a new process would see the same
    second = again.encode(texts)
    assert again.misses == 0 and again.hits == 3
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first[0], minilm.encode("one sentence"), atol=1e-5)


def test_models_do_not_share_entries(tmp_path, fake):
    EmbeddingCache(tmp_path, fake).encode(["x y z"])
    other = EmbeddingCache(tmp_path, FakeEncoder(name="other"))
    assert "x y z" not in other and other.encode(["x y z"]).shape == (1, 16) and other.misses == 1


def test_a_damaged_shard_is_skipped_and_re_encoded(tmp_path, fake):
    c = EmbeddingCache(tmp_path, fake)
    c.encode(["alpha", "beta"])
    shard = next(c.folder.glob("*.npy"))
    raw = bytearray(shard.read_bytes())
    raw[-3] ^= 0xFF  # same size, one byte changed: only the checksum can tell
    shard.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="damaged shard"):
        fresh = EmbeddingCache(tmp_path, fake)
    out = fresh.encode(["alpha", "beta"])
    assert fresh.misses == 2 and np.isfinite(out).all()
    with pytest.raises(TypeError):
        fresh.encode("one string")
    with pytest.raises(TypeError, match="positions"):
        fresh.encode(["ok", None])


def test_many_small_adds_stay_a_few_shards(tmp_path, fake):
    c = EmbeddingCache(tmp_path, fake)
    for call in range(1000):
        c.encode([f"text {call}-{j}" for j in range(100)])  # 100,000 texts in 1,000 calls
    files = list(c.folder.glob("*.npy"))
    assert len(c) == 100_000 and c.shards == len(files) <= 24, len(files)
    reopened = EmbeddingCache(tmp_path, fake)
    assert len(reopened) == 100_000 and reopened.shards == len(files)
    probe = [f"text {i}-{i % 100}" for i in range(0, 1000, 37)]
    np.testing.assert_array_equal(reopened.encode(probe), fake.encode(probe))
    assert reopened.misses == 0
    info = json.loads(next(c.folder.glob("*.keys.json")).read_text())
    assert {"sha256", "bytes", "rows", "keys"} <= set(info)


def test_two_caches_on_one_folder_share_and_merge_safely(tmp_path, fake):
    a, b = EmbeddingCache(tmp_path, fake), EmbeddingCache(tmp_path, fake)
    for i in range(40):
        (a if i % 2 else b).encode([f"t{i}-{j}" for j in range(10)])
    both = EmbeddingCache(tmp_path, fake)
    assert len(both) == 400 and both.encode([f"t{i}-3" for i in range(40)]).shape == (40, 16) and both.misses == 0


def test_in_memory_cache_writes_nothing(tmp_path, fake):
    c = EmbeddingCache(None, fake)
    c.encode(["a", "b"])
    c.encode(["a"])
    assert c.misses == 2 and c.hits == 1 and c.folder is None and not list(tmp_path.iterdir())
