"""A fingerprint changes whenever a model would give other vectors, and only then."""
import copy

import pytest

from semsim.models.identity import fingerprint


@pytest.fixture(scope="module")
def minilm_parts(minilm):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

    def variant(mode: str = "mean", normalize: bool = True) -> SentenceTransformer:
        modules = [minilm[0], Pooling(minilm.get_embedding_dimension(), pooling_mode=mode)]
        return SentenceTransformer(modules=modules + ([Normalize()] if normalize else []), device="cpu")

    return variant


def test_same_weights_and_configuration_agree(minilm):
    assert fingerprint(minilm) == fingerprint(copy.deepcopy(minilm))
    minilm.encode(["a sentence of some length to set the tokenizer's truncation state"])
    assert fingerprint(minilm) == fingerprint(copy.deepcopy(minilm))  # encoding changes nothing


def test_pooling_normalisation_and_length_change_it(minilm, minilm_parts):
    base = fingerprint(minilm_parts("mean"))
    assert base == fingerprint(minilm)  # the same modules built by hand
    assert fingerprint(minilm_parts("cls")) != base  # same weights, [CLS] pooling: another model
    assert fingerprint(minilm_parts("mean", normalize=False)) != base
    longer = copy.deepcopy(minilm)
    longer.max_seq_length = 512
    assert fingerprint(longer) != base


def test_prompts_and_tokenizer_change_it(minilm):
    prompted = copy.deepcopy(minilm)
    prompted.prompts = {"query": "query: "}
    prompted.default_prompt_name = "query"
    assert fingerprint(prompted) != fingerprint(minilm)
    other_tok = copy.deepcopy(minilm)
    other_tok.tokenizer.backend_tokenizer.normalizer = None  # no lower-casing: other token ids
    assert fingerprint(other_tok) != fingerprint(minilm)


def test_weights_change_it(minilm):
    import torch

    tuned = copy.deepcopy(minilm)
    with torch.no_grad():
        next(tuned.parameters()).add_(0.01)
    assert fingerprint(tuned) != fingerprint(minilm)


def test_encoders_can_bring_their_own(fake):
    assert fingerprint(fake) == "fake-fake-16"
