"""Integer code on the native tier against the VM: known entries, inlined named lets, fixnum fast
paths and their overflow to bignums (docs/native.md, "Calls and loops").

The Hypothesis programs mix `+ - * quot mod rem` and comparisons over values around the fixnum
limits (2^62) and 2^63, in plain functions, self-tail-call loops, non-tail recursion and named
lets in and out of tail position; `fluentai run --tier vm` and `--tier native` must print the
same and report the same error. The unit tests below pin the cases the lowering treats specially.
`FLUENTAI_INT_EXAMPLES=N` runs N examples instead of the default."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus

EXAMPLES = int(os.environ.get("FLUENTAI_INT_EXAMPLES", "12"))
TIMEOUT = 120

EDGES = [
    "0",
    "1",
    "-1",
    "2",
    "7",
    "-7",
    "3037000499",
    "-3037000500",
    str(2**62 - 1),
    str(-(2**62)),
    str(2**62),
    str(-(2**62) - 1),
    str(2**63),
    str(-(2**63) - 1),
]
OPS = ["+", "-", "*", "+", "-", "*", "quot", "mod", "rem"]
CMPS = ["<", ">", "<=", ">=", "="]


@st.composite
def _expr(draw: st.DrawFn, names: list[str], depth: int) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return draw(st.sampled_from(names))
        return draw(st.sampled_from(EDGES))
    op = draw(st.sampled_from(OPS))
    x = draw(_expr(names, depth - 1))
    if op in ("quot", "mod", "rem"):  # a divisor that is never 0
        y = draw(st.sampled_from(["7", "-2", "3", str(2**62), "-1", str(2**63)]))
    else:
        y = draw(_expr(names, depth - 1))
    return f"({op} {x} {y})"


@st.composite
def _test(draw: st.DrawFn, names: list[str]) -> str:
    c = draw(st.sampled_from(CMPS))
    x = draw(_expr(names, 1))
    y = draw(_expr(names, 1))
    test = f"({c} {x} {y})"
    return f"(not {test})" if draw(st.integers(0, 4)) == 0 else test


@st.composite
def _program(draw: st.DrawFn) -> str:
    body = draw(_expr(["x", "y"], 3))
    test = draw(_test(["x", "y"]))
    other = draw(_expr(["x", "y"], 2))
    step = draw(_expr(["n", "acc"], 2))
    rec = draw(_expr(["n"], 2))
    loop_step = draw(_expr(["i", "acc"], 2))
    loop_test = draw(_test(["i", "acc"]))
    pairs = [(draw(st.sampled_from(EDGES)), draw(st.sampled_from(EDGES))) for _ in range(3)]
    k = draw(st.integers(0, 5))
    calls = "\n".join(f"(print (f {a} {b}) (h {a} {b}))" for a, b in pairs)
    return f"""(define (f x y) {body})
(define (h x y) (if {test} {other} (f y x)))
(define (r n acc) (if (<= n 0) acc (r (- n 1) {step})))
(define (s n) (if (< n 1) {draw(st.sampled_from(EDGES))} (+ (s (- n 1)) {rec})))
(define (g k acc0)
  (let loop ((i 0) (acc acc0))
    (if (>= i k) acc (if {loop_test} (loop (+ i 1) {loop_step}) (loop (+ i 2) acc)))))
