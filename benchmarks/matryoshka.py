"""Does MatryoshkaLoss pay? nDCG@10 by embedding size for the base, MNRL-trained and Matryoshka-trained MiniLM.

Three versions of all-MiniLM-L6-v2 are scored on the test articles of a SQuAD testbed, with their
vectors cut to the first 32, 64, 128, 256 and all 384 dimensions and renormalised (what
sentence-transformers' ``truncate_dim`` does, followed by cosine):

* **base**: the untrained model;
* **MNRL**: fine-tuned as ``benchmarks/finetune.py``'s largest point (by default; same mined
  triplets, one epoch, batch 32, learning rate 5e-5, seed 0), with MultipleNegativesRankingLoss;
* **Matryoshka**: the same training, with the same loss wrapped in ``MatryoshkaLoss`` over
  those five sizes (equal weights), so the only difference to MNRL is the wrapper.

Each cell gives nDCG@10 with a 95 % bootstrap interval; the paired differences (same test
questions) compare Matryoshka with base and with MNRL at each size.

Usage: python benchmarks/matryoshka.py [--langs it en] [--queries N]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import RESULTS, markdown_table, write_results
import finetune
from finetune import MODEL, training_triplets   # the learning curve's model and its mined triplets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsim.data import SPLIT_SEED, retrieval_split  # noqa: E402
from semsim.evaluation import dense_ranking, mean_ci, paired_mean_diff, rank_metrics  # noqa: E402
from semsim.models.openvino import speed_flags  # noqa: E402
from semsim.training.bi_encoder import fresh_model, quiet_trainer  # noqa: E402
from retrieval import DEPTH, TESTBEDS, vector_flags  # noqa: E402

DIMS = [384, 256, 128, 64, 32]


def some_articles(bed, n: int | None, seed: int = 0):
    """The part of a testbed about ``n`` of its articles, drawn with ``seed`` (None: all of them)."""
    from semsim.data import Retrieval

    titles = sorted(bed.corpus["title"].unique())
    if not n or n >= len(titles):
        return bed
    keep = set(np.random.default_rng(seed).choice(titles, n, replace=False))
    corpus = bed.corpus[bed.corpus["title"].isin(keep)].reset_index(drop=True)
    qrels = bed.qrels[bed.qrels["doc_id"].isin(set(corpus["doc_id"]))].reset_index(drop=True)
    queries = bed.queries[bed.queries["query_id"].isin(set(qrels["query_id"]))].reset_index(drop=True)
    return Retrieval(bed.name, corpus, queries, qrels)


def train(model, triplets: pd.DataFrame, matryoshka: bool, epochs: int, lr: float, seed: int = 0) -> dict:
    """One run of ``semsim.training.bi_encoder.fine_tune(loss="mnrl")``'s training, written out so that
    the loss can be wrapped: the same arguments for both arms, only ``matryoshka`` differs."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainingArguments, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer import losses

    loss = losses.MultipleNegativesRankingLoss(model)
    if matryoshka:
        loss = losses.MatryoshkaLoss(model, loss, matryoshka_dims=DIMS)   # the same loss on each prefix, summed
    data = Dataset.from_pandas(triplets[["anchor", "positive", "negative"]], preserve_index=False)
    with tempfile.TemporaryDirectory() as tmp:
        args = SentenceTransformerTrainingArguments(
            output_dir=tmp, num_train_epochs=epochs, per_device_train_batch_size=32, learning_rate=lr,
            warmup_steps=0.1, save_strategy="no", report_to=[], seed=seed, logging_steps=10_000,
            disable_tqdm=True, dataloader_pin_memory=False, batch_sampler="no_duplicates")
        trainer = quiet_trainer(SentenceTransformerTrainer, model, args=args, train_dataset=data, loss=loss)
        t0 = time.perf_counter()
        out = trainer.train()
    model.eval()
    return {"seconds": time.perf_counter() - t0, "steps": int(out.global_step), "train_loss": float(out.training_loss)}


