"""Which system runs which benchmark at which size: the rows of the report.

    plan_rows(suite, systems, slow={"vm"}, quick=False)
      -> fib 36 (quick=False): auto cpython c ...      every system fast enough for the default size
         fib 27 (quick=True):  vm cpython c            the slow tiers, with the two references

A slow tier (the bytecode VM) would take minutes per run at the default sizes, so it runs at the
`--quick` sizes in a row of its own, beside CPython and C at the same sizes so that its ratios
compare like with like. Naming it alone, as in `--tiers vm`, runs it at the default sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from fluentai.bench.suite import Benchmark, Suite
from fluentai.bench.systems import REFERENCE, System

# the systems every row's ratios are taken against
RATIO_BASES: Final = (REFERENCE, "c", "clang")


@final
@dataclass(frozen=True, slots=True)
class Row:
    """One benchmark at one size, and the systems that run it there (reference included)."""

    benchmark: Benchmark
    args: tuple[str, ...]
    quick: bool
    systems: tuple[System, ...]


def slow_tiers(
    present: Sequence[str], requested: Sequence[str] | None, auto_compiles: bool
) -> frozenset[str]:
    """The tiers that run at the --quick sizes.

    vm; and auto too when it compiles nothing (before the tiered JIT lands it is the VM with its
    profiling hooks on). A slow tier runs at the default sizes only when it is the one tier that
    `--tiers` names, as in `--tiers vm`.
    """
    slow = {"vm"} if auto_compiles else {"vm", "auto"}
    if requested is not None and len(requested) == 1:
        slow.discard(requested[0])
    return frozenset(slow & set(present))


def plan_rows(
    suite: Suite, systems: Sequence[System], slow: frozenset[str], quick: bool
) -> tuple[list[Row], list[str]]:
    """The rows to measure, and a note for each system skipped for want of a program."""
    rows: list[Row] = []
    notes: list[str] = []
    for benchmark in suite.benchmarks:
        runnable = []
        for system in systems:
            if suite.program(benchmark.name, system.ext).is_file():
                runnable.append(system)
            else:
                notes.append(f"{system.id}: no programs/{benchmark.name}.{system.ext}")
        rows += _rows_for(benchmark, runnable, slow, quick)
    return rows, notes


def _rows_for(
    benchmark: Benchmark, systems: list[System], slow: frozenset[str], quick: bool
) -> list[Row]:
    if quick or benchmark.quick == benchmark.size:
        args = benchmark.quick if quick else benchmark.size
        return [Row(benchmark, args, quick, tuple(systems))]
    full = tuple(s for s in systems if s.id not in slow)
    small = tuple(s for s in systems if s.id in slow or s.id in RATIO_BASES)
    rows = [Row(benchmark, benchmark.size, False, full)]
    if any(s.id in slow for s in small):
        rows.append(Row(benchmark, benchmark.quick, True, small))
    return rows
