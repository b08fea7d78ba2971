"""`make classroom`: one JupyterHub serving a room of learners from one machine (issue 29).

``python -m semsim.course.classroom start`` runs the hub in the foreground (Ctrl+C stops it and every learner's server);
``make classroom`` installs what it needs first. Everything it writes is under one folder, ``.classroom/`` in the
repository by default (``$SEMSIM_CLASSROOM_DIR``)::

    .classroom/hub/        the hub's state: jupyterhub.sqlite, cookie secret, proxy token, the class password, hub.log
    .classroom/store/      ONE read-only copy of semsim's cache: models (the joined mpnet), notebook 07's trained
                           cross-encoder, notebook 04's static model, ONNX/OpenVINO exports, embeddings
    .classroom/learners/<name>/           a learner's home and JupyterLab root
              notebooks/                  their own copy of the course notebooks (copied once, never overwritten)
              .cache/semsim/              their writable semsim cache: hard links to the store's files (no disk
                                          space, no copy), so what the store holds is reused and what they make is theirs

The store's files are made read-only (mode 0444). semsim never rewrites a cache file in place (it writes a new file
and renames it), so a learner's cache can add, replace and delete its own links while the store's files stay as they
are. For an account other than root the read-only mode is enforced by the kernel; root ignores it (see INSTRUCTORS.md).

Learners' servers are started by JupyterHub's SimpleLocalProcessSpawner: every learner runs as the account that runs
the hub. Each sees only their own folder in JupyterLab's file browser and contents API, but this is NOT isolation by
the operating system: a learner's code (a terminal, ``open("/..")`` in a cell) can read and write every learner's files.

Each learner's Python kernel starts through classroom/kernel.py, which caps its address space (RLIMIT_AS) before it
becomes the kernel: the only per-learner memory limit this spawner allows (the hub's ``mem_limit`` is not enforced).
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIR_ENV = "SEMSIM_CLASSROOM_DIR"
STORE_PARTS = ("models", "onnx", "openvino", "embeddings", "data")   # what of semsim's cache the store shares
STORE_STAMP = ".store-complete"


def classroom_dir() -> Path:
    value = os.environ.get(DIR_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else ROOT / ".classroom"


def hub_dir(base: Path | None = None) -> Path:
    return (base or classroom_dir()) / "hub"


def store_dir(base: Path | None = None) -> Path:
    return (base or classroom_dir()) / "store"


def learners_dir(base: Path | None = None) -> Path:
    return (base or classroom_dir()) / "learners"


def secret(path: Path, length: int, given: str = "") -> str:
    """A password kept in ``path`` (mode 0600): ``given`` if set, else the one saved there, else a new random one."""
    if given:
        value = given
    elif path.is_file():
        return path.read_text().strip()
    else:
        value = secrets.token_urlsafe(length)[:length]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


# -- the shared store ---------------------------------------------------------------------------------------------
def store_ready(store: Path) -> bool:
    return (store / STORE_STAMP).is_file()


def build_store(store: Path, seed: Path | None = None, prepare: bool = True) -> Path:
    """Fill ``store`` once: copy what ``seed`` (the instructor's semsim cache) already holds, then let
    ``semsim prepare --with-trained`` make what is missing (joined mpnet, static model, cross-encoder, encoded
    test paragraphs); finally make every file read-only. Returns the store. A complete store is left as it is."""
    if store_ready(store):
        return store
    store.mkdir(parents=True, exist_ok=True)
    if seed is not None and seed.is_dir() and seed.resolve() != store.resolve():
        for part in STORE_PARTS:
            src = seed / part
            if src.is_dir():
                shutil.copytree(src, store / part, dirs_exist_ok=True, symlinks=True,
                                ignore=shutil.ignore_patterns(".*.lock", ".lock", "*.tmp*"))
    if prepare:
        env = {**os.environ, "SEMSIM_CACHE_DIR": str(store)}
        subprocess.run([sys.executable, "-m", "semsim", "prepare", "--with-trained"], env=env, check=True)
    for path in store.rglob("*"):      # read-only: for every account but root, which ignores file modes
        if path.is_file() and not path.is_symlink() and not path.name.endswith(".lock"):
            path.chmod(path.stat().st_mode & 0o555)
    (store / STORE_STAMP).write_text("made by semsim.classroom.build_store\n")
    return store


def link_tree(store: Path, cache: Path) -> int:
    """Give ``cache`` every file of the store it does not have yet, as a hard link (a symbolic one across file
    systems); folders are made for real, so the learner can add to them. Never replaces a file. Returns the links made."""
    made = 0
    for part in STORE_PARTS:
        top = store / part
        if not top.is_dir():
            continue
        for src in [top, *top.rglob("*")]:
            rel = src.relative_to(store)
            dst = cache / rel
            if src.is_dir() and not src.is_symlink():
                dst.mkdir(parents=True, exist_ok=True)
            elif src.name.endswith(".lock") or dst.exists() or dst.is_symlink():
                continue
            else:
                try:
                    os.link(src, dst)
                except OSError as e:
                    if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                        raise
                    dst.symlink_to(src)
                made += 1
    return made


def prepare_home(home: Path, store: Path | None, mem_mb: int = 0, notebooks: Path = ROOT / "notebooks") -> Path:
    """A learner's home: their notebooks (copied only where they have none yet: their work is never overwritten),
    their semsim cache linked to the store, and the Python kernel started through the memory-capping wrapper."""
    (home / "notebooks").mkdir(parents=True, exist_ok=True)
    for src in sorted(notebooks.iterdir()):
        dst = home / "notebooks" / src.name
        if src.is_file() and not dst.exists() and (src.suffix == ".ipynb" or src.suffix == ".md"):
            shutil.copy2(src, dst)
    cache = home / ".cache" / "semsim"
    cache.mkdir(parents=True, exist_ok=True)
    if store is not None and store.is_dir():
        link_tree(store, cache)
    spec = home / ".local" / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(ROOT / "classroom" / "kernel.py"), f"--mem-mb={mem_mb}", "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "Python 3 (ipykernel)", "language": "python",
        "metadata": {"debugger": True}, "env": {"SEMSIM_CACHE_DIR": str(cache)}}, indent=1))
    return home


def learner_env(home: Path) -> dict[str, str]:
    """What a learner's server needs in its environment beyond JupyterHub's own variables."""
    return {"SEMSIM_CACHE_DIR": str(home / ".cache" / "semsim"), "TOKENIZERS_PARALLELISM": "false",
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
            "JUPYTER_RUNTIME_DIR": str(home / ".local/share/jupyter/runtime"),
            "JUPYTER_PREFER_ENV_PATH": "0",        # the learner's kernel spec (the capped one) before the venv's
            "MPLCONFIGDIR": str(home / ".config/matplotlib"), "IPYTHONDIR": str(home / ".ipython")}


# -- starting and stopping the hub --------------------------------------------------------------------------------
def hub_command() -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(ROOT / "classroom" / "jupyterhub_config.py")]


def start(foreground: bool = True) -> int:
    """Build the store if needed, then run the hub (configured from the environment, see jupyterhub_config.py)."""
    from ..paths import cache_dir

    proxy = ROOT / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.is_file():
        print(f"no {proxy}: run `make classroom` (it runs `npm ci` in classroom/)", file=sys.stderr)
        return 2
    base = classroom_dir()
    hub_dir(base).mkdir(parents=True, exist_ok=True)
    if not store_ready(store_dir(base)):
        print(f"making the shared store {store_dir(base)} (once; the cross-encoder's training takes about 5 "
              "minutes unless your semsim cache has it) ...", flush=True)
        build_store(store_dir(base), seed=cache_dir())
    env = {**os.environ, DIR_ENV: str(base)}
    env.pop("SEMSIM_CACHE_DIR", None)
    with open(hub_dir(base) / "hub.log", "ab") as log:
        proc = subprocess.Popen(hub_command(), env=env, cwd=hub_dir(base),
                                stdout=None if foreground else log, stderr=None if foreground else log)
    (hub_dir(base) / "hub.pid").write_text(str(proc.pid))
    if not foreground:
        print(proc.pid)
        return 0

    def forward(signum, frame):        # Ctrl+C or `kill`: the hub's own clean shutdown (it stops learners' servers)
        proc.send_signal(signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    try:
        return proc.wait()
    finally:
        (hub_dir(base) / "hub.pid").unlink(missing_ok=True)


def stop() -> int:
    """Stop a hub started with ``start --background`` (SIGTERM to the pid it saved; it stops learners' servers)."""
    pidfile = hub_dir() / "hub.pid"
    if not pidfile.is_file():
        print("no classroom hub is running (no .classroom/hub/hub.pid)")
        return 0
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        print(f"stopped the hub (pid {pid})")
    except ProcessLookupError:
        print(f"the hub (pid {pid}) had already ended")
    pidfile.unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semsim.course.classroom", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="run the classroom hub (Ctrl+C stops it)")
    s.add_argument("--background", action="store_true", help="return at once; `stop` ends it; log in hub/hub.log")
    sub.add_parser("stop", help="stop a hub started with --background")
    sub.add_parser("store", help="only make the shared read-only store")
    args = parser.parse_args(argv)
    if args.command == "store":
        from ..paths import cache_dir

        print(build_store(store_dir(), seed=cache_dir()))
        return 0
    if args.command == "stop":
        return stop()
    return start(foreground=not args.background)


if __name__ == "__main__":
    sys.exit(main())
