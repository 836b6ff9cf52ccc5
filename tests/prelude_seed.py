"""The prelude's compiled units for tests that give each run a fresh code cache.

A test that compiles (`--tier native`, a JIT unit, an image) in a cache directory of its own
compiled the prelude's units there first: about 2 s, most of such a test's time. `seed(cache)`
gives a cache directory that does not exist yet a copy of them instead, compiled once per test
process by `fluentai cache prelude` (the same files a first compile stores). A test that needs a
cache without them clears it, or names a directory that already exists."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import REPO_ROOT


@functools.cache
def _units() -> Path | None:
    """The directory holding the units; None when they could not be made (no C compiler, say):
    each test then compiles its own, as before."""
    directory = Path(tempfile.mkdtemp(prefix="fl-prelude-"))
    atexit.register(shutil.rmtree, directory, True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    env.update({"PYTHONPATH": str(REPO_ROOT), "FLUENTAI_CACHE_DIR": str(directory)})
    made = subprocess.run(
        [sys.executable, "-m", "fluentai", "cache", "prelude"],
        env=env,
        capture_output=True,
        timeout=600,
    )
    return directory if made.returncode == 0 else None


def seed(cache: Path) -> None:
    """Copy the prelude's units into `cache` if it does not exist yet."""
    if cache.exists():
        return
    units = _units()
    if units is None:
        return
    cache.mkdir(parents=True)
    for path in units.iterdir():
        if path.is_file():
            shutil.copy2(path, cache / path.name)