def encode(model, lang: str, n_queries: int | None, cached: bool = False, articles: int | None = None):
    """Full-size (384-d) vectors of the test paragraphs and questions, and what scoring needs.
    ``cached``: the paragraphs' vectors from semsim's embedding cache (the untrained model's only)."""
    from semsim.models.cache import cached_encoder

    bed = some_articles(retrieval_split(TESTBEDS[lang], "test"), articles)
    queries = bed.queries if not n_queries else bed.queries.sample(n=min(n_queries, len(bed.queries)), random_state=0)
    texts = bed.corpus["text"].tolist()
    D = (cached_encoder(model).encode(texts, batch_size=32) if cached
         else model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False))
    Q = model.encode(queries["text"].tolist(), batch_size=64, convert_to_numpy=True, show_progress_bar=False)
    return bed, queries, Q, D


def truncated(X: np.ndarray, dim: int) -> np.ndarray:
    """The first ``dim`` coordinates, renormalised to unit length (truncate_dim, then cosine)."""
    X = X[:, :dim]
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def ndcg_by_dim(bed, queries, Q, D) -> dict[int, np.ndarray]:
    ids, relevant = bed.corpus["doc_id"].tolist(), bed.relevant()
    out = {}
    for dim in DIMS:
        run = dict(zip(queries["query_id"], dense_ranking(truncated(Q, dim), truncated(D, dim), ids, DEPTH)))
        out[dim] = rank_metrics(run, {q: relevant[q] for q in run})["ndcg@10"].to_numpy()
    return out


def fmt(t: tuple[float, float, float], sign: bool = False) -> str:
    f = "{:+.3f}" if sign else "{:.3f}"
    return f"{f.format(t[0])} [{f.format(t[1])}, {f.format(t[2])}]"


