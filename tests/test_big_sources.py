"""Big generated sources compile in time linear in their size, and nesting too deep for the
implementation is a `nesting too deep` syntax-error, never an internal error (LANGUAGE.md §12).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import _environment

_N = 10_000


def _run(
    tmp_path: Path, source: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "prog.fl").write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "--tier", "vm", "prog.fl"],
        cwd=tmp_path,
        env={**_environment(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_many_local_definitions_and_operands_compile_in_linear_time(tmp_path: Path) -> None:
    # 10 000 local functions and an `and` of 10 000 operands took 51 s to compile: each local
    # definition's scope copied every name of the group (expand), each name lookup walked the
    # whole scope chain (resolve_names), and each `hasattr` in the passes' nested traversals
    # walked every active generator (fold_constants); about 3 s now
    definitions = "\n".join(f"  (define (g{i} x) (+ x {i}))" for i in range(_N))
    operands = " ".join("x" for _ in range(_N))
    source = (
        f"(define (main)\n{definitions}\n  (g{_N - 1} 1))\n"
        f"(define x 1)\n(print (main) (and {operands}))\n"
    )
    try:
        result = _run(tmp_path, source, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("compiling 10 000 local definitions and `and` operands took over 20 s")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{_N} 1\n", "")


@pytest.mark.parametrize("form", ["and", "or"])
def test_and_or_of_any_number_of_operands_compile(tmp_path: Path, form: str) -> None:
    # each operand nested one level deeper: past 10 000 the passes' recursion ended in
    # `internal error: RecursionError`; the halves of a long `and` now nest instead
    go, stop = ("#t", "#f") if form == "and" else ("#f", "#t")
    many = " ".join(go for _ in range(20_000))
    source = (
        f"(print ({form} {many} 5) ({form} {many} {stop} (print 'never)))\n"
        # the last operand stays in tail position: 300 turns of a loop through it, with a
        # depth limit of 100
        f"(define (spin n) (if (= n 0) 'done ({form} {' '.join(go for _ in range(1500))} "
        "(spin (- n 1)))))\n"
        "(print (spin 300))\n"
    )
    result = _run(tmp_path, source, timeout=60, env={"FLUENTAI_MAX_DEPTH": "100"})
    assert (result.returncode, result.stdout, result.stderr) == (0, f"5 {stop}\ndone\n", "")
