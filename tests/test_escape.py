"""Escape analysis (fluentai/types/escape.py, DESIGN.md §6.6): which allocations native code
makes in a frame slot. Each case names its allocations by the text of the expression; the
corpus programs in tests/programs/escape/ check that the results are right on every tier."""

from __future__ import annotations

import pytest

from fluentai.llvm.lower import _stack_sites, lower_program
from fluentai.native import resolve
from fluentai.passes import rcore as r
from fluentai.source import SourceFile
from fluentai.types.dump import prelude_core
from fluentai.types.infer import find_known_functions


def _program(text: str) -> r.RProgram:
    return resolve(SourceFile("t.fl", text), is_prelude=False)


def _sites(text: str) -> dict[str, bool]:
    """Each allocation's source text -> whether it lives in its frame."""
    prog = _program(text)
    known = {id(fn): name for name, fn in find_known_functions(prog).items()}
    stack = _stack_sites(prog, known)
    out: dict[str, bool] = {}
    for form, _ in prog.forms:
        for node in r.walk(form):
            is_alloc = isinstance(node, r.CtorApp) or (
                isinstance(node, r.PrimApp) and node.name in ("cons", "list")
            )
            if is_alloc or (isinstance(node, r.Fn) and node.free):
                out[text[node.span.start : node.span.end]] = id(node) in stack
    return out


IN_FRAME = [
    ("(define (f x) (let ((c (cons x []))) (+ (head c) (length c))))", "(cons x [])"),
    ("(data P (P Int Int))\n(define (f a b) (match (P a b) ((P x y) (+ x y))))", "(P a b)"),
    ("(define (f k) (let ((g (lambda (y) (+ y k)))) (+ (g 1) (g 2))))", "(lambda (y) (+ y k))"),
    # the cell stays even though its head leaves
    ("(define (f x) (let ((c (cons (cons x []) []))) (head c)))", "(cons (cons x []) [])"),
    # passed down to a known function that only reads it
    ("(define (len c) (length c))\n(define (f x) (+ 1 (len (cons x []))))", "(cons x [])"),
    # an Int loop variable inside the cell, not the cell, goes round the loop
    (
        "(define (f n) (let next ((i 0) (t 0))"
        " (if (= i n) t (next (+ i 1) (+ t (length (cons i [])))))))",
        "(cons i [])",
    ),
    (
        "(define (f a b) (match (cons a [b]) ([x ...rest] (+ x (length rest))) (_ 0)))",
        "(cons a [b])",
    ),
    ("(define (f a b) (match [a b] ([x y] (+ x y)) (_ 0)))", "[a b]"),
    ("(define (f a) (let ((l [a [a]])) (length (head (tail l)))))", "[a [a]]"),
    ("(define (f a) (let ((l [a [a]])) (length (head (tail l)))))", "[a]"),
]

ON_HEAP = [
    ("(define (f x) (let ((c (cons x []))) c))", "(cons x [])"),
    ("(define (f x) (let ((c (cons x []))) [c]))", "(cons x [])"),
    ("(define (f x) (let ((c (cons x []))) (lambda () c)))", "(cons x [])"),
    ("(define (f a) (let ((l [a [a]])) (head (tail l))))", "[a]"),
    ("(define g [])\n(define (f x) (let ((c (cons x []))) (set! g c) 0))", "(cons x [])"),
    ("(define (h c) (length c))\n(define (f x) (h (cons x [])))", "(cons x [])"),  # tail call
    ("(define (f n acc) (if (= n 0) acc (f (- n 1) (cons n acc))))", "(cons n acc)"),
    (
        "(define (f n) (let next ((i 0) (prev [])) (if (< i n) (next (+ i 1) (cons i prev))"
        " (length prev))))",
        "(cons i prev)",
    ),
    (
        "(define (f n) (let ((acc []) (i 0)) (while (< i n) (set! acc (cons i acc))"
        " (set! i (+ i 1))) (length acc)))",
        "(cons i acc)",
    ),
    ("(define (f x) (let ((c (cons x []))) (map length [c])))", "(cons x [])"),
    ("(define (f x) (let ((c (cons x []))) (state:set 1 c) 0))", "(cons x [])"),
    ("(define (f x) (let ((c (cons x []))) (print c) 0))", "(cons x [])"),
    ('(define (f x) (let ((c (cons x []))) (error "m" c)))', "(cons x [])"),
    # a known function whose parameter's contents leave it
    (
        "(define (first xs) (head xs))\n(define (f x) (+ 0 (length (first (cons [x] [])))))",
        "(cons [x] [])",
    ),
    # a closure that escapes takes its free values with it
    ("(define (f x) (let ((c (cons x []))) (let ((g (lambda () c))) g)))", "(lambda () c)"),
    # called in tail position: it runs once its frame is gone
    ("(define (f k) (let ((g (lambda (y) (+ y k)))) (g 1)))", "(lambda (y) (+ y k))"),
    # an accumulating loop's turn carries its arguments
    (
        "(define (f n xs) (if (= n 0) 0 (+ 1 (f (- n 1) (cons n xs)))))",
        "(cons n xs)",
    ),
]


@pytest.mark.parametrize(("text", "site"), IN_FRAME)
def test_allocations_that_stay_in_their_frame(text: str, site: str) -> None:
    assert _sites(text)[site] is True


@pytest.mark.parametrize(("text", "site"), ON_HEAP)
def test_allocations_that_leave_their_frame(text: str, site: str) -> None:
    assert _sites(text)[site] is False


def test_the_top_level_allocates_on_the_heap() -> None:
    assert _sites("(let ((c (cons 1 []))) (print (length c)))") == {"(cons 1 [])": False}


def test_a_frame_slot_is_in_the_ir() -> None:
    text = "(define (f x) (let ((c (cons x []))) (+ (head c) (length c))))\n(print (f 1))"
    ir_text = str(lower_program(prelude_core(), _program(text)).module)
    body = ir_text[ir_text.index('define internal tailcc i64 @"fl.fn.1.f.k"') :]
    body = body[: body.index("\n}\n")]
    assert "alloca i64, i64 3, align 16" in body
    assert "fl_cons_new" not in body
