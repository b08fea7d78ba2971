"""A real Milvus standalone server on this machine, for tests, benchmarks and trying the
server road before a cluster: ``python -m semsim milvus-server --data <folder>``.

It runs the Milvus server shipped by the PyPI package ``milvus`` (the C++ core, version
2.3) on 127.0.0.1, with its data, logs and unpacked binaries (about 0.5 GB) in one folder.
A :class:`~semsim.search.milvus.MilvusStore` connects to it by URI, exactly as it would connect
to a remote server or a cluster.
"""
from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from ..errors import ServerNotStarted


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalMilvus:
    """Start and stop a local Milvus server; ``uri`` is what a MilvusStore connects to."""

    def __init__(self, folder: str | Path, port: int | None = None) -> None:
        self.folder, self.port = Path(folder), port
        self._server: Any = None

    @property
    def uri(self) -> str:
        if self._server is None:
            raise ServerNotStarted("the server is not running: call start() first")
        return f"http://127.0.0.1:{self._server.listen_port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (to measure its memory), else None."""
        return self._server.server_proc.pid if self._server is not None else None

    def start(self, timeout: float = 180.0) -> str:
        """Start the server (about 10 s; the first start in a folder also unpacks the binaries)."""
        try:
            from milvus import MilvusServer
        except ImportError as e:
            raise ServerNotStarted("the package 'milvus' is not installed: pip install milvus==2.3.5") from e
        self.folder.mkdir(parents=True, exist_ok=True)
        server = MilvusServer(wait_for_started=False)
        server.set_base_dir(str(self.folder))
        server.listen_port = self.port or free_port()  # a start port: the package moves up if it is taken
        t0 = time.monotonic()
        try:
            server.start()
            server.wait_started(timeout=int(timeout * 1000))
        except (OSError, RuntimeError, TimeoutError) as e:
            server.stop()
            log = self.folder / "logs" / "milvus-stderr.log"
            tail = log.read_text(errors="replace")[-500:] if log.is_file() else ""
            raise ServerNotStarted(f"Milvus did not start in {self.folder} ({e}). {tail}") from e
        self.start_seconds = time.monotonic() - t0
        self._server = server
        return self.uri

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a second: acknowledged writes survive a kill)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "LocalMilvus":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
