"""The retrieval ladder on the SQuAD testbeds: BM25 -> dense -> hybrid -> two-stage, per language.

Every system answers the same test questions (the article split of ``semsim.data``: 24 of the
48 articles, never trained on) over the paragraphs of those articles. Each row gives nDCG@10
and MRR@10 with 95 % bootstrap intervals, recall@100, the paired difference of nDCG@10 to the
row it builds on (same queries, paired bootstrap), and the median time to answer one query
alone on this CPU (encoding the query included; the corpus is encoded beforehand).

Second stages (a stronger bi-encoder, the course's STS-B cross-encoder) re-score the first
stage's top candidates; the cross-encoder rows run on a seeded sample of the questions
(``--rerank-queries``) because a cross-encoder reads every (question, paragraph) pair.

Usage: python benchmarks/retrieval.py [--langs en it] [--queries N] [--rerank-queries 300]
       python benchmarks/retrieval.py --latency-only [--timed 100]   (timings alone, to re-measure
       them on a quiet machine without re-scoring every question: results/retrieval_latency.md)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from _common import markdown_table, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsim.data import SPLIT_SEED, TEST_ARTICLES, retrieval_split  # noqa: E402
from semsim.evaluation import dense_ranking, mean_ci, paired_mean_diff, rank_metrics  # noqa: E402
from semsim.models.cache import cached_encoder  # noqa: E402
from semsim.models.load import load_model  # noqa: E402
from semsim.models.openvino import cpu_flags  # noqa: E402
from semsim.search.hybrid import reciprocal_rank_fusion  # noqa: E402
from semsim.text.lexical import BM25  # noqa: E402

TESTBEDS = {"en": "squad_v1_dev", "it": "squad_it"}
DEPTH = 100          # every first stage returns its top 100 (recall@100)
SECOND_STAGE = 50    # a stronger bi-encoder re-scores the top 50
CROSS_DEPTH = 20     # the cross-encoder re-scores the top 20
MODELS = {"MiniLM": "all-MiniLM-L6-v2", "mpnet": "all-mpnet-base-v2", "E5 (query:/passage:)": "multilingual-e5-small"}


def vector_flags() -> str:
    """The CPU's AVX/AMX flags as one sentence for a results file (speed depends on them)."""
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx", "amx")))
    return f"CPU flags: {' '.join(flags) or 'unknown'}."


def rescore(query_vecs: np.ndarray, doc_vec: dict[str, np.ndarray], first: list[list[str]], k: int) -> list[list[str]]:
    """Re-order each query's first ``k`` candidates by cosine with a second model; the rest follow unchanged."""
    out = []
    for qv, cands in zip(query_vecs, first):
        head = cands[:k]
        order = np.argsort(-np.array([qv @ doc_vec[c] for c in head]), kind="stable")
        out.append([head[i] for i in order] + cands[k:])
    return out


def paragraph_vectors(model, texts: list[str]) -> np.ndarray:
    """The paragraphs' vectors through the embedding cache (E5 encodes them as passages)."""
    documents = model.as_documents() if hasattr(model, "as_documents") else model
    return cached_encoder(documents).encode(texts, batch_size=32)


def query_ms(fn: Callable[[str], object], queries: list[str]) -> list[float]:
    """Milliseconds ``fn`` takes per query, one query at a time, after one warm-up call."""
    fn(queries[0])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        times.append(1000 * (time.perf_counter() - t0))
    return times


def median_ms(fn: Callable[[str], object], queries: list[str]) -> float:
    return statistics.median(query_ms(fn, queries))


