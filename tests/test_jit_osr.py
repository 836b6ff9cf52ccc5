"""On-stack replacement at `while` back edges (fluentai/jit/osr.py, fluentai/llvm/osr.py,
docs/jit.md): a `while` loop running in the VM switches to its native OSR entry at a back edge
once its function is hot, the loop finishes natively, and the VM continues after it with the
variables the loop assigned.

Each program here gets hot in a `while` loop of a function entered in the VM (or of the top
level) before the unit exists: the loop threshold is 50 and compilation synchronous, so the
switch happens at the 51st back edge, in the middle of the loop. Every run is compared with the
VM's: output, exit status and the whole of stderr but the `--jit-stats` lines."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from test_jit import interrupt_when, run

OSR = {
    "FLUENTAI_JIT_SYNC": "1",
    "FLUENTAI_JIT_LOOP_THRESHOLD": "50",
    "FLUENTAI_JIT_OPT": "0",
    "FLUENTAI_IMAGE": "0",
}
_STATS_LINE = re.compile(
    r"^(jit: .*|vm profile: .*|  .* calls +\d+ +back edges +\d+ .* args \(.*\))$"
)


def stats_free(stderr: str) -> str:
    return "".join(
        line for line in stderr.splitlines(keepends=True) if not _STATS_LINE.match(line.rstrip())
    )


def while_osr(stderr: str) -> int:
    m = re.search(
        r"jit: on-stack replacements at self tail calls \d+, at while loops (\d+)", stderr
    )
    assert m is not None, stderr
    return int(m.group(1))


def same_as_vm(tmp_path: Path, source: str, env: dict[str, str] | None = None) -> str:
    """Run `source` in the VM and with OSR; assert they agree; the OSR run's stderr."""
    want = run(tmp_path, source, env={"FLUENTAI_JIT": "0"})
    got = run(tmp_path, source, "--jit-stats", env={**OSR, **(env or {})})
    assert (got.status, got.stdout, stats_free(got.stderr)) == (
        want.status,
        want.stdout,
        want.stderr,
    ), got.stderr
    return got.stderr


COUNT_UP = """
(define (count-up n)
  (let ((i 0) (total 0))
    (while (< i n)
      (set! total (+ total (mod (* i i) 7)))
      (set! i (+ i 1)))
    total))
(print (count-up 20000))
"""


def test_a_while_loop_entered_in_the_vm_finishes_natively(tmp_path: Path) -> None:
    stderr = same_as_vm(tmp_path, COUNT_UP)
    assert "first hot function: count-up (loop iterations 51 > 50)" in stderr
    assert "of which on-stack replacements 1" in stderr
    assert while_osr(stderr) == 1
    # one VM frame: the switch happened after 51 back edges, not 20 000
    assert re.search(r"count-up +calls +1 +back edges +51 ", stderr), stderr


def test_the_variables_the_loop_assigned_come_back_to_the_vm(tmp_path: Path) -> None:
    # an Int that overflows into a bignum natively, Floats, a String, a list, and `n`, which
    # the loop only reads; all read after the loop
    source = """
(define (f n)
  (let ((i 0) (acc 1) (x 0.5) (s "") (xs []) (keep n))
    (while (< i n)
      (set! acc (* acc 3))
      (set! x (+ x 0.25))
      (when (< i 5) (set! s (string-append s "ab")))
      (set! xs (cons (* i 1.5) xs))
      (set! i (+ i 1)))
    (print i acc x s (length xs) (head xs) keep)
    [i x s (take xs 3)]))
(print (f 300))
"""
    stderr = same_as_vm(tmp_path, source)
    assert while_osr(stderr) == 1


def test_a_loop_in_a_closure_reads_its_captured_values(tmp_path: Path) -> None:
    source = """
(define (mk base step)
  (lambda (n)
    (let ((i 0) (total 0))
      (while (< i n) (set! total (+ total base)) (set! i (+ i step)))
      [i total])))
(define f (mk 10 2))
(print (f 1000))
(print (f 7))
"""
    assert while_osr(same_as_vm(tmp_path, source)) == 1


def test_nested_loops_switch_inner_first_then_outer(tmp_path: Path) -> None:
    source = """
(define (grid n)
  (let ((k 0) (total 0))
    (while (< k n)
      (let ((j 0))
        (while (< j k) (set! total (+ total (* j k))) (set! j (+ j 1))))
      (set! k (+ k 1)))
    total))
(print (grid 200))
"""
    # the inner loop gets hot first and finishes natively; the outer loop's next back edge
    # switches it over too, inner loop included
    assert while_osr(same_as_vm(tmp_path, source)) == 2


