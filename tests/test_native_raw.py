"""Raw entries (fluentai/llvm/rawentry.py): known functions take their Float parameters as raw
doubles from direct calls. The VM and the native tier must agree on everything: values, reports,
traces and the depth at which stack-overflow fires, whichever entry a call goes through."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from test_native_ints import _agree

from fluentai.native import lower_source
from fluentai.source import SourceFile


def _ir(src: str) -> str:
    return str(lower_source(SourceFile.from_bytes("p.fl", src.encode())).module)


def _raw_entries(ir_text: str) -> dict[str, str]:
    """name -> parameter list of each raw entry of the module."""
    found = re.findall(
        r'define internal tailcc i64 @"?fl\.fn\.\d+\.([^".(]+)\.r"?\(([^)]*)\)', ir_text
    )
    return dict(found)


def test_float_parameters_get_a_raw_entry_and_direct_calls_use_it() -> None:
    src = """(define (norm2 x y k) (+ (* x x) (* y (float k))))
(define (row n) (let loop ((i 0) (acc 0.0)) (if (< i n) (loop (+ i 1) (+ acc (norm2 (* 0.5 i) 1.5 i))) acc)))
(print (row 10))
"""
    ir_text = _ir(src)
    params = _raw_entries(ir_text)
    assert list(params) == ["norm2"]
    assert re.fullmatch(r'double %"?\.1"?, double %"?\.2"?, i64 %"?\.3"?', params["norm2"])
    row = ir_text[ir_text.index('define internal tailcc i64 @"fl.fn.2.row.k"') :].split("\n}\n")[0]
    assert re.search(r'call tailcc i64 @"?fl\.fn\.1\.norm2\.r"?\(double', row)


def test_functions_calling_themselves_and_assigned_parameters_get_none() -> None:
    src = """(define (down x n) (if (= n 0) x (down (* x 0.5) (- n 1))))
(define (bump x) (set! x (+ x 1.0)) x)
(print (down 8.0 3) (bump 0.5))
"""
    assert _raw_entries(_ir(src)) == {}


def test_values_escapes_and_closures_agree() -> None:
    src = """(define (pick x y) (if (> x y) [x y] (str y)))
(define (keep x) (lambda (d) (+ x d)))
(define (mix x k) (if (= k 0) (* x 2.0) (+ x (float k))))
(define (row n) (let loop ((i 0) (acc [])) (if (< i n) (loop (+ i 1) (cons (mix (/ i 3.0) i) acc)) acc)))
(print (pick 3.5 1.25) (pick -0.0 0.0) (pick (float "nan") 1.0) ((keep 1.5) 2.25))
(print (row 5) (mix 1e308 0) (mix (- 0.0 (float "inf")) 1) (mix (float "nan") 0))
(print (= (head (pick 2.0 1.0)) (head (pick 2.0 1.0))) (map (keep 0.5) [1 2.5]))
"""
    out = _agree(src)
    assert out.startswith("[3.5 1.25] 0.0 1.0 3.75\n")


def test_errors_in_raw_bodies_keep_their_traces() -> None:
    src = """(define (over x) (/ 1.0 x))
(define (fails x) (+ x (over (- x 2.0))))
(define (calls-fails x) (* 2.0 (fails (+ x 1.0))))
(define (bad x s) (+ x (string-length s)))
(print (calls-fails 0.5))
(print (try (bad 1.5 3) (catch e (error-kind e))))
(calls-fails 1.0)
"""
    _agree(src)


def test_depth_limit_fires_at_the_same_call() -> None:
    # deep and deeper call each other through their raw entries (deeper in tail position)
    src = """(define (deep x n) (if (= n 0) x (+ 0.5 (deeper (+ x 1.0) (- n 1)))))
(define (deeper x n) (deep x n))
(define (probe n) (try (deep 0.5 n) (catch e (error-kind e))))
(print (probe 17) (probe 18) (probe 19) (probe 20) (probe 40))
(deep 0.5 30)
"""
    out = _agree(src, {"FLUENTAI_MAX_DEPTH": "20"})
    assert "stack-overflow" in out


def test_a_speculated_float_parameter_still_takes_other_kinds(tmp_path: Path) -> None:
    # tier 2 lowers a function with the kinds the VM saw as its parameters' types, whatever its
    # native callers pass: here f gets a raw entry for x, and g's calls pass Ints (a fixnum and
    # a bignum), which go through the known entry and the generic body
    import fluentai.native as native
    from fluentai.llvm.lower import lower_program
    from fluentai.types.lattice import FLOAT

    src = """(define (f x) (* x 2))
(define (g n) (+ (f n) (f 0.25)))
(print (f 1.5) (g 3) (g 4611686018427387903) (f 2) (g -0.5))
"""
    source = SourceFile.from_bytes("p.fl", src.encode())

    def seeded(src_file: SourceFile, **_kw: object) -> object:
        prelude = native._prelude()
        program = native.resolve(src_file, is_prelude=False)
        return lower_program(prelude, program, seeds={"f": (FLOAT,)})

    assert "f" in _raw_entries(str(seeded(source).module))  # type: ignore[attr-defined]
    exe = tmp_path / "p"
    original = native.lower_source
    native.lower_source = seeded  # type: ignore[assignment]
    try:
        status = native.build_executable(source, str(exe), opt=1, emit=None, stderr=sys.stderr)
    finally:
        native.lower_source = original
    assert status == 0
    got = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert (got.returncode, got.stdout, got.stderr) == (
        0,
        "3.0 6.5 9.223372036854776e+18 4 -0.5\n",
        "",
    )
