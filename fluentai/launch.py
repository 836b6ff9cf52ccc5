"""The `fluentai` command's entry point.

A warm `fluentai run FILE` of a program that has a program image (fluentai/image.py) runs it from
here, having imported only `os`, `sys`, `ctypes`, `threading` and the cache key module: that is
what makes a warm start take tens of milliseconds. Every other command line, and every run without
an image, goes to `fluentai.cli`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    image_run = _image_run(args)
    if image_run is not None:
        from fluentai import image

        path, program_args, jit_stats = image_run
        status = image.try_run(path, program_args, jit_stats, sys.stdout, sys.stderr)
        if status is not None:
            return status
    from fluentai.cli import main as cli_main

    return cli_main(args)


def _image_run(args: list[str]) -> tuple[str, list[str], bool] | None:
    """(FILE, program arguments, --jit-stats) for `run [--tier auto] [--jit-stats] FILE ARGS...`
    when images may be used; None for any other command line (fluentai.cli parses it)."""
    if len(args) < 2 or args[0] != "run":
        return None
    jit_stats = False
    i = 1
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--jit-stats":
            jit_stats = True
            i += 1
        elif args[i] == "--tier" and args[i + 1 : i + 2] == ["auto"]:
            i += 2
        elif args[i] == "--tier=auto":
            i += 1
        else:
            return None
    if i >= len(args) or args[i] == "-":
        return None
    from fluentai import image

    if not image.enabled():
        return None
    return args[i], args[i + 1 :], jit_stats
