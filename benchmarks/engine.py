"""Engine benchmarks: incremental add vs rebuild, cache vs re-encode, index latency and recall.

1. Adding 1,000 documents to a corpus of 10k (and 100k) documents:
   * end to end at 10k, with real texts (STS-B sentences) and all-MiniLM-L6-v2:
     ``SearchEngine.add`` (encodes the 1k new texts) vs the rebuild design (re-encode all
     11k texts, build a new index);
   * index only, at 10k and 100k corpus-shaped vectors: add 1k to the existing index vs
     build a new index of everything, for flat (exact) and HNSW indexes.
2. A cached re-encode vs a fresh encode of 2,000 texts (``EmbeddingCache`` warm vs cold).
3. Search latency (one query at a time, median) and recall@10 vs exact search for each
   index kind at 100k and 1M corpus-shaped vectors (mixtures of real embeddings, as in
   notebook 05).
Medians over ``--repeat`` runs. Usage: python benchmarks/engine.py [--repeat 3] [--skip-1m]
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time

import faiss
import numpy as np
import pandas as pd

from _common import markdown_table, median_seconds, write_results
from semsim.cache import EmbeddingCache, cached_encoder
from semsim.data import load_corpus, load_stsb
from semsim.engine import SearchEngine
from semsim.models import load_model
from semsim.search import VectorIndex, corpus_shaped_vectors as corpus_shaped, recall_at_k


def stsb_sentences(n: int) -> list[str]:
    parts = [load_stsb(s) for s in ("train", "validation", "test")]
    texts = pd.unique(pd.concat([p[c] for p in parts for c in ("sentence1", "sentence2")])).tolist()
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} distinct STS-B sentences, need {n}")
    return texts[:n]


def end_to_end(model, repeat: int) -> dict:
    texts = stsb_sentences(11_000)
    old, new = texts[:10_000], texts[10_000:]

    def rebuild() -> None:  # the rebuild design: re-encode everything, new index
        v = model.encode(old + new, batch_size=64, normalize_embeddings=True)
        faiss.IndexFlatIP(v.shape[1]).add(v)

    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            engine = SearchEngine(model, tmp)
            engine.add({f"d{i}": t for i, t in enumerate(old)})
            t0 = time.perf_counter()
            engine.add({f"n{i}": t for i, t in enumerate(new)})  # the 1k new texts are not cached
            times.append(time.perf_counter() - t0)
    ours = float(np.median(times))
    theirs = median_seconds(rebuild, repeat=repeat, warmup=0)
    return {"corpus": "10k STS-B texts", "what": "add 1k texts, end to end (encoding included)",
            "rebuild s": theirs, "incremental s": ours, "ratio": theirs / ours}


def index_only(X: np.ndarray, new: np.ndarray, kind: str, repeat: int) -> dict:
    make = (lambda: faiss.IndexIDMap2(faiss.IndexFlatIP(X.shape[1]))) if kind == "flat" else \
        (lambda: faiss.IndexHNSWFlat(X.shape[1], 16, faiss.METRIC_INNER_PRODUCT))
    add = (lambda idx, v, start: idx.add_with_ids(v, np.arange(start, start + len(v)))) if kind == "flat" else \
        (lambda idx, v, start: idx.add(v))

    def rebuild() -> None:
        add(make(), np.vstack([X, new]), 0)

    incr = []
    for _ in range(repeat):
        idx = make()
        add(idx, X, 0)
        t0 = time.perf_counter()
        add(idx, new, len(X))
        incr.append(time.perf_counter() - t0)
        del idx
    ours = float(np.median(incr))
    theirs = median_seconds(rebuild, repeat=repeat, warmup=0)
    return {"corpus": f"{len(X) // 1000}k vectors", "what": f"add 1k vectors, {kind} index only",
            "rebuild s": theirs, "incremental s": ours, "ratio": theirs / ours}


def cache_ratio(model, repeat: int) -> dict:
    texts = stsb_sentences(2_000)

    def cold() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            EmbeddingCache(tmp, model).encode(texts)

    with tempfile.TemporaryDirectory() as tmp:
        EmbeddingCache(tmp, model).encode(texts)
        warm = median_seconds(lambda: EmbeddingCache(tmp, model).encode(texts), repeat=repeat)  # incl. reopening
    fresh = median_seconds(cold, repeat=repeat, warmup=0)
    return {"texts": 2000, "fresh encode s": fresh, "cached (reopen + read) s": warm, "ratio": fresh / warm}


def search_table(X: np.ndarray, Q: np.ndarray, rng: np.random.Generator) -> list[dict]:
    n = len(X)
    nlist = 1024 if n >= 500_000 else 256
    configs = [("flat", {}, None), ("ivf", {"nlist": nlist}, ("nprobe", [4, 16, 64])),
               ("hnsw", {"m": 16}, ("ef_search", [32, 128, 256])),
               ("ivfpq", {"nlist": nlist, "pq_m": 48}, ("nprobe", [4, 16, 64]))]
    rows, truth = [], None
    for kind, params, sweep in configs:
        t0 = time.perf_counter()
        idx = VectorIndex(X.shape[1], kind, **params)
        if kind in ("ivf", "ivfpq"):
            idx.train(X[rng.choice(n, min(n, 50_000), replace=False)])
        idx.add(X)
        build = time.perf_counter() - t0
        for setting in (sweep[1] if sweep else [None]):
            if setting is not None:
                idx.set_search_params(**{sweep[0]: setting})
            found, lat = np.empty((len(Q), 10), dtype=np.int64), []
            for qi, q in enumerate(Q):
                t = time.perf_counter()
                found[qi] = idx.search_vectors(q, 10)[1][0]
                lat.append(time.perf_counter() - t)
            if truth is None:
                truth = found.copy()
            rows.append({"vectors": f"{n:,}", "index": kind, "setting": f"{sweep[0]}={setting}" if sweep else "exact",
                         "build s": round(build, 1), "latency ms (median)": round(1000 * float(np.median(lat)), 3),
                         "recall@10": round(recall_at_k(found, truth), 3)})
            print(rows[-1], flush=True)
        del idx
        gc.collect()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-1m", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    model = load_model("all-MiniLM-L6-v2", verbose=False)

    base = cached_encoder(model).encode(load_corpus())  # real embeddings, cached across runs
    updates = [end_to_end(model, args.repeat)]
    print(updates[-1], flush=True)
    for n in (10_000, 100_000):
        X, new = corpus_shaped(base, n, rng), corpus_shaped(base, 1_000, rng)
        for kind in ("flat", "hnsw"):
            updates.append(index_only(X, new, kind, args.repeat))
            print(updates[-1], flush=True)
    cache = [cache_ratio(model, args.repeat)]
    print(cache[-1], flush=True)

    search = []
    for n in (100_000,) if args.skip_1m else (100_000, 1_000_000):
        X, Q = corpus_shaped(base, n, rng), corpus_shaped(base, 200, rng)
        search += search_table(X, Q, rng)
        del X
        gc.collect()

    r = lambda rows: [{k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()} for row in rows]
    body = (f"Medians over {args.repeat} runs, measured side by side.\n\n"
            f"## Adding 1,000 documents: incremental vs rebuild-everything\n\n{markdown_table(r(updates))}\n\n"
            f"## Embedding cache: fresh encode vs cached\n\n{markdown_table(r(cache))}\n\n"
            f"## Search: latency per query and recall@10 vs exact (200 queries, corpus-shaped vectors)\n\n"
            f"{markdown_table(search)}")
    print(body)
    print("written to", write_results("engine", "Engine benchmarks", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
