"""Real-browser tests: the website and the JupyterLab that `make course` starts.

Playwright drives Debian's Chromium (/usr/bin/chromium, installed by .ci/run with apt);
`playwright install`, which downloads browsers, is never used. Without Chromium these
tests are skipped with that reason. Screenshots go to build/screenshots/ (the committed
ones in docs/screenshots/ were taken by these tests).

The website is checked at a desktop (1366x900) and a phone (390x844) size, on every page; it is
built from copies of the notebooks passed through docs/convert_quizzes.py, so the scored quizzes
are tested whether or not the committed notebooks have been converted yet.
"""
import http.server
import json
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
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_jupyterlab(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, str]:
    """A JupyterLab serving ``root`` on a free port, as `make course` runs it: (process, base URL, token)
    once it accepts connections. Fails the test if it has not within 90 s."""
    port, token = free_port(), "semsim-test-token"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
           "--LabApp.news_url=None", "--LabApp.collaborative=False"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}", token
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("JupyterLab did not start within 90 s")


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
    import convert_quizzes

    copies = tmp_path_factory.mktemp("notebooks")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert convert_quizzes.main(["--out", str(copies), *map(str, notebooks)]) == 0
    html = build.build(tmp_path_factory.mktemp("book"), copies)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(html), **k)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
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
        if rel.startswith("notebooks/01"):
            assert page.locator("img[src*='_images']").count() >= 1
            assert page.locator("mjx-container").count() >= 1      # MathJax rendered, from the local copy
    assert not outside, outside[:5]                                 # nothing fetched from another host
    page.close()


def site_pages(html: Path) -> list[str]:
    return [p.relative_to(html).as_posix() for p in sorted(html.rglob("*.html"))
            if not p.relative_to(html).as_posix().startswith(("_", "genindex", "search"))]


@pytest.fixture
def watched(browser):
    """A fresh browser context (own storage) at a viewport; yields (new_page, problems): every console
    error, script error, failed or 4xx/5xx request and request to another host lands in problems."""
    contexts, problems = [], []

    def new_page(viewport):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
        page.on("request", lambda r: problems.append(f"outside: {r.url}")
                if urlparse(r.url).hostname not in ("127.0.0.1", None) else None)
        return page

    yield new_page, problems
    for context in contexts:
        context.close()


def open_page(page, url: str) -> None:
    assert page.goto(url).ok, url
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)                     # the theme's and the quiz's scripts run on load


