"""Unit tests for the expander (syntax/expand.py) and the Core formatter (syntax/format.py)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from fluentai.diagnostics import Diagnostic, DiagnosticSink
from fluentai.reader.datum import Bracket, Datum, DInt, DList, DSym
from fluentai.reader.read import read_program
from fluentai.source import SourceFile, Span
from fluentai.symbol import Symbol
from fluentai.syntax.core import (
    Call,
    Data,
    Define,
    Expr,
    Group,
    If,
    Lambda,
    Lit,
    Match,
    PCtor,
    PList,
    PrimCall,
    Program,
    PVar,
    QList,
    QMap,
    Ref,
    TCon,
    Try,
    TVar,
)
from fluentai.syntax.expand import expand_program
from fluentai.syntax.format import format_core, format_expr

# ---------------------------------------------------------------- helpers

T = TypeVar("T")

_LET_SHAPE = "malformed `let`: expected (let ((name expr)*) body) or (let name ((var init)*) body)"
_CLAUSE_SHAPE = "malformed `match` clause: expected (pattern body) or (pattern :when guard body)"
_HANDLER_CLAUSE = "malformed `handler` clause: expected (ns:op expr) or (ns expr)"


def expand(text: str) -> tuple[Program, list[Diagnostic]]:
    sink = DiagnosticSink()
    program = expand_program(read_program(SourceFile("<test>", text)), sink)
    return program, sink.items


def forms(text: str) -> tuple[Expr, ...]:
    """The Core forms of a program that must expand without errors."""
    program, errors = expand(text)
    assert errors == []
    return program.forms


def core(text: str) -> str:
    """The formatted Core of a program that must expand without errors (no final newline)."""
    program, errors = expand(text)
    assert [e.message for e in errors] == []
    return format_core(program).rstrip("\n")


def error(text: str) -> Diagnostic:
    """The single diagnostic of a program with exactly one syntax error."""
    _, errors = expand(text)
    assert len(errors) == 1, [e.message for e in errors]
    assert errors[0].kind == "syntax-error"
    return errors[0]


def error_text(text: str) -> str:
    """The source text that the single error of `text` points at."""
    diag = error(text)
    return text[diag.span.start : diag.span.end]


_FILE = SourceFile("<hand>", "")
_SPAN = Span(_FILE, 0, 0)


def sym(name: str) -> DSym:
    return DSym(name, span=_SPAN)


def paren(*items: Datum) -> DList:
    return DList(items, Bracket.PAREN, span=_SPAN)


def expand_datums(*datums: Datum) -> tuple[Program, list[Diagnostic]]:
    sink = DiagnosticSink()
    return expand_program(datums, sink), sink.items


def run_deep(fn: Callable[[], T]) -> T:
    """Run `fn` as the driver does: in a thread with a big stack and a high recursion limit."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test thread)
            failure.append(exc)

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    sys.setrecursionlimit(10**6)
    threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if failure:
        raise failure[0]
    return result[0]


# ---------------------------------------------------------------- literals and symbols


def test_atoms_become_literals_of_their_values() -> None:
    values = [lit.value for lit in forms('42 -7 2.5 "s" #t #f nil') if isinstance(lit, Lit)]
    assert values == [42, -7, 2.5, "s", True, False, None]
    assert [type(v) for v in values[4:6]] == [bool, bool]


def test_keyword_evaluates_to_its_symbol() -> None:
    (lit,) = forms(":name")
    assert lit == Lit(Symbol(":name"), span=_SPAN)


def test_operation_symbol_as_value_is_a_reference() -> None:
    assert forms("(map io:print xs)")[0] == Call(
        Ref("map", span=_SPAN),
        (Ref("io:print", span=_SPAN), Ref("xs", span=_SPAN)),
        span=_SPAN,
    )


def test_wildcard_as_expression_is_left_to_resolution() -> None:
    assert forms("_") == (Ref("_", span=_SPAN),)


def test_empty_brackets_are_empty_literals() -> None:
    assert forms("() [] {}") == (
        Lit(QList(()), span=_SPAN),
        Lit(QList(()), span=_SPAN),
        Lit(QMap(()), span=_SPAN),
    )


def test_list_and_map_expressions_are_primitive_calls() -> None:
    lst, mp = forms("[1 x] {:a 1 :b y}")
    assert lst == PrimCall("list", (Lit(1, span=_SPAN), Ref("x", span=_SPAN)), span=_SPAN)
    assert isinstance(mp, PrimCall) and mp.name == "%map-literal" and len(mp.args) == 4
    assert core("{:a 1 :b y}") == "(prim %map-literal :a 1 :b y)"


def test_odd_map_expression_is_an_error() -> None:
    _, errors = expand_datums(DList((DInt(1, span=_SPAN),), Bracket.CURLY, span=_SPAN))
    assert [e.kind for e in errors] == ["syntax-error"]


def test_dot_outside_parameters_is_an_error() -> None:
    assert error_text("(f . x)") == "."
    assert error_text("[1 . 2]") == "."


def test_malformed_colon_symbol_is_an_error() -> None:
    _, errors = expand_datums(sym("a:b:c"))
    assert "invalid symbol `a:b:c`" in errors[0].message


def test_special_form_name_as_value_is_an_error() -> None:
    assert error("(map if xs)").message == "special form `if` cannot be used as a value"
    assert error_text("(fold or #f [#t])") == "or"
    assert error_text("(define x data)") == "data"
    assert error_text("[:]") == ":"


def test_else_catch_finally_are_ordinary_names_outside_their_forms() -> None:
    assert core("[else catch finally]") == "(prim list else catch finally)"


