"""The kernel wrapper of `make classroom`: cap this process's address space, then become the kernel.

    python classroom/kernel.py --mem-mb N -- python -m ipykernel_launcher -f {connection_file}

Each learner's Python kernel spec (written by semsim.course.classroom.prepare_home) starts the kernel through it.
RLIMIT_AS is the one per-learner memory limit SimpleLocalProcessSpawner allows: an allocation past the cap fails
with MemoryError in that kernel (it keeps running), and no other learner is touched. It caps address space, not
resident memory: a kernel that imported torch reserves 2-3 GB more address space than it uses. Standard library
only, so it adds no start-up time.
"""
import os
import resource
import sys


def main(argv: list[str]) -> None:
    mem_mb = 0
    if argv and argv[0].startswith("--mem-mb="):
        mem_mb = int(argv.pop(0).split("=", 1)[1])
    if argv and argv[0] == "--":
        argv.pop(0)
    if not argv:
        sys.exit("usage: kernel.py --mem-mb=N -- <kernel command>")
    if mem_mb > 0:
        cap = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
