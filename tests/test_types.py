"""Type inference over resolved Core (fluentai/types/, DESIGN.md §6): signatures of the
benchmarks, loop ranges, lattice laws, the whole corpus, `--dump types`."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluentai.diagnostics import CompileError
from fluentai.native import resolve
from fluentai.passes import rcore as r
from fluentai.passes.rcore import walk
from fluentai.source import SourceFile
from fluentai.types import infer_program
from fluentai.types.dump import dump_types, prelude_core
from fluentai.types.infer import TypeResult
from fluentai.types.lattice import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    NEVER,
    InferredType,
    describe,
    format_type,
    int_range,
    join,
    leq,
    list_of,
    make,
    widen,
)

from corpus import corpus_programs, relative_name

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "programs"


def core(text: str, name: str = "t.fl") -> r.RProgram:
    return resolve(SourceFile(name, text), is_prelude=False)


def infer(text: str, **kw: object):  # type: ignore[no-untyped-def]
    program = core(text)
    return program, infer_program(prelude_core(), program, **kw)  # type: ignore[arg-type]


def bench(name: str):  # type: ignore[no-untyped-def]
    path = BENCH / f"{name}.fl"
    program = resolve(SourceFile(str(path), path.read_text()), is_prelude=False)
    return program, infer_program(prelude_core(), program)


def sig(result, name: str) -> str:  # type: ignore[no-untyped-def]
    params, ret = result.signature(name)
    return f"({', '.join(map(format_type, params))}) -> {format_type(ret)}"


# ---------------------------------------------------------------- benchmarks


def test_fib_is_int_to_int() -> None:
    _, result = bench("fib")
    params, ret = result.signature("fib")
    assert [p.base_type for p in params] == ["Int"] and ret.base_type == "Int"


def test_tak_is_three_ints_to_int() -> None:
    _, result = bench("tak")
    assert sig(result, "tak") == "(Int, Int, Int) -> Int"


def test_mandelbrot_stays_bounded_is_float_float_int_to_bool() -> None:
    _, result = bench("mandelbrot")
    params, ret = result.signature("stays-bounded?")
    assert [p.base_type for p in params] == ["Float", "Float", "Int"]
    assert ret == BOOL


def test_nqueens_placed_is_a_list_of_ints() -> None:
    _, result = bench("nqueens")
    params, ret = result.signature("solve")
    assert params[2].only("List", "Empty") and params[2].element_type is not None
    assert params[2].element_type.base_type == "Int"
    assert ret.base_type == "Int"


def test_loop_benchmark_counters_are_nonnegative_ints() -> None:
    _, result = bench("loop")
    params, ret = result.signature("next")
    assert all(p.base_type == "Int" and p.value_range == (0, None) for p in params)
    assert ret.value_range == (0, None)


def test_a_pickled_prelude_shares_no_variable_ids_with_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compiler reads the resolved prelude from a pickle in the code cache (native.py), in a
    process whose Var counter starts again at 1. Inference keys variables by their ids: the
    prelude's old ids used to be the program's new ones, and a prelude variable's types leaked
    into a program variable (count-row's `n` became Int|Fn, and mandelbrot's division ran
    generically)."""
    import itertools
    import pickle

    data = pickle.dumps(prelude_core(), protocol=pickle.HIGHEST_PROTOCOL)
    monkeypatch.setattr(r, "_ids", itertools.count(1))  # as in a fresh process
    prelude = pickle.loads(data)
    path = BENCH / "mandelbrot.fl"
    program = resolve(SourceFile(str(path), path.read_text()), is_prelude=False)
    prelude_ids = {
        n.var.id for form, _ in prelude.forms for n in walk(form) if isinstance(n, r.LocalRef)
    }
    program_ids = {
        n.var.id for form, _ in program.forms for n in walk(form) if isinstance(n, r.LocalRef)
    }
    assert prelude_ids and program_ids and not prelude_ids & program_ids
    result = infer_program(prelude, program)
    refs = _refs(program, "n")
    assert refs and all(result.type_of(ref).only("Int") for ref in refs)


