import numpy as np
import pytest
import torch

from semsim.text import similarity as sim


@pytest.fixture
def vecs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(3, 8)).astype(np.float32)


def test_scalar_metrics_on_known_vectors():
    a, b = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    assert sim.cosine(a, b) == pytest.approx(1 / np.sqrt(2), abs=1e-6)
    assert sim.dot(a, b) == pytest.approx(1.0)
    assert sim.euclidean(a, b) == pytest.approx(1.0)
    assert sim.manhattan(a, b) == pytest.approx(1.0)
    assert sim.pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.5])) == pytest.approx(
        np.corrcoef([1, 2, 3], [2, 4, 6.5])[0, 1], abs=1e-6)


def test_cosine_ignores_length_dot_does_not():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 1.0, 0.5])
    assert sim.cosine(a, 10 * b) == pytest.approx(sim.cosine(a, b), abs=1e-6)
    assert sim.dot(a, 10 * b) == pytest.approx(10 * sim.dot(a, b), rel=1e-6)


def test_rules_for_unit_vectors(vecs):
    a, b = (sim.normalize(v) for v in vecs)
    cos = sim.cosine_matrix(a, b)
    np.testing.assert_allclose(sim.dot_matrix(a, b), cos, atol=1e-5)
    np.testing.assert_allclose(sim.euclidean_matrix(a, b) ** 2, 2 - 2 * cos, atol=1e-5)


def test_pearson_is_cosine_of_centred(vecs):
    a, b = vecs
    expected = np.array([[np.corrcoef(x, y)[0, 1] for y in b] for x in a])
    np.testing.assert_allclose(sim.pearson_matrix(a, b), expected, atol=1e-5)


def test_matrices_match_scipy(vecs):
    from scipy.spatial.distance import cdist

    a, b = vecs
    np.testing.assert_allclose(sim.cosine_matrix(a, b), 1 - cdist(a, b, "cosine"), atol=1e-5)
    np.testing.assert_allclose(sim.manhattan_matrix(a, b), cdist(a, b, "cityblock"), rtol=1e-5)


@pytest.mark.parametrize("fn", ["cosine_matrix", "dot_matrix", "euclidean_matrix", "manhattan_matrix", "pearson_matrix"])
def test_torch_and_numpy_agree(vecs, fn):
    a, b = vecs
    out_np = getattr(sim, fn)(a, b)
    out_t = getattr(sim, fn)(torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(out_t, torch.Tensor) and isinstance(out_np, np.ndarray)
    np.testing.assert_allclose(out_t.numpy(), out_np, atol=1e-4)
    assert out_np.shape == (5, 3)


def test_default_second_argument_is_self(vecs):
    a, _ = vecs
    m = sim.cosine_matrix(a)
    np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-5)


def test_bad_input_is_refused(vecs):
    a, b = vecs
    with pytest.raises(ValueError, match="dimensions differ"):
        sim.cosine_matrix(a, b[:, :4])
    with pytest.raises(ValueError, match="zero vector"):
        sim.cosine(np.zeros(3), np.ones(3))
    with pytest.raises(TypeError, match="mix of numpy and torch"):
        sim.cosine_matrix(a, torch.from_numpy(b))
    with pytest.raises(ValueError, match="1-D"):
        sim.cosine(a, b)


def test_paired_cosine_and_jaccard(vecs):
    a, _ = vecs
    np.testing.assert_allclose(sim.paired_cosine(a, a), 1.0, atol=1e-5)
    assert sim.jaccard("The cat sat.", "the CAT sat") == 1.0
    assert sim.jaccard("", "") == 0.0
    assert sim.jaccard("a b", "c d") == 0.0
