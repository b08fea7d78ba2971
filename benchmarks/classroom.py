"""Load test of `make classroom` (issue 29): how many learners one machine serves.

For N = 1, 2, 4, 8, ... simulated learners at once (new learners each round), every learner logs in through the
hub's login form with the class password, asks the hub's REST API for a token and a server, and, once the server
runs, starts a Python kernel in it and runs every code cell of its own copy of a notebook (06 by default) through the
kernel's websocket, then saves the notebook with its outputs through the contents API, as a learner's JupyterLab
does. Measured per learner: time to a running server, time to the first output, whole-notebook time, peak memory
(PSS of the learner's server and kernel together, sampled every second) and failures.

It stops by itself: after a round with a failure, a round that exceeds --max-minutes, or when the machine's
available memory falls below --reserve-gb (that round's servers are stopped at once and the round counts as broken).
Localhost only: it starts its own hub on 127.0.0.1 with its own state folder (.classroom/bench by default).

    python benchmarks/classroom.py                     # 1, 2, 4, ... until it breaks; results/classroom.md
    python benchmarks/classroom.py --learners 1        # one round (what tests/test_classroom.py runs)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from semsim.course import classroom  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def free_port() -> int:
    """A free port p with p+1 and p+2 free too (the hub's internal API and the proxy's API use them)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port > 65000:
            continue
        try:
            for q in (port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", q))
            return port
        except OSError:
            continue
    raise RuntimeError("no three consecutive free ports")


# -- a hub for the test ---------------------------------------------------------------------------------------------
class Hub:
    """A classroom hub on 127.0.0.1 with state under ``base``; a context manager that stops it and its servers."""

    def __init__(self, base: Path, password: str = "class-password-for-tests", mem_mb: int = 8192,
                 idle_min: int = 60, timeout: float = 120) -> None:
        self.base, self.password, self.port = base, password, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, classroom.DIR_ENV: str(base), "SEMSIM_CLASSROOM_PORT": str(self.port),
               "SEMSIM_CLASSROOM_PASSWORD": password, "SEMSIM_CLASSROOM_MEM_MB": str(mem_mb),
               "SEMSIM_CLASSROOM_IDLE_MIN": str(idle_min), "SEMSIM_CLASSROOM_MAX": "200"}
        env.pop("SEMSIM_CACHE_DIR", None)
        classroom.hub_dir(base).mkdir(parents=True, exist_ok=True)
        self.log = open(classroom.hub_dir(base) / "hub.log", "ab")
        self.proc = subprocess.Popen(classroom.hub_command(), env=env, cwd=classroom.hub_dir(base),
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        import urllib.request

        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub ended with {self.proc.returncode}: see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the hub did not answer within {timeout:.0f} s: see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)           # the hub stops every learner's server and its proxy
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for pidfile in ("proxy.pid",):                      # a proxy left behind by a hub that was killed
            path = classroom.hub_dir(self.base) / pidfile
            if path.is_file():
                try:
                    os.kill(int(path.read_text()), signal.SIGTERM)
                except (ProcessLookupError, ValueError):
                    pass
        self.log.close()

    def __enter__(self) -> "Hub":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def shared_store(base: Path) -> None:
    """Let a test classroom use the main classroom's store (.classroom/store) when it is ready, without a copy."""
    main = classroom.store_dir(ROOT / ".classroom")
    mine = classroom.store_dir(base)
    if not mine.exists() and classroom.store_ready(main) and base.resolve() != (ROOT / ".classroom").resolve():
        base.mkdir(parents=True, exist_ok=True)
        mine.symlink_to(main.resolve())


