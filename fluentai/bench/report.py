"""The written report: docs/benchmarks.md (tables) and docs/benchmarks.json (raw), plus the plot.

    | benchmark | size | auto | cpython | c |        one table each for seconds, speed-up vs
    |---|---|---:|---:|---:|                          CPython, time relative to C and peak memory;
    | fib | 36 | 95.2 (94.8–96.0) | 3.05 (...) | ...   then start-up, build times and JIT figures

A cell is empty where a system did not run that row (the VM runs only the quick rows).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Final

from fluentai.bench.jitstats import Figure, compile_seconds, find_figure
from fluentai.bench.results import (
    Measurement,
    Results,
    RowResult,
    results_from_json,
    results_to_json,
)
from fluentai.bench.suite import STARTUP_BENCHMARK
from fluentai.bench.systems import JIT_TIERS, REFERENCE
from fluentai.driver import UsageError

MARKDOWN: Final = "benchmarks.md"
JSON: Final = "benchmarks.json"
PNG: Final = "benchmarks.png"


def write_outputs(results: Results, output_dir: Path, *, plot: bool) -> list[Path]:
    """Write the markdown, the JSON and (if `plot`) the PNG into `output_dir`; their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = [output_dir / MARKDOWN, output_dir / JSON]
    paths[0].write_text(render_markdown(results, PNG if plot else None), encoding="utf-8")
    paths[1].write_text(json.dumps(results_to_json(results), indent=1) + "\n", encoding="utf-8")
    if plot:
        from fluentai.bench.plot import write_plot  # matplotlib loads only here

        paths.append(output_dir / PNG)
        write_plot(results, paths[-1])
    return paths


def read_results(path: Path) -> Results:
    """The Results saved in the JSON file `path`; a usage error if it cannot be read as one."""
    try:
        return results_from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from err
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"{path} is not the JSON of a `fluentai bench` run ({err!r})") from err


def render_markdown(results: Results, png: str | None) -> str:
    """The whole markdown report; `png` is the plot's file name, if there is one."""
    sections = [
        _header(results),
        *([_failures(results)] if results.failures else []),
        *([f"![speed-up vs CPython]({png})\n"] if png else []),
        _table(results, "Time", "seconds, median of the timed runs (min–max)", _seconds_cell),
        _table(
            results,
            "Speed-up vs CPython",
            "CPython time / system time on the same row; higher is faster",
            _ratio_cell(REFERENCE, invert=False),
        ),
        _table(
            results,
            "Relative to C",
            "system time / C time on the same row; 1.0 is as fast as C, higher is slower",
            _ratio_cell("c", invert=True),
        ),
        *(
            [
                _table(
                    results,
                    "Relative to C compiled by clang",
                    "system time / the time of the same C program compiled by clang -O2 on the "
                    "same row (LLVM, the native tiers' back end)",
                    _ratio_cell("clang", invert=True),
                )
            ]
            if "clang" in _columns(results)
            else []
        ),
        _table(results, "Peak memory", f"MiB: {results.memory}", _memory_cell),
        _startup(results),
        _builds(results),
        _jit(results),
        _systems(results),
        _how_to_run(),
    ]
    return "\n".join(sections)


def _header(results: Results) -> str:
    machine = ", ".join(f"{k} {v}" for k, v in results.machine)
    sizes = (
        "every row uses the `--quick` sizes"
        if results.quick
        else "rows marked (quick) use the `--quick` sizes, the others the default sizes"
    )
    return (
        "# Benchmarks\n\n"
        "<!-- Written by `fluentai bench` (fluentai/bench/); do not edit. "
        f"Raw figures: {JSON}. -->\n\n"
        f"Measured {results.generated} on {machine}. Whole processes (start-up, compilation and "
        f"the run), timed with {results.timing}: one warm-up run, which also checks that the "
        f"output equals the Python program's, then {results.runs} timed runs per system, the "
        f"systems interleaved round by round. The size column gives the program arguments; "
        f"{sizes}. An empty cell: that system did not run at that size.\n"
    )


def _failures(results: Results) -> str:
    lines = ["## Failures\n", "These systems failed a timed run and are left out of that row:\n"]
    lines += [f"- {failure}" for failure in results.failures]
    return "\n".join(lines) + "\n"


def _columns(results: Results) -> list[str]:
    """The systems that have at least one measurement, in report order."""
    measured = {m.system for row in results.rows for m in row.measurements}
    return [s.id for s in results.systems if s.id in measured]