def test_a_loop_in_top_level_code_switches_and_sets_globals(tmp_path: Path) -> None:
    source = """
(define total 0)
(define names [])
(print "before")
(let ((i 0))
  (while (< i 5000)
    (set! total (+ total i))
    (when (= (mod i 1000) 0) (set! names (cons (string-append "n" (to-string i)) names)))
    (set! i (+ i 1)))
  (print i))
(print total names)
"""
    stderr = same_as_vm(tmp_path, source)
    assert "first hot function: <top level> (loop iterations 51 > 50)" in stderr
    assert while_osr(stderr) == 1


def test_a_loop_that_calls_functions_and_builds_data(tmp_path: Path) -> None:
    source = """
(data Shape (Circle Float) (Rect Int Int))
(define (area s) (match s ((Circle r) (* 3.0 r r)) ((Rect w h) (* 1.0 w h))))
(define (run n)
  (let ((i 0) (shapes []) (sum 0.0) (table {}) (words []))
    (while (< i n)
      (let ((s (if (even? i) (Circle (* 0.5 i)) (Rect i 2))))
        (set! shapes (cons s shapes))
        (set! sum (+ sum (area s)))
        (set! table (assoc table (mod i 5) i))
        (set! words (cons (to-string i) words)))
      (set! i (+ i 1)))
    (print (length shapes) sum table (take words 3) (head shapes))))
(run 400)
"""
    assert while_osr(same_as_vm(tmp_path, source)) == 1


# ---------------------------------------------------------------- errors, exit, Ctrl-C

ERRORS = [
    # raised in the loop itself: the report and the trace are the VM's
    """
(define (g n)
  (let ((i 0))
    (while (< i n) (set! i (+ i 1)) (when (= i 700) (print (/ 1 (- i 700)))))
    i))
(define (outer) (+ 1 (g 1000)))
(print "start")
(print (outer))
""",
    # raised in native code the loop called, three frames deep
    """
(define (deep x) (if (= x 0) (head []) (+ 1 (deep (- x 1)))))
(define (w n)
  (let ((i 0) (r 0))
    (while (< i n) (set! i (+ i 1)) (when (= i 900) (set! r (deep 3))))
    r))
(print (w 1000))
""",
    # a stack overflow in native code the loop called, counted from the VM's frames below
    """
(define (inf n) (+ 1 (inf n)))
(define (w n)
  (let ((i 0) (r 0))
    (while (< i n) (set! i (+ i 1)) (when (= i 900) (set! r (inf 3))))
    r))
(define (outer k) (if (= k 0) (w 1000) (+ 1 (outer (- k 1)))))
(print (outer 5))
""",
    # in top-level code
    """
(define xs [])
(let ((i 0))
  (while #t
    (set! xs (cons i xs))
    (set! i (+ i 1))
    (when (= i 999) (print (length xs)) (error:raise 'mine "stop" i))))
""",
    # caught by a try in the VM around the loop: the loop's variables are the VM's again,
    # and the VM's finally runs
    """
(define (h n)
  (let ((i 0) (log []))
    (try
      (while #t
        (set! i (+ i 1))
        (when (= (mod i 500) 0) (set! log (cons i log)))
        (when (> i n) (error:raise 'boom "too big" i)))
      (catch e (print "caught" i log (error-message e) (error-data e)))
      (finally (print "finally" i)))
    i))
(print (h 2000))
""",
    # exit inside the loop: the VM's finally clauses do not run
    """
(define (w n)
  (let ((i 0))
    (while (< i n) (set! i (+ i 1)) (when (= i 900) (print "bye" i) (exit 3)))
    i))
(try (w 1000) (finally (print "finally in VM")))
""",
]


@pytest.mark.parametrize("source", ERRORS)
def test_errors_and_exit_in_a_switched_loop_look_like_the_vms(tmp_path: Path, source: str) -> None:
    assert while_osr(same_as_vm(tmp_path, source)) == 1


