"""Figures from the JIT's own counters: what `--jit-stats` writes on stderr, read back.

The tiers that compile (auto, native) run their warm-up run with `--jit-stats`. Each stderr line
that starts with `jit:` holds items separated by `, `; an item that ends in a number, with an
optional unit and an optional parenthesized remark, is a figure:

    jit: functions compiled: 1                        -> functions compiled = 1
    jit: front end 79.4 ms, lowering 25.5 ms          -> front end = 79.4 ms, lowering = 25.5 ms
    jit: compile time per function: 179.29 ms         -> compile time per function = 179.29 ms
    jit: time compiling 179.3 ms, time running 1.2 ms -> time compiling, time running
    jit: time in VM 0.0 ms (the native tier uses no VM) -> time in VM = 0.0 ms
    jit: native tiers are not available yet; all code ran in the VM   -> no figure

The report shows the figures named `... per function`, `time compiling` (or `compile total`) and
`time running`, and the other timed figures (the compile stages); the JSON keeps them all. A tier
whose figures include a compile count or time above zero compiles code (see `compiles_code`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, final

_PREFIX: Final = re.compile(r"^\s*jit\s*:\s*")
_ITEM: Final = re.compile(
    r"^(?P<name>[^:=]*?[A-Za-z][^:=]*?)\s*[:=]?\s+"
    r"(?P<value>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*"
    r"(?P<unit>ms|s|us|µs|ns|MiB|KiB|MB|KB|%)?\s*(?:\(.*\))?$"
)
_SECONDS_PER_UNIT: Final = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


@final
@dataclass(frozen=True, slots=True)
class Figure:
    """One named number from `--jit-stats`, such as `time compiling 12.5 ms`."""

    name: str
    value: float
    unit: str

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name} {self.value:g}{unit}"

    @property
    def seconds(self) -> float | None:
        """The figure in seconds if it is a time, else None."""
        scale = _SECONDS_PER_UNIT.get(self.unit)
        return None if scale is None else self.value * scale


def parse_jit_stats(lines: Iterable[str]) -> tuple[Figure, ...]:
    """The figures in the `jit:` lines among `lines` (the stderr of a `--jit-stats` run)."""
    figures = []
    for line in lines:
        prefix = _PREFIX.match(line)
        if prefix is None:
            continue
        for item in line[prefix.end() :].split(", "):
            match = _ITEM.match(item.strip())
            if match:
                name, value = match["name"].strip(), float(match["value"])
                figures.append(Figure(name, value, match["unit"] or ""))
    return tuple(figures)


def find_figure(figures: Iterable[Figure], *patterns: str) -> Figure | None:
    """The first figure whose lower-cased name contains one of `patterns` (tried in order)."""
    listed = list(figures)
    for pattern in patterns:
        for figure in listed:
            if pattern in figure.name.lower():
                return figure
    return None


def compile_seconds(figures: Iterable[Figure]) -> float | None:
    """The time spent compiling, from `time compiling` or `compile total`; None if not given."""
    figure = find_figure(
        [f for f in figures if f.seconds is not None], "time compiling", "compile total"
    )
    return None if figure is None else figure.seconds


def compiles_code(figures: Iterable[Figure]) -> bool:
    """Whether the figures show code being compiled: a compile count or time above zero."""
    return any("compil" in f.name.lower() and f.value > 0 for f in figures)
