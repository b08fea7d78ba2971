"""The course website: it builds with warnings as errors, with Python packages only (no Node), and
serves everything itself. The quiz converter and the quiz module are tested here too.

The site is built from copies of the notebooks passed through docs/convert_quizzes.py, so the
scored quizzes are tested whether or not the committed notebooks have been converted yet.
"""
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def converted_copies(folder: Path) -> Path:
    """Copies of the notebooks with their markdown self-checks turned into scored quizzes."""
    import convert_quizzes

    folder.mkdir(parents=True, exist_ok=True)
    assert convert_quizzes.main(["--out", str(folder), *map(str, NOTEBOOKS)]) == 0
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built with a PATH that holds git and nothing else: no node, no npm."""
    import build

    bin_dir = tmp_path_factory.mktemp("bin")
    git = shutil.which("git")
    if git:
        (bin_dir / "git").symlink_to(git)
    copies = converted_copies(tmp_path_factory.mktemp("notebooks"))
    old_path = os.environ["PATH"]
    os.environ["PATH"] = str(bin_dir)
    try:
        assert shutil.which("npm") is None and shutil.which("node") is None
        return build.build(tmp_path_factory.mktemp("book"), copies)
    finally:
        os.environ["PATH"] = old_path


def pages(site):
    return sorted(site.rglob("*.html"))


def notebook_pages(site):
    return [site / "notebooks" / f"{nb.stem}.html" for nb in NOTEBOOKS]


def test_every_notebook_has_a_page_with_binder_download_and_licence(site):
    for nb in NOTEBOOKS:
        html = (site / "notebooks" / f"{nb.stem}.html").read_text()
        assert f"mybinder.org/v2/gh/" in html and f"notebooks/{nb.stem}.ipynb" in html, nb.stem
        assert f"_sources/notebooks/{nb.stem}.ipynb" in html, nb.stem     # the download button
        assert "CC BY 4.0" in html and "MIT" in html, nb.stem
        assert "<details" in html                                         # solutions stay folded
    index = (site / "index.html").read_text()
    assert "Course map" in index and all(nb.stem in index for nb in NOTEBOOKS)
    assert (site / "search.html").is_file() and (site / "searchindex.js").is_file()


def test_no_page_loads_anything_from_outside_the_site(site):
    external = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
    for page in pages(site):
        hits = [m.group(0) for m in external.finditer(page.read_text())]
        hits = [h for h in hits if not h.lower().startswith("<a ")]
        assert not hits, (page.name, hits[:3])
    for css in site.rglob("*.css"):
        assert not re.search(r"url\((['\"]?)(https?:)?//", css.read_text()), css.name   # fonts served locally
    assert not any("widget-view+json" in p.read_text() for p in pages(site))


def test_mathjax_comes_from_a_pip_package_with_its_licence(site):
    mathjax = site / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").stat().st_size > 100_000
    assert "Apache License" in (mathjax / "LICENSE").read_text()
    assert list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert "npm" not in (ROOT / "docs" / "build.py").read_text().replace("no npm", "")


def test_every_notebook_page_has_a_scored_quiz_copy_buttons_and_a_report_link(site):
    assert "sphinx_copybutton" in (ROOT / "docs" / "conf.py").read_text()
    assert (site / "_static" / "copybutton.js").is_file()
    for page in notebook_pages(site):
        html = page.read_text()
        assert html.count('class="semsim-quiz"') == 1, page.name
        assert '<script type="application/json" class="semsim-quiz-data">' in html, page.name  # myst-nb kept it
        assert "semsim-quiz-static" in html and "<details" in html, page.name   # the fallback without scripts
        assert "semsim-report-link" in html and "/issues/new?title=" in html, page.name
    for page in pages(site):
        if not page.relative_to(site).as_posix().startswith(("_", "genindex", "search")):
            assert "semsim-report-link" in page.read_text(), page.name


def test_plots_have_alt_text_not_a_file_name(site):
    count = 0
    for page in notebook_pages(site):
        for alt in re.findall(r'<img alt="([^"]*)"[^>]*src="[^"]*_images/', page.read_text()):
            count += 1
            assert alt.startswith("Plot") and "_images" not in alt and not re.search(r"[0-9a-f]{32}", alt), alt
    assert count >= 10


def test_result_tables_and_the_readme_are_links(site):
    for table in (ROOT / "benchmarks" / "results").glob("*.md"):
        assert (site / "benchmarks" / "results" / f"{table.stem}.html").is_file(), table.name
    for page in notebook_pages(site) + [site / "INSTRUCTORS.html"]:
        html = page.read_text()
        text = re.sub(r"<a\b[^>]*>.*?</a>|<pre>.*?</pre>", "", html, flags=re.S)   # the prose outside links
        assert not re.search(r"benchmarks/results/\w+\.md", text), page.name
        assert "the README" not in re.sub(r"<[^>]+>", "", text), page.name
    index = (site / "index.html").read_text()
    assert re.search(r'<a [^>]*href="[^"]*#readme"[^>]*>the README</a>', index)


def test_the_course_map_states_study_time_and_a_total(site):
    import build

    index = (site / "index.html").read_text()
    minutes = [build.study_minutes(nb) for nb in NOTEBOOKS]
    assert all(minutes), minutes
    assert "study time" in index and "whole course" in index
    assert build.hours(sum(minutes)) in index
    assert build.hours(95) == "1 h 35 min" and build.hours(40) == "40 min"


def test_the_whole_course_downloads_as_one_zip(site):
    archives = list(site.glob("_downloads/*/semsim-course.zip"))
    assert len(archives) == 1
    names = zipfile.ZipFile(archives[0]).namelist()
    assert any(n.endswith("notebooks/01_similarity_metrics.ipynb") for n in names)
    assert re.search(r'href="[^"]*_downloads/[^"]*semsim-course\.zip"', (site / "index.html").read_text())


def test_a_clone_of_a_local_folder_gets_the_default_repository_buttons_and_a_warning(monkeypatch, capsys):
    """CI clones from a path; the theme's buttons need https://host/owner/repo (a path crashed the build)."""
    import subprocess

    import build

    monkeypatch.delenv("SEMSIM_REPO_URL", raising=False)
    for origin, expected in [("/work/main", build.DEFAULT_REPO_URL),
                             ("git@github.com:someone/semsim.git", "https://github.com/someone/semsim"),
                             ("https://gitlab.com/a/b.git", "https://gitlab.com/a/b")]:
        monkeypatch.setattr(subprocess, "run", lambda *a, _o=origin, **k: subprocess.CompletedProcess(a, 0, _o + "\n", ""))
        assert build.repo_url(warn=True) == expected
        warned = "SEMSIM_REPO_URL" in capsys.readouterr().err
        assert warned == (expected == build.DEFAULT_REPO_URL), origin


