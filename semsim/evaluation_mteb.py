"""MTEB's own library on the course's local data (notebook 12 and ``benchmarks/mteb_check.py``).

``mteb`` (pinned in requirements.txt) ships task definitions whose data come from the Hugging Face
hub, and ``mteb.get_model`` looks a model up on the hub too; with no network both fail. What works
offline is the public API underneath: a task is a subclass of one of mteb's abstract task types
(``AbsTaskSTS``, ``AbsTaskRetrieval``) whose ``load_data`` fills ``self.dataset`` from memory, and
``mteb.evaluate`` accepts a loaded SentenceTransformer object. This module builds such tasks from
the frames ``semsim.data`` returns; nothing here downloads anything.

mteb is imported inside the functions, so ``import semsim`` never pays for it.
"""
from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

# stsb_multi_mt's language codes -> the ISO 639-3 + script codes mteb's task metadata require
MTEB_LANGS = {"en": "eng-Latn", "de": "deu-Latn", "es": "spa-Latn", "fr": "fra-Latn", "it": "ita-Latn",
              "ja": "jpn-Jpan", "nl": "nld-Latn", "pl": "pol-Latn", "pt": "por-Latn", "ru": "rus-Cyrl",
              "zh": "cmn-Hans"}
RETRIEVAL_LANGS = {"squad_v1_dev": "eng-Latn", "squad_it": "ita-Latn"}


def _metadata(name: str, kind: str, main_score: str, eval_langs: Any, description: str) -> Any:
    from mteb.abstasks.task_metadata import TaskMetadata

    return TaskMetadata(
        name=name, type=kind, main_score=main_score, description=description,
        reference="https://github.com/embeddings-benchmark/mteb",
        dataset={"path": f"local/{name}", "revision": "local"},   # never fetched: load_data fills the data
        category="t2t", eval_splits=["test"], eval_langs=eval_langs, date=("2012-01-01", "2018-12-31"),
        dialect=[], domains=[], task_subtypes=[], license="cc-by-sa-4.0", annotations_creators="human-annotated",
        modalities=["text"], sample_creation="found", bibtex_citation="")


def sts_task(frames: dict[str, pd.DataFrame], name: str = "LocalSTSB") -> Any:
    """An mteb STS task with one subset per language: ``frames[lang]`` has sentence1, sentence2, score (0-5).

    mteb's main STS score is ``cosine_spearman``: the Spearman correlation of the pair cosines with the
    gold scores, what ``semsim.evaluation.correlations(pair_cosines(...), score).spearman`` computes.
    """
    from datasets import Dataset, DatasetDict
    from mteb.abstasks.sts import AbsTaskSTS

    unknown = set(frames) - set(MTEB_LANGS)
    if unknown:
        raise ValueError(f"unknown languages {sorted(unknown)}; known: {sorted(MTEB_LANGS)}")
    data = {lang: DatasetDict({"test": Dataset.from_pandas(df[["sentence1", "sentence2", "score"]].astype(
        {"score": float}), preserve_index=False)}) for lang, df in frames.items()}

    def load_data(self: Any, **kwargs: Any) -> None:
        self.dataset = data
        self.data_loaded = True

    meta = _metadata(name, "STS", "cosine_spearman", {lang: [MTEB_LANGS[lang]] for lang in frames},
                     "STS Benchmark test pairs (and their machine translations) from the course's data/ folder")
    cls = type(name, (AbsTaskSTS,), {"metadata": meta, "min_score": 0, "max_score": 5, "load_data": load_data})
    return cls()


def retrieval_task(bed: Any, name: str | None = None, titles: bool = False) -> Any:
    """An mteb retrieval task from a ``semsim.data.Retrieval`` (e.g. ``retrieval_split("squad_it", "test")``).

    ``titles=False`` gives mteb the paragraphs' text only, as the course's benchmark encodes them;
    ``titles=True`` also passes each paragraph's article title, which mteb prepends to the text
    (``title + " " + text``) before encoding. Main score: ``ndcg_at_10``.
    """
    from datasets import Dataset
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData

    name = name or f"Local_{bed.name}{'_titles' if titles else ''}"
    columns = {"id": bed.corpus["doc_id"].astype(str).tolist(), "text": bed.corpus["text"].tolist()}
    if titles:
        columns["title"] = bed.corpus["title"].tolist()
    split = RetrievalSplitData(
        queries=Dataset.from_dict({"id": bed.queries["query_id"].astype(str).tolist(),
                                   "text": bed.queries["text"].tolist()}),
        corpus=Dataset.from_dict(columns),
        relevant_docs={q: {d: 1 for d in docs} for q, docs in bed.relevant().items()},
        top_ranked=None)

    def load_data(self: Any, **kwargs: Any) -> None:
        self.dataset = {"default": {"test": split}}
        self.data_loaded = True

    meta = _metadata(name, "Retrieval", "ndcg_at_10", [RETRIEVAL_LANGS.get(bed.name, "eng-Latn")],
                     f"{bed.name}: questions against the paragraphs of their articles, from the course's data/ folder")
    cls = type(name, (AbsTaskRetrieval,), {"metadata": meta, "load_data": load_data})
    return cls()


def evaluate(model: Any, tasks: Any, **kwargs: Any) -> Any:
    """``mteb.evaluate`` with no result cache on disk and no progress bars; returns mteb's ModelResult.

    Silences one FutureWarning: mteb 2.26 asks the model for ``get_sentence_embedding_dimension``,
    which sentence-transformers 6 renamed (harmless; the old name still works)."""
    import datasets
    import mteb

    kwargs = {"cache": None, "show_progress_bar": False, **kwargs}
    bars_were_on = not datasets.are_progress_bars_disabled()
    if not kwargs["show_progress_bar"]:
        datasets.disable_progress_bars()          # mteb maps the corpus through datasets, which draws its own bars
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*get_sentence_embedding_dimension.*", category=FutureWarning)
            return mteb.evaluate(model, tasks, **kwargs)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()


def main_scores(result: Any) -> pd.DataFrame:
    """One row per (task, subset) of an mteb ModelResult: its ``main_score`` and the metric's name."""
    rows = []
    for task_result in result.task_results:
        for split, subsets in task_result.scores.items():
            for scores in subsets:
                rows.append({"task": task_result.task_name, "split": split, "subset": scores["hf_subset"],
                             "main_score": float(scores["main_score"])})
    return pd.DataFrame(rows)
