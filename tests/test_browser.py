"""Real-browser tests: the website and the JupyterLab that `make course` starts.

Playwright drives Debian's Chromium (/usr/bin/chromium, installed by .ci/run with apt);
`playwright install`, which downloads browsers, is never used. Without Chromium these
tests are skipped with that reason. Screenshots go to build/screenshots/ (the committed
ones in docs/screenshots/ were taken by this test).
"""
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SEMSIM_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "build" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


# -- the website ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "docs"))
    import build

    html = build.build(tmp_path_factory.mktemp("book"))
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(html), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", html
    server.shutdown()


def test_every_page_shows_its_figures_and_its_links_resolve(browser, served_site):
    base, html = served_site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", None) else None)
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html).as_posix()
        if rel.startswith(("_", "genindex", "search")):
            continue
        response = page.goto(f"{base}/{rel}")
        assert response.ok, rel
        page.wait_for_load_state("networkidle")
        broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        assert not broken, (rel, broken[:3])
        links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"
                              ".filter(h => h.startsWith(location.origin))")
        for link in {l.split("#")[0] for l in links}:
            target = html / urlparse(link).path.lstrip("/")
            assert target.exists() or (target / "index.html").exists(), (rel, link)
        if rel == "index.html":
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "site-landing.png"))
        if rel.startswith("notebooks/01"):
            assert page.locator("img[src*='_images']").count() >= 1
            assert page.locator("mjx-container").count() >= 1      # MathJax rendered, from the local copy
    assert not outside, outside[:5]                                 # nothing fetched from another host
    page.close()


# -- JupyterLab ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    import json

    work = tmp_path_factory.mktemp("lab")
    nb = json.loads((ROOT / "notebooks" / "01_similarity_metrics.ipynb").read_text())
    for cell in nb["cells"]:  # a copy without outputs: whatever the test finds, this browser session made
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (work / "01_similarity_metrics.ipynb").write_text(json.dumps(nb))
    port, token = free_port(), "semsim-test-token"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root",
           "--LabApp.news_url=None", "--LabApp.collaborative=False"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={
        **os.environ, "JUPYTER_CONFIG_DIR": str(work / ".jupyter"), "JUPYTER_RUNTIME_DIR": str(work / ".runtime")})
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("JupyterLab did not start within 90 s")
    yield f"http://127.0.0.1:{port}", token
    proc.terminate()
    proc.wait(timeout=30)


def test_jupyterlab_runs_the_first_cells_of_notebook_01(browser, jupyterlab):
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    page.goto(f"{base}/lab/tree/01_similarity_metrics.ipynb?token={token}")
    idle = page.locator("#jp-main-statusbar >> text=Idle")       # the kernel's status in the status bar
    idle.first.wait_for(timeout=120_000)
    no_news = page.get_by_role("button", name="No")              # JupyterLab asks once about its news feed
    if no_news.count():
        no_news.first.click()
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.locator(".jp-Cell").first.click()
    for _ in range(4):                                             # title, imports, section text, first example
        page.keyboard.press("Shift+Enter")
        idle.first.wait_for(timeout=120_000)
        time.sleep(0.3)
    output = notebook.locator(".jp-OutputArea-output").first
    output.wait_for(timeout=60_000)
    text = notebook.inner_text()
    assert "cosine=1.000" in text and "a vs c" in text              # the printed result of the first example
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "jupyterlab-01.png"))
    page.close()
