"""Time the bytecode VM against CPython on fib(30) and a 10^6-iteration loop, side by side.

    .venv/bin/python tools/vm_vs_cpython.py [--runs N]

In-process: the VM's run time of the compiled program (no start-up, no compilation) against the
same function in this CPython. Whole-process: `fluentai run --tier vm FILE` against
`python3 FILE.py`, runs interleaved, medians reported. Ratios > 1 mean the VM is slower.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAMS = {
    "fib(30)": (
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(print (fib 30))\n",
        "import sys\nsys.setrecursionlimit(10000)\n"
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(30))\n",
    ),
    "loop 10^6": (
        "(define (loop i acc) (if (= i 1000000) acc (loop (+ i 1) (+ acc (mod (* i i) 7)))))\n"
        "(print (loop 0 0))\n",
        "def loop():\n    acc = 0\n    for i in range(1000000):\n        acc += i * i % 7\n"
        "    return acc\nprint(loop())\n",
    ),
}


def in_process(fl_src: str, py_src: str) -> tuple[float, float]:
    from fluentai.driver import RunOptions, Session
    from fluentai.source import SourceFile
    from fluentai.vm.world import World

    world = World([], io.StringIO(), io.StringIO(), io.StringIO(), 0)
    session = Session(world)
    code = session.compile(SourceFile("<bench>", fl_src), RunOptions(tier="vm"))
    start = time.perf_counter()
    session.run(code)
    vm = time.perf_counter() - start
    namespace: dict[str, object] = {"print": lambda *a: None}
    start = time.perf_counter()
    exec(compile(py_src, "<bench>", "exec"), namespace)  # noqa: S102 - our own benchmark text
    return vm, time.perf_counter() - start


def whole_process(fl_path: Path, py_path: Path) -> tuple[float, float]:
    def timed(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    vm = timed([sys.executable, "-m", "fluentai", "run", "--tier", "vm", str(fl_path)])
    py = timed([sys.executable, str(py_path)])
    return vm, py


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.setrecursionlimit(100_000)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (fl_src, py_src) in PROGRAMS.items():
            fl_path = Path(tmp, "p.fl")
            py_path = Path(tmp, "p.py")
            fl_path.write_text(fl_src)
            py_path.write_text(py_src)
            inner = [in_process(fl_src, py_src) for _ in range(args.runs)]
            outer = [whole_process(fl_path, py_path) for _ in range(args.runs)]
            vm_in = statistics.median(v for v, _ in inner)
            py_in = statistics.median(p for _, p in inner)
            vm_out = statistics.median(v for v, _ in outer)
            py_out = statistics.median(p for _, p in outer)
            print(
                f"{name:<10} in-process: vm {vm_in:6.3f}s cpython {py_in:6.3f}s "
                f"ratio {vm_in / py_in:5.1f}x | whole process: vm {vm_out:6.3f}s "
                f"cpython {py_out:6.3f}s ratio {vm_out / py_out:5.1f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