def test_an_unpickled_var_keeps_its_flags_and_gets_a_fresh_id() -> None:
    import pickle

    v = r.Var("x", is_group=True)
    v.captured = True
    w = pickle.loads(pickle.dumps(v))
    assert (w.name, w.is_group, w.captured, w.assigned) == ("x", True, True, False)
    assert w.id != v.id and w.id > v.id


# ---------------------------------------------------------------- ranges


def _refs(program: r.RProgram, name: str) -> list[r.LocalRef]:
    return [
        n
        for form, _ in program.forms
        for n in walk(form)
        if isinstance(n, r.LocalRef) and n.var.name == name
    ]


def test_loop_index_below_a_constant_bound() -> None:
    program, result = infer(
        "(define (count) (let next ((i 0) (acc 0)) (if (< i 10) (next (+ i 1) (+ acc i)) acc)))\n"
        "(print (count))"
    )
    params, _ = result.signature("next")
    assert params[0].value_range == (0, 10)
    # under (< i 10) the index is in [0, 10)
    inside = [result.type_of(ref) for ref in _refs(program, "i")]
    assert int_range(0, 9) in inside


def test_loop_index_below_a_parameter() -> None:
    program, result = infer(
        "(define (f n) (let next ((i 0)) (if (< i n) (next (+ i 1)) i)))\n(print (f 5) (f 7))"
    )
    params, ret = result.signature("next")
    assert params[0].value_range == (0, 7)
    assert ret.value_range == (5, 7) or ret.value_range[0] is not None
    assert int_range(0, 6) in [result.type_of(ref) for ref in _refs(program, "i")]


def test_loop_index_with_unknown_bound_starts_at_zero() -> None:
    program, result = infer(
        "(define (f n) (let next ((i 0)) (if (< i n) (next (+ i 1)) i)))\n"
        "(print (f (int (head (args)))))"
    )
    params, _ = result.signature("next")
    assert params[0].base_type == "Int" and params[0].value_range == (0, None)


def test_type_predicates_refine_and_decide_branches() -> None:
    program, result = infer('(define (g x) (if (int? x) (+ x 1) 0.5))\n(print (g 1) (g "s"))')
    assert format_type(result.signature("g")[1]) == "Int[2,2]|Float"


# ---------------------------------------------------------------- modes and reasons


def test_seeds_fix_the_parameters_of_an_entry_point() -> None:
    program, result = infer("(define (h x) (* x 2.0))\n(print (h 1))", seeds={"h": (INT,)})
    assert result.signature("h") == ((INT,), FLOAT)
    _, open_world = infer("(define (h x) (* x 2.0))\n(print (h 1))", closed_world=False)
    params, ret = open_world.signature("h")
    assert params == (ANY,) and ret == FLOAT
    assert any("x is Any" in why for why in open_world.reasons("h"))


def test_escaping_lambdas_get_any_and_a_reason() -> None:
    program, result = infer(
        "(define (show x) (str x))\n(handler ((io:print (lambda (msg) (show msg)))) (print 1))"
    )
    lam = next(n for n, fn in result.program_fns if n == "lambda")
    assert lam == "lambda"
    fn = next(fn for n, fn in result.program_fns if n == "lambda")
    assert result.signature(fn)[0] == (ANY,)
    assert any("escapes" in why for why in result.reasons(fn))


def test_adt_fields_flow_into_match() -> None:
    _, result = infer(
        "(data Shape (Circle Float) (Sq Int))\n"
        "(define (area s) (match s ((Circle r) (* r r)) ((Sq n) (* n n))))\n"
        "(print (area (Circle 1.0)) (area (Sq 3)))"
    )
    params, ret = result.signature("area")
    assert format_type(params[0]) == "Shape" and ret.base_type == "Int|Float"


