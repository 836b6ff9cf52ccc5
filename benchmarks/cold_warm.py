"""Cold and warm `fluentai run` (the default tier) against CPython, whole processes.

    .venv/bin/python benchmarks/cold_warm.py [--quick] [--runs N] [NAME ...]

`fluentai bench` times warm runs only (its checked warm-up run fills the code cache). This script
also times the first run of a program: before each cold run it empties a private code cache
(`FLUENTAI_CACHE_DIR`) of everything but the compiled prelude units (the JIT's and the native
tier's), which a first run of any program after installation finds already built (they depend on
the compiler, not the program).
Each warm run follows it with the same cache, so it starts from the program image the cold run
left (docs/jit.md). The runs are interleaved in rounds (CPython, cold, warm), as `fluentai
bench` times its systems, and every figure is the median of N, as there: on a machine whose CPUs
differ in speed (a shared host's), a best-of-N for one side and a median for the other would
compare a fast CPU with a typical one. It prints a Markdown table: CPython's time, the cold time
(first runs, the program's entries emptied before each), the warm time and the ratios, higher
being faster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "benchmarks" / "programs"


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t0, proc


def _empty_program_entries(cache: Path) -> None:
    """Remove the program entries; keep the prelude's and the cache's own files (digest memos,
    the last trim's stamp: a first run after another one trims no more than it would)."""
    for path in cache.iterdir():
        if (
            path.is_file()
            and not path.name.startswith("prelude")
            and path.suffix not in (".digest", ".stamp")
        ):
            path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all but empty)")
    parser.add_argument("--quick", action="store_true", help="the suite's small sizes")
    parser.add_argument("--runs", type=int, default=3, help="warm runs and CPython runs")
    args = parser.parse_args()
    suite = tomllib.loads((ROOT / "benchmarks" / "suite.toml").read_text(encoding="utf-8"))
    fluentai = [str(ROOT / ".venv" / "bin" / "fluentai"), "run"]
    with tempfile.TemporaryDirectory(prefix="fl-coldwarm-") as tmp:
        cache = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
        env["FLUENTAI_CACHE_DIR"] = str(cache)
        # build the prelude units once (the JIT's, and the native tier's that images use), as
        # any earlier run after installation has
        warm_up = {**env, "FLUENTAI_JIT_THRESHOLD": "0", "FLUENTAI_JIT_SYNC": "1"}
        fib = str(PROGRAMS / "fib.fl")
        subprocess.run([*fluentai, fib, "20"], env=warm_up, check=True, capture_output=True)
        subprocess.run(
            [*fluentai, "--tier", "native", fib, "20"], env=env, check=True, capture_output=True
        )
        print("| benchmark | args | CPython s | cold s | cold x | warm s | warm x |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name, row in suite.items():
            if (args.names and name not in args.names) or (not args.names and name == "empty"):
                continue
            sizes = row["quick" if args.quick else "size"]
            prog = str(PROGRAMS / name)
            pythons: list[float] = []
            colds: list[float] = []
            warms: list[float] = []
            failed = ""
            # interleaved rounds, as `fluentai bench` times: CPython, a first run (the program's
            # entries emptied before it), then a warm run from the image it left
            for _ in range(args.runs):
                pythons.append(_time([sys.executable, prog + ".py", *sizes], env)[0])
                _empty_program_entries(cache)
                seconds, proc = _time([*fluentai, prog + ".fl", *sizes], env)
                if proc.returncode != 0:
                    failed = proc.stderr.strip()[:80]
                    break
                colds.append(seconds)
                warms.append(_time([*fluentai, prog + ".fl", *sizes], env)[0])
            if failed:
                print(f"| {name} | failed: {failed} |||||")
                continue
            python = statistics.median(pythons)
            cold = statistics.median(colds)
            warm = statistics.median(warms)
            print(
                f"| {name} | {' '.join(sizes)} | {python:.3f} | {cold:.3f} | {python / cold:.2f} "
                f"| {warm:.3f} | {python / warm:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
