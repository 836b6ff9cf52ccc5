"""Exhausted memory (LANGUAGE.md §13.4, docs/decisions.md "Exhausted memory runs no `finally`"):
every tier ends the program at once, with what it printed so far, the one line
`fluentai: error: out of memory` and status 70, running no `finally` clause.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import _environment, fluentai, run_source

OUT_OF_MEMORY = "fluentai: error: out of memory\n"

# An Int of 10^12 trits: every tier knows at once that no memory holds it.
_FORESEEN = '(print "start")\n(try (pow 3 (pow 10 12)) (finally (print "fin")))\n(print "no")\n'


@pytest.mark.parametrize(
    ("tier", "env"),
    [
        ("vm", {}),
        ("native", {}),
        ("auto", {"FLUENTAI_JIT_THRESHOLD": "0", "FLUENTAI_JIT_SYNC": "1"}),
    ],
    ids=["vm", "native", "auto-jit0"],
)
def test_out_of_memory_runs_no_finally_on_every_tier(
    tmp_path: Path, tier: str, env: dict[str, str]
) -> None:
    # the native tiers ran the `finally` for memory they foresaw exhausted, the VM did not;
    # in a function, so that `auto` runs it compiled
    source = (
        '(define (f k) (try (pow 3 (* k (pow 10 12))) (catch e 0) (finally (print "fin"))))\n'
        '(print "start")\n(f 1)\n(print "no")\n'
    )
    result = run_source(tmp_path, source, "--tier", tier, env=env)
    assert (result.status, result.stdout, result.stderr) == (70, "start\n", OUT_OF_MEMORY)


def test_out_of_memory_runs_no_finally_in_an_executable(tmp_path: Path) -> None:
    (tmp_path / "prog.fl").write_text(_FORESEEN, encoding="utf-8")
    built = fluentai("build", "prog.fl", "-o", "prog", cwd=tmp_path)
    assert built.status == 0, built.stderr
    ran = subprocess.run(
        [str(tmp_path / "prog")], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (70, "start\n", OUT_OF_MEMORY)


def test_vm_out_of_memory_ends_promptly(tmp_path: Path) -> None:
    # with every byte held by live data, CPython's unwinding after the MemoryError failed to
    # allocate and retried forever: the VM spun until killed, ignoring Ctrl-C. The limit is a
    # little above what the VM needs to start.
    limit = 360_000 * 1024
    (tmp_path / "prog.fl").write_text(
        '(define (grow xs) (grow (cons 1 xs)))\n(try (grow []) (finally (print "fin")))\n',
        encoding="utf-8",
    )

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        ran = subprocess.run(
            [sys.executable, "-m", "fluentai", "run", "--tier", "vm", "prog.fl"],
            cwd=tmp_path,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=20,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the VM did not end within 20 s of running out of memory")
    assert (ran.returncode, ran.stdout, ran.stderr) == (70, "", OUT_OF_MEMORY)