def compare(lang: str, n_queries: int | None, size: int, epochs: int, lr: float, train_length: int,
            margin: float | None, train_articles: int | None, test_articles: int | None) -> tuple[str, list[dict], dict]:
    t_all = time.perf_counter()
    base = fresh_model(MODEL)
    t0 = time.perf_counter()
    full_split = finetune.retrieval_split
    finetune.retrieval_split = lambda name, part: some_articles(full_split(name, part), train_articles)  # fewer articles to mine
    try:
        triplets = training_triplets(lang, base, size, margin)
    finally:
        finetune.retrieval_split = full_split
    print(f"{lang}: {len(triplets)} triplets mined in {time.perf_counter() - t0:.0f} s", flush=True)
    scores, logs = {}, {}
    t0 = time.perf_counter()
    scores["base"] = ndcg_by_dim(*encode(base, lang, n_queries, cached=True, articles=test_articles))
    print(f"base scored in {time.perf_counter() - t0:.0f} s", flush=True)
    del base
    for name, matryoshka in (("MNRL", False), ("Matryoshka", True)):
        model = fresh_model(MODEL)
        full_length, model.max_seq_length = model.max_seq_length, train_length
        logs[name] = train(model, triplets, matryoshka, epochs, lr)
        model.max_seq_length = full_length
        scores[name] = ndcg_by_dim(*encode(model, lang, n_queries, articles=test_articles))
        print(name, logs[name], {d: round(float(v.mean()), 3) for d, v in scores[name].items()}, flush=True)
        del model
        np.savez(RESULTS / f"_{lang}_matryoshka_scores.npz", **{f"{m}_{d}": v for m in scores for d, v in scores[m].items()})
    (RESULTS / f"_{lang}_matryoshka_scores.npz").unlink()   # kept only to survive a failure below
    n_q = len(scores["base"][384])
    rows, points = [], []
    for dim in DIMS:
        cell = {m: mean_ci(scores[m][dim]) for m in scores}
        vs_base = paired_mean_diff(scores["Matryoshka"][dim], scores["base"][dim])
        vs_mnrl = paired_mean_diff(scores["Matryoshka"][dim], scores["MNRL"][dim])
        mnrl_vs_base = paired_mean_diff(scores["MNRL"][dim], scores["base"][dim])
        rows.append({"dims": dim, **{f"{m} nDCG@10 [95 % CI]": fmt(cell[m]) for m in scores},
                     "Δ MNRL − base": fmt(mnrl_vs_base, True), "Δ Matryoshka − base": fmt(vs_base, True),
                     "Δ Matryoshka − MNRL": fmt(vs_mnrl, True)})
        for m in scores:
            own = paired_mean_diff(scores[m][dim], scores[m][384])     # what cutting costs this model
            points.append({"lang": lang, "model": m, "dims": dim, "ndcg": cell[m][0], "lo": cell[m][1], "hi": cell[m][2],
                           "vs_full": own[0], "vs_full_lo": own[1], "vs_full_hi": own[2]})
        points.append({"lang": lang, "model": "Matryoshka − MNRL", "dims": dim, "delta": vs_mnrl[0], "dlo": vs_mnrl[1], "dhi": vs_mnrl[2]})
        points.append({"lang": lang, "model": "Matryoshka − base", "dims": dim, "delta": vs_base[0], "dlo": vs_base[1], "dhi": vs_base[2]})
        points.append({"lang": lang, "model": "MNRL − base", "dims": dim, "delta": mnrl_vs_base[0], "dlo": mnrl_vs_base[1],
                       "dhi": mnrl_vs_base[2]})
    head = (f"**{TESTBEDS[lang]}** ({'English' if lang == 'en' else 'Italian'}): {n_q:,} test questions of "
            f"{test_articles or 24} of the 24 test articles, ranked among those articles' paragraphs; trained on "
            f"{len(triplets)} questions (of {size} asked for) of {train_articles or 24} of the 24 training articles, "
            "with a hard negative each mined among those articles' paragraphs, "
            f"{logs['MNRL']['steps']} steps per run. Training: MNRL {logs['MNRL']['seconds']:.0f} s, "
            f"Matryoshka {logs['Matryoshka']['seconds']:.0f} s; {time.perf_counter() - t_all:.0f} s for this table.")
    meta = {"lang": lang, "questions": n_q, "train_questions": len(triplets), "steps": logs["MNRL"]["steps"],
            "train_s": {k: round(v["seconds"], 1) for k, v in logs.items()}}
    return head, rows, {"meta": meta, "points": points}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=["it"], choices=sorted(TESTBEDS))
    parser.add_argument("--size", type=int, default=1024, help="training questions asked for (those without a negative are dropped)")
    parser.add_argument("--queries", type=int, default=None, help="a seeded sample of the test questions (default: all)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--margin", type=float, default=0.05)
    parser.add_argument("--train-length", type=int, default=160)
    parser.add_argument("--train-articles", type=int, default=None, help="questions and mining pool from this many training articles (default: all 24)")
    parser.add_argument("--test-articles", type=int, default=None, help="score on this many test articles (default: all 24)")
    parser.add_argument("--out", default="matryoshka")
    args = parser.parse_args()
    body = [f"Model {MODEL}. Both fine-tuned versions train with `benchmarks/finetune.py`'s settings and on the same triplets, "
            f"mined by its `training_triplets` (question, paragraph, hard negative; relative margin {args.margin:g}), a fresh copy each, "
            f"{args.epochs} epoch(s), batch 32, learning rate {args.lr:g}, warm-up 10 %, seed 0, `no_duplicates` batches, texts cut "
            f"to {args.train_length} tokens while training (256 when scoring). **MNRL**: MultipleNegativesRankingLoss. "
            f"**Matryoshka**: the same loss wrapped in `MatryoshkaLoss(model, loss, matryoshka_dims={DIMS})` (equal weights). "
            f"Articles drawn with seed 0 (`some_articles`): {args.train_articles or 'all 24'} training, {args.test_articles or 'all 24'} test. "
            "Scoring: each model's 384-d vectors cut to their first *dims* coordinates and renormalised (as `truncate_dim`), "
            f"cosine ranking of the test articles' paragraphs, nDCG@10. Split: `article_split(seed={SPLIT_SEED})`. "
            "Intervals: 95 % percentile bootstrap over test questions (1,000 resamples, seed 0); Δ is paired (same questions). "
            "Training times depend on the CPU and on what else runs (this run shared 2 cores with other jobs); the quality columns do not."]
    out = {"runs": []}
    for lang in args.langs:
        head, rows, run = compare(lang, args.queries, args.size, args.epochs, args.lr, args.train_length, args.margin or None,
                                 args.train_articles, args.test_articles)
        out["runs"].append(run)
        body += ["", head, "", markdown_table(rows)]
        print(head, "\n", markdown_table(rows), flush=True)
    body += ["", f"{vector_flags()} Speed-relevant (`semsim.models.openvino.speed_flags`): {' '.join(speed_flags()) or 'none'}.",
             "", f"The points (and each model's paired loss against its own 384-d vectors), for notebook 09's figure: "
             f"`{args.out}.json` beside this file."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, indent=1) + "\n")
    print(write_results(args.out, "MatryoshkaLoss: retrieval quality by embedding size, with and without it", "\n".join(body)))


if __name__ == "__main__":
    main()
