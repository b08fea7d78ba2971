"""Build the course website: `make book` (or python docs/build.py [--out build/book] [--notebooks DIR]).

Needs Python packages only (no Node, no network):
1. Copies the twelve notebooks into a build folder, stripping saved widget state (which
   would make pages fetch require.js from a CDN); widget outputs keep their text form. Plots
   get alt text from their titles; paths such as `benchmarks/results/engine.md` and "the
   README" in the text become links.
2. Writes the landing page: the course map (study time, and compute time and peak memory per
   notebook, from benchmarks/results/course_budget.md; models and data per notebook), the
   two commands, a download of the whole course, and links to the references, the instructor
   guide and the measurement tables.
3. Copies a local MathJax from the pip package ``django-static-mathjax`` (MathJax 3.2.2, with
   its Apache-2.0 licence) and the site's own style sheet.
4. Writes the API reference (``api.md``): every module of ``semsim`` by layer, documented by
   Sphinx's autodoc from its docstrings, each with the notebooks that import it; each notebook
   page ends with links to the helpers it imports.
5. Runs Sphinx with warnings as errors (-W --keep-going) into ``<out>/html``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DEFAULT_REPO_URL = "https://github.com/semsim-course/semsim"
COURSE_ZIP = "semsim-course.zip"

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


def repo_url(warn: bool = False) -> str:
    """The repository's web address for the site's buttons: $SEMSIM_REPO_URL, else git's origin if hosted.

    With ``warn``, says on stderr when the buttons fall back to the default address (a clone of a local
    folder, or no git): Binder and the repository links would then open someone else's copy.
    """
    if os.environ.get("SEMSIM_REPO_URL"):
        return os.environ["SEMSIM_REPO_URL"]
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        url = ""
    url = re.sub(r"^git@([^:]+):", r"https://\1/", url).removesuffix(".git")
    # The theme's buttons need https://host/owner/repo; a local clone's origin (a path) has no such page.
    if re.fullmatch(r"https://[^/]+/[^/]+/[^/]+", url):
        return url
    if warn:
        print(f"warning: git's origin ({url or 'none'}) is not a web address, so the site's Binder, repository "
              f"and 'report a problem' links point at the default {DEFAULT_REPO_URL}. Set "
              "SEMSIM_REPO_URL=https://host/owner/repo to point them at your copy.", file=sys.stderr)
    return DEFAULT_REPO_URL


def repo_branch() -> str:
    return os.environ.get("SEMSIM_REPO_BRANCH", "main")


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


def _plot_words(code: str, call: str) -> str:
    m = re.search(r"(?:" + call + r""")\(\s*f?(["'])(.+?)\1""", code)
    return re.sub(r"\{[^}]*\}", "…", m.group(2)).strip() if m else ""


def alt_texts(nb: dict, number: str) -> dict:
    """Give every plot output alt text (title and axes from the code; else its section), unless it has one."""
    section = ""
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            section = next((h.lstrip("# ").strip() for h in reversed(source.splitlines()) if h.startswith("#")), section)
            continue
        if not any(k.startswith("image/") for out in cell.get("outputs", []) for k in out.get("data", {})):
            continue
        image = cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})
        if "alt" in image:
            continue
        title = _plot_words(source, r"(?:set_title|suptitle|\.title)")
        x, y = _plot_words(source, r"set_xlabel|xlabel"), _plot_words(source, r"set_ylabel|ylabel")
        axes = "; ".join(p for p in (f"x: {x}" if x else "", f"y: {y}" if y else "") if p)
        image["alt"] = (f"Plot: {title}" if title else "Plot") + (f" ({axes})" if axes else "") + (
            f". Notebook {number}, section “{section}”." if section else f". Notebook {number}.")
    return nb


def link_paths(text: str, depth: int, url: str, branch: str) -> str:
    """Make repository paths in markdown links: result tables to their page on the site, other files
    (and "the README") to the repository. ``depth`` is how many folders below the site's root the page is."""
    up = "../" * depth

    def path_link(m: re.Match) -> str:
        path = m.group(1)
        if not (ROOT / path).exists():
            return m.group(0)
        if re.fullmatch(r"benchmarks/results/[\w.-]+\.md", path):
            return f"[`{path}`]({up}{path})"
        return f"[`{path}`]({url}/blob/{branch}/{path})"

    # inline code that is a path in the repository (not already inside a link's text)
    text = re.sub(r"(?<!\[)`((?:benchmarks|semsim|tests|docs|notebooks|binder)/[\w./-]+)`(?!\])", path_link, text)
    return re.sub(r"(?<![\[\w/])(the README)(?!\]|\.md)", rf"[\1]({url}#readme)", text)


def study_minutes(nb: Path) -> int | None:
    """The learner time a notebook states at its top ("**Estimated time:** 30 minutes")."""
    first = "".join(json.loads(nb.read_text())["cells"][0]["source"])
    m = re.search(r"Estimated time:\**\s*(?:about\s+)?(\d+)\s*min", first)
    return int(m.group(1)) if m else None


