"""The benchmark run as a whole: find the systems, build, check every output, time, report.

    fluentai bench --quick --only fib
    1. detect  which FluentAI tiers exist (probe) and which peers are installed (systems.py)
    2. plan    the rows: each benchmark at its size(s) with the systems that run it (plan.py)
    3. build   the C and AOT executables, once per benchmark, timed
    4. check   run every system once on every row; its output must equal CPython's (the
               reference). This run is also the warm-up, and the tiers that compile run it with
               --jit-stats
    5. time    N rounds per row; each round runs every system once, in an order rotated from
               round to round, so that drift of the machine falls on all systems alike
    6. report  <output-dir>/benchmarks.md, .json and .png (report.py, plot.py)

A failed build, a failed run or a wrong output stops the run before anything is timed, and every
failure is listed; nothing is written then. A system that fails later, in a timed run, is dropped
from that row and the failure is listed in the report (and the exit status is 1).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO, final

import fluentai
from fluentai.bench.jitstats import parse_jit_stats
from fluentai.bench.measure import Run, hyperfine_round, run_process
from fluentai.bench.options import BenchOptions, options_from_args
from fluentai.bench.peakmem import build_helper, read_peak_kib
from fluentai.bench.plan import Row, plan_rows, slow_tiers
from fluentai.bench.report import read_results, write_outputs
from fluentai.bench.results import Build, Measurement, Results, RowResult, SystemInfo
from fluentai.bench.suite import Suite, checkout_benchmarks_dir, load_suite
from fluentai.bench.systems import (
    JIT_TIERS,
    PEER_IDS,
    REFERENCE,
    TIER_IDS,
    Absent,
    System,
    cpython_system,
    find_peers,
    fluentai_command,
    probe_compiles,
    probe_tier,
    tier_candidates,
)
from fluentai.driver import UsageError

_SLOW_NOTES: Final = {
    "vm": "--quick sizes: at the default sizes the bytecode VM takes minutes per run "
    "(`--tiers vm` runs it there)",
    "auto": "--quick sizes: it compiled nothing when told to compile at once, so it runs on "
    "the bytecode VM (`--tiers auto` runs it at the default sizes)",
}


class BenchFailure(Exception):
    """Builds, runs or outputs that went wrong; the run stops before timing."""

    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__(f"{len(failures)} failure(s)")
        self.failures = list(failures)


@final
@dataclass(frozen=True, slots=True)
class Workspace:
    """Where executables go, how long a run may take, where progress lines go, and the helper
    that measures peak memory (None without a C compiler; peakmem.py)."""

    workdir: Path
    timeout_s: float
    progress: TextIO
    rss_helper: Path | None = None

    def say(self, text: str) -> None:
        """One progress line on stderr."""
        self.progress.write(f"bench: {text}\n")
        self.progress.flush()


EXIT_FAILED = 70


def run_bench(args: argparse.Namespace, progress: TextIO) -> int:
    """`fluentai bench`: 0 once the report is written, 70 (LANGUAGE.md §16's status for what
    failed at run time) if a build, run or output failed."""
    try:
        results, written = run_suite(options_from_args(args), progress)
    except BenchFailure as failure:
        _list_failures(failure.failures, progress)
        progress.write(f"fluentai bench: {len(failure.failures)} failure(s); nothing written\n")
        return EXIT_FAILED
    progress.write(f"fluentai bench: wrote {', '.join(str(p) for p in written)}\n")
    _list_failures(results.failures, progress)
    return EXIT_FAILED if results.failures else 0


def _list_failures(failures: Sequence[str], progress: TextIO) -> None:
    for line in failures:
        progress.write(f"fluentai bench: FAILED: {line}\n")


def run_suite(options: BenchOptions, progress: TextIO) -> tuple[Results, list[Path]]:
    """Measure the suite as `options` say and write the report: the results, the paths written.

    With `report_from`, nothing is measured: the report is written again from that JSON file.
    """
    if options.report_from is not None:
        results = read_results(options.report_from)
        output_dir = options.output_dir or options.report_from.parent
        return results, write_outputs(results, output_dir, plot=options.plot)
    suite_dir = options.benchmarks_dir or checkout_benchmarks_dir(Path(fluentai.__file__).parent)
    suite = load_suite(suite_dir).select(options.only)
    output_dir = options.output_dir or suite_dir.resolve().parent / "docs"
    _pin(options.cpu)
    with tempfile.TemporaryDirectory(prefix="fluentai-bench-") as tmp:
        workdir = Path(tmp)
        space = Workspace(workdir, options.timeout_s, progress, build_helper(workdir))
        results = measure_suite(suite, options, space)
    return results, write_outputs(results, output_dir, plot=options.plot)


def _pin(cpu: int | None) -> None:
    """With `--cpu N`: this process, and so every process it starts, runs on CPU N only."""
    if cpu is None:
        return
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if cpu not in allowed:
        known = ", ".join(str(c) for c in sorted(allowed)) or "none"
        raise UsageError(f"--cpu {cpu}: not a CPU this process may run on ({known})")
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as err:
        raise UsageError(f"--cpu {cpu}: cannot run on it: {err.strerror or err}") from err


def measure_suite(suite: Suite, options: BenchOptions, space: Workspace) -> Results:
    """Steps 1 to 5: the Results of the whole suite, or BenchFailure."""
    load_at_start = _load_average()
    systems, absent, native_present = detect_systems(options, space)
    auto = next((s for s in systems if s.id == "auto"), None)
    auto_compiles = auto is not None and probe_compiles(auto, space.workdir)
    slow = slow_tiers([s.id for s in systems], options.tiers, auto_compiles)
    if options.quick:
        slow = frozenset()
    rows, notes = plan_rows(suite, systems, slow, options.quick)
    executables, builds, failures = build_executables(suite, rows, space)
    checks = {}
    for index, row in enumerate(rows):
        runs, row_failures = check_row(suite, row, executables, space)
        checks[index] = runs
        failures += row_failures
    if failures:
        raise BenchFailure(failures)
    hyperfine = shutil.which("hyperfine") if options.hyperfine else None
    row_results: list[RowResult] = []
    for index, row in enumerate(rows):
        result, row_failures = time_row(
            suite, row, executables, checks[index], options.runs, hyperfine, space
        )
        row_results.append(result)
        failures += row_failures
    return Results(
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=(
            *machine_description(),
            ("load", f"{load_at_start} at start, {_load_average()} at end"),
            *((("every process on CPU", str(options.cpu)),) if options.cpu is not None else ()),
        ),
        timing=_timing_method(hyperfine),
        memory=_memory_method(space),
        runs=options.runs,
        quick=options.quick,
        systems=tuple(
            SystemInfo(s.id, s.label, _SLOW_NOTES.get(s.id, ""), True)
            if s.id in slow
            else SystemInfo(s.id, s.label)
            for s in systems
        ),
        absent=tuple(absent),
        notes=tuple(notes),
        rows=tuple(row_results),
        builds=tuple(builds),
        native_present=native_present,
        failures=tuple(failures),
    )


def _chosen(names: tuple[str, ...] | None, known: Sequence[str], what: str) -> list[str]:
    """The names of `known` that `names` selects (all of them for None); unknown is an error."""
    if names is None:
        return list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown {what} {', '.join(unknown)} ({what}s: {', '.join(known)})")
    return [k for k in known if k in names]


def detect_systems(
    options: BenchOptions, space: Workspace
) -> tuple[list[System], list[Absent], bool]:
    """The systems to measure, in report order; the absent ones; whether `--tier native` works."""
    tiers = _chosen(options.tiers, TIER_IDS, "tier")
    peers = _chosen(options.peers, (REFERENCE, *PEER_IDS), "peer")
    present: list[System] = []
    absent: list[Absent] = []
    for tier in tier_candidates(fluentai_command()):
        if tier.id not in tiers:
            continue
        reason = None if tier.id == "vm" else probe_tier(tier, space.workdir)  # vm always is
        if reason is None:
            present.append(tier)
        else:
            absent.append(Absent(tier.id, reason))
            space.say(f"tier {tier.id} absent: {reason}")
    found, missing = find_peers(peers)
    for peer in missing:
        space.say(f"peer {peer.id} absent: {peer.reason}")
    systems = [*present, cpython_system(), *found]
    space.say(f"systems: {' '.join(s.id for s in systems)}")
    native_present = any(s.id == "native" for s in present)
    return systems, absent + missing, native_present


def build_executables(
    suite: Suite, rows: Sequence[Row], space: Workspace
) -> tuple[dict[tuple[str, str], Path], list[Build], list[str]]:
    """Compile each benchmark once for each compiled system: executables, build times, failures."""
    executables: dict[tuple[str, str], Path] = {}
    builds: list[Build] = []
    failures: list[str] = []
    for row in rows:
        for system in row.systems:
            key = (row.benchmark.name, system.id)
            if not system.is_compiled or key in executables:
                continue
            source = suite.program(row.benchmark.name, system.ext)
            output = space.workdir / f"{row.benchmark.name}-{system.id}"
            built = run_process(system.build_argv(source, output), timeout_s=space.timeout_s)
            if not built.ok:
                failures.append(f"{system.id} cannot build {source.name}: {built.failure()}")
                continue
            executables[key] = output
            builds.append(Build(row.benchmark.name, system.id, built.seconds))
            space.say(f"built {row.benchmark.name} with {system.id} in {built.seconds:.2f} s")
    return executables, builds, failures


def _command(
    suite: Suite,
    row: Row,
    system: System,
    executables: dict[tuple[str, str], Path],
    *,
    stats: bool = False,
) -> list[str] | None:
    """The command that runs `system` on `row`, or None if its executable could not be built."""
    if system.is_compiled:
        executable = executables.get((row.benchmark.name, system.id))
        return None if executable is None else system.run_argv(executable, row.args)
    program = suite.program(row.benchmark.name, system.ext)
    return system.run_argv(program, row.args, stats=stats and system.id in JIT_TIERS)


def _label(row: Row) -> str:
    size = " ".join(row.args)
    return f"{row.benchmark.name} {size}{' (quick)' if row.quick else ''}"


def check_row(
    suite: Suite, row: Row, executables: dict[tuple[str, str], Path], space: Workspace
) -> tuple[dict[str, Run], list[str]]:
    """Run every system on `row` once and compare its output with CPython's: runs, failures."""
    label = _label(row)
    if not any(s.id == REFERENCE for s in row.systems):
        return {}, [f"{label}: no programs/{row.benchmark.name}.py, the reference output"]
    ordered = sorted(row.systems, key=lambda s: s.id != REFERENCE)  # the reference first
    runs: dict[str, Run] = {}
    failures: list[str] = []
    for system in ordered:
        command = _command(suite, row, system, executables, stats=True)
        if command is None:
            continue  # its build failure is already listed
        run = _check_run(command, space)
        problem = _problem(run, runs.get(REFERENCE))
        if problem:
            failures.append(f"{label} on {system.id}: {problem}")
            if system.id == REFERENCE:
                break
            continue
        runs[system.id] = run
        space.say(f"checked {label} on {system.id}: output ok, {run.seconds:.3f} s")
    return runs, failures


