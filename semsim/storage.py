"""Crash-safe save folders: versions written all-or-nothing, checksummed, never pickle.

A save folder holds immutable payload files and one small ``CURRENT`` file naming the
manifest of the version in use::

    folder/
      SEMSIM                   marks the folder as semsim's (written by the first save)
      CURRENT                  "<version>.manifest.json"
      <version>.manifest.json  every file of that version: path, size, sha256
      <version>.<name>         payload files; a later version may keep (share) them
      .lock, .write.lock       lock files

How it stays safe (each rule has a test in tests/test_storage.py):

* **Never delete what semsim did not write.** A save refuses a non-empty folder that
  is not a semsim save folder. Cleaning up removes only files listed in semsim's own
  records (old manifests, and the ``.pending.json`` intent record each save writes
  *before* its payload), so a user's ``notes.txt`` in the folder is never touched.
* **All-or-nothing.** Payload files and the manifest are written and fsynced, then
  ``CURRENT`` is replaced atomically (``os.replace``). A save killed at any point leaves
  the previous version loadable; the next save removes its leftovers.
* **Readers always see one complete version.** A reader holds a shared lock while it
  reads; old versions are deleted only under the exclusive lock.
* **No lost updates.** ``save_version(..., expect=v)`` refuses with :class:`StaleSave`
  when the folder's current version is no longer ``v`` (another process saved since).
* **A failed save leaves nothing behind.** If writing fails (a full disk), the files of the
  unfinished version are removed at once, so the next save has the space the failed one had.
* **Crafted folders are refused, not followed.** semsim opens its files without following
  symbolic links and reads only regular files (a symlink to ``/dev/zero`` or a FIFO named
  ``.lock`` is refused, never read or waited on), reads at most the size a manifest declares,
  and refuses JSON nested deeper than its own files ever are.

The file primitives these rules rest on (no symlinks, bounded reads, publishing whole,
locks) are in :mod:`semsim.files`.
"""
from __future__ import annotations

import json
import re
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from .errors import IndexMismatch, StaleSave, UnsafeFolder
from .files import Payload, file_sha256, flocked, fsync_dir, publish_file, read_limited, write_synced


@dataclass(frozen=True)
class FileInfo:
    """One file of a saved version: its path inside the folder, size and sha256."""

    path: str
    bytes: int
    sha256: str


@dataclass
class Version:
    """A version read back by :func:`read_version`: its id, its files and their contents.

    ``data`` holds bytes for ordinary files and read-only memory-mapped arrays for ``.npy``
    files (so a large index is not copied into memory twice).
    """

    folder: Path
    version: str
    files: dict[str, FileInfo]
    data: dict[str, Payload]

CURRENT = "CURRENT"
MARKER = "SEMSIM"
FORMAT = 2
WRITER = "semsim"
_VERSION = re.compile(r"^[0-9a-f]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")
OWN_FILES = (CURRENT, MARKER, ".lock", ".write.lock")
MAX_RECORD = 64 << 20  # a manifest or intent record larger than this is not one of ours
_INTENT_START = b'{"writer": "semsim"'
_TMP_POINTER = re.compile(rf"^(\.{CURRENT}\.[0-9a-f]{{8}}|{CURRENT}\.[0-9a-f]{{12}})\.tmp$")  # new and old names

# -- what belongs to semsim ----------------------------------------------------------------
def is_save_folder(folder: Path) -> bool:
    """True if ``folder`` was created by a semsim save (its marker, or a CURRENT of format 1)."""
    return (folder / MARKER).is_file() or (folder / CURRENT).is_file()


def current_version(folder: str | Path) -> str | None:
    """The version ``folder`` currently points to, or None if it holds no save."""
    pointer = Path(folder) / CURRENT
    try:
        name = read_limited(pointer, 200).decode("utf-8", "replace").strip()
    except FileNotFoundError:
        return None
    except ValueError:
        name = "(too long)"
    version = name.split(".", 1)[0]
    if not _VERSION.match(version) or name != f"{version}.manifest.json":
        raise IndexMismatch(f"{pointer} does not name a semsim manifest ({name[:60]!r}): the folder is damaged.")
    return version


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ValueError(f"file name {name!r} is not allowed: letters, digits, '_', '-', '.' only, no folders")
    return name


