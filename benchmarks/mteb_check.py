"""MTEB's own library (the pinned ``mteb``) on the course's local data, beside semsim's own numbers.

With no network, ``mteb.get_model`` and mteb's own task definitions cannot fetch anything from the
Hugging Face hub; this script records that failure, then runs the offline route: tasks built from
local files (``semsim.evaluation_mteb``), a model loaded by ``semsim.load_model``, ``mteb.evaluate``.

* STS: the STS-B test split (all 1,379 pairs unless ``--pairs``) in English and three machine translations;
  mteb's main score ``cosine_spearman`` against ``semsim.evaluation`` (cosines, Spearman).
* Retrieval: the test questions (all unless ``--queries``) of the SQuAD testbeds (``retrieval_split(name, "test")``)
  against the test paragraphs; mteb's ``ndcg_at_10`` against ``semsim.evaluation.rank_metrics``
  (trec_eval's code through pytrec_eval) on the course's dense ranking. mteb runs twice: on the
  paragraphs' text alone (as the course encodes them) and with their article titles, which mteb
  prepends to each document.

Notebook 12 reads the results file. Usage: python benchmarks/mteb_check.py [--queries N] [--model NAME]
       [--pairs N] [--testbeds squad_v1_dev squad_it]
(``--queries``/``--pairs`` sample, seeded, for a machine too busy for the full run; the file says which).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")        # nothing may download: fail fast instead of waiting
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from _common import markdown_table, write_results  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsim.data import load_stsb, retrieval_split  # noqa: E402
from semsim.evaluation import correlations, dense_ranking, pair_cosines, rank_metrics  # noqa: E402
from semsim.evaluation_mteb import evaluate, main_scores, retrieval_task, sts_task  # noqa: E402
from semsim.models.cache import cached_encoder  # noqa: E402
from semsim.models.load import load_model  # noqa: E402
from semsim.models.openvino import speed_flags  # noqa: E402

LANGS = ["en", "de", "it", "zh"]
TESTBEDS = {"squad_v1_dev": "English", "squad_it": "Italian"}


def offline_get_model(name: str) -> str:
    """What ``mteb.get_model`` does with no network: the exception's type and first line."""
    import mteb

    try:
        mteb.get_model(name)
    except Exception as e:   # noqa: BLE001 - we report whatever it raises
        return f"{type(e).__name__}: {str(e).splitlines()[0]}"
    return "loaded (a copy was already in the Hugging Face cache)"


def sts_rows(model, pairs: int | None) -> list[dict]:
    rows = load_stsb("test").sample(n=pairs, random_state=0).index if pairs else slice(None)
    frames = {lang: load_stsb("test", lang=lang).loc[rows] for lang in LANGS}   # the same rows in every language
    t0 = time.perf_counter()
    ours = {lang: correlations(pair_cosines(cached_encoder(model), df, batch_size=64), df["score"]).spearman
            for lang, df in frames.items()}
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = main_scores(evaluate(model, sts_task(frames))).set_index("subset")["main_score"]
    t_mteb = time.perf_counter() - t0
    rows = [{"language": lang, "pairs": len(frames[lang]), "mteb cosine_spearman": f"{theirs[lang]:.6f}",
             "semsim Spearman": f"{ours[lang]:.6f}", "mteb − semsim": f"{theirs[lang] - ours[lang]:+.1e}"}
            for lang in LANGS]
    print(f"STS: semsim {t_ours:.0f} s, mteb {t_mteb:.0f} s", flush=True)
    return rows


