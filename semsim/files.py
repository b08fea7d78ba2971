"""Files written and read safely: published whole, fsynced, never through a symlink, with locks.

The ground floor of every writer in semsim. :func:`publish_file` and :func:`publish_dir` write
to a temporary name, fsync, then rename into place, so a reader sees the old thing or the new
one, never half of one. Files are opened without following symbolic links and only when they
are regular files (a FIFO or a device is refused, never waited on); reads are bounded. Locks
are POSIX ``flock`` locks (Linux, macOS, WSL), advisory and per open file.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Union

import numpy as np

from .errors import IndexMismatch, SemsimError, UnsafeFolder

try:
    import fcntl
except ImportError:  # Windows: semsim's save folders need POSIX locks
    fcntl = None  # type: ignore[assignment]

Payload = Union[bytes, np.ndarray]


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
