"""Rules every notebook's code must keep, read from the .ipynb files (no kernel is started).

* No assertion over a timing: a busy machine (CI shares its CPU) can flip any comparison of
  seconds, milliseconds, throughputs or speed ratios. Timings go in printed tables and in
  benchmarks/, never in an ``assert``.
* Every code cell that has outputs was executed (nbval fails on one that was not).
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Names, attributes and string keys that hold a time or a speed.
TIMING = re.compile(r"(^|_|\b)(s|ms|us|sec|secs|seconds|latency|elapsed|duration|time|times|timing|speed|"
                    r"speedup|throughput|qps|per_s|sent_per_s\w*|p50|p95|p99)($|_|\b)", re.IGNORECASE)
TIMING_WORDS = re.compile(r"(\bseconds?\b|\bms\b|latency|speed|throughput|sent(ences)?/s|per second|"
                          r"\bratio\b.*\b(s|time)\b|\bs\b\)?$)", re.IGNORECASE)


def _code_cells(path: Path) -> list[tuple[int, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def _parse(source: str) -> ast.Module | None:
    lines = [("pass  # " + line) if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def timing_words_in(node: ast.AST) -> list[str]:
    """The timing-like names, attributes and string keys an expression reads."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and TIMING.search(sub.id):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute) and TIMING.search(sub.attr):
            found.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and (
                TIMING.fullmatch(sub.value) or TIMING_WORDS.search(sub.value)):
            found.append(repr(sub.value))
    return found


def timing_assertions(source: str) -> list[str]:
    tree = _parse(source)
    if tree is None:
        return []
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            words = timing_words_in(node.test)
            if words:
                bad.append(f"line {node.lineno}: assert {ast.unparse(node.test)[:100]}  (reads {', '.join(words)})")
    return bad


def test_the_scanner_catches_timing_assertions():
    caught = ['assert fresh_s / cached_s > 10', 'assert df.loc[n, "sent_per_s_bs16"] > 2',
              'assert cost["rerank_ms"].iloc[-1] > 5 * bi_ms', 'assert table["latency_ms"].min() < 3',
              'assert updates["rebuild: s"].median() > 1', 'assert speed_ratio > 2', 'assert p99 < 10']
    passed = ['assert recall >= 0.95', 'assert lo > 0', 'assert len(hits) == 5', 'assert size["flat"] > 1',
              'assert mpnet["disk_mb"] > 3.5 * mini["disk_mb"]', 'assert "sessions" in text']
    assert all(timing_assertions(c) for c in caught), [c for c in caught if not timing_assertions(c)]
    assert not any(timing_assertions(c) for c in passed), [c for c in passed if timing_assertions(c)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_no_assertion_compares_timings(path):
    bad = [f"cell {i}, {b}" for i, source in _code_cells(path) for b in timing_assertions(source)]
    assert not bad, (f"{path.name} asserts on timings (print them in a table instead; benchmarks/ measures "
                     "them):\n" + "\n".join(bad))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_code_cell_with_outputs_was_run(path):
    """nbval refuses a cell that has outputs but no execution count ("Unrun reference cell has
    outputs"): a cell edited or converted by a script must be executed before it is committed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    unrun = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and c.get("outputs") and c.get("execution_count") is None]
    assert not unrun, f"{path.name}: cells {unrun} have outputs but were never run; execute the notebook"
