"""Escape analysis (fluentai/types/escape.py, DESIGN.md §6.6): which allocations native code
makes in a frame slot. Each case names its allocations by the text of the expression; the
corpus programs in tests/programs/escape/ check that the results are right on every tier."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fluentai.llvm.lower import _stack_sites, lower_program
from fluentai.native import resolve
from fluentai.passes import rcore as r
from fluentai.source import SourceFile
from fluentai.types.dump import prelude_core
from fluentai.types.infer import find_known_functions

ROOT = Path(__file__).resolve().parent.parent


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
                isinstance(node, r.PrimApp)
                and (
                    node.name in ("cons", "list")
                    or (node.name in ("+", "-", "*", "/") and len(node.args) == 2)
                )
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
    # the box of a Float computed by `+ - * /`, passed to a known function that compares it
    ("(define (big? v) (> v 1.0))\n(define (f x) (if (big? (* x 2.5)) 1 0))", "(* x 2.5)"),
    ("(define (f x) (let ((y (+ x 0.5))) (if (> y 1.0) 1 0)))", "(+ x 0.5)"),
    ("(define (f x) (str (* x 2.0)))", "(* x 2.0)"),
    # an Int argument that goes round a loop does not take the Float along
    (
        "(define (big? v) (> v 1.0))\n(define (f n acc)"
        " (if (= n 0) acc (f (- n 1) (+ acc (if (big? (* n 0.5)) 1 0)))))",
        "(* n 0.5)",
    ),
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
    # Float boxes: returned, kept, passed on in a tail call, printed (a perform)
    ("(define (f x) (* x 2.0))", "(* x 2.0)"),
    ("(define (f x) [(* x 2.0)])", "(* x 2.0)"),
    ("(define (big? v) (> v 1.0))\n(define (f x) (big? (* x 2.5)))", "(* x 2.5)"),
    ("(define (f x) (print (* x 2.0)) 0)", "(* x 2.0)"),
    # what `max`, `abs`, one-argument `+` or `sum` return may be the box they were given
    ("(define (f x) (max (* x 2.0) 1))", "(* x 2.0)"),
    ("(define (f x) (abs (- x 2.0)))", "(- x 2.0)"),
    ("(define (f x) (+ (* x 2.0)))", "(* x 2.0)"),
    ("(define (f x) (sum [(* x 2.0)]))", "(* x 2.0)"),
    # carried to the next turn of a loop
    ("(define (f n x) (if (= n 0) 0 (f (- n 1) (* x 1.5))))", "(* x 1.5)"),
]


@pytest.mark.parametrize(("text", "site"), IN_FRAME)
def test_allocations_that_stay_in_their_frame(text: str, site: str) -> None:
    assert _sites(text)[site] is True


@pytest.mark.parametrize(("text", "site"), ON_HEAP)
def test_allocations_that_leave_their_frame(text: str, site: str) -> None:
    assert _sites(text)[site] is False


def test_the_top_level_allocates_on_the_heap() -> None:
    assert _sites("(let ((c (cons 1 []))) (print (length c)))") == {"(cons 1 [])": False}


def _function_ir(text: str, name: str) -> str:
    """The IR of the function `name` (such as `fl.fn.1.f.k`) of the program `text`."""
    ir_text = str(lower_program(prelude_core(), _program(text)).module)
    body = ir_text[ir_text.index(f'define internal tailcc i64 @"{name}"') :]
    return body[: body.index("\n}\n")]


def test_a_frame_slot_is_in_the_ir() -> None:
    text = "(define (f x) (let ((c (cons x []))) (+ (head c) (length c))))\n(print (f 1))"
    body = _function_ir(text, "fl.fn.1.f.k")
    assert "alloca i64, i64 3, align 16" in body
    assert "fl_cons_new" not in body


def test_a_float_box_in_a_frame_slot_is_in_the_ir() -> None:
    # `big?` takes Ints too, so it has no raw entry: the Float is passed boxed (from `f`'s
    # raw entry, where `x` is a double)
    text = (
        "(define (big? v) (> v 1.0))\n(define (f x) (if (big? (* x 2.5)) 1 0))\n"
        "(print (f 1.0) (big? 3))"
    )
    body = _function_ir(text, "fl.fn.2.f.r")
    assert "alloca i64, i64 2, align 16" in body
    assert "fl_box_float" not in body


def test_two_float_words_added_inline_are_boxed_in_a_frame_slot() -> None:
    text = (
        "(define (big? v) (> v 1.0))\n(define (g a b) (if (big? (+ a b)) 1 0))\n"
        "(print (g 1.0 0.5) (g 1 2) (big? 3))"
    )
    body = _function_ir(text, "fl.fn.2.g.k")
    assert "alloca i64, i64 2, align 16" in body
    assert "fl_box_float" not in body


# ---------------------------------------------------------------- generated programs

_OBJECTS = (
    "(cons {a} (cons {b} []))",
    "[{a} {b} {c}]",
    "(P {a} {b})",
    "(lambda y (str y {a}))",
    "(cons {a} [{b}])",
    "(* (+ p 0.5) 1.5)",  # a Float box (trees of `+ - * /`)
    "(- (/ q 4.0) p)",
)
# what a function does with a Float `o`, besides `_USES`
_FLOAT_USES = (
    "(max o 0.25)",  # returned by a builtin that may return its argument
    "(str (max o 0.25))",
    "(sum [o 1.0])",
    "(if (> (abs o) 1.0) (+ o) 0)",
    "(str (* o o) (big? o) (let ((m (+ o 1.0))) (big? m)))",
    "(let loop ((i 0) (x o)) (if (< i 3) (loop (+ i 1) (* x 1.5)) x))",
    "(let loop ((i 0) (x o)) (if (< i 3) (loop (+ i 1) (* x 1.5)) (str x)))",
)
# what a function does with its object `o`; {h} is a helper's name
_USES = (
    "(str o)",  # read here
    "o",  # returned
    "[o 1]",  # returned inside a new list
    "(do (set! kept (cons o kept)) (str o))",  # kept in a global
    "(str (read-it o))",  # passed to a known function that only reads it
    "(read-it o)",  # the same, in a tail call
    "(str (pass-on o))",  # to one that returns it
    "(pass-on o)",
    "(lambda y o)",  # captured by a closure that leaves
    "(let ((g (lambda () (str o)))) (g))",  # by one that does not, called in tail position
    "(let ((g (lambda () (str o)))) (str (g) 1))",
    "(match o ((P x y) x) ([x ...rest] x) (_ (str o)))",  # a part returned
    "(let loop ((i 0) (acc o)) (if (< i 3) (loop (+ i 1) (cons acc [])) acc))",  # carried
    "(let loop ((i 0) (acc [])) (if (< i 3) (loop (+ i 1) (cons o acc)) (str acc)))",
    "(let ((n 0) (acc [])) (while (< n 2) (set! acc (cons o acc)) (set! n (+ n 1))) acc)",
    '(fold (lambda (s x) (str s x)) "" [o o])',
    "(handler ((io:print (lambda (v) v))) (print o))",
    '(try (error "m" o) (catch e (error-data e)))',
    "(count-down 3 o)",  # an accumulating loop whose turns carry it
    "(tail [1 o (str o)])",  # cells of a list literal, with o inside
    "(match [o 2 3] ([_ ...more] more))",
    "(let ((l [1 o])) (tail l))",
    "(raises o)",  # `error` raises its data at once
)


def _generated_program(rng: random.Random, nfuns: int) -> str:
    lines = [
        "(data Pt (P a b))",
        "(define kept [])",
        "(define (read-it v) (str v))",
        "(define (pass-on v) v)",
        "(define (count-down n v)"
        " (if (= n 0) (length (str v)) (+ 1 (count-down (- n 1) (cons v [])))))",
        "(define (churn n) (if (= n 0) [] (cons (str n) (churn (- n 1)))))",
        "(define (show v) (if (function? v) (str (v)) (str v)))",
        "(define (big? v) (> v 1.0))",
        '(define (raises v) (try (error "m" [v 1]) (catch e (error-data e))))',
    ]
    calls = []
    for i in range(nfuns):
        params = ["p", "q"]
        leaves = [*params, str(rng.randint(0, 9)), '"s"']
        obj = rng.choice(_OBJECTS)
        inner = rng.choice(_OBJECTS) if rng.random() < 0.3 else None
        values = {k: rng.choice(leaves) for k in "abc"}
        if inner is not None:
            values["a"] = inner.format(**{k: rng.choice(leaves) for k in "abc"})
        floats = obj.startswith(("(*", "(-"))  # no inner object
        use = rng.choice(_USES + _FLOAT_USES if floats else _USES)
        lines.append(f"(define (f{i} p q) (let ((o {obj.format(**values)})) {use}))")
        args = f"{rng.randint(0, 99)} {rng.randint(0, 99)}"
        calls.append(f"(let ((r (f{i} {args}))) (churn 50) (show r))")
    lines.append("(print " + " ".join(calls) + ")")
    lines.append("(print (map show kept))")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(4))
def test_generated_programs_with_frame_objects_run_as_on_the_vm(seed: int) -> None:
    """Objects made and used every way `_USES` lists (several kinds, nested), each function's
    result shown after the stack below it was overwritten: native code at -O0 (where a dead
    frame's slot is soonest reused) prints what the VM prints."""
    src = _generated_program(random.Random(20261130 + seed), 40)
    with tempfile.TemporaryDirectory(prefix="fluentai-escape-") as workdir:
        path = Path(workdir) / "prog.fl"
        path.write_text(src)
        out = {}
        for tier in ("vm", "native"):
            env = dict(os.environ, PYTHONPATH=str(ROOT), FLUENTAI_NATIVE_OPT="0")
            done = subprocess.run(
                [sys.executable, "-m", "fluentai", "run", "--tier", tier, str(path)],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            out[tier] = (done.returncode, done.stdout, done.stderr)
        assert out["vm"][0] == 0, out["vm"][2]
        assert out["native"] == out["vm"], src
