"""Build the C runtime: `libfluentrt.so` (loaded by the JIT) and `libfluentrt.a` (linked into
executables) from one source list (DESIGN.md §8.8), and the image runner extension
(`ext/imagerun.c`: warm runs start images with it instead of ctypes, fluentai/image.py) when
CPython's headers are installed.

    python -m fluentai.runtime.build          # build if stale, print the paths
    paths = ensure_built()                    # the same from Python (a file lock guards it)

Outputs go to `fluentai/runtime/_build/` next to the sources, tagged with a hash of the sources
and flags, so an edit rebuilds and concurrent processes (test workers) build once. Needs a C
compiler, libgc-dev and libgmp-dev; a missing one is reported with the command that installs it.
Without CPython's headers (python3-dev) the extension is not built, and `runner-skipped.txt` in
the build directory says why.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

from fluentai.records import record
from fluentai.runtime import layout
from fluentai.runtime.layout import CFLAGS, LIBS, UNIT_LINK_FLAGS

RUNTIME_DIR: Final = Path(__file__).resolve().parent
BUILD_DIR: Final = RUNTIME_DIR / "_build"
# Why the image runner extension was not built, in the build directory (when it was not).
RUNNER_SKIPPED: Final = "runner-skipped.txt"
# Files only executables contain (the C `main`).
EXECUTABLE_ONLY: Final = frozenset({"main.c"})


class BuildError(Exception):
    """The runtime could not be built; the message says why and what to install."""


@record
class RuntimePaths:
    shared: Path
    static: Path
    include: Path


def sources() -> list[Path]:
    return sorted(RUNTIME_DIR.glob("*.c"))


def compiler() -> str:
    import shutil

    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise BuildError("no C compiler found (install one: sudo apt-get install -y gcc)")
    return cc


def _run(cmd: list[str]) -> None:
    import subprocess

    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        hint = ""
        if "gc.h" in proc.stderr or "-lgc" in proc.stderr:
            hint = "\n(install Boehm GC: sudo apt-get install -y libgc-dev)"
        elif "gmp.h" in proc.stderr or "-lgmp" in proc.stderr:
            hint = "\n(install GMP: sudo apt-get install -y libgmp-dev)"
        raise BuildError(f"building the runtime failed: {' '.join(cmd)}\n{proc.stderr}{hint}")


def _build_into(out: Path) -> None:
    import tempfile

    cc = compiler()
    objects: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="flrt-") as tmp:
        for src in sources():
            obj = Path(tmp) / (src.stem + ".o")
            _run([cc, *CFLAGS, "-I", str(RUNTIME_DIR), "-c", str(src), "-o", str(obj)])
            objects.append(obj)
        shared_objs = [str(o) for o in objects if o.stem + ".c" not in EXECUTABLE_ONLY]
        so_tmp = Path(tmp) / "libfluentrt.so"
        _run([cc, "-shared", "-o", str(so_tmp), *shared_objs, *LIBS])
        a_tmp = Path(tmp) / "libfluentrt.a"
        _run(["ar", "rcs", str(a_tmp), *(str(o) for o in objects)])
        runner_name = os.path.basename(layout.image_runner())
        runner_tmp = Path(tmp) / runner_name
        skipped = _build_image_runner(cc, runner_tmp)
        out.mkdir(parents=True, exist_ok=True)
        if skipped is None:
            os.replace(runner_tmp, out / runner_name)
        else:
            (out / RUNNER_SKIPPED).write_text(skipped + "\n", encoding="utf-8")
        os.replace(so_tmp, out / "libfluentrt.so")
        os.replace(a_tmp, out / "libfluentrt.a")


def _build_image_runner(cc: str, target: Path) -> str | None:
    """Compile the image runner extension into `target`; None, or why it was not built."""
    import sysconfig

    include = sysconfig.get_paths().get("include") or ""
    if not os.path.isfile(os.path.join(include, "Python.h")):
        return (
            f"the image runner extension was not built: no Python.h in {include or '?'} "
            "(install CPython's headers: sudo apt-get install -y python3-dev); warm runs "
            "start program images through ctypes instead"
        )
    source = RUNTIME_DIR / "ext" / "imagerun.c"
    try:
        _run([cc, *CFLAGS, "-I", include, "-shared", str(source), "-o", str(target)])
    except BuildError as err:
        return f"the image runner extension was not built: {err}"
    return None


def find_unit_linker(note: str) -> list[str]:
    """What `layout.unit_linker` finds when its note is missing, written to the note."""
    import shutil
    import subprocess
    import tempfile

    found: list[str] = []
    try:
        cc = compiler()
        ld_name = subprocess.run(
            [cc, "-print-prog-name=ld"], capture_output=True, text=True, check=True
        ).stdout.strip()
        libgcc = subprocess.run(
            [cc, "-print-libgcc-file-name"], capture_output=True, text=True, check=True
        ).stdout.strip()
        ld = shutil.which(ld_name) or ""
        if ld and os.path.isfile(libgcc):
            with tempfile.TemporaryDirectory(prefix="flld-") as tmp:
                src = Path(tmp) / "t.c"
                src.write_text("long fl_link_probe(long a, long b) { return a * b; }\n")
                obj = Path(tmp) / "t.o"
                subprocess.run([cc, "-fPIC", "-c", str(src), "-o", str(obj)], check=True)
                cmd = [ld, *UNIT_LINK_FLAGS, "-o", str(Path(tmp) / "t.so"), str(obj), libgcc]
                subprocess.run(cmd, capture_output=True, check=True)
            found = [ld, libgcc]
    except (BuildError, OSError, subprocess.CalledProcessError):
        found = []
    if os.path.isdir(os.path.dirname(note)):
        tmp_note = f"{note}.{os.getpid()}"
        try:
            Path(tmp_note).write_text("".join(f"{line}\n" for line in found), encoding="utf-8")
            os.replace(tmp_note, note)
        except OSError:
            pass
    return found


def ensure_built() -> RuntimePaths:
    """Build the runtime unless an up-to-date build exists; return the library paths."""
    out = Path(layout.build_dir())  # named by a hash of the sources and flags
    paths = RuntimePaths(out / "libfluentrt.so", out / "libfluentrt.a", RUNTIME_DIR)
    if paths.shared.exists() and paths.static.exists():
        return paths
    import fcntl  # the build path only: start-up imports neither
    import shutil

    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with open(BUILD_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (paths.shared.exists() and paths.static.exists()):
            _build_into(out)
            for old in BUILD_DIR.iterdir():
                if old.is_dir() and old != out:
                    shutil.rmtree(old, ignore_errors=True)
    return paths


def main() -> int:
    try:
        paths = ensure_built()
    except BuildError as err:
        sys.stderr.write(f"fluentai: error: {err}\n")
        return 1
    sys.stdout.write(f"{paths.shared}\n{paths.static}\n")
    runner = Path(layout.image_runner())
    skipped = runner.parent / RUNNER_SKIPPED
    if runner.exists():
        sys.stdout.write(f"{runner}\n")
    elif skipped.exists():
        sys.stdout.write(f"note: {skipped.read_text(encoding='utf-8')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
