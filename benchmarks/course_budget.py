"""Course budget: wall time and peak memory of every notebook, executed headless.

Each notebook runs in a fresh kernel, started and driven by nbclient (the library behind
``jupyter nbconvert --execute`` and nbval) in a small driver process, into a temporary
copy, so the committed notebooks are not touched. What is measured is the notebook, not
the driver:

* time: from the request to start the kernel to the end of the last cell, so the kernel's
  start-up and every import the notebook makes are counted, the driver's own start-up is not;
* memory: the peak over the kernel and everything it starts (subprocesses such as notebook
  04's isolated profiles), sampled every 0.1 s, two ways: summed PSS, which counts a page the
  processes share (libraries, memory-mapped weights) once, as a container's memory limit
  does, and summed RSS, which counts it once per process and so errs high. The 1.5 GB
  target is judged on PSS; both are printed.

The driver's own cost (its start-up, and its wall time in all) is printed beside it.
Targets (issue 7): whole course <= 10 min, each notebook <= 90 s and <= 1.5 GB.
Usage: python benchmarks/course_budget.py [--inplace] [NOTEBOOK ...]
(--inplace writes the executed notebooks back, so one run both re-executes and measures the course)
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import markdown_table, run_measured, write_results

ROOT = Path(__file__).resolve().parent.parent
TARGET_S, TARGET_MB, COURSE_S = 90, 1536, 600


def execute(notebook: str, output: str) -> None:
    """Driver: execute ``notebook`` in a fresh kernel, write it to ``output``, print the seconds as JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(notebook).parent)}})
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    nbformat.write(nb, output)
    print(json.dumps({"seconds": seconds}))


def main(names: list[str]) -> int:
    inplace = "--inplace" in names
    names = [n for n in names if n != "--inplace"]
    notebooks = [ROOT / "notebooks" / n for n in names] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for nb in notebooks:
            out = nb if inplace else Path(tmp) / nb.name
            result = Path(tmp) / "seconds.json"
            cmd = [sys.executable, __file__, "--execute", str(nb), str(out)]
            with result.open("w") as f:
                code, wall, peak_rss, peak_pss = run_measured(cmd, cwd=nb.parent, skip_root=True, stdout=f,
                                                             stderr=subprocess.DEVNULL)
            lines = result.read_text().strip().splitlines()
            seconds = json.loads(lines[-1])["seconds"] if code == 0 and lines else wall
            over = [w for w, bad in (("time", seconds > TARGET_S), ("memory", peak_pss > TARGET_MB),
                                     ("FAILED", code != 0)) if bad]
            rows.append({"notebook": nb.stem, "wall s": round(seconds, 1), "peak PSS MB": round(peak_pss),
                         "peak RSS MB (sum)": round(peak_rss),
                         "within target": "yes" if not over else "no: " + ", ".join(over),
                         "driver, all in s": round(wall, 1)})
            print(rows[-1], flush=True)
    total = sum(r["wall s"] for r in rows)
    rows.append({"notebook": "whole course", "wall s": round(total, 1),
                 "peak PSS MB": max(r["peak PSS MB"] for r in rows),
                 "peak RSS MB (sum)": max(r["peak RSS MB (sum)"] for r in rows),
                 "within target": "yes" if total <= COURSE_S else "no: time",
                 "driver, all in s": round(sum(r["driver, all in s"] for r in rows), 1)})
    table = markdown_table(rows)
    print(table)
    if not names:
        path = write_results("course_budget", "Course budget: each notebook executed headless",
                             f"Targets: each notebook <= {TARGET_S} s and <= {TARGET_MB} MB peak PSS (the kernel's "
                             f"process tree, shared pages counted once); whole course <= {COURSE_S // 60} min. Caches warm (models prepared, "
                             f"cross-encoder of notebook 07 trained once before). 'wall s' runs from the kernel's "
                             f"start to the end of the last cell; 'driver, all in s' adds the measuring driver's own "
                             f"start-up (importing nbclient).\n\n{table}")
        print("written to", path)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--execute"]:
        execute(*sys.argv[2:4])
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