def _check_run(command: list[str], space: Workspace) -> Run:
    """Run `command` once, through the peak-memory helper when there is one."""
    if space.rss_helper is None:
        return run_process(command, timeout_s=space.timeout_s)
    report = space.workdir / "maxrss.txt"
    report.unlink(missing_ok=True)
    run = run_process([str(space.rss_helper), str(report), *command], timeout_s=space.timeout_s)
    peak = read_peak_kib(report)
    return run if peak is None else replace(run, max_rss_kib=peak)


def _problem(run: Run, reference: Run | None) -> str | None:
    """Why `run` fails the check against the reference run, or None if it passes."""
    if not run.ok:
        return run.failure()
    if reference is not None and run.stdout != reference.stdout:
        return describe_mismatch(reference.stdout, run.stdout)
    return None


def describe_mismatch(expected: str, got: str) -> str:
    """A one-line account of the first difference between two outputs."""
    want, have = expected.splitlines(), got.splitlines()
    for number, (a, b) in enumerate(zip(want, have, strict=False), start=1):
        if a != b:
            return f"output mismatch at line {number}: expected {a!r} (CPython), got {b!r}"
    if len(want) != len(have):
        return f"output mismatch: expected {len(want)} lines (CPython), got {len(have)}"
    return "output mismatch in line endings or trailing whitespace"


