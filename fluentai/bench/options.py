"""The `fluentai bench` command line: argument definitions and the options they produce.

    fluentai bench --only fib,tak --tiers vm,auto --peers c --runs 3 --quick --output-dir /tmp/b

Kept apart from the harness so that cli.py can declare the subcommand without importing it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import final

from fluentai.records import record

DEFAULT_RUNS = 3
DEFAULT_TIMEOUT_S = 900.0


@final
@record
class BenchOptions:
    """What one `fluentai bench` run measures and where it writes the report.

    `tiers` and `peers` are None when not given (every tier that exists / every peer installed).
    """

    only: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    peers: tuple[str, ...] | None = None
    runs: int = DEFAULT_RUNS
    quick: bool = False
    output_dir: Path | None = None
    benchmarks_dir: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    hyperfine: bool = True
    plot: bool = True
    report_from: Path | None = None  # write the report from this JSON instead of measuring
    cpu: int | None = None  # run every process on this CPU


def _name_list(text: str) -> tuple[str, ...]:
    """`fib, tak` -> ("fib", "tak"); `none` or an empty string -> ()."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    return () if names == ("none",) else names


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _cpu_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a CPU number (0, 1, ...), got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `fluentai bench` on its subparser."""
    parser.add_argument(
        "--only", type=_name_list, metavar="NAME[,NAME...]", help="run only these benchmarks"
    )
    parser.add_argument(
        "--tiers",
        type=_name_list,
        metavar="TIER[,TIER...]",
        help="FluentAI tiers to run: vm, auto, native, aot (default: every tier that exists). "
        "The VM, and auto while it compiles nothing, run at the --quick sizes unless named "
        "alone (`--tiers vm`)",
    )
    parser.add_argument(
        "--peers",
        type=_name_list,
        metavar="PEER[,PEER...]",
        help="other systems to run besides CPython: pypy, c (gcc), clang, chez, luajit, or none "
        "(default: every one installed)",
    )
    parser.add_argument(
        "--runs",
        type=_positive_int,
        default=DEFAULT_RUNS,
        help=f"timed runs after the warm-up (default {DEFAULT_RUNS})",
    )
    parser.add_argument("--quick", action="store_true", help="the small sizes (~0.1 s on CPython)")
    parser.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="where to write the report (default: docs/)"
    )
    parser.add_argument(
        "--benchmarks",
        type=Path,
        metavar="DIR",
        dest="benchmarks_dir",
        help="the suite to run (default: benchmarks/ of this checkout)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="stop a run that takes longer than this (it counts as a failure)",
    )
    parser.add_argument(
        "--no-hyperfine", action="store_true", help="time with the harness's own loop"
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    parser.add_argument(
        "--cpu",
        type=_cpu_number,
        metavar="N",
        help="run every build and timed process on CPU N only: on a host whose CPUs differ in "
        "speed, ratios otherwise depend on which CPU each process landed on (the auto tier "
        "then has no spare core for its image compiler process)",
    )
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="JSON",
        help="measure nothing: write the report again from the raw figures of an earlier run "
        "(into --output-dir, by default the JSON file's directory)",
    )


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    """The BenchOptions of a parsed `fluentai bench` command line."""
    return BenchOptions(
        only=args.only,
        tiers=args.tiers,
        peers=args.peers,
        runs=args.runs,
        quick=args.quick,
        output_dir=args.output_dir,
        benchmarks_dir=args.benchmarks_dir,
        timeout_s=args.timeout,
        hyperfine=not args.no_hyperfine,
        plot=not args.no_plot,
        report_from=args.report_from,
        cpu=args.cpu,
    )
