"""Tests of the benchmark harness (`fluentai bench`, fluentai/bench/), never of timings.

Smoke tests run the harness for real, in process, on a small suite in a temporary directory made
from the real programs: one that must produce the report, and deliberately wrong programs that
must be caught before anything is timed. Unit tests cover the pure helpers: which tier runs at
which size, the `--jit-stats` hook, mismatch messages and number formatting.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import fluentai
from fluentai import cli
from fluentai.bench.harness import describe_mismatch
from fluentai.bench.jitstats import Figure, compile_seconds, compiles_code, parse_jit_stats
from fluentai.bench.measure import error_line, hyperfine_round, run_process
from fluentai.bench.plan import plan_rows, slow_tiers
from fluentai.bench.report import format_seconds
from fluentai.bench.results import (
    Measurement,
    Results,
    RowResult,
    SystemInfo,
    results_from_json,
    results_to_json,
)
from fluentai.bench.suite import checkout_benchmarks_dir, load_suite
from fluentai.bench.systems import Absent, System, probe_compiles, probe_tier
from fluentai.driver import UsageError

REPO_BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
LANGUAGES = ("fl", "py", "c", "ss", "lua")


def _suite(root: Path, entries: dict[str, tuple[str, str]], programs: dict[str, str]) -> Path:
    """A suite directory: `entries` maps a name to (size, quick); `programs` file name to text."""
    (root / "programs").mkdir(parents=True)
    toml = "".join(
        f'[{name}]\ndescription = "test"\nsize = ["{size}"]\nquick = ["{quick}"]\n'
        for name, (size, quick) in entries.items()
    )
    (root / "suite.toml").write_text(toml, encoding="utf-8")
    for file_name, text in programs.items():
        (root / "programs" / file_name).write_text(text, encoding="utf-8")
    return root


def _real_program(name: str) -> str:
    return (REPO_BENCHMARKS / "programs" / name).read_text(encoding="utf-8")


def _bench(*args: str) -> int:
    return cli.main(["bench", "--tiers", "vm", "--peers", "none", "--runs", "1", *args])


def test_quick_run_writes_markdown_json_and_png(tmp_path: Path) -> None:
    programs = {"fib.fl": _real_program("fib.fl"), "fib.py": _real_program("fib.py")}
    suite = _suite(tmp_path / "suite", {"fib": ("30", "15")}, programs)
    out = tmp_path / "out"
    status = _bench(
        "--quick", "--no-hyperfine", "--benchmarks", str(suite), "--output-dir", str(out)
    )
    assert status == 0
    markdown = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert "| fib | 15 (quick) |" in markdown
    assert "n/a (no native tier measured)" in markdown  # --tiers vm: no JIT figures
    raw = json.loads((out / "benchmarks.json").read_text(encoding="utf-8"))
    (row,) = raw["rows"]
    assert row["args"] == ["15"] and row["quick"] is True
    assert set(row["results"]) == {"vm", "cpython"}
    for measured in row["results"].values():
        assert len(measured["samples_s"]) == 1 and measured["peak_mib"] > 0
    assert (out / "benchmarks.png").read_bytes().startswith(b"\x89PNG")


def test_wrong_programs_are_all_caught_before_timing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programs = {
        "wrong.py": "print(42)\n",
        "wrong.fl": "(print 41)\n",  # a different result
        "crash.py": "print(42)\n",
        "crash.fl": "(print (head []))\n",  # a runtime error
    }
    suite = _suite(tmp_path / "suite", {"wrong": ("1", "1"), "crash": ("1", "1")}, programs)
    out = tmp_path / "out"
    status = _bench("--no-plot", "--benchmarks", str(suite), "--output-dir", str(out))
    stderr = capsys.readouterr().err
    assert status == 70
    assert (
        "FAILED: wrong 1 on vm: output mismatch at line 1: expected '42' (CPython), got '41'"
        in stderr
    )
    assert "FAILED: crash 1 on vm: exit status 70: " in stderr and "error[empty-list]" in stderr
    assert "2 failure(s); nothing written" in stderr
    assert "timed" not in stderr and not out.exists()


def test_unknown_benchmark_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = _suite(tmp_path, {"answer": ("1", "1")}, {"answer.py": "print(42)\n"})
    assert _bench("--only", "nosuch", "--benchmarks", str(suite)) == 2
    assert "unknown benchmark nosuch" in capsys.readouterr().err


def test_bench_outside_a_checkout_says_it_needs_one(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs a source checkout"):
        checkout_benchmarks_dir(tmp_path / "fluentai")
    assert checkout_benchmarks_dir(Path(fluentai.__file__).parent) == REPO_BENCHMARKS


def test_every_benchmark_has_a_program_in_every_language() -> None:
    suite = load_suite(REPO_BENCHMARKS)
    names = [b.name for b in suite.benchmarks]
    assert names == [
        "fib", "tak", "loop", "mandelbrot", "lists", "nqueens", "binarytrees", "strings", "empty"
    ]  # fmt: skip
    missing = [
        f"{b.name}.{ext}"
        for b in suite.benchmarks
        for ext in LANGUAGES
        if not suite.program(b.name, ext).is_file()
    ]
    assert missing == []


def test_vm_runs_quick_sizes_unless_it_is_the_only_tier_named() -> None:
    present = ["vm", "auto", "native"]
    assert slow_tiers(present, None, auto_compiles=True) == {"vm"}
    assert slow_tiers(present, ["vm"], auto_compiles=True) == frozenset()
    assert slow_tiers(present, ["vm", "native"], auto_compiles=True) == {"vm"}
    # an `auto` that compiles nothing is the VM, so it is slow too
    assert slow_tiers(present, None, auto_compiles=False) == {"vm", "auto"}
    assert slow_tiers(present, ["auto"], auto_compiles=False) == {"vm"}


def _fake_tier(status: int, stderr: str) -> System:
    """A tier whose every run writes `stderr` and exits with `status`."""
    script = f"import sys; sys.stderr.write({stderr!r}); sys.exit({status})"
    return System("native", "fake", "fl", (sys.executable, "-c", script), is_tier=True)


def test_tier_probes_tell_absent_and_compiling_tiers(tmp_path: Path) -> None:
    absent = _fake_tier(2, "fluentai: error: `--tier native` is not available yet\n")
    assert probe_tier(absent, tmp_path) == (
        "exit status 2: fluentai: error: `--tier native` is not available yet"
    )
    compiling = replace(_fake_tier(0, "jit: functions compiled: 2\n"), stats_options=("-",))
    assert probe_tier(compiling, tmp_path) is None and probe_compiles(compiling, tmp_path)
    vm_only = _fake_tier(0, "jit: native tiers are not available yet; all code ran in the VM\n")
    assert not probe_compiles(vm_only, tmp_path)


def test_slow_tiers_get_a_quick_row_beside_cpython_and_c(tmp_path: Path) -> None:
    programs = {f"fib.{ext}": "" for ext in ("fl", "py", "c")}
    suite = load_suite(_suite(tmp_path, {"fib": ("36", "27")}, programs))
    systems = [
        System("vm", "vm", "fl"),
        System("native", "native", "fl"),
        System("cpython", "cpython", "py"),
        System("c", "c", "c", build=("cc", "{src}", "-o", "{out}")),
        System("luajit", "luajit", "lua"),
    ]
    rows, notes = plan_rows(suite, systems, frozenset({"vm"}), quick=False)
    assert [(r.args, r.quick, [s.id for s in r.systems]) for r in rows] == [
        (("36",), False, ["native", "cpython", "c"]),
        (("27",), True, ["vm", "cpython", "c"]),
    ]
    assert notes == ["luajit: no programs/fib.lua"]


def test_jit_stats_figures_and_compile_time_are_read_from_stderr() -> None:
    lines = [
        "jit: native tiers are not available yet; all code ran in the VM",
        "jit: functions compiled: 3",
        "jit: front end 4 ms, codegen = 8.5 ms",
        "jit: time compiling 12.5 ms, time running 1.5 s",
        "jit: time in VM 0.0 ms (the native tier uses no VM)",
        "vm profile: 1 functions called",  # not a `jit:` line
    ]
    figures = parse_jit_stats(lines)
    assert figures[0] == Figure("functions compiled", 3.0, "")
    assert [str(f) for f in figures[1:]] == [
        "front end 4 ms", "codegen 8.5 ms", "time compiling 12.5 ms", "time running 1.5 s",
        "time in VM 0 ms",
    ]  # fmt: skip
    assert compile_seconds(figures) == pytest.approx(0.0125)
    assert compiles_code(figures)
    assert parse_jit_stats(lines[:1]) == () and not compiles_code(())
    assert compile_seconds(figures[:2]) is None


def test_a_system_failing_a_timed_run_is_left_out_of_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-once"
    flaky = f'(if (io:file-exists? "{marker}") (print 41) (do (io:write-file "{marker}" "") (print 42)))\n'
    programs = {"flaky.py": "print(42)\n", "flaky.fl": flaky}
    suite = _suite(tmp_path / "suite", {"flaky": ("1", "1")}, programs)
    out = tmp_path / "out"
    status = _bench(
        "--no-plot", "--no-hyperfine", "--benchmarks", str(suite), "--output-dir", str(out)
    )
    assert status == 70
    assert "FAILED: flaky 1 on vm, timed run 1: output changed" in capsys.readouterr().err
    markdown = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert "## Failures" in markdown and "| benchmark | size | cpython |" in markdown
    raw = json.loads((out / "benchmarks.json").read_text(encoding="utf-8"))
    assert set(raw["rows"][0]["results"]) == {"cpython"} and len(raw["failures"]) == 1


def test_report_can_be_written_again_from_the_raw_json(tmp_path: Path) -> None:
    figures = (Figure("time compiling", 12.5, "ms"),)
    results = Results(
        generated="2024-01-01T00:00:00+00:00",
        machine=(("cpu", "test"),),
        timing="the harness's own loop",
        memory="peak",
        runs=2,
        quick=False,
        systems=(SystemInfo("native", "n"), SystemInfo("vm", "v", "slow", True), SystemInfo("cpython", "c")),
        absent=(Absent("aot", "not available yet"),),
        notes=(),
        rows=(
            RowResult(
                "fib", "d", ("36",), False,
                (Measurement("native", (1.0, 1.5), 2.0, 2048, ("jit: time compiling 12.5 ms",), figures),
                 Measurement("cpython", (3.0, 3.5), 3.2, 10240)),
            ),
        ),
        builds=(),
        native_present=True,
    )  # fmt: skip
    assert results_from_json(json.loads(json.dumps(results_to_json(results)))) == results
    saved = tmp_path / "benchmarks.json"
    saved.write_text(json.dumps(results_to_json(results)), encoding="utf-8")
    assert cli.main(["bench", "--report-from", str(saved), "--no-plot"]) == 0
    markdown = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert "| fib | 36 | 1.25 (1.00–1.50) | 3.25 (3.00–3.50) |" in markdown
    assert "| fib | 36 | native | n/a | 12.5 | n/a | 2000.0 |" in markdown
    assert "- `aot`: not available yet" in markdown


def test_mismatch_message_names_the_first_differing_line() -> None:
    assert describe_mismatch("a\nb\n", "a\nc\n") == (
        "output mismatch at line 2: expected 'b' (CPython), got 'c'"
    )
    assert (
        describe_mismatch("a\n", "a\nb\n") == "output mismatch: expected 1 lines (CPython), got 2"
    )


def test_error_line_prefers_the_report_line() -> None:
    stderr = (
        "noise\nprog.fl:1:8: error[empty-list]: `head` expects a non-empty list, got []\n  1 |\n"
    )
    assert error_line(stderr).startswith("prog.fl:1:8: error[empty-list]")
    assert error_line("one\ntwo\n") == "two"
    assert error_line("") == "(nothing on stderr)"


def test_seconds_are_formatted_with_three_significant_figures() -> None:
    assert [format_seconds(s) for s in (152.4, 15.24, 1.524, 0.1524, 0.001524)] == [
        "152", "15.2", "1.52", "0.152", "0.00152"
    ]  # fmt: skip


def test_run_process_reports_output_status_and_timeout() -> None:
    ran = run_process([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], timeout_s=30)
    assert (ran.stdout, ran.status, ran.ok, ran.timed_out) == ("hi\n", 3, False, False)
    slow = run_process([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    assert slow.timed_out and not slow.ok


@pytest.mark.skipif(shutil.which("hyperfine") is None, reason="hyperfine is not installed")
def test_hyperfine_round_times_each_command_once() -> None:
    hyperfine = shutil.which("hyperfine")
    assert hyperfine is not None
    seconds = hyperfine_round(hyperfine, [["true"], ["true", "x"]], timeout_s=30)
    assert isinstance(seconds, list) and len(seconds) == 2


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "soon"])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_a_usage_error(
    tmp_path: Path, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fluentai", "bench", "--timeout", value],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.startswith("fluentai: error:")
        and "positive number of seconds" in result.stderr
    )


def test_cpu_pins_every_process_and_says_so(tmp_path: Path) -> None:
    # in a process of its own: the harness pins itself, and so everything it starts
    cpu = min(os.sched_getaffinity(0))
    programs = {
        "pin.py": "import os\nprint(sorted(os.sched_getaffinity(0)))\n",
        "pin.fl": f"(print [{cpu}])\n",  # the Python program must print the same: one CPU
    }
    suite = _suite(tmp_path / "suite", {"pin": ("1", "1")}, programs)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fluentai", "bench", "--tiers", "vm", "--peers", "none"]
    common = ["--runs", "1", "--no-plot", "--no-hyperfine", "--benchmarks", str(suite)]
    result = subprocess.run(
        [*command, *common, "--cpu", str(cpu), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"every process on CPU {cpu}" in (out / "benchmarks.md").read_text(encoding="utf-8")
    for bad in ("4096", "-1", "one"):
        result = subprocess.run(
            [*command, *common, "--cpu", bad], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2 and result.stderr.startswith("fluentai: error:"), bad