def time_row(
    suite: Suite,
    row: Row,
    executables: dict[tuple[str, str], Path],
    checks: dict[str, Run],
    runs: int,
    hyperfine: str | None,
    space: Workspace,
) -> tuple[RowResult, list[str]]:
    """Time every system on `row` over `runs` interleaved rounds (the check run was the warm-up).

    A system that fails a timed run is dropped from the row, and the failure is returned: the
    report is still written, so a long run is not lost to one flaky process.
    """
    commands = {s.id: _command(suite, row, s, executables) for s in row.systems}
    ids = [s.id for s in row.systems if commands[s.id] is not None]
    samples: dict[str, list[float]] = {i: [] for i in ids}
    peaks = {i: checks[i].max_rss_kib for i in ids}
    failures: list[str] = []
    for number in range(runs):
        if not ids:
            break  # every system failed
        order = ids[number % len(ids) :] + ids[: number % len(ids)]
        timed, failed = _time_round(order, commands, checks[REFERENCE].stdout, hyperfine, space)
        for system, problem in failed.items():
            failures.append(f"{_label(row)} on {system}, timed run {number + 1}: {problem}")
            ids.remove(system)
        for system, (seconds, peak) in timed.items():
            samples[system].append(seconds)
            if space.rss_helper is None:  # else these figures include the harness's own size
                peaks[system] = max(peaks[system], peak)
        summary = ", ".join(f"{s} {samples[s][-1]:.3f} s" for s in ids)
        space.say(f"timed {_label(row)}, round {number + 1}/{runs}: {summary}")
    result = RowResult(
        benchmark=row.benchmark.name,
        description=row.benchmark.description,
        args=row.args,
        quick=row.quick,
        measurements=tuple(_measurement(i, samples[i], peaks[i], checks[i]) for i in ids),
    )
    return result, failures


