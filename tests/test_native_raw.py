"""Raw entries (fluentai/llvm/rawentry.py): known functions take their Float parameters as raw
doubles from direct calls. The VM and the native tier must agree on everything: values, reports,
traces and the depth at which stack-overflow fires, whichever entry a call goes through."""

from __future__ import annotations

import re

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
