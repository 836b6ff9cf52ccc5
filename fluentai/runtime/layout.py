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


def build_dir() -> str:
    """Where this runtime's build goes (fluentai/runtime/build.py): named by its digest."""
    return os.path.join(cachekey.RUNTIME_DIR, "_build", runtime_digest())


def shared_library() -> str:
    """The path the shared runtime library has once built (it may not exist yet)."""
    return os.path.join(build_dir(), "libfluentrt.so")


# The image runner, a CPython extension module built beside the runtime library when CPython's
# headers are there (runtime/ext/imagerun.c, fluentai/image.py); `.abi3`: the limited API.
IMAGE_RUNNER = "_fluentai_image"


def image_runner() -> str:
    """The path the image runner extension has once built (it may not exist)."""
    return os.path.join(build_dir(), IMAGE_RUNNER + ".abi3.so")


# What `cc -shared -Wl,-Bsymbolic` passes the linker, less the start files and libraries that a
# unit loaded into a process which has them already does not need.
UNIT_LINK_FLAGS = ("-shared", "-Bsymbolic", "--eh-frame-hdr", "--hash-style=gnu")


def unit_linker() -> list[str] | None:
    """The command that links code cache units without the C compiler's driver, which costs
    about 20 ms a link (a first run links its image on its critical path): the system linker
    and the compiler's support library (`libgcc.a`: LLVM may call its helpers), as
    `[ld, libgcc]`. Found once per runtime build (a trial link proves it works,
    `build.find_unit_linker`) and kept beside the runtime library in `unit-linker.txt`; None
    when the driver must be used."""
    note = os.path.join(build_dir(), "unit-linker.txt")
    try:
        with open(note, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        from fluentai.runtime.build import find_unit_linker

        lines = find_unit_linker(note)
    return lines if len(lines) == 2 else None
