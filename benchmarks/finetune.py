"""Fine-tuning all-MiniLM-L6-v2 for retrieval: a learning curve on the SQuAD testbeds, per language.

Training questions come from the 24 training articles of ``semsim.data.article_split``; every
score is on the questions of the other 24 articles (never trained on), over those articles'
paragraphs. Each point trains a fresh copy of the model for one epoch with
MultipleNegativesRankingLoss on (question, paragraph, hard negative) triplets; the hard
negative is the base model's best-ranked other paragraph of the training articles
(sentence-transformers' ``mine_hard_negatives``, top strategy, 5 % relative margin). Each row
gives nDCG@10 and MRR@10 with 95 % bootstrap intervals and the paired difference in nDCG@10
to the untrained model on the same questions.

Usage: python benchmarks/finetune.py [--langs en it] [--sizes 64 256 1024] [--queries N]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from _common import RESULTS, markdown_table, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsim.data import SPLIT_SEED, retrieval_split  # noqa: E402
from semsim.evaluation import dense_ranking, mean_ci, paired_mean_diff, rank_metrics  # noqa: E402
from semsim.training.bi_encoder import fine_tune, fresh_model  # noqa: E402
from retrieval import DEPTH, TESTBEDS, vector_flags  # noqa: E402  (the ladder's testbeds and depth)
MODEL = "all-MiniLM-L6-v2"


def training_triplets(lang: str, model, n: int, margin: float | None, seed: int = SPLIT_SEED) -> pd.DataFrame:
    """Up to ``n`` seeded (question, paragraph, hard negative) rows from the training articles.

    ``margin``: mine_hard_negatives' relative margin; a question whose best other paragraphs
    all score within it of (or above) its own paragraph gets no negative and is dropped."""
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    bed = retrieval_split(TESTBEDS[lang], "train")
    text_of = dict(zip(bed.corpus["doc_id"], bed.corpus["text"]))
    pairs = bed.qrels.merge(bed.queries[["query_id", "text"]], on="query_id")
    pairs = pairs.drop_duplicates("query_id").sample(n=min(n, len(pairs)), random_state=seed)
    data = Dataset.from_dict({"anchor": pairs["text"].tolist(), "positive": [text_of[d] for d in pairs["doc_id"]]})
    mined = mine_hard_negatives(data, model, corpus=list(text_of.values()), range_max=10, num_negatives=1,
                                relative_margin=margin, sampling_strategy="top", output_format="triplet",
                                batch_size=32, verbose=False)
    return mined.to_pandas()


def scores(model, lang: str, n_queries: int | None) -> pd.DataFrame:
    """Per-question retrieval scores of ``model`` on the test articles (dense, cosine, top 100)."""
    bed = retrieval_split(TESTBEDS[lang], "test")
    queries = bed.queries if not n_queries else bed.queries.sample(n=min(n_queries, len(bed.queries)), random_state=0)
    ids = bed.corpus["doc_id"].tolist()
    d = model.encode(bed.corpus["text"].tolist(), batch_size=32, normalize_embeddings=True)
    q = model.encode(queries["text"].tolist(), batch_size=64, normalize_embeddings=True)
    run = dict(zip(queries["query_id"], dense_ranking(q, d, ids, DEPTH)))
    relevant = bed.relevant()
    return rank_metrics(run, {qid: relevant[qid] for qid in run})


def curve(lang: str, sizes: list[int], n_queries: int | None, epochs: int, lr: float,
          train_length: int, margin: float | None) -> tuple[list[dict], list[dict]]:
    base_model = fresh_model(MODEL)
    base = scores(base_model, lang, n_queries)
    n, lo, hi = mean_ci(base["ndcg@10"])
    rows = [{"training questions": 0, "steps": 0, "train s": "–", "nDCG@10 [95 % CI]": f"{n:.3f} [{lo:.3f}, {hi:.3f}]",
             "MRR@10": f"{base['mrr@10'].mean():.3f}", "hit@1": f"{base['hit@1'].mean():.3f}", "Δ nDCG@10 vs untrained": "–"}]
    points = [{"lang": lang, "pairs": 0, "ndcg": n, "lo": lo, "hi": hi, "delta": 0.0, "dlo": 0.0, "dhi": 0.0}]
    t0 = time.perf_counter()
    triplets = training_triplets(lang, base_model, max(sizes), margin)
    mined_s = time.perf_counter() - t0
    print(f"{lang}: {len(triplets)} triplets mined in {mined_s:.0f} s", flush=True)
    for size in sizes:
        model = fresh_model(MODEL)
        full_length, model.max_seq_length = model.max_seq_length, train_length   # shorter inputs train faster
        log = fine_tune(model, triplets.iloc[:size], loss="mnrl", epochs=epochs, batch_size=32, learning_rate=lr)
        model.max_seq_length = full_length                                        # scored as the base model is
        s = scores(model, lang, n_queries)
        n, lo, hi = mean_ci(s["ndcg@10"])
        d, dlo, dhi = paired_mean_diff(s["ndcg@10"], base["ndcg@10"])
        rows.append({"training questions": min(size, len(triplets)), "steps": int(log["steps"]),
                     "train s": f"{log['seconds']:.0f}", "nDCG@10 [95 % CI]": f"{n:.3f} [{lo:.3f}, {hi:.3f}]",
                     "MRR@10": f"{s['mrr@10'].mean():.3f}", "hit@1": f"{s['hit@1'].mean():.3f}",
                     "Δ nDCG@10 vs untrained": f"{d:+.3f} [{dlo:+.3f}, {dhi:+.3f}]"})
        points.append({"lang": lang, "pairs": min(size, len(triplets)), "ndcg": n, "lo": lo, "hi": hi,
                       "delta": d, "dlo": dlo, "dhi": dhi})
        print(rows[-1], flush=True)
    return rows, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=["it", "en"], choices=sorted(TESTBEDS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[64, 256, 1024])
    parser.add_argument("--queries", type=int, default=None, help="a seeded sample of the test questions (default: all)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--margin", type=float, default=0.05, help="relative margin of mine_hard_negatives (0: none)")
    parser.add_argument("--out", default="finetune", help="results/<out>.md and results/<out>_curve.json")
    parser.add_argument("--train-length", type=int, default=160, help="max tokens per text while training")
    args = parser.parse_args()
    body = [f"Model {MODEL}; MultipleNegativesRankingLoss, batch 32, {args.epochs} epoch(s), learning rate {args.lr:g}, "
            f"warm-up 10 %, seed 0; texts cut to {args.train_length} tokens while training (256 when scoring); "
            f"one mined hard negative per question (relative margin {args.margin:g}; questions without one are dropped). Split: `article_split(seed={SPLIT_SEED})`. "
            "Intervals: 95 % percentile bootstrap over test questions (1,000 resamples); Δ is paired. "
            "Training times depend on the CPU and on what else runs; the quality columns do not."]
    points = []
    for lang in args.langs:
        t0 = time.perf_counter()
        rows, pts = curve(lang, args.sizes, args.queries, args.epochs, args.lr, args.train_length, args.margin or None)
        points += pts
        head = (f"**{TESTBEDS[lang]}** ({'English' if lang == 'en' else 'Italian'}): test questions of the 24 test "
                f"articles; {time.perf_counter() - t0:.0f} s for this table.")
        body += ["", head, "", markdown_table(rows)]
        print(head, "\n", markdown_table(rows), flush=True)
    body += ["", vector_flags(),
             "", f"The points of the curve, for notebook 09's figure: `{args.out}_curve.json` beside this file."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}_curve.json").write_text(json.dumps(points, indent=1) + "\n")
    print(write_results(args.out, "Fine-tuning MiniLM for retrieval: a learning curve per language", "\n".join(body)))


if __name__ == "__main__":
    main()
