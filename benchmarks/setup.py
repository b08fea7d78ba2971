"""Set-up figures: what installing the course and making its trained models (notebook 04's static model, notebook 07's cross-encoder) cost.

Everything is measured on a fresh clone in a temporary folder, so nothing that this working
tree has already installed or cached is reused:

1. ``git clone`` of this repository's committed HEAD (uncommitted changes are not in it);
2. ``make install`` in the clone, which builds a new ``.venv`` and runs ``semsim prepare``:
   * wall time of the whole command;
   * bytes downloaded: every package file pip downloaded, with the size its log prints
     (``PIP_LOG``; rounded to 0.1 MB or 1 kB per file; index pages are not counted). Package
     files that pip took from local folders or ``file://`` indexes (a machine's own mirror)
     are counted apart, with their exact sizes, because elsewhere they come over the network
     too. pip's cache is a new empty folder (``PIP_CACHE_DIR``), so nothing comes from an
     earlier download. The bytes all network interfaces received meanwhile are printed as a
     cross-check (machine-wide, so other traffic counts too);
   * the size of the finished ``.venv`` (apparent size of its files, symlinks not followed);
3. ``python -m semsim prepare --with-trained`` in the clone, with the semsim cache that step 2
   made (``SEMSIM_CACHE_DIR``: new at step 2, so it holds the joined all-mpnet-base-v2 and no
   cross-encoder; this is where a learner stands after ``make install``): wall time, peak
   memory of the process tree (summed PSS and summed RSS, sampled every 0.1 s, as in
   course_budget.py) and the training time the trainer itself recorded.

The data sets come from ``data/`` of the clone when it has one, else from this working tree's
``data/``, else from ``$SEMSIM_DATA_DIR`` (the folder used is printed in the results).

Writes results/setup.md. One run takes about 15-25 minutes on 2 cores.
Usage: python benchmarks/setup.py [--python PYTHON] [--keep] [--skip-reranker]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import markdown_table, run_measured, write_results

ROOT = Path(__file__).resolve().parent.parent
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
              "amx_tile", "amx_int8", "amx_bf16")

# pip logs each file it downloads as "Downloading <file> (<size>)", the size rounded by pip's
# format_size (1 decimal for MB, whole kB); files from local folders as "Processing /path".
_DOWNLOADING = re.compile(r"\bDownloading (?P<name>\S+\.(?:whl|tar\.gz|zip)) \((?P<num>[\d.]+) (?P<unit>bytes|kB|MB|GB)\)")
_PROCESSING = re.compile(r"\bProcessing (?P<path>/\S+\.(?:whl|tar\.gz|zip))\b")
_UNITS = {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def mib(n: float) -> float:
    return round(n / 2**20, 1)


def tree_bytes(path: Path) -> int:
    """Apparent size of every regular file under ``path`` (symlinks are not followed)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                total += os.lstat(full).st_size
    return total


def pip_traffic(log: Path) -> dict:
    """What pip fetched, from its log: package files downloaded (sizes as pip printed them) and
    package files taken from local folders (exact sizes)."""
    downloaded, local = {}, {}
    for line in log.read_text(errors="replace").splitlines():
        m = _DOWNLOADING.search(line)
        if m:
            downloaded[m["name"]] = float(m["num"]) * _UNITS[m["unit"]]
            continue
        m = _PROCESSING.search(line)
        if m and Path(m["path"]).is_file() and not m["path"].startswith(("/tmp/pip-", "/tmp/tmp")):
            local[m["path"]] = Path(m["path"]).stat().st_size
    return {"network_bytes": sum(downloaded.values()), "network_files": len(downloaded),
            "local_bytes": sum(local.values()), "local_files": len(local),
            "largest": sorted(downloaded.items(), key=lambda kv: -kv[1])[:3]}


def rx_bytes() -> int:
    """Bytes received by all network interfaces but loopback (machine-wide, from /proc/net/dev)."""
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    except OSError:
        return 0
    return sum(int(l.split(":", 1)[1].split()[0]) for l in lines if l.split(":", 1)[0].strip() != "lo")