def budget() -> dict[str, tuple[str, str]]:
    """(seconds, peak MB) per notebook from the budget results; a later table's row for a notebook wins."""
    path = ROOT / "benchmarks" / "results" / "course_budget.md"
    out = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 3 and re.match(r"\d\d_", cells[0]):
            out[cells[0][:2]] = (cells[1], cells[2])
    return out


def hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def landing(notebooks: list[Path], url: str, results: list[Path]) -> str:
    times = budget()
    rows, total = [], 0
    for nb in notebooks:
        num = nb.name[:2]
        title = next((line.lstrip("# ").strip() for line in "".join(
            json.loads(nb.read_text())["cells"][0]["source"]).splitlines() if line.startswith("# ")), nb.stem)
        minutes = study_minutes(nb)
        total += minutes or 0
        secs, mb = times.get(num, ("?", "?"))
        models, data = NEEDS.get(num, ("", ""))
        rows.append(f"| [{title}](notebooks/{nb.stem}.ipynb) | {minutes or '?'} min | {secs} | {mb} | {models} | {data} |")
    rows.append(f"| **whole course** | **{hours(total)}** | | | | |")
    toc = "\n".join(f"notebooks/{nb.stem}" for nb in notebooks)
    tables = "\n".join(f"benchmarks/results/{p.stem}" for p in results)
    return f"""# semsim: semantic similarity and sentence embeddings, measured

An open course in twelve notebooks. Every number is measured on the machine that runs it,
every claim is checked by an assertion, and the whole course runs offline on a CPU.
Read it here; run it yourself with `make course` (see [the README]({url}#readme)), or launch a
page on Binder with the rocket button at the top of each notebook.

**Take the whole course with you:** {{download}}`download the course (zip) <{COURSE_ZIP}>`, the notebooks,
the `semsim` package and the set-up files in one archive; unpack it and run `make course`.
Each page's download button gives that one notebook. Found a mistake, or stuck? Every page has a
*report a problem or ask a question* link at its end.

## Course map

Study time is the learner time each notebook states at its top (exercises not included).
Compute per notebook was measured by `benchmarks/course_budget.py` on a 2-core CPU (headless,
caches warm; seconds from the kernel's start to the end of the last cell; peak memory of the
kernel and the processes it starts, with the pages they share counted once): see
[the budget table](benchmarks/results/course_budget.md). Everything runs offline once the
course is installed.

| notebook | study time | compute (s) | peak memory (MB) | models | data |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Each notebook ends with exercises (solutions folded) and a short self-check quiz that scores.
[References](REFERENCES.md) lists every quoted figure; the [instructor guide](INSTRUCTORS.md)
has schedules and a set-up checklist; the [API reference](api.md) documents the package `semsim`,
module by module, with the notebooks that use each.

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
api
```

```{{toctree}}
:maxdepth: 1
:caption: Measurements

{tables}
```
"""


def mathjax(static: Path) -> None:
    """MathJax 3.2.2 from the pip package django-static-mathjax: the one script the site loads, its fonts
    and its licence (Apache-2.0)."""
    spec = importlib.util.find_spec("mathjax")
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" if spec else None
    if folder is None or not (folder / "es5" / "tex-chtml.js").is_file():
        raise SystemExit("make book needs a local MathJax: pip install django-static-mathjax==3.2.2.1 "
                         "(it is in requirements.txt; `make install` installs it)")
    target = static / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / "es5" / "tex-chtml.js", target / "tex-chtml.js")
    shutil.copy(folder / "LICENSE", target / "LICENSE")
    shutil.copytree(folder / "es5" / "output" / "chtml" / "fonts" / "woff-v2",
                    target / "output" / "chtml" / "fonts" / "woff-v2", dirs_exist_ok=True)


def course_zip(target: Path, notebooks: list[Path]) -> None:
    """The whole course in one zip: the committed tree (git archive), else the notebooks alone."""
    try:
        subprocess.run(["git", "archive", "--format=zip", "--prefix=semsim/", "-o", str(target), "HEAD"],
                       cwd=ROOT, check=True, capture_output=True)
        return
    except (OSError, subprocess.CalledProcessError):
        print("warning: not a git checkout; the course download holds the notebooks only", file=sys.stderr)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for nb in notebooks:
            z.write(nb, f"semsim/notebooks/{nb.name}")


# The API reference, layer by layer (bottom first), as in semsim/__init__.py.
API_LAYERS = [
    ("Ground", ["errors", "paths", "files", "storage"]),
    ("Text, data and evaluation", ["text.similarity", "text.pooling", "text.chunking", "text.lexical", "data", "evaluation",
                                   "evaluation_mteb"]),
    ("Models", ["models.registry", "models.locate", "models.load", "models.identity", "models.e5", "models.onnx",
                "models.quantize", "models.openvino", "models.cache", "models.static"]),
    ("Search", ["search.vectors", "search.metadata", "search.segments", "search.faiss_arrays", "search.index",
                "search.milvus", "search.milvus_server", "search.stores", "search.engine", "search.hybrid", "search.rerank", "search.faq"]),
    ("Training", ["training.bi_encoder", "training.cross_encoder"]),
    ("Course tools", ["course.exercises", "course.quiz", "course.measure", "course.doctor", "course.plots",
                      "course.synthetic", "course.precheck", "course.classroom"]),
]
_IMPORT = re.compile(r"^\s*from (semsim(?:\.[a-z_0-9]+)*) import (.+)$", re.M)


