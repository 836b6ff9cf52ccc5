"""The benchmark suite: `benchmarks/suite.toml` names each benchmark and its two sizes.

    [fib]
    description = "naive doubly recursive Fibonacci of N"
    size = ["36"]      # program arguments at the default size
    quick = ["27"]     # program arguments for --quick (and the bytecode VM)

A benchmark's programs are `programs/<name>.<ext>` beside the suite file, one per language.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, final

from fluentai.driver import UsageError

SUITE_FILE: Final = "suite.toml"
STARTUP_BENCHMARK: Final = "empty"  # the hello-world program whose time is the start-up time


@final
@dataclass(frozen=True, slots=True)
class Benchmark:
    """One benchmark: its name, what it computes and the arguments of its two sizes."""

    name: str
    description: str
    size: tuple[str, ...]
    quick: tuple[str, ...]


@final
@dataclass(frozen=True, slots=True)
class Suite:
    """The benchmarks of one suite directory, in report order."""

    root: Path
    benchmarks: tuple[Benchmark, ...]

    def program(self, benchmark: str, ext: str) -> Path:
        """The path of `benchmark`'s program in the language with extension `ext`."""
        return self.root / "programs" / f"{benchmark}.{ext}"

    def select(self, names: tuple[str, ...] | None) -> Suite:
        """The suite restricted to `names` (in suite order); an unknown name is a usage error."""
        if names is None:
            return self
        known = {b.name for b in self.benchmarks}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UsageError(
                f"unknown benchmark {', '.join(unknown)} (benchmarks: {', '.join(sorted(known))})"
            )
        return Suite(self.root, tuple(b for b in self.benchmarks if b.name in names))


def checkout_benchmarks_dir(package_dir: Path) -> Path:
    """`benchmarks/` of the source checkout that holds the package at `package_dir`.

    `fluentai bench` needs the checkout: an installed package carries no benchmark programs.
    """
    candidate = package_dir.resolve().parent / "benchmarks"
    if not (candidate / SUITE_FILE).is_file():
        raise UsageError(
            "`fluentai bench` needs a source checkout of FluentAI: there is no "
            f"benchmarks/{SUITE_FILE} next to the package at {package_dir}; run it from a clone "
            "(`make bench`) or pass --benchmarks DIR"
        )
    return candidate


def load_suite(root: Path) -> Suite:
    """Read `root/suite.toml`; a missing or malformed file is a usage error."""
    path = root / SUITE_FILE
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read the benchmark suite {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"malformed benchmark suite {path}: {err}") from err
    return Suite(root, tuple(_benchmark(path, name, entry) for name, entry in table.items()))


def _benchmark(path: Path, name: str, entry: Any) -> Benchmark:  # Any: parsed TOML
    if not isinstance(entry, dict):
        raise UsageError(f"{path}: [{name}] must be a table")
    return Benchmark(
        name=name,
        description=str(entry.get("description", "")),
        size=_arguments(path, name, entry, "size"),
        quick=_arguments(path, name, entry, "quick"),
    )


def _arguments(path: Path, name: str, entry: dict[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{path}: [{name}] needs `{key}`, a list of strings (program arguments)")
    return tuple(value)