def ladder(lang: str, n_queries: int | None, n_rerank: int, n_timed: int) -> tuple[list[dict], str]:
    t_start = time.perf_counter()
    bed = retrieval_split(TESTBEDS[lang], "test")
    relevant = bed.relevant()
    queries = bed.queries
    if n_queries:
        queries = queries.sample(n=min(n_queries, len(queries)), random_state=0)
    qids, qtexts = queries["query_id"].tolist(), queries["text"].tolist()
    relevant = {q: relevant[q] for q in qids}
    ids, texts = bed.corpus["doc_id"].tolist(), bed.corpus["text"].tolist()
    timed = qtexts[:n_timed]
    runs: dict[str, list[list[str]]] = {}
    latency: dict[str, float] = {}

    bm25 = BM25(texts, ids, language=lang)
    runs["BM25"] = [[d for d, _ in hits] for hits in bm25.search(qtexts, k=DEPTH)]
    latency["BM25"] = median_ms(lambda q: bm25.search([q], k=DEPTH), timed)

    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, name in MODELS.items():
        model = load_model(name, verbose=False)
        d = paragraph_vectors(model, texts)
        q = cached_encoder(model).encode(qtexts, batch_size=64)
        vectors[label] = (q, d)
        runs[label] = dense_ranking(q, d, ids, DEPTH)
        latency[label] = median_ms(lambda text, m=model, dv=d: dense_ranking(m.encode([text]), dv, ids, DEPTH), timed)

    def fused(a: str, b: str) -> list[list[str]]:
        return [reciprocal_rank_fusion([x, y], limit=DEPTH) for x, y in zip(runs[a], runs[b])]

    runs["RRF(BM25, MiniLM)"] = fused("BM25", "MiniLM")
    latency["RRF(BM25, MiniLM)"] = latency["BM25"] + latency["MiniLM"]
    runs["RRF(BM25, E5)"] = fused("BM25", "E5 (query:/passage:)")
    latency["RRF(BM25, E5)"] = latency["BM25"] + latency["E5 (query:/passage:)"]

    mq, md = vectors["mpnet"]
    mpnet_doc = dict(zip(ids, md))
    runs["RRF(BM25, E5) → mpnet top 50"] = rescore(mq, mpnet_doc, runs["RRF(BM25, E5)"], SECOND_STAGE)
    one_mpnet = latency["mpnet"]   # encoding the query with mpnet; its search over all paragraphs is an upper bound of 50 dot products
    latency["RRF(BM25, E5) → mpnet top 50"] = latency["RRF(BM25, E5)"] + one_mpnet
    runs["MiniLM → mpnet top 50"] = rescore(mq, mpnet_doc, runs["MiniLM"], SECOND_STAGE)
    latency["MiniLM → mpnet top 50"] = latency["MiniLM"] + one_mpnet

    base_of = {"MiniLM": "BM25", "mpnet": "MiniLM", "E5 (query:/passage:)": "MiniLM",
               "RRF(BM25, MiniLM)": "MiniLM", "RRF(BM25, E5)": "E5 (query:/passage:)",
               "MiniLM → mpnet top 50": "MiniLM", "RRF(BM25, E5) → mpnet top 50": "RRF(BM25, E5)"}
    scores = {name: rank_metrics(dict(zip(qids, run)), relevant) for name, run in runs.items()}

    # The cross-encoder on a seeded sample (same queries for its row and its base row).
    from semsim.training.cross_encoder import load_reranker

    cross = load_reranker(allow_training=False, verbose=False)
    rng = np.random.default_rng(SPLIT_SEED)
    sample = sorted(rng.choice(len(qids), size=min(n_rerank, len(qids)), replace=False).tolist())
    text_of = dict(zip(ids, texts))
    cross_rows = {}
    for first in ("MiniLM", "RRF(BM25, E5)"):
        name = f"{first} → cross-encoder (STS-B) top {CROSS_DEPTH}"
        reranked = {}
        for i in sample:
            head = runs[first][i][:CROSS_DEPTH]
            s = cross.predict([(qtexts[i], text_of[c]) for c in head], batch_size=32)
            order = np.argsort(-np.asarray(s), kind="stable")
            reranked[qids[i]] = [head[j] for j in order] + runs[first][i][CROSS_DEPTH:]
        sub = {qids[i]: relevant[qids[i]] for i in sample}
        cross_rows[name] = (first, rank_metrics(reranked, sub), scores[first].loc[list(sub)])
        latency[name] = latency[first] + median_ms(
            lambda q, f=first: cross.predict([(q, text_of[c]) for c in runs[f][0][:CROSS_DEPTH]], batch_size=32),
            timed[: max(5, n_timed // 3)])

    rows = []

    def row(name: str, s, base_name: str | None, base_scores) -> dict:
        n, lo, hi = mean_ci(s["ndcg@10"])
        m, mlo, mhi = mean_ci(s["mrr@10"])
        if base_name is None:
            delta = "–"
        else:
            dd, dlo, dhi = paired_mean_diff(s["ndcg@10"], base_scores["ndcg@10"])
            delta = f"{dd:+.3f} [{dlo:+.3f}, {dhi:+.3f}] vs {base_name}"
        return {"system": name, "questions": len(s), "nDCG@10 [95 % CI]": f"{n:.3f} [{lo:.3f}, {hi:.3f}]",
                "MRR@10 [95 % CI]": f"{m:.3f} [{mlo:.3f}, {mhi:.3f}]", "recall@100": f"{s['recall@100'].mean():.3f}",
                "hit@1": f"{s['hit@1'].mean():.3f}", "Δ nDCG@10 (paired)": delta,
                "ms per query (median)": f"{latency[name]:.1f}"}

    for name, s in scores.items():
        base = base_of.get(name)
        rows.append(row(name, s, base, scores[base] if base else None))
    for name, (first, s, base_scores) in cross_rows.items():
        rows.append(row(name, s, f"{first} on the same {len(s)} questions", base_scores))
    for first in ("MiniLM", "RRF(BM25, E5)"):
        on_sample = scores[first].loc[[qids[i] for i in sample]]
        rows.append(row(first, on_sample, None, None) | {"system": f"({first} on the cross-encoder's {len(sample)} questions)"})
    head = (f"**{TESTBEDS[lang]}** ({'English' if lang == 'en' else 'Italian'}), test articles only: "
            f"{len(qids):,} questions over {len(ids):,} paragraphs; {time.perf_counter() - t_start:.0f} s for this table.")
    return rows, head


def latencies(lang: str, n_timed: int) -> tuple[list[dict], str]:
    """Median and 90th-percentile time to answer one question alone, for every system of the ladder.

    Each system runs on the same ``n_timed`` seeded test questions, one at a time, after one
    warm-up; a two-stage row times the whole chain (first stage, then the second stage's
    query encoding or cross-encoder scoring of the candidates). Quality is not re-scored."""
    bed = retrieval_split(TESTBEDS[lang], "test")
    qtexts = bed.queries.sample(n=n_timed, random_state=0)["text"].tolist()
    ids, texts = bed.corpus["doc_id"].tolist(), bed.corpus["text"].tolist()
    text_of = dict(zip(ids, texts))
    bm25 = BM25(texts, ids, language=lang)
    models = {label: load_model(name, verbose=False) for label, name in MODELS.items()}
    docs = {label: paragraph_vectors(model, texts) for label, model in models.items()}
    mpnet_doc = dict(zip(ids, docs["mpnet"]))
    from semsim.training.cross_encoder import load_reranker
    cross = load_reranker(allow_training=False, verbose=False)

    def bm25_top(q: str) -> list[str]:
        return [d for d, _ in bm25.search([q], k=DEPTH)[0]]

    def dense(label: str):
        return lambda q: dense_ranking(models[label].encode([q]), docs[label], ids, DEPTH)[0]

    def rrf(label: str):
        return lambda q: reciprocal_rank_fusion([bm25_top(q), dense(label)(q)], limit=DEPTH)

    def then_mpnet(first):
        return lambda q: rescore(models["mpnet"].encode([q]), mpnet_doc, [first(q)], SECOND_STAGE)[0]

    def then_cross(first):
        def run(q: str) -> list[str]:
            head = first(q)[:CROSS_DEPTH]
            s = cross.predict([(q, text_of[c]) for c in head], batch_size=32)
            return [head[j] for j in np.argsort(-np.asarray(s), kind="stable")]
        return run

    systems = {"BM25": bm25_top, "MiniLM": dense("MiniLM"), "mpnet": dense("mpnet"),
               "E5 (query:/passage:)": dense("E5 (query:/passage:)"), "RRF(BM25, MiniLM)": rrf("MiniLM"),
               "RRF(BM25, E5)": rrf("E5 (query:/passage:)"), "MiniLM → mpnet top 50": then_mpnet(dense("MiniLM")),
               "RRF(BM25, E5) → mpnet top 50": then_mpnet(rrf("E5 (query:/passage:)")),
               f"MiniLM → cross-encoder (STS-B) top {CROSS_DEPTH}": then_cross(dense("MiniLM"))}
    rows, medians = [], {}
    for name, fn in systems.items():
        times = query_ms(fn, qtexts)
        medians[name] = med = statistics.median(times)
        ratio = "–" if name == "BM25" else f"{med / max(medians['BM25'], 1e-3):,.0f}"   # unrounded BM25 median
        rows.append({"system": name, "questions timed": len(times), "ms per query (median)": f"{med:.1f}",
                     "90th percentile ms": f"{np.percentile(times, 90):.1f}", "× BM25 (median)": ratio})
        print(rows[-1], flush=True)
    head = (f"**{TESTBEDS[lang]}** ({'English' if lang == 'en' else 'Italian'}): {len(ids):,} test paragraphs, "
            f"{len(qtexts)} seeded test questions answered one at a time.")
    return rows, head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=["en", "it"], choices=sorted(TESTBEDS))
    parser.add_argument("--queries", type=int, default=None, help="a seeded sample of the test questions (default: all)")
    parser.add_argument("--rerank-queries", type=int, default=300)
    parser.add_argument("--timed", type=int, default=30, help="questions timed one at a time per system")
    parser.add_argument("--out", default=None, help="results file name (default: retrieval or retrieval_latency)")
    parser.add_argument("--latency-only", action="store_true", help="time every system, do not re-score quality")
    args = parser.parse_args()
    if args.latency_only:
        load_before = os.getloadavg()[0]
        body = ["Every system of `retrieval.md`'s ladder answers the same seeded test questions one at a "
                "time (query encoding, search over the test paragraphs, fusion and second stage included; "
                "paragraph vectors computed beforehand), after one warm-up. Meant to run with nothing else "
                "executing (the load averages below show whether it did). Timings depend on the CPU (flags "
                "below) and its load; quality is in `retrieval.md`."]
        for lang in args.langs:
            rows, head = latencies(lang, args.timed)
            body += ["", head, "", markdown_table(rows)]
        body += ["", f"1-minute load average: {load_before:.2f} when the run started, "
                     f"{os.getloadavg()[0]:.2f} when it ended ({os.cpu_count()} CPUs).", "", vector_flags()]
        print(write_results(args.out or "retrieval_latency", "Retrieval ladder: time per query, measured alone",
                            "\n".join(body)))
        return
    body = [
        f"Split: `semsim.data.article_split(seed={SPLIT_SEED})`, {TEST_ARTICLES} test articles of 48, the same "
        "articles in both languages. Systems return their top 100. nDCG@10 and MRR@10 are means over "
        "questions with 95 % percentile-bootstrap intervals (1,000 resamples); Δ is the paired bootstrap "
        "difference on the same questions. Latency: median over single questions, query encoding included, "
        "corpus encoded beforehand; hybrid rows add their two parts' medians. "
        "Timings depend on the CPU (flags below) and on what else runs; the quality columns do not.",
    ]
    for lang in args.langs:
        rows, head = ladder(lang, args.queries, args.rerank_queries, args.timed)
        body += ["", head, "", markdown_table(rows)]
        print(head)
        print(markdown_table(rows), flush=True)
    body += ["", vector_flags()]
    print(write_results(args.out or "retrieval", "Retrieval ladder: BM25, dense, hybrid and two-stage, per language", "\n".join(body)))


if __name__ == "__main__":
    main()