def _claim(folder: Path) -> None:
    """Create ``folder`` or make sure it is a semsim save folder (or empty), then mark it."""
    if folder.exists() and not folder.is_dir():
        raise UnsafeFolder(f"{folder} is a file, not a folder: choose a folder to save into.")
    folder.mkdir(parents=True, exist_ok=True)
    if is_save_folder(folder):
        return
    others = sorted(p.name for p in folder.iterdir() if p.name not in OWN_FILES)
    if others:
        shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
        raise UnsafeFolder(f"{folder} is not empty and was not written by semsim (it holds {shown}). "
                           "A save owns its whole folder: save into a new or empty folder, e.g. "
                           f"{folder / 'semsim-index'}.")
    write_synced(folder / MARKER, json.dumps({"writer": WRITER, "format": FORMAT}).encode())
    fsync_dir(folder)


def _record(path: Path) -> dict | None:
    """A manifest or intent record semsim wrote, or None for anything else (never trusted to delete)."""
    try:
        rec = json.loads(read_limited(path, MAX_RECORD))
    except (OSError, ValueError, RecursionError, UnsafeFolder):
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("files"), dict):
        return None
    if rec.get("writer", WRITER) != WRITER or rec.get("version") != path.name.split(".", 1)[0]:
        return None
    return rec


def _paths_of(rec: dict) -> set[str]:
    out = set()
    for info in rec["files"].values():
        p = info.get("path") if isinstance(info, dict) else info
        if isinstance(p, str) and _NAME.match(p) and ".." not in p:
            out.add(p)
    return out


def _cut_short(path: Path) -> bool:
    """True for an intent record whose writing stopped early: empty, or the start of what semsim writes."""
    try:
        head = read_limited(path, MAX_RECORD)
    except (OSError, ValueError, UnsafeFolder):
        return False
    return _INTENT_START.startswith(head) or (head.startswith(_INTENT_START) and not head.rstrip().endswith(b"}"))


def _clean(folder: Path, keep: set[str]) -> None:
    """Delete files listed by semsim's own records of other versions, unless ``keep`` needs them."""
    records = [p for p in folder.iterdir() if _VERSION.match(p.name.split(".", 1)[0])
               and p.name.endswith((".manifest.json", ".pending.json"))]
    for rec_path in records:
        if rec_path.name in keep:
            continue
        rec = _record(rec_path)
        if rec is None:
            if rec_path.name.endswith(".pending.json") and _cut_short(rec_path):
                rec_path.unlink(missing_ok=True)  # our intent record, cut short (a full disk): it lists nothing
            continue  # not ours: leave it alone
        for p in _paths_of(rec) - keep:
            (folder / p).unlink(missing_ok=True)
        rec_path.unlink(missing_ok=True)
    for tmp in folder.glob(f"*{CURRENT}.*.tmp"):  # a pointer being published when a save was killed
        if _TMP_POINTER.match(tmp.name):
            tmp.unlink(missing_ok=True)


# -- saving and reading ----------------------------------------------------------------------
def save_version(folder: str | Path, files: Mapping[str, Payload], keep: Mapping[str, FileInfo] | None = None,
                 expect: str | None = None, overwrite: bool = False) -> tuple[str, dict[str, FileInfo]]:
    """Write ``files`` (name -> bytes or array) as a new version of ``folder``; returns (version, files).

    ``keep``: files of the current version to carry into the new one unchanged (shared,
    not copied): this is what makes a save cost what changed. ``expect``: the version the
    caller loaded or last saved (None: the caller never saw this folder, so it must hold no
    save). A different current version raises :class:`StaleSave` unless ``overwrite``.
    """
    folder = Path(folder)
    names = [_check_name(n) for n in list(files) + list(keep or {})]
    if len(set(names)) != len(names):
        raise ValueError(f"a file name is given twice: {sorted(names)}")
    _claim(folder)
    with flocked(folder / ".write.lock"):
        now = current_version(folder)
        if now != expect and not overwrite:
            raise StaleSave(
                f"{folder} was saved by someone else since this object was loaded (it is at version {now}, "
                f"this object last saw {expect}). Saving would drop their changes: load the folder again, "
                "re-apply your changes and save, or save into another folder.")
        if keep and now != expect:
            raise StaleSave(f"{folder}: cannot keep files of version {expect}, the folder is at version {now}.")
        version = uuid.uuid4().hex[:12]
        paths = {n: f"{version}.{n}" for n in files}
        intent = {"writer": WRITER, "format": FORMAT, "version": version, "files": {n: {"path": p} for n, p in paths.items()}}
        ours = [folder / f"{version}.pending.json", *(folder / p for p in paths.values()),
                folder / f"{version}.manifest.json"]
        try:
            write_synced(ours[0], json.dumps(intent).encode())
            infos: dict[str, FileInfo] = dict(keep or {})
            for name, data in files.items():
                target = folder / paths[name]
                digest = write_synced(target, data)
                infos[name] = FileInfo(paths[name], target.stat().st_size, digest)
            manifest = {"writer": WRITER, "format": FORMAT, "version": version, "parent": now,
                        "files": {n: vars(i) for n, i in infos.items()}}
            write_synced(folder / f"{version}.manifest.json", json.dumps(manifest, indent=1).encode())
            fsync_dir(folder)
        except BaseException:
            for path in ours:  # this version never became current: its files go now (a full disk frees)
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass
            raise
        publish_file(folder / CURRENT, f"{version}.manifest.json\n".encode())  # the commit point
        with flocked(folder / ".lock"):  # readers hold it shared while they read an old version
            _clean(folder, keep={f"{version}.manifest.json", *(i.path for i in infos.values())})
            (folder / f"{version}.pending.json").unlink(missing_ok=True)
        fsync_dir(folder)
    return version, infos