def retrieval_rows(model, name: str, queries: int | None) -> list[dict]:
    bed = retrieval_split(name, "test")
    if queries:
        sample = bed.queries.sample(n=queries, random_state=0)
        bed = dataclasses.replace(bed, queries=sample, qrels=bed.qrels[bed.qrels["query_id"].isin(set(sample["query_id"]))])
    qids, texts = bed.queries["query_id"].tolist(), bed.queries["text"].tolist()
    ids, paragraphs = bed.corpus["doc_id"].tolist(), bed.corpus["text"].tolist()
    relevant = bed.relevant()
    t0 = time.perf_counter()
    run = dense_ranking(model.encode(texts, batch_size=64, normalize_embeddings=True),
                        cached_encoder(model).encode(paragraphs, batch_size=32), ids, k=100)
    ours = rank_metrics(dict(zip(qids, run)), relevant)
    t_ours = time.perf_counter() - t0
    rows = [{"testbed": f"{name} ({TESTBEDS[name]})", "questions": len(qids), "paragraphs": len(ids),
             "run": "semsim: dense_ranking + rank_metrics (text only)",
             "nDCG@10": f"{ours['ndcg@10'].mean():.6f}", "MRR@10": f"{ours['mrr@10'].mean():.6f}",
             "recall@100": f"{ours['recall@100'].mean():.6f}"}]
    print(f"{name}: semsim {t_ours:.0f} s", flush=True)
    for titles in (False, True):
        t0 = time.perf_counter()
        result = evaluate(model, retrieval_task(bed, titles=titles))
        scores = result.task_results[0].scores["test"][0]
        rows.append({"testbed": f"{name} ({TESTBEDS[name]})", "questions": len(qids), "paragraphs": len(ids),
                     "run": "mteb.evaluate, " + ("title + text (mteb joins them)" if titles else "text only"),
                     "nDCG@10": f"{scores['ndcg_at_10']:.6f}", "MRR@10": f"{scores['mrr_at_10']:.6f}",
                     "recall@100": f"{scores['recall_at_100']:.6f}"})
        print(f"{name}: mteb titles={titles} {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--queries", type=int, default=None, help="sample this many questions per testbed")
    parser.add_argument("--pairs", type=int, default=None, help="sample this many STS-B test pairs (same rows in every language)")
    parser.add_argument("--testbeds", nargs="+", default=list(TESTBEDS), choices=list(TESTBEDS))
    parser.add_argument("--out", default="mteb_check")
    args = parser.parse_args()

    t_start = time.perf_counter()
    t0 = time.perf_counter()
    import mteb
    t_import = time.perf_counter() - t0
    failure = offline_get_model(f"sentence-transformers/{args.model}")
    print("mteb.get_model offline:", failure, flush=True)
    model = load_model(args.model)

    sts = sts_rows(model, args.pairs)
    print(markdown_table(sts), flush=True)
    ret = [row for name in args.testbeds for row in retrieval_rows(model, name, args.queries)]
    print(markdown_table(ret), flush=True)

    body = [
        f"mteb {mteb.__version__} (pinned in requirements.txt), model {args.model} loaded by `semsim.load_model`; "
        "HF_HUB_OFFLINE=1, no network.",
        "",
        f"**`mteb.get_model(\"sentence-transformers/{args.model}\")` offline:** `{failure}`. "
        "Offline route: tasks built from local files by `semsim.evaluation_mteb` (`sts_task`, `retrieval_task`), "
        "the SentenceTransformer object passed to `mteb.evaluate(model, tasks, cache=None)`.",
        "",
        "**STS** (STS-B test split, " + (f"a seeded sample of {args.pairs} pairs, the same rows in every language"
                                          if args.pairs else "every pair") +
        "; the translations are `stsb_multi_mt`): mteb's main score `cosine_spearman` against semsim's "
        "`correlations(pair_cosines(cached_encoder(model), pairs), score).spearman`.",
        "",
        markdown_table(sts),
        "",
        "**Retrieval** (test articles of the course's split, " + ("every test question" if not args.queries else
                                                                 f"{args.queries} sampled questions per testbed") +
        "): mteb's `ndcg_at_10`, `mrr_at_10`, `recall_at_100` against `semsim.evaluation.rank_metrics` "
        "(pytrec_eval) on `dense_ranking` of the same model's vectors, top 100.",
        "",
        markdown_table(ret),
        "",
        f"Importing mteb took {t_import:.1f} s; the whole script {time.perf_counter() - t_start:.0f} s "
        f"(1-minute load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs). "
        "vector CPU flags: " + (" ".join(speed_flags()) or "none found") + ".",
    ]
    print(write_results(args.out, "MTEB's own library on the course's local data", "\n".join(body)))


if __name__ == "__main__":
    main()
