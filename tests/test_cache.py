import numpy as np
import pytest

from semsim.cache import EmbeddingCache


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


def test_models_do_not_share_entries(tmp_path, minilm):
    from semsim.models import load_model

    EmbeddingCache(tmp_path, minilm).encode(["x y z"])
    e5 = EmbeddingCache(tmp_path, load_model("multilingual-e5-small", verbose=False))
    assert "x y z" not in e5 and e5.encode(["x y z"]).shape == (1, 384) and e5.misses == 1


def test_corrupted_cache_file_is_skipped_and_re_encoded(tmp_path, minilm):
    c = EmbeddingCache(tmp_path, minilm)
    c.encode(["alpha", "beta"])
    shard = next(c.folder.glob("*.npy"))
    shard.write_bytes(shard.read_bytes()[:100])  # damaged on disk
    with pytest.warns(UserWarning, match="damaged shard"):
        fresh = EmbeddingCache(tmp_path, minilm)
    out = fresh.encode(["alpha", "beta"])
    assert fresh.misses == 2 and np.isfinite(out).all()
    with pytest.raises(TypeError):
        fresh.encode("one string")
