"""`make bundle`: one archive that runs the course with no network (INSTRUCTORS.md, "The offline bundle").

    python classroom/bundle.py --wheelhouse wheelhouse --out build/semsim-bundle.tar

The archive holds one folder, semsim-bundle/:
    semsim/         the repository as it is on disk (no .git, .venv, caches, build output or classroom state);
                    its data/ folder holds the data sets with their licences (data/LICENSES, data/SOURCES.md)
    wheelhouse/     every wheel the course needs (`make wheelhouse`; plus the classroom's, when present)
    trained/        notebook 07's trained cross-encoder and notebook 04's static model, as semsim made them
    node_modules/   the classroom's proxy (configurable-http-proxy), when `npm ci` has installed it
    licences/       the course's LICENSE, the data sets' licences, every wheel's licence as its metadata states it
    README.txt      how to install from it
Standard library only. It reads the files it packs and writes nothing but the archive.
"""
from __future__ import annotations

import argparse
import csv
import email.parser
import io
import os
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "wheelhouse", "build", ".classroom", ".semsim-cache", "node_modules", "__pycache__",
             ".hypothesis", ".pytest_cache", ".ipynb_checkpoints"}
TRAINED = ("stsb-cross-encoder-MiniLM-L6", "static-MiniLM-L6-distilled")

README = """semsim offline bundle
=====================
On each machine (same OS, CPU architecture and Python version as the one that made the wheelhouse):

    cd semsim
    make course WHEELHOUSE=../wheelhouse        # installs with no index at all, then opens JupyterLab

The trained models are in trained/: copy them into semsim's cache so nothing is trained in class:

    mkdir -p ~/.cache/semsim/models && cp -r ../trained/* ~/.cache/semsim/models/

One server for the room (INSTRUCTORS.md): also copy node_modules/ to semsim/classroom/node_modules, then
    make classroom WHEELHOUSE=../wheelhouse CLASSROOM_IP=0.0.0.0
Licences: licences/ (the course, the data sets, every wheel).
"""


def repo_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not path.is_symlink() and not name.endswith((".pyc", ".tmp")):
                yield path


def wheel_licences(wheelhouse: Path) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter="\t", lineterminator="\n")
    w.writerow(["file", "name", "version", "license"])
    for whl in sorted(wheelhouse.glob("*.whl")):
        try:
            with zipfile.ZipFile(whl) as z:
                meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
                msg = email.parser.Parser().parsestr(z.read(meta).decode("utf-8", "replace"), headersonly=True)
        except (zipfile.BadZipFile, StopIteration, OSError):
            w.writerow([whl.name, "", "", "unreadable: see the project's page"])
            continue
        licence = msg.get("License-Expression") or msg.get("License") or ""
        if len(licence) > 80 or not licence.strip():      # some packages put the whole text here
            classifiers = [c.split("::")[-1].strip() for c in msg.get_all("Classifier") or [] if c.startswith("License")]
            first = licence.strip().splitlines()[0][:80] if licence.strip() else ""
            licence = "; ".join(classifiers) or first
        w.writerow([whl.name, msg.get("Name", ""), msg.get("Version", ""), licence or "not stated in its metadata"])
    return out.getvalue()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def bundle(out: Path, wheelhouse: Path, cache: Path, root: Path = ROOT) -> dict[str, int]:
    """Write the archive; returns how many files went into each part."""
    if not any(wheelhouse.glob("*.whl")):
        raise SystemExit(f"{wheelhouse} holds no wheels: run `make wheelhouse` first")
    missing = [t for t in TRAINED if not (cache / "models" / t).is_dir()]
    if missing:
        raise SystemExit(f"not trained yet in {cache}: {', '.join(missing)}; run `make prepare` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(["semsim", "wheelhouse", "trained", "node_modules", "licences"], 0)
    top = "semsim-bundle"
    with tarfile.open(out, "w") as tar:
        for path in repo_files(root):
            tar.add(path, f"{top}/semsim/{path.relative_to(root)}", recursive=False)
            counts["semsim"] += 1
        for whl in sorted(wheelhouse.iterdir()):
            if whl.is_file():
                tar.add(whl, f"{top}/wheelhouse/{whl.name}")
                counts["wheelhouse"] += 1
        for t in TRAINED:
            for path in sorted((cache / "models" / t).rglob("*")):
                if path.is_file():
                    tar.add(path, f"{top}/trained/{t}/{path.relative_to(cache / 'models' / t)}")
                    counts["trained"] += 1
        modules = root / "classroom" / "node_modules"
        if modules.is_dir():
            tar.add(modules, f"{top}/node_modules")
            counts["node_modules"] = sum(1 for p in modules.rglob("*") if p.is_file())
        add_bytes(tar, f"{top}/licences/wheels.tsv", wheel_licences(wheelhouse).encode())
        tar.add(root / "LICENSE", f"{top}/licences/semsim-LICENSE")
        if (root / "data" / "LICENSES").is_dir():
            tar.add(root / "data" / "LICENSES", f"{top}/licences/data")
        tar.add(root / "data" / "SOURCES.md", f"{top}/licences/data-SOURCES.md")
        counts["licences"] = 3
        add_bytes(tar, f"{top}/README.txt", README.encode())
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--wheelhouse", type=Path, default=ROOT / "wheelhouse")
    p.add_argument("--out", type=Path, default=ROOT / "build" / "semsim-bundle.tar")
    p.add_argument("--cache", type=Path, default=None, help="semsim's cache with the trained models (default: its own)")
    a = p.parse_args(argv)
    if a.cache is None:
        sys.path.insert(0, str(ROOT))
        from semsim.paths import cache_dir

        a.cache = cache_dir()
    counts = bundle(a.out, a.wheelhouse, a.cache)
    print(f"{a.out}: {a.out.stat().st_size / 2**20:,.1f} MiB; files: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
