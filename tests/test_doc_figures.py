"""Every measured figure in README.md and INSTRUCTORS.md comes from a results file it links to.

A figure is a number with a unit of time, size, ratio or share ("3.5 min", "1,157 MiB", "86×").
Each paragraph, list item or table row that states one must link (or name) a file of
benchmarks/results/, and the number must appear in one of the files it links, as printed there or rounded to
fewer decimals. Targets, limits
and authored quantities (a notebook's stated learner time, Binder's memory) are not
measurements; they are listed below with the reason, and nothing else is exempt.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ["README.md", "INSTRUCTORS.md"]

_UNIT = r"(?:ms|s|min|minutes|hours|kB|MB|GB|MiB|GiB|×|%)"
FIGURE = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s?(" + _UNIT + r")(?!\w)")
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
LINK = re.compile(r"(?:benchmarks/results/)?\b([a-z0-9_]+\.md)\b")

NOT_MEASURED = {
    "600 s": "the course's time budget (a target)",
    "90 s": "the per-notebook time budget (a target)",
    "1.5 GB": "the per-notebook memory budget (a target)",
    "2 GB": "the memory a Binder session gives (Binder's documentation), the budget's reason",
    "10 ms": "the 1M-search latency target",
    "2.5×": "the encoding speed-up target",
    "20×": "the incremental-update target",
    "9 %": "the share of documents a benchmark's filter keeps (a setting, not a result)",
    "45 minutes": "the CI time target",
    "90 minutes": "CI's time limit; also the length of a teaching session",
    "6 hours": "the length of a teaching day (a schedule)",
    "60 minutes": "the learner time stated at the top of each notebook (authored, not measured)",
}


def blocks(text: str) -> list[str]:
    """Paragraphs and list items; each table row on its own."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.splitlines()
        if lines and all(line.lstrip().startswith("|") for line in lines):
            out += lines
        else:
            out += re.split(r"\n(?=\s*(?:[*-]|\d+\.) )", para)
    return out


def same_figure(quoted: str, value: float) -> bool:
    """The docs quote a results file's number as printed, or rounded to fewer decimals (20.61 as 20.6)."""
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return round(value, decimals) == float(quoted.replace(",", ""))


def figures_without_source(doc: str) -> list[str]:
    results = {p.name: p.read_text() for p in RESULTS.glob("*.md")}
    problems = []
    for block in blocks((ROOT / doc).read_text()):
        found = [m for m in FIGURE.finditer(block) if m.group(0) not in NOT_MEASURED]
        if not found:
            continue
        linked = [results[name] for name in LINK.findall(block) if name in results]
        measured = {float(n.replace(",", "")) for text in linked for n in NUMBER.findall(text)}
        for m in found:
            if not any(same_figure(m.group(1), value) for value in measured):
                where = "no results file linked here" if not linked else "not in the linked results files"
                problems.append(f"{doc}: '{m.group(0)}' ({where}): {block.strip()[:120]}")
    return problems


@pytest.mark.parametrize("doc", DOCS)
def test_every_figure_in_the_docs_is_in_a_results_file_it_links(doc):
    problems = figures_without_source(doc)
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_figure_that_no_results_file_holds(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("Installing took 123.4 s ([setup.md](benchmarks/results/setup.md)).\n\n"
                                        "It needs 2 GB of memory.\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    problems = figures_without_source("README.md")
    assert len(problems) == 1 and "123.4 s" in problems[0]