# ---------------------------------------------------------------- quote


def test_quote_converts_data() -> None:
    assert core("""'(1 "two" [three] {:k nil} 2.5 #t)""") == (
        """'[1 "two" [three] {:k nil} 2.5 #t]"""
    )
    (lit,) = forms("'(a [b] {:k nil})")
    assert lit == Lit(
        QList(
            (
                Symbol("a"),
                QList((Symbol("b"),)),
                QMap(((Symbol(":k"), None),)),
            )
        ),
        span=_SPAN,
    )


def test_quote_of_symbols_and_nested_quotes() -> None:
    assert forms("'x ':k 'io:print") == (
        Lit(Symbol("x"), span=_SPAN),
        Lit(Symbol(":k"), span=_SPAN),
        Lit(Symbol("io:print"), span=_SPAN),
    )
    assert forms("''x")[0] == Lit(QList((Symbol("quote"), Symbol("x"))), span=_SPAN)
    assert forms("'() '[]") == (Lit(QList(()), span=_SPAN), Lit(QList(()), span=_SPAN))
    assert forms("'5 '\"s\" 'nil") == (
        Lit(5, span=_SPAN),
        Lit("s", span=_SPAN),
        Lit(None, span=_SPAN),
    )


def test_quote_shape_errors() -> None:
    assert error("(quote)").message == "malformed `quote`: expected (quote datum)"
    error("(quote a b)")
    assert error("'(a . b)").message == "`.` cannot appear in quoted data"


def test_quote_of_odd_map_is_an_error() -> None:
    odd_map = DList((sym("k"),), Bracket.CURLY, span=_SPAN)
    _, errors = expand_datums(paren(sym("quote"), paren(odd_map)))
    assert len(errors) == 1


def test_quote_of_very_deep_data_does_not_recurse() -> None:
    datum: Datum = sym("x")
    for _ in range(100_000):
        datum = paren(datum)
    program, errors = expand_datums(paren(sym("quote"), datum))
    assert errors == []
    (lit,) = program.forms
    assert isinstance(lit, Lit)
    value = lit.value
    depth = 0
    while isinstance(value, QList):
        (value,) = value.items
        depth += 1
    assert (depth, value) == (100_000, Symbol("x"))


# ---------------------------------------------------------------- if, cond, when, unless


def test_if_with_and_without_else() -> None:
    assert core("(if a b c)") == "(if a b c)"
    assert core("(if a b)") == "(if a b nil)"


@pytest.mark.parametrize("text", ["(if)", "(if a)", "(if a b c d)"])
def test_if_shape_errors(text: str) -> None:
    assert error(text).message == "malformed `if`: expected (if test then else?)"


def test_cond_becomes_nested_ifs() -> None:
    text = '(cond ((< n 0) "neg") ((= n 0) "zero") (else "pos"))'
    assert core(text) == '(if (< n 0) "neg" (if (= n 0) "zero" "pos"))'


def test_cond_without_clauses_or_else_is_nil() -> None:
    assert core("(cond)") == "nil"
    assert core("(cond (a 1))") == "(if a 1 nil)"


def test_cond_clause_without_body_gives_the_test_value() -> None:
    (expr,) = forms("(cond ((get m k)) (else 2))")
    assert isinstance(expr, Group)
    define, decide = expr.items
    assert isinstance(define, Define) and " " in define.name
    assert decide == If(
        Ref(define.name, span=_SPAN),
        Ref(define.name, span=_SPAN),
        Lit(2, span=_SPAN),
        span=_SPAN,
    )
    assert core("(cond ((get m k)) (else 2))") == (
        "(group (define | cond1| (get m k)) (if | cond1| | cond1| 2))"
    )


def test_cond_clause_bodies_may_hold_definitions() -> None:
    assert core("(cond (a (define x 1) x) (else (define y 2) y))") == (
        "(if a (group (define x 1) x) (group (define y 2) y))"
    )


def test_cond_else_must_be_last() -> None:
    assert error_text("(cond (else 1) (a 2))") == "(else 1)"
    assert error("(cond (else 1) (a 2))").message == "`else` must be the last clause of `cond`"


@pytest.mark.parametrize("text", ["(cond (else))", "(cond ())", "(cond a)", "(cond [a 1])"])
def test_cond_malformed_clauses(text: str) -> None:
    assert error(text).message.startswith("malformed `cond` clause")


def test_when_and_unless() -> None:
    assert core("(when a b c)") == "(if a (seq b c) nil)"
    assert core("(unless a b)") == "(if a nil b)"
    assert core("(when a (define x 1) x)") == "(if a (group (define x 1) x) nil)"


@pytest.mark.parametrize("text", ["(when a)", "(unless a)", "(when)"])
def test_when_unless_need_a_body(text: str) -> None:
    assert error(text).message.startswith("malformed `")


# ---------------------------------------------------------------- and, or, do, begin


def test_empty_and_or() -> None:
    assert forms("(and) (or)") == (Lit(True, span=_SPAN), Lit(False, span=_SPAN))
    assert [type(f.value) for f in forms("(and) (or)") if isinstance(f, Lit)] == [bool, bool]


def test_single_operand_and_or_is_the_operand() -> None:
    assert core("(and a)") == "a"
    assert core("(or (f x))") == "(f x)"


def test_and_returns_the_deciding_operand() -> None:
    (expr,) = forms("(and a b)")
    assert isinstance(expr, Group)
    define, decide = expr.items
    assert define == Define(" and1", Ref("a", span=_SPAN), span=_SPAN)
    temp = Ref(" and1", span=_SPAN)
    assert decide == If(temp, Ref("b", span=_SPAN), temp, span=_SPAN)


