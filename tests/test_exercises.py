"""The exercise checkers accept right answers, reject wrong ones, and explain."""
import math

import numpy as np
import pandas as pd

import pytest

from semsim.course.exercises import check, exercises


@pytest.mark.parametrize("name,right,wrong", [
    ("01.1", (0.0, math.sqrt(2), -1 / 3), (0.0, math.sqrt(2), 0.0)),
    ("01.2", (0.0, 0.66), (0.18, 0.78)),
    ("02.1", [0.5, 0.6, 0.65, 0.7, 0.75, 0.78, 0.82], [0.9, 0.6, 0.65, 0.7, 0.75, 0.78, 0.8]),
    ("02.2", (0.75, 0.01), (0.75, 0.5)),
    ("05.2", ((1.7, 0.99), (4.0, 0.93)), ((1.7, 0.93), (4.0, 0.99))),
    ("06.1", (0.8, 0.95), (0.99, 0.95)),
    ("06.3", (pd.DataFrame({"test handled": [0.688, 0.719]}), True), (pd.DataFrame({"test handled": [0.688, 0.719]}), False)),
    ("10.4", 1.0, 0.94),
    ("01.3", np.kron(np.eye(4), np.ones((3, 3))) * 0.5 + 0.3, np.ones((12, 12)) - np.kron(np.eye(4), np.ones((3, 3)))),
    ("03.1", ([1.0, 0.5], [1.1, 1.2], [0.2, 0.0]), ([1.0, 0.5], [1.1, 1.2], [0.0, 0.0])),
    ("03.2", (0.2, 0.7), (0.7, 0.2)),
    ("03.3", (0.80, 0.75, 0.85), (0.80, 0.85, 0.75)),
    ("04.1", (400.0, 60.0), (400.0, 300.0)),
    ("04.2", {"all-MiniLM-L6-v2": 0.4, "multilingual-e5-small": 0.75}, {"all-MiniLM-L6-v2": 0.8, "multilingual-e5-small": 0.75}),
    ("05.3", ((5e6, 0.6), (1e7, 0.8)), ((1e7, 0.6), (5e6, 0.8))),
    ("07.1", (0.8, 0.7, 0.82), (0.8, 0.7, 0.1)),
    ("07.2", (0.70, 0.78), (0.78, 0.70)),
    ("08.1", (0.012, 0.004, 0.02), (0.012, 0.02, 0.03)),
    ("08.2", (0.82, 0.84, 0.81, 0.812), (0.84, 0.82, 0.81, 0.812)),
    ("09.1", ((0.008, 0.002, 0.014), (0.02, 0.013, 0.027)), ((0.008, 0.002, 0.014), (0.008, 0.002, 0.014))),
    ("09.2", (0.2, 0.01), (0.01, 0.2)),
    ("09.3", (0.05, 0.03, 0.07), (-0.01, -0.03, 0.01)),
    ("10.1", 0, 120),
    ("10.2", (True, 37), (False, 0)),
    ("10.3", (0.2, 0.01), (1.5, 0.01)),
    ("11.1", (0.87, 0.3, 0.95), (0.87, 0.9, 0.95)),
    ("11.2", False, True),
    ("12.2", (0.05, 0.02, 625), (0.05, 0.02, 100)),
    ("12.3", (-0.19, -0.23, -0.15), (0.01, -0.02, 0.04)),
])
def test_right_and_wrong_answers(name, right, wrong, capsys):
    assert check(name, right) is True and "right" in capsys.readouterr().out
    assert check(name, wrong) is False and "not yet" in capsys.readouterr().out


def test_malformed_answers_and_unknown_exercises(capsys):
    assert check("01.1", "a string", quiet=True) is False
    assert check("02.1", [0.1, 0.2], quiet=True) is False
    with pytest.raises(KeyError, match="no checker"):
        check("99.9", 1)
    assert "01.1" in exercises() and all(isinstance(v, str) for v in exercises().values())


def test_every_exercise_of_every_notebook_has_a_checker():
    import json
    import re
    from pathlib import Path

    names = set()
    for nb in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.ipynb")):
        text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
        exercises_part = text.split("## Exercises", 1)[1].split("## Self-check", 1)[0]
        names |= {f"{nb.name[:2]}.{n}" for n in re.findall(r"^\*\*(\d+)\.\*\*", exercises_part, re.M)}
    assert names == set(exercises()), sorted(names ^ set(exercises()))


def test_the_faq_and_corpus_checkers_look_at_the_learners_objects(capsys):
    from types import SimpleNamespace

    from semsim.data import load_corpus
    users = pd.DataFrame({"text": ["close my account", "chiudere il conto"], "target": ["bank-close"] * 2})
    assert check("06.2", ([SimpleNamespace(id="bank-close")], users), quiet=True)
    assert not check("06.2", ([SimpleNamespace(id="bank-open")], users), quiet=True)
    assert check("05.1", list(range(len(load_corpus()))), quiet=True)
    assert not check("05.1", list(range(4000)), quiet=True)


def test_the_benchmark_table_checker():
    cols = [f"STS {c}" for c in ["en", "de", "it", "zh", "es", "fr", "nl", "ru"]]
    table = pd.DataFrame([np.linspace(0.8, 0.2, 8), np.linspace(0.8, 0.75, 8)], columns=cols,
                         index=["all-MiniLM-L6-v2", "multilingual-e5-small"])
    assert check("12.1", table, quiet=True)
    assert not check("12.1", table.iloc[::-1].set_axis(table.index), quiet=True)
    assert not check("12.1", table[cols[:4]], quiet=True)


def test_the_function_checker_runs_the_learners_function(capsys):
    from semsim.models.identity import fingerprint

    def by_fingerprint(index, model):
        if index.fingerprint != fingerprint(model):
            raise ValueError("index built with another model")

    def by_name(index, model):
        if index.model_name != "all-MiniLM-L6-v2":
            raise ValueError("other model")

    assert check("11.3", by_fingerprint, quiet=True)
    assert not check("11.3", by_name, quiet=True)


def test_the_solutions_quoted_numbers_hold():
    """Exercise 01.2's solution quotes Jaccard 0 and a MiniLM cosine of 0.66 for its pair; 01.1's values."""
    from semsim.text import similarity as sim
    from semsim.models.load import load_model

    s, t = "A kid is playing with a puppy.", "The child plays next to small dogs."
    cos = float(sim.cosine(*load_model("all-MiniLM-L6-v2").encode([s, t])))
    assert sim.jaccard(s, t) == 0 and round(cos, 2) == 0.66
    assert check("01.2", (sim.jaccard(s, t), cos), quiet=True)
    x, y = np.array([1., 0, 0, 0]), np.array([0., 1, 0, 0])
    assert check("01.1", (sim.cosine(x, y), sim.euclidean(x, y), sim.pearson(x, y)), quiet=True)