# -- one learner, through HTTP only ---------------------------------------------------------------------------------
class Learner:
    def __init__(self, hub_url: str, name: str, password: str) -> None:
        import aiohttp

        self.hub, self.name, self.password = hub_url, name, password
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             timeout=aiohttp.ClientTimeout(total=900))
        self.token = ""
        self.result: dict = {"learner": name, "failure": ""}

    @property
    def api(self) -> str:
        return f"{self.hub}/user/{self.name}/api"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    async def login(self) -> None:
        """The hub's login form, as a browser fills it; then a token from the REST API (with the login cookie)."""
        async with self.session.get(f"{self.hub}/hub/login") as r:
            page = await r.text()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page).group(1)
        async with self.session.post(f"{self.hub}/hub/login", allow_redirects=False,
                                     data={"username": self.name, "password": self.password, "_xsrf": xsrf}) as r:
            if r.status != 302:
                raise RuntimeError(f"login of {self.name} refused ({r.status})")
        from yarl import URL

        cookie = self.session.cookie_jar.filter_cookies(URL(f"{self.hub}/hub/api/")).get("_xsrf")
        xsrf = cookie.value if cookie is not None else xsrf      # the login gives a new one, tied to the session
        async with self.session.post(f"{self.hub}/hub/api/users/{self.name}/tokens", headers={"X-XSRFToken": xsrf},
                                     json={"note": "classroom load test", "expires_in": 7200}) as r:
            if r.status != 201:
                raise RuntimeError(f"no token for {self.name} ({r.status}: {await r.text()})")
            self.token = (await r.json())["token"]

    async def start_server(self, timeout: float = 300) -> float:
        t0 = time.perf_counter()
        async with self.session.post(f"{self.hub}/hub/api/users/{self.name}/server", headers=self.headers()) as r:
            if r.status not in (201, 202, 400):                # 400: already running
                raise RuntimeError(f"server of {self.name} not started ({r.status}: {await r.text()})")
        while time.perf_counter() - t0 < timeout:
            async with self.session.get(f"{self.hub}/hub/api/users/{self.name}", headers=self.headers()) as r:
                server = (await r.json()).get("servers", {}).get("", {})
            if server.get("ready"):
                async with self.session.get(f"{self.api}/status", headers=self.headers()) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            elif not server.get("pending") and time.perf_counter() - t0 > 5:
                raise RuntimeError(f"the server of {self.name} is neither starting nor ready: {server}")
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the server of {self.name} was not ready within {timeout:.0f} s")

    async def stop_server(self) -> None:
        async with self.session.delete(f"{self.hub}/hub/api/users/{self.name}/server", headers=self.headers()):
            pass

    async def contents(self, path: str, model: dict | None = None) -> dict:
        if model is None:
            async with self.session.get(f"{self.api}/contents/{path}", headers=self.headers()) as r:
                if r.status != 200:
                    raise FileNotFoundError(f"{self.name}: {path} ({r.status})")
                return await r.json()
        async with self.session.put(f"{self.api}/contents/{path}", headers=self.headers(), json=model) as r:
            if r.status not in (200, 201):
                raise RuntimeError(f"{self.name}: saving {path} failed ({r.status}: {await r.text()})")
            return await r.json()

    async def start_kernel(self) -> str:
        async with self.session.post(f"{self.api}/kernels", headers=self.headers(), json={"name": "python3"}) as r:
            if r.status != 201:
                raise RuntimeError(f"{self.name}: no kernel ({r.status}: {await r.text()})")
            return (await r.json())["id"]

    async def run_cells(self, kernel: str, sources: list[str], cell_timeout: float = 600,
                        on_output=None) -> tuple[list[list[dict]], float | None]:
        """Run ``sources`` one after the other in ``kernel``; their outputs (nbformat dicts) and the seconds to the
        first output. An error output or a dead kernel raises RuntimeError."""
        ws_url = self.api.replace("http", "ws", 1) + f"/kernels/{kernel}/channels"
        session = uuid.uuid4().hex
        outputs: list[list[dict]] = []
        first = None
        t0 = time.perf_counter()
        async with self.session.ws_connect(ws_url, headers=self.headers(), max_msg_size=0, heartbeat=30) as ws:
            for i, source in enumerate(sources):
                msg_id = uuid.uuid4().hex
                await ws.send_json({"header": {"msg_id": msg_id, "username": self.name, "session": session,
                                               "msg_type": "execute_request", "version": "5.3"},
                                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                                    "content": {"code": source, "silent": False, "store_history": True,
                                                "user_expressions": {}, "allow_stdin": False,
                                                "stop_on_error": True}})
                cell: list[dict] = []
                replied = idle = False
                deadline = time.perf_counter() + cell_timeout
                while not (replied and idle):
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        raise RuntimeError(f"{self.name}: cell {i} took over {cell_timeout:.0f} s")
                    msg = await ws.receive(timeout=left)
                    if msg.type.name in ("CLOSED", "CLOSE", "ERROR", "CLOSING"):
                        raise RuntimeError(f"{self.name}: the kernel's connection closed at cell {i}")
                    data = json.loads(msg.data)
                    if data.get("parent_header", {}).get("msg_id") != msg_id:
                        if data.get("msg_type") == "status" and data["content"].get("execution_state") in (
                                "dead", "restarting", "autorestarting"):    # the server's word that the kernel died
                            raise RuntimeError(f"{self.name}: the kernel died at cell {i}")
                        continue
                    kind, content = data["msg_type"], data["content"]
                    if kind == "status" and content.get("execution_state") == "idle":
                        idle = True
                    elif kind == "execute_reply":
                        replied = True
                        if content.get("status") == "error":
                            raise RuntimeError(f"{self.name}: cell {i} failed: {content.get('ename')}: "
                                               f"{content.get('evalue', '')[:300]}")
                    elif kind in ("stream", "execute_result", "display_data", "error"):
                        if first is None:
                            first = time.perf_counter() - t0
                        out = {"output_type": kind, **{k: v for k, v in content.items() if k != "transient"}}
                        if kind == "execute_result":
                            out["execution_count"] = content.get("execution_count")
                        cell.append(out)
                        if on_output is not None:
                            on_output(i, out)
                outputs.append(cell)
        return outputs, first

    async def run_notebook(self, path: str, kernel: str | None = None) -> dict:
        """Run every code cell of the learner's ``path`` and save it with the outputs; timings in a dict."""
        model = await self.contents(path)
        nb = model["content"]
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        t0 = time.perf_counter()
        kernel = kernel or await self.start_kernel()
        outputs, first = await self.run_cells(kernel, ["".join(c["source"]) if isinstance(c["source"], list)
                                                       else c["source"] for c in cells])
        elapsed = time.perf_counter() - t0
        for n, (c, out) in enumerate(zip(cells, outputs), 1):
            c["outputs"], c["execution_count"] = out, n
        await self.contents(path, {"type": "notebook", "format": "json", "content": nb})
        return {"kernel": kernel, "first_output_s": first, "notebook_s": elapsed}

    async def close(self) -> None:
        await self.session.close()


