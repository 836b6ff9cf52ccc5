"""Tier 2 of the JIT (fluentai/jit/tier2.py, docs/jit.md "Tier 2"): functions hot in tier 1
recompiled specialized on the argument kinds the VM saw, guards on the VM's calls of them, deopts
that finish the call in the VM, recompilation with wider kinds, blacklisting, FLUENTAI_DEOPT_STRESS.

The corpus runs under tier 2 too (tests/tiers.py: auto-stress, auto-tier2, auto-tier2-O2); these
tests check what the corpus cannot see: the counters, the log, and each step of the policy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_jit import NOW, _env, run

from fluentai.jit.policy import (
    DEFAULT_DEOPT_LIMIT,
    DEFAULT_RECOMPILE_LIMIT,
    DEFAULT_TIER2_CALLS,
    Thresholds,
    decide_tier2,
)
from fluentai.jit.tier2 import check, guard_of, observed_guard, widen
from fluentai.vm.profile import MEGAMORPHIC

SYNC = {"FLUENTAI_JIT_SYNC": "1", "FLUENTAI_JIT_OPT": "0", "FLUENTAI_JIT_TIER2_OPT": "0"}
TIER2_NOW = {**NOW, "FLUENTAI_JIT_TIER2_THRESHOLD": "0", "FLUENTAI_JIT_TIER2_OPT": "0"}

# `sum-to` is called from a loop in the top level (which always runs in the VM): every call is a
# VM->native call. After 1000 of them it goes to tier 2 specialized on Int; then FLOATS calls
# pass a Float.
SUM_TO = """
(define (sum-to n) (let loop ((i 0) (acc 0)) (if (> i n) acc (loop (+ i 1) (+ acc i)))))
(define k 0)
(define total 0)
(while (< k 2500) (set! total (+ total (sum-to 10))) (set! k (+ k 1)))
(print total)
(set! k 0)
(while (< k FLOATS) (set! total (+ total (sum-to 2.5))) (set! k (+ k 1)))
(print total)
(print (sum-to "x"))
"""


def sum_to(floats: int) -> str:
    return SUM_TO.replace("FLOATS", str(floats))


def vm_run(tmp_path: Path, source: str) -> tuple[int, str, str]:
    r = run(tmp_path, source, env={"FLUENTAI_JIT": "0"})
    return r.status, r.stdout, r.stderr


def stat(stderr: str, pattern: str) -> str:
    m = re.search(pattern, stderr)
    assert m is not None, f"{pattern!r} not in:\n{stderr}"
    return m.group(1)


# ---------------------------------------------------------------- policy (no LLVM)


def test_tier2_settings_default_and_from_the_environment() -> None:
    t = Thresholds.from_env({})
    assert (t.tier2_calls, t.tier2_time_ms) == (DEFAULT_TIER2_CALLS, 50.0)
    assert (t.deopt_limit, t.recompile_limit) == (DEFAULT_DEOPT_LIMIT, DEFAULT_RECOMPILE_LIMIT)
    t = Thresholds.from_env(
        {
            "FLUENTAI_JIT_TIER2_THRESHOLD": "5",
            "FLUENTAI_JIT_TIER2_TIME_MS": "9",
            "FLUENTAI_JIT_DEOPT_LIMIT": "3",
            "FLUENTAI_JIT_RECOMPILE_LIMIT": "0",
        }
    )
    assert (t.tier2_calls, t.tier2_time_ms, t.deopt_limit, t.recompile_limit) == (5, 9.0, 3, 0)
    # 0: at the first VM->native call, whatever the time budget says; tier 1 keeps its own
    t = Thresholds.from_env(
        {"FLUENTAI_JIT_TIER2_THRESHOLD": "0", "FLUENTAI_JIT_TIER2_TIME_MS": "9"}
    )
    assert (t.tier2_calls, t.tier2_time_ms, t.calls) == (0, 0.0, 1000)
    assert decide_tier2(t, crossings=1, native_ns=0) == "VM->native calls 1 > 0"
    t = Thresholds.from_env({"FLUENTAI_JIT_TIER2_THRESHOLD": "many"})
    assert t.tier2_calls == DEFAULT_TIER2_CALLS
    assert decide_tier2(t, crossings=3, native_ns=0) is None
    assert decide_tier2(t, crossings=3, native_ns=250_000_000) == "native time 250 ms > 50 ms"


def test_guards_come_from_the_profiled_kinds() -> None:
    assert observed_guard({("Int", "Str"): 5, ("Int", "Float"): 2}, 2) == (
        (("Int",), ("Float", "Str")),
        "",
    )
    # lists and closures are not checked: that parameter is unguarded
    assert observed_guard({("List", "Int"): 5}, 2) == ((None, ("Int",)), "")
    assert observed_guard({("List",): 5}, 1) == (None, "no argument of a kind a guard checks")
    assert observed_guard({MEGAMORPHIC: 1, ("Int",): 3}, 1)[1] == "megamorphic arguments"
    assert observed_guard({}, 1) == (None, "no argument kinds observed")
    assert guard_of([{"Int", "Float", "Str", "Bool"}]) is None  # more than the lattice keeps


def test_the_guard_names_the_first_argument_of_another_kind() -> None:
    guard = (("Int",), None, ("Float", "Int"))
    assert check(guard, [1, "anything", 2.5]) == -1
    assert check(guard, [1, [], 3]) == -1
    assert check(guard, [1.0, [], 3]) == 0
    assert check(guard, [True, [], 3]) == 0  # a Bool is not an Int
    assert check(guard, [1, [], "s"]) == 2
    assert widen(guard, 0, "Float") == (("Float", "Int"), None, ("Float", "Int"))
    assert widen((("Int",),), 0, "List") is None  # nothing left to check


def test_seeds_specialize_a_known_function_whatever_its_call_sites_pass() -> None:
    from fluentai import native
    from fluentai.source import SourceFile
    from fluentai.types.infer import infer_program
    from fluentai.types.lattice import INT

    text = "(define (f n) (+ n 1))\n(print (f 1))\n(print (f 2.5))\n"
    program = native.resolve(SourceFile("s.fl", text), is_prelude=False)
    prelude = native._prelude()
    closed = infer_program(prelude, program)
    assert closed.signature("f")[0][0].kinds == frozenset({"Int", "Float"})
    seeded = infer_program(prelude, program, {"f": (INT,)}, closed_world=True)
    assert seeded.signature("f")[0][0].kinds == frozenset({"Int"})


# ---------------------------------------------------------------- tier-up, guards, deopts


def test_a_function_hot_in_tier_1_goes_to_tier_2_specialized(tmp_path: Path) -> None:
    source = sum_to(0)
    want = vm_run(tmp_path, source)
    log = tmp_path / "jit.log"
    r = run(tmp_path, source, "--jit-stats", env={**SYNC, "FLUENTAI_JIT_LOG": str(log)})
    assert (r.status, r.stdout) == want[:2]
    assert stat(r.stderr, r"jit: tier 2 units (\d+)") == "1"
    assert "jit: tier 2: sum-to (n: Int)" in r.stderr
    assert int(stat(r.stderr, r"in tier 2 (\d+), of which specialized")) >= 1
    text = log.read_text(encoding="utf-8")
    assert "jit: tier 2 wanted: sum-to: VM->native calls 1001 > 1000" in text
    assert "jit: installed tier 2 unit 1:" in text
    assert "compiled tier 2:" in text
    # the string argument at the end failed the guard: the VM ran that call and gave its error
    assert "argument 1 `n`: expected Int, got Str" in r.stderr
    assert r.stderr.splitlines()[0] == want[2].splitlines()[0]


def test_a_failed_guard_deoptimizes_and_the_output_is_the_vms(tmp_path: Path) -> None:
    source = sum_to(3)
    want = vm_run(tmp_path, source)
    r = run(tmp_path, source, "--jit-stats", env=SYNC)
    assert (r.status, r.stdout) == want[:2]
    assert want[2] in r.stderr  # the VM's report (the string's comparison), then the stats
    assert stat(r.stderr, r"jit: deopts (\d+)") == "4"
    assert "jit: deopts of sum-to: argument 1 `n`: expected Int, got Float x3" in r.stderr
    assert "argument 1 `n`: expected Int, got Str x1" in r.stderr
    assert "jit: recompilations" not in r.stderr  # 4 failures are below the limit (16)


def test_repeated_failures_recompile_with_the_wider_kinds(tmp_path: Path) -> None:
    source = sum_to(40)
    want = vm_run(tmp_path, source)
    log = tmp_path / "jit.log"
    env = {**SYNC, "FLUENTAI_JIT_DEOPT_LIMIT": "5", "FLUENTAI_JIT_LOG": str(log)}
    r = run(tmp_path, source, "--jit-stats", env=env)
    assert (r.status, r.stdout) == want[:2]
    # 5 Floats failed the guard, then the unit specialized on Float|Int took the other 35; the
    # string fails the new guard
    assert stat(r.stderr, r"jit: deopts (\d+)") == "6"
    assert "jit: recompilations 1: sum-to (n: Float|Int)" in r.stderr
    assert "jit: tier 2: sum-to (n: Float|Int)" in r.stderr
    assert stat(r.stderr, r"jit: tier 2 units (\d+)") == "2"
    text = log.read_text(encoding="utf-8")
    assert "recompile: sum-to: 5 failed guards, now n: Float|Int; next limit 10" in text
    assert "expected Float|Int, got Str" in text


def test_a_function_that_keeps_deoptimizing_is_blacklisted(tmp_path: Path) -> None:
    source = sum_to(40)
    want = vm_run(tmp_path, source)
    env = {**SYNC, "FLUENTAI_JIT_DEOPT_LIMIT": "4", "FLUENTAI_JIT_RECOMPILE_LIMIT": "0"}
    r = run(tmp_path, source, "--jit-stats", env=env)
    assert (r.status, r.stdout) == want[:2]
    reason = stat(r.stderr, r"jit: blacklisted: sum-to: (.*)")
    assert reason == (
        "4 failed guards after 0 recompilations (last: argument 1 `n`: expected Int, got Float)"
    )
    # the unit after the blacklisting has it unspecialized: no guard, no more deopts
    assert stat(r.stderr, r"jit: deopts (\d+)") == "4"
    assert "jit: tier 2: sum-to" not in r.stderr
    assert "jit: recompilations" not in r.stderr


def test_native_callers_of_a_specialized_function_pass_any_kind(tmp_path: Path) -> None:
    # `via` is not specialized (it is not a known function: it is assigned), so it calls the
    # Int-specialized `sum-to` natively with a Float: no guard there, the generic paths of the
    # same code give the right result
    source = """
