"""Quantised embeddings on the SQuAD testbeds: float32, int8 and binary vectors, with rescoring.

Every system answers the same seeded sample of test questions (``--queries``, seed 0: for English
the 300 questions notebook 05 uses) over the test articles' paragraphs, with the vectors of the
embedding cache. Each row gives the bytes each vector takes in memory (and, for the rescoring
variants, the bytes read per candidate from a second copy kept on disk), recall@10 against exact
float search, nDCG@10 with the share of float's nDCG@10 kept (a ratio of means, 95 % paired
bootstrap interval over questions), the paired difference in nDCG@10 to float, and the median
time of one search alone (one question at a time, query already encoded, one FAISS and one BLAS thread).

Systems, for ``d``-dimensional unit vectors:

* float32: ``faiss.IndexFlatIP`` (exact; the reference).
* int8 · int8: ``quantize_embeddings(precision="int8")`` on documents and query, ranges from the
  corpus vectors, scored by an integer dot product (the write-up's int8 without rescoring).
* int8 SQ8 (float query): ``faiss.IndexScalarQuantizer`` QT_8bit, the FAISS way to keep int8 codes.
* binary: the sign bits packed 8 per byte (``quantize_embeddings(precision="ubinary")``),
  ``faiss.IndexBinaryFlat``, Hamming distance; the top ``10 × m`` candidates are then rescored
  with the float query against the candidates' sign bits (±1: no second copy, the write-up's
  rescoring), against int8 codes read from disk, or against the float vectors read from disk.
* binary, all documents scored with the float query against their sign bits: the limit of
  rescoring depth.
* centred binary: bits of ``x - mean`` (corpus mean per dimension), rescored with the float query
  times each dimension's mean absolute deviation (two extra vectors of ``d`` floats in all; the
  *centred float query* variant subtracts the mean from the query too, which is no longer the
  float dot product's order but that of the centred vectors), or with int8 codes from disk: for models whose vectors share a large common direction (E5), plain
  sign bits waste most bits.
* ``faiss.IndexBinaryHNSW`` (M=16) over the sign bits, rescored as above.

Usage: python benchmarks/quantization.py [--langs en it] [--queries 300] [--timed 100] [--repeat 3]
       [--distractors 4000]   (English MiniLM only: a second, larger corpus adding that many
       Wikipedia sentences of ``semsim.data.load_corpus()``, cached vectors, as distractors)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from _common import machine, markdown_table, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentence_transformers.util.quantization import quantize_embeddings  # noqa: E402

from semsim.data import load_corpus, retrieval_split  # noqa: E402
from semsim.evaluation import paired_mean_diff, rank_metrics, recall_at_k  # noqa: E402
from semsim.models.cache import cached_encoder  # noqa: E402
from semsim.models.load import load_model  # noqa: E402
from semsim.models.openvino import speed_flags  # noqa: E402
from retrieval import TESTBEDS, vector_flags  # noqa: E402  (the ladder's testbeds)

MODELS = {"en": ["all-MiniLM-L6-v2", "all-mpnet-base-v2", "multilingual-e5-small"],
          "it": ["all-MiniLM-L6-v2", "multilingual-e5-small"]}
K = 10
Search = Callable[[np.ndarray], np.ndarray]      # (n, d) float queries -> (n, K) corpus rows, best first


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).copy()
    faiss.normalize_L2(x)
    return x


def top_k(scores: np.ndarray, k: int = K) -> np.ndarray:
    """Rows of the k highest scores per query, best first (ties: lower row first)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def signs(codes: np.ndarray, d: int) -> np.ndarray:
    """Packed sign bits -> ±1 float32 (the binary vectors as the rescoring reads them)."""
    return np.unpackbits(codes, axis=-1)[..., :d].astype(np.float32) * 2 - 1