def check_drawers(page, viewport, rel: str) -> None:
    """The menu (list of notebooks) and the contents open from their buttons and close again."""
    menu = page.locator("button.primary-toggle:visible")
    assert menu.count() == 1, (rel, "no visible menu button")
    notebooks = page.locator("#pst-primary-sidebar .bd-docs-nav a")
    if viewport is PHONE:
        assert not notebooks.first.is_visible(), rel
        menu.click()
        page.locator("#pst-primary-sidebar-modal[open]").wait_for(timeout=5_000)
        assert page.locator("#pst-primary-sidebar-modal .bd-docs-nav a:visible").count() >= 12, rel
        page.keyboard.press("Escape")
        page.locator("#pst-primary-sidebar-modal[open]").wait_for(state="detached", timeout=5_000)
        contents = page.locator("button.secondary-toggle:visible")
        if page.locator(".bd-sidebar-secondary nav.bd-toc-nav a").count():   # pages with sections
            assert contents.count() == 1, (rel, "no contents button")
            contents.click()
            page.locator("#pst-secondary-sidebar-modal[open]").wait_for(timeout=5_000)
            assert page.locator("#pst-secondary-sidebar-modal nav.bd-toc-nav a:visible").count() >= 1, rel
            page.keyboard.press("Escape")
            page.locator("#pst-secondary-sidebar-modal[open]").wait_for(state="detached", timeout=5_000)
    else:
        assert notebooks.first.is_visible(), rel                  # the sidebar is open on a desktop
        sidebar = "getComputedStyle(document.querySelector('#pst-primary-sidebar')).visibility == '{}'"
        menu.click()
        page.wait_for_function(sidebar.format("hidden"), timeout=5_000)
        menu.click()
        page.wait_for_function(sidebar.format("visible"), timeout=5_000)
        if page.locator(".bd-sidebar-secondary nav.bd-toc-nav a").count():   # the contents stay in view
            assert page.locator(".bd-sidebar-secondary nav.bd-toc-nav a").first.is_visible(), rel


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_fits_the_screen_and_its_menus_open_and_close(watched, served_site, viewport):
    base, html = served_site
    new_page, problems = watched
    page = new_page(viewport)
    for rel in site_pages(html):
        open_page(page, f"{base}/{rel}")
        wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert wide <= 0, (rel, f"{wide} px wider than the screen")
        check_drawers(page, viewport, rel)
        cells = page.locator("div.cell_input").count()
        if rel.startswith("notebooks/"):
            assert cells >= 5, rel
            assert page.locator("div.cell_input button.copybtn").count() == cells, (rel, "a cell lacks a copy button")
            assert page.locator("div.cell_output button.copybtn").count() == 0, rel   # outputs are not code to copy
    assert not problems, problems[:5]
    if viewport is PHONE:            # a phone reader reaches every notebook from the menu
        open_page(page, f"{base}/index.html")
        for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
            page.locator("button.primary-toggle:visible").click()
            page.locator(f"#pst-primary-sidebar-modal a[href$='{nb.stem}.html']").click()
            page.wait_for_url(f"**/notebooks/{nb.stem}.html")
        assert not problems, problems[:5]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_quiz_scores_and_every_solution_opens(watched, served_site, viewport):
    base, html = served_site
    new_page, problems = watched
    page = new_page(viewport)
    for rel in [r for r in site_pages(html) if r.startswith("notebooks/")]:
        open_page(page, f"{base}/{rel}")
        solution = page.locator("details:has(> summary:text-is('Solution'))").first
        solution.locator("summary").click()
        assert solution.evaluate("d => d.open"), rel
        assert solution.locator("div.highlight pre, p").first.is_visible(), rel
        quiz = page.locator(".semsim-quiz")
        assert quiz.count() == 1, rel
        assert not quiz.locator(".semsim-quiz-static").is_visible()            # the script took over
        questions = quiz.locator("fieldset")
        n = questions.count()
        assert n >= 3, rel
        data = json.loads(quiz.locator("script.semsim-quiz-data").text_content())
        answers = [q["answer"] for q in data["questions"]]
        questions.nth(0).locator("input").nth((answers[0] + 1) % 3).check()     # a wrong answer
        questions.nth(1).locator("input").nth(answers[1]).check()               # a right one
        quiz.locator("button.semsim-quiz-check").click()
        assert quiz.locator(".semsim-quiz-score").inner_text() == f"Score: 1 of {n} right", rel
        assert questions.nth(0).locator(".semsim-quiz-verdict").inner_text().endswith("Not quite."), rel
        assert questions.nth(1).locator(".semsim-quiz-verdict").inner_text().endswith("Right."), rel
        assert quiz.locator(".semsim-quiz-why:visible").count() == sum(len(q["options"]) for q in data["questions"])
        if rel.startswith("notebooks/01"):
            open_page(page, f"{base}/{rel}")                                     # the browser remembers
            assert page.locator(".semsim-quiz-score").inner_text() == f"Your last score: 1 of {n} right"
            page.locator(".semsim-quiz-reset").click()
            assert page.locator(".semsim-quiz-score").inner_text() == ""
            for i, answer in enumerate(answers):
                page.locator(".semsim-quiz fieldset").nth(i).locator("input").nth(answer).check()
            page.locator(".semsim-quiz button.semsim-quiz-check").click()
            assert page.locator(".semsim-quiz-score").inner_text() == f"Score: {n} of {n} right"
            SHOTS.mkdir(parents=True, exist_ok=True)
            name = "site-phone-quiz.png" if viewport is PHONE else "site-desktop-quiz.png"
            page.locator(".semsim-quiz").screenshot(path=str(SHOTS / name))
    assert not problems, problems[:5]


def test_a_copy_button_copies_the_code_exactly(browser, served_site):
    """Copy buttons give the cell's source: line breaks and blank lines kept, though lines wrap on screen."""
    base, _ = served_site
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    open_page(page, f"{base}/notebooks/10_production_pipeline.html")
    nb = json.loads((ROOT / "notebooks" / "10_production_pipeline.ipynb").read_text())
    sources = {"".join(c["source"]).rstrip("\n") for c in nb["cells"] if c["cell_type"] == "code"}
    copied = []
    for i in range(6):
        cell = page.locator("div.cell_input").nth(i)
        cell.hover()
        cell.locator("button.copybtn").click()
        copied.append(page.evaluate("navigator.clipboard.readText()"))
    assert all(c in sources for c in copied), [c[:80] for c in copied if c not in sources]
    assert any("\n\n" in c for c in copied)                    # blank lines survive the line spans
    context.close()


