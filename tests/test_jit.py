"""The tiered JIT of `--tier auto` (DESIGN.md §7, fluentai/jit/): policy, tier-up, the value
bridge at VM/native crossings, errors, exit and Ctrl-C coming back from native code, the code
cache (a warm run imports no LLVM), and what keeps code in the VM.

The corpus runs under the JIT as well (tests/tiers.py: auto, auto-jit0, and sampled auto-jit2,
auto-stress, auto-jit0-O2); these tests check what the corpus cannot see."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from prelude_seed import seed

from fluentai.jit.policy import DEFAULT_CALLS, DEFAULT_LOOPS, Thresholds, decide

REPO_ROOT = Path(__file__).resolve().parent.parent
NOW = {"FLUENTAI_JIT_THRESHOLD": "0", "FLUENTAI_JIT_SYNC": "1", "FLUENTAI_JIT_OPT": "0"}

FIB = """
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(print (fib 24))
"""


class Result(NamedTuple):
    status: int
    stdout: str
    stderr: str


def _env(cache: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    seed(cache)  # the prelude's units, compiled once per test process
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["FLUENTAI_CACHE_DIR"] = str(cache)
    # a run waits for its image however long it takes (tests that look at the next run)
    env["FLUENTAI_IMAGE_WAIT_MS"] = "600000"
    env.update(extra or {})
    return env


def run(
    tmp_path: Path,
    source: str,
    *flags: str,
    env: dict[str, str] | None = None,
    python: tuple[str, ...] = (),
) -> Result:
    (tmp_path / "prog.fl").write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, *python, "-m", "fluentai", "run", *flags, "prog.fl"],
        cwd=tmp_path,
        capture_output=True,
        env=_env(tmp_path / "cache", env),
        timeout=120,
    )
    result = Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


# ---------------------------------------------------------------- policy (no LLVM)


def test_default_thresholds_are_the_documented_ones() -> None:
    t = Thresholds.from_env({})
    assert (t.calls, t.loops, t.time_ms, t.sync) == (DEFAULT_CALLS, DEFAULT_LOOPS, 100.0, False)
    assert (DEFAULT_CALLS, DEFAULT_LOOPS) == (1000, 10_000)


def test_threshold_zero_fires_every_trigger_at_first_entry() -> None:
    t = Thresholds.from_env({"FLUENTAI_JIT_THRESHOLD": "0", "FLUENTAI_JIT_SYNC": "1"})
    assert t == Thresholds(0, 0, 0.0, True)
    assert decide(t, calls=1, backedges=0, time_ns=0) is not None
    assert decide(t, calls=0, backedges=1, time_ns=0) is not None


def test_decide_names_the_trigger() -> None:
    t = Thresholds()
    assert decide(t, calls=1000, backedges=10_000, time_ns=100_000_000) is None
    assert decide(t, calls=1001, backedges=0, time_ns=0) == "calls 1001 > 1000"
    assert decide(t, calls=0, backedges=10_001, time_ns=0) == "loop iterations 10001 > 10000"
    assert decide(t, calls=0, backedges=0, time_ns=150_000_000) == "time 150 ms > 100 ms"


def test_environment_overrides_each_threshold_and_ignores_garbage() -> None:
    t = Thresholds.from_env(
        {
            "FLUENTAI_JIT_THRESHOLD": "7",
            "FLUENTAI_JIT_LOOP_THRESHOLD": "9",
            "FLUENTAI_JIT_TIME_MS": "5",
        }
    )
    assert (t.calls, t.loops, t.time_ms) == (7, 9, 5.0)
    assert Thresholds.from_env({"FLUENTAI_JIT_THRESHOLD": "lots"}).calls == DEFAULT_CALLS


# ---------------------------------------------------------------- tier-up


def test_a_hot_function_runs_natively_at_the_default_thresholds(tmp_path: Path) -> None:
    # compiled in place (FLUENTAI_JIT_SYNC=1), so the outcome does not depend on the machine's load
    r = run(tmp_path, FIB, "--jit-stats", env={"FLUENTAI_JIT_SYNC": "1"})
    assert r.status == 0 and r.stdout == "46368\n", r
    assert "jit: first hot function: fib (calls 1001 > 1000)" in r.stderr
    assert "program compiled, hot calls run natively" in r.stderr
    native_calls = int(r.stderr.split("VM->native calls ")[1].split(",")[0])
    assert native_calls >= 1, r.stderr


def test_background_compilation_leaves_the_output_alone(tmp_path: Path) -> None:
    # the compile thread may or may not finish before the program does: same output either way
    r = run(tmp_path, FIB.replace("24", "27"), "--jit-stats")
    assert (r.status, r.stdout) == (0, "196418\n")
    assert "jit: first hot function: fib (calls 1001 > 1000)" in r.stderr


def test_a_second_run_takes_the_code_from_the_cache_without_importing_llvm(
    tmp_path: Path,
) -> None:
    first = run(tmp_path, FIB, "--jit-stats", env=NOW)
    assert first.stdout == "46368\n" and "from the cache" not in first.stderr
    second = run(tmp_path, FIB, "--jit-stats", env=NOW, python=("-X", "importtime"))
    assert second.stdout == "46368\n"
    assert "(object code from the cache)" in second.stderr
    imported = [line for line in second.stderr.splitlines() if line.startswith("import time:")]
    assert imported, "no -X importtime output"
    heavy = ("llvmlite", "fluentai.llvm.lower", "fluentai.llvm.engine")
    assert not [line for line in imported if any(name in line for name in heavy)]


def test_fluentai_jit_0_keeps_everything_in_the_vm(tmp_path: Path) -> None:
    r = run(tmp_path, FIB, "--jit-stats", env={**NOW, "FLUENTAI_JIT": "0"})
    assert r.stdout == "46368\n"
    assert "jit: native tiers off (FLUENTAI_JIT=0)" in r.stderr


def test_a_loop_running_in_the_vm_finishes_natively(tmp_path: Path) -> None:
    source = """
