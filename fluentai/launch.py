"""The `fluentai` command's entry point.

A warm `fluentai run FILE` of a program that has a program image (fluentai/image.py) runs it from
here, having imported only `os`, `sys`, `ctypes`, `threading` and the cache key module: that is
what makes a warm start take tens of milliseconds. Every other command line, and every run without
an image, goes to `fluentai.cli`.
"""

from __future__ import annotations

import gc
import io
import os
import sys

from fluentai import interrupts

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any


def _open_closed_streams() -> None:
    """A standard stream whose descriptor was closed (`fluentai run p.fl >&-`) is None in
    Python: give it /dev/null, which takes over the free descriptor, so every tier (the native
    runtime writes to fd 1 and 2 itself) discards what goes there."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        if getattr(sys, name) is None:
            stream = open(os.devnull, mode, encoding="utf-8")  # noqa: SIM115 - kept open
            if stream.fileno() != fd:
                os.dup2(stream.fileno(), fd)
            setattr(sys, name, stream)


class _QuietFile(io.FileIO):
    """Standard error's descriptor, where a failed write (a full disk, a closed pipe) drops
    what it was given, as the runtime's writes to fd 2 do (write_fd, runtime/io.c): a report or
    `io:print-err` that cannot be written changes neither the run nor its exit status."""

    def write(self, data: Any) -> int:
        try:
            written = super().write(data)
        except OSError:
            written = None
        # None: nothing could be written to a non-blocking descriptor, which the runtime drops
        return memoryview(data).nbytes if written is None else written


def _quiet_stderr() -> None:
    """Give `sys.stderr` a descriptor that never fails (_QuietFile). A report names the file
    as given, whose bytes need not be UTF-8 (sys.argv keeps them as surrogate escapes): it is
    written back as those bytes, as native code writes them."""
    stderr = sys.stderr
    try:
        fd = stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not the process's (an embedding program's own stream)
    errors = stderr.errors
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(_QuietFile(fd, "w", closefd=False)),
        encoding=stderr.encoding,
        errors="surrogateescape" if errors == "backslashreplace" else errors,
        line_buffering=True,
    )


def main(argv: list[str] | None = None) -> int:
    # The command's imports and the VM make many objects and little cyclic garbage: at the
    # default thresholds a first run collected about 50 times during its imports alone (10 ms
    # of its start). The VM's run freezes what exists by then (driver.py).
    gc.set_threshold(100_000, 50, 100)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        interrupts.install()
        status = _command(args)
    except KeyboardInterrupt:
        # Ctrl-C while no program runs (imports, compiling, waiting for an image at exit) is
        # reported as one that interrupts a program (LANGUAGE.md §13.4)
        sys.stderr.write("interrupted\n")
        status = 130
    if args[:1] == ["run"]:
        _exit_now(status)
    return status


def _restore_stdin() -> None:
    """Put back the standard input that bin/fluentai moved to fd 9: a directory, with which
    Python cannot start. Reading it is the end of the input (vm/world.py, runtime/io.c)."""
    if os.environ.pop("FLUENTAI_STDIN_FD", None) != "9":
        return
    try:
        os.dup2(9, 0)
        os.close(9)
    except OSError:
        pass  # not ours after all: /dev/null stays


def _command(args: list[str]) -> int:
    _restore_stdin()
    _open_closed_streams()
    _quiet_stderr()
    from fluentai import settings

    settings.warn_invalid(os.environ, sys.stderr)
    image_run = _image_run(args)
    if image_run is not None:
        from fluentai import image

        path, program_args, jit_stats, native_tier = image_run
        status = image.try_run(
            path, program_args, jit_stats, sys.stdout, sys.stderr, native_tier=native_tier
        )
        if status is not None:
            return status
    from fluentai.cli import main as cli_main

    return cli_main(args)


def _exit_now(status: int) -> None:
    """End a `run` without the interpreter's teardown (clearing every module and collecting
    every object the VM made costs 10-15 ms): the run has waited for everything it started, no
    exit hooks are registered, and the standard streams are flushed here. Should flushing fail,
    the usual exit reports it."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(status)


def _image_run(args: list[str]) -> tuple[str, list[str], bool, bool] | None:
    """(FILE, program arguments, --jit-stats, --tier native) for `run [--tier auto|native]
    [--jit-stats] FILE ARGS...` when a cached whole program may be used; None for any other
    command line (fluentai.cli parses it)."""
    if len(args) < 2 or args[0] != "run":
        return None
    jit_stats = False
    tier = "auto"
    i = 1
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--jit-stats":
            jit_stats = True
            i += 1
        elif args[i] == "--tier" and args[i + 1 : i + 2] in (["auto"], ["native"]):
            tier = args[i + 1]
            i += 2
        elif args[i] in ("--tier=auto", "--tier=native"):
            tier = args[i].split("=", 1)[1]
            i += 1
        else:
            return None
    if i >= len(args) or args[i] == "-":
        return None
    from fluentai import cachekey, image

    if tier == "native":
        if os.environ.get("FLUENTAI_JIT") == "0" or not cachekey.enabled():
            return None  # the usual path reports that the native tier is off
    elif not image.enabled():
        return None
    return args[i], args[i + 1 :], jit_stats, tier == "native"
