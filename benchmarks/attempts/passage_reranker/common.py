"""Shared: data splits, MiniLM dense top-20 (cached), reranking evaluation."""
import os, pickle, time, random
import numpy as np, pandas as pd
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch
torch.set_num_threads(2)
from semsim.data import retrieval_split
from semsim.evaluation import rank_metrics, paired_mean_diff
from semsim.models.locate import resolve

CACHE = "/tmp/ce_exp/cache.pkl"
K = 20
N_VAL_ARTICLES = 6
N_VAL_Q = 300
N_TEST_Q = 500

def _dense(model, corpus, queries):
    D = model.encode(corpus["text"].tolist(), normalize_embeddings=True, batch_size=32)
    Q = model.encode(queries["text"].tolist(), normalize_embeddings=True, batch_size=64)
    S = Q @ D.T
    top = np.argsort(-S, axis=1)[:, :K]
    ids = corpus["doc_id"].to_numpy()
    return {q: list(ids[row]) for q, row in zip(queries["query_id"], top)}

def build():
    if os.path.exists(CACHE):
        return pickle.load(open(CACHE, "rb"))
    from sentence_transformers import SentenceTransformer
    m = SentenceTransformer(resolve("all-MiniLM-L6-v2").location, device="cpu")
    tr, te = retrieval_split("squad_v1_dev", "train"), retrieval_split("squad_v1_dev", "test")
    titles = sorted(tr.corpus["title"].unique())
    rng = random.Random(0); val_titles = set(rng.sample(titles, N_VAL_ARTICLES))
    rel_tr = tr.relevant()
    doc_title = dict(zip(tr.corpus["doc_id"], tr.corpus["title"]))
    q_title = {q: doc_title[next(iter(d))] for q, d in rel_tr.items()}
    out = {"texts": {}, "qtexts": {}}
    for r in (tr, te):
        out["texts"].update(dict(zip(r.corpus["doc_id"], r.corpus["text"])))
        out["qtexts"].update(dict(zip(r.queries["query_id"], r.queries["text"])))
    # train pool (non-val articles): all questions, top-20 over the pool's paragraphs
    pc = tr.corpus[~tr.corpus["title"].isin(val_titles)]
    pq = tr.queries[[q_title[q] not in val_titles for q in tr.queries["query_id"]]]
    vc = tr.corpus[tr.corpus["title"].isin(val_titles)]
    vq = tr.queries[[q_title[q] in val_titles for q in tr.queries["query_id"]]].sample(N_VAL_Q, random_state=0)
    tq = te.queries.sample(N_TEST_Q, random_state=0)
    t0 = time.time()
    out["train"] = {"run": _dense(m, pc, pq), "rel": {q: rel_tr[q] for q in pq["query_id"]}}
    out["val"] = {"run": _dense(m, vc, vq), "rel": {q: rel_tr[q] for q in vq["query_id"]}}
    rel_te = te.relevant()
    out["test"] = {"run": _dense(m, te.corpus, tq), "rel": {q: rel_te[q] for q in tq["query_id"]}}
    out["test_all"] = {"run": _dense(m, te.corpus, te.queries), "rel": rel_te}
    out["val_titles"] = sorted(val_titles)
    print("dense built in", round(time.time() - t0), "s")
    pickle.dump(out, open(CACHE, "wb"))
    return out

def rerank(ce, data, split, batch_size=32, max_n=None):
    """Rerank the dense top-20 of `split` with cross-encoder `ce`; returns (base_df, rr_df, pairs_per_s)."""
    d = data[split]; qids = list(d["run"])[:max_n] if max_n else list(d["run"])
    pairs = [(data["qtexts"][q], data["texts"][doc]) for q in qids for doc in d["run"][q]]
    t0 = time.time()
    s = np.asarray(ce.predict(pairs, batch_size=batch_size, show_progress_bar=False, activation_fn=torch.nn.Identity()), dtype=float)
    pps = len(pairs) / (time.time() - t0)
    rr = {}
    for i, q in enumerate(qids):
        sc = s[i*K:(i+1)*K]; docs = d["run"][q]
        rr[q] = [docs[j] for j in np.argsort(-sc, kind="stable")]
    rel = {q: d["rel"][q] for q in qids}
    base = rank_metrics({q: d["run"][q] for q in qids}, rel)
    return base, rank_metrics(rr, rel), pps, s

def report(base, rr, tag=""):
    out = {"n": len(base)}
    for m in ("ndcg@10", "mrr@10"):
        dd, lo, hi = paired_mean_diff(rr[m].values, base[m].values)
        out[m] = (round(base[m].mean(), 4), round(rr[m].mean(), 4), round(dd, 4), round(lo, 4), round(hi, 4))
    print(tag, out, flush=True)
    return out

def oracle(data, split):
    d = data[split]
    rr = {q: sorted(docs, key=lambda x: x not in d["rel"][q]) for q, docs in d["run"].items()}
    return rank_metrics(d["run"], d["rel"]), rank_metrics(rr, d["rel"])
