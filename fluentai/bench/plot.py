"""docs/benchmarks.png: speed-up vs CPython per benchmark, grouped bars, log scale.

One group per benchmark, one bar per system (CPython itself is the line at 1). A system that ran
a benchmark at both sizes is shown at the default size; the VM, which runs only the quick sizes,
is shown there and its legend entry says so. matplotlib is imported here only, with the Agg
back end and no pyplot state, so that nothing else in FluentAI pays for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fluentai.bench.results import Results, RowResult
from fluentai.bench.systems import REFERENCE

_BAR_GROUP_WIDTH: Final = 0.8


def speedups(results: Results) -> tuple[list[str], dict[str, list[float | None]], set[str]]:
    """The benchmarks, each system's speed-up vs CPython on each, and the systems shown at the
    --quick sizes (slow tiers, and any system that ran no default-size row)."""
    benchmarks = list(dict.fromkeys(row.benchmark for row in results.rows))
    systems = [s.id for s in results.systems if s.id != REFERENCE]
    values: dict[str, list[float | None]] = {s: [] for s in systems}
    quick_only = set(systems)
    for benchmark in benchmarks:
        rows = [r for r in results.rows if r.benchmark == benchmark]
        for system in systems:
            row = _preferred_row(rows, system)
            values[system].append(None if row is None else _speedup(row, system))
            if row is not None and not row.quick:
                quick_only.discard(system)
    measured = {s for s, v in values.items() if any(x is not None for x in v)}
    quick_only |= {s.id for s in results.systems if s.quick_sizes}
    return benchmarks, {s: v for s, v in values.items() if s in measured}, quick_only & measured


def _preferred_row(rows: list[RowResult], system: str) -> RowResult | None:
    """The default-size row if the system ran it, else its quick row."""
    having = [r for r in rows if r.get(system) is not None and r.get(REFERENCE) is not None]
    return next((r for r in having if not r.quick), having[0] if having else None)


def _speedup(row: RowResult, system: str) -> float:
    reference, measured = row.get(REFERENCE), row.get(system)
    assert reference is not None and measured is not None
    return reference.median_s / measured.median_s


def write_plot(results: Results, path: Path) -> None:
    """Draw the grouped bar chart into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    benchmarks, values, quick_only = speedups(results)
    figure = Figure(figsize=(12, 5.5), dpi=110)
    axes = figure.subplots()
    width = _BAR_GROUP_WIDTH / max(len(values), 1)
    for index, (system, speeds) in enumerate(values.items()):
        offset = (index - (len(values) - 1) / 2) * width
        xs = [i + offset for i, v in enumerate(speeds) if v is not None]
        ys = [v for v in speeds if v is not None]
        label = f"{system} (quick sizes)" if system in quick_only else system
        axes.bar(xs, ys, width=width * 0.95, label=label)
    axes.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="CPython = 1")
    axes.set_yscale("log")
    axes.set_xticks(range(len(benchmarks)), benchmarks)
    axes.set_ylabel("speed-up vs CPython (log scale, higher is faster)")
    axes.set_title("FluentAI and peers: whole-process time relative to CPython")
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.legend(
        ncol=min(len(values) + 1, 5),
        fontsize="small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.07),
        frameon=False,
    )
    figure.savefig(path, bbox_inches="tight")