def test_every_node_has_a_type() -> None:
    program, result = infer("(define (f x) (+ x 1))\n(print (f 2))")
    form = program.forms[0][0]
    assert isinstance(form, r.GlobalSet) and isinstance(form.value, r.Fn)
    body = form.value.body
    assert result.type_of(body) == int_range(3, 3)


# ---------------------------------------------------------------- lattice laws

KIND_NAMES = ["Int", "Float", "Bool", "Nil", "Empty", "Str", "Sym", "List", "Map", "Fn", "Adt:T"]
bounds = st.one_of(st.none(), st.integers(-5, 5))


@st.composite
def types(draw: st.DrawFn, depth: int = 2) -> InferredType:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([ANY, NEVER]))
    kinds = frozenset(draw(st.sets(st.sampled_from(KIND_NAMES), min_size=1, max_size=3)))
    lo, hi = draw(bounds), draw(bounds)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    const = draw(st.booleans()) and len(kinds) == 1 and "Int" in kinds
    elem = draw(types(depth - 1)) if depth > 0 and kinds & {"List", "Map"} else None
    fns = draw(st.one_of(st.none(), st.frozensets(st.integers(1, 6), max_size=5)))
    if const:
        v = draw(st.integers(-5, 5))
        return int_range(v, v)
    return make(kinds, value_range=(lo, hi), element_type=elem, fns=fns)


@settings(max_examples=300, deadline=None)
@given(types(), types())
def test_join_is_commutative(a: InferredType, b: InferredType) -> None:
    assert join(a, b) == join(b, a)


@settings(max_examples=300, deadline=None)
@given(types(), types(), types())
def test_join_is_associative(a: InferredType, b: InferredType, c: InferredType) -> None:
    assert join(join(a, b), c) == join(a, join(b, c))


@settings(max_examples=300, deadline=None)
@given(types(), types())
def test_join_is_idempotent_and_an_upper_bound(a: InferredType, b: InferredType) -> None:
    assert join(a, a) == a
    j = join(a, b)
    assert leq(a, j) and leq(b, j)
    assert join(NEVER, a) == a and join(ANY, a) == ANY


@settings(max_examples=200, deadline=None)
@given(st.lists(types(), min_size=1, max_size=40))
def test_widening_terminates(chain: list[InferredType]) -> None:
    """Widening an ascending sequence reaches a fixpoint after a bounded number of changes."""
    t = chain[0]
    changes = 0
    for _ in range(3):
        for x in chain:
            new = widen(t, x)
            assert leq(t, new) and leq(x, new)
            if new != t:
                changes += 1
            t = new
    assert changes <= 12


def test_widening_stays_an_upper_bound_with_unknown_element_types() -> None:
    # found by test_widening_terminates: a List whose elements are unknown joined with an Int
    unknown = make(frozenset({"List"}))
    chain = [INT, list_of(list_of(INT)), list_of(list_of(unknown))]
    t = chain[0]
    for _ in range(3):
        for x in chain:
            new = widen(t, x)
            assert leq(t, new) and leq(x, new)
            t = new


def test_widening_a_counter_goes_to_infinity() -> None:
    t = int_range(0, 0)
    for i in range(1, 100):
        new = widen(t, int_range(i, i))
        if new == t:
            break
        t = new
    assert t.value_range == (0, None) and i < 5


def test_widening_cuts_nested_lists() -> None:
    t = list_of(INT)
    for _ in range(10):
        t = widen(t, list_of(t))
    depth = 0
    while t.element_type is not None:
        t, depth = t.element_type, depth + 1
    assert depth <= 3


def test_describe() -> None:
    assert describe(int_range(3, 3)) == "Int (constant 3)"
    assert format_type(int_range(0, None)) == "Int[0,..]"
    assert format_type(make(frozenset({"Int", "Str", "Float", "Nil"}))) == "Any"


# ---------------------------------------------------------------- the corpus, scale


PROGRAMS = corpus_programs()