# -- memory, per learner --------------------------------------------------------------------------------------------
class MemorySampler(threading.Thread):
    """Every second: PSS of every process whose environment names a JupyterHub user, summed per user (the peak is
    kept), their CPU seconds (user + system, summed over the learner's processes as last seen), and the machine's
    lowest available memory. CPU seconds do not depend on what else runs: they are the basis of the sizing rule."""

    def __init__(self, users: set[str], interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.users, self.interval = users, interval
        self.peak: dict[str, float] = {}
        self.cpu: dict[int, tuple[str, float]] = {}     # pid -> (user, CPU seconds last seen)
        self.min_available = psutil.virtual_memory().available
        self.owner: dict[int, str | None] = {}
        self.done = threading.Event()

    def user_of(self, p: psutil.Process) -> str | None:
        if p.pid not in self.owner:
            try:
                self.owner[p.pid] = p.environ().get("JUPYTERHUB_USER")
            except (psutil.Error, OSError):
                self.owner[p.pid] = None
        return self.owner[p.pid]

    def run(self) -> None:
        while not self.done.is_set():
            now: dict[str, float] = {}
            for p in psutil.process_iter():
                user = self.user_of(p)
                if user in self.users:
                    try:
                        now[user] = now.get(user, 0) + p.memory_full_info().pss / 2**20
                        t = p.cpu_times()
                        self.cpu[p.pid] = (user, t.user + t.system)
                    except (psutil.Error, OSError):
                        pass
            for user, mb in now.items():
                self.peak[user] = max(self.peak.get(user, 0), mb)
            self.min_available = min(self.min_available, psutil.virtual_memory().available)
            self.done.wait(self.interval)


def kernel_processes(user: str) -> list[psutil.Process]:
    """The kernel processes of one learner (their environment names the learner; their command line is a kernel's)."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if "ipykernel_launcher" in " ".join(p.info["cmdline"] or []) and p.environ().get("JUPYTERHUB_USER") == user:
                found.append(p)
        except (psutil.Error, OSError):
            pass
    return found


# -- one round of N learners ----------------------------------------------------------------------------------------
async def one_learner(hub: Hub, name: str, notebooks: list[str], stop_server: bool) -> dict:
    learner = Learner(hub.url, name, hub.password)
    res = learner.result
    t0 = time.perf_counter()
    try:
        await learner.login()
        res["server_s"] = await learner.start_server()
        for nb in notebooks:
            r = await learner.run_notebook(f"notebooks/{nb}")
            res.setdefault("first_output_s", r["first_output_s"])
            res["notebook_s"] = res.get("notebook_s", 0) + r["notebook_s"]
    except Exception as e:                 # noqa: BLE001 (a learner's failure is a measurement, not a crash)
        res["failure"] = f"{type(e).__name__}: {e}"[:300]
    res["total_s"] = time.perf_counter() - t0
    try:
        if stop_server and learner.token:
            await learner.stop_server()
    finally:
        await learner.close()
    return res


async def one_round(hub: Hub, n: int, notebooks: list[str], prefix: str, reserve_gb: float,
                    max_minutes: float) -> dict:
    names = [f"{prefix}{n:03d}-{i:03d}" for i in range(n)]
    load_before = os.getloadavg()[0]          # other work on the machine (1-minute load average) as the round starts
    sampler = MemorySampler(set(names))
    sampler.start()
    t0 = time.perf_counter()
    tasks = [asyncio.ensure_future(one_learner(hub, name, notebooks, stop_server=True)) for name in names]
    broke = ""
    while not all(t.done() for t in tasks):
        await asyncio.sleep(1)
        if sampler.min_available < reserve_gb * 2**30:
            broke = f"available memory fell below {reserve_gb:g} GB"
        elif time.perf_counter() - t0 > max_minutes * 60:
            broke = f"the round took over {max_minutes:g} minutes"
        if broke:
            for t in tasks:
                t.cancel()
            for name in names:            # free the machine now: stop this round's kernels at once
                for p in kernel_processes(name):
                    p.kill()
            break
    results = []
    for t, name in zip(tasks, names):
        try:
            results.append(await t)
        except (asyncio.CancelledError, Exception) as e:      # noqa: BLE001
            results.append({"learner": name, "failure": f"stopped: {broke or e}"})
    wall = time.perf_counter() - t0
    sampler.done.set()
    sampler.join()
    for r in results:
        r["peak_mb"] = sampler.peak.get(r["learner"])
        r["cpu_s"] = sum(t for u, t in sampler.cpu.values() if u == r["learner"]) or None
    return {"n": n, "wall_s": wall, "learners": results, "broke": broke, "load_before": load_before,
            "min_available_gb": sampler.min_available / 2**30}


def summarise(rnd: dict) -> dict:
    rs = rnd["learners"]
    ok = [r for r in rs if not r["failure"]]

    def stat(key, fn):
        vals = [r[key] for r in ok if r.get(key) is not None]
        return fn(vals) if vals else None

    peaks = [r["peak_mb"] for r in rs if r.get("peak_mb")]
    return {"n": rnd["n"], "failures": len(rs) - len(ok),
            "server_med": stat("server_s", statistics.median), "server_max": stat("server_s", max),
            "first_med": stat("first_output_s", statistics.median), "first_max": stat("first_output_s", max),
            "nb_med": stat("notebook_s", statistics.median), "nb_max": stat("notebook_s", max),
            "cpu_med": stat("cpu_s", statistics.median),
            "peak_med": statistics.median(peaks) if peaks else None, "peak_max": max(peaks) if peaks else None,
            "wall": rnd["wall_s"], "load": rnd["load_before"], "min_avail": rnd["min_available_gb"], "broke": rnd["broke"],
            "why": "; ".join(sorted({r["failure"][:120] for r in rs if r["failure"]}))[:400]}


def fmt(x, digits=1) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def table(rows: list[dict]) -> str:
    head = ("| learners | failures | server ready, median / max (s) | first output, median / max (s) | "
            "notebook, median / max (s) | peak memory per learner, median / max (MB PSS) | CPU per learner, median (s) | round (s) | "
            "lowest available (GB) | load before |\n|---:|---:|---|---|---|---|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r['n']} | {r['failures']} | {fmt(r['server_med'])} / {fmt(r['server_max'])} | "
                     f"{fmt(r['first_med'])} / {fmt(r['first_max'])} | {fmt(r['nb_med'])} / {fmt(r['nb_max'])} | "
                     f"{fmt(r['peak_med'], 0)} / {fmt(r['peak_max'], 0)} | {fmt(r['cpu_med'])} | {fmt(r['wall'], 0)} | "
                     f"{fmt(r['min_avail'])} | {fmt(r['load'])} |")
    return "\n".join(lines)


def run(base: Path, counts: list[int], notebooks: list[str], reserve_gb: float, max_minutes: float,
        slowdown: float, mem_mb: int, deadline_min: float) -> list[dict]:
    shared_store(base)
    rows: list[dict] = []
    t_end = time.time() + deadline_min * 60
    prefix = f"l{uuid.uuid4().hex[:4]}-"
    with Hub(base, mem_mb=mem_mb) as hub:
        for n in counts:
            if time.time() > t_end:
                print(f"stopping: the whole test's {deadline_min:g} minutes are up", flush=True)
                break
            rnd = asyncio.run(one_round(hub, n, notebooks, prefix, reserve_gb, max_minutes))
            row = summarise(rnd)
            row["raw"] = rnd
            rows.append(row)
            print(table([row]).splitlines()[-1], row["broke"] or "", row["why"], flush=True)
            solo = rows[0]["nb_med"]
            if row["failures"] or row["broke"]:
                print(f"stopping: {row['broke'] or str(row['failures']) + ' failures'}", flush=True)
                break
            if solo and row["nb_med"] and row["nb_med"] > slowdown * solo * max(1, n / os.cpu_count()):
                print(f"stopping: the median notebook took {row['nb_med'] / solo:.1f}x the time of one learner",
                      flush=True)
                break
            time.sleep(5)            # the stopped servers' processes leave
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", type=int, nargs="*", default=[1, 2, 4, 8, 16, 24, 32, 48, 64],
                   help="the rounds' sizes, in order (default 1 2 4 8 16 24 32 48 64, until it breaks)")
    p.add_argument("--notebooks", nargs="*", default=["06_faq_matching.ipynb"])
    p.add_argument("--dir", type=Path, default=ROOT / ".classroom" / "bench", help="the test hub's own state folder")
    p.add_argument("--reserve-gb", type=float, default=4.0, help="stop when available memory falls below this")
    p.add_argument("--max-minutes", type=float, default=20, help="a round that takes longer counts as broken")
    p.add_argument("--slowdown", type=float, default=3.0,
                   help="stop once a notebook takes this many times its one-learner time per learner-per-core")
    p.add_argument("--mem-mb", type=int, default=8192, help="each kernel's address-space cap (0: none)")
    p.add_argument("--deadline-minutes", type=float, default=75, help="start no round after this many minutes")
    p.add_argument("--out", type=Path, default=None, help="write the table (markdown) and raw rows (json) here")
    a = p.parse_args(argv)
    rows = run(a.dir, a.learners, a.notebooks, a.reserve_gb, a.max_minutes, a.slowdown, a.mem_mb,
               a.deadline_minutes)
    text = table(rows)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.with_suffix(".md").write_text(
            "# Classroom load test: the rounds (benchmarks/classroom.py)\n\n"
            f"notebooks: {', '.join(a.notebooks)}; machine: {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.1f} GB, {platform.processor() or platform.machine()}\n\n"
            + text + "\n")
        a.out.with_suffix(".json").write_text(json.dumps([{k: v for k, v in r.items()} for r in rows], indent=1))
    return 0 if rows and not rows[0]["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
