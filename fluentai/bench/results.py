"""The measurements of one `fluentai bench` run, and their JSON form (docs/benchmarks.json).

    Results
      rows: RowResult (benchmark, args, quick)      one per benchmark and size
              measurements: Measurement             one per system: timed runs, warm-up, memory
      builds: Build                                 compile time of C and AOT executables
      systems, absent, notes                        what was measured, what was not and why

The markdown report and the plot are both made from a Results value; nothing is recomputed.
`results_from_json` reads the JSON back, so a report can be written again without measuring
(`fluentai bench --report-from docs/benchmarks.json`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, final

from fluentai.bench.jitstats import Figure
from fluentai.bench.systems import Absent


@final
@dataclass(frozen=True, slots=True)
class Measurement:
    """One system on one row: timed runs, the warm-up (check) run, peak memory, JIT figures."""

    system: str
    samples_s: tuple[float, ...]
    first_run_s: float
    peak_kib: int
    jit_lines: tuple[str, ...] = ()
    jit_figures: tuple[Figure, ...] = ()

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    @property
    def min_s(self) -> float:
        return min(self.samples_s)

    @property
    def max_s(self) -> float:
        return max(self.samples_s)

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


@final
@dataclass(frozen=True, slots=True)
class RowResult:
    """One benchmark at one size (`quick` when it used the --quick arguments)."""

    benchmark: str
    description: str
    args: tuple[str, ...]
    quick: bool
    measurements: tuple[Measurement, ...]

    def get(self, system: str) -> Measurement | None:
        return next((m for m in self.measurements if m.system == system), None)

    @property
    def size(self) -> str:
        """The size as the report shows it: the program arguments, marked when quick."""
        text = " ".join(self.args)
        return f"{text} (quick)" if self.quick else text


@final
@dataclass(frozen=True, slots=True)
class Build:
    """The time one compiled system took to build one benchmark's executable."""

    benchmark: str
    system: str
    seconds: float


@final
@dataclass(frozen=True, slots=True)
class SystemInfo:
    """A measured system: its id (the column name), what it is, and a note on its sizes.

    `quick_sizes` is True for a slow tier that ran only at the --quick sizes (plan.py).
    """

    id: str
    label: str
    note: str = ""
    quick_sizes: bool = False


@final
@dataclass(frozen=True, slots=True)
class Results:
    """Everything one run measured, with the settings and the machine it ran on."""

    generated: str
    machine: tuple[tuple[str, str], ...]
    timing: str
    memory: str
    runs: int
    quick: bool
    systems: tuple[SystemInfo, ...]
    absent: tuple[Absent, ...]
    notes: tuple[str, ...]
    rows: tuple[RowResult, ...]
    builds: tuple[Build, ...]
    native_present: bool
    failures: tuple[str, ...] = ()  # timed runs that failed; their systems are left out


def results_to_json(results: Results) -> dict[str, Any]:  # Any: a JSON document
    """The JSON form of `results`: raw samples included, so any table can be recomputed."""
    return {
        "generated": results.generated,
        "machine": dict(results.machine),
        "timing": results.timing,
        "memory": results.memory,
        "runs": results.runs,
        "quick": results.quick,
        "native_present": results.native_present,
        "systems": [
            {"id": s.id, "label": s.label, "note": s.note, "quick_sizes": s.quick_sizes}
            for s in results.systems
        ],
        "absent": [{"id": a.id, "reason": a.reason} for a in results.absent],
        "notes": list(results.notes),
        "failures": list(results.failures),
        "rows": [_row_json(row) for row in results.rows],
        "builds": [
            {"benchmark": b.benchmark, "system": b.system, "seconds": b.seconds}
            for b in results.builds
        ],
    }


def _row_json(row: RowResult) -> dict[str, Any]:
    return {
        "benchmark": row.benchmark,
        "description": row.description,
        "args": list(row.args),
        "quick": row.quick,
        "results": {m.system: _measurement_json(m) for m in row.measurements},
    }


def _measurement_json(m: Measurement) -> dict[str, Any]:
    return {
        "median_s": m.median_s,
        "min_s": m.min_s,
        "max_s": m.max_s,
        "samples_s": list(m.samples_s),
        "first_run_s": m.first_run_s,
        "peak_mib": m.peak_mib,
        "jit_stats": list(m.jit_lines),
        "jit_figures": [{"name": f.name, "value": f.value, "unit": f.unit} for f in m.jit_figures],
    }


def results_from_json(data: dict[str, Any]) -> Results:  # Any: a JSON document
    """The Results that `results_to_json` wrote; KeyError or TypeError if `data` is not one."""
    return Results(
        generated=data["generated"],
        machine=tuple((str(k), str(v)) for k, v in data["machine"].items()),
        timing=data["timing"],
        memory=data["memory"],
        runs=data["runs"],
        quick=data["quick"],
        systems=tuple(
            SystemInfo(s["id"], s["label"], s["note"], s.get("quick_sizes", bool(s["note"])))
            for s in data["systems"]
        ),
        absent=tuple(Absent(a["id"], a["reason"]) for a in data["absent"]),
        notes=tuple(data["notes"]),
        rows=tuple(_row_from_json(row) for row in data["rows"]),
        builds=tuple(Build(b["benchmark"], b["system"], b["seconds"]) for b in data["builds"]),
        native_present=data["native_present"],
        failures=tuple(data.get("failures", ())),
    )


def _row_from_json(row: dict[str, Any]) -> RowResult:
    return RowResult(
        benchmark=row["benchmark"],
        description=row["description"],
        args=tuple(row["args"]),
        quick=row["quick"],
        measurements=tuple(
            _measurement_from_json(system, m) for system, m in row["results"].items()
        ),
    )


def _measurement_from_json(system: str, m: dict[str, Any]) -> Measurement:
    return Measurement(
        system=system,
        samples_s=tuple(m["samples_s"]),
        first_run_s=m["first_run_s"],
        peak_kib=round(m["peak_mib"] * 1024),
        jit_lines=tuple(m["jit_stats"]),
        jit_figures=tuple(Figure(f["name"], f["value"], f["unit"]) for f in m["jit_figures"]),
    )