def cpu() -> tuple[str, str]:
    """CPU model name and the SIMD flags (of SIMD_FLAGS) it reports."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name in ("", platform.machine(), platform.processor()):
                name = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return name, " ".join(f for f in SIMD_FLAGS if f in flags) or "unknown"


def pip_sources(python: str) -> str:
    """Index URLs and find-links pip is configured with here (a local mirror changes the download)."""
    out = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    keep = [line for line in out.splitlines() if re.search(r"index-url|find-links", line)]
    return "; ".join(keep) or "PyPI only (no index or find-links configured)"


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def data_dir(clone: Path) -> Path | None:
    for d in (clone / "data", ROOT / "data", Path(os.environ.get("SEMSIM_DATA_DIR", "") or "/nonexistent")):
        if (d / "stsb" / "train.tsv.gz").is_file():
            return d
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default="python3", help="the Python that make builds .venv with (make PYTHON=...)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (clone, .venv, logs)")
    ap.add_argument("--skip-reranker", action="store_true", help="measure the install only")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="semsim-setup-"))
    clone, cache, pip_cache, pip_log = tmp / "semsim", tmp / "semsim-cache", tmp / "pip-cache", tmp / "pip.log"
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = load()
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        data = data_dir(clone)
        pip_cache.mkdir()
        env = {**os.environ, "PIP_LOG": str(pip_log), "PIP_CACHE_DIR": str(pip_cache),
               "SEMSIM_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
        if data is not None:
            env["SEMSIM_DATA_DIR"] = str(data)
        print(f"[setup] clone of {commit} in {clone}; data from {data}; load {load_start}", flush=True)

        rx0 = rx_bytes()
        with open(tmp / "install.log", "w") as out:
            code, install_s, _, _ = run_measured(["make", "install", f"PYTHON={args.python}"], cwd=clone, env=env,
                                                 stdout=out, stderr=subprocess.STDOUT)
        rx = rx_bytes() - rx0
        if code != 0:
            print((tmp / "install.log").read_text()[-4000:], file=sys.stderr)
            print(f"[setup] make install failed (exit {code}); folder kept: {tmp}", file=sys.stderr)
            args.keep = True
            return 1
        traffic = pip_traffic(pip_log)
        venv = clone / ".venv"
        venv_bytes = tree_bytes(venv)
        venv_python = subprocess.run([str(venv / "bin" / "python"), "-c", "import platform, torch; "
                                      "print(platform.python_version(), torch.__version__)"],
                                     capture_output=True, text=True).stdout.split()
        print(f"[setup] make install: {install_s:.0f} s, {mib(traffic['network_bytes'])} MiB downloaded, "
              f"{mib(traffic['local_bytes'])} MiB from local folders, .venv {mib(venv_bytes)} MiB", flush=True)

        largest = ", ".join(f"{name.split('-')[0]} {mib(size):,}" for name, size in traffic["largest"])
        rows = [
            {"figure": "make install, wall time", "value": f"{install_s:.0f} s ({install_s / 60:.1f} min)",
             "how": "fresh clone, new .venv, new pip cache; includes `semsim prepare` (joins all-mpnet-base-v2)"},
            {"figure": "package files downloaded", "value": f"{mib(traffic['network_bytes']):,} MiB",
             "how": f"{traffic['network_files']} files, sizes as pip's log prints them (rounded to 0.1 MB or 1 kB "
                    f"each; index pages not included); largest (MiB): {largest}"},
            {"figure": "package files taken from local folders", "value": f"{mib(traffic['local_bytes']):,} MiB",
             "how": f"{traffic['local_files']} files that this machine keeps on disk (a mirror of the index and "
                    "the CPU torch wheel); elsewhere they are downloaded too"},
            {"figure": "package files in all", "value": f"{mib(traffic['network_bytes'] + traffic['local_bytes']):,} MiB",
             "how": "the two lines above: about what a machine without a local mirror downloads"},
            {"figure": "received by the machine meanwhile", "value": f"{mib(rx):,} MiB",
             "how": "all network interfaces (/proc/net/dev), so it includes index pages, TLS and any other "
                    "traffic on the machine during the install"},
            {"figure": ".venv size", "value": f"{mib(venv_bytes):,} MiB ({venv_bytes / 2**30:.2f} GiB)",
             "how": "apparent size of all files in the new .venv"},
        ]
        data_bytes = tree_bytes(clone / "data") if (clone / "data").is_dir() else 0
        rows.append({"figure": "data/ in the clone", "value": f"{mib(data_bytes):,} MiB ({data_bytes / 1e6:.1f} MB)",
                     "how": "the course's data sets as committed (apparent size of the files)"})
        pip_cache_bytes = tree_bytes(pip_cache)

        if not args.skip_reranker:
            with open(tmp / "prepare.log", "w") as out:
                code, train_s, peak_rss, peak_pss = run_measured(
                    [str(venv / "bin" / "python"), "-m", "semsim", "prepare", "--with-trained"], cwd=clone, env=env,
                    stdout=out, stderr=subprocess.STDOUT)
            if code != 0:
                print((tmp / "prepare.log").read_text()[-4000:], file=sys.stderr)
                print(f"[setup] prepare --with-trained failed (exit {code}); folder kept: {tmp}", file=sys.stderr)
                args.keep = True
                return 1
            info = next(cache.rglob("semsim-training.json"), None)
            trainer_s = json.loads(info.read_text()).get("train_seconds") if info else None
            print(f"[setup] prepare --with-trained: {train_s:.0f} s, peak PSS {peak_pss:.0f} MB, "
                  f"peak RSS {peak_rss:.0f} MB, trainer {trainer_s} s", flush=True)
            rows += [
                {"figure": "prepare --with-trained, wall time", "value": f"{train_s:.0f} s ({train_s / 60:.1f} min)",
                 "how": "the whole command: distilling notebook 04's static model and training notebook 07's cross-encoder (imports, data, saving included)"},
                {"figure": "of which training (trainer.train)", "value": f"{trainer_s} s",
                 "how": "train_seconds that semsim wrote into the model's semsim-training.json"},
                {"figure": "prepare --with-trained, peak memory (PSS)", "value": f"{peak_pss:,.0f} MiB",
                 "how": "process tree, summed PSS sampled every 0.1 s (shared pages counted once)"},
                {"figure": "prepare --with-trained, peak memory (summed RSS)", "value": f"{peak_rss:,.0f} MiB",
                 "how": "same samples, summed RSS (shared pages counted once per process)"},
            ]

        cpu_name, flags = cpu()
        head = [{"date (UTC)": started, "machine": f"{cpu_name}, {os.cpu_count()} cores, "
                 f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
                 f"{platform.system()} {platform.machine()}",
                 "CPU flags (SIMD)": flags, "Python (.venv)": venv_python[0] if venv_python else "?",
                 "torch": venv_python[1] if len(venv_python) > 1 else "?", "commit": commit}]
        body = (f"{markdown_table(head)}\n\n{markdown_table(rows)}\n\n"
                f"- Load average (1/5/15 min) at the start: {load_start}; at the end: {load()}. Other work on the "
                f"machine slows both steps; a single run, not a median.\n"
                f"- pip's package sources here: {pip_sources(str(venv / 'bin' / 'python'))}. The Makefile first asks "
                f"PyTorch's CPU index for torch and falls back to the configured indexes.\n"
                f"- pip's new cache folder held {mib(pip_cache_bytes)} MiB afterwards (pip may decline to cache; the "
                f"download figures above come from its log, not from the cache).\n"
                f"- Data sets read from: `{data}`.\n"
                f"- Made by `python benchmarks/setup.py` (see its docstring for the method).")
        path = write_results("setup", "Set-up: install and the trained models' preparation on a fresh clone", body)
        print(body)
        print("written to", path)
        return 0
    finally:
        if args.keep:
            print(f"[setup] kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
