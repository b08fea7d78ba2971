"""Engine benchmarks on real sentence embeddings: search, updates, saves, memory.

The corpus is every distinct sentence of STS-B in its 12 languages plus the Wikipedia
sentences (about 178,000 real sentences), embedded once with all-MiniLM-L6-v2 through the
embedding cache (about 6 minutes the first time, then read from the cache). 500 of them,
held out of every index, are the queries. Corpora:

* **100k** — 100,000 real embeddings;
* **1M** — all the real embeddings plus synthetic ones up to 1,000,000, each a mixture of
  two real embeddings (``semsim.course.synthetic``): they keep the real layout but add many
  near-duplicates, which makes approximate search easier than on a real 1M corpus.

Tables (medians over ``--repeat`` runs; ratios measured side by side in one run):

1. search per index kind and setting: build time, index size, memory per document,
   p50/p99 latency of one query at a time, recall@10 against exact search;
2. adding 1,000 documents to 100,000: end to end with ``SearchEngine.add`` + ``save``
   (encoding included) against the rebuild-everything design (re-encode all texts, build a
   new index, save it), and for the index alone per kind;
3. save and load: the first save, a save after adding 1,000 documents, a load;
4. the embedding cache: 100,000 texts added in 1,000 calls (shards, open time), fresh
   encoding against cached.

Usage: python benchmarks/engine.py [--repeat 3] [--skip-1m] [--parts search,saves,updates,cache]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time

import faiss
import numpy as np
import pandas as pd
import psutil

from _common import RESULTS, markdown_table, median_seconds, write_results
from semsim.models.cache import EmbeddingCache, cached_encoder
from semsim.data import LANGUAGES, SPLITS, load_corpus, load_stsb
from semsim.search.engine import SearchEngine
from semsim.evaluation import recall_at_k
from semsim.search.index import VectorIndex
from semsim.models.load import load_model
from semsim.course.synthetic import corpus_shaped_vectors

N_QUERIES = 500


def real_sentences() -> list[str]:
    """Every distinct STS-B sentence (12 languages, all splits) and the Wikipedia corpus, shuffled."""
    parts = [load_stsb(split, lang)[col] for lang in LANGUAGES for split in SPLITS for col in ("sentence1", "sentence2")]
    texts = pd.unique(pd.concat(parts + [pd.Series(load_corpus())])).tolist()
    texts = [t for t in texts if t.strip()]
    order = np.random.default_rng(0).permutation(len(texts))
    return [texts[i] for i in order]


def rss() -> int:
    return psutil.Process().memory_info().rss


CONFIGS = {
    "flat": ({}, None),
    "ivf": ({"nlist": 1024}, ("nprobe", [8, 16, 32, 64])),
    "hnsw": ({"m": 32, "ef_construction": 64}, ("ef_search", [32, 64, 128, 256])),
}


def search_table(X: np.ndarray, Q: np.ndarray, label: str, nlist: int) -> list[dict]:
    rows, truth = [], None
    for kind, (params, sweep) in CONFIGS.items():
        params = {**params, "nlist": nlist} if kind == "ivf" else params
        gc.collect()
        before = rss()
        t0 = time.perf_counter()
        idx = VectorIndex(X.shape[1], kind, **params)
        if kind == "ivf":
            idx.train(X[np.random.default_rng(1).choice(len(X), min(len(X), 25 * nlist), replace=False)])
        for lo in range(0, len(X), 100_000):
            idx.add(X[lo:lo + 100_000])
        build = time.perf_counter() - t0
        per_doc = (rss() - before) / len(X)
        size_mb = faiss.serialize_index(idx.index).nbytes / 1e6
        for setting in (sweep[1] if sweep else [None]):
            if setting is not None:
                idx.set_search_params(**{sweep[0]: setting})
            found = np.empty((len(Q), 10), dtype=np.int64)
            lat = np.empty(len(Q))
            for qi in range(len(Q)):
                t = time.perf_counter()
                found[qi] = idx.search_vectors(Q[qi:qi + 1], 10)[1][0]
                lat[qi] = time.perf_counter() - t
            if truth is None:
                truth = found.copy()
            rows.append({"corpus": label, "index": kind, "setting": f"{sweep[0]}={setting}" if sweep else "exact",
                         "build s": round(build, 1), "index MB": round(size_mb, 1),
                         "bytes/doc (RSS)": int(per_doc), "p50 ms": round(1000 * np.median(lat), 3),
                         "p99 ms": round(1000 * np.quantile(lat, 0.99), 3),
                         "recall@10": round(recall_at_k(found, truth), 4)})
            print(rows[-1], flush=True)
        del idx
        gc.collect()
    return rows


def save_load_table(X: np.ndarray, label: str, nlist: int, repeat: int) -> list[dict]:
    rows = []
    new = X[:1000] + 0.0  # the vectors are re-added under new ids
    for kind, (params, _) in CONFIGS.items():
        params = {**params, "nlist": nlist} if kind == "ivf" else params
        idx = VectorIndex(X.shape[1], kind, **params)
        if kind == "ivf":
            idx.train(X[np.random.default_rng(1).choice(len(X), min(len(X), 25 * nlist), replace=False)])
        idx.add(X)
        folder = tempfile.mkdtemp(prefix="semsim-bench-")
        try:
            t0 = time.perf_counter()
            idx.save(os.path.join(folder, "s"))
            first = time.perf_counter() - t0
            incr = []
            for r in range(repeat):
                idx.add(new, ids=[f"new{r}-{i}" for i in range(len(new))])
                t0 = time.perf_counter()
                idx.save(os.path.join(folder, "s"))
                incr.append(time.perf_counter() - t0)
            disk = sum(os.path.getsize(os.path.join(folder, "s", f)) for f in os.listdir(os.path.join(folder, "s")))
            del idx
            gc.collect()
            loads = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                back = VectorIndex.load(os.path.join(folder, "s"))
                loads.append(time.perf_counter() - t0)
                del back
                gc.collect()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        rows.append({"corpus": label, "index": kind, "first save s": round(first, 2),
                     "save after +1k s": round(float(np.median(incr)), 3), "ratio": round(first / np.median(incr), 1),
                     "load s": round(float(np.median(loads)), 2), "on disk MB": round(disk / 1e6, 1)})
        print(rows[-1], flush=True)
    return rows


def update_table(model, texts: list[str], X: np.ndarray, repeat: int) -> list[dict]:
    """Adding 1,000 documents to 100,000."""
    old, new = texts[:100_000], texts[100_000:101_000]
    rows = []
    work = tempfile.mkdtemp(prefix="semsim-bench-")
    try:
        cache = cached_encoder(model)                # the 100k old texts are in semsim's cache already
        times = []
        for r in range(repeat):
            engine = SearchEngine(model, cache.folder.parent)
            engine.add({f"d{i}": t for i, t in enumerate(old)})
            engine.save(os.path.join(work, f"engine{r}"))
            fresh = [f"{t} ({r}, {time.time()})" for t in new]  # never seen before: they must be encoded
            t0 = time.perf_counter()
            engine.add({f"n{i}": t for i, t in enumerate(fresh)})
            engine.save(os.path.join(work, f"engine{r}"))
            times.append(time.perf_counter() - t0)
            del engine
            gc.collect()
        ours = float(np.median(times))

        def rebuild() -> None:  # the design that re-encodes everything on every change
            v = model.encode(old + new, batch_size=128, normalize_embeddings=True)
            index = faiss.IndexFlatIP(v.shape[1])
            index.add(v)
            faiss.write_index(index, os.path.join(work, "rebuilt.faiss"))

        theirs = median_seconds(rebuild, repeat=1, warmup=0)  # tens of minutes: measured once
        rows.append({"what": "add 1k texts to 100k, end to end (encode + index + save)", "kind": "flat",
                     "rebuild s": round(theirs, 1), "incremental s": round(ours, 2), "ratio": round(theirs / ours, 1)})
        print(rows[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    extra = X[100_000:101_000]
    for kind, (params, _) in CONFIGS.items():
        params = {**params, "nlist": 1024} if kind == "ivf" else params
        base = X[:100_000]

        def make() -> VectorIndex:
            idx = VectorIndex(X.shape[1], kind, **params)
            if kind == "ivf":
                idx.train(base[:40_960])
            return idx

        incr = []
        for r in range(repeat):
            idx = make()
            idx.add(base)
            t0 = time.perf_counter()
            idx.add(extra, ids=[f"x{i}" for i in range(len(extra))])
            incr.append(time.perf_counter() - t0)
            del idx
        rebuilt = median_seconds(lambda: make().add(np.vstack([base, extra])), repeat=repeat, warmup=0)
        rows.append({"what": "add 1k vectors to 100k, index only", "kind": kind, "rebuild s": round(rebuilt, 2),
                     "incremental s": round(float(np.median(incr)), 4),
                     "ratio": round(rebuilt / float(np.median(incr)), 1)})
        print(rows[-1], flush=True)
    return rows


class Precomputed:
    """A 'model' that serves embeddings computed earlier: measures the cache, not the encoder."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.row = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors

    def get_embedding_dimension(self) -> int:
        return self.vectors.shape[1]

    def semsim_fingerprint(self) -> str:
        return "precomputed-minilm"

    def encode(self, texts, **_) -> np.ndarray:  # type: ignore[no-untyped-def]
        return self.vectors[[self.row[t] for t in texts]]