(define (g2 k acc0)
  (+ 1 (let loop ((i 0) (acc acc0))
         (cond ((>= i k) acc)
               ({loop_test} (loop (+ i 1) {loop_step}))
               (else (loop (+ i 2) acc))))))
{calls}
(print (r {k} {pairs[0][0]}) (s {k}) (g {k} {pairs[1][0]}) (g2 {k} {pairs[2][1]}))
"""


def _run(src: str, tier: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory(prefix="fluentai-ints-") as workdir:
        path = Path(workdir) / "prog.fl"
        path.write_text(src)
        full_env = dict(os.environ, PYTHONPATH=str(corpus.REPO_ROOT), FLUENTAI_NATIVE_OPT="1")
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "fluentai", "run", "--tier", tier, "prog.fl"],
            cwd=workdir,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=full_env,
            timeout=TIMEOUT,
        )
        return (
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )


def _agree(src: str, env: dict[str, str] | None = None) -> str:
    """Run `src` on both tiers; they must agree on status, stdout and the whole stderr (report
    line and trace). Returns the stdout."""
    vm = _run(src, "vm", env)
    native = _run(src, "native", env)
    assert "Traceback" not in native[2] and native[0] >= 0, f"native crashed:\n{native[2]}\n{src}"
    assert vm == native, f"\n--- program ---\n{src}\n--- vm ---\n{vm}\n--- native ---\n{native}"
    return vm[1]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_program())
def test_integer_programs_agree_on_vm_and_native(src: str) -> None:
    _agree(src)


def test_known_functions_give_exact_bignums_on_overflow() -> None:
    src = """(define (add a b) (+ a b))
(define (sub a b) (- a b))
(define (dbl x k) (if (= k 0) x (dbl (* x 2) (- k 1))))
(define (fact n) (if (< n 2) 1 (* n (fact (- n 1)))))
(print (add 4611686018427387903 1) (sub -4611686018427387904 1) (dbl 1 70) (fact 25))
(print (mod (dbl 3 64) 7) (quot (- 0 (dbl 1 62)) -1) (< (dbl 1 62) (dbl 1 63)))
"""
    out = _agree(src)
    assert out.split("\n")[0] == (
        "4611686018427387904 -4611686018427387905 1180591620717411303424 15511210043330985984000000"
    )


def test_depth_limit_fires_at_the_same_depth() -> None:
    src = """(define (down n) (if (= n 0) 0 (+ 1 (down (- n 1)))))
(define (nested n) (+ 1 (let loop ((i 0)) (if (< i 3) (loop (+ i 1)) (down n)))))
(define (inlined n)
  (+ 1 (let loop ((i 0) (acc 0)) (if (< i 2) (loop (+ i 1) (+ acc (down n))) acc))))
(define (probe f n) (try (f n) (catch e (error-kind e))))
(print (probe down 97) (probe down 98) (probe down 99) (probe down 100))
(print (probe nested 95) (probe nested 96) (probe nested 97) (probe nested 98))
(print (probe inlined 95) (probe inlined 96) (probe inlined 97) (probe inlined 98))
(inlined 99)
"""
    out = _agree(src, {"FLUENTAI_MAX_DEPTH": "100"})
    assert "stack-overflow" in out


def test_self_call_after_set_calls_the_new_value() -> None:
    src = """(define (f n) (if (= n 0) 0 (+ 1 (f (- n 1)))))
(define g f)
(print (g 3))
(set! f (lambda (n) 100))
(print (g 3) (f 3))
(define (early) (later 1))
(print (try (early) (catch e (error-kind e))))
(define (later x) (+ x 41))
(print (early))
"""
    assert _agree(src) == "3\n101 100\nunbound-variable\n42\n"


def test_errors_in_inlined_named_lets_keep_their_traces() -> None:
    src = """(define (sum-to n)
  (+ 0 (let loop ((i 0) (acc 0))
         (if (> i n) acc (loop (+ i 1) (+ acc (quot 10 (- 3 i))))))))
(define (run n) (* 2 (sum-to n)))
(print (run 2))
(print (run 5))
"""
    _agree(src)


def test_int_specialized_loops_agree_around_the_fixnum_limits() -> None:
    # loops whose Int parameters and outer Ints (invariants, checked once on entry) are fixnums
    # or bignums, crossing 2^62 inside the specialized copy and coming back
    edges = " ".join(EDGES)
    src = f"""
(define (walk x y n)
  (let loop ((i 0) (acc x))
    (if (= i n) acc
        (loop (+ i 1) (- (+ acc (* i y)) (if (> acc 4611686018427387000) y 0))))))
(define (mods x n)
  (let loop ((i 0) (acc 0)) (if (= i n) acc (loop (+ i 1) (+ acc (mod (* i i x x) 7) (quot (* i i) 3))))))
