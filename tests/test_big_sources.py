"""Big generated sources compile in time linear in their size, and nesting too deep for the
implementation is a `nesting too deep` syntax-error, never an internal error (LANGUAGE.md §12).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import _environment, report_line

_N = 10_000


def _run(tmp_path: Path, source: str, timeout: float) -> subprocess.CompletedProcess[str]:
    (tmp_path / "prog.fl").write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "--tier", "vm", "prog.fl"],
        cwd=tmp_path,
        env=_environment(),
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
def test_and_or_of_more_operands_than_the_nesting_limit_is_nesting_too_deep(
    tmp_path: Path, form: str
) -> None:
    # each operand nests one level deeper: 100 000 ended in `internal error: RecursionError`
    source = f"(print ({form} " + " ".join("#f" for _ in range(10_001)) + "))\n"
    result = _run(tmp_path, source, timeout=30)
    assert (result.returncode, result.stdout) == (65, "")
    column = len(f"(print ({form} ") + 10_000 * len("#f ") + 1
    assert report_line(result.stderr) == (
        f"prog.fl:1:{column}: error[syntax-error]: nesting too deep"
    )
