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

from tests.test_cli import _environment

OUT_OF_MEMORY = "fluentai: error: out of memory\n"


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
