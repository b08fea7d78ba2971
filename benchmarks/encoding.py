"""Encoding throughput: semsim's paths vs plain sentence-transformers, same model, same texts.

Rows: plain ``SentenceTransformer(folder).encode``; ``semsim.load_model`` (the same object
type, so the ratio should be ~1); semsim's on-disk ``EmbeddingCache`` when cold (encode +
write) and warm (read only); the int8 copy from ``semsim.engine.quantize_int8``. Columns:
batch size 1/16/64 and short (one STS-B sentence) vs long (five joined) texts. Each cell
is the median of several runs, all measured side by side in one process.
Usage: python benchmarks/encoding.py [--texts 256] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import tempfile

from sentence_transformers import SentenceTransformer

from _common import markdown_table, median_seconds, write_results
from semsim.cache import EmbeddingCache
from semsim.data import load_stsb
from semsim.engine import quantize_int8
from semsim.models import _quiet_loading, load_model, resolve


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    sentences = load_stsb("train")["sentence1"].drop_duplicates().sample(args.texts * 5, random_state=0).tolist()
    texts = {"short": sentences[: args.texts],
             "long": [" ".join(sentences[i:i + 5]) for i in range(0, 5 * args.texts, 5)]}
    with _quiet_loading():
        plain = SentenceTransformer(resolve("all-MiniLM-L6-v2").location, device="cpu")
    ours = load_model("all-MiniLM-L6-v2", verbose=False)
    int8 = quantize_int8(ours)

    rows = []
    for length, items in texts.items():
        for bs in (1, 16, 64):
            def rate(fn) -> float:
                return len(items) / median_seconds(fn, repeat=args.repeat)

            def cold() -> None:
                with tempfile.TemporaryDirectory() as tmp:
                    EmbeddingCache(tmp, ours).encode(items, batch_size=bs)

            with tempfile.TemporaryDirectory() as tmp:
                warm_cache = EmbeddingCache(tmp, ours)
                warm_cache.encode(items, batch_size=bs)
                r = {"texts": length, "batch": bs,
                     "plain ST sent/s": rate(lambda: plain.encode(items, batch_size=bs)),
                     "semsim sent/s": rate(lambda: ours.encode(items, batch_size=bs)),
                     "cache cold sent/s": rate(cold),
                     "cache warm sent/s": rate(lambda: warm_cache.encode(items, batch_size=bs)),
                     "int8 sent/s": rate(lambda: int8.encode(items, batch_size=bs))}
            r["semsim / plain"] = r["semsim sent/s"] / r["plain ST sent/s"]
            r["cold / plain"] = r["cache cold sent/s"] / r["plain ST sent/s"]
            r["warm / plain"] = r["cache warm sent/s"] / r["plain ST sent/s"]
            r["int8 / plain"] = r["int8 sent/s"] / r["plain ST sent/s"]
            rows.append({k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()})
            print(rows[-1], flush=True)
    table = markdown_table(rows)
    print(table)
    path = write_results("encoding", "Encoding throughput: semsim vs plain sentence-transformers (all-MiniLM-L6-v2)",
                         f"{args.texts} texts per cell; short = one STS-B train sentence, long = five joined; "
                         f"median of {args.repeat} runs per cell, one warm-up run each.\n\n{table}")
    print("written to", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