(define (sum-to n) (let loop ((i 0) (acc 0)) (if (> i n) acc (loop (+ i 1) (+ acc i)))))
(define via (lambda (x) (sum-to x)))
(set! via (lambda (x) (+ 0 (sum-to x))))
(define k 0)
(while (< k 2500) (sum-to 5) (set! k (+ k 1)))
(print (via 4.5))
(print (via 2))
(print (sum-to 1.5))
"""
    want = vm_run(tmp_path, source)
    r = run(tmp_path, source, "--jit-stats", env=SYNC)
    assert (r.status, r.stdout, r.stderr.startswith("jit:")) == (*want[:2], True)
    assert "jit: tier 2: sum-to (n: Int)" in r.stderr
    assert stat(r.stderr, r"jit: deopts (\d+)") == "1"  # only the VM's own call with 1.5


def test_errors_in_tier_2_code_give_the_vms_report(tmp_path: Path) -> None:
    source = """
(define (pick xs n) (if (= n 0) (head xs) (pick (tail xs) (- n 1))))
(define k 0)
(while (< k 50) (pick [1 2 3] 2) (set! k (+ k 1)))
(print (pick [1 2 3] 5))
"""
    want = vm_run(tmp_path, source)
    got = run(tmp_path, source, env=TIER2_NOW)
    assert (got.status, got.stdout, got.stderr) == want


@pytest.mark.parametrize("seed", ["1", "2"])
def test_stress_makes_guards_fail_at_random(tmp_path: Path, seed: str) -> None:
    # the loops must stay in the VM, so that every call is a VM->native call: a loop threshold
    # no loop reaches keeps them from switching to native code at a back edge (docs/jit.md,
    # "On-stack replacement at `while` back edges")
    source = """
