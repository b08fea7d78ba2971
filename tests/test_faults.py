"""Faults and crafted input (issue 22): a full disk, read-only media, a model that returns NaN,
and save folders made to hang, crash or escape semsim. Each must end in a clear error or a
documented behaviour, never a hang, never a write outside the folder, never lost data.

Where a test needs to mount a file system (a small tmpfs, a read-only bind mount) and the
machine does not allow it, that test is skipped with the reason; an injected fault covers
the same path.
"""
import errno
import hashlib
import json
import os
import signal
import subprocess
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from semsim import files, storage
from semsim.models.cache import EmbeddingCache
from semsim.search.engine import SearchEngine
from semsim.errors import IndexMismatch, SemsimError
from semsim.search.index import VectorIndex
from semsim.errors import UnsafeFolder
from semsim.storage import read_version, save_version

from conftest import FakeEncoder


@contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging: a hang is the bug some of these tests look for."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: semsim hung")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def docs(n, start=0):
    return {f"d{i}": f"document number {i} about topic {i % 7}" for i in range(start, start + n)}


def manifest_of(folder: Path) -> tuple[Path, dict]:
    name = (folder / "CURRENT").read_text().strip()
    return folder / name, json.loads((folder / name).read_text())


def replace_payload(folder: Path, name: str, data: bytes) -> None:
    """Tamper with a saved file AND fix its manifest entry, as a crafted folder would."""
    path, manifest = manifest_of(folder)
    entry = manifest["files"][name]
    (folder / entry["path"]).unlink()
    (folder / entry["path"]).write_bytes(data)
    entry["bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    path.write_text(json.dumps(manifest))


def files_of(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# -- a full disk ---------------------------------------------------------------------------------
def test_an_injected_full_disk_leaves_no_partial_version_and_the_next_save_works(tmp_path, monkeypatch):
    e = SearchEngine(FakeEncoder(), None)
    e.add(docs(50))
    folder = tmp_path / "s"
    e.save(folder)
    before = files_of(folder)
    e.add(docs(20, start=50))
    real, calls = storage.write_synced, []

    def full(path, data):
        calls.append(path.name)
        if len(calls) == 3:  # the intent record and one payload went through; the next file does not fit
            Path(path).write_bytes(b"\0" * 10)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(storage, "write_synced", full)
    with pytest.raises(OSError, match="No space"):
        e.save(folder)
    assert files_of(folder) == before                      # the failed version's files are gone at once
    assert len(SearchEngine.load(folder, FakeEncoder(), None)) == 50
    monkeypatch.setattr(storage, "write_synced", real)
    e.save(folder)                                         # space is back: the save goes through
    assert len(SearchEngine.load(folder, FakeEncoder(), None)) == 70


def test_an_intent_record_cut_short_is_cleaned_but_a_users_file_is_not(tmp_path):
    folder = tmp_path / "s"
    v1, _ = save_version(folder, {"a.json": b"{}"})
    (folder / "0123456789ab.pending.json").write_bytes(b"")                  # a save killed by a full disk
    (folder / "fedcba987654.pending.json").write_bytes(b'{"writer": "semsim", "fo')
    (folder / "notes.pending.json").write_text("mine")                       # not a name semsim writes
    (folder / "aaaaaaaaaaaa.pending.json").write_text('{"my": "own json"}')  # valid JSON: never ours to judge
    save_version(folder, {"a.json": b"{\"x\": 1}"}, expect=v1)
    names = files_of(folder)
    assert "0123456789ab.pending.json" not in names and "fedcba987654.pending.json" not in names
    assert "notes.pending.json" in names and "aaaaaaaaaaaa.pending.json" in names


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the injected full disk above covers the same path")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_real_full_disk_then_freed_space(small_tmpfs):
    folder = small_tmpfs / "engine"
    e = SearchEngine(FakeEncoder(dim=64), None)
    e.add(docs(500))
    e.save(folder)
    filler = small_tmpfs / "filler.bin"                    # a user's file takes most of what is left
    free = os.statvfs(small_tmpfs).f_bavail * os.statvfs(small_tmpfs).f_frsize
    filler.write_bytes(b"x" * max(free - 40_000, 0))
    e.add(docs(2000, start=500))                           # ~0.6 MB of new vectors: does not fit
    with pytest.raises(OSError) as err:
        e.save(folder)
    assert err.value.errno == errno.ENOSPC
    assert len(SearchEngine.load(folder, FakeEncoder(dim=64), None)) == 500
    assert filler.exists()                                 # never touched
    filler.unlink()                                        # the user frees space
    e.save(folder)
    assert len(SearchEngine.load(folder, FakeEncoder(dim=64), None)) == 2500


# -- read-only media -------------------------------------------------------------------------------
def test_a_cache_on_read_only_media_is_read_and_new_texts_stay_in_memory(tmp_path):
    src, ro = tmp_path / "cache", tmp_path / "ro"
    enc = FakeEncoder()
    EmbeddingCache(src, enc).encode(["alpha", "beta"])
    ro.mkdir()
    if subprocess.run(["mount", "--bind", str(src), str(ro)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here; see the simulated read-only test below")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        with pytest.warns(UserWarning, match="read-only"):
            cache = EmbeddingCache(ro, enc)
        calls = enc.calls
        cache.encode(["alpha", "beta"])
        assert enc.calls == calls                          # read from the shared copy
        out = cache.encode(["gamma"])                      # kept in memory, nothing written
        assert out.shape == (1, 16) and "gamma" in cache
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_a_shared_lock_on_a_read_only_lock_file_does_not_need_write_access(tmp_path, monkeypatch):
    lock = tmp_path / ".lock"
    lock.write_text("")
    real = files.open_nofollow

    def read_only(path, flags=os.O_RDONLY):
        if flags & (os.O_RDWR | os.O_WRONLY | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path, flags)

    monkeypatch.setattr(files, "open_nofollow", read_only)
    with files.flocked(lock, shared=True):
        pass
    with files.flocked(tmp_path / "missing.lock", shared=True):   # cannot be created: no lock, no error
        pass
    with pytest.raises(OSError):
        with files.flocked(lock):                                  # a writer still needs write access
            pass


# -- a model that returns NaN ------------------------------------------------------------------------
class NaNEncoder(FakeEncoder):
    broken = True

    def encode(self, texts, **kw):
        out = super().encode(texts, **kw)
        if self.broken:
            out[[i for i, t in enumerate(texts) if "poison" in t]] = np.nan
        return out


def test_nan_from_the_model_is_never_cached(tmp_path):
    enc = NaNEncoder()
    e = SearchEngine(enc, tmp_path / "cache")
    with pytest.raises(ValueError, match="NaN or infinite.*nothing was cached"):
        e.add({"a": "fine text", "b": "poison text"})
    assert len(e) == 0 and len(e.cache) == 0
    assert not list((tmp_path / "cache").rglob("*.npy"))
    enc.broken = False                                     # the model is fixed
    assert SearchEngine(enc, tmp_path / "cache").add({"a": "fine text", "b": "poison text"}) == 2


# -- crafted folders -------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    idx = VectorIndex(8, "hnsw", m=8)
    idx.add(np.random.default_rng(0).normal(size=(40, 8)), ids=[f"d{i}" for i in range(40)])
    idx.save(tmp_path / "s")
    return tmp_path / "s"


def test_a_payload_symlinked_to_dev_zero_is_refused_at_once(saved):
    path, manifest = manifest_of(saved)
    entry = manifest["files"]["dead.npy"]
    (saved / entry["path"]).unlink()
    (saved / entry["path"]).symlink_to("/dev/zero")
    entry["bytes"], entry["sha256"] = 0, hashlib.sha256(b"").hexdigest()
    path.write_text(json.dumps(manifest))
    with time_limit(10), pytest.raises(IndexMismatch, match="symbolic link|not a regular"):
        VectorIndex.load(saved)


def test_a_payload_symlinked_outside_the_folder_is_not_followed(saved, tmp_path):
    path, manifest = manifest_of(saved)
    entry = manifest["files"]["index.json"]
    outside = tmp_path / "secret.json"
    outside.write_bytes((saved / entry["path"]).read_bytes())   # identical content, so the checksum matches
    (saved / entry["path"]).unlink()
    (saved / entry["path"]).symlink_to(outside)
    with pytest.raises(IndexMismatch, match="symbolic link"):
        VectorIndex.load(saved)


def test_a_fifo_lock_never_blocks(saved):
    (saved / ".lock").unlink()
    os.mkfifo(saved / ".lock")
    with time_limit(10), pytest.raises(SemsimError, match="not a regular file"):
        VectorIndex.load(saved)


@pytest.mark.parametrize("name", [".write.lock", "SEMSIM"])
def test_dangling_symlinks_never_make_a_save_write_outside(tmp_path, name):
    folder, outside = tmp_path / "s", tmp_path / "outside"
    folder.mkdir()
    (folder / name).symlink_to(outside)                     # points at a file that does not exist yet
    idx = VectorIndex(4, "flat")
    idx.add(np.eye(4), ids=list("abcd"))
    with pytest.raises(UnsafeFolder, match="symbolic link"):
        idx.save(folder)
    assert not outside.exists()


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("target", ["manifest", "index.json", "engine.json", "cache keys"])
def test_deeply_nested_json_is_refused_cleanly(tmp_path, target):
    e = SearchEngine(FakeEncoder(), tmp_path / "cache")
    e.add(docs(5))
    folder = tmp_path / "s"
    e.save(folder)
    if target == "manifest":
        manifest_of(folder)[0].write_bytes(deep(100_000))
    elif target in ("index.json", "engine.json"):
        replace_payload(folder, target, deep(100_000))
    else:
        keys = next((tmp_path / "cache").rglob("*.keys.json"))
        keys.write_bytes(deep(100_000))
        with pytest.warns(UserWarning, match="skipping damaged shard"):
            assert len(EmbeddingCache(tmp_path / "cache", FakeEncoder())) == 0
        return
    with pytest.raises(IndexMismatch):
        SearchEngine.load(folder, FakeEncoder(), None)


def test_an_absurd_row_count_is_refused_fast(saved):
    head = json.loads(read_version(saved).data["index.json"])
    head["next_row"] = 10 ** 8
    replace_payload(saved, "index.json", json.dumps(head).encode())
    with time_limit(5), pytest.raises(IndexMismatch, match="rows"):
        VectorIndex.load(saved)


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "ivfpq"])
def test_mutated_index_arrays_give_index_mismatch_or_a_working_index(tmp_path, kind):
    """Random byte changes in the saved graph, centroids or codes, with the manifest fixed to match (so
    the checksum cannot catch them): each load either works (and searches) or raises IndexMismatch.
    FAISS's own file reader hangs or crashes on some such files; semsim never uses it for its saves."""
    rng = np.random.default_rng(1)
    idx = VectorIndex(16, kind, nlist=4, pq_m=4, pq_bits=4, m=8)
    idx.add(rng.normal(size=(300, 16)), ids=[f"d{i}" for i in range(300)])
    folder = tmp_path / "s"
    idx.save(folder)
    targets = sorted(n for n in read_version(folder).files if n.startswith(("checkpoint-", "trained.")))
    assert targets and not any(n.endswith(".faiss") for n in read_version(folder).files)
    others = []
    for trial in range(80):
        name = targets[trial % len(targets)]
        original = (folder / read_version(folder).files[name].path).read_bytes()
        data = bytearray(original)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[pos] = int(rng.integers(0, 256))
        if trial % 10 == 0:
            data = data[: int(rng.integers(1, len(data)))]
        replace_payload(folder, name, bytes(data))
        try:
            with time_limit(20):
                VectorIndex.load(folder).search(rng.normal(size=(2, 16)), 5)
        except IndexMismatch:
            pass
        except Exception as e:  # noqa: BLE001 - anything else is the bug
            others.append(f"{name}: {type(e).__name__}: {str(e)[:80]}")
        replace_payload(folder, name, original)
    assert not others, others[:5]


# -- smaller checks of issue 22 --------------------------------------------------------------------
def test_nan_min_score_and_complex_vectors_are_refused(tmp_path):
    e = SearchEngine(FakeEncoder(), None)
    e.add(docs(3))
    with pytest.raises(ValueError, match="min_score"):
        e.search("document", min_score=float("nan"))
    with pytest.raises(ValueError, match="min_score"):
        SearchEngine(FakeEncoder(), None, min_score=float("nan"))
    idx = VectorIndex(4, "flat")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no ComplexWarning: a clear refusal instead
        with pytest.raises(TypeError, match="complex"):
            idx.add(np.eye(4) * (1 + 1j), ids=list("abcd"))
    assert len(idx) == 0


def test_the_query_log_keeps_no_trace_of_what_was_asked(tmp_path):
    e = SearchEngine(FakeEncoder(), None)
    e.add(docs(3))
    secret = "my salary is 51234 and my manager is Jane"
    e.search(secret)
    e.save(tmp_path / "s")
    record = e.log[-1]
    assert record.query is None and not hasattr(record, "query_hash")
    everything = b"".join(p.read_bytes() for p in (tmp_path / "s").iterdir() if p.is_file())
    assert secret.encode() not in everything
    assert hashlib.sha256(secret.encode()).hexdigest()[:16].encode() not in everything


def test_weights_verified_in_a_read_only_cache_are_loaded_without_a_record(tmp_path, monkeypatch):
    """A classroom's shared cache may be read-only: verifying a model's weights there must not fail
    for want of a place to write the record that spares the next hashing."""
    from semsim.models import locate
    from semsim.models.registry import ModelSpec

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    spec = ModelSpec("m", "org/m", "bi-encoder", "nowhere",
                     weights={"model.safetensors": hashlib.sha256(b"weights").hexdigest()})
    monkeypatch.setenv("SEMSIM_CACHE_DIR", str(tmp_path / "cache"))

    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(locate, "publish_file", read_only)
    assert locate.verify_weights(folder, spec) == folder          # verified, no record written
    assert locate.verify_weights(folder, spec) == folder          # and again: hashed a second time
    monkeypatch.setattr(locate, "publish_file", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(OSError):                                   # any other failure is still an error
        locate.verify_weights(folder, spec)
    (folder / "model.safetensors").write_bytes(b"altered")
    with pytest.raises(SemsimError, match="damaged or was altered"):
        locate.verify_weights(folder, spec)
