"""Course budget: wall time and peak memory of every notebook, executed headless.

Each notebook runs in a fresh kernel (``jupyter nbconvert --execute``) into a temporary
copy, so the committed notebooks are not touched. Memory is the peak of the summed RSS of
the whole process tree (nbconvert, the kernel and anything the kernel starts), sampled
every 0.1 s. Targets (issue 7): whole course <= 10 min, each notebook <= 90 s and
<= 1.5 GB. Usage: python benchmarks/course_budget.py [--inplace] [NOTEBOOK ...]
(--inplace writes the executed notebooks back, so one run both re-executes and measures the course)
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _common import markdown_table, run_measured, write_results

ROOT = Path(__file__).resolve().parent.parent
TARGET_S, TARGET_MB, COURSE_S = 90, 1536, 600


def main(names: list[str]) -> int:
    inplace = "--inplace" in names
    names = [n for n in names if n != "--inplace"]
    notebooks = [ROOT / "notebooks" / n for n in names] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for nb in notebooks:
            cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                   "--ExecutePreprocessor.timeout=1800", *(["--inplace"] if inplace else ["--output-dir", tmp]), str(nb)]
            code, seconds, peak_mb = run_measured(cmd, cwd=nb.parent, stderr=subprocess.DEVNULL)
            over = [w for w, bad in (("time", seconds > TARGET_S), ("memory", peak_mb > TARGET_MB),
                                     ("FAILED", code != 0)) if bad]
            rows.append({"notebook": nb.stem, "wall s": round(seconds, 1), "peak RSS MB": round(peak_mb),
                         "within target": "yes" if not over else "no: " + ", ".join(over)})
            print(rows[-1], flush=True)
    total = sum(r["wall s"] for r in rows)
    rows.append({"notebook": "whole course", "wall s": round(total, 1),
                 "peak RSS MB": max(r["peak RSS MB"] for r in rows),
                 "within target": "yes" if total <= COURSE_S else "no: time"})
    table = markdown_table(rows)
    print(table)
    if not names:
        path = write_results("course_budget", "Course budget: each notebook executed headless",
                             f"Targets: each notebook <= {TARGET_S} s and <= {TARGET_MB} MB peak RSS (process tree); "
                             f"whole course <= {COURSE_S // 60} min. Caches warm (models prepared, "
                             f"cross-encoder of notebook 07 trained once before).\n\n{table}")
        print("written to", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