def cache_table(model, texts: list[str], vectors: np.ndarray, repeat: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(tmp, model)
        warm = texts[:2000]
        cache.encode(warm)
        fresh = median_seconds(lambda: EmbeddingCache(None, model).encode(warm), repeat=repeat, warmup=0)
        cached = median_seconds(lambda: EmbeddingCache(tmp, model).encode(warm), repeat=repeat)
        rows.append({"what": "2,000 texts: encode vs read from the cache (reopened)", "fresh s": round(fresh, 2),
                     "cached s": round(cached, 3), "ratio": round(fresh / cached, 0)})
    with tempfile.TemporaryDirectory() as tmp:
        served = Precomputed(texts[:100_000], vectors[:100_000])
        cache = EmbeddingCache(tmp, served)
        t0 = time.perf_counter()
        for call in range(1000):
            cache.encode(texts[100 * call:100 * call + 100])
        adds = time.perf_counter() - t0
        opened = median_seconds(lambda: EmbeddingCache(tmp, served), repeat=repeat)
        rows.append({"what": "100,000 texts added in 1,000 calls (vectors served, not encoded): "
                             "time to add / to reopen", "fresh s": round(adds, 1), "cached s": round(opened, 3),
                     "ratio": f"{cache.shards} shards"})
    for r in rows:
        print(r, flush=True)
    return rows


PARTS = ("search", "saves", "updates", "cache")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help="which tables to measure now; the others are kept from results/engine.json")
    args = ap.parse_args()
    parts = args.parts.split(",")
    faiss.omp_set_num_threads(2)
    model = load_model("all-MiniLM-L6-v2", verbose=False)
    texts = real_sentences()
    t0 = time.perf_counter()
    vectors = cached_encoder(model).encode(texts, batch_size=128, show_progress_bar=True)
    print(f"{len(texts):,} real sentences embedded in {time.perf_counter() - t0:.0f} s (cached)", flush=True)
    queries, corpus, corpus_texts = vectors[:N_QUERIES], vectors[N_QUERIES:], texts[N_QUERIES:]

    store = RESULTS / "engine.json"
    tables = json.loads(store.read_text()) if store.is_file() else {}
    dates = tables.setdefault("dates", {})          # when each table was last measured
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    earlier = {part: [r for r in tables.get(part, []) if str(r.get("corpus", "")).startswith("1M")]
               for part in ("search", "saves")}
    if "search" in parts:
        tables["search"] = search_table(corpus[:100_000], queries, "100k real", nlist=1024)
    if "saves" in parts:
        tables["saves"] = save_load_table(corpus[:100_000], "100k real", 1024, args.repeat)
    for part in ("search", "saves"):
        if part in parts:
            dates[part] = now
            if args.skip_1m and earlier[part]:   # keep the 1M rows of the last full run, and say so
                tables[part] += earlier[part]
                dates[part] = f"{now} (100k rows; the 1M rows are from {dates.get(part + '_1m', 'an earlier run')})"
            elif not args.skip_1m:
                dates[part + "_1m"] = now
    if not args.skip_1m and ("search" in parts or "saves" in parts):
        rng = np.random.default_rng(2)
        big = np.vstack([corpus, corpus_shaped_vectors(corpus, 1_000_000 - len(corpus), rng)])
        if "search" in parts:
            tables["search"] += search_table(big, queries, f"1M ({len(corpus) // 1000}k real + synthetic)", nlist=4096)
        if "saves" in parts:
            tables["saves"] += save_load_table(big, "1M", 4096, args.repeat)
        del big
        gc.collect()
    if "updates" in parts:
        tables["updates"] = update_table(model, corpus_texts, corpus, args.repeat)
        dates["updates"] = now
    if "cache" in parts:
        tables["cache"] = cache_table(model, corpus_texts, corpus, args.repeat)
        dates["cache"] = now
    RESULTS.mkdir(exist_ok=True)
    store.write_text(json.dumps(tables, indent=1, default=float))
    missing = [p for p in PARTS if p not in tables]
    if missing:
        print("not measured yet:", missing, "- run with --parts", ",".join(missing))
        return 0

    body = (f"Corpus: {len(texts):,} distinct real sentences (STS-B in 12 languages + Wikipedia), all-MiniLM-L6-v2 "
            f"embeddings; {N_QUERIES} held-out sentences are the queries. Medians over {args.repeat} runs unless "
            "stated; ratios measured side by side in one run. FAISS on 2 threads. The raw numbers are in engine.json.\n\n"
            "When each table was measured (a run may re-measure some tables and keep the others): "
            + "; ".join(f"{part}: {dates.get(part, 'before dates were recorded (2026-11-28)')}" for part in PARTS)
            + ".\n\n"
            f"## Search: latency of one query at a time and recall@10 against exact search\n\n"
            f"{markdown_table(tables['search'])}\n\n"
            "The 1M corpus adds synthetic mixtures of the real embeddings (many near-duplicates): it flatters "
            "approximate indexes compared with a real corpus of that size.\n\n"
            f"## Adding 1,000 documents to 100,000\n\nThe rebuild design re-encodes all 101,000 texts (measured once, "
            f"it takes many minutes).\n\n{markdown_table(tables['updates'])}\n\n"
            f"## Saving and loading (VectorIndex: append-only segments)\n\n{markdown_table(tables['saves'])}\n\n"
            f"## Embedding cache\n\n{markdown_table(tables['cache'])}")
    print(body)
    print("written to", write_results("engine", "Engine benchmarks", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
