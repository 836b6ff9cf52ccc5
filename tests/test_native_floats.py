"""Loops over Floats on the native tier against the VM (Hypothesis).

The native lowering keeps the Float parameters of self-tail-call loops and Float locals as raw
doubles (docs/native.md, "Unboxed Floats"), behind tag checks. These generated loops mix `+ - *
/`, comparisons in values and branch tests, Int and Float operands, nan, inf and -0.0, and
parameters that sometimes receive an Int, a bignum or a non-number; `fluentai run --tier vm` and
`--tier native` (at -O0, to keep the test fast) must print the same and report the same error.
`FLUENTAI_FLOAT_EXAMPLES=N` runs N examples instead of the default."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus

EXAMPLES = int(os.environ.get("FLUENTAI_FLOAT_EXAMPLES", "30"))
TIMEOUT = 60

FLOATS = ["0.0", "-0.0", "0.5", "1.5", "-2.25", "3.0", "1e308", '(float "nan")', '(float "inf")']
INTS = ["0", "1", "2", "-3", "12345678901234567890"]
OTHERS = ['"s"', "nil", "[]"]
OPS = ["+", "-", "*"]
CMPS = ["<", ">", "<=", ">=", "="]


@st.composite
def _leaf(draw: st.DrawFn, names: list[str], odd: bool) -> str:
    kinds = ["name", "name", "float", "int", "div"] + (["odd"] if odd else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "name":
        return draw(st.sampled_from(names))
    if kind == "float":
        return draw(st.sampled_from(FLOATS))
    if kind == "int":
        return draw(st.sampled_from(INTS))
    if kind == "div":
        return f"(/ {draw(st.sampled_from(names))} {draw(st.sampled_from(['2.0', '4', '-0.5', '2.0', '0.0']))})"
    # a leaf that is sometimes not a Float: an Int or a non-number on some iteration
    other = draw(st.sampled_from(INTS[1:4] + OTHERS))
    return f"(if (= n {draw(st.integers(0, 3))}) {other} {draw(st.sampled_from(names))})"


@st.composite
def _arith(draw: st.DrawFn, names: list[str], depth: int, odd: bool) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(_leaf(names, odd))
    op = draw(st.sampled_from(OPS))
    x = draw(_arith(names, depth - 1, odd))
    y = draw(_arith(names, depth - 1, odd))
    return f"({op} {x} {y})"


@st.composite
def _float_arith(draw: st.DrawFn, names: list[str], odd: bool) -> str:
    """Mostly floaty trees (Float literals and names only), sometimes anything."""
    if draw(st.integers(0, 3)) == 0:
        return draw(_arith(names, 3, odd))
    op = draw(st.sampled_from(OPS))
    x = draw(_arith(names, 2, False))
    fl = draw(st.sampled_from(["0.5", "-1.5", "2.0", "-0.0", "1e300"]))
    return f"({op} {x} {fl})" if draw(st.booleans()) else f"({op} {fl} {x})"


@st.composite
def _program(draw: st.DrawFn) -> str:
    odd = draw(st.booleans())
    a = draw(_float_arith(["x", "y", "g"], odd))
    b = draw(_float_arith(["x", "y", "a"], odd))
    nx = draw(_float_arith(["x", "a", "b"], odd))
    ny = (
        draw(st.sampled_from(["y", "b", "a"]))
        if draw(st.booleans())
        else draw(_float_arith(["y", "b"], odd))
    )
    c1, c2 = draw(st.sampled_from(CMPS)), draw(st.sampled_from(CMPS))
    ca = draw(_arith(["a", "b", "x"], 1, False))
    cb = draw(_arith(["y", "b", "g"], 1, False))
    test = f"({c1} {ca} {cb})"
    stop = draw(
        st.sampled_from(["(<= n 0)", f"(or (<= n 0) ({c2} a {draw(st.sampled_from(FLOATS))}))"])
    )
    init = FLOATS + INTS + (OTHERS if odd else [])
    x0, y0, g0 = (draw(st.sampled_from(init)) for _ in range(3))
    n0 = draw(st.integers(0, 6))
    shape = draw(st.sampled_from(["global", "named"]))
    body = f"""    (let ((a {a}) (b {b}))
      (if {stop}
          [x y a b (reverse acc)]
          ({"f" if shape == "global" else "loop"} {nx} {ny} (- n 1)
             (cons (if {test} [a b ({c2} x y)] (* b 1.0)) acc))))"""
    if shape == "global":
        fn = f"(define (f x y n acc)\n  (if (< n 0) (reverse acc)\n{body}))\n"
        call = f"(f {x0} {y0} {n0} [])"
    else:
        fn = (
            f"(define (f x0 y0 n0)\n  (let loop ((x x0) (y y0) (n n0) (acc []))\n"
            f"  (if (< n 0) (reverse acc)\n{body})))\n"
        )
        call = f"(f {x0} {y0} {n0})"
    return f"(define g {g0})\n{fn}(print {call})\n(print (f 1 2.5 3{'' if shape == 'named' else ' []'}))\n"


def _run(src: str, tier: str) -> tuple[int, str, str | None, str]:
    with tempfile.TemporaryDirectory(prefix="fluentai-floats-") as workdir:
        path = Path(workdir) / "prog.fl"
        path.write_text(src)
        env = dict(os.environ, PYTHONPATH=str(corpus.REPO_ROOT), FLUENTAI_NATIVE_OPT="0")
        env.pop("FLUENTAI_SEED", None)
        done = subprocess.run(
            [sys.executable, "-m", "fluentai", "run", "--tier", tier, "prog.fl"],
            cwd=workdir,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=TIMEOUT,
        )
        stderr = done.stderr.decode("utf-8", "replace")
        return (
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            corpus.report_line(stderr),
            stderr,
        )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_program())
def test_float_loops_agree_on_vm_and_native(src: str) -> None:
    vm = _run(src, "vm")
    native = _run(src, "native")
    assert "Traceback" not in native[3] and native[0] >= 0, f"native crashed:\n{native[3]}\n{src}"
    assert vm[:3] == native[:3], f"\n--- program ---\n{src}\n--- stderr ---\n{native[3][-1500:]}"
