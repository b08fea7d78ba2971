"""Shared helpers for the benchmark scripts: medians, a process-tree memory sampler, results files."""
from __future__ import annotations

import platform
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import psutil

RESULTS = Path(__file__).resolve().parent / "results"


def median_seconds(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_measured(cmd: list[str], interval: float = 0.1, skip_root: bool = False,
                 **kw) -> tuple[int, float, float, float]:
    """Run ``cmd``; return (exit code, wall seconds, peak RSS and peak PSS in MB of the whole process tree).

    RSS summed over processes counts a page they share (libraries, memory-mapped weights) once
    per process, so it errs high. PSS (proportional set size) splits each shared page among the
    processes that map it, so the sum counts it once: closer to what a container's memory limit
    (Binder's, for instance) charges. ``skip_root``: leave ``cmd``'s own process out, count only
    what it starts (a measuring driver's memory is not the measured program's)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **kw)
    peak_rss = peak_pss = 0
    ps = psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while proc.poll() is None:
            rss = pss = 0
            try:
                for p in [*([] if skip_root else [ps]), *ps.children(recursive=True)]:
                    info = p.memory_full_info()
                    rss, pss = rss + info.rss, pss + info.pss
            except psutil.Error:
                pass   # a process ended while we read it: this sample is partial, the next is whole
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    sampler.join()
    return code, time.perf_counter() - t0, peak_rss / 2**20, peak_pss / 2**20


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}")


def write_results(name: str, title: str, body: str) -> Path:
    """Write ``results/<name>.md`` with a header saying when and where it was measured."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(f"# {title}\n\nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.\n\n{body}\n")
    return path


def markdown_table(rows: list[dict]) -> str:
    """A GitHub markdown table from a list of dicts (floats shown with up to 3 decimals)."""
    cols = list(rows[0])
    fmt = lambda v: f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
