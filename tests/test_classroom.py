"""`make classroom` (issue 29): the hub starts, learners get their own JupyterLab and files, one learner's dead
kernel costs the others nothing, a runaway kernel meets its memory cap, and the load test's smallest round runs.

The hub runs on 127.0.0.1 on free ports, with its state in a temporary folder; learners talk to it over HTTP only
(benchmarks/classroom.py's client: the login form, the REST API, a kernel's websocket, the contents API). These tests
need the classroom's extra packages and its proxy: `make classroom-bench` or `make classroom` installs both (pip
install -r requirements-classroom.txt; npm ci in classroom/); without them they are skipped with that reason.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
from semsim.course import classroom  # noqa: E402

_spec = importlib.util.spec_from_file_location("classroom_bench", ROOT / "benchmarks" / "classroom.py")
bench = importlib.util.module_from_spec(_spec)

PROXY = ROOT / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy"
CHROMIUM = os.environ.get("SEMSIM_CHROMIUM", "/usr/bin/chromium")
needs_hub = pytest.mark.skipif(
    importlib.util.find_spec("jupyterhub") is None or importlib.util.find_spec("aiohttp") is None
    or not PROXY.is_file(),
    reason="the classroom's JupyterHub is not installed: `make classroom-bench` (or: pip install -r "
           "requirements-classroom.txt, and npm ci in classroom/)")

SMALL_NB = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s}
                      for s in ["import os\nprint('hello', os.environ['JUPYTERHUB_USER'])", "x = sum(range(10**6))\nx"]],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


# -- the learner's folder, without a hub ---------------------------------------------------------------------------
def test_a_learners_home_links_the_store_and_never_overwrites_their_work(tmp_path):
    store = tmp_path / "store"
    (store / "models" / "m").mkdir(parents=True)
    (store / "models" / "m" / "weights.bin").write_bytes(b"w" * 1000)
    (store / "models" / ".m.lock").write_text("")
    (store / "embeddings" / "f").mkdir(parents=True)
    (store / "embeddings" / "f" / "a.npy").write_bytes(b"e")
    classroom.build_store(store, prepare=False)
    assert classroom.store_ready(store)
    assert not os.stat(store / "models" / "m" / "weights.bin").st_mode & 0o222       # read-only for everyone
    home = tmp_path / "learners" / "ana"
    classroom.prepare_home(home, store, mem_mb=1234)
    mine = home / ".cache" / "semsim"
    assert os.path.samefile(mine / "models" / "m" / "weights.bin", store / "models" / "m" / "weights.bin")  # no copy
    assert not (mine / "models" / ".m.lock").exists()
    (mine / "embeddings" / "f" / "b.npy").write_bytes(b"new")                 # a learner's own cache is writable
    (mine / "embeddings" / "f" / "a.npy").unlink()                           # and its links are theirs to drop
    assert (store / "embeddings" / "f" / "a.npy").read_bytes() == b"e"        # the store keeps its file
    notebooks = sorted(p.name for p in (home / "notebooks").glob("*.ipynb"))
    assert notebooks == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and len(notebooks) == 12
    (home / "notebooks" / notebooks[0]).write_text("my work")
    classroom.prepare_home(home, store, mem_mb=1234)                          # the next spawn
    assert (home / "notebooks" / notebooks[0]).read_text() == "my work"
    spec = json.loads((home / ".local/share/jupyter/kernels/python3/kernel.json").read_text())
    assert spec["argv"][:4] == [sys.executable, str(ROOT / "classroom" / "kernel.py"), "--mem-mb=1234", "--"]
    assert spec["env"]["SEMSIM_CACHE_DIR"] == str(mine)


# -- a running hub -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    _spec.loader.exec_module(bench)             # benchmarks/classroom.py (needs aiohttp: only once the hub is there)
    base = tmp_path_factory.mktemp("classroom")
    bench.shared_store(base)                    # the main classroom's store when it is ready; else none (slower)
    with bench.Hub(base, mem_mb=6144) as h:
        yield h


def learner(hub, name):
    return bench.Learner(hub.url, name, hub.password)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=600))


@needs_hub
def test_the_hub_starts_and_a_learner_gets_their_own_jupyterlab_with_the_course(hub):
    async def go():
        a = learner(hub, "ana")
        try:
            await a.login()
            assert await a.start_server() < 120
            async with a.session.get(f"{hub.url}/user/ana/lab", headers=a.headers()) as r:
                assert r.status == 200 and "JupyterLab" in await r.text()
            listing = await a.contents("notebooks")
            names = {item["name"] for item in listing["content"]}
            assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= names
            kernel = await a.start_kernel()
            out, _ = await a.run_cells(kernel, ["import os; print(os.environ['SEMSIM_CACHE_DIR'])"])
            assert out[0][0]["text"].strip() == str(classroom.learners_dir(hub.base) / "ana" / ".cache" / "semsim")
        finally:
            await a.close()

    run(go())
    log = (classroom.hub_dir(hub.base) / "hub.log").read_text()
    assert "idle-culler" in log and "127.0.0.1" in log


@needs_hub
def test_two_learners_do_not_see_each_others_files(hub):
    async def go():
        a, b = learner(hub, "bo"), learner(hub, "cy")
        try:
            for x in (a, b):
                await x.login()
            await asyncio.gather(a.start_server(), b.start_server())
            await a.contents("notebooks/mine.txt", {"type": "file", "format": "text", "content": "bo's answer"})
            assert "mine.txt" not in {i["name"] for i in (await b.contents("notebooks"))["content"]}
            for path in ["../bo/notebooks/mine.txt", "..%2Fbo%2Fnotebooks%2Fmine.txt"]:
                with pytest.raises(FileNotFoundError):
                    await b.contents(path)
            async with b.session.get(f"{hub.url}/user/bo/api/contents/notebooks/mine.txt",
                                     headers=b.headers()) as r:      # cy's token at bo's server
                assert r.status == 403
            async with b.session.get(f"{hub.url}/user/bo/lab", allow_redirects=False) as r:   # cy's cookies
                assert r.status in (302, 403) and "mine.txt" not in await r.text()
            assert (await a.contents("notebooks/mine.txt"))["content"] == "bo's answer"
        finally:
            await a.close()
            await b.close()

    run(go())


@needs_hub
def test_a_kernel_killed_for_memory_disturbs_no_one_and_loses_no_saved_notebook(hub):
    """SIGKILL (what the kernel's out-of-memory killer sends) to one learner's kernel while another learner runs
    cells: the other finishes and saves; both learners' saved notebooks are intact; the killed learner's server
    still answers and a new kernel works."""
    async def go():
        a, b = learner(hub, "dee"), learner(hub, "eli")
        try:
            for x in (a, b):
                await x.login()
            await asyncio.gather(a.start_server(), b.start_server())
            for x in (a, b):
                await x.contents("notebooks/small.ipynb", {"type": "notebook", "format": "json", "content": SMALL_NB})
                await x.run_notebook("notebooks/small.ipynb")
            saved_a = (await a.contents("notebooks/small.ipynb"))["content"]
            ka = await a.start_kernel()
            running, b_started = asyncio.Event(), asyncio.Event()
            busy = asyncio.ensure_future(a.run_cells(ka, ["print('running', flush=True)\nimport time\n"
                                                          "while True: time.sleep(0.1)"],
                                                     on_output=lambda i, out: running.set()))
            kb = await b.start_kernel()
            b_run = asyncio.ensure_future(b.run_cells(kb, ["import time; print('b-1')", "time.sleep(4); print('b-2')",
                                                           "print('b-3')"], on_output=lambda i, o: b_started.set()))
            await asyncio.wait_for(asyncio.gather(running.wait(), b_started.wait()), 300)   # both kernels at work
            victims = bench.kernel_processes("dee")
            assert victims, "dee's kernels were not found"
            for p in victims:
                if ka in " ".join(p.cmdline()):
                    p.send_signal(signal.SIGKILL)
                    break
            else:
                pytest.fail("dee's busy kernel was not found")
            with pytest.raises(RuntimeError):
                await asyncio.wait_for(busy, 120)
            out, _ = await b_run
            assert [o[0]["text"].strip() for o in out] == ["b-1", "b-2", "b-3"]
            nb_b = SMALL_NB | {"cells": [dict(c) for c in SMALL_NB["cells"]]}
            nb_b["cells"][0]["outputs"] = out[0]
            await b.contents("notebooks/after.ipynb", {"type": "notebook", "format": "json", "content": nb_b})
            assert (await a.contents("notebooks/small.ipynb"))["content"] == saved_a
            assert "hello" in json.dumps((await b.contents("notebooks/small.ipynb"))["content"])
            assert "b-1" in json.dumps((await b.contents("notebooks/after.ipynb"))["content"])
            fresh = await a.start_kernel()
            out, _ = await a.run_cells(fresh, ["print(6 * 7)"])
            assert out[0][0]["text"].strip() == "42"
        finally:
            await a.close()
            await b.close()

    run(go())


@needs_hub
def test_a_runaway_kernel_meets_its_memory_cap_and_keeps_running(hub):
    """The kernel wrapper's cap (6 GiB here): asking for 7 GiB gives MemoryError in that kernel, nothing else."""
    async def go():
        a = learner(hub, "fay")
        try:
            await a.login()
            await a.start_server()
            k = await a.start_kernel()
            out, _ = await a.run_cells(k, ["import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)",
                                           "try:\n    b = bytearray(7 << 30)\nexcept MemoryError:\n    print('capped')",
                                           "print('still here')"])
            assert [o[0]["text"].strip() if o else None for o in out] == ["6144", "capped", "still here"], out
        finally:
            await a.close()

    run(go())


@needs_hub
def test_the_load_tests_smallest_round(hub):
    """benchmarks/classroom.py with one learner running notebook 06: every measurement is there, nothing failed."""
    rnd = run(bench.one_round(hub, 1, ["06_faq_matching.ipynb"], "load-", reserve_gb=1.0, max_minutes=9))
    row = bench.summarise(rnd)
    assert row["failures"] == 0, row["why"]
    assert row["server_med"] > 0 and row["first_med"] > 0 and row["nb_med"] > row["first_med"]
    assert row["peak_med"] > 100                           # MB: a kernel that imported torch
    saved = json.loads((classroom.learners_dir(hub.base) / "load-001-000" / "notebooks" / "06_faq_matching.ipynb")
                       .read_text())
    assert all(c["outputs"] is not None for c in saved["cells"] if c["cell_type"] == "code")
    assert any(c["outputs"] for c in saved["cells"] if c["cell_type"] == "code")   # saved with its outputs
    assert "| 1 | 0 |" in bench.table([row])


@needs_hub
@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
def test_a_browser_logs_in_through_the_hub_and_runs_notebook_01(hub):
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.goto(f"{hub.url}/hub/login")
        page.fill("input[name=username]", "gus")
        page.fill("input[name=password]", hub.password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url("**/user/gus/lab**", timeout=180_000)
        page.goto(f"{hub.url}/user/gus/lab/tree/notebooks/01_similarity_metrics.ipynb")
        page.locator("#jp-main-statusbar >> text=Idle").first.wait_for(timeout=180_000)
        time.sleep(1)
        for dialog in page.locator(".jp-Dialog").all():
            dialog.locator(".jp-mod-accept").first.click()
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.click()
        page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
        page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
        page.locator("#jp-main-statusbar >> text=Busy").first.wait_for(timeout=60_000)
        page.locator("#jp-main-statusbar >> text=Idle").first.wait_for(timeout=300_000)
        text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
        assert "Traceback" not in text, text[-2000:]
        assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").count() >= 10
        browser.close()


# -- INSTRUCTORS.md's schedules and the bundle ---------------------------------------------------------------------
def stated_minutes() -> dict[str, int]:
    """Each notebook's stated learner time (its first cell's "**Estimated time:** N minutes")."""
    import re

    out = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        first = "".join(json.loads(path.read_text())["cells"][0]["source"])
        out[path.name[:2]] = int(re.search(r"Estimated time:\*\*\s*(\d+)\s*minutes", first).group(1))
    return out


def test_the_schedules_fit_the_notebooks_stated_times():
    import re

    stated, text = stated_minutes(), (ROOT / "INSTRUCTORS.md").read_text()
    rows = re.findall(r"^\| (\d{2}):(\d{2})–(\d{2}):(\d{2}) \| ([^|]+) \| (\d+) \|$", text, re.M)
    assert rows, "the one-day timetable is missing"
    for h0, m0, h1, m1, what, minutes in rows:
        assert (int(h1) * 60 + int(m1)) - (int(h0) * 60 + int(m0)) == int(minutes), (h0, m0, what)
        if re.fullmatch(r"\d{2}(, \d{2})*", what.strip()):
            assert sum(stated[n] for n in what.strip().split(", ")) == int(minutes), what
    sessions = re.findall(r"^\| (\d+) \| (\d{2}(?:, \d{2})*) \| (\d+) \| [^|]+\|$", text, re.M)
    assert [int(s[0]) for s in sessions] == list(range(1, len(sessions) + 1))
    covered = [n for _, nbs, _ in sessions for n in nbs.split(", ")]
    assert sorted(covered) == sorted(stated), "the sessions cover every notebook once"
    for number, nbs, minutes in sessions:
        need = sum(stated[n] for n in nbs.split(", ")) + (20 if number == "1" else 0)
        assert need == int(minutes) <= 90, (number, nbs, need)


def test_the_bundle_holds_the_repository_wheels_trained_models_and_licences(tmp_path):
    import tarfile

    spec = importlib.util.spec_from_file_location("bundle", ROOT / "classroom" / "bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    wheels, cache = tmp_path / "wheelhouse", tmp_path / "cache"
    wheels.mkdir()
    import zipfile

    with zipfile.ZipFile(wheels / "demo-1.0-py3-none-any.whl", "w") as z:
        z.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n"
                   "License-Expression: MIT\n")
    for t in bundle.TRAINED:
        (cache / "models" / t).mkdir(parents=True)
        (cache / "models" / t / "model.safetensors").write_bytes(b"weights")
    out = tmp_path / "b.tar"
    counts = bundle.bundle(out, wheels, cache)
    names = tarfile.open(out).getnames()
    assert "semsim-bundle/semsim/Makefile" in names and "semsim-bundle/semsim/data/SOURCES.md" in names
    assert "semsim-bundle/wheelhouse/demo-1.0-py3-none-any.whl" in names
    assert "semsim-bundle/trained/stsb-cross-encoder-MiniLM-L6/model.safetensors" in names
    assert {"semsim-bundle/licences/wheels.tsv", "semsim-bundle/licences/semsim-LICENSE",
            "semsim-bundle/README.txt"} <= set(names)
    assert not [n for n in names if "/.venv/" in n or "/.git/" in n or "/.classroom/" in n]
    tsv = tarfile.open(out).extractfile("semsim-bundle/licences/wheels.tsv").read().decode()
    assert "demo\t1.0\tMIT" in tsv and counts["wheelhouse"] == 1
