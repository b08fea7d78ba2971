"""FAISS in process against Milvus Lite and a local Milvus server, on the same real workload.

100,000 real sentence embeddings (all-MiniLM-L6-v2, the corpus of benchmarks/engine.py)
with one metadata field each (the sentence's language), and 500 held-out queries. For each
store and index: insert throughput through the semsim store (``add``: checks, then writes),
time until the collection is searchable (flush and index build), p50/p99 latency of one
query at a time, recall@10 against exact search, the same with a language filter, and
memory (resident memory of this process for FAISS; of the whole server process tree for
Milvus).

Milvus Lite 3.x is a Python re-implementation of Milvus on FAISS; the server is the C++
Milvus 2.3 standalone from the PyPI package ``milvus`` (semsim.search.milvus_server). A cluster
runs the same server components spread over machines: these numbers say nothing about
one, except what a single node costs.

Usage: python benchmarks/vector_db.py [--n 100000] [--queries 500] [--threads 2] [--parts faiss,lite,server]
(Not named milvus.py: a script of that name would shadow the ``milvus`` package the server comes from.)
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import psutil

from _common import markdown_table, write_results
from engine import N_QUERIES, real_sentences
from semsim.models.cache import cached_encoder
from semsim.data import LANGUAGES, SPLITS, load_stsb
from semsim.evaluation import recall_at_k
from semsim.search.index import VectorIndex
from semsim.search.milvus_server import LocalMilvus
from semsim.models.load import load_model
from semsim.search.milvus import MilvusStore


def languages(texts: list[str]) -> list[str]:
    """The language of each sentence (the first STS-B translation it appears in; else 'wiki')."""
    lang = {}
    for code in LANGUAGES:
        for split in SPLITS:
            df = load_stsb(split, code)
            for col in ("sentence1", "sentence2"):
                for t in df[col]:
                    lang.setdefault(t, code)
    return [lang.get(t, "wiki") for t in texts]


def tree_rss(pid: int) -> int:
    p = psutil.Process(pid)
    return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)] if q.is_running())


def measure(name: str, store, X, ids, meta, Q, truth, truth_en, rss_of) -> dict:
    gc.collect()
    before = rss_of()
    t0 = time.perf_counter()
    for lo in range(0, len(X), 5000):
        store.add(X[lo:lo + 5000], ids[lo:lo + 5000], None, meta[lo:lo + 5000])
    insert = time.perf_counter() - t0
    t0 = time.perf_counter()
    if hasattr(store, "flush"):
        store.flush()
        store.search(Q[:1], 10)  # the first search waits for the index to be built and loaded
    ready = time.perf_counter() - t0
    row = {"store": name, "insert docs/s": int(len(X) / insert), "searchable after s": round(ready, 1)}
    for label, flt, ref in (("", None, truth), (" (filter en)", {"lang": "en"}, truth_en)):
        lat, found = np.empty(len(Q)), np.full((len(Q), 10), "", dtype=object)
        for i in range(len(Q)):
            t = time.perf_counter()
            hits = store.search(Q[i:i + 1], 10, filter=flt)[0]
            lat[i] = time.perf_counter() - t
            found[i, :len(hits)] = [h.id for h in hits]
        row[f"p50 ms{label}"] = round(1000 * np.median(lat), 2)
        row[f"p99 ms{label}"] = round(1000 * np.quantile(lat, 0.99), 2)
        row[f"recall@10{label}"] = round(recall_at_k(found, ref), 4)
    row["memory MB"] = round((rss_of() - before) / 2**20)
    print(row, flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=N_QUERIES)
    ap.add_argument("--threads", type=int, default=2, help="FAISS threads (1 on a machine busy with other work)")
    ap.add_argument("--parts", default="faiss,lite,server", help="which stores to measure")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    faiss.omp_set_num_threads(args.threads)
    texts = real_sentences()
    vectors = cached_encoder(load_model("all-MiniLM-L6-v2", verbose=False)).encode(texts, batch_size=128)
    Q, X = vectors[:args.queries], np.ascontiguousarray(vectors[N_QUERIES:N_QUERIES + args.n])
    ids = [f"d{i}" for i in range(len(X))]
    langs = languages(texts[N_QUERIES:N_QUERIES + args.n])
    meta = [{"lang": code} for code in langs]
    scores = Q @ X.T
    truth = np.array(ids, dtype=object)[np.argsort(-scores, axis=1)[:, :10]]
    en = np.array([code == "en" for code in langs])
    scores[:, ~en] = -np.inf
    truth_en = np.array(ids, dtype=object)[np.argsort(-scores, axis=1)[:, :10]]
    del scores
    me = psutil.Process().pid
    rows = []
    for kind, params in (("flat", {}), ("hnsw", {"m": 32, "ef_construction": 64})) if "faiss" in parts else ():
        idx = VectorIndex(X.shape[1], kind, **params)
        idx.set_search_params(ef_search=64)
        rows.append(measure(f"FAISS {kind} (in process)", idx, X, ids, meta, Q, truth, truth_en, lambda: tree_rss(me)))
        del idx
    milvus_index = (("FLAT", {}, {}), ("HNSW", {"M": 32, "efConstruction": 64}, {"ef": 64}))
    with tempfile.TemporaryDirectory() as tmp:
        for index, iparams, sparams in milvus_index if "lite" in parts else ():
            store = MilvusStore(str(Path(tmp) / f"lite-{index}.db"), "bench", X.shape[1], index=index,
                                index_params=iparams, search_params=sparams, fingerprint="bench")
            rows.append(measure(f"Milvus Lite {index}", store, X, ids, meta, Q, truth, truth_en, lambda: tree_rss(me)))
            store.close()
        server = LocalMilvus(Path(tmp) / "server")
        if "server" in parts:
            server.start()
        try:
            spid = server.pid
            for index, iparams, sparams in milvus_index if "server" in parts else ():
                store = MilvusStore(server.uri, f"bench_{index.lower()}", X.shape[1], index=index,
                                    index_params=iparams, search_params=sparams, fingerprint="bench")
                rows.append(measure(f"Milvus server {index}", store, X, ids, meta, Q, truth, truth_en,
                                    lambda: tree_rss(spid)))
                store.drop()
                store.close()
        finally:
            if "server" in parts:
                server.stop()
    body = (f"{len(X):,} real sentence embeddings (all-MiniLM-L6-v2, 384-d), {len(Q)} held-out queries, k=10, "
            f"one query at a time, FAISS on {args.threads} thread(s). 'filter en' keeps the English sentences "
            f"({en.mean():.0%} of the corpus). Memory: growth of this process (FAISS, Milvus Lite) or of the "
            "server's process tree while loading.\n\n"
            f"{markdown_table(rows)}\n\nMilvus Lite 3.x is a Python re-implementation of Milvus on FAISS; "
            "the server is the C++ Milvus 2.3 standalone (PyPI package milvus), on the same 2 cores.")
    print(body)
    print("written to", write_results("milvus", "FAISS, Milvus Lite and a Milvus server", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