def test_or_returns_the_deciding_operand() -> None:
    (expr,) = forms("(or a b)")
    temp = Ref(" or1", span=_SPAN)
    assert expr == Group(
        (
            Define(" or1", Ref("a", span=_SPAN), span=_SPAN),
            If(temp, temp, Ref("b", span=_SPAN), span=_SPAN),
        ),
        span=_SPAN,
    )


def test_and_or_chain_keeps_last_operand_in_tail_branch() -> None:
    assert core("(and a b c)") == (
        "(group (define | and1| a) (if | and1| (group (define | and2| b) (if | and2| c | and2|)) "
        "| and1|))"
    )
    assert core("(or a b c)") == (
        "(group (define | or1| a) (if | or1| | or1| "
        "(group (define | or2| b) (if | or2| | or2| c))))"
    )


def test_temporaries_are_fresh_across_forms() -> None:
    text = core("(and a b) (or c d) (cond (e) (else f))")
    assert text.splitlines() == [
        "(group (define | and1| a) (if | and1| b | and1|))",
        "(group (define | or2| c) (if | or2| | or2| d))",
        "(group (define | cond3| e) (if | cond3| | cond3| f))",
    ]


def test_do_and_begin_are_sequences() -> None:
    assert core("(f (do a b) (begin c) (do))") == "(f (seq a b) (seq c) nil)"


def test_top_level_do_is_flattened() -> None:
    assert core("(do (define x 1) (begin (define y 2) (print x y)))") == (
        "(define x 1)\n(define y 2)\n(print x y)"
    )
    assert core("(do) (begin)") == ""


def test_top_level_do_recovers_per_form() -> None:
    program, errors = expand("(do (if) (define x 1) (quote))")
    assert len(errors) == 2
    # a malformed expression becomes nil (never run: the program does not run)
    assert format_core(program) == "nil\n(define x 1)\nnil\n"


# ---------------------------------------------------------------- definitions where allowed


@pytest.mark.parametrize(
    "text",
    [
        "(if (define x 1) 2)",
        "(if a (define x 1))",
        "(print (define x 1))",
        "(define (f) (do (define x 1)))",
        "(while a (define x 1))",
        "(let ((y (define x 1))) y)",
        "(and (define x 1))",
        "(cond ((define x 1) 2))",
        "(f (defun g () 1))",
        "(set! y (def x 1))",
        "[(define x 1)]",
        "(match v (_ :when (define x 1) 2))",
    ],
)
def test_definition_outside_a_body_is_an_error(text: str) -> None:
    assert error(text).message == (
        "a definition is allowed only at top level or among the forms of a body"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(lambda () (define x 1) x)", "(lambda () (group (define x 1) x))"),
        ("(fn () 1 (define x 1))", "(lambda () (group 1 (define x 1)))"),
        ("(let () (define x 1) x)", "(group (group (define x 1) x))"),
        ("(when a (define x 1))", "(if a (group (define x 1)) nil)"),
        ("(unless a (define x 1))", "(if a nil (group (define x 1)))"),
        ("(match v (y (define x y) x))", "(match v (y (group (define x y) x)))"),
        ("(handler () (define x 1) x)", "(handler () (group (define x 1) x))"),
        (
            "(try (define x 1) (catch e (define y 2)) (finally (define z 3)))",
            (
                "(try (group (define x 1)) (catch e (group (define y 2))) "
                "(finally (group (define z 3))))"
            ),
        ),
    ],
)
def test_definitions_among_body_forms(text: str, expected: str) -> None:
    assert core(text) == expected


def test_internal_definitions_form_one_group_with_each_kind() -> None:
    assert core("(define (h a) (define (sq x) (* x x)) (defun cube (x) x) (def k 2) (sq a))") == (
        "(define h\n"
        "  (lambda h (a)\n"
        "    (group\n"
        "      (define sq (lambda sq (x) (* x x)))\n"
        "      (define cube (lambda cube (x) x))\n"
        "      (define k 2)\n"
        "      (sq a))))"
    )


def test_data_only_at_top_level() -> None:
    assert error("(define (f) (data A B))").message == "`data` is allowed only at top level"
    error("(if a (data A B))")
    assert core("(do (data A B))") == "(data A B)"


# ---------------------------------------------------------------- let forms


def test_let_is_one_group_of_bindings_then_body() -> None:
    assert core("(let ((x 1) (y x)) (+ x y))") == "(group (define x 1) (define y x) (+ x y))"
    assert core("(let* ((a 1)) a b)") == "(group (define a 1) (seq a b))"
    assert core("(letrec () 1)") == "(group 1)"


def test_let_body_definitions_are_their_own_group() -> None:
    assert core("(let ((x 1)) (define y 2) (+ x y))") == (
        "(group (define x 1) (group (define y 2) (+ x y)))"
    )


def test_let_binding_of_lambda_takes_the_name() -> None:
    (expr,) = forms("(let ((f (lambda (x) x)) (g (fn () 1)) (h ((lambda () 1)))) f)")
    assert isinstance(expr, Group)
    names = []
    for item in expr.items[:3]:
        assert isinstance(item, Define)
        names.append(item.value.name if isinstance(item.value, Lambda) else None)
    assert names == ["f", "g", None]


def test_let_wildcard_binding_is_kept_for_its_effect() -> None:
    assert core("(let ((_ (print 1)) (_ 2)) 3)") == "(group (define _ (print 1)) (define _ 2) 3)"


