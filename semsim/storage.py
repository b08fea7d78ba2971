"""Files written safely: locks, files and folders published whole, and crash-safe save folders.

Every writer in semsim goes through this module: :func:`publish_file` and :func:`publish_dir`
write to a temporary name, fsync, then rename into place (a reader sees the old thing or the
new one, never half of one), and :func:`save_version` keeps versioned save folders.


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

Locks are POSIX ``flock`` locks (Linux, macOS, WSL), advisory and per open file.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Union

import numpy as np

from .errors import IndexMismatch, SemsimError, StaleSave, UnsafeFolder

try:
    import fcntl
except ImportError:  # Windows: semsim's save folders need POSIX locks
    fcntl = None  # type: ignore[assignment]

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

Payload = Union[bytes, np.ndarray]


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


# -- small helpers (public: the cache uses them too) --------------------------------------
def write_synced(path: Path, data: Payload) -> str:
    """Write ``data`` to ``path`` and fsync it; returns its sha256. An array goes in .npy format
    when the name ends in ``.npy``; any other bytes-like object (a FAISS buffer) is written raw."""
    h = hashlib.sha256()
    with os.fdopen(open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as f:
        if isinstance(data, np.ndarray) and path.name.endswith(".npy"):
            np.save(_Hashing(f, h), data, allow_pickle=False)  # hashed as written: no second pass
        else:
            raw = memoryview(data)
            h.update(raw)
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    return h.hexdigest()


class _Hashing:
    """A write-only file wrapper that hashes what passes through it."""

    def __init__(self, f, h) -> None:  # type: ignore[no-untyped-def]
        self.f, self.h = f, h

    def write(self, b) -> int:  # type: ignore[no-untyped-def]
        self.h.update(b)
        return self.f.write(b)


def open_nofollow(path: Path, flags: int = os.O_RDONLY) -> int:
    """``os.open`` that refuses a symbolic link and anything but a regular file (a FIFO, a device).

    Raises :class:`UnsafeFolder` for those, and OSError (FileNotFoundError...) as ``os.open`` does.
    Opening never blocks: a FIFO is detected, not waited on."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EMLINK):
            raise UnsafeFolder(f"{path} is a symbolic link: semsim never follows links inside its folders. "
                               "Remove it (or save into a new folder).") from None
        if e.errno == errno.ENXIO:  # a FIFO opened for writing with no reader
            raise UnsafeFolder(f"{path} is not a regular file (a FIFO?): remove it.") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeFolder(f"{path} is not a regular file (a FIFO, a device or a folder): remove it.")
    os.set_blocking(fd, True)
    return fd


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file (no symlink), refusing one larger than ``limit``."""
    with os.fdopen(open_nofollow(path), "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit:,} bytes")
    return data


def parse_json(raw: bytes | str, what: str) -> object:
    """``json.loads`` that turns every failure (bad JSON, deep nesting) into IndexMismatch."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise IndexMismatch(f"{what} is not valid JSON ({type(e).__name__}: {str(e)[:200]}).") from e


def file_sha256(path: Path, size: int | None = None) -> str:
    """The sha256 of a regular file (no symlink), read in 8 MB blocks; with ``size``, at most that many bytes."""
    h = hashlib.sha256()
    left = size
    with os.fdopen(open_nofollow(path), "rb") as f:
        while left is None or left > 0:
            block = f.read(8 << 20 if left is None else min(8 << 20, left))
            if not block:
                break
            h.update(block)
            if left is not None:
                left -= len(block)
    return h.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(path: Path, data: Payload) -> str:
    """Write ``data`` to ``path`` whole or not at all: a temporary file, fsync, rename, fsync of the folder.
    Returns the sha256 of what was written."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        digest = write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return digest


def _fsync_tree(folder: Path) -> None:
    for sub in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if sub.is_file() and not sub.is_symlink():
            fd = os.open(sub, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif sub.is_dir():
            fsync_dir(sub)
    fsync_dir(folder)


def publish_dir(target: Path, build: Callable[[Path], None], *, complete: str, replace: bool = False) -> Path:
    """Make the folder ``target`` by ``build(tmp)`` in a temporary sibling, then rename it into place.

    ``complete``: the name of a file inside ``target`` that only a finished folder has. If ``target``
    is already complete (another process finished first), it is returned as it is, unless
    ``replace``. A folder is never seen half-built; with ``replace`` the old folder stays in place
    until the new one is complete, then the two are swapped (on Linux in one step: never a moment
    without a folder). An incomplete ``target`` left by a crash is moved aside and deleted."""
    target = Path(target)
    if (target / complete).is_file() and not replace:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.building-"))
    try:
        build(tmp)
        if not (tmp / complete).is_file():
            raise RuntimeError(f"building {target.name} did not write {complete}")
        _fsync_tree(tmp)
        if target.exists():
            if (target / complete).is_file() and not replace:
                return target                         # another process finished while we built
            _swap(tmp, target)                        # tmp now holds the old folder
        else:
            try:
                os.rename(tmp, target)
            except OSError:
                if not (target / complete).is_file():
                    raise
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _swap(a: Path, b: Path) -> None:
    """Exchange two folders: atomically with Linux's renameat2(RENAME_EXCHANGE), else by two renames."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:   # AT_FDCWD, RENAME_EXCHANGE
            return
    except (OSError, AttributeError):
        pass
    aside = a.with_name(a.name + ".old")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


@contextmanager
def flocked(path: Path, shared: bool = False, create: bool = True) -> Iterator[None]:
    """Hold an flock on ``path`` (exclusive, or shared for readers). Without ``create``, a
    missing lock file means no lock is taken (a read-only copy of a folder still loads).

    A shared lock on read-only media (a classroom's shared copy) is taken through a read-only
    descriptor, or not at all where the lock file cannot be created: nobody can write there."""
    _need_posix()
    try:
        fd = open_nofollow(path, (os.O_RDWR | os.O_CREAT) if create else os.O_RDONLY)
    except FileNotFoundError:
        if create:
            raise
        fd = None
    except UnsafeFolder:
        raise
    except OSError as e:
        if not shared or e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        try:
            fd = open_nofollow(path, os.O_RDONLY)
        except FileNotFoundError:
            fd = None
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _need_posix() -> None:
    if fcntl is None:
        raise SemsimError("semsim's caches and save folders need POSIX file locks (Linux, macOS, or Windows "
                          "through WSL): on Windows, run the course in WSL (see README.md, 'Systems').")


def lock_is_held(path: Path) -> bool:
    """True if another process holds an exclusive flock on ``path`` right now (never waits)."""
    _need_posix()
    try:
        fd = open_nofollow(path)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


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
