"""Crash-safe folders: a set of files saved all-or-nothing, with checksums, never pickle.

A saved folder holds versioned payload files and one small ``CURRENT`` file naming the
version in use. ``atomic_save`` writes the new version's files, fsyncs them, then
replaces ``CURRENT`` with ``os.replace`` (atomic on POSIX) and only then deletes the old
version. A save killed at any point leaves either the old or the new version loadable.
A lock file serialises concurrent saves to one folder. The folder belongs to one saved
object: other files directly inside it are removed by the next save.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import IndexMismatch

CURRENT = "CURRENT"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` (blocks while another process saves to it)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def atomic_save(folder: str | Path, files: dict[str, bytes]) -> str:
    """Save ``files`` (name -> bytes) as one new version of ``folder``; returns the version."""
    folder = Path(folder)
    version = uuid.uuid4().hex[:12]
    with folder_lock(folder):
        manifest = {"version": version, "files": {}}
        for name, data in files.items():
            target = folder / f"{version}.{name}"
            _write_synced(target, data)
            manifest["files"][name] = {"path": target.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        _write_synced(folder / f"{version}.manifest.json", json.dumps(manifest, indent=1).encode())
        _fsync_dir(folder)
        tmp = folder / f"{CURRENT}.{version}.tmp"
        _write_synced(tmp, f"{version}.manifest.json\n".encode())
        os.replace(tmp, folder / CURRENT)  # the commit point
        _fsync_dir(folder)
        for old in folder.iterdir():  # old versions and leftovers of killed saves
            if old.is_file() and old.name not in (".lock", CURRENT) and not old.name.startswith(version + "."):
                old.unlink(missing_ok=True)
    return version


def load_saved(folder: str | Path) -> dict[str, bytes]:
    """Read the current version of a folder written by :func:`atomic_save`, checking sizes and checksums."""
    folder = Path(folder)
    pointer = folder / CURRENT
    if not pointer.is_file():
        raise IndexMismatch(f"{folder} holds no saved index (no {CURRENT} file): wrong folder, or it was never saved.")
    try:
        manifest = json.loads((folder / pointer.read_text().strip()).read_text())
        out = {}
        for name, info in manifest["files"].items():
            data = (folder / info["path"]).read_bytes()
            if len(data) != info["bytes"] or hashlib.sha256(data).hexdigest() != info["sha256"]:
                raise IndexMismatch(f"{folder / info['path']} is truncated or damaged (checksum mismatch).")
            out[name] = data
    except (OSError, ValueError, KeyError) as e:
        raise IndexMismatch(f"{folder} is damaged or incomplete ({type(e).__name__}: {e}).") from None
    return out
