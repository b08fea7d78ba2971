"""Turn a notebook's markdown self-check (bare <details>, one per option) into a quiz that scores.

    python docs/convert_quizzes.py notebooks/*.ipynb            # in place
    python docs/convert_quizzes.py --out /tmp/nbs notebooks/*.ipynb

The "## Self-check" markdown cell, written as

    **1. Question?**
    <details><summary>a) option</summary>
    ✘ Not quite. Why not.
    </details>

becomes two cells: a short markdown cell (the heading and how to use the quiz) and a code cell
that calls ``semsim.course.quiz.quiz([...])`` with the same questions, options and explanations.
The code cell gets its output now (the quiz's HTML, made by the same function, so the website
shows it without re-running the notebook), and its source is folded in JupyterLab and removed
on the website (tags ``remove-input``; ``jupyter.source_hidden``): the answers are not on show.
A notebook without such a cell (or already converted) is left as it is.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from semsim.course.quiz import Quiz  # noqa: E402

HEADING = re.compile(r"^##\s+Self-check\s*$", re.M)
QUESTION = re.compile(r"^\*\*\s*\d+\.\s*(?P<text>.+?)\s*\*\*\s*$", re.M)
OPTION = re.compile(r"<details>\s*<summary>\s*[a-h]\)\s*(?P<text>.*?)\s*</summary>\s*(?P<why>.*?)\s*</details>", re.S)
VERDICT = re.compile(r"^(?P<mark>[\u2714\u2718])\s*(?:Right|Not quite)\.\s*")

INTRO = ("## Self-check\n\n"
         "Choose one answer per question and press **Check my answers** (in JupyterLab, run the cell below "
         "first): you get your score, and every option says why it is right or wrong.")


def parse(markdown: str) -> list[dict]:
    """The questions of a markdown self-check cell; [] when the cell is not one."""
    if not HEADING.search(markdown) or "<details>" not in markdown:
        return []
    starts = list(QUESTION.finditer(markdown))
    questions = []
    for k, m in enumerate(starts):
        block = markdown[m.end(): starts[k + 1].start() if k + 1 < len(starts) else len(markdown)]
        options, answer = [], []
        for j, opt in enumerate(OPTION.finditer(block)):
            why = " ".join(opt["why"].split())
            verdict = VERDICT.match(why)
            if not verdict:
                raise ValueError(f"question {k + 1}, option {j + 1}: the explanation must start with "
                                 "✔ Right. or ✘ Not quite.")
            if verdict["mark"] == "\u2714":
                answer.append(j)
            options.append((" ".join(opt["text"].split()), why[verdict.end():]))
        if len(answer) != 1:
            raise ValueError(f"question {k + 1} has {len(answer)} right options; a quiz question needs exactly one")
        questions.append({"question": m["text"], "options": options, "answer": answer[0]})
    return questions


def source(questions: list[dict]) -> str:
    """Python source of the quiz call, one option per line."""
    s = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731  (a JSON string is a Python string)
    lines = ["from semsim.course.quiz import quiz", "", "quiz(["]
    for q in questions:
        lines.append(f"    {{\"question\": {s(q['question'])},")
        lines.append("     \"options\": [")
        lines += [f"         ({s(text)}, {s(why)})," for text, why in q["options"]]
        lines.append(f"     ],\n     \"answer\": {q['answer']}}},")
    lines.append("])")
    code = "\n".join(lines)
    call = ast.parse(code).body[-1].value                       # the source must give back the same data
    assert [{**d, "options": [tuple(o) for o in d["options"]]} for d in ast.literal_eval(call.args[0])] == questions
    return code


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def convert(nb: dict, name: str) -> int:
    """Convert the notebook's self-check cell in place; the number of questions converted."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        questions = parse("".join(cell["source"]))
        if not questions:
            continue
        shown = Quiz(questions)
        code = {
            "cell_type": "code",
            "execution_count": None,
            "id": hashlib.sha1(f"{name} quiz".encode()).hexdigest()[:8],
            "metadata": {"jupyter": {"source_hidden": True}, "tags": ["remove-input"]},
            "outputs": [{"output_type": "display_data", "metadata": {},
                         "data": {"text/html": lines(shown._repr_html_()), "text/plain": lines(repr(shown))}}],
            "source": lines(source(questions)),
        }
        nb["cells"][i] = {**cell, "source": lines(INTRO)}
        nb["cells"].insert(i + 1, code)
        return len(questions)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, help="write converted copies into this folder instead of in place")
    args = ap.parse_args(argv)
    for path in args.notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        try:
            n = convert(nb, path.name)
        except ValueError as err:
            print(f"{path.name}: not converted: {err}", file=sys.stderr)
            return 1
        target = (args.out / path.name) if args.out else path
        if n or args.out:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path.name}: {f'{n} questions now a scored quiz' if n else 'no markdown self-check; unchanged'}"
              f" -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
