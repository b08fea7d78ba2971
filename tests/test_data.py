import gzip
import os
import shutil
from pathlib import Path

import pytest

from semsim import data
from semsim.errors import DatasetNotAvailable

SHARED = Path(__file__).resolve().parents[1] / "data"   # the course's data, in the repository
needs_data = pytest.mark.skipif(not (SHARED / "stsb").is_dir(), reason="the repository's data/ folder is missing")


@needs_data
@pytest.mark.parametrize("split,rows", [("train", 5749), ("validation", 1500), ("test", 1379)])
def test_stsb_row_counts_are_exact(split, rows):
    df = data.load_stsb(split)
    assert len(df) == rows
    assert {"sentence1", "sentence2", "score", "genre"} <= set(df.columns)
    assert df["score"].between(0, 5).all()


@needs_data
def test_translations_are_row_aligned_with_the_original():
    en, it = data.load_stsb("test"), data.load_stsb("test", "it")
    assert (en["score"].to_numpy() == it["score"].to_numpy()).all()
    assert it["sentence1"].iloc[0] == "Una ragazza si acconcia i capelli."
    x = data.load_stsb_crosslingual("test", "en", "it")
    assert x["sentence1"].iloc[0] == en["sentence1"].iloc[0] and x["sentence2"].iloc[0] == it["sentence2"].iloc[0]


@needs_data
def test_every_language_and_the_corpus_load():
    for lang in data.LANGUAGES:
        assert len(data.load_stsb("validation", lang)) == 1500
    corpus = data.load_corpus()
    assert len(corpus) == 10527 and all(s.strip() for s in corpus)


@needs_data
def test_results_are_copies():
    df = data.load_stsb("test")
    df.loc[0, "score"] = -1
    assert data.load_stsb("test").loc[0, "score"] != -1


def test_bad_split_or_language():
    with pytest.raises(ValueError, match="split"):
        data.load_stsb("dev")
    with pytest.raises(ValueError, match="lang"):
        data.load_stsb("test", "xx")


def test_missing_folder_offline_is_one_clear_error(data_root, offline, monkeypatch):
    monkeypatch.setenv("SEMSIM_DATA_DIR", str(data_root / "nowhere"))
    with pytest.raises(DatasetNotAvailable, match="stsb/test.tsv.gz was not found.*data/ folder.*SEMSIM_DATA_DIR"):
        data.load_stsb("test")
    with pytest.raises(DatasetNotAvailable, match="corpus"):
        data.load_corpus()


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)
    return path


def test_truncated_file_is_reported_as_damaged(data_root, offline):
    path = _write(data_root, "stsb/test.tsv.gz", "sentence1\tsentence2\tscore\n" + "a\tb\t1.0\n" * 2000)
    path.write_bytes(path.read_bytes()[:60])  # cut off mid-stream
    with pytest.raises(DatasetNotAvailable, match="damaged"):
        data.load_stsb("test")


def test_wrong_row_count_or_columns_or_scores(data_root, offline):
    _write(data_root, "stsb/test.tsv.gz", "sentence1\tsentence2\tscore\na\tb\t1.0\n")
    with pytest.raises(DatasetNotAvailable, match="1 rows, expected 1379"):
        data.load_stsb("test")
    _write(data_root, "stsb/validation.tsv.gz", "text\tlabel\nx\t1\n")
    with pytest.raises(DatasetNotAvailable, match="lacks the column"):
        data.load_stsb("validation")
    _write(data_root, "stsb/train.tsv.gz", "sentence1\tsentence2\tscore\n" + "a\tb\t7.5\n" * 5749)
    with pytest.raises(DatasetNotAvailable, match="0-5"):
        data.load_stsb("train")


def test_not_gzip_at_all(data_root, offline):
    (data_root / "corpus").mkdir()
    (data_root / "corpus" / "wiki_sentences.txt.gz").write_text("plain text, not gzip")
    with pytest.raises(DatasetNotAvailable, match="damaged"):
        data.load_corpus()


@needs_data
def test_cache_folder_is_the_last_place_looked(data_root, offline, monkeypatch, tmp_path):
    monkeypatch.delenv("SEMSIM_DATA_DIR")
    shutil.copytree(SHARED / "stsb", tmp_path / "cache" / "data" / "stsb")
    assert len(data.load_stsb("validation")) == 1500