@pytest.mark.parametrize(
    "text",
    ["(let)", "(let ((x 1)))", "(let (x 1) x)", "(let x)", "(let* [(x 1)] x)", "(letrec 5 1)"],
)
def test_let_shape_errors(text: str) -> None:
    assert error(text).message.startswith("malformed `let")


@pytest.mark.parametrize("text", ["(let ((x)) x)", "(let ((x 1 2)) x)", "(let (5) 1)"])
def test_let_binding_shape_errors(text: str) -> None:
    assert error(text).message.startswith("malformed `let` binding: expected (name expr)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(let ((:k 1)) 1)", "cannot bind keyword `:k`"),
        ("(let ((io:print 1)) 1)", "cannot bind effect operation `io:print`"),
        ("(let ((5 1)) 1)", "expected a name, got `5`"),
        ('(let (("s" 1)) 1)', 'expected a name, got `"s"`'),
    ],
)
def test_let_binding_names_must_be_bindable(text: str, message: str) -> None:
    assert error(text).message == message


def test_named_let() -> None:
    assert core("(let loop ((i 0) (acc [])) (loop (+ i 1) acc))") == (
        "((group (define loop (lambda loop (i acc) (loop (+ i 1) acc))) loop) 0 '[])"
    )
    (call,) = forms("(let loop () 1)")
    assert isinstance(call, Call) and call.args == ()
    assert isinstance(call.fn, Group)


def test_named_let_inits_are_in_the_enclosing_scope() -> None:
    # `if` is bound in the body (a loop variable) but not in the inits.
    assert core("(let loop ((if (if a 1 2))) (if 3))") == (
        "((group (define loop (lambda loop (if) (call if 3))) loop) (if a 1 2))"
    )
    # The loop name is not bound in the inits either.
    assert core("(let when ((x (when a 1))) (when x))") == (
        "((group (define when (lambda when (x) (call when x))) when) (if a 1 nil))"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(let loop ((i 0) (i 1)) i)", "duplicate parameter `i`"),
        ("(let loop ((i 0)))", _LET_SHAPE),
        ("(let :k ((i 0)) i)", "cannot bind keyword `:k`"),
        ("(let loop ((:k 0)) 1)", "cannot bind keyword `:k`"),
        ("(let loop (i 0) i)", "malformed `let` binding: expected (name expr), got `i`"),
    ],
)
def test_named_let_errors(text: str, message: str) -> None:
    assert error(text).message == message


def test_named_let_wildcard_variables_may_repeat() -> None:
    assert core("(let loop ((_ 1) (_ 2)) 3)") == (
        "((group (define loop (lambda loop (_ _) 3)) loop) 1 2)"
    )


# ---------------------------------------------------------------- lambda, fn


def test_lambda_parameter_forms() -> None:
    assert core("(lambda (a b) a)") == "(lambda (a b) a)"
    assert core("(fn (a . more) more)") == "(lambda (a . more) more)"
    assert core("(lambda all all)") == "(lambda (. all) all)"
    assert core("(fn () 1 2)") == "(lambda () (seq 1 2))"
    (lam,) = forms("(lambda (a b . c) c)")
    assert lam == Lambda(("a", "b"), "c", Ref("c", span=_SPAN), None, span=_SPAN)


def test_lambda_wildcard_parameters_may_repeat() -> None:
    assert core("(lambda (_ _ . _) 0)") == "(lambda (_ _ . _) 0)"


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        ("(lambda (a b a) a)", "duplicate parameter `a`", "a"),
        ("(fn (a . a) a)", "duplicate parameter `a`", "a"),
        ("(lambda (:k) 1)", "cannot bind keyword `:k`", ":k"),
        ("(lambda (io:x) 1)", "cannot bind effect operation `io:x`", "io:x"),
        ("(lambda (. r) r)", "a rest parameter `. name` needs a parameter before the `.`", "."),
        ("(lambda (a .) a)", "`.` must be followed by exactly one rest parameter name", "."),
        ("(lambda (a . b c) a)", "`.` must be followed by exactly one rest parameter name", "."),
        ("(lambda (a . . b) a)", "`.` must be followed by exactly one rest parameter name", "."),
        ("(lambda [a] a)", "expected a parameter list or a name, got `[a]`", "[a]"),
        ("(lambda ((a)) a)", "expected a name, got `(a)`", "(a)"),
        ("(lambda :k 1)", "cannot bind keyword `:k`", ":k"),
    ],
)
def test_lambda_parameter_errors(text: str, message: str, at: str) -> None:
    diag = error(text)
    assert diag.message == message
    assert text[diag.span.start : diag.span.end] == at


def test_duplicate_parameter_points_at_second_occurrence() -> None:
    diag = error("(lambda (a b a) a)")
    assert diag.span.start == len("(lambda (a b ")


@pytest.mark.parametrize("text", ["(lambda (x))", "(fn)", "(lambda)"])
def test_lambda_needs_a_body(text: str) -> None:
    assert error(text).message.startswith("malformed `")


# ---------------------------------------------------------------- define, defun, def


def test_define_forms() -> None:
    assert core("(define answer 42)") == "(define answer 42)"
    assert core("(define (square x) (* x x))") == "(define square (lambda square (x) (* x x)))"
    assert core("(define (sum-all . xs) xs)") == "(define sum-all (lambda sum-all (. xs) xs))"
    assert core("(define (f a . xs) xs)") == "(define f (lambda f (a . xs) xs))"
    assert core("(define (g) 1)") == "(define g (lambda g () 1))"


