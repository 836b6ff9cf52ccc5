"""Accumulator recursion on the native tier (fluentai/llvm/accumulate.py): a self call summed or
multiplied in tail position runs as a loop of the frame. The VM and the native tier must agree on
everything, the whole report and trace included, at depth limits, across the fixnum limit and for
errors raised after the loop went round."""

from __future__ import annotations

import re

from test_native_ints import _agree

from fluentai.llvm.lower import lower_program
from fluentai.native import _prelude, lower_source, resolve
from fluentai.source import SourceFile


def _known_body(src: str, name: str, suffix: str = "") -> str:
    """The LLVM IR of the known entry of program function `name` (+ `suffix`)."""
    ir_text = str(lower_source(SourceFile.from_bytes("p.fl", src.encode())).module)
    pattern = rf'define internal tailcc i64 @"?fl\.fn\.\d+\.{name}\.k{re.escape(suffix)}"?\('
    found = re.search(pattern, ir_text)
    assert found is not None, name
    return ir_text[found.end() :].split("\n}\n")[0]


def test_summed_self_calls_become_a_loop() -> None:
    src = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(print (fib 10))\n"
    # the entry takes the quick exit (n < 2) or jumps to the loop, in a function of its own
    entry = _known_body(src, "fib")
    assert "acc.head" not in entry and "musttail call tailcc i64 @" in entry
    body = _known_body(src, "fib", ".body")
    assert "acc.head" in body
    # one call left per copy of the generic body (the first turn's, the later turns'): the
    # first operand's; with n a fixnum, the loop goes on in the fixnum function
    assert body.count("call tailcc i64 @") == 2
    assert "acc.spec.head" not in body and "call i64 @" in body
    # no quick exit to take: one function
    src = "(define (down n) (if (< (* n 1) 1) 0 (+ 1 (down (- n 1)))))\n(print (down 10))\n"
    assert "acc.head" in _known_body(src, "down")


def test_non_int_results_are_left_alone() -> None:
    src = (
        "(define (h n) (if (< n 2) 0.5 (+ (h (- n 1)) (h (- n 2)))))\n(print (h 10))\n"
        "(define (k n) (if (< n 2) n (+ (k (- n 1)) (k (- n 2)) 1)))\n(print (k 10))\n"
    )
    assert "acc.head" not in _known_body(src, "h")
    # the self call is not the last operand: the addition follows it
    assert "acc.head" not in _known_body(src, "k")


def test_results_agree_across_the_fixnum_limit() -> None:
    src = """(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (big n) (if (= n 0) 0 (+ 4611686018427387903 (big (- n 1)))))
(define (swing n) (if (= n 0) -4611686018427387904 (+ (if (= (mod n 2) 0) 4611686018427387903 -4611686018427387904) (swing (- n 1)))))
(define (fact n) (if (< n 2) 1 (* n (fact (- n 1)))))
(define (pow2 n) (if (= n 0) 1 (* 2 (pow2 (- n 1)))))
(define (skip n) (cond ((= n 0) 0) ((= (mod n 3) 0) (skip (- n 1))) (else (+ n (skip (- n 1))))))
(print (fib 20) (big 3) (swing 5) (swing 6) (fact 25) (pow2 70) (pow2 62) (skip 100))
"""
    out = _agree(src)
    assert out.split()[:3] == ["6765", "13835058055282163709", "-9223372036854775810"]


def test_depth_limit_fires_at_the_same_call() -> None:
    # the loop stands for nested calls: each turn counts one level, also when the call replaced
    # is the deeper one
    src = """(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (bif n) (if (< n 2) n (+ (bif (- n 2)) (bif (- n 1)))))
(define (down n) (if (= n 0) 0 (+ 1 (down (- n 1)))))
(define (probe f n) (try (f n) (catch e (error-kind e))))
(print (probe fib 40) (probe down 18) (probe down 19) (probe down 20) (probe down 21))
(print (probe bif 18) (probe bif 19) (probe bif 20) (probe bif 21) (probe bif 22))
(bif 25)
"""
    out = _agree(src, {"FLUENTAI_MAX_DEPTH": "20"})
    assert "stack-overflow" in out


def test_errors_after_turns_keep_their_traces() -> None:
    # an error after the loop went round several times: the trace lists one entry per frame
    # the turns replaced
    src = """(define (h n) (if (< n 1) 0 (+ (quot 12 (- n 5)) (h (- n 2)))))
(define (g n) (+ 1 (h n)))
(print (g 4))
(print (g 11))
"""
    _agree(src)


def test_mixed_traces_of_both_calls() -> None:
    # f recurses without end through both calls: the overflow trace mixes their sites
    src = """(define (f n) (if (< n 1) n (+ (f (quot 12 (- n 5))) (f (- n 2)))))
(define (g n) (+ 1 (f n)))
(print (g 4))
(print (g 11))
"""
    _agree(src, {"FLUENTAI_MAX_DEPTH": "1000"})


