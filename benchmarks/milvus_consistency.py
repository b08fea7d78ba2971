"""Milvus consistency levels and filtered search, measured on a local Milvus server beside FAISS.

1. **Consistency.** A Milvus search waits until the server has applied every write up to a
   guarantee timestamp that the consistency level chooses: Strong waits for the newest time
   tick (the server's clock), Session only for this client's own last write, Bounded for a
   tick a few seconds old, Eventually for nothing. For each level: p50/p99 latency of one
   query at a time on a quiet collection, p50/p99 of a search issued right after this
   client inserted a document, and how often that search found the new document
   (read-your-writes), over the same queries.
2. **Filtered HNSW.** A metadata filter that keeps about 9 % of the documents, at several
   ``ef``: recall@10 against exact filtered search, on the Milvus server (its HNSW with the
   filter applied during the graph walk) and in FAISS (HNSW with an ID selector), beside
   semsim's FAISS store, which answers a filter this selective by exact search.

Real sentence embeddings (all-MiniLM-L6-v2 through semsim's embedding cache; the corpus of
benchmarks/engine.py), held-out queries. Usage:
python benchmarks/milvus_consistency.py [--n 20000] [--queries 200] [--threads 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from _common import markdown_table, write_results
from engine import N_QUERIES, real_sentences
from semsim.evaluation import recall_at_k
from semsim.models.cache import cached_encoder
from semsim.models.load import load_model
from semsim.search.index import EXACT_LIMIT, VectorIndex
from semsim.search.milvus import MilvusStore
from semsim.search.milvus_server import LocalMilvus

LEVELS = ("Strong", "Session", "Bounded", "Eventually")
EFS = (16, 32, 64, 128, 256, 512)
BUCKETS = 11          # a field with 11 values: a filter on one keeps about 9 % of the documents


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def consistency_rows(store: MilvusStore, Q: np.ndarray, dim: int) -> list[dict]:
    client, name = store.client, store.collection
    rows = []
    rng = np.random.default_rng(1)
    for level in LEVELS:
        quiet, after, seen = [], [], 0
        for i, q in enumerate(Q):
            t0 = time.perf_counter()
            client.search(name, data=[q.tolist()], limit=10, output_fields=["id"], consistency_level=level)
            quiet.append(time.perf_counter() - t0)
            v = rng.normal(size=dim).astype(np.float32)
            v /= np.linalg.norm(v)
            doc = f"new-{level}-{i}"
            client.insert(name, [{"id": doc, "vector": v.tolist(), "text": "", "meta": {"bucket": -1}}])
            t0 = time.perf_counter()
            hits = client.search(name, data=[v.tolist()], limit=1, output_fields=["id"], consistency_level=level)
            after.append(time.perf_counter() - t0)
            seen += bool(hits[0]) and hits[0][0]["id"] == doc
        rows.append({"consistency": level, "quiet p50 ms": round(pct(quiet, 50), 1), "quiet p99 ms": round(pct(quiet, 99), 1),
                     "after a write p50 ms": round(pct(after, 50), 1), "after a write p99 ms": round(pct(after, 99), 1),
                     "own write seen": f"{seen}/{len(Q)}"})
        print(rows[-1], flush=True)
    return rows


def exact_filtered(X: np.ndarray, Q: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    scores = Q @ X.T
    scores[:, ~allowed] = -np.inf
    return np.argsort(-scores, axis=1)[:, :10]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    faiss.omp_set_num_threads(args.threads)
    texts = real_sentences()[: N_QUERIES + args.n]
    vectors = cached_encoder(load_model("all-MiniLM-L6-v2", verbose=False)).encode(texts, batch_size=128)
    Q, X = vectors[: args.queries], np.ascontiguousarray(vectors[N_QUERIES:])
    ids = [f"d{i}" for i in range(len(X))]
    bucket = np.random.default_rng(0).integers(0, BUCKETS, size=len(X))
    allowed = bucket == 3
    truth = exact_filtered(X, Q, allowed)
    truth_ids = np.array(ids, dtype=object)[truth]

    recall = []
    graph = faiss.IndexHNSWFlat(X.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 64
    graph.add(X)
    bits = np.packbits(allowed, bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
    ours = VectorIndex(X.shape[1], "hnsw", m=32, ef_construction=64)
    ours.add(X, ids, metadata=[{"bucket": int(b)} for b in bucket])
    with tempfile.TemporaryDirectory() as tmp:
        server = LocalMilvus(Path(tmp) / "server")
        server.start()
        try:
            store = MilvusStore(server.uri, "consistency", X.shape[1], index="HNSW",
                                index_params={"M": 32, "efConstruction": 64}, fingerprint="bench")
            store.add(X, ids, metadata=[{"bucket": int(b)} for b in bucket])
            store.flush()
            for ef in EFS:
                _, found = graph.search(Q, 10, params=faiss.SearchParametersHNSW(sel=selector, efSearch=ef))
                ours.set_search_params(ef_search=ef)
                mine = [[h.id for h in row] for row in ours.search(Q, 10, filter={"bucket": 3})]
                store.search_params = {"ef": ef}
                t0 = time.perf_counter()
                theirs = [[h.id for h in row] for row in store.search(Q, 10, filter={"bucket": 3})]
                seconds = (time.perf_counter() - t0) / len(Q)
                recall.append({"ef": ef, "FAISS HNSW + ID selector": round(recall_at_k(found, truth), 3),
                               "semsim FAISS store": round(recall_at_k(mine, truth_ids), 3),
                               "Milvus server HNSW": round(recall_at_k(theirs, truth_ids), 3),
                               "Milvus ms/query (batch)": round(seconds * 1000, 1)})
                print(recall[-1], flush=True)
            consistency = consistency_rows(store, Q, X.shape[1])
            store.drop()
            store.close()
        finally:
            server.stop()
    body = (f"{len(X):,} real sentence embeddings (all-MiniLM-L6-v2, 384-d), {len(Q)} held-out queries, k=10, "
            f"on a local Milvus 2.3.5 standalone server (PyPI package milvus 2.3.5) and FAISS on {args.threads} thread(s), all on the same machine.\n\n"
            "## Consistency levels\n\nOne query at a time. 'Quiet': no write in flight. 'After a write': this client "
            "inserts one document, then searches for it at once; 'own write seen' counts the searches that found it.\n\n"
            f"{markdown_table(consistency)}\n\n"
            f"## Filtered HNSW recall@10 (filter keeps {allowed.mean():.1%} of the documents)\n\n"
            "Against exact search over the documents the filter keeps. semsim's FAISS store answers a filter "
            f"that keeps at most {EXACT_LIMIT:,} documents by exact search, hence 1.0.\n\n"
            f"{markdown_table(recall)}")
    print(body)
    print("written to", write_results("milvus_consistency", "Milvus consistency levels and filtered search", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