(define (sum-to n) (let loop ((i 0) (acc 0)) (if (> i n) acc (loop (+ i 1) (+ acc i)))))
(define total 0)
(let ((k 0))
  (define (more? n) (< k n))
  (while (more? 2500) (set! total (+ total (sum-to 10))) (set! k (+ k 1)))
  (print total)
  (set! k 0)
  (while (more? 30) (set! total (+ total (sum-to 2.5))) (set! k (+ k 1)))
  (print total)
  (print (sum-to "x")))
"""
    want = vm_run(tmp_path, source)
    env = {
        **TIER2_NOW,
        "FLUENTAI_JIT_THRESHOLD": "1",
        "FLUENTAI_JIT_LOOP_THRESHOLD": "1000000000",
        "FLUENTAI_JIT_TIME_MS": "1000000",
        "FLUENTAI_DEOPT_STRESS": seed,
        "FLUENTAI_JIT_DEOPT_LIMIT": "3",
    }
    r = run(tmp_path, source, "--jit-stats", env=env)
    assert (r.status, r.stdout) == want[:2]
    assert "FLUENTAI_DEOPT_STRESS x" in stat(r.stderr, r"jit: deopts of sum-to: (.*)")
    # random failures widen nothing: recompiled with the same kinds until blacklisted
    assert "jit: blacklisted: sum-to:" in r.stderr


# ---------------------------------------------------------------- inline caches

# `apply-n`'s call `(f x)` calls the closures of `adder` and one other lambda while the VM runs
# it (a threshold of 50 leaves it that long), so the tier-2 unit gives it an inline cache; then
# other functions reach the site (the cache misses), an error is raised and the depth limit
# reached through it
APPLY_N = """
(define (apply-n f n x) (if (= n 0) x (apply-n f (- n 1) (f x))))
(define (adder k) (lambda (x) (+ x k)))
(define total 0)
(define i 0)
(while (< i 300)
  (set! total (+ total (apply-n (adder i) 20 0) (apply-n (lambda (x) (- x 1)) 2 0)))
  (set! i (+ i 1)))