def semsim_imports(nb: dict) -> list[tuple[str, str]]:
    """(module, name) of every `from semsim... import name` in a notebook's code cells."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            for mod, names in _IMPORT.findall("".join(cell["source"])):
                for name in names.split(","):
                    name = name.split(" as ")[0].strip(" ()")
                    if name:
                        found.append((mod, name))
    return list(dict.fromkeys(found))


def _target(mod: str, name: str) -> str:
    """The documented object a notebook's import names (``load_model`` lives in semsim.models.load)."""
    if mod == "semsim":
        return {"load_model": "semsim.models.load.load_model"}.get(name, f"semsim.errors.{name}")
    return f"{mod}.{name}"


def api_page(notebooks: list[Path]) -> str:
    """The API reference in MyST: autodoc of every module, with the notebooks that use it."""
    users: dict[str, list[str]] = {}
    for nb in notebooks:
        for mod, name in semsim_imports(json.loads(nb.read_text())):
            module = _target(mod, name).rsplit(".", 1)[0] if mod == "semsim" else mod
            users.setdefault(module, []).append(nb.stem)
    parts = ["# API reference", "",
             "The package `semsim` packages what the notebooks teach, after each notebook has written it out "
             "with plain library calls. Modules are listed by layer, bottom first; each imports only from "
             "layers above it in this list (a test enforces it). Under each module: the notebooks that use it.", ""]
    for title, modules in API_LAYERS:
        parts += [f"## {title}", ""]
        for short in modules:
            module = f"semsim.{short}"
            used = sorted(set(users.get(module, [])))
            where = ", ".join(f"[{stem[:2]}](notebooks/{stem}.ipynb)" for stem in used) or "none (used by other modules)"
            parts += [f"### `{module}`", "", f"Used in notebooks: {where}.", "",
                      f"```{{eval-rst}}\n.. automodule:: {module}\n   :members:\n```", ""]
    return "\n".join(parts)


def helpers_cell(nb: dict) -> dict | None:
    """A last markdown cell linking the semsim helpers this notebook imports to the API reference."""
    names = [_target(mod, name) for mod, name in semsim_imports(nb)]
    names = [n for n in names if not n.endswith(".*")]
    if not names:
        return None
    links = ", ".join(f"{{py:obj}}`{n.rsplit('.', 1)[-1]} <{n}>`" for n in names)
    return {"cell_type": "markdown", "id": "semsim-helpers", "metadata": {},
            "source": [f"**semsim helpers on this page** (API reference): {links}."]}


def copy_markdown(source: Path, target: Path, depth: int, url: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(link_paths(source.read_text(), depth, url, repo_branch()))


def build(out: Path, notebooks_dir: Path | None = None) -> Path:
    """Build the site into ``out``/html from the notebooks in ``notebooks_dir`` (default: notebooks/)."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    url = repo_url(warn=True)
    notebooks = sorted((notebooks_dir or ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for nb in notebooks:
        book = alt_texts(strip_widgets(json.loads(nb.read_text())), nb.name[:2])
        for cell in book["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = link_paths("".join(cell["source"]), 1, url, repo_branch())
        if (links := helpers_cell(book)) is not None:
            book["cells"].append(links)
        (src / "notebooks" / nb.name).write_text(json.dumps(book, indent=1))
    copy_markdown(ROOT / "notebooks" / "REFERENCES.md", src / "REFERENCES.md", 0, url)
    copy_markdown(ROOT / "INSTRUCTORS.md", src / "INSTRUCTORS.md", 0, url)
    results = sorted((ROOT / "benchmarks" / "results").glob("*.md"))
    for table in results:
        copy_markdown(table, src / "benchmarks" / "results" / table.name, 2, url)
    shutil.copy(DOCS / "conf.py", src / "conf.py")
    shutil.copytree(DOCS / "_static", src / "_static")
    shutil.copytree(DOCS / "_templates", src / "_templates")
    (src / "index.md").write_text(landing(notebooks, url, results))
    (src / "api.md").write_text(api_page(notebooks))
    course_zip(src / COURSE_ZIP, notebooks)
    mathjax(src / "_static")
    html = out / "html"
    env = {**os.environ, "SEMSIM_REPO_URL": url, "SEMSIM_REPO_BRANCH": repo_branch()}
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), str(html)]
    subprocess.run(cmd, check=True, env=env)
    return html


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "book"))
    ap.add_argument("--notebooks", type=Path, help="build from the notebooks in this folder (default: notebooks/)")
    args = ap.parse_args()
    html = build(Path(args.out), args.notebooks)
    print(f"the site is in {html} (open index.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
