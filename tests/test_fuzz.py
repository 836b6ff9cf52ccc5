"""Robustness tests: regression cases found by fuzzing, plus a small seeded fuzz loop.

LANGUAGE.md §13.4: a user never sees a Python traceback or a crash. A compile-time error exits 65
with a `FILE:LINE:COL: error[KIND]: MESSAGE` report, an unhandled runtime error exits 70, a usage
error exits 2, an interrupt exits 130, `(exit n)` exits n, and an internal error
(`fluentai: error: internal error: ...`) is always a bug. No small program may hang.

The `test_bug_*` tests state the spec-correct behaviour of bugs found while fuzzing; they are
expected to fail until the bugs are fixed. `test_seeded_fuzz` mutates programs of
tests/programs with a fixed seed and checks only the robustness properties above.
"""

from __future__ import annotations

import glob
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REPORT_LINE = re.compile(r"(?m)^.+:\d+:\d+: error\[")
ALLOWED_STATUSES = {0, 2, 65, 70, 130}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    env.update(extra or {})
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) if not path else os.pathsep.join([str(REPO_ROOT), path])
    return env


def _run(
    source: str, tmp_path: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    prog = tmp_path / "prog.fl"
    prog.write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "--tier", "vm", str(prog)],
        cwd=tmp_path,
        env=_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_robust(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "internal error" not in result.stderr, result.stderr[-2000:]


# --------------------------------------------------------------------------------------------
# Regression cases (one per bug; they fail until the bug is fixed)
# --------------------------------------------------------------------------------------------


def test_bug_caught_error_costs_whole_call_depth(tmp_path: Path) -> None:
    """Every raised error eagerly builds the full call trace (VM._trace walks every frame), even
    when a `try` or an error:raise handler right next to it handles it: each caught error costs
    O(call depth). 1000 caught errors at depth 10 000 take ~15 s (~77 s at depth 50 000), and
    `(define (f n) (if (= n 0) 0 (+ 1 (try (raise "x") (catch e (f (- n 1)))))))` with
    `(f 50000)` (well under the §12 depth guarantee) runs for more than 15 minutes instead of
    printing 50000. Same with `(handler ((error:raise ...)) ...)`. (Fixed in the tree while this
    file was written: the test now passes; kept as a regression test.)"""
    source = (
        "(define (loop i) (if (= i 0) 0 (do (try (head []) (catch e 0)) (loop (- i 1)))))\n"
        "(define (deep n) (if (= n 0) (loop 1000) (+ 1 (deep (- n 1)))))\n"
        "(print (deep 10000))\n"
    )
    try:
        result = _run(source, tmp_path, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("1000 locally caught errors at call depth 10 000 did not finish in 5 s")
    _assert_robust(result)
    assert (result.returncode, result.stdout) == (0, "10000\n")


def test_bug_finally_raising_during_stack_overflow_unwind_hangs(tmp_path: Path) -> None:
    """Found by the fuzz loop (a mutant of tests/programs/conformance/depth_4.fl whose `finally`
    raises). A `finally` that raises replaces the unwinding error (§13.3), and each of those
    raises rebuilt the whole trace, so unwinding a stack-overflow through N try/finally frames
    was quadratic: 4.8 s at FLUENTAI_MAX_DEPTH=2000, 70 s at 8000, 290 s at 16000, hours at the
    default depth. It must print `empty-list` (the error raised by the outermost `finally`
    wins) and exit 0, in time linear in the depth. (Same root cause as the test above; with
    the trace fix it takes ~1.4 s at 20000 and ~11 s at the default depth.)"""
    source = (
        "(define (f n) (try (+ 1 (f (+ n 1))) (finally (head []))))\n"
        "(print (try (f 0) (catch e (error-kind e))))\n"
    )
    try:
        result = _run(source, tmp_path, timeout=5, env={"FLUENTAI_MAX_DEPTH": "20000"})
    except subprocess.TimeoutExpired:
        pytest.fail("unwinding 20 000 frames through raising `finally` clauses took > 5 s")
    _assert_robust(result)
    assert (result.returncode, result.stdout) == (0, "empty-list\n")


def test_bug_int_pow_with_huge_exponent_hangs(tmp_path: Path) -> None:
    """`(pow 2 (pow 2 64))` (an Int needing 2^64 bits) runs Python's `**` unguarded: it never
    finishes, and since the computation is one C call even the first Ctrl-C does not interrupt
    it (§13.4 wants `interrupted`, status 130). The result cannot exist, so the implementation
    must give up at once with an error: exhausted memory is `fluentai: error: out of memory`,
    exit status 70 (§13.4, §16), or a runtime error report with status 70. (Fixed in the tree
    while this file was written; kept as a regression test.)"""
    try:
        result = _run("(print (pow 2 (pow 2 64)))\n", tmp_path, timeout=4)
    except subprocess.TimeoutExpired:
        pytest.fail("`(pow 2 (pow 2 64))` did not finish in 4 s")
    _assert_robust(result)
    assert result.returncode == 70
    assert "fluentai: error: out of memory" in result.stderr or REPORT_LINE.search(result.stderr)


def test_bug_address_space_limit_is_internal_error(tmp_path: Path) -> None:
    """The driver always runs the program on a thread with a 1 GiB stack (bigstack.STACK_BYTES).
    Under an address-space limit below ~1.1 GB (`ulimit -v 1000000`, common in containers/CI
    sandboxes) the thread cannot be created and even `(print 1)` ends with
    `fluentai: error: internal error: RuntimeError: can't start new thread`. §13.4: an internal
    error is always a bug; the program should run (e.g. fall back to a smaller stack), or at
    worst report `fluentai: error: out of memory`."""
    result = _run_with_address_space(tmp_path, "(print 1)\n", "vm", 1_000_000 * 1024, 20)
    _assert_robust(result)
    assert (result.returncode, result.stdout) == (0, "1\n")


def test_native_out_of_memory_is_one_line(tmp_path: Path) -> None:
    """§13.4: a report not tied to the source is one line. The collector's own warnings
    ("Failed to expand heap", "Out of Memory!") came before `fluentai: error: out of memory`."""
    source = "(define (grow l n) (grow (cons n l) (+ n 1)))\n(grow [] 0)\n"
    result = _run_with_address_space(tmp_path, source, "native", 2_000_000 * 1024, 120)
    assert (result.returncode, result.stderr) == (70, "fluentai: error: out of memory\n")


def _run_with_address_space(
    tmp_path: Path, source: str, tier: str, limit: int, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`fluentai run --tier TIER` of SOURCE with its address space limited to LIMIT bytes."""
    import resource

    prog = tmp_path / "prog.fl"
    prog.write_text(source, encoding="utf-8")

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "--tier", tier, str(prog)],
        cwd=tmp_path,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit_memory,
    )


def test_bug_map_nested_through_keys_is_quadratic(tmp_path: Path) -> None:
    """A map key is normalized (fully flattened) on every map operation and never cached, so a
    map nested through its keys costs O(depth) per level: 2 000 levels take ~7 s, 10 000 take
    minutes. §12: hashing works on data nested at least 10 000 levels deep. (A key nested
    100 000 levels through maps is even reported as `stack-overflow` at the `{...}` literal,
    after ~18 s, although the program recurses only in tail position.) Fixed: a Map keeps its
    key form (`FlMap.as_key`); kept as a regression test."""
    source = (
        "(define (nest n acc) (if (= n 0) acc (nest (- n 1) {acc 1})))\n"
        "(define m (nest 10000 0))\n"
        "(print (size m) (get {m 5} (nest 10000 0)))\n"
    )
    try:
        result = _run(source, tmp_path, timeout=6)
    except subprocess.TimeoutExpired:
        pytest.fail("building a map nested 10 000 levels through its keys did not finish in 6 s")
    _assert_robust(result)
    assert (result.returncode, result.stdout) == (0, "1 5\n")


# --------------------------------------------------------------------------------------------
# Seeded fuzz loop
# --------------------------------------------------------------------------------------------

SEED = 13  # 200 mutants with no legitimate infinite loop (seed 11 has one, seed 20240611 hits the finally bug)
N_PROGRAMS = 200
RUN_LIMIT = 3.0  # a program still running after this is interrupted (SIGINT)
PER_PROGRAM_TIMEOUT = 10.0
TOTAL_BUDGET = 25.0

# Directories whose programs are long-running by design (deep recursion, long tail loops).
_SLOW_DIRS = {"recursion_depth", "tail_calls", "bignum", "random", "io", "args_exit"}

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|;[^\n]*|[()\[\]{}]|\'|[^\s()\[\]{}";\']+|\s+', re.S)
_SPECIAL = (
    "quote if cond when unless and or do begin let let* letrec lambda fn define defun def set! "
    "while match data : effect handler try module import export catch finally else . ... _ :when"
).split()
_WEIRD = [
    "nil",
    "#t",
    '""',
    '"\\u{0}"',
    "1e309",
    "-1e309",
    "-0.0",
    "99999999999999999999999",
    '(float "nan")',
    "[]",
    "{}",
    "()",
    "'x",
    ":k",
    "io:print",
    "error:raise",
    "state:get",
    "a:b",
    "λ",
    "\u00a0",
    "\u200b",
    "\u2028",
    "\ufeff",
    "#x",
    "5.",
    "1e",
    ".5",
    "+",
    "-",
    "\x00",
    "\r",
    "\t",
    "\x0c",
    "\x7f",
    '"\\r"',
    '"\\u{110000}"',
    '"\\u{d800}"',
    '"\\q"',
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    '"',
    ",",
    ";",
    '(raise "k" "m")',
    "(exit 3)",
    "(head [])",
    "(/ 1 0)",
    "(Some 1)",
    "None",
    '(Error "a" "b" nil)',
    "car",
    "(lambda (x) x)",
    "x",
    "f",
    "e",
]


def _corpus() -> list[str]:
    files = sorted(glob.glob(str(REPO_ROOT / "tests" / "programs" / "**" / "*.fl"), recursive=True))
    out = []
    for f in files:
        if Path(f).parent.name in _SLOW_DIRS:
            continue
        text = Path(f).read_text(encoding="utf-8", errors="replace")
        if len(text) < 2500 and not re.search(r"\d{5}", text):
            out.append(text)
    return out


_ATOMS = [
    "nil",
    "#t",
    '""',
    "-0.0",
    "1e309",
    '(float "nan")',
    "[]",
    "{}",
    "'x",
    ":k",
    "car",
    "(Some 1)",
    "None",
    '(Error "a" "b" nil)',
    "(lambda (x) x)",
    "print",
    '"s"',
    "0",
    "-1",
]


def _replace_atom(src: str, rng: random.Random) -> str:
    """A gentle mutation that usually keeps the program well-formed: it type-confuses a value."""
    toks = _TOKEN.findall(src) or ["(", ")"]
    atoms = [
        j for j, t in enumerate(toks) if re.fullmatch(r'[+-]?\d+(\.\d+)?|"[^"]*"|#t|#f|nil', t)
    ]
    if atoms:
        toks[rng.choice(atoms)] = rng.choice(_ATOMS)
    return "".join(toks)


def _mutate(src: str, rng: random.Random) -> str:
    if rng.random() < 0.4:
        return _replace_atom(src, rng)
    toks = _TOKEN.findall(src) or ["(", ")"]
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        i = rng.randrange(len(toks))
        brackets = [j for j, t in enumerate(toks) if t in "()[]{}"]
        if op == 0 and len(toks) > 1:
            del toks[i]
        elif op == 1:
            toks.insert(i, toks[i])
        elif op == 2:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        elif op == 3:
            toks[i:i] = [rng.choice(_SPECIAL), " "]
        elif op == 4:
            toks[i:i] = [" ", rng.choice(_WEIRD)]
        elif op == 5 and brackets:
            del toks[rng.choice(brackets)]
        elif op == 6 and brackets:
            toks[rng.choice(brackets)] = rng.choice("()[]{}")
        elif op == 7:
            depth = rng.choice([3, 50, 500])
            opener = rng.choice(["(", "[", "'", "(do "])
            closer = {"(": ")", "[": "]", "'": "", "(do ": ")"}[opener]
            toks[i] = opener * depth + toks[i] + closer * depth
        elif op == 8:
            j = min(len(toks), i + rng.randint(1, 20))
            toks[i:i] = toks[i:j]
        else:
            t = toks[i]
            if t.startswith('"') and len(t) > 2:
                p = rng.randrange(1, len(t) - 1)
                insert = rng.choice(
                    ["\\", "\\u{", "\\u{41}", "\n", "\x00", '"', "\U0001f600", "\r"]
                )
                toks[i] = t[:p] + insert + t[p:]
            elif re.fullmatch(r"[+-]?\d+", t):
                toks[i] = rng.choice(
                    ["0", "-0", t + ".", t + "e999", t + "e-999", "-" + t, t + ".0"]
                )
            else:
                toks[i:i] = ["(", rng.choice(_SPECIAL), " "]
    return "".join(toks)


# Runs programs in one process (each on a fresh VM, as `fluentai run --tier vm` does), reading
# one JSON string per line and answering one JSON object per line. A Python exception escaping
# `execute` is what the CLI reports as `fluentai: error: internal error: ...`.
_WORKER = r"""
import io, json, os, re, sys, tempfile, traceback
from fluentai.driver import RunOptions, execute, load_source
os.chdir(tempfile.mkdtemp(prefix="fluentai-fuzz-"))
report = re.compile(r"(?m)^.+:\d+:\d+: error\[")
for line in sys.stdin:
    text = json.loads(line)
    with open("prog.fl", "wb") as fh:
        fh.write(text.encode("utf-8", "surrogatepass"))
    out, err = io.StringIO(), io.StringIO()
    try:
        status = execute(load_source("prog.fl"), RunOptions(tier="vm"), out, err, io.StringIO())
        exc = None
    except BaseException as e:  # an internal error (or a usage error)
        status, exc = None, "".join(traceback.format_exception(e))[-3000:]
    e = err.getvalue()
    print(json.dumps({"status": status, "exc": exc, "report": bool(report.search(e)),
                      "oneline": "fluentai: error:" in e, "internal": "internal error" in e,
                      "traceback": "Traceback" in e or "Traceback" in out.getvalue(),
                      "stderr": e[-1500:]}), flush=True)
"""


def _problem(src: str, r: dict) -> str | None:
    if r["exc"] is not None:
        return "Python exception (internal error):\n" + r["exc"]
    if r["traceback"]:
        return "Python traceback on stderr:\n" + r["stderr"]
    if r["internal"]:
        return "internal error:\n" + r["stderr"]
    status = r["status"]
    if status not in ALLOWED_STATUSES and not ("exit" in src and 0 <= status <= 255):
        return f"exit status {status}"
    if status in (65, 70) and not (r["report"] or r["oneline"]):
        return f"exit status {status} without a report:\n" + r["stderr"]
    return None


def _default_sigint() -> None:
    """The worker gets Ctrl-C as from a terminal, whatever the test process ignores."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_seeded_fuzz() -> None:
    rng = random.Random(SEED)
    corpus = _corpus()
    assert corpus, "no programs under tests/programs"
    programs = [_mutate(rng.choice(corpus), rng) for _ in range(N_PROGRAMS)]
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKER],
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        preexec_fn=_default_sigint,
    )
    assert proc.stdin is not None and proc.stdout is not None
    failures: list[str] = []
    start = time.monotonic()
    stopped = 0.0  # time spent on programs that had to be interrupted
    try:
        for n, src in enumerate(programs):
            proc.stdin.write(json.dumps(src) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], RUN_LIMIT)
            if not ready:
                # a mutation can make a loop endless (`(+ i 1)` -> `(+ i 0)`): Ctrl-C must end
                # it with status 130, as for a user at a terminal
                t0 = time.monotonic()
                proc.send_signal(signal.SIGINT)
                ready, _, _ = select.select([proc.stdout], [], [], PER_PROGRAM_TIMEOUT)
                stopped += RUN_LIMIT + time.monotonic() - t0
            if not ready:
                failures.append(
                    f"program {n} hung (> {RUN_LIMIT} s, and Ctrl-C did not stop it in "
                    f"{PER_PROGRAM_TIMEOUT} s):\n{src[:2000]}"
                )
                break
            line = proc.stdout.readline()
            if not line:
                failures.append(f"program {n} crashed the process:\n{src[:2000]}")
                break
            problem = _problem(src, json.loads(line))
            if problem:
                failures.append(f"program {n}: {problem}\n--- source:\n{src[:2000]}")
        elapsed = time.monotonic() - start - stopped
    finally:
        proc.kill()
        proc.wait()
    assert not failures, "\n\n".join(failures)
    assert elapsed < TOTAL_BUDGET, f"the fuzz loop took {elapsed:.1f} s"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-v"]))