(print total)
(print (apply-n (lambda (x) (* x 2)) 10 1))
(print (apply-n (lambda (s) (str s "!")) 3 "hi"))
(define (deep n) (if (= n 0) 0 (+ 1 (apply-n (lambda (x) (deep (- n 1))) 1 0))))
(print (deep 1000))
(print (try (deep 200000) (catch e (error-kind e))))
(print (apply-n (adder "x") 2 1))
"""
IC_ENV = {
    **SYNC,
    "FLUENTAI_JIT_THRESHOLD": "50",
    "FLUENTAI_JIT_TIER2_THRESHOLD": "0",
    "FLUENTAI_JIT_TIER2_OPT": "2",  # so that LLVM inlines the cached functions
    "FLUENTAI_IMAGE": "0",
}


def test_call_targets_are_the_sites_that_saw_one_or_two_program_functions() -> None:
    from fluentai.jit.tier2 import call_targets
    from fluentai.source import SourceFile, Span
    from fluentai.vm.code import Code

    src = SourceFile("p.fl", " " * 200)

    def code(name: str, start: int, end: int) -> Code:
        c = Code(name, 1, False, 1, span=Span(src, start, end))
        c.spans = [Span(src, 100, 105), Span(src, 110, 115), Span(src, 120, 125)]
        return c

    f, g, h = code("f", 10, 20), code("g", 30, 40), code("h", 50, 60)
    caller = code("caller", 0, 200)
    caller.site_targets = {2: {f: 3, g: 9}, 4: {h: 1}, 6: {f: 5, g: 1, None: 2}}
    assert call_targets([caller]) == {
        "100:105": [[30, 40, "g"], [10, 20, "f"]],  # the most called first
        "110:115": [[50, 60, "h"]],
        # 120:125 saw a third function: megamorphic, no cache
    }
    caller.is_prelude = True
    assert call_targets([caller]) == {}


def test_a_call_site_gets_an_inline_cache_and_misses_stay_correct(tmp_path: Path) -> None:
    want = vm_run(tmp_path, APPLY_N)
    log = tmp_path / "jit.log"
    r = run(tmp_path, APPLY_N, "--jit-stats", env={**IC_ENV, "FLUENTAI_JIT_LOG": str(log)})
    assert (r.status, r.stdout) == want[:2]
    assert want[2] in r.stderr  # the report and trace of the error raised in a cached function
    assert int(stat(r.stderr, r"jit: inline caches \(call sites\) (\d+)")) >= 1
    assert re.search(r"installed tier 2 unit 1: .* [1-9]\d* inline caches", log.read_text())


def test_inline_caches_can_be_turned_off(tmp_path: Path) -> None:
    want = vm_run(tmp_path, APPLY_N)
    env = {**IC_ENV, "FLUENTAI_JIT_INLINE_CACHES": "0"}
    r = run(tmp_path, APPLY_N, "--jit-stats", env=env)
    assert (r.status, r.stdout) == want[:2]
    assert stat(r.stderr, r"jit: inline caches \(call sites\) (\d+)") == "0"


# ---------------------------------------------------------------- the code budget

# runs `fluentai ARGS...` in this process, then says how many of the code cache's shared objects
# are still mapped (the units the JIT did not unload)
MAPPED_UNITS = """
import sys
from fluentai import cli
status = cli.main(sys.argv[1:])
maps = open("/proc/self/maps", encoding="utf-8").read().splitlines()
units = {line.split()[-1] for line in maps if line.endswith(".so") and "/cache/" in line}
sys.stderr.write(f"units mapped {len(units)}\\n")
sys.exit(status)
"""


@pytest.mark.parametrize(("budget", "unloaded", "mapped"), [("0", 2, 1), ("32M", 0, 3)])
def test_replaced_units_are_unloaded_beyond_the_code_budget(
    tmp_path: Path, budget: str, unloaded: int, mapped: int
) -> None:
    source = sum_to(40)
    want = vm_run(tmp_path, source)
    log = tmp_path / "jit.log"
    env = {**SYNC, "FLUENTAI_JIT_DEOPT_LIMIT": "5", "FLUENTAI_JIT_LOG": str(log)}
    proc = subprocess.run(
        [sys.executable, "-c", MAPPED_UNITS, "run", "--jit-stats", "--jit-code-budget", budget]
        + ["prog.fl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path / "cache", env),
        timeout=120,
    )
    assert (proc.returncode, proc.stdout) == want[:2], proc.stderr
    # tier 1, tier 2, and tier 2 again after the recompilation: three units loaded
    assert stat(proc.stderr, r"jit: units loaded (\d+)") == "3"
    assert stat(proc.stderr, r"units unloaded (\d+)") == str(unloaded)
    assert stat(proc.stderr, r"units mapped (\d+)") == str(mapped)
    text = log.read_text(encoding="utf-8")
    assert text.count("unloaded a replaced tier-") == unloaded
    if unloaded:
        assert "unloaded a replaced tier-1 unit" in text


def test_the_code_budget_takes_sizes_and_refuses_anything_else(tmp_path: Path) -> None:
    from fluentai.settings import byte_size, invalid

    assert [byte_size(t) for t in ("0", "100", "512K", "64m", "1GiB", " 2MB ")] == [
        0,
        100,
        512 << 10,
        64 << 20,
        1 << 30,
        2 << 20,
    ]
    assert [byte_size(t) for t in ("", "M", "-1", "1.5M", "64T", "1e6")] == [None] * 6
    assert Thresholds.from_env({"FLUENTAI_JIT_CODE_BUDGET": "1K"}).code_budget == 1024
    assert Thresholds.from_env({"FLUENTAI_JIT_CODE_BUDGET": "lots"}).code_budget == 32 << 20
    assert invalid({"FLUENTAI_JIT_CODE_BUDGET": "lots"}) == [
        "FLUENTAI_JIT_CODE_BUDGET='lots' is not a size in bytes (a count, or with K, M or G); "
        "using the default"
    ]
    r = run(tmp_path, "(print 1)", "--jit-code-budget", "lots")
    assert r.status == 2
    assert "expected a size in bytes (100, 512K, 64M, 1G), got `lots`" in r.stderr