def test_sigint_in_a_switched_loop_runs_the_vms_finally(tmp_path: Path) -> None:
    source = """
(define (spin)
  (let ((i 0))
    (while #t
      (set! i (+ i 1))
      (when (= i 100) (io:write-file "ready.txt" "")))))
(try (spin) (finally (print "cleanup")))
"""
    (tmp_path / "prog.fl").write_text(source)
    status, out, err = interrupt_when(
        tmp_path, ["--jit-stats"], OSR, lambda: (tmp_path / "ready.txt").exists(), settle=0.5
    )
    stderr = err.decode()
    assert status == 128 + signal.SIGINT, stderr
    assert out.decode() == "cleanup\n"
    assert "interrupted\n" in stderr and "Traceback" not in stderr
    assert while_osr(stderr) == 1


# ---------------------------------------------------------------- what stays in the VM


def test_a_loop_over_a_shared_box_finishes_natively(tmp_path: Path) -> None:
    # `i` is captured by `peek` and assigned: the loop's entry takes the box itself, which the
    # VM then shares with native code (jit/bridge.py, TwinBox); `f` reads `i` after the loop
    source = """
(define (f n)
  (let ((i 0) (seen 0))
    (define (peek) i)
    (print "in f")
    (while (< i n) (set! seen (+ seen (peek))) (set! i (+ i 1)))
    (set! i (+ i 1))
    [seen i (peek)]))
(print (f 20000))
"""
    assert while_osr(same_as_vm(tmp_path, source)) == 1


def test_a_handler_in_the_vm_keeps_the_loop_in_the_vm(tmp_path: Path) -> None:
    source = """
(define (f n)
  (let ((i 0))
    (while (< i n) (set! i (+ i 1)) (when (= (mod i 500) 0) (io:print i)))
    i))
(handler ((io:print (lambda (x) (io:write "caught " x "\\n"))))
  (print (f 2000)))
"""
    stderr = same_as_vm(tmp_path, source)
    assert while_osr(stderr) == 0
    assert "a handler is installed in the VM x1" in stderr  # counted once, not per back edge


def test_a_closure_over_a_let_variable_crosses_with_the_loop(tmp_path: Path) -> None:
    # `scale` captures `factor`, a binding group's variable (boxed in the VM, never assigned):
    # it crosses as a closure with a fresh box
    source = """
(define scale (let ((factor 3)) (lambda (x) (* x factor))))
(define (total n)
  (let ((i 0) (sum 0))
    (while (< i n) (set! sum (+ sum (scale i))) (set! i (+ i 1)))
    sum))
(print (total 3000))
"""
    stderr = same_as_vm(tmp_path, source)
    assert while_osr(stderr) == 1
    assert "calls kept in the VM" not in stderr


def test_functions_that_refer_to_each_other_through_boxes_keep_the_loop_in_the_vm(
    tmp_path: Path,
) -> None:
    source = """
(define (parity n)
  (define (ev? k) (if (= k 0) #t (od? (- k 1))))
  (define (od? k) (if (= k 0) #f (ev? (- k 1))))
  (let ((i 0) (evens 0))
    (while (< i n) (when (ev? (mod i 5)) (set! evens (+ evens 1))) (set! i (+ i 1)))
    evens))
(print (parity 3000))
"""
    stderr = same_as_vm(tmp_path, source)
    assert while_osr(stderr) == 0
    assert "functions that refer to each other through a box x" in stderr


FLOAT_LOOPS = [
    # a Float accumulator (a raw double in the entry) and a variable that takes an Int, a
    # Float, a String and a Float again
    """
(define (harmonic n)
  (let ((i 1) (x 0.0) (y 1))
    (while (<= i n)
      (set! x (+ x (/ 1.0 i)))
      (set! y (cond ((< i 500) (+ y 1)) ((< i 900) (+ y 0.5)) ((= i 900) "s") (else (* 2.0 i))))
      (set! i (+ i 1)))
    (list x y)))
(print (harmonic 1200))
""",
    # infinities, NaN, negative zero
    """
(define (specials n)
  (let ((i 0) (big 1.0) (z 0.0))
    (while (< i n) (set! big (* big 1.5)) (set! z (* z -1.0)) (set! i (+ i 1)))
    (list big (- big big) z)))
(print (specials 3001))
""",
    # a type error in the accumulator after the switch
    """
(define (bad n)
  (let ((i 0) (acc 0.5))
    (while (< i n)
      (set! acc (+ acc 0.25))
      (when (= i 900) (set! acc (+ acc "x")))
      (set! i (+ i 1)))
    acc))
(print (bad 1000))
""",
]


@pytest.mark.parametrize("source", FLOAT_LOOPS)
def test_float_variables_of_a_switched_loop(tmp_path: Path, source: str) -> None:
    assert while_osr(same_as_vm(tmp_path, source)) == 1
