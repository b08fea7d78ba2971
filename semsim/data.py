"""The course's data sets: STS Benchmark (English and machine-translated), a Wikipedia
sentence corpus, and two question-to-paragraph retrieval testbeds (SQuAD v1.1 dev, SQuAD-it).

They ship with the course, in the repository's ``data/`` folder (about 7 MB; sources,
licences and checksums in ``data/SOURCES.md``), so a clone runs anywhere with no network.
Files are read from, in order: that folder; ``$SEMSIM_DATA_DIR`` (another folder with the
same layout, for a copy of semsim installed without the repository); ``<semsim cache>/data``.
The layout is

    stsb/{train,validation,test}.tsv.gz                   original English STS-B, scores 0-5
    stsb_multi_mt/<lang>/{train,validation,test}.tsv.gz   machine translations, same rows
    corpus/wiki_sentences.txt.gz                          one sentence per line
    squad_v1_dev/, squad_it/                              corpus, queries, qrels (.tsv.gz)

Only when the learner opts in (``SEMSIM_USE_HUB=1``) and no local copy exists do STS-B and
the corpus come from the Hugging Face hub instead. Anything else is one
:class:`~semsim.errors.DatasetNotAvailable` that says how to get the file.
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DatasetNotAvailable
from .paths import DATA_ENV, HUB_ENV, cache_dir, data_dir, hub_allowed, hub_reachable, repo_data_dir

SPLITS = ("train", "validation", "test")
STSB_ROWS = {"train": 5749, "validation": 1500, "test": 1379}
LANGUAGES = ("de", "en", "es", "fr", "it", "ja", "nl", "pl", "pt", "ru", "zh")
CORPUS_ROWS = 10527
_HOW = (
    "The course's data ship in the data/ folder of its repository: work from a complete clone "
    f"(git clone, or the course's zip), or point {DATA_ENV} at a copy of that folder. With a network, "
    f"{HUB_ENV}=1 lets semsim fetch STS-B and the corpus from the Hugging Face hub instead."
)


def data_roots() -> list[Path]:
    """The folders searched for data files, in order: the repository's data/, $SEMSIM_DATA_DIR, semsim's cache."""
    roots = [r for r in (repo_data_dir(), data_dir()) if r is not None]
    return roots + [cache_dir() / "data"]


def data_file(relative: str) -> Path | None:
    """The first local copy of ``relative`` (e.g. "stsb/test.tsv.gz"), or None."""
    for root in data_roots():
        if (root / relative).is_file():
            return root / relative
    return None


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")


def _read_tsv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", keep_default_na=False, dtype={"sid": str, "year": str})
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DatasetNotAvailable(
            f"The data file {path} is damaged or not a gzipped TSV ({type(e).__name__}: {e}). "
            "Copy it again from the course data."
        ) from None


def validate_stsb(df: pd.DataFrame, where: str, rows: int | None) -> pd.DataFrame:
    """Check an STS-B frame (columns, row count, scores in 0-5); raises DatasetNotAvailable."""
    missing = {"sentence1", "sentence2", "score"} - set(df.columns)
    if missing:
        raise DatasetNotAvailable(f"{where} lacks the column(s) {sorted(missing)}: wrong or damaged file.")
    if rows is not None and len(df) != rows:
        raise DatasetNotAvailable(f"{where} has {len(df)} rows, expected {rows}: the file is truncated or wrong.")
    df["score"] = pd.to_numeric(df["score"], errors="coerce")
    if df["score"].isna().any() or not df["score"].between(0, 5).all():
        raise DatasetNotAvailable(f"{where} has scores that are not numbers in 0-5: wrong or damaged file.")
    return df


HUB_LANGUAGES = ("de", "en", "es", "fr", "it", "nl", "pl", "pt", "ru", "zh")  # the hub's stsb_multi_mt has no "ja"
COLUMNS = ["sentence1", "sentence2", "score", "genre", "dataset", "year", "sid", "attribution1", "attribution2"]


def normalise_hub_stsb(df: pd.DataFrame) -> pd.DataFrame:
    """A frame as the Hugging Face hub serves STS-B, in the layout of the course's local files.

    Where the two differ (tests/test_data.py builds frames shaped like the hub's):
    ``mteb/stsbenchmark-sts`` has an extra ``split`` column and no ``attribution1/2`` columns
    (their StackExchange/EMM credits exist only in the original release: they become empty);
    ``PhilipMay/stsb_multi_mt`` calls the score ``similarity_score`` (float32) and has no
    genre/dataset/year/sid columns. Scores come out float64; text columns are str.
    """
    df = df.rename(columns={"similarity_score": "score"}).drop(columns=["split"], errors="ignore").copy()
    translated = "genre" not in df.columns
    for col in COLUMNS[3:]:
        if col not in df.columns and not translated:
            df[col] = ""
    df["score"] = df["score"].astype("float64")
    for col in df.columns:
        if col != "score":
            df[col] = df[col].astype(str)
    order = [c for c in COLUMNS if c in df.columns]
    return df[order + [c for c in df.columns if c not in order]].reset_index(drop=True)


def _stsb_from_hub(split: str, lang: str | None) -> pd.DataFrame:
    if lang is not None and lang not in HUB_LANGUAGES:
        raise DatasetNotAvailable(f"STS-B in {lang!r} exists only in the course's local data (the hub's "
                                  f"stsb_multi_mt has {', '.join(HUB_LANGUAGES)}). {_HOW}")
    try:
        from datasets import load_dataset

        if lang is None:
            df = load_dataset("mteb/stsbenchmark-sts", split=split).to_pandas()
        else:
            hub_split = "dev" if split == "validation" else split
            df = load_dataset("PhilipMay/stsb_multi_mt", lang, split=hub_split).to_pandas()
    except Exception as e:  # any failure of the download is the same problem for a learner
        raise DatasetNotAvailable(f"STS-B ({lang or 'original'}, {split}) could not be downloaded: {e}. {_HOW}") from e
    return normalise_hub_stsb(df)


@lru_cache(maxsize=64)
def _load_stsb(split: str, lang: str | None) -> pd.DataFrame:
    rel = f"stsb/{split}.tsv.gz" if lang is None else f"stsb_multi_mt/{lang}/{split}.tsv.gz"
    path = data_file(rel)
    if path is not None:
        return validate_stsb(_read_tsv(path), str(path), STSB_ROWS[split])
    if hub_allowed() and hub_reachable():
        return validate_stsb(_stsb_from_hub(split, lang), f"hub STS-B {lang or ''} {split}", STSB_ROWS[split])
    raise DatasetNotAvailable(f"STS-B file {rel} was not found in {[str(r) for r in data_roots()]}. {_HOW}")


def load_stsb(split: str = "test", lang: str | None = None) -> pd.DataFrame:
    """STS Benchmark pairs with gold scores 0-5 as a DataFrame.

    ``lang=None`` gives the original English release (with genre, dataset, year, sid);
    ``lang="it"`` etc. the machine translation, row-aligned with the original.
    """
    _check_split(split)
    if lang is not None:
        _check_lang(lang)
    return _load_stsb(split, lang).copy()


def load_stsb_crosslingual(split: str = "test", lang1: str = "en", lang2: str = "it") -> pd.DataFrame:
    """Cross-lingual STS pairs: sentence1 in ``lang1``, sentence2 in ``lang2``, same gold score.

    Possible because the translated files are row-aligned with the original.
    """
    a, b = load_stsb(split, lang1), load_stsb(split, lang2)
    if not (a["score"].to_numpy() == b["score"].to_numpy()).all():
        raise DatasetNotAvailable(f"STS-B {lang1} and {lang2} {split} files are not row-aligned.")
    return pd.DataFrame({"sentence1": a["sentence1"], "sentence2": b["sentence2"], "score": a["score"]})


def _corpus_from_hub() -> list[str]:
    try:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download("princeton-nlp/datasets-for-simcse", "wiki1m_for_simcse.txt", repo_type="dataset")
    except Exception as e:
        raise DatasetNotAvailable(f"The Wikipedia corpus could not be downloaded: {e}. {_HOW}") from None
    # The same selection as the course's local copy: the first 11,914 lines, at least
    # four words, exact duplicates dropped.
    out, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 11914:
                break
            s = line.strip()
            if len(s.split()) >= 4 and s not in seen:
                seen.add(s)
                out.append(s)
    return out


@lru_cache(maxsize=1)
def _load_corpus() -> tuple[str, ...]:
    rel = "corpus/wiki_sentences.txt.gz"
    path = data_file(rel)
    if path is None:
        if hub_allowed() and hub_reachable():
            return tuple(_corpus_from_hub())
        raise DatasetNotAvailable(f"The corpus file {rel} was not found in {[str(r) for r in data_roots()]}. {_HOW}")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        raise DatasetNotAvailable(f"The corpus file {path} is damaged ({type(e).__name__}: {e}). Copy it again.") from None
    lines = [s for s in lines if s.strip()]
    if len(lines) != CORPUS_ROWS:
        raise DatasetNotAvailable(f"{path} has {len(lines)} sentences, expected {CORPUS_ROWS}: truncated or wrong file.")
    return tuple(lines)


def load_corpus() -> list[str]:
    """10,527 English Wikipedia sentences (CC BY-SA), for search and deduplication demos."""
    return list(_load_corpus())


RETRIEVAL = {"squad_v1_dev": 10_570, "squad_it": 7_609}   # testbed -> number of questions


@dataclass(frozen=True)
class Retrieval:
    """A retrieval testbed: paragraphs (doc_id, title, text; the title names the Wikipedia article),
    questions (query_id, text, split: "test" for every question, as released) and the relevant
    paragraph of each question (qrels: query_id, doc_id, relevance). Both testbeds cover the same
    48 articles; a train/test split should go by article, so no article is on both sides."""

    name: str
    corpus: pd.DataFrame
    queries: pd.DataFrame
    qrels: pd.DataFrame

    def relevant(self) -> dict[str, set[str]]:
        """query_id -> the ids of its relevant paragraphs."""
        out: dict[str, set[str]] = {}
        for q, d in zip(self.qrels["query_id"], self.qrels["doc_id"]):
            out.setdefault(q, set()).add(d)
        return out


@lru_cache(maxsize=4)
def _load_retrieval(name: str) -> Retrieval:
    frames = {}
    for part in ("corpus", "queries", "qrels"):
        rel = f"{name}/{part}.tsv.gz"
        path = data_file(rel)
        if path is None:
            raise DatasetNotAvailable(f"The retrieval file {rel} was not found in {[str(r) for r in data_roots()]}. {_HOW}")
        try:
            frames[part] = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError) as e:
            raise DatasetNotAvailable(f"The data file {path} is damaged ({type(e).__name__}: {e}). "
                                      "Copy it again from the course data.") from None
    queries, qrels, corpus = frames["queries"], frames["qrels"], frames["corpus"]
    if len(queries) != RETRIEVAL[name] or not set(qrels["doc_id"]) <= set(corpus["doc_id"]) or \
            not set(qrels["query_id"]) <= set(queries["query_id"]):
        raise DatasetNotAvailable(f"The {name} files do not fit together ({len(queries)} questions, expected "
                                  f"{RETRIEVAL[name]}): truncated or wrong files.")
    return Retrieval(name, corpus, queries, qrels)


def load_retrieval(name: str = "squad_v1_dev") -> Retrieval:
    """A question-to-paragraph retrieval testbed: ``"squad_v1_dev"`` (English) or ``"squad_it"`` (Italian)."""
    if name not in RETRIEVAL:
        raise ValueError(f"name must be one of {sorted(RETRIEVAL)}, not {name!r}")
    r = _load_retrieval(name)
    return Retrieval(r.name, r.corpus.copy(), r.queries.copy(), r.qrels.copy())


SPLIT_SEED = 0        # the course's one article split (benchmarks, notebooks 07 and 09 use it)
TEST_ARTICLES = 24    # of the 48 articles; the other 24 are for training


def english_article(name: str) -> dict[str, str]:
    """Each article title of testbed ``name`` -> the title of the same article in ``squad_v1_dev``.

    SQuAD-it translates titles and renumbers paragraphs, so articles are matched through the
    question ids the two sets share (a majority vote per article; every shared id agrees on the
    data as committed), and by identical title where an article shares no id (Ctenophora)."""
    if name == "squad_v1_dev":
        return {t: t for t in _load_retrieval(name).corpus["title"]}
    en, other = _load_retrieval("squad_v1_dev"), _load_retrieval(name)

    def titles(r: Retrieval) -> pd.DataFrame:
        return r.qrels.merge(r.corpus[["doc_id", "title"]], on="doc_id")[["query_id", "title"]]

    joined = titles(other).merge(titles(en), on="query_id", suffixes=("", "_en"))
    votes = joined.groupby(["title", "title_en"]).size().reset_index(name="n").sort_values("n", ascending=False)
    mapping = dict(votes.drop_duplicates("title")[["title", "title_en"]].itertuples(index=False))
    english = set(en.corpus["title"])
    for title in set(other.corpus["title"]) - set(mapping):
        if title in english:
            mapping[title] = title
    missing = set(other.corpus["title"]) - set(mapping)
    if missing or len(set(mapping.values())) != len(mapping):
        raise DatasetNotAvailable(f"The articles of {name} do not match squad_v1_dev's one to one "
                                  f"(unmatched: {sorted(missing)[:3]}): wrong or edited files.")
    return mapping


def article_split(seed: int = SPLIT_SEED, test_articles: int = TEST_ARTICLES) -> dict[str, str]:
    """English article title -> "train" or "test": ``test_articles`` of the 48 drawn with ``seed``.

    Both testbeds cover the same 48 articles, so one split serves both languages: a question is
    never trained on in one language and tested on in the other."""
    titles = sorted(_load_retrieval("squad_v1_dev").corpus["title"].unique())
    if not 0 < test_articles < len(titles):
        raise ValueError(f"test_articles must be between 1 and {len(titles) - 1}, not {test_articles}")
    order = np.random.default_rng(seed).permutation(len(titles))
    test = {titles[i] for i in order[:test_articles]}
    return {t: "test" if t in test else "train" for t in titles}


def retrieval_split(name: str = "squad_v1_dev", part: str = "test", seed: int = SPLIT_SEED,
                    test_articles: int = TEST_ARTICLES) -> Retrieval:
    """The ``part`` ("train" or "test") of a testbed, split by article (``article_split``): its
    articles' paragraphs, the questions they answer (``split`` column set to ``part``), their qrels."""
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', not {part!r}")
    full = load_retrieval(name)
    side = article_split(seed, test_articles)
    to_english = english_article(name)
    corpus = full.corpus[[side[to_english[t]] == part for t in full.corpus["title"]]].reset_index(drop=True)
    qrels = full.qrels[full.qrels["doc_id"].isin(set(corpus["doc_id"]))].reset_index(drop=True)
    queries = full.queries[full.queries["query_id"].isin(set(qrels["query_id"]))].reset_index(drop=True)
    return Retrieval(name, corpus, queries.assign(split=part), qrels)


def clear_cache() -> None:
    """Forget data sets read earlier in this process (after changing $SEMSIM_DATA_DIR)."""
    _load_stsb.cache_clear()
    _load_corpus.cache_clear()
    _load_retrieval.cache_clear()