def _manifest(folder: Path, version: str) -> dict[str, FileInfo]:
    path = folder / f"{version}.manifest.json"
    try:
        raw = json.loads(read_limited(path, MAX_RECORD))
    except (OSError, ValueError, RecursionError) as e:
        raise IndexMismatch(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}): the folder is damaged.") from e
    fmt = raw.get("format", 1) if isinstance(raw, dict) else None
    if fmt not in (1, FORMAT):
        raise IndexMismatch(f"{path} has format {fmt!r}; this semsim reads formats 1 and {FORMAT}: "
                            "upgrade semsim, or re-create the save.")
    try:
        files = {}
        for name, info in raw["files"].items():
            p = info["path"]
            if not isinstance(p, str) or not _NAME.match(p) or ".." in p:
                raise ValueError(f"path {p!r} leaves the folder")
            size = int(info["bytes"])
            if size < 0:
                raise ValueError(f"negative size for {p!r}")
            files[_check_name(name)] = FileInfo(p, size, str(info["sha256"]))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise IndexMismatch(f"{path} is not a valid semsim manifest ({type(e).__name__}: {e}).") from e
    return files


def read_version(folder: str | Path, mmap: bool = True) -> Version:
    """Read and verify the current version of ``folder`` (sizes and checksums of every file).

    Holds a shared lock while reading, so a concurrent save cannot delete the files of
    the version being read. ``.npy`` files come back as arrays (memory-mapped if ``mmap``).
    """
    folder = Path(folder)
    if not (folder / CURRENT).is_file():
        raise IndexMismatch(f"{folder} holds no semsim save (no {CURRENT} file): wrong folder, or it was never saved.")
    try:
        with flocked(folder / ".lock", shared=True, create=False):
            version = current_version(folder)
            if version is None:
                raise IndexMismatch(f"{folder} holds no semsim save any more (its {CURRENT} file went away).")
            files = _manifest(folder, version)
            data = {name: _read_payload(folder / info.path, name, info, mmap) for name, info in files.items()}
    except UnsafeFolder as e:
        raise IndexMismatch(f"{e} The folder is damaged or was tampered with.") from None
    return Version(folder, version, files, data)


def _read_payload(path: Path, name: str, info: FileInfo, mmap: bool) -> Payload:
    """One payload file, checked against its manifest entry (size first: nothing larger is read)."""
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode):
            raise IndexMismatch(f"{path} is a symbolic link or not a regular file: semsim never follows links "
                                "inside its folders. The folder is damaged or was tampered with.")
        digest = file_sha256(path, info.bytes) if st.st_size == info.bytes else None
    except FileNotFoundError as e:
        raise IndexMismatch(f"{path} is missing: the folder is incomplete (copied in part?).") from e
    if digest != info.sha256:
        raise IndexMismatch(f"{path} is truncated or damaged (size or checksum mismatch).")
    try:
        if name.endswith(".npy"):
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        return read_limited(path, info.bytes)
    except MemoryError:
        raise
    except Exception as e:  # numpy's header parser raises ValueError, SyntaxError, TokenError...: all mean damage
        raise IndexMismatch(f"{path} cannot be read as {'a .npy array' if name.endswith('.npy') else 'a file'} "
                            f"({type(e).__name__}: {e}).") from e
