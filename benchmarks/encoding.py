"""Encoding paths for all-MiniLM-L6-v2 on the CPU: speed and quality, side by side.

Paths: plain ``SentenceTransformer.encode``; torch dynamic int8 (``semsim.models.quantize.quantize_int8``);
ONNX Runtime float and int8 (``semsim.models.onnx``); OpenVINO float and int8 (``semsim.models.openvino``,
NNCF static quantisation); and the path ``fast_encoder(model, "auto")`` picks on this CPU. Speed: sentences per second by
batch size for short texts (one STS-B sentence) and long ones (five joined), median of
``--repeat`` runs per cell after a warm-up, every path measured in the same process one
after the other, so the ratios compare like with like. Quality: STS-B test Spearman for
each path on all 1,379 pairs, the difference to plain sentence-transformers with a paired
bootstrap interval, and the mean cosine between each path's vectors and the plain ones.

Each CPU class writes its own file, so the classes sit side by side: ``results/encoding.md``
on an AVX2-only CPU, ``results/encoding_avx512_vnni.md`` (or ``_avx_vnni``, ``_amx``) on CPUs
with 8-bit dot-product instructions.

Usage: python benchmarks/encoding.py [--texts 256] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from sentence_transformers import SentenceTransformer

from _common import markdown_table, median_seconds, write_results
from semsim.data import load_stsb
from semsim.evaluation import correlations, paired_bootstrap_diff
from semsim.models.locate import resolve
from semsim.models.load import load_model, quiet_loading
from semsim.models.onnx import onnx_encoder
from semsim.models.openvino import SPEED_FLAGS, cpu_flags, fast_encoder, openvino_encoder
from semsim.models.quantize import quantize_int8


def cpu_int8_features() -> str:
    """The CPU flags that decide how fast 8-bit matrix products run (Linux; 'unknown' elsewhere)."""
    flags = cpu_flags()
    if not flags:
        return "unknown"
    return ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in SPEED_FLAGS)


def cpu_class() -> str:
    """'amx', 'avx512_vnni', 'avx_vnni' or 'avx2': the best int8 instruction set this CPU has."""
    features = cpu_int8_features()
    for name in ("amx_int8", "avx512_vnni", "avx_vnni"):
        if f"{name} yes" in features:
            return name.replace("_int8", "")
    return "avx2"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    sentences = load_stsb("train")["sentence1"].drop_duplicates().sample(args.texts * 5, random_state=0).tolist()
    pairs = load_stsb("test")
    unique = pd.unique(pd.concat([pairs["sentence1"], pairs["sentence2"]])).tolist()
    # each set of texts with the batch sizes it is measured at
    texts = {"short": (sentences[: args.texts], (1, 8, 32, 128)),
             "long": ([" ".join(sentences[i:i + 5]) for i in range(0, 5 * args.texts, 5)], (1, 8, 32, 128)),
             "STS-B test, 1,500 mixed": (unique[:1500], (32,))}
    with quiet_loading():
        plain = SentenceTransformer(resolve("all-MiniLM-L6-v2").location, device="cpu")
    model = load_model("all-MiniLM-L6-v2", verbose=False)
    paths = {"plain ST": plain, "torch int8": quantize_int8(model),
             "ORT float": onnx_encoder(model), "ORT int8": onnx_encoder(model, int8=True),
             "OV float": openvino_encoder(model), "OV int8": openvino_encoder(model, int8=True)}
    auto = type(fast_encoder(model, "auto", verbose=False)).__name__

    speed = []
    for length, (items, batch_sizes) in texts.items():
        for bs in batch_sizes:
            n = items if bs > 1 else items[:64]
            row: dict = {"texts": length, "batch": bs}
            for name, enc in paths.items():
                enc.encode(n[:bs], batch_size=bs)  # warm-up
                row[f"{name} sent/s"] = len(n) / median_seconds(lambda: enc.encode(n, batch_size=bs),
                                                                repeat=args.repeat, warmup=0)
            for name in list(paths)[1:]:
                row[f"{name} ×"] = row[f"{name} sent/s"] / row["plain ST sent/s"]
            speed.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
            print(speed[-1], flush=True)

    where = {t: i for i, t in enumerate(unique)}
    vecs = {name: np.asarray(enc.encode(unique, batch_size=32, normalize_embeddings=True)) for name, enc in paths.items()}
    cos = {name: (v[[where[t] for t in pairs["sentence1"]]] * v[[where[t] for t in pairs["sentence2"]]]).sum(1)
           for name, v in vecs.items()}
    gold = pairs["score"].to_numpy()
    quality = []
    for name in paths:
        diff, lo, hi = paired_bootstrap_diff(cos[name], cos["plain ST"], gold, n_boot=1000)
        quality.append({"path": name, "STS-B test Spearman": f"{correlations(cos[name], gold).spearman:.4f}",
                        "Δ vs plain": f"{diff:+.4f}", "95% CI of Δ": f"{lo:+.4f} … {hi:+.4f}",
                        "mean cosine to plain vectors": f"{(vecs[name] * vecs['plain ST']).sum(1).mean():.4f}"})
        print(quality[-1], flush=True)
    body = (f"CPU instruction sets that int8 kernels use: {cpu_int8_features()}. "
            f"`fast_encoder(model, 'auto')` chose {auto} on this CPU.\n\n"
            f"{args.texts} texts per cell (64 at batch 1); short = one STS-B train sentence, long = five joined; "
            "the mixed row is 1,500 distinct STS-B test sentences of all lengths at batch 32; "
            f"median of {args.repeat} runs per cell after a warm-up; × = sentences per second relative to plain "
            "sentence-transformers measured in the same run. Quality on all 1,379 STS-B test pairs.\n\n"
            f"## Speed\n\n{markdown_table(speed)}\n\n## Quality\n\n{markdown_table(quality)}")
    print(body)
    name = "encoding" if cpu_class() == "avx2" else f"encoding_{cpu_class()}"
    print("written to", write_results(name, "Encoding paths: sentence-transformers, torch int8, ONNX Runtime, "
                                                   f"OpenVINO (all-MiniLM-L6-v2), {cpu_class()} CPU", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