def rescored(candidates: np.ndarray, q: np.ndarray, vectors_of: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Re-order each query's candidate rows by the float query's dot product with ``vectors_of(rows)``."""
    out = np.empty((len(q), K), dtype=np.int64)
    for i, (qi, rows) in enumerate(zip(q, candidates)):
        rows = rows[rows >= 0]
        out[i] = rows[np.argsort(-np.einsum("ij,j->i", vectors_of(rows), qi), kind="stable")[:K]]   # no BLAS threads
    return out


def systems(D: np.ndarray) -> list[dict]:
    """Every system over the unit document vectors ``D``: name, bytes in memory and on disk per
    vector, and a search function."""
    n, d = D.shape
    out = []

    flat = faiss.IndexFlatIP(d)
    flat.add(D)
    out.append({"system": "float32 (exact)", "mem": 4 * d, "disk": 0, "search": lambda q: flat.search(q, K)[1]})

    ranges = np.vstack([D.min(0), D.max(0)])                         # int8 buckets from the corpus
    D8 = quantize_embeddings(D, precision="int8", ranges=ranges)
    D8i = D8.astype(np.int32)
    out.append({"system": "int8 · int8 (quantize_embeddings)", "mem": d, "disk": 0,
                "search": lambda q: top_k(quantize_embeddings(q, precision="int8", ranges=ranges).astype(np.int32) @ D8i.T)})
    starts, steps = ranges[0], (ranges[1] - ranges[0]) / 255
    dequant = lambda rows: starts + steps * (D8[rows].astype(np.float32) + 128)   # the int8 codes read back as floats

    sq = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    sq.train(D)
    sq.add(D)
    out.append({"system": "int8 SQ8, float query (faiss.IndexScalarQuantizer)", "mem": sq.code_size, "disk": 0,
                "search": lambda q: sq.search(q, K)[1]})

    bits = quantize_embeddings(D, precision="ubinary")                 # np.packbits(D > 0, axis=1)
    assert np.array_equal(bits, np.packbits(D > 0, axis=1))
    S = signs(bits, d)                                                # ±1 view, used only to rescore candidates
    hamming = faiss.IndexBinaryFlat(d)
    hamming.add(bits)
    qbits = lambda q: np.packbits(q > 0, axis=1)
    out.append({"system": "binary, Hamming only", "mem": d // 8, "disk": 0,
                "search": lambda q: hamming.search(qbits(q), K)[1]})
    for m in (1, 2, 4, 10):
        out.append({"system": f"binary → rescore top {K * m} (float query · sign bits)", "mem": d // 8, "disk": 0,
                    "search": lambda q, m=m: rescored(hamming.search(qbits(q), K * m)[1], q, lambda rows: signs(bits[rows], d))})
    out.append({"system": "binary, every document scored (float query · sign bits)", "mem": d // 8, "disk": 0,
                "search": lambda q: top_k(q @ signs(bits, d).T)})
    for m in (4, 10):
        out.append({"system": f"binary → rescore top {K * m} (float query · int8 from disk)", "mem": d // 8, "disk": d,
                    "search": lambda q, m=m: rescored(hamming.search(qbits(q), K * m)[1], q, dequant)})
    out.append({"system": f"binary → rescore top {K * 4} (float query · float32 from disk)", "mem": d // 8, "disk": 4 * d,
                "search": lambda q: rescored(hamming.search(qbits(q), K * 4)[1], q, lambda rows: D[rows])})

    mu = D.mean(0)
    spread = np.abs(D - mu).mean(0)                                   # per dimension: how far values lie from the mean
    cbits = np.packbits(D - mu > 0, axis=1)
    centred = faiss.IndexBinaryFlat(d)
    centred.add(cbits)
    for m in (1, 4):
        out.append({"system": f"centred binary → rescore top {K * m} (float query · scaled sign bits)", "mem": d // 8, "disk": 0,
                    "search": lambda q, m=m: rescored(centred.search(np.packbits(q - mu > 0, axis=1), K * m)[1],
                                                      q * spread, lambda rows: signs(cbits[rows], d))})
    out.append({"system": f"centred binary → rescore top {K * 4} (centred float query · scaled sign bits)", "mem": d // 8, "disk": 0,
                "search": lambda q: rescored(centred.search(np.packbits(q - mu > 0, axis=1), K * 4)[1],
                                             (q - mu) * spread, lambda rows: signs(cbits[rows], d))})
    for m in (4, 10):
        out.append({"system": f"centred binary → rescore top {K * m} (float query · int8 from disk)", "mem": d // 8, "disk": d,
                    "search": lambda q, m=m: rescored(centred.search(np.packbits(q - mu > 0, axis=1), K * m)[1], q, dequant)})

    graph = faiss.IndexBinaryHNSW(d, 16)
    graph.add(bits)
    graph.hnsw.efSearch = 64
    graph_bytes = len(faiss.serialize_index_binary(graph)) / n
    out.append({"system": "binary HNSW (M=16, efSearch=64) → rescore top 40 (float query · sign bits)",
                "mem": round(graph_bytes), "disk": 0,
                "search": lambda q: rescored(graph.search(qbits(q), K * 4)[1], q, lambda rows: signs(bits[rows], d))})
    return out


def median_ms(search: Search, Q: np.ndarray, repeat: int) -> float:
    """Median over ``repeat`` passes of the median time of one search of one query, in ms
    (numpy's BLAS limited to one thread, as FAISS is: a busy 2-core machine makes idle threads costly)."""
    with threadpool_limits(1):
        return _median_ms(search, Q, repeat)


def _median_ms(search: Search, Q: np.ndarray, repeat: int) -> float:
    search(Q[:1])
    passes = []
    for _ in range(repeat):
        times = []
        for i in range(len(Q)):
            t0 = time.perf_counter()
            search(Q[i:i + 1])
            times.append(1000 * (time.perf_counter() - t0))
        passes.append(statistics.median(times))
    return statistics.median(passes)


def ratio_ci(a: np.ndarray, b: np.ndarray, n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """mean(a) / mean(b) over the same questions, with a 95 % paired percentile-bootstrap interval."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(a), (n_boot, len(a)))
    boots = a[idx].mean(1) / b[idx].mean(1)
    return a.mean() / b.mean(), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def table(D: np.ndarray, ids: np.ndarray, Q: np.ndarray, qids: list[str], relevant: dict, timed: int,
          repeat: int) -> tuple[list[dict], list[dict]]:
    rows, raw = [], []
    base = truth = None
    for s in systems(D):
        found = s["search"](Q)
        per_q = rank_metrics({q: ids[r[r >= 0]].tolist() for q, r in zip(qids, found)}, relevant)["ndcg@10"].to_numpy()
        if base is None:
            base, truth = per_q, found
        kept, lo, hi = ratio_ci(per_q, base)
        diff, dlo, dhi = paired_mean_diff(per_q, base)
        ms = median_ms(s["search"], Q[:timed], repeat)
        raw.append({"system": s["system"], "mem": s["mem"], "kept": kept, "lo": lo, "hi": hi,
                    "recall": recall_at_k(found, truth), "ndcg": per_q.mean()})
        rows.append({"system": s["system"], "bytes/vector in memory": s["mem"],
                     "memory ÷": f"{4 * D.shape[1] / s['mem']:.1f}×",
                     "bytes read per candidate": s["disk"] or "–",
                     "recall@10 vs float": f"{recall_at_k(found, truth):.3f}",
                     "nDCG@10": f"{per_q.mean():.3f}",
                     "nDCG@10 kept [95 % CI]": f"{100 * kept:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]",
                     "Δ nDCG@10 vs float [95 % CI]": "–" if len(raw) == 1 else f"{diff:+.3f} [{dlo:+.3f}, {dhi:+.3f}]",
                     "ms per search (median)": f"{ms:.3f}"})
        print(rows[-1], flush=True)
    return rows, raw


def vectors(model, texts: list[str], documents: bool) -> np.ndarray:
    enc = model.as_documents() if documents and hasattr(model, "as_documents") else model
    return unit(cached_encoder(enc).encode(texts, batch_size=32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=["en", "it"], choices=sorted(TESTBEDS))
    parser.add_argument("--queries", type=int, default=300, help="a seeded sample of the test questions (seed 0)")
    parser.add_argument("--timed", type=int, default=100, help="questions timed one at a time")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (the median of their medians is shown)")
    parser.add_argument("--distractors", type=int, default=4000,
                        help="English MiniLM: Wikipedia sentences added to a second, larger corpus (0: none)")
    parser.add_argument("--models", nargs="+", default=None, help="only these models (default: all of MODELS)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    t_all = time.perf_counter()
    body = [f"Questions: a seeded sample of {args.queries} test questions per testbed (`queries.sample(n={args.queries}, random_state=0)`; "
            "the English sample is notebook 05's), over the paragraphs of the 24 test articles of `article_split(seed=0)`. "
            "Vectors: the embedding cache, L2-normalised (E5: `query: ` / `passage: `). int8 ranges: each dimension's "
            "minimum and maximum over the corpus vectors. *kept*: mean nDCG@10 of the row ÷ that of float32 on the same "
            "questions, 95 % paired percentile bootstrap (1,000 resamples); Δ: paired bootstrap difference. "
            "*bytes read per candidate*: a second copy (int8 or float32) read from disk for the candidates only; "
            "the sign-bit rescoring needs none. Latency: one question at a time, the query already encoded, "
            f"one FAISS and one BLAS thread, median over {args.timed} questions, median of {args.repeat} passes; this CPU's "
            f"vector flags: {', '.join(speed_flags()) or 'no AVX2'} ({vector_flags()}). Most searches here take well under a millisecond, where Python overhead weighs as much as the "
            "arithmetic; two rows score the whole corpus with plain numpy (int8 · int8, an integer matrix product; every "
            "document scored, which unpacks every bit for each question) and are far slower, the more so on the larger corpus. "
            "The latency column shows orders of magnitude on this machine, measured while other jobs loaded its 2 cores, "
            "not the asymptotic speed-up.", ""]
    summary = []
    for lang in args.langs:
        bed = retrieval_split(TESTBEDS[lang], "test")
        asked = bed.queries.sample(n=min(args.queries, len(bed.queries)), random_state=0)
        every = bed.relevant()
        relevant = {q: every[q] for q in asked["query_id"]}
        paragraphs = bed.corpus["text"].tolist()
        for name in [m for m in MODELS[lang] if not args.models or m in args.models]:
            model = load_model(name)
            Q = vectors(model, asked["text"].tolist(), documents=False)
            corpora = [("test paragraphs", paragraphs, bed.corpus["doc_id"].tolist())]
            if lang == "en" and name == "all-MiniLM-L6-v2" and args.distractors:
                wiki = load_corpus()[:args.distractors]
                corpora.append((f"test paragraphs + {len(wiki):,} Wikipedia sentences (distractors)", paragraphs + wiki,
                                bed.corpus["doc_id"].tolist() + [f"wiki-{i}" for i in range(len(wiki))]))
            for corpus_name, texts, ids in corpora:
                t0 = time.perf_counter()
                D = vectors(model, texts, documents=True)
                head = (f"**{TESTBEDS[lang]}** ({'English' if lang == 'en' else 'Italian'}), {name} ({D.shape[1]} dimensions), "
                        f"{corpus_name}: {len(asked)} questions over {len(D):,} vectors")
                print(head, flush=True)
                rows, raw = table(D, np.array(ids), Q, asked["query_id"].tolist(), relevant, args.timed, args.repeat)
                body += [head + f"; {time.perf_counter() - t0:.0f} s for this table.", "", markdown_table(rows), ""]
                best = max((r for r in raw if r["mem"] * 16 <= 4 * D.shape[1] and "from disk" not in r["system"]
                            and "every document" not in r["system"]), key=lambda r: r["kept"])
                disk = max((r for r in raw if "int8 from disk" in r["system"]), key=lambda r: r["kept"])
                plain = next(r for r in raw if r["system"] == "binary → rescore top 40 (float query · sign bits)")
                summary.append({"testbed": TESTBEDS[lang], "model": name, "corpus": corpus_name, "vectors": f"{len(D):,}",
                                "float nDCG@10": f"{raw[0]['ndcg']:.3f}",
                                "binary, Hamming only: kept": f"{100 * raw[3]['kept']:.1f} %",
                                "binary → rescore top 40 (sign bits): kept [95 % CI]":
                                    f"{100 * plain['kept']:.1f} % [{100 * plain['lo']:.1f}, {100 * plain['hi']:.1f}]",
                                "best ≥ 16× row": best["system"],
                                "its kept [95 % CI]": f"{100 * best['kept']:.1f} % [{100 * best['lo']:.1f}, {100 * best['hi']:.1f}]",
                                "target (≥ 90 % kept, lower bound)": "met" if best["lo"] >= 0.9 else
                                ("met on the mean" if best["kept"] >= 0.9 else "missed"),
                                "best with an int8 copy on disk": f"{disk['system']}: {100 * disk['kept']:.1f} % "
                                                                  f"[{100 * disk['lo']:.1f}, {100 * disk['hi']:.1f}]"})
    summary_md = ["**Summary**: binary with rescoring against the target (≥ 90 % of float nDCG@10 kept at ≥ 16× less "
                  "vector memory; *best ≥ 16× row*: the best of the rows that keep only sign bits in memory and read no "
                  "second copy from disk).", "", markdown_table(summary), ""]
    body = body[:1] + [""] + summary_md + body[1:]
    body += [f"{time.perf_counter() - t_all:.0f} s for the whole run on {machine()}."]
    print("\n".join(summary_md), flush=True)
    print(write_results("quantization", "Quantised embeddings: int8 and binary vectors, with rescoring", "\n".join(body)))


if __name__ == "__main__":
    main()
