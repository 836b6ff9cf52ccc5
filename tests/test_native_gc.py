"""GC pressure on the native tiers: 10^8 allocations with a small live set (issue #5).

The same program runs in the corpus with 10^6 (`tests/programs/gc/churn.fl`, every tier); here
native code and an executable allocate a hundred times more, which only a working collector (Boehm,
with the program thread registered) survives in bounded memory. No timing is asserted."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import corpus

PROGRAM = corpus.PROGRAMS_DIR / "gc" / "churn.fl"
N = 100_000_000
EXPECTED = f"[{N * (N - 1) // 2} 0]\n"


def _limit_memory() -> None:
    # a leaking collector would run past this and fail instead of swapping
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def test_native_tier_allocates_10_to_the_8_cells() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "--tier", "native", str(PROGRAM), str(N)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
    )
    assert (done.returncode, done.stdout) == (0, EXPECTED), done.stderr


def test_executable_allocates_10_to_the_8_cells(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "fluentai", "build", str(PROGRAM), "-o", str(tmp_path / "churn")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    done = subprocess.run(
        [str(tmp_path / "churn"), str(N)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
    )
    assert (done.returncode, done.stdout) == (0, EXPECTED), done.stderr