def test_overflow_trace_after_turns() -> None:
    src = """(define (bif n) (if (< n 2) n (+ (bif (- n 2)) (bif (- n 1)))))
(print (bif 24))
"""
    _agree(src, {"FLUENTAI_MAX_DEPTH": "21"})


def test_quick_exits_get_a_thin_entry() -> None:
    src = """(define (tak x y z) (if (< y x) (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y)) z))
(print (tak 18 12 6))
"""
    entry = _known_body(src, "tak")
    assert "musttail call tailcc i64" in entry and entry.count("call tailcc i64") == 1
    assert "noinline" in _known_body(src, "tak", ".body").split("{")[0]
    # a test that may fail (a String is possible) is no quick exit
    src = '(define (f x) (if (< x 1) 0 (f (- x 1))))\n(print (f 3) (try (f "a") (catch e 1)))\n'
    assert ".body" not in str(lower_source(SourceFile.from_bytes("p.fl", src.encode())).module)


def test_quick_exits_keep_results_depths_and_traces() -> None:
    src = """(define (tak x y z) (if (< y x) (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y)) z))
(define (down n) (if (= n 0) 7 (let ((m (- n 1))) (* 1 (down m)))))
(define (probe f n) (try (f n) (catch e (error-kind e))))
(define (ratio a b) (if (> a 100) a (quot (ratio (+ a 1) b) b)))
(print (tak 18 12 6) (tak 4611686018427387903 4611686018427387904 2))
(print (probe down 18) (probe down 19) (probe down 20))
(print (ratio 90 1))
(ratio 95 0)
"""
    _agree(src, {"FLUENTAI_MAX_DEPTH": "20"})


def test_the_fixnum_copy_hands_over_to_the_generic_loop_across_the_limit() -> None:
    # n starts a fixnum (the Int-specialized copy) and leaves the fixnum range after a few
    # turns (the generic loop goes on with a bignum); down starts with a bignum and comes back
    src = """(define (walk n k) (if (= k 0) n (+ 1 (walk (+ n 1000000000000000000) (- k 1)))))
(define (down n k) (if (< k 1) n (+ k (down (- n 1000000000000000000) (- k 1)))))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(print (walk 1 10) (walk -4611686018427387904 12) (down 6611686018427387904 5) (down 0 12))
(print (fib 25) (fib -4611686018427387904) (fib 4611686018427387904))
"""
    out = _agree(src)
    assert out.split()[:2] == ["10000000000000000011", "7388313981572612108"]


def test_errors_in_the_fixnum_copy_keep_their_traces() -> None:
    src = """(define (h n) (if (< n 1) 0 (+ (quot 12 (- n 5)) (h (- n 2)))))
(define (probe n) (try (h n) (catch e (error-kind e))))
(print (probe 4) (probe 9) (probe 12))
(h 11)
"""
    _agree(src)
    _agree(src, {"FLUENTAI_MAX_DEPTH": "3"})


def _module(src: str) -> str:
    return str(lower_source(SourceFile.from_bytes("p.fl", src.encode())).module)


def test_int_loops_of_int_arithmetic_get_a_fixnum_function() -> None:
    src = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(print (fib 10))\n"
    ir_text = _module(src)
    # the fixnum function (parameters, then the depth count) and two copies inlined into it,
    # each with a thin copy of the quick exit, which the previous one's self calls call
    for name in ("fx", "fx1", "fx2"):
        head = re.search(rf'define internal i64 @"?fl\.fn\.\d+\.fib\.k\.{name}"?\(i64', ir_text)
        assert head is not None, name
        assert re.search(rf'@"?fl\.fn\.\d+\.fib\.k\.{name}\.q"?\(i64', ir_text), name
    found = re.search(r'define internal i64 @"?fl\.fn\.\d+\.fib\.k\.fx"?\(', ir_text)
    assert found is not None
    fx = ir_text[found.end() :].split("\n}\n")[0]
    assert "fib.k.fx1.q" in fx and "fl_rt_depth" in fx
    # the Int-specialized copy is not lowered in the known entry any more
    assert "acc.spec" not in _known_body(src, "fib", ".body")
    # a body with another operation (which may fail, or call the runtime) keeps the copy
    src = "(define (s n) (if (< n 2) n (+ (quot n 2) (s (- n 1)))))\n(print (s 10))\n"
    assert ".k.fx" not in _module(src) and "acc.spec.head" in _known_body(src, "s", ".body")
    # so does a function with a parameter that may be something else than an Int
    src = '(define (g n x) (if (< n 1) 0 (+ 1 (g (- n 1) x))))\n(print (g 3 1) (g 3 "a"))\n'
    assert ".k.fx" not in _module(src)