def test_defun_and_def_forms() -> None:
    assert core("(defun cube (x) (* x x x))") == "(define cube (lambda cube (x) (* x x x)))"
    assert core("(defun all args args)") == "(define all (lambda all (. args) args))"
    assert core("(def twice (f x) (f (f x)))") == ("(define twice (lambda twice (f x) (f (f x))))")
    assert core("(def half 0.5)") == "(define half 0.5)"
    assert core("(def k () 1 2)") == "(define k (lambda k () (seq 1 2)))"


def test_define_of_lambda_takes_the_name() -> None:
    assert core("(define add (lambda (a b) (+ a b)))") == (
        "(define add (lambda add (a b) (+ a b)))"
    )
    assert core("(def f (fn (x) x))") == "(define f (lambda f (x) x))"
    # Only a lambda expression itself is named.
    assert core("(define g (do (lambda (x) x)))") == "(define g (seq (lambda (x) x)))"


@pytest.mark.parametrize(
    "text",
    [
        "(define)",
        "(define x)",
        "(define x 1 2)",
        "(define (f))",
        "(define () 1)",
        "(defun f (x))",
        "(defun f x)",
        "(defun f 1)",
        "(def f)",
    ],
)
def test_definition_shape_errors(text: str) -> None:
    assert error(text).message.startswith("malformed `def")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(define :k 1)", "cannot bind keyword `:k`"),
        ("(define io:x 1)", "cannot bind effect operation `io:x`"),
        ("(define (:k) 1)", "cannot bind keyword `:k`"),
        ("(defun app:f (x) x)", "cannot bind effect operation `app:f`"),
        ("(define 5 1)", "expected a name, got `5`"),
        ("(define [f x] 1)", "expected a name, got `[f x]`"),
        ("(define (f x x) 1)", "duplicate parameter `x`"),
        ("(defun f (x :y) 1)", "cannot bind keyword `:y`"),
    ],
)
def test_definition_name_errors(text: str, message: str) -> None:
    assert error(text).message == message


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("(define if 3)", "if"),
        ("(define (do) 1)", "do"),
        ("(defun data (x) x)", "data"),
        ("(def : 1)", ":"),
        ("(def import 1)", "import"),
    ],
)
def test_top_level_definition_of_special_form_name_is_an_error(text: str, at: str) -> None:
    diag = error(text)
    assert diag.message.startswith("cannot ")
    assert text[diag.span.start : diag.span.end] == at


def test_internal_definition_of_special_form_name_is_a_variable() -> None:
    assert core("(define (g) (define if 3) (if 1) if)") == (
        "(define g (lambda g () (group (define if 3) (call if 1) if)))"
    )
    # The name is in scope in the whole group, also before its definition.
    assert core("(define (g) (when 1) (define when 3))") == (
        "(define g (lambda g () (group (call when 1) (define when 3))))"
    )


# ---------------------------------------------------------------- special-form shadowing


def test_parameter_shadows_special_form() -> None:
    assert core("(define (f if) (if 1))") == "(define f (lambda f (if) (call if 1)))"
    assert core("(lambda (fn) (map fn xs))") == "(lambda (fn) (map fn xs))"
    assert core("(lambda data (data 1))") == "(lambda (. data) (call data 1))"


def test_let_names_shadow_special_forms_in_the_whole_group() -> None:
    assert core("(let ((data 1) (y (data 2))) (data y))") == (
        "(group (define data 1) (define y (call data 2)) (call data y))"
    )


def test_shadowing_ends_with_the_scope() -> None:
    program, errors = expand("(lambda (if) if) (map if xs)")
    assert [e.message for e in errors] == ["special form `if` cannot be used as a value"]
    assert format_core(program) == "(lambda (if) if)\n(map nil xs)\n"


def test_pattern_and_catch_variables_shadow_special_forms() -> None:
    assert core("(match v (when (when 1)))") == "(match v (when (call when 1)))"
    assert core("(match v ([quote] :when (quote 1) (quote 2)))") == (
        "(match v ([quote] :when (call quote 1) (call quote 2)))"
    )
    assert core("(try 1 (catch let (let 2)))") == "(try 1 (catch let (call let 2)))"


def test_shadowed_module_forms_are_calls() -> None:
    assert core("(lambda (import export) (import (export 1)))") == (
        "(lambda (import export) (call import (call export 1)))"
    )


def test_shadowed_definition_form_in_body_is_a_call() -> None:
    assert core("(lambda (define) (define x 1) x)") == (
        "(lambda (define) (seq (call define x 1) x))"
    )


def test_set_of_locally_bound_special_name_is_allowed() -> None:
    assert core("(lambda (if) (set! if 1))") == "(lambda (if) (set! if 1))"
    assert error("(set! if 1)").message == "cannot assign special form name `if`"


# ---------------------------------------------------------------- set!, while


def test_set_and_while() -> None:
    assert core("(set! x (+ x 1))") == "(set! x (+ x 1))"
    assert core("(while (< i 3) (set! i (+ i 1)))") == "(while (< i 3) (seq (set! i (+ i 1))))"
    assert core("(while a b c)") == "(while a (seq b c))"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(set! x)", "malformed `set!`: expected (set! name expr)"),
        ("(set! x 1 2)", "malformed `set!`: expected (set! name expr)"),
        ("(set! :k 1)", "cannot bind keyword `:k`"),
        ("(set! io:print 1)", "cannot bind effect operation `io:print`"),
        ("(set! 5 1)", "expected a name, got `5`"),
        ("(while a)", "malformed `while`: expected (while test form+)"),
        ("(while)", "malformed `while`: expected (while test form+)"),
    ],
)
def test_set_and_while_errors(text: str, message: str) -> None:
    assert error(text).message == message


# ---------------------------------------------------------------- match and patterns


