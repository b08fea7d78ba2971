import numpy as np
import pandas as pd
import pytest

from semsim.training.bi_encoder import fine_tune, fresh_model, save

PAIRS = pd.DataFrame({"anchor": ["my head hurts", "I cough at night", "my knee is swollen", "I feel dizzy"],
                      "positive": ["Headache", "Nocturnal cough", "Knee effusion", "Vertigo"]})


def test_fine_tune_trains_a_copy_and_saves_it(minilm, tmp_path):
    model = fresh_model("all-MiniLM-L6-v2")
    before = model.encode(["my head hurts"])
    log = fine_tune(model, PAIRS, loss="mnrl", epochs=2, batch_size=4, learning_rate=1e-4, warmup=0.0)
    after = model.encode(["my head hurts"])
    assert log["steps"] == 2 and not np.allclose(before, after)
    assert np.allclose(minilm.encode(["my head hurts"]), before, atol=1e-6)  # the cached model is untouched
    back = fresh_model(str(save(model, tmp_path / "tuned")))
    assert np.allclose(back.encode(["my head hurts"]), after, atol=1e-5)


def test_bad_training_input():
    model = fresh_model("all-MiniLM-L6-v2")
    with pytest.raises(ValueError, match="columns"):
        fine_tune(model, PAIRS.rename(columns={"positive": "other"}), loss="mnrl")
    with pytest.raises(ValueError, match="0-1"):
        fine_tune(model, pd.DataFrame({"sentence1": ["a"], "sentence2": ["b"], "score": [4.0]}), loss="cosine")
    with pytest.raises(ValueError, match="loss must be"):
        fine_tune(model, PAIRS, loss="triplet")
    with pytest.raises(ValueError, match="cannot be fine-tuned"):
        fresh_model("multilingual-e5-small")