def test_screenshots_of_a_phone_page_and_a_desktop_page(watched, served_site):
    base, _ = served_site
    new_page, problems = watched
    SHOTS.mkdir(parents=True, exist_ok=True)
    for viewport, name in [(PHONE, "site-phone.png"), (DESKTOP, "site-desktop.png")]:
        page = new_page(viewport)
        if viewport is DESKTOP:
            open_page(page, f"{base}/index.html")
            page.screenshot(path=str(SHOTS / "site-landing.png"))
        open_page(page, f"{base}/notebooks/05_semantic_search_faiss.html")
        page.screenshot(path=str(SHOTS / name))
        if viewport is PHONE:
            page.locator("button.primary-toggle:visible").click()
            page.locator("#pst-primary-sidebar-modal[open]").wait_for(timeout=5_000)
            page.screenshot(path=str(SHOTS / "site-phone-menu.png"))
    assert not problems, problems[:5]


# -- JupyterLab ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    nb = json.loads((ROOT / "notebooks" / "01_similarity_metrics.ipynb").read_text())
    for cell in nb["cells"]:  # a copy without outputs: whatever the test finds, this browser session made
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (work / "01_similarity_metrics.ipynb").write_text(json.dumps(nb))
    sys.path.insert(0, str(ROOT / "docs"))
    import convert_quizzes

    quiz_nb = json.loads((ROOT / "notebooks" / "01_similarity_metrics.ipynb").read_text())
    convert_quizzes.convert(quiz_nb, "01_similarity_metrics.ipynb")   # a no-op once the notebook is converted
    start = next(i for i, c in enumerate(quiz_nb["cells"]) if "## Self-check" in "".join(c["source"]))
    quiz_nb["cells"] = quiz_nb["cells"][start:start + 2]               # the heading and the quiz, saved output kept
    (work / "quiz.ipynb").write_text(json.dumps(quiz_nb))
    proc, base, token = start_jupyterlab(work, {**os.environ, "JUPYTER_CONFIG_DIR": str(work / ".jupyter"),
                                                "JUPYTER_RUNTIME_DIR": str(work / ".runtime")})
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)


def test_jupyterlab_runs_the_first_cells_of_notebook_01(browser, jupyterlab):
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    # ?reset: a fresh workspace, so a notebook another test opened in this JupyterLab is not restored
    # beside this one (and cannot be the visible tab while this test clicks).
    page.goto(f"{base}/lab/tree/01_similarity_metrics.ipynb?reset&token={token}")
    idle = page.locator("#jp-main-statusbar >> text=Idle")       # the kernel's status in the status bar
    idle.first.wait_for(timeout=120_000)
    no_news = page.get_by_role("button", name="No")              # JupyterLab asks once about its news feed
    if no_news.count():
        no_news.first.click()
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    page.wait_for_function("""() => { const t = document.querySelector('.lm-DockPanel-tabBar .lm-mod-current');
                                      return t && t.textContent.includes('01_similarity_metrics'); }""",
                           timeout=60_000)                     # notebook 01 is the visible tab
    cells = notebook.locator(".jp-Cell")
    # title, imports, section text, first example: each is run by a click and Ctrl+Enter, and each code
    # cell is waited for by its own prompt turning from [*] or [ ] into a number (the status bar's "Idle"
    # can show before a busy kernel has picked up the request, and a key press can race a late dialog).
    for i in range(4):
        cells.nth(i).click()
        page.keyboard.press("Control+Enter")
        if "jp-CodeCell" in (cells.nth(i).get_attribute("class") or ""):
            page.wait_for_function(
                """i => { const p = document.querySelectorAll(
                       '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[i]
                       .querySelector('.jp-InputPrompt');
                     return p && /\\[\\d+\\]/.test(p.textContent); }""", arg=i, timeout=240_000)
    output = notebook.locator(".jp-OutputArea-output").first
    output.wait_for(timeout=60_000)
    text = notebook.inner_text()
    assert "cosine=1.000" in text and "a vs c" in text              # the printed result of the first example
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "jupyterlab-01.png"))
    page.close()