@pytest.mark.parametrize("shard", range(4))
def test_every_corpus_program_converges_within_budget(shard: int) -> None:
    """Inference reaches its fixpoint on every corpus program well within its evaluation budget
    (past the budget every changing cell goes straight to Any). The corpus needs under 1% of it;
    a twentieth is the bound, so a change that makes the solver iterate much more fails here.
    Work is counted, not timed (the benchmarks measure speed). A quarter of the corpus per
    shard, so that the suite's workers share the 20 s it takes."""
    prelude = prelude_core()
    over = []
    inferred = 0
    for path in PROGRAMS[shard::4]:
        try:
            program = resolve(SourceFile(str(path), path.read_text()), is_prelude=False)
        except (CompileError, RecursionError, UnicodeDecodeError):
            continue
        for closed in (True, False):
            result = infer_program(prelude, program, closed_world=closed)
            if result.evaluations * 20 > result.budget:
                over.append((relative_name(path), closed, result.evaluations, result.budget))
            if closed:
                dump_types(result, program)
        inferred += 1
    assert inferred > 125
    assert not over


def _infer_deep(text: str) -> tuple[TypeResult, Any]:
    holder: list[tuple[TypeResult, Any]] = []

    def run() -> None:
        program = core(text)
        holder.append((infer_program(prelude_core(), program), program))

    old = threading.stack_size()
    threading.stack_size(512 << 20)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old)
    return holder[0]


def test_deeply_nested_program_infers() -> None:
    depth = 9_990
    result, program = _infer_deep("(print " + "(+ 1 " * depth + "0" + ")" * depth + ")\n")
    # one evaluation of the top level (and the prelude units it reaches), not one per level
    assert result.evaluations < 50
    assert result.type_of(program.forms[0][0].args[0]).base_type == "Int"


def test_deeply_nested_list_literal_infers() -> None:
    depth = 9_990
    result, program = _infer_deep("(print (length " + "[" * depth + "]" * depth + "))\n")
    assert result.evaluations < 50
    outer = program.forms[0][0].args[0].args[0]
    assert result.type_of(outer).base_type == "List"
    assert result.type_of(program.forms[0][0].args[0]).base_type == "Int"


# ---------------------------------------------------------------- --dump types


def test_dump_format() -> None:
    program, result = infer(
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n"
        "(define (show x) (str x))\n"
        "(print (fib (int (head (args)))))\n"
        "(handler ((io:print (lambda (m) (show m)))) 1)\n"
    )
    lines = dump_types(result, program).splitlines()
    assert lines[0] == "fib : (Int) -> Int"
    assert lines[1] == "show : (Any) -> Str"
    assert lines[2].startswith("  why x is Any: ") and " at t.fl:" in lines[2]
    assert lines[3] == "lambda : (Any) -> Str"


def test_cli_dump_types_runs_the_program() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fluentai",
            "run",
            "--tier",
            "vm",
            "--dump",
            "types",
            str(BENCH / "fib.fl"),
            "10",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout == "55\n"
    assert proc.stderr == "fib : (Int) -> Int\n"


@pytest.mark.parametrize("name", ["fib", "tak", "loop", "mandelbrot", "nqueens"])
def test_benchmarks_dump_without_any(name: str) -> None:
    program, result = bench(name)
    assert "Any" not in dump_types(result, program)


def test_a_deeply_nested_literal_is_typed_to_the_cut_depth_only() -> None:
    """`make` cuts element types below MAX_DEPTH levels; `constant_of` stops there too, so a
    literal nested 10 000 levels (7 s of lowering before) needs no deep recursion."""
    from fluentai.syntax.core import QList
    from fluentai.types.lattice import MAX_DEPTH, constant_of

    def nested(levels: int) -> QList:
        value = QList((1,))
        for _ in range(levels):
            value = QList((value, 2))
        return value

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # the old recursion went 10 000 levels deep
    try:
        deep = constant_of(nested(10_000))
    finally:
        sys.setrecursionlimit(limit)
    assert deep == constant_of(nested(MAX_DEPTH + 2))
    assert str(deep).startswith("List")