def test_match_clauses_and_guards() -> None:
    assert core("(match v (0 a) ((Some n) :when (> n 1) n b) (_ c))") == (
        "(match v (0 a) ((Some n) :when (> n 1) (seq n b)) (_ c))"
    )


@pytest.mark.parametrize(
    ("pattern", "formatted"),
    [
        ("_", "_"),
        ("x", "x"),
        ("0", "0"),
        ("-2.5", "-2.5"),
        ('"hi"', '"hi"'),
        ("#t", "#t"),
        ("false", "#f"),
        ("nil", "nil"),
        (":k", ":k"),
        ("'sym", "'sym"),
        ("[]", "[]"),
        ("()", "[]"),
        ("Nil", "[]"),
        ("(Nil)", "[]"),
        ("(Cons h t)", "(Cons h t)"),
        ("[a b]", "[a b]"),
        ("[a b ... more]", "[a b ... more]"),
        ("[a ...more]", "[a ... more]"),
        ("[... _]", "[... _]"),
        ("[..._]", "[... _]"),
        ("[...rest]", "[... rest]"),
        ("None", "None"),
        ("(None)", "None"),
        ("(Some [x (Ok y)])", "(Some [x (Ok y)])"),
        ('(Error k "m" _)', '(Error k "m" _)'),
        ("(Cons _ (Cons _ Nil))", "(Cons _ (Cons _ []))"),
        ("x'", "x'"),
        ("ünïcode", "ünïcode"),
    ],
)
def test_pattern_forms(pattern: str, formatted: str) -> None:
    assert core(f"(match v ({pattern} 1))") == f"(match v ({formatted} 1))"


def test_pattern_nodes() -> None:
    (match,) = forms("(match v ([x ...r] 1) ((C) 2))")
    assert isinstance(match, Match)
    first, second = match.clauses
    assert first.pattern == PList((PVar("x", span=_SPAN),), PVar("r", span=_SPAN), span=_SPAN)
    assert second.pattern == PCtor("C", (), span=_SPAN)


@pytest.mark.parametrize(
    "pattern",
    [
        "{a 1}",
        "[... r extra]",
        "[...]",
        "[... 1]",
        "[... R]",
        "[...r x]",
        "[a ... ...b]",
        "(Cons a)",
        "(Cons a b c)",
        "Cons",
        "(Error a b)",
        "Error",
        "(Nil a)",
        "(foo a)",
        "(1.5 x)",
        "('x 1)",
        "'5",
        "'(a)",
        "(quote a b)",
        "...x",
        "io:print",
        "(:k)",
        "(io:x a)",
    ],
)
def test_malformed_patterns(pattern: str) -> None:
    assert error(f"(match v ({pattern} 1))").message.startswith("malformed ")


def test_duplicate_pattern_variable_is_an_error() -> None:
    diag = error("(match v ([x x] x))")
    assert diag.message == "duplicate pattern variable `x`"
    assert diag.span.start == len("(match v ([x ")
    error("(match v ((Some [a ...a]) a))")
    assert core("(match v ([_ _ ... _] 1))") == "(match v ([_ _ ... _] 1))"


def test_pattern_variables_are_bound_in_guard_and_body_only() -> None:
    program, errors = expand("(match v (if :when if if)) if")
    assert [e.message for e in errors] == ["special form `if` cannot be used as a value"]
    assert format_core(program) == "(match v (if :when if if))\nnil\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(match v)", "malformed `match`: expected (match expr clause+)"),
        ("(match)", "malformed `match`: expected (match expr clause+)"),
        ("(match v x)", _CLAUSE_SHAPE),
        ("(match v (x))", _CLAUSE_SHAPE),
        ("(match v [x 1])", _CLAUSE_SHAPE),
        ("(match v (x :when g))", "malformed `match` clause: expected (pattern :when guard body)"),
    ],
)
def test_match_shape_errors(text: str, message: str) -> None:
    assert error(text).message == message


# ---------------------------------------------------------------- data and types


def test_data_declarations() -> None:
    assert core("(data Shape (Circle Float) (Rect Float Float) Empty (Dot))") == (
        "(data Shape (Circle Float) (Rect Float Float) Empty Dot)"
    )
    assert core("(data Tree a (Leaf) (Node (Tree a) a (Tree a)))") == (
        "(data Tree a Leaf (Node (Tree a) a (Tree a)))"
    )
    assert core("(data Pair a b (Pair a b))") == "(data Pair a b (Pair a b))"


def test_data_field_types() -> None:
    text = (
        "(data T (C Int Float Number String Bool Symbol Nil Unit Any Error List (List a) Map "
        "(Map String (List b)) Function (Function Int) (Function a b Int) (Option a) (Result) x))"
    )
    (data,) = forms(text)
    assert isinstance(data, Data)
    fields = data.ctors[0].fields
    assert len(fields) == 20
    assert fields[13] == TCon(
        "Map",
        (TCon("String", (), span=_SPAN), TCon("List", (TVar("b", span=_SPAN),), span=_SPAN)),
        span=_SPAN,
    )
    assert fields[18] == TCon("Result", (), span=_SPAN)
    assert fields[19] == TVar("x", span=_SPAN)
    formatted = format_core(Program((data,)))
    assert " ".join(formatted.split()) == text.replace("(Result)", "Result")