def test_jupyterlab_runs_the_quiz_cell_and_scores_it(browser, jupyterlab):
    """The same quiz output: in an untrusted notebook a folded fallback, once the cell runs a quiz that scores."""
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/lab/tree/quiz.ipynb?reset&token={token}")
    idle = page.locator("#jp-main-statusbar >> text=Idle")
    idle.first.wait_for(timeout=120_000)
    no_news = page.get_by_role("button", name="No")
    if no_news.count():
        no_news.first.click()
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.locator(".semsim-quiz-static details").first.wait_for(timeout=30_000)   # saved output, not trusted
    assert notebook.locator(".semsim-quiz form").count() == 0
    dialogs = []
    accept_dialogs(page, dialogs)
    notebook.locator(".jp-Cell").first.click()
    for _ in range(2):                                             # the heading, then the quiz cell
        accept_dialogs(page, dialogs)
        page.keyboard.press("Shift+Enter")
        idle.first.wait_for(timeout=120_000)
        time.sleep(0.3)
    quiz = notebook.locator(".semsim-quiz:has(form)")
    quiz.wait_for(timeout=60_000)
    questions = quiz.locator("fieldset")
    data = json.loads(quiz.locator("script.semsim-quiz-data").text_content())
    answers = [q["answer"] for q in data["questions"]]
    questions.nth(0).locator("input").nth(answers[0]).check()
    questions.nth(1).locator("input").nth((answers[1] + 1) % 3).check()
    quiz.locator("button.semsim-quiz-check").click()
    n = len(answers)
    assert quiz.locator(".semsim-quiz-score").inner_text() == f"Score: 1 of {n} right"
    assert questions.nth(1).locator(".semsim-quiz-verdict").inner_text().endswith("Not quite.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    quiz.screenshot(path=str(SHOTS / "jupyterlab-quiz.png"))
    assert not errors, (errors, dialogs)
    page.close()


def accept_dialogs(page, seen: list) -> None:
    """Accept any JupyterLab dialog in the way (a busy machine can make one appear); note what it said."""
    time.sleep(0.5)
    for dialog in page.locator(".jp-Dialog").all():
        seen.append(dialog.inner_text()[:200])
        dialog.locator(".jp-mod-accept").first.click()


FAKE_TRAINER = """
import json, sys, time
from pathlib import Path
from semsim.files import flocked, publish_dir
from semsim.models.locate import resolve
from semsim.training import cross_encoder as ce

def build(out: Path) -> None:
    from sentence_transformers import CrossEncoder
    CrossEncoder(resolve("all-MiniLM-L6-v2").location, num_labels=1).save(str(out))   # untrained: enough here
    (out / ce.RECORD).write_text(json.dumps({"pairs": 0}))

ce.stsb_training_lock().parent.mkdir(parents=True, exist_ok=True)
go, deadline = Path(sys.argv[1]), time.time() + 600
with flocked(ce.stsb_training_lock()):       # what `make course` holds while it trains in the background
    print("training", flush=True)
    while not go.exists() and time.time() < deadline:   # "trains" until the test has seen the notebook wait
        time.sleep(0.2)
    publish_dir(ce.stsb_cross_encoder_dir(), build, complete=ce.RECORD)
"""


def test_notebook_07_waits_for_the_background_training_in_jupyterlab(browser, tmp_path):
    """Issue 26: a learner who opens 07 while `make course` still trains the cross-encoder sees a wait, then the
    reranker, never a crash. A real second process holds the training lock; the kernel runs 07's first cells."""
    cache = tmp_path / "cache"
    env = {**os.environ, "SEMSIM_CACHE_DIR": str(cache), "SEMSIM_OFFLINE": "1",
           "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter"), "JUPYTER_RUNTIME_DIR": str(tmp_path / ".runtime")}
    nb = json.loads((ROOT / "notebooks" / "07_bi_vs_cross_encoder.ipynb").read_text())
    first_code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    nb["cells"] = nb["cells"][: first_code + 1]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (tmp_path / "07.ipynb").write_text(json.dumps(nb))
    go = tmp_path / "go"
    trainer = subprocess.Popen([sys.executable, "-c", FAKE_TRAINER, str(go)], env=env, stdout=subprocess.PIPE, text=True)
    lab = None
    try:
        assert trainer.stdout.readline().strip() == "training"
        lab, base, token = start_jupyterlab(tmp_path, env)
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.goto(f"{base}/lab/tree/07.ipynb?token={token}")
        idle = page.locator("#jp-main-statusbar >> text=Idle")
        idle.first.wait_for(timeout=120_000)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        accept_dialogs(page, [])
        notebook.locator(".jp-Cell").first.click()
        for _ in range(first_code + 1):
            accept_dialogs(page, [])
            page.keyboard.press("Shift+Enter")
            time.sleep(0.5)
        notebook.locator("text=being trained in the background").first.wait_for(timeout=300_000)
        assert trainer.poll() is None                     # it is still training while the notebook waits
        go.touch()                                        # the training ends
        notebook.locator("text=reranker ready").first.wait_for(timeout=300_000)
        text = notebook.inner_text()
        assert "Error" not in text and "Traceback" not in text, text[-2000:]
        assert trainer.wait(timeout=60) == 0
        page.close()
    finally:
        trainer.kill()
        if lab is not None:
            lab.terminate()
            lab.wait(timeout=30)
