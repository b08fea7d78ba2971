"""Build the course website: `make book` (or python docs/build.py [--out build/book]).

1. Copies the twelve notebooks into a build folder, stripping saved widget state (which
   would make pages fetch require.js from a CDN); widget outputs keep their text form.
2. Writes the landing page: the course map (time and peak memory per notebook, from
   benchmarks/results/course_budget.md; models and data per notebook), the two commands,
   and links to the references and the instructor guide.
3. Copies a local MathJax (npm package ``mathjax@3``, installed once into build/npm).
4. Runs Sphinx with warnings as errors (-W --keep-going) into ``<out>/html``.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATHJAX = "mathjax@3.2.2"

# What each notebook needs: models and data (the budget table gives time and memory).
NEEDS = {
    "01": ("all-MiniLM-L6-v2, multilingual-e5-small", "STS-B validation, course FAQ"),
    "02": ("all-MiniLM-L6-v2 (bert-base-uncased when available)", "STS-B test"),
    "03": ("all-MiniLM-L6-v2, multilingual-e5-small", "STS-B test (English, Italian)"),
    "04": ("all-MiniLM-L6-v2, all-mpnet-base-v2, multilingual-e5-small", "STS-B test"),
    "05": ("all-MiniLM-L6-v2, multilingual-e5-small", "Wikipedia sentences"),
    "06": ("multilingual-e5-small, all-MiniLM-L6-v2", "course FAQ"),
    "07": ("all-MiniLM-L6-v2 and the cross-encoder trained at set-up", "STS-B"),
    "08": ("all-MiniLM-L6-v2", "STS-B test and validation"),
    "09": ("all-MiniLM-L6-v2 (fine-tuned copies)", "STS-B train/validation/test, course medical pairs"),
    "10": ("all-MiniLM-L6-v2, multilingual-e5-small (ONNX Runtime, Milvus Lite)", "Wikipedia sentences, STS-B, course FAQ"),
    "11": ("all-MiniLM-L6-v2, multilingual-e5-small", "STS-B, Wikipedia sentences, course FAQ and medical pairs"),
    "12": ("all-MiniLM-L6-v2, all-mpnet-base-v2, multilingual-e5-small", "STS-B in 4 languages, course FAQ"),
}


DEFAULT_REPO_URL = "https://github.com/semsim-course/semsim"


def repo_url() -> str:
    """The repository's web address for the site's buttons: $SEMSIM_REPO_URL, else git's origin if hosted."""
    import os

    if os.environ.get("SEMSIM_REPO_URL"):
        return os.environ["SEMSIM_REPO_URL"]
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return DEFAULT_REPO_URL
    url = re.sub(r"^git@github\.com:", "https://github.com/", url).removesuffix(".git")
    # The theme's buttons need https://host/owner/repo; a local clone's origin (a path) has no such page.
    return url if re.fullmatch(r"https://[^/]+/[^/]+/[^/]+", url) else DEFAULT_REPO_URL


def strip_widgets(nb: dict) -> dict:
    """Drop saved widget state; keep each widget output's plain-text form."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and "application/vnd.jupyter.widget-view+json" in data:
                data.pop("application/vnd.jupyter.widget-view+json")
                data.setdefault("text/plain", "")
    return nb


def budget() -> dict[str, tuple[str, str]]:
    """(seconds, peak MB) per notebook from the budget results; a later table's row for a notebook wins."""
    path = ROOT / "benchmarks" / "results" / "course_budget.md"
    out = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 3 and re.match(r"\d\d_", cells[0]):
            out[cells[0][:2]] = (cells[1], cells[2])
    return out


def landing(notebooks: list[Path]) -> str:
    times = budget()
    rows = []
    for nb in notebooks:
        num = nb.name[:2]
        title = next((line.lstrip("# ").strip() for line in "".join(
            json.loads(nb.read_text())["cells"][0]["source"]).splitlines() if line.startswith("# ")), nb.stem)
        secs, mb = times.get(num, ("?", "?"))
        models, data = NEEDS.get(num, ("", ""))
        rows.append(f"| [{title}](notebooks/{nb.stem}.ipynb) | {secs} | {mb} | {models} | {data} |")
    toc = "\n".join(f"notebooks/{nb.stem}" for nb in notebooks)
    return f"""# semsim: semantic similarity and sentence embeddings, measured

An open course in twelve notebooks. Every number is measured on the machine that runs it,
every claim is checked by an assertion, and the whole course runs offline on a CPU.
Read it here; run it yourself with `make course` (see the README), or launch a page on
Binder with the rocket button at the top of each notebook.

## Course map

Compute per notebook, measured by `benchmarks/course_budget.py` on a 2-core CPU (headless,
caches warm; seconds from the kernel's start to the end of the last cell; peak memory of the
kernel and the processes it starts, with the pages they share counted once). Everything runs
offline once the course is installed.

| notebook | seconds | peak memory (MB) | models | data |
|---|---|---|---|---|
{chr(10).join(rows)}

Each notebook ends with exercises (solutions folded) and a short self-check quiz.
[References](REFERENCES.md) lists every quoted figure; the [instructor guide](INSTRUCTORS.md)
has schedules and a set-up checklist.

```{{toctree}}
:maxdepth: 1
:caption: Notebooks

{toc}
```

```{{toctree}}
:maxdepth: 1
:caption: More

REFERENCES
INSTRUCTORS
```
"""


def mathjax(static: Path, cache: Path) -> None:
    es5 = cache / "node_modules" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(cache), MATHJAX],
                       check=True)
    target = static / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(es5 / "tex-chtml.js", target / "tex-chtml.js")
    shutil.copytree(es5 / "output" / "chtml" / "fonts", target / "output" / "chtml" / "fonts", dirs_exist_ok=True)


def build(out: Path) -> Path:
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for nb in notebooks:
        (src / "notebooks" / nb.name).write_text(json.dumps(strip_widgets(json.loads(nb.read_text())), indent=1))
    shutil.copy(ROOT / "notebooks" / "REFERENCES.md", src / "REFERENCES.md")
    shutil.copy(ROOT / "INSTRUCTORS.md", src / "INSTRUCTORS.md")
    shutil.copy(ROOT / "docs" / "conf.py", src / "conf.py")
    (src / "index.md").write_text(landing(notebooks))
    mathjax(src / "_static", ROOT / "build" / "npm")
    html = out / "html"
    env = {"SEMSIM_REPO_URL": repo_url()}
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), str(html)]
    subprocess.run(cmd, check=True, env={**__import__("os").environ, **env})
    return html


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "book"))
    html = build(Path(ap.parse_args().out))
    print(f"the site is in {html} (open index.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