def test_redeclaring_predeclared_types_is_allowed() -> None:
    assert core("(data Option a (Some a) None) (data Maybe (Ok Int) (Err String))") == (
        "(data Option a (Some a) None)\n(data Maybe (Ok Int) (Err String))"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(data)", "malformed `data`: expected (data TypeName tvar* ctor+)"),
        ("(data T)", "malformed `data`: expected (data TypeName tvar* ctor+)"),
        ("(data T a)", "`data T` needs at least one constructor"),
        ("(data t A)", "a type name must start with an uppercase ASCII letter, got `t`"),
        ("(data (T) A)", "a type name must start with an uppercase ASCII letter, got `(T)`"),
        ("(data T a b)", "`data T` needs at least one constructor"),
        ("(data T c)", "`data T` needs at least one constructor"),
        (
            "(data T (c Int))",
            "a constructor name must start with an uppercase ASCII letter, got `c`",
        ),
        ("(data T A b)", "a constructor name must start with an uppercase ASCII letter, got `b`"),
        ("(data T ())", "malformed constructor: expected CtorName or (CtorName type+), got `()`"),
        ("(data T 5)", "malformed constructor: expected CtorName or (CtorName type+), got `5`"),
        ("(data T _x A)", "malformed type variable `_x`: expected a lowercase name"),
        ("(data T a a A)", "duplicate type variable `a`"),
        ("(data T A A)", "constructor `A` is defined twice"),
        ("(data T (A (List)))", "malformed type `(List)`: expected (List type)"),
        ("(data T (A (List a b)))", "malformed type `(List a b)`: expected (List type)"),
        ("(data T (A (Map Int)))", "malformed type `(Map Int)`: expected (Map type type)"),
        ("(data T (A (Function)))", "malformed type `(Function)`: expected (Function type* type)"),
        ("(data T (A (Int Int)))", "malformed type `(Int Int)`: `Int` takes no type arguments"),
        ("(data T (A (a b)))", "malformed type `(a b)`"),
        ("(data T (A 5))", "malformed type `5`"),
        ("(data T (A :k))", "malformed type `:k`"),
        ("(data T (A [Int]))", "malformed type `[Int]`"),
        ("(data T (A ()))", "malformed type `()`"),
    ],
)
def test_data_errors(text: str, message: str) -> None:
    assert error(text).message == message


def test_duplicate_type_and_constructor_names_across_the_program() -> None:
    program, errors = expand("(data T A) (data T B) (data U A) (data V (V Int)) (data W V)")
    assert [e.message for e in errors] == [
        "type `T` is defined twice",
        "constructor `A` is defined twice",
        "constructor `V` is defined twice",
    ]
    assert format_core(program) == "(data T A)\n(data V (V Int))\n"


def test_ascription() -> None:
    assert core("(: 5 Int)") == "(: 5 Int)"
    assert core("(: f (Function a (List b) Nil))") == "(: f (Function a (List b) Nil))"
    assert error("(: 5)").message == "malformed `:`: expected (: expr type)"
    assert error("(: 5 Int Int)").message == "malformed `:`: expected (: expr type)"
    assert error("(: 5 (List))").message == "malformed type `(List)`: expected (List type)"


# ---------------------------------------------------------------- effects and handlers


def test_perform_forms() -> None:
    assert core("(effect io:print 1 2)") == "(perform io:print 1 2)"
    assert core("(io:print 1)") == "(perform io:print 1)"
    assert core("(app:ask)") == "(perform app:ask)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(effect)", "malformed `effect`: expected (effect ns:op arg*)"),
        ("(effect :io 1)", "`effect` expects an operation `ns:op`, got `:io`"),
        ("(effect print 1)", "`effect` expects an operation `ns:op`, got `print`"),
        ("(effect 5)", "`effect` expects an operation `ns:op`, got `5`"),
    ],
)
def test_effect_errors(text: str, message: str) -> None:
    assert error(text).message == message


def test_handler() -> None:
    assert core("(handler ((io:print f) (state g)) (greet) 2)") == (
        "(handler ((io:print f) (state g)) (seq (greet) 2))"
    )
    assert core("(handler () 1)") == "(handler () 1)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(handler ())", "malformed `handler`: expected (handler (clause*) body)"),
        ("(handler x 1)", "malformed `handler`: expected (handler (clause*) body)"),
        ("(handler [(io:print f)] 1)", "malformed `handler`: expected (handler (clause*) body)"),
        ("(handler ((io:print)) 1)", _HANDLER_CLAUSE),
        ("(handler ((io:print f g)) 1)", _HANDLER_CLAUSE),
        ("(handler (io:print) 1)", _HANDLER_CLAUSE),
        ("(handler ((5 f)) 1)", _HANDLER_CLAUSE),
        ("(handler ((:io f)) 1)", "a handler clause key must be `ns:op` or `ns`, got `:io`"),
        ("(handler ((_ f)) 1)", "a handler clause key must be `ns:op` or `ns`, got `_`"),
    ],
)
def test_handler_errors(text: str, message: str) -> None:
    assert error(text).message == message


# ---------------------------------------------------------------- try


def test_try_forms() -> None:
    assert core('(try a b (catch e c) (catch (Error "k" _ _) d) (finally f))') == (
        '(try (seq a b) (catch e c) (catch (Error "k" _ _) d) (finally f))'
    )
    assert core("(try a (finally b))") == "(try a (finally b))"
    (expr,) = forms("(try a (catch e e))")
    assert isinstance(expr, Try) and expr.finally_ is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(try)", "`try` needs at least one `catch` or `finally` clause after its body"),
        ("(try a)", "`try` needs at least one `catch` or `finally` clause after its body"),
        ("(try (catch e 1))", "`try` needs a body before its clauses"),
        ("(try a (finally b) (catch e c))", "`finally` must be the last clause of `try`"),
        ("(try a (finally b) (finally c))", "`finally` must be the last clause of `try`"),
        ("(try a (catch e 1) b)", "expected a `catch` or `finally` clause, got `b`"),
        ("(try a (catch e))", "malformed `catch` clause: expected (catch pattern body)"),
        ("(try a (finally))", "malformed `finally` clause: expected (finally body)"),
        ("(try a (catch {} 1))", "malformed pattern `{}`: there are no map patterns"),
    ],
)
def test_try_errors(text: str, message: str) -> None:
    assert error(text).message == message