def _table(
    results: Results,
    title: str,
    unit: str,
    cell: Callable[[RowResult, Measurement], str],
) -> str:
    columns = _columns(results)
    lines = [
        f"## {title}\n",
        f"{unit[0].upper()}{unit[1:]}.\n",
        "| benchmark | size | " + " | ".join(columns) + " |",
        "|---|---|" + "---:|" * len(columns),
    ]
    for row in results.rows:
        cells = []
        for system in columns:
            m = row.get(system)
            cells.append("" if m is None else cell(row, m))
        lines.append(f"| {row.benchmark} | {row.size} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def format_seconds(seconds: float) -> str:
    """Three significant figures without an exponent: 152, 15.2, 1.52, 0.152, 0.00152."""
    if seconds >= 100:
        return f"{seconds:.0f}"
    if seconds >= 10:
        return f"{seconds:.1f}"
    if seconds >= 1:
        return f"{seconds:.2f}"
    return f"{seconds:.3g}"


def format_ratio(ratio: float) -> str:
    """Ratios: 3 significant figures, as for seconds."""
    return format_seconds(ratio)


def _seconds_cell(row: RowResult, m: Measurement) -> str:
    if len(m.samples_s) == 1:
        return format_seconds(m.median_s)
    return f"{format_seconds(m.median_s)} ({format_seconds(m.min_s)}–{format_seconds(m.max_s)})"


def _ratio_cell(base: str, *, invert: bool) -> Callable[[RowResult, Measurement], str]:
    def cell(row: RowResult, m: Measurement) -> str:
        reference = row.get(base)
        if reference is None:
            return "n/a"
        ratio = m.median_s / reference.median_s if invert else reference.median_s / m.median_s
        return format_ratio(ratio)

    return cell


def _memory_cell(row: RowResult, m: Measurement) -> str:
    return f"{m.peak_mib:.1f}"


def _startup(results: Results) -> str:
    rows = [row for row in results.rows if row.benchmark == STARTUP_BENCHMARK]
    head = "## Start-up\n\nHello world (the `empty` benchmark), whole process, median.\n\n"
    if not rows:
        return head + "Not measured (`empty` was not run).\n"
    lines = ["| system | ms | × CPython's time |", "|---|---:|---:|"]
    reference = rows[0].get(REFERENCE)
    for m in rows[0].measurements:
        ratio = "" if reference is None else format_ratio(m.median_s / reference.median_s)
        lines.append(f"| {m.system} | {m.median_s * 1000:.1f} | {ratio} |")
    return head + "\n".join(lines) + "\n"


def _builds(results: Results) -> str:
    head = "## Build time\n\nSeconds to compile each executable, once per benchmark.\n\n"
    if not results.builds:
        return head + "No compiled system was measured.\n"
    systems = sorted({b.system for b in results.builds})
    lines = ["| benchmark | " + " | ".join(systems) + " |", "|---|" + "---:|" * len(systems)]
    for benchmark in dict.fromkeys(b.benchmark for b in results.builds):
        times = {b.system: b.seconds for b in results.builds if b.benchmark == benchmark}
        cells = [format_seconds(times[s]) if s in times else "" for s in systems]
        lines.append(f"| {benchmark} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def _jit(results: Results) -> str:
    head = (
        "## JIT: compile time and compiling vs running\n\n"
        "From the JIT's own counters: the warm-up run of each compiling tier uses `--jit-stats` "
        "(fluentai/bench/jitstats.py says which lines count). Milliseconds; the whole run is the "
        "warm-up run's wall time.\n\n"
    )
    entries = [
        (row, m)
        for row in results.rows
        for m in row.measurements
        if m.system in JIT_TIERS and m.jit_figures
    ]
    if not entries:
        return head + f"n/a ({_no_jit_figures(results)})\n"
    lines = [
        "| benchmark | size | tier | per function | compiling | running | whole run | stages |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for row, m in entries:
        lines.append(f"| {row.benchmark} | {row.size} | {m.system} | " + _jit_cells(m) + " |")
    return head + "\n".join(lines) + "\n"


def _no_jit_figures(results: Results) -> str:
    """Why the JIT section has no figures."""
    if results.native_present:
        return "the JIT printed no figures"
    if any(a.id == "native" for a in results.absent):
        return "no native tier yet"
    return "no native tier measured"


def _jit_cells(m: Measurement) -> str:
    """Per function, compiling, running, whole run and the other timed figures of one run."""
    figures = m.jit_figures
    per_function = find_figure(figures, "per function")
    compiling = compile_seconds(figures)
    running = find_figure(figures, "time running")
    shown = {per_function, running, find_figure(figures, "time compiling", "compile total")}
    stages = [
        f
        for f in figures
        if f.seconds is not None and f not in shown and not f.name.startswith("time")
    ]
    cells = [
        _figure_seconds(per_function),
        "n/a" if compiling is None else _ms(compiling),
        _figure_seconds(running),
        _ms(m.first_run_s),
        ", ".join(str(f) for f in stages),
    ]
    return " | ".join(cells)


def _figure_seconds(figure: Figure | None) -> str:
    seconds = None if figure is None else figure.seconds
    return "n/a" if seconds is None else _ms(seconds)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _systems(results: Results) -> str:
    lines = ["## Systems\n"]
    for s in results.systems:
        note = f" — {s.note}" if s.note else ""
        lines.append(f"- `{s.id}`: {s.label}{note}")
    if results.absent:
        lines.append("\nNot measured:\n")
        lines += [f"- `{a.id}`: {a.reason}" for a in results.absent]
    if results.notes:
        lines.append("\nNotes:\n")
        lines += [f"- {note}" for note in results.notes]
    return "\n".join(lines) + "\n"


def _how_to_run() -> str:
    return (
        "## How to run\n\n"
        "`make bench` (the same as `fluentai bench` in a checkout) writes this file, "
        f"`{JSON}` and `{PNG}`; `make bench-peers` installs PyPy, Chez Scheme, LuaJIT, clang and "
        "hyperfine. Options: `--only fib,tak`, `--tiers vm,auto,native,aot`, "
        "`--peers pypy,c,clang,chez,luajit` (or `none`), `--runs N`, `--quick`, `--output-dir DIR`, "
        "`--benchmarks DIR`, `--timeout SECONDS`, `--no-hyperfine`, `--no-plot`; "
        "`--report-from docs/benchmarks.json` writes the report again without measuring. The "
        "programs and their sizes are in `benchmarks/` (`suite.toml`).\n"
    )