# -- the quiz converter and the quiz module --------------------------------------------------------
SELF_CHECK = """## Self-check

Click an answer to see whether it is right, and why.

**1. Which one is `cosine`?**

<details><summary>a) the *dot* product</summary>

✘ Not quite. It grows with length.
</details>

<details><summary>b) cosine similarity</summary>

✔ Right. Directions only.
</details>

**2. Second?**

<details><summary>a) yes</summary>

✔ Right. Because.
</details>

<details><summary>b) no</summary>

✘ Not quite. Because not.
</details>
"""


def test_the_converter_reads_a_markdown_self_check_and_writes_a_quiz_cell():
    import convert_quizzes

    questions = convert_quizzes.parse(SELF_CHECK)
    assert questions == [
        {"question": "Which one is `cosine`?", "options": [("the *dot* product", "It grows with length."),
                                                          ("cosine similarity", "Directions only.")], "answer": 1},
        {"question": "Second?", "options": [("yes", "Because."), ("no", "Because not.")], "answer": 0}]
    nb = {"cells": [{"cell_type": "markdown", "id": "a1", "metadata": {}, "source": SELF_CHECK.splitlines(True)}]}
    assert convert_quizzes.convert(nb, "99_test.ipynb") == 2
    intro, code = nb["cells"]
    assert "## Self-check" in "".join(intro["source"]) and "<details>" not in "".join(intro["source"])
    assert "from semsim.course.quiz import quiz" in "".join(code["source"])
    assert code["metadata"]["tags"] == ["remove-input"] and code["metadata"]["jupyter"]["source_hidden"]
    assert "semsim-quiz" in "".join(code["outputs"][0]["data"]["text/html"])
    namespace = {}
    exec("".join(code["source"]).replace("quiz([", "shown = quiz(["), namespace)   # the cell runs as written
    assert namespace["shown"].questions == questions
    assert convert_quizzes.convert(nb, "99_test.ipynb") == 0                      # a second run changes nothing
    with pytest.raises(ValueError, match="exactly one"):
        convert_quizzes.parse(SELF_CHECK.replace("✘ Not quite. Because not.", "✔ Right. Also."))


def test_every_notebook_self_check_converts():
    import convert_quizzes

    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        already = any("semsim.course.quiz" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert already or convert_quizzes.convert(nb, path.name) >= 3, path.name


def test_a_quiz_is_one_self_contained_piece_of_html_and_checks_its_questions():
    from semsim.course.quiz import quiz

    q = quiz([{"question": "Is </script> <b>escaped</b>?", "options": [("yes", "It is."), ("no", "It is not.")],
               "answer": 0}])
    html = q._repr_html_()
    assert html.count("</script>") == 2 and "<b>" not in html                 # the text cannot end the script
    assert not re.search(r"(src|href)=|https?://|import\(", html)              # nothing loaded from anywhere
    assert q.id == quiz(q.questions).id                                         # same questions, same id
    assert "Is </script> <b>escaped</b>?" in repr(q)
    for bad in ([], [{"question": "q", "options": [("a", "why")], "answer": 0}],
                [{"question": "q", "options": [("a", "why"), ("b", "")], "answer": 0}],
                [{"question": "q", "options": [("a", "why"), ("b", "why")], "answer": 2}],
                [{"question": "q", "options": [("a", "why"), ("b", "why")]}]):
        with pytest.raises(ValueError):
            quiz(bad)


def test_the_api_reference_documents_every_module_and_notebooks_link_to_it(site):
    """Issue 24: an API reference built by autodoc, and each notebook page linking to the helpers it imports."""
    api = (site / "api.html").read_text()
    package = ROOT / "semsim"
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in package.rglob("*.py")
               if p.name not in ("__init__.py", "__main__.py") and p.parent.name != "exercises"}
    modules |= {"semsim.course.exercises"}
    missing = sorted(m for m in modules if f'id="module-{m}"' not in api)
    assert not missing, f"modules without a section in the API reference: {missing}"
    anchors = set(re.findall(r'id="([^"]+)"', api))
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        page = (site / "notebooks" / f"{nb.stem}.html").read_text()
        assert "semsim helpers on this page" in page, nb.stem
        links = set(re.findall(r'href="\.\./api\.html#([^"]+)"', page))
        assert links and links <= anchors, (nb.stem, sorted(links - anchors))