def test_catch_pattern_binds_its_variables() -> None:
    assert core("(try a (catch (Error k m d) [k m d]))") == (
        "(try a (catch (Error k m d) (prim list k m d)))"
    )
    assert error("(try a (catch [x x] 1))").message == "duplicate pattern variable `x`"


# ---------------------------------------------------------------- modules


@pytest.mark.parametrize(
    "text",
    ['(import "lib.fl")', '(import "lib.fl" (f))', "(export f)", "(module m (export f) 1)"],
)
def test_module_forms_are_not_supported(text: str) -> None:
    assert error(text).message.endswith("modules are not supported in this version")


def test_module_form_inside_a_function_is_an_error_too() -> None:
    assert error_text('(define (f) (import "x.fl"))') == '(import "x.fl")'


# ---------------------------------------------------------------- calls, spans, recovery


def test_calls() -> None:
    assert core("(f)") == "(f)"
    assert core("((lambda (x) x) 1)") == "((lambda (x) x) 1)"
    assert core("(:k m)") == "(:k m)"
    assert core("(5 1)") == "(5 1)"
    assert core("([f] 1)") == "((prim list f) 1)"


def test_spans_point_at_the_source() -> None:
    text = "(print\n  (f x) :k)"
    program, _ = expand(text)
    (call,) = program.forms
    assert isinstance(call, Call)
    assert (call.span.start, call.span.end) == (0, len(text))
    inner = call.args[0]
    assert text[inner.span.start : inner.span.end] == "(f x)"
    assert text[call.args[1].span.start : call.args[1].span.end] == ":k"
    define = forms("(define (f) 1)")[0]
    assert isinstance(define, Define) and isinstance(define.value, Lambda)
    assert (define.span.start, define.span.end) == (0, 14)


def test_errors_in_several_forms_are_all_reported_in_order() -> None:
    text = "(if)\n(print 1)\n(lambda (a a) 1)\n(map and x)\n(define x 2)"
    program, errors = expand(text)
    assert [(e.span.line, e.span.col) for e in errors] == [(1, 1), (3, 12), (4, 6)]
    assert format_core(program) == "nil\n(print 1)\nnil\n(map nil x)\n(define x 2)\n"


def test_every_syntax_error_of_a_form_is_reported_and_the_rest_expanded() -> None:
    # the rest of the form is still resolved, so an error before them in it is reported first
    # (LANGUAGE.md §2.4; docs/decisions.md, Language 26)
    program, errors = expand("(f (if) (quote) (g 1))")
    assert [(e.span.col, e.message.split(":")[0]) for e in errors] == [
        (4, "malformed `if`"),
        (9, "malformed `quote`"),
    ]
    assert format_core(program) == "(f nil nil (g 1))\n"


def test_deeply_nested_expression_expands_and_formats() -> None:
    depth = 9_000
    text = "(f " * depth + "x" + ")" * depth

    def build() -> tuple[int, int]:
        program, errors = expand(text)
        return len(errors), len(format_core(program))

    errors, size = run_deep(build)
    assert errors == 0
    assert size < 2 * len(text)  # deep forms stop breaking: the dump stays linear in size


# ---------------------------------------------------------------- the formatter


def test_format_breaks_wide_forms() -> None:
    long_args = " ".join(f"argument-{i}" for i in range(12))
    text = core(f"(define (f) (g {long_args}) (if a b c))")
    assert text.splitlines()[0] == "(define f"
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.splitlines()[1] == "  (lambda f ()"


def test_format_literals() -> None:
    assert core('1e400 -0.0 "a\\nb\\"c" \'sym :key #f nil') == (
        'inf\n-0.0\n"a\\nb\\"c"\n\'sym\n:key\n#f\nnil'
    )
    assert core('\'{:a [1 "x"]}') == '\'{:a [1 "x"]}'


def test_format_marks_names_no_program_can_write() -> None:
    ref = Ref(" tmp1", span=_SPAN)
    assert format_expr(ref) == "| tmp1|"
    assert format_expr(Lit(Symbol("a b"), span=_SPAN)) == "'|a b|"


def test_format_tail_calls_and_head_word_calls() -> None:
    call = Call(Ref("f", span=_SPAN), (Lit(1, span=_SPAN),), True, span=_SPAN)
    assert format_expr(call) == "(tail-call f 1)"
    call = Call(Ref("seq", span=_SPAN), (), span=_SPAN)
    assert format_expr(call) == "(call seq)"


def test_format_empty_program() -> None:
    assert format_core(Program(())) == ""


def test_format_is_deterministic_across_runs() -> None:
    text = "(define (f x) (and x (or (g x) (cond ((h x)) (else 1)))))"
    assert core(text) == core(text)


def test_colon_is_bindable_in_local_scopes() -> None:
    # `:` is a special-form name, and special-form names are not reserved locally (LANGUAGE.md §1)
    from fluentai.diagnostics import DiagnosticSink
    from fluentai.reader.read import read_program
    from fluentai.source import SourceFile
    from fluentai.syntax.expand import expand_program
    from fluentai.syntax.format import format_core

    sink = DiagnosticSink()
    program = expand_program(read_program(SourceFile("<t>", "(let ((: 1)) (: 2))")), sink)
    assert not sink.items
    assert "call" in format_core(program)
