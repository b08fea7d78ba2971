import gzip
import os
import shutil
from pathlib import Path

import pytest

from semsim import data
from semsim.errors import DatasetNotAvailable

SHARED = Path(os.environ.get("SEMSIM_DATA_DIR", "")) if os.environ.get("SEMSIM_DATA_DIR") else None
needs_data = pytest.mark.skipif(not (SHARED and (SHARED / "stsb").is_dir()), reason="SEMSIM_DATA_DIR not set")


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
    with pytest.raises(DatasetNotAvailable, match="stsb/test.tsv.gz was not found.*SEMSIM_DATA_DIR"):
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
def test_cache_folder_is_the_second_place_looked(data_root, offline, monkeypatch, tmp_path):
    monkeypatch.delenv("SEMSIM_DATA_DIR")
    shutil.copytree(SHARED / "stsb", tmp_path / "cache" / "data" / "stsb")
    assert len(data.load_stsb("validation")) == 1500