(define (fl x n) (let loop ((i 0) (z 0.5)) (if (= i n) z (loop (+ i 1) (+ (/ (* 0.5 i) n) (* z 0.5) x)))))
(for-each (lambda (x)
  (for-each (lambda (y) (print (walk x y 5) (mods (abs x) 4) (fl 0.25 (+ 1 (mod x 3)))))
            [{edges}]))
  [{edges}])
"""
    out = _agree(src)
    assert out.count("\n") == len(EDGES) ** 2


def test_int_loops_get_a_specialized_copy() -> None:
    from fluentai.native import lower_source
    from fluentai.source import SourceFile

    src = "(define (f n) (let loop ((i 0) (t 0)) (if (< i n) (loop (+ i 1) (+ t (mod (* i i) 7))) t)))\n(print (f 10))\n"
    ir_text = str(lower_source(SourceFile.from_bytes("p.fl", src.encode())).module)
    body = ir_text.split('define internal tailcc i64 @"fl.fn.1.f.k"')[1].split("\n}\n")[0]
    assert "spec.entry" in body and "urem" in body


def test_steps_bounded_by_a_test_stay_exact_at_the_fixnum_limits() -> None:
    # `(+ i 1)` under `(< i n)` needs no overflow check (fluentai/llvm/bounds.py); under `<=`,
    # `>`-bounded `(+ ...)` or a bound that is not a fixnum it keeps it
    src = """(define hi 4611686018427387903)
(define lo -4611686018427387904)
(define (up i n) (let loop ((i i) (k 0)) (if (< i n) (loop (+ i 1) (+ k 1)) [i k])))
(define (up-le i n) (let loop ((i i) (k 0)) (if (<= i n) (loop (+ i 1) (+ k 1)) [i k])))
(define (down i n) (let loop ((i i) (k 0)) (if (> i n) (loop (- i 1) (+ k 1)) [i k])))
(define (down-not i n) (let loop ((i i) (k 0)) (if (not (>= n i)) (loop (- i 1) (+ k 1)) [i k])))
(define (lit i) (let loop ((i i) (k 0)) (if (< i 4611686018427387903) (loop (+ i 1) (+ k 1)) [i k])))
(define (lit2 i) (if (< i 4611686018427387902) (+ i 2) (+ i 3)))
(define (neg i) (if (> i -4611686018427387903) (- i 1) (- i 2)))
(print (up (- hi 3) hi) (up-le (- hi 2) hi) (up (- hi 2) (+ hi 5)))
(print (down (+ lo 3) lo) (down-not (+ lo 2) lo) (down (+ lo 1) (- lo 3)))
(print (lit (- hi 2)) (lit2 (- hi 1)) (lit2 (- hi 2)) (neg lo) (neg (+ lo 2)))
(define (upf i n) (let loop ((i i) (k 0)) (if (< i n) (loop (+ i 1) (+ k 1)) [i k])))
(print (up 0 5) (upf 1.5 4) (upf 3 4.5) (up (- 0 (* hi 4)) (- 3 (* hi 4))))
"""
    out = _agree(src)
    assert out.split("\n")[0] == (
        "[4611686018427387903 3] [4611686018427387904 3] [4611686018427387908 7]"
    )


def test_huge_functions_are_left_unoptimized() -> None:
    """A function of more than 4000 blocks (a body nested 1 500 levels deep) is `optnone`: a
    body nested 10 000 levels spent 21 s in LLVM's optimizer. Small ones are optimized."""
    body = "x"
    for _ in range(1500):
        body = f"(+ 1 {body})"
    from fluentai.native import lower_source
    from fluentai.source import SourceFile

    src = f"(define (f x) {body})\n(define (g x) (+ x 1))\n(print (f 1) (g 1))\n"
    ir_text = str(lower_source(SourceFile.from_bytes("p.fl", src.encode())).module)
    headers = {
        line.split('"')[1]: line
        for line in ir_text.splitlines()
        if line.startswith("define internal tailcc i64 @") and '.k"(' in line
    }
    assert "optnone" in headers["fl.fn.1.f.k"]
    assert "optnone" not in headers["fl.fn.2.g.k"]