# -- the online path (Binder): frames shaped exactly as the hub serves them ------------------
def hub_original(n=4):
    """Like mteb/stsbenchmark-sts: split, genre, dataset, year, sid (str), score (float64), sentences."""
    import pandas as pd

    return pd.DataFrame({"split": ["test"] * n, "genre": ["main-news", "main-captions", "main-forums", "main-news"][:n],
                         "dataset": ["headlines"] * n, "year": ["2016"] * n, "sid": ["0001", "0002", "0003", "0004"][:n],
                         "score": [5.0, 3.2, 0.0, 4.4][:n], "sentence1": [f"a{i}" for i in range(n)],
                         "sentence2": [f"b{i}" for i in range(n)]})


def hub_translation(n=4):
    """Like PhilipMay/stsb_multi_mt: sentence1, sentence2, similarity_score (float32)."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame({"sentence1": [f"x{i}" for i in range(n)], "sentence2": [f"y{i}" for i in range(n)],
                         "similarity_score": np.array([5.0, 3.2, 0.0, 4.4][:n], dtype=np.float32)})


@needs_data
def test_hub_frames_come_out_in_the_local_layout():
    local = data.load_stsb("test")
    online = data.normalise_hub_stsb(hub_original())
    assert list(online.columns) == list(local.columns)  # attribution columns added (empty), split dropped
    assert (online.dtypes == local.dtypes).all() and (online["attribution1"] == "").all()
    worst = online[["sentence1", "sentence2", "score", "genre", "attribution1"]]  # what notebook 08 shows
    assert len(worst) == 4
    local_it = data.load_stsb("test", "it")
    online_it = data.normalise_hub_stsb(hub_translation())
    assert list(online_it.columns) == list(local_it.columns) == ["sentence1", "sentence2", "score"]
    assert online_it["score"].dtype == local_it["score"].dtype == "float64"


def test_hub_frames_pass_the_same_validation():
    df = data.normalise_hub_stsb(hub_translation())
    assert data.validate_stsb(df, "hub", 4) is df
    bad = hub_translation()
    bad["similarity_score"] = [7.0, 1, 2, 3]
    with pytest.raises(DatasetNotAvailable, match="0-5"):
        data.validate_stsb(data.normalise_hub_stsb(bad), "hub", 4)


def test_japanese_has_no_online_copy(data_root, monkeypatch):
    monkeypatch.setenv("SEMSIM_USE_HUB", "1")
    monkeypatch.setattr(data, "hub_reachable", lambda: True)
    with pytest.raises(DatasetNotAvailable, match="exists only in the course's local data"):
        data.load_stsb("test", "ja")


def test_the_online_loader_is_used_when_there_is_no_local_copy_and_the_learner_opts_in(data_root, monkeypatch):
    monkeypatch.setenv("SEMSIM_USE_HUB", "1")
    calls = []

    def fake_hub(split, lang):
        calls.append((split, lang))
        return data.normalise_hub_stsb(hub_translation(4))

    monkeypatch.setattr(data, "hub_reachable", lambda: True)
    monkeypatch.setattr(data, "_stsb_from_hub", fake_hub)
    monkeypatch.setattr(data, "STSB_ROWS", {"train": 4, "validation": 4, "test": 4})
    assert len(data.load_stsb("validation", "it")) == 4 and calls == [("validation", "it")]


def test_the_repository_data_come_first_and_match_their_checksums():
    """Issue 28: a clone holds its data; semsim reads them first, and they are the files SOURCES.md lists."""
    import hashlib

    data.clear_cache()
    assert data.data_roots()[0] == SHARED
    sums = [line.split() for line in (SHARED / "SHA256SUMS").read_text().splitlines() if line.strip()]
    assert len(sums) >= 47
    for digest, name in sums:
        assert hashlib.sha256((SHARED / name).read_bytes()).hexdigest() == digest, name


@needs_data
@pytest.mark.parametrize("name,questions", [("squad_v1_dev", 10570), ("squad_it", 7609)])
def test_retrieval_testbeds_load_and_fit_together(name, questions):
    r = data.load_retrieval(name)
    assert len(r.queries) == questions and len(r.qrels) >= questions
    rel = r.relevant()
    assert set(rel) == set(r.queries["query_id"]) and all(rel.values())
    assert set().union(*rel.values()) <= set(r.corpus["doc_id"])
    assert r.corpus["title"].nunique() == 48


def test_the_hub_is_never_asked_for_data_unless_the_learner_opts_in(data_root, monkeypatch):
    monkeypatch.delenv("SEMSIM_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(data, "hub_reachable", lambda: True)
    asked = []
    monkeypatch.setattr(data, "_stsb_from_hub", lambda split, lang: asked.append((split, lang)))
    with pytest.raises(DatasetNotAvailable, match="SEMSIM_USE_HUB=1"):
        data.load_stsb("test")
    assert asked == []
