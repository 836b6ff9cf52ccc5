"""Mutated corpus programs (the generator of test_fuzz.py) on the native tier, against the VM.

Each program runs under `fluentai run --tier vm` and `--tier native` (at -O0, to keep the test
fast); the two must agree on the exit status, standard output and report line, and the native run
must not crash or show a Python traceback. A program the VM cannot finish within the timeout is
skipped. `FLUENTAI_NATIVE_FUZZ=N` runs N programs instead of the default."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import corpus
import test_fuzz

SEED = 20261128
N_PROGRAMS = int(os.environ.get("FLUENTAI_NATIVE_FUZZ", "24"))
TIMEOUT = 30


def _run(src: str, tier: str) -> tuple[int | None, str, str | None, str]:
    with tempfile.TemporaryDirectory(prefix="fluentai-nfuzz-") as workdir:
        path = Path(workdir) / "prog.fl"
        path.write_bytes(src.encode("utf-8", "surrogatepass"))
        env = dict(os.environ, PYTHONPATH=str(corpus.REPO_ROOT), FLUENTAI_NATIVE_OPT="0")
        env.pop("FLUENTAI_SEED", None)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "fluentai", "run", "--tier", tier, "prog.fl"],
                cwd=workdir,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                env=env,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return None, "", None, ""
        stderr = done.stderr.decode("utf-8", "replace")
        stdout = done.stdout.decode("utf-8", "replace")
        return done.returncode, stdout, corpus.report_line(stderr), stderr


def test_mutated_programs_behave_alike_on_vm_and_native() -> None:
    rng = random.Random(SEED)
    sources = test_fuzz._corpus()
    programs = [test_fuzz._mutate(rng.choice(sources), rng) for _ in range(N_PROGRAMS)]
    problems = []
    for n, src in enumerate(programs):
        vm = _run(src, "vm")
        if vm[0] is None:
            continue  # too slow on the VM to compare
        native = _run(src, "native")
        if "Traceback" in native[3] or (native[0] is not None and native[0] < 0):
            problems.append(f"program {n}: native crashed:\n{native[3][-1500:]}\n{src[:1500]}")
        elif vm[:3] != native[:3]:
            problems.append(
                f"program {n}: vm {vm[:3]!r}\n  native {native[:3]!r}\n--- program ---\n"
                f"{src[:1500]}"
            )
    assert not problems, "\n\n".join(problems)