(define (count n) (let next ((i 0) (acc 0)) (if (< i n) (next (+ i 1) (+ acc i)) acc)))
(print (count 300000))
"""
    r = run(tmp_path, source, "--jit-stats", env={"FLUENTAI_JIT_SYNC": "1"})
    assert r.stdout == "44999850000\n", r
    # the loop trigger, or on a loaded machine the (wall-clock) time trigger a little earlier
    assert "first hot function: next (" in r.stderr
    assert "of which on-stack replacements 1" in r.stderr


# ---------------------------------------------------------------- crossings


def test_values_of_every_kind_cross_both_ways(tmp_path: Path) -> None:
    source = """
(data Shape (Circle Float) (Rect Int Int))
(define (echo x) (if (= x 'never) x (identity x)))
(define (identity x) x)
(define big (range 100))
(print (echo 1) (echo (pow 2 100)) (echo 1.5) (echo #t) (echo nil) (echo [])
       (echo "héllo") (echo 'sym) (echo [1 [2 3]]) (echo {"a" 1 :b [2]})
       (echo (Circle 2.0)) (echo (Rect 1 2)) (echo None) (echo (Some 3))
       (echo (Error "oops" "message" {1 2})) (length (echo big)) (= (echo big) big))
(print ((echo (lambda (y) (* y 2))) 21) ((echo +) 1 2) (map (echo head) [[1] [2]]))
"""
    want = run(tmp_path, source, env={"FLUENTAI_JIT": "0"})
    got = run(tmp_path, source, "--jit-stats", env=NOW)
    assert want.status == 0, want
    assert got.stdout == want.stdout
    assert "VM->native calls 0," not in got.stderr


def test_globals_assigned_in_native_code_come_back_to_the_vm(tmp_path: Path) -> None:
    source = """
(define counter 0)
(define (bump n) (when (> n 0) (set! counter (+ counter 1)) (bump (- n 1))))
(bump 5)
(print counter)
(set! counter 100)
(bump 2)
(print counter)
"""
    r = run(tmp_path, source, env=NOW)
    assert (r.status, r.stdout) == (0, "5\n102\n")


def test_a_handler_in_the_vm_keeps_calls_in_the_vm(tmp_path: Path) -> None:
    source = """
(define (say x) (io:print x) (if (= x 0) 0 (say (- x 1))))
(handler ((io:print (lambda (x) (io:write "caught " x "\\n"))))
  (say 2))
(say 1)
"""
    want = run(tmp_path, source, env={"FLUENTAI_JIT": "0"})
    r = run(tmp_path, source, "--jit-stats", env=NOW)
    assert r.stdout == want.stdout and r.stdout.startswith("caught"), r
    assert "a handler is installed in the VM" in r.stderr


def test_the_state_store_goes_to_native_code_and_comes_back(tmp_path: Path) -> None:
    """A program using `state:*` runs natively: the unit gets the VM's store (jit/state.py),
    and the VM's own state operations work on it meanwhile, a closure over an assigned variable
    included (the VM and native code share the variable: jit/bridge.py, TwinBox)."""
    source = """
(print "first")
(define (f n) (if (= n 0) (state:get 'k) (f (- n 1))))
(state:set 'k 5)
(print (f 3))
(state:begin-transaction)
(state:set 'k [1 "two" {:three 3}])
(print (f 3))
(define counter (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
(state:set 'c counter)
(print ((state:get 'c)) (counter) (f 2))
(state:rollback-transaction)
(print (f 1) (state:get 'c))
"""
    want = run(tmp_path, source, env={"FLUENTAI_JIT": "0"})
    r = run(tmp_path, source, env={**NOW, "FLUENTAI_JIT_LOG": "/dev/stderr"})
    assert (
        r.stdout
        == want.stdout
        == 'first\n5\n[1 "two" {:three 3}]\n1 2 [1 "two" {:three 3}]\n5 nil\n'
    )
    log = r.stderr
    assert "the state store is handed to native code" in log, log
    assert "does not run from now on" not in log, log


def test_long_builtins_are_safepoints_only_on_the_programs_thread() -> None:
    """The compiler calls builtins too (constant folding of `(range 100000)`): a safepoint on
    its thread installed the unit there, attaching that thread to the collector instead of the
    program's, and the run crashed at its next collection."""
    import threading
    import types

    from fluentai.vm import profile

    installs: list[int] = []
    jit = types.SimpleNamespace(
        state=2,  # compiled: a safepoint installs
        install=lambda: installs.append(threading.get_ident()),
        thresholds=Thresholds.from_env({}),
    )
    profiler = profile.Profiler(jit)
    profiler.running = types.SimpleNamespace(time_ns=0, hot=False)  # type: ignore[assignment]
    profile.activate(profiler)
    try:
        other = threading.Thread(target=profile.long_builtin_safepoint)
        other.start()
        other.join()
        assert installs == []
        profile.long_builtin_safepoint()
        assert installs == [threading.get_ident()]
    finally:
        profile.activate(None)


# ---------------------------------------------------------------- errors, exit, Ctrl-C


ERROR_PROGRAMS = [
    # raised deep inside native frames, uncaught: the VM's whole report and trace
    "(define (down n) (if (= n 0) (/ 1 0) (+ 1 (down (- n 1)))))\n(print (down 5))\n",
    # through a tail call
    "(define (spin n) (if (= n 0) (head []) (spin (- n 1))))\n(print (spin 30))\n",
    # caught by a try in the VM, with the error value's fields intact
    '(define (bad n) (if (= n 0) (error:raise \'mine "deep" [1 2]) (bad (- n 1))))\n'
    "(print (try (bad 3) (catch e [(error-kind e) (error-message e) (error-data e)])))\n",
    # a stack overflow in native code, counted with the VM's frames
    "(define (inf n) (+ 1 (inf n)))\n(print (inf 1))\n",
    # exit from native code
    '(define (quit n) (if (= n 0) (exit 3) (quit (- n 1))))\n(print "a")\n(quit 4)\n',
    # a builtin's loop (a tail call in the VM's prelude code) calls a failing program function:
    # the trace keeps the top level's entry, which belongs to no prelude frame
    "(define (f a) (head a))\n(map f [[1] []])\n",
    "(define (f a) (head a))\n(define (g) (map f [[1] []]))\n(g)\n",
    "(define (f a b) (< (head a) (head b)))\n(print (sort [[1] [] [2]] f))\n",
    # a builtin's name defined after compiled code called it: the builtin until then
    "(define (add n) (if (= n 0) 0 (+ 1 (add (- n 1)))))\n(print (add 3))\n"
    '(define (+ a b) "mine")\n(print (add 3))\n',
    # assoc through a value: 3, 5, 7, ... arguments
    "(define a assoc)\n(print (a {} 1 2))\n(a {} 1 2 3)\n",
]


@pytest.mark.parametrize("source", ERROR_PROGRAMS)
def test_errors_and_exit_from_native_code_look_like_the_vms(tmp_path: Path, source: str) -> None:
    want = run(tmp_path, source, env={"FLUENTAI_JIT": "0"})
    got = run(tmp_path, source, env=NOW)
    assert (got.status, got.stdout, got.stderr) == (want.status, want.stdout, want.stderr)


def _default_sigint() -> None:
    """Ctrl-C as a terminal delivers it, whatever the test worker ignores (see test_cli.py)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def interrupt_when(
    tmp_path: Path,
    flags: list[str],
    env: dict[str, str],
    ready: Callable[[], bool],
    settle: float,
) -> tuple[int, bytes, bytes]:
    """Run prog.fl in `tmp_path`, send Ctrl-C `settle` seconds after `ready()` holds; return
    (status, stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fluentai", "run", *flags, "prog.fl"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path / "cache", env),
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "never became ready"
            time.sleep(0.02)
        time.sleep(settle)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def test_sigint_stops_native_code_and_runs_the_vms_finally(tmp_path: Path) -> None:
    source = (
        '(define (spin i) (if (= i 3) (io:write-file "ready.txt" "")) (spin (+ i 1)))\n'
        '(try (spin 0) (finally (print "cleanup")))\n'
    )
    (tmp_path / "prog.fl").write_text(source)
    status, out, err = interrupt_when(
        tmp_path, ["--jit-stats"], NOW, lambda: (tmp_path / "ready.txt").exists(), settle=0.5
    )
    stderr = err.decode()
    assert status == 130, stderr
    assert out.decode() == "cleanup\n"
    assert "interrupted\n" in stderr and "Traceback" not in stderr
    assert "VM->native calls 0," not in stderr  # it was interrupted in native code


def test_the_jit_log_says_what_was_compiled_and_why(tmp_path: Path) -> None:
    log = tmp_path / "jit.log"
    r = run(tmp_path, FIB, env={**NOW, "FLUENTAI_JIT_LOG": str(log)})
    assert r.stdout == "46368\n"
    text = log.read_text()
    assert "jit: hot: fib: calls 1 > 0" in text
    assert "jit: installed:" in text


def test_time_spent_inside_one_long_range_call_makes_its_caller_hot(tmp_path: Path) -> None:
    # no call or back edge happens while `range` builds the list: the builtin is a safepoint
    log = tmp_path / "jit.log"
    env = {"FLUENTAI_JIT_TIME_MS": "5", "FLUENTAI_JIT_LOG": str(log)}
    result = run(tmp_path, "(print (length (range 2000000)))\n", env=env)
    assert result.stdout == "2000000\n"
    assert "hot: <top level>: time" in log.read_text()


LOOP_ONLY = """\
(define (count n)
  (let loop ((i 0) (acc 0))
    (if (= i n) acc (loop (+ i 1) (+ acc i)))))
(print (count 50))
"""


def test_the_loop_and_time_thresholds_are_flags_too(tmp_path: Path) -> None:
    # 50 iterations are below the default loop threshold (10 000): the flag makes them hot
    log = tmp_path / "jit.log"
    env = {"FLUENTAI_JIT_LOG": str(log), "FLUENTAI_JIT_SYNC": "1"}
    r = run(tmp_path, LOOP_ONLY, "--jit-loop-threshold", "20", env=env)
    assert r.stdout == "1225\n"
    assert "hot: loop: loop iterations 21 > 20" in log.read_text()
    log.unlink()
    r = run(tmp_path, "(print (length (range 2000000)))\n", "--jit-time-ms", "5", env=env)
    assert r.stdout == "2000000\n"
    assert "hot: <top level>: time" in log.read_text()
    bad = run(tmp_path, LOOP_ONLY, "--jit-loop-threshold", "-3")
    assert bad.status == 2 and "--jit-loop-threshold" in bad.stderr


# ---------------------------------------------------------------- standard input in native code

READ_LOOP = """\
(define (score line)
  (let loop ((i 0) (acc 0))
    (if (= i (string-length line)) acc (loop (+ i 1) (+ acc (mod (* i i) 7))))))
(let loop ((total 0) (lines 0))
  (when (= lines 2) (print "read 2 lines"))
  (let ((line (io:read-line)))
    (if (nil? line)
        (print lines total)
        (loop (+ total (score line)) (+ lines 1)))))
"""


def run_with_input(tmp_path: Path, data: bytes, *flags: str, env: dict[str, str]) -> Result:
    (tmp_path / "prog.fl").write_text(READ_LOOP, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "fluentai", "run", *flags, "prog.fl"],
        cwd=tmp_path,
        input=data,
        capture_output=True,
        env=_env(tmp_path / "cache", env),
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def test_native_code_reads_standard_input_through_the_vms_world(tmp_path: Path) -> None:
    # the world's buffer holds what the VM read ahead of the lines it gave (the first call of
    # the loop may be the VM's); the native loop must read on from the same buffer
    data = "".join(f"{'x' * (i % 37)}\n" for i in range(500)).encode()
    want = run_with_input(tmp_path, data, env={"FLUENTAI_JIT": "0"})
    got = run_with_input(tmp_path, data, "--jit-stats", env={**NOW, "FLUENTAI_IMAGE": "0"})
    assert want.stdout.startswith("read 2 lines\n500 ") and got.stdout == want.stdout, got.stderr
    assert "VM->native calls 0," not in got.stderr  # the reading loop ran natively
    assert "uses `io:read-line`" not in got.stderr


def test_bad_input_read_by_native_code_is_reported_as_the_vm_reports_it(tmp_path: Path) -> None:
    data = b"abc\ndefgh\n\xff\xfe\nxyz\n"
    want = run_with_input(tmp_path, data, env={"FLUENTAI_JIT": "0"})
    got = run_with_input(tmp_path, data, env={**NOW, "FLUENTAI_IMAGE": "0"})
    assert "error[io-error]" in want.stderr and want.status == 70
    assert (got.status, got.stdout, got.stderr) == (want.status, want.stdout, want.stderr)


def test_sigint_while_native_code_waits_for_input(tmp_path: Path) -> None:
    (tmp_path / "prog.fl").write_text(READ_LOOP, encoding="utf-8")
    env = {**NOW, "FLUENTAI_IMAGE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fluentai", "run", "--jit-stats", "prog.fl"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path / "cache", env),
        preexec_fn=_default_sigint,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"abc\nde\n")
        proc.stdin.flush()  # kept open: the native loop then waits for a third line
        assert proc.stdout.readline() == b"read 2 lines\n"  # printed by the native loop
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)  # standard input stays open (its end would be a line: nil)
        assert proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.stdin.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    stderr = err.decode()
    assert proc.returncode == 130, stderr
    assert out == b"" and "interrupted\n" in stderr and "Traceback" not in stderr
    assert "VM->native calls 0," not in stderr


def test_constant_folding_never_builds_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """`(range 30000000)` has literal arguments, but its list is not folded: computing it at
    compile time only to drop it took 16 s."""
    from fluentai import frontend, primitives, records
    from fluentai.source import SourceFile

    def refuse(*args: object) -> object:
        raise AssertionError(f"range computed while compiling: {args}")

    lookup = primitives.lookup
    row = records.replace(lookup("range"), vm=refuse)
    monkeypatch.setattr(primitives, "lookup", lambda name: row if name == "range" else lookup(name))
    src = SourceFile("p.fl", "(print (length (range 30000000)) (+ 1 2))\n")
    frontend.resolve_source(src, is_prelude=False)


def test_function_pairs_live_as_long_as_the_vm_closure() -> None:
    """The bridge pairs a VM closure with its native twin so that a function keeps its
    identity across crossings (tests/programs/closures/identity_across_crossings.fl); the
    native twin stays pinned only while the VM closure lives, and a new unit forgets all."""
    import ctypes
    import gc
    import types

    from fluentai.jit.bridge import FnPairs
    from fluentai.vm.values import Closure

    pages: list[ctypes.Array[ctypes.c_uint64]] = []

    def pin_page(n: int) -> int:
        pages.append((ctypes.c_uint64 * n)())
        return ctypes.addressof(pages[-1])

    pairs = FnPairs(types.SimpleNamespace(fl_bridge_pin_page=pin_page))
    a, b = Closure(None, (), "a"), Closure(None, (), "b")
    pairs.pair(a, 0x1000)
    pairs.pair(b, 0x2000)
    pairs.pair(a, 0x3000)  # already paired: the first twin stays
    assert (pairs.native(a), pairs.native(b), pairs.vm(0x1000), pairs.vm(0x2000)) == (
        0x1000,
        0x2000,
        a,
        b,
    )
    assert sorted(w for w in pages[0] if w) == [0x1000, 0x2000]  # pinned
    del a
    gc.collect()
    assert pairs.vm(0x1000) is None and len(pairs) == 1
    assert sorted(w for w in pages[0] if w) == [0x2000]  # unpinned when the closure died
    c = Closure(None, (), "c")
    pairs.pair(c, 0x1000)  # the freed slot and address are used again
    assert pairs.vm(0x1000) is c and len(pages) == 1
    pairs.clear()
    assert len(pairs) == 0 and not any(pages[0]) and pairs.native(b) is None
    del b, c
    gc.collect()  # callbacks of forgotten pairs change nothing
    assert len(pairs) == 0 and not any(pages[0])


def test_closures_capturing_more_than_64_variables_cross_to_native_code(tmp_path: Path) -> None:
    # the bridge marks a closure's self reference and boxes in 64-bit masks: a closure whose
    # marked variable lies beyond them stays in the VM (it crashed the run before)
    program = (REPO_ROOT / "tests/programs/closures/many_captured_variables.fl").read_text()
    r = run(tmp_path, program, "--jit-stats", env=NOW)
    assert (r.status, r.stdout) == (0, "7455\n2486 2487\n"), r.stderr
    assert "VM->native calls " in r.stderr


def test_a_big_program_is_not_compiled_beside_the_vm_when_the_process_fails() -> None:
    """The image compiler process did not compile the program: a small one is compiled on a
    thread of the run, a big one stays in the VM (docs/decisions.md, "Start-up" 11)."""
    from types import SimpleNamespace

    from fluentai import imageproc
    from fluentai.jit.jit import FAILED, Jit

    for size, compiled in ((100, True), (imageproc.BIG_PROGRAM_CHARS, False)):
        started: list[bool] = []
        logged: list[str] = []
        fake = SimpleNamespace(
            src=SimpleNamespace(text="x" * size),
            state=None,
            stats=SimpleNamespace(state=""),
            log=logged.append,
            _start_compile_thread=functools.partial(started.append, True),
        )
        Jit._compile_here(fake, "the process is gone")  # type: ignore[arg-type]
        assert bool(started) is compiled
        assert (fake.state == FAILED) is not compiled
        assert logged[0].startswith("the process is gone: ")
