"""What each notebook pays before its first lesson cell: the import cell, in a fresh interpreter.

For every notebook, the first code cell (its imports) is run with ``python -X importtime`` in
a new process, ``--repeat`` times; the table gives the median wall time of the whole cell and
splits the import time that ``-X importtime`` reports into semsim's own modules (self time
of every ``semsim.*`` module) and the third-party packages the cell reaches, largest first
(cumulative time of each package that the cell or semsim imports, not counting packages
that another library pulls in, which are inside that library's time; the standard library is
left out).

A notebook that never imports sentence-transformers in its first cell pays for it later, at
its first model load; the column "sentence_transformers" says which notebooks pay it here.

Usage: python benchmarks/imports.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from _common import markdown_table, write_results

ROOT = Path(__file__).resolve().parent.parent
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def first_code_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def measure(code: str) -> tuple[float, dict[str, float], float]:
    """(wall seconds, cumulative seconds per top-level third-party package, semsim self seconds)."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT / "notebooks",
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    packages: dict[str, float] = defaultdict(float)
    own = 0.0
    parents: list[str] = []                   # -X importtime prints children before their parent:
    for line in reversed(done.stderr.splitlines()):   # read backwards, each line's parents come first
        m = _LINE.match(line)
        if not m:
            continue
        self_us, cumulative_us, depth, name = int(m[1]), int(m[2]), len(m[3]), m[4]
        del parents[depth - 1:]
        top = name.split(".")[0]
        if top == "semsim":
            own += self_us / 1e6
        elif top in sys.stdlib_module_names or top.startswith("_"):
            pass                                   # the standard library and the interpreter's start-up
        elif all(p.startswith("semsim") for p in parents):
            packages[top] += cumulative_us / 1e6   # imported by the cell itself or by semsim, not by another library
        parents.append(name)
    return wall, packages, own


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = first_code_cell(nb)
        runs = [measure(code) for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in runs)
        own = statistics.median(r[2] for r in runs)
        names = sorted({k for r in runs for k in r[1]})
        per = {k: statistics.median(r[1].get(k, 0.0) for r in runs) for k in names}
        largest = sorted(per.items(), key=lambda kv: -kv[1])[:4]
        rows.append({"notebook": nb.stem[:2], "import cell, wall s": round(wall, 2),
                     "semsim's own modules, s": round(own, 3),
                     "sentence_transformers": "yes" if "sentence_transformers" in per else "no",
                     "largest imports (cumulative s)": ", ".join(f"{k} {v:.2f}" for k, v in largest)})
        print(rows[-1], flush=True)
    body = (markdown_table(rows) + f"\n\n- Medians over {args.repeat} fresh interpreters per notebook; "
            "`-X importtime` itself adds a little overhead to the wall time.\n"
            "- semsim imports its heavy dependencies (torch, sentence-transformers, FAISS, pymilvus, "
            "onnxruntime, OpenVINO, scikit-learn) inside the functions that need them, so its own column is "
            "the cost of its modules' code; the rest of the cell's time is the libraries the lesson uses.\n"
            "- Made by `python benchmarks/imports.py`.")
    print("written to", write_results("imports", "Import cost: each notebook's import cell in a fresh interpreter", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