def _time_round(
    order: list[str],
    commands: dict[str, list[str] | None],
    expected: str,
    hyperfine: str | None,
    space: Workspace,
) -> tuple[dict[str, tuple[float, int]], dict[str, str]]:
    """One run of each system in `order`: seconds and peak KiB of each, and failures.

    With hyperfine, peak KiB is 0; if hyperfine fails, the round is run again with the
    harness's own loop, which finds the system at fault.
    """
    argvs = [commands[i] or [] for i in order]
    if hyperfine is not None:
        seconds = hyperfine_round(hyperfine, argvs, timeout_s=space.timeout_s)
        if not isinstance(seconds, str):
            return {i: (s, 0) for i, s in zip(order, seconds, strict=True)}, {}
        space.say(f"{seconds}; timing this round with the harness's own loop")
    timed: dict[str, tuple[float, int]] = {}
    failed: dict[str, str] = {}
    for system, argv in zip(order, argvs, strict=True):
        run = run_process(argv, timeout_s=space.timeout_s)
        problem = _problem(run, None) or (None if run.stdout == expected else "output changed")
        if problem:
            failed[system] = problem
        else:
            timed[system] = (run.seconds, run.max_rss_kib)
    return timed, failed


def _measurement(system: str, samples: list[float], peak: int, check: Run) -> Measurement:
    jit_lines = tuple(check.stderr.splitlines()) if system in JIT_TIERS else ()
    return Measurement(
        system=system,
        samples_s=tuple(samples),
        first_run_s=check.seconds,
        peak_kib=peak,
        jit_lines=jit_lines,
        jit_figures=parse_jit_stats(jit_lines),
    )


def _memory_method(space: Workspace) -> str:
    if space.rss_helper is not None:
        return (
            "peak resident set size of the warm-up run (`ru_maxrss`, measured by a small C helper)"
        )
    return (
        "largest `ru_maxrss` of the runs; an upper bound, as it counts the harness's own resident "
        "size for any process smaller than that (no C compiler for the exact helper)"
    )


def _timing_method(hyperfine: str | None) -> str:
    if hyperfine is None:
        return "the harness's own loop (wall time of each process)"
    ran = run_process([hyperfine, "--version"], timeout_s=30.0)
    return f"{ran.stdout.strip() or 'hyperfine'} (-N, one run per command per round)"


def machine_description() -> tuple[tuple[str, str], ...]:
    """What the figures were measured on: CPU, cores, OS and the harness's Python."""
    return (
        ("cpu", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("os", platform.platform()),
        ("python", platform.python_version()),
    )


def _load_average() -> str:
    """The 1-minute load average: other work on the machine makes the figures noisier."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass  # not Linux: fall back on what platform knows
    return platform.processor() or platform.machine()
