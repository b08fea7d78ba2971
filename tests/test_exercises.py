"""The exercise checkers accept right answers, reject wrong ones, and explain."""
import math

import pytest

from semsim.exercises import check, exercises


@pytest.mark.parametrize("name,right,wrong", [
    ("01.1", (0.0, math.sqrt(2), -1 / 3), (0.0, math.sqrt(2), 0.0)),
    ("01.2", (0.0, 0.66), (0.18, 0.78)),
    ("02.1", [0.5, 0.6, 0.65, 0.7, 0.75, 0.78, 0.82], [0.9, 0.6, 0.65, 0.7, 0.75, 0.78, 0.8]),
    ("02.2", (0.75, 0.01), (0.75, 0.5)),
    ("05.2", ((1.7, 0.99), (4.0, 0.93)), ((1.7, 0.93), (4.0, 0.99))),
    ("06.1", (0.8, 0.95), (0.99, 0.95)),
    ("10.4", 1.0, 0.94),
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
