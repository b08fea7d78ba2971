"""semsim.text.pooling: [CLS] and mean pooling written out, checked against sentence-transformers."""
from __future__ import annotations

import numpy as np
import pytest

from semsim.models.load import load_transformer
from semsim.text.pooling import pooled_embeddings

TEXTS = ["A cat sits on the mat.", "Two dogs are running through a very long and muddy field near the river.",
         "Hi.", "The stock market fell sharply on Tuesday after the announcement."]


@pytest.fixture(scope="module")
def encoder():
    return load_transformer("all-MiniLM-L6-v2", verbose=False)


def test_mean_pooling_of_last_layer_is_what_sentence_transformers_computes(encoder, minilm):
    tok, model = encoder
    ours = pooled_embeddings(tok, model, TEXTS)["mean@-1"]
    theirs = minilm.encode(TEXTS, normalize_embeddings=False)
    ours = ours / np.linalg.norm(ours, axis=1, keepdims=True)   # all-MiniLM-L6-v2 ends with a Normalize module
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_rows_come_back_in_input_order_whatever_the_batching(encoder):
    tok, model = encoder
    batched = pooled_embeddings(tok, model, TEXTS, layers=(0, -1), batch_size=2)
    for i, text in enumerate(TEXTS):
        alone = pooled_embeddings(tok, model, [text], layers=(0, -1))
        for key in batched:
            np.testing.assert_allclose(batched[key][i], alone[key][0], atol=1e-5, err_msg=f"{key}, row {i}")


def test_no_texts_is_a_clear_error(encoder):
    with pytest.raises(ValueError, match="no texts"):
        pooled_embeddings(*encoder, [])
