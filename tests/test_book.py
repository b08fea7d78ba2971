"""The course website: it builds with warnings as errors and serves everything itself."""
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if shutil.which("npm") is None and not (ROOT / "build" / "npm" / "node_modules" / "mathjax").is_dir():
        pytest.skip("npm is needed once to fetch the local MathJax copy")
    import build

    return build.build(tmp_path_factory.mktemp("book"))


def pages(site):
    return sorted(site.rglob("*.html"))


def test_every_notebook_has_a_page_with_binder_download_and_licence(site):
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for nb in notebooks:
        html = (site / "notebooks" / f"{nb.stem}.html").read_text()
        assert f"mybinder.org/v2/gh/" in html and f"notebooks/{nb.stem}.ipynb" in html, nb.stem
        assert f"_sources/notebooks/{nb.stem}.ipynb" in html, nb.stem     # the download button
        assert "CC BY 4.0" in html and "MIT" in html, nb.stem
        assert "<details" in html                                         # solutions stay folded
    index = (site / "index.html").read_text()
    assert "Course map" in index and all(nb.stem in index for nb in notebooks)
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


def test_a_clone_of_a_local_folder_gets_the_default_repository_buttons(monkeypatch):
    """CI clones from a path; the theme's buttons need https://host/owner/repo (a path crashed the build)."""
    import subprocess

    import build

    monkeypatch.delenv("SEMSIM_REPO_URL", raising=False)
    for origin, expected in [("/work/main", build.DEFAULT_REPO_URL),
                             ("git@github.com:someone/semsim.git", "https://github.com/someone/semsim"),
                             ("https://gitlab.com/a/b.git", "https://gitlab.com/a/b")]:
        monkeypatch.setattr(subprocess, "run", lambda *a, _o=origin, **k: subprocess.CompletedProcess(a, 0, _o + "\n", ""))
        assert build.repo_url() == expected
