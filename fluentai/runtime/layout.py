"""Where the built runtime library lives and how it is compiled, importable without the rest of
the compiler (a warm start, fluentai/launch.py, finds the library with this alone)."""

from __future__ import annotations

import os

from fluentai import cachekey

CFLAGS = (
    "-std=c11",
    "-O2",
    "-g",
    "-fPIC",
    "-ffp-contract=off",
    "-fno-strict-aliasing",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
    "-D_GNU_SOURCE",
    "-DGC_THREADS",
)
LIBS = ("-lgc", "-lgmp", "-lm", "-lpthread")


def runtime_digest() -> str:
    """A hash of the runtime's sources and flags: the name of its build directory."""
    return cachekey.runtime_digest(" ".join(CFLAGS + LIBS))


def shared_library() -> str:
    """The path the shared runtime library has once built (it may not exist yet)."""
    return os.path.join(cachekey.RUNTIME_DIR, "_build", runtime_digest(), "libfluentrt.so")
