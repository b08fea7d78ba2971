"""semsim.evaluation_mteb: mteb's own evaluation on tasks built from local frames agrees with semsim's."""
from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("mteb")

from semsim.data import Retrieval  # noqa: E402
from semsim.evaluation import correlations, dense_ranking, pair_cosines, rank_metrics  # noqa: E402
from semsim.evaluation_mteb import evaluate, main_scores, retrieval_task, sts_task  # noqa: E402

PAIRS = pd.DataFrame({
    "sentence1": ["A man is playing a guitar.", "A woman is slicing onions.", "The cat sleeps on the sofa.",
                  "Two dogs run in a field.", "A child reads a book.", "The stock market fell today."],
    "sentence2": ["Someone plays the guitar.", "A woman cuts an onion.", "A dog barks at the mailman.",
                  "Two dogs are running outside.", "An adult cooks dinner.", "It is raining in Paris."],
    "score": [4.6, 4.2, 0.8, 4.4, 1.0, 0.0],
})

BED = Retrieval(
    name="squad_v1_dev",
    corpus=pd.DataFrame({"doc_id": ["d1", "d2", "d3", "d4"],
                         "title": ["Guitar", "Onion", "Paris", "Dogs"],
                         "text": ["The guitar is a string instrument played by plucking.",
                                  "Onions are vegetables that make people cry when cut.",
                                  "Paris is the capital and largest city of France.",
                                  "Dogs were the first animals domesticated by humans."]}),
    queries=pd.DataFrame({"query_id": ["q1", "q2", "q3"],
                          "text": ["Which city is the capital of France?", "What instrument is plucked?",
                                   "Which animal was domesticated first?"],
                          "split": ["test"] * 3}),
    qrels=pd.DataFrame({"query_id": ["q1", "q2", "q3", "q3"], "doc_id": ["d3", "d1", "d4", "d2"],
                        "relevance": [1, 1, 1, 1]}),
)


def test_sts_task_main_score_is_semsims_spearman(minilm):
    frames = {"en": PAIRS, "de": PAIRS.iloc[::-1]}
    scores = main_scores(evaluate(minilm, sts_task(frames)))
    assert list(scores["subset"]) == ["en", "de"] and (scores["task"] == "LocalSTSB").all()
    ours = correlations(pair_cosines(minilm, PAIRS), PAIRS["score"]).spearman
    assert scores["main_score"].to_numpy() == pytest.approx([ours, ours], abs=1e-6)


def test_retrieval_task_ndcg_is_rank_metrics(minilm):
    result = evaluate(minilm, retrieval_task(BED))
    theirs = result.task_results[0].scores["test"][0]
    run = dense_ranking(minilm.encode(BED.queries["text"].tolist(), normalize_embeddings=True),
                        minilm.encode(BED.corpus["text"].tolist(), normalize_embeddings=True),
                        BED.corpus["doc_id"].tolist(), k=100)
    ours = rank_metrics(dict(zip(BED.queries["query_id"], run)), BED.relevant())
    assert theirs["main_score"] == pytest.approx(ours["ndcg@10"].mean(), abs=1e-4)


def test_retrieval_task_titles_reach_mteb_only_when_asked():
    plain, titled = retrieval_task(BED), retrieval_task(BED, titles=True)
    for task in (plain, titled):
        task.load_data()
    corpus = lambda task: task.dataset["default"]["test"]["corpus"]
    assert "title" not in corpus(plain).column_names
    assert corpus(titled)["title"] == BED.corpus["title"].tolist()
    assert plain.metadata.name != titled.metadata.name and plain.metadata.main_score == "ndcg_at_10"


def test_sts_task_rejects_unknown_language():
    with pytest.raises(ValueError, match="unknown languages"):
        sts_task({"xx": PAIRS})