def test_a_quick_lowering_does_not_unroll_the_fixnum_function() -> None:
    # a first run's image (lowered `quick`, fluentai/imageproc.py): one fixnum function, whose
    # self calls go through its own thin entry
    src = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(print (fib 10))\n"
    prelude = _prelude()
    program = resolve(SourceFile.from_bytes("p.fl", src.encode()), is_prelude=False)
    ir_text = str(lower_program(prelude, program, quick=True).module)
    found = re.search(r'define internal i64 @"?fl\.fn\.\d+\.fib\.k\.fx"?\(', ir_text)
    assert found is not None
    assert ".k.fx1" not in ir_text
    assert ".fib.k.fx.q" in ir_text[found.end() :].split("\n}\n")[0]


def test_fixnum_functions_agree_at_every_depth_limit() -> None:
    # the overflow is found in the fixnum function, in either copy inlined into it or in the
    # known entry, depending on the limit; the count is whole again after a caught overflow
    src = """(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (bif n) (if (< n 2) n (+ (bif (- n 2)) (bif (- n 1)))))
(define (down n) (if (= n 0) 0 (+ 1 (down (- n 1)))))
(define (probe f n) (try (f n) (catch e (error-kind e))))
(print (probe fib 30) (probe bif 30) (probe down 30))
(print (down 14) (fib 12) (bif 12))
(bif 30)
"""
    for limit in range(17, 24):
        _agree(src, {"FLUENTAI_MAX_DEPTH": str(limit)})


def test_fixnum_functions_hand_bignums_to_the_known_entry() -> None:
    # t's inner call gets a bignum (the known entry runs it), walk's loop leaves the fixnum
    # range partway (the known entry goes on from there at the frame's depth), also when the
    # depth limit is reached after that
    src = """(define (t n k) (if (= k 0) n (+ (t (+ n n) 0) (t n (- k 1)))))
(define (u n k) (if (< k 1) 0 (+ (u (* n 4) (- k 1)) (u n (- k 2)))))
(define (walk n k) (if (= k 0) n (+ 1 (walk (+ n 1000000000000000000) (- k 1)))))
(print (t 1 5) (t 3000000000000000000 3) (t -3000000000000000000 4))
(print (u 1 12) (u 1000000000000000000 12) (walk 1 10) (walk -4611686018427387904 12))
(walk 1 40)
"""
    _agree(src)
    _agree(src, {"FLUENTAI_MAX_DEPTH": "20"})
    _agree(src, {"FLUENTAI_MAX_DEPTH": "13"})


def _fx_body(src: str, name: str) -> str:
    ir_text = _module(src)
    found = re.search(rf'define internal i64 @"?fl\.fn\.\d+\.{name}\.k\.fx"?\(', ir_text)
    assert found is not None, name
    return ir_text[found.end() :].split("\n}\n")[0]


def test_a_turn_after_a_self_call_at_the_same_count_checks_no_depth() -> None:
    # fib's turn follows its first operand's call, which checked the same count: one check
    # per turn (the call's); tri's first operand is no call, so its turn checks
    fib = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(print (fib 10))\n"
    body = _fx_body(fib, "fib")
    assert "fx.depth.over" in body and "acc.depth.over" not in body
    tri = "(define (tri n) (if (= n 0) 0 (+ n (tri (- n 1)))))\n(print (tri 10))\n"
    assert "acc.depth.over" in _fx_body(tri, "tri")
    # a fixnum function's return leaves the count alone; the known entry restores it
    assert "ret i64" in body
    for block in body.split("\n\n"):
        assert not re.search(r'store i64 %"?[\w.]+"?, i64\* @"fl_rt_depth"\n\s*ret', block)


def test_an_accumulator_leaving_the_fixnums_ends_the_fixnum_loop() -> None:
    # the sum leaves the fixnum range after some turns (one operand or two), or a call
    # returns a bignum: the known entry goes on generically; also at depth limits, where
    # the overflow comes before or after that
    src = """(define (big n) (if (= n 0) 0 (+ 4611686018427387903 (big (- n 1)))))
(define (two n) (if (= n 0) 0 (+ 4611686018427387903 n (two (- n 1)))))
(define (p n) (if (< n 2) 4611686018427387903 (+ (p (- n 1)) (p (- n 2)))))
(define (neg n) (if (< n 2) -4611686018427387904 (+ (neg (- n 2)) (neg (- n 1)))))
(define (fact n) (if (< n 2) 1 (* n (fact (- n 1)))))
(define (probe f n) (try (f n) (catch e (error-kind e))))
(print (big 40) (two 40) (p 15) (neg 15) (fact 30))
(print (probe big 30) (probe two 30) (probe p 30) (probe fact 30))
(two 40)
"""
    out = _agree(src)
    assert out.split()[:2] == ["184467440737095516120", "184467440737095516940"]
    _agree(src, {"FLUENTAI_MAX_DEPTH": "20"})
    _agree(src, {"FLUENTAI_MAX_DEPTH": "33"})


def test_executables_read_the_runtime_globals_directly() -> None:
    from fluentai.llvm.lower import executable_ir

    ir_text = executable_ir(_module("(print 1)\n"))
    assert '@"fl_rt_depth_limit" = external dso_local global' in ir_text
    assert "= external global" not in ir_text.split("declare")[0]
