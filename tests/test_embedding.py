"""The embedding API (`fluentai.Runtime`) and the examples of the user documentation.

Every ```python block of docs/embedding.md runs here, and every ```fluentai block of
docs/tutorial.md runs as a program whose `; expect:` markers (LANGUAGE.md §0) must hold, so the
documentation cannot drift from the implementation.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import fluentai
from fluentai.driver import RunOptions, execute
from fluentai.source import SourceFile

from corpus import Result, check, parse_expectation

DOCS = Path(__file__).resolve().parent.parent / "docs"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def fenced_blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """(line number, text) of each block of `path` fenced as ```LANGUAGE."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2))
        for m in _FENCE.finditer(text)
        if m.group(1) == language
    ]


@pytest.fixture
def in_tmp_dir(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


# ---------------------------------------------------------------- the documentation


EMBEDDING_EXAMPLES = fenced_blocks(DOCS / "embedding.md", "python")
TUTORIAL_EXAMPLES = fenced_blocks(DOCS / "tutorial.md", "fluentai")


def test_the_documentation_has_examples_to_run() -> None:
    assert len(EMBEDDING_EXAMPLES) >= 6
    assert len(TUTORIAL_EXAMPLES) >= 8


@pytest.mark.parametrize(
    "block", [b for _, b in EMBEDDING_EXAMPLES], ids=[f"line{n}" for n, _ in EMBEDDING_EXAMPLES]
)
def test_embedding_md_example_runs(block: str, in_tmp_dir: Path) -> None:
    exec(compile(block, "docs/embedding.md", "exec"), {"__name__": "embedding_example"})


@pytest.mark.parametrize(
    "block", [b for _, b in TUTORIAL_EXAMPLES], ids=[f"line{n}" for n, _ in TUTORIAL_EXAMPLES]
)
def test_tutorial_md_example_prints_what_it_says(block: str, in_tmp_dir: Path) -> None:
    expectation = parse_expectation(block)
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO(expectation.stdin_text)
    status = execute(SourceFile("tutorial.fl", block), RunOptions(tier="vm"), out, err, stdin)
    problems = check(expectation, Result(out.getvalue(), err.getvalue(), status))
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- Runtime


def test_definitions_persist_between_evals_and_calls() -> None:
    rt = fluentai.Runtime(tier="vm")
    assert rt.eval("(define (twice f x) (f (f x)))") is None
    assert rt.eval("(twice (lambda (n) (* n 3)) 2)") == 18
    assert rt.call("twice", lambda n: n + 1, 0) == 2


def test_a_name_defined_later_is_reported_when_it_runs() -> None:
    rt = fluentai.Runtime()
    rt.eval("(define (f) (g))")
    with pytest.raises(fluentai.FluentAIError) as info:
        rt.call("f")
    assert (info.value.kind, info.value.message) == ("unbound-variable", "`g` is not defined")
    rt.eval("(define (g) 'found)")
    assert rt.call("f") == fluentai.Symbol("found")


def test_a_data_type_from_an_earlier_entry_matches_in_a_later_one() -> None:
    rt = fluentai.Runtime()
    rt.eval("(data Tree (Leaf) (Node Tree Int Tree))")
    rt.eval("(define t (Node Leaf 1 (Node Leaf 2 Leaf)))")
    rt.eval("(define (total t) (match t (Leaf 0) ((Node l v r) (+ (total l) v (total r)))))")
    assert rt.call("total", rt.globals["t"]) == 3
    assert rt.eval("(= (Some 1) (Some 1))") is True
    some = rt.eval("(Some 1)")
    assert rt.eval("(define (unwrap o) (match o ((Some x) x) (None 0)))") is None
    assert rt.call("unwrap", some) == 1


def test_redefining_a_data_type_replaces_its_constructors() -> None:
    rt = fluentai.Runtime()
    rt.eval("(data Shape (Circle Float))")
    rt.eval("(data Shape (Square Float) (Circle Float Float))")
    assert rt.eval("(Circle 1.0 2.0)") == fluentai.Variant("Circle", (1.0, 2.0))


def test_big_integers_cross_the_boundary_exactly() -> None:
    rt = fluentai.Runtime()
    big = 3**200
    assert rt.call("*", big, big) == big * big
    assert rt.call("-", -(2**70)) == 2**70


def test_conversion_of_python_values_to_fluentai_and_back() -> None:
    rt = fluentai.Runtime()
    rt.define("v", [1, (2, 3), {"k": None}, True, 1.5, "s", fluentai.Symbol(":kw")])
    assert rt.eval("(type-of (nth v 1))") == "List"
    assert rt.eval('(get (nth v 2) "k" \'missing)') is None
    assert rt.eval("v") == [1, [2, 3], {"k": None}, True, 1.5, "s", fluentai.Symbol(":kw")]
    assert rt.eval("(int? (nth v 3))") is False


def test_a_list_used_as_a_map_key_becomes_a_tuple() -> None:
    assert fluentai.Runtime().eval("{[1 2] :pair}") == {(1, 2): fluentai.Symbol(":pair")}


def test_an_error_value_converts_to_an_unraised_fluentai_error() -> None:
    value = fluentai.Runtime().eval('(Error "k" "msg" [1])')
    assert isinstance(value, fluentai.FluentAIError)
    assert (value.kind, value.message, value.data) == ("k", "msg", [1])


def test_a_python_value_without_a_fluentai_form_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot convert a Python set"):
        fluentai.Runtime().define("s", {1, 2})


def test_a_variant_of_an_unknown_constructor_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown constructor `Nope`"):
        fluentai.Runtime().call("identity", fluentai.Variant("Nope"))


def test_a_variant_field_of_the_wrong_type_is_a_type_error() -> None:
    rt = fluentai.Runtime()
    rt.eval("(data P (P Int))")
    with pytest.raises(TypeError, match="expects Int for field 1"):
        rt.call("identity", fluentai.Variant("P", ("x",)))


def test_calling_an_undefined_name_is_an_unbound_variable_error() -> None:
    with pytest.raises(fluentai.FluentAIError, match="`nope` is not defined"):
        fluentai.Runtime().call("nope")


def test_a_wrong_number_of_arguments_from_python_is_an_arity_error() -> None:
    rt = fluentai.Runtime()
    rt.eval("(define (one x) x)")
    with pytest.raises(fluentai.FluentAIError) as info:
        rt.call("one", 1, 2)
    assert info.value.kind == "arity-error"
    assert info.value.message == "`one` expects 1 argument, got 2"


def test_a_runtime_error_in_a_called_function_has_only_program_frames() -> None:
    rt = fluentai.Runtime()
    rt.eval("(define (inner x) (head x))\n(define (outer x) (+ 1 (inner x)))")
    with pytest.raises(fluentai.FluentAIError) as info:
        rt.call("outer", [])
    assert [(f.function, f.line) for f in info.value.trace] == [("outer", 2), ("inner", 1)]
    assert "<python>" not in info.value.report


def test_python_exceptions_pass_through_fluentai_code_unchanged() -> None:
    def fail(x: object) -> None:
        raise LookupError("from python")

    rt = fluentai.Runtime()
    rt.define("fail", fail)
    with pytest.raises(LookupError, match="from python"):
        rt.eval('(try (fail 1) (catch e "not caught by FluentAI"))')
    assert rt.eval("(+ 1 1)") == 2  # the session still works


def test_a_python_function_may_call_back_into_the_runtime() -> None:
    rt = fluentai.Runtime()
    rt.eval("(define (sq x) (* x x))")
    rt.define("sum-squares", lambda xs: sum(rt.call("sq", x) for x in xs))
    assert rt.eval("(+ 1 (sum-squares [1 2 3]))") == 15


def test_exit_raises_fluentai_exit_with_the_code() -> None:
    with pytest.raises(fluentai.FluentAIExit) as info:
        fluentai.Runtime().eval("(exit 4)")
    assert info.value.code == 4


def test_output_is_flushed_before_an_error_is_raised() -> None:
    out = io.StringIO()
    rt = fluentai.Runtime(stdout=out)
    with pytest.raises(fluentai.FluentAIError):
        rt.eval('(print "before") (head [])')
    assert out.getvalue() == "before\n"


def test_a_state_store_lasts_for_the_whole_session() -> None:
    rt = fluentai.Runtime()
    rt.eval('(state:set "n" 1)')
    rt.eval('(state:update "n" (lambda (v) (+ v 1)))')
    assert rt.eval('(state:get "n")') == 2


def test_args_and_seed_are_the_programs() -> None:
    rt = fluentai.Runtime(args=["a", "b"], seed=2024)
    assert rt.eval("(args)") == ["a", "b"]
    assert rt.eval("[(random:int 1 6) (random:int 1 6) (random:int 1 6)]") == [5, 4, 6]


def test_a_namespace_handler_gets_the_operation_name_first() -> None:
    seen: list[tuple[object, ...]] = []
    rt = fluentai.Runtime(handlers={"random": lambda *args: seen.append(args) or 0.5})
    assert rt.eval("(random:float)") == 0.5
    assert rt.eval("(random:int 1 9)") == 0.5
    assert seen == [("float",), ("int", 1, 9)]


def test_an_alias_names_the_same_operation() -> None:
    printed: list[tuple[object, ...]] = []
    rt = fluentai.Runtime(handlers={"print": lambda *args: printed.append(args)})
    rt.eval('(println "x") (io:print "y")')
    assert printed == [("x",), ("y",)]


def test_a_python_handler_with_the_wrong_arity_reports_the_fluentai_arity_error() -> None:
    rt = fluentai.Runtime(handlers={"time:now": lambda: 1.0})
    with pytest.raises(fluentai.FluentAIError) as info:
        rt.eval("((lambda (f) (f 1)) time:now)")
    assert info.value.kind == "arity-error"


def test_a_fluentai_error_raised_by_a_handler_can_be_caught_in_the_program() -> None:
    def deny(*args: object) -> None:
        raise fluentai.FluentAIError("io-error", "writes are disabled")

    rt = fluentai.Runtime(handlers={"io:write-file": deny})
    result = rt.eval('(try (io:write-file "x" "y") (catch e [(error-kind e) (error-message e)]))')
    assert result == ["io-error", "writes are disabled"]


@pytest.mark.parametrize("op", ["error:raise", "error", "io:prnt", "head"])
def test_operations_python_cannot_handle_are_value_errors(op: str) -> None:
    with pytest.raises(ValueError):
        fluentai.Runtime().handle(op, lambda *args: None)


def test_the_native_tier_is_not_available_for_embedding_yet() -> None:
    with pytest.raises(ValueError, match="not available for embedding yet"):
        fluentai.Runtime(tier="native")


def test_globals_lists_only_defined_program_globals() -> None:
    rt = fluentai.Runtime()
    rt.eval("(define a 1) (define (b) a)")
    with pytest.raises(fluentai.FluentAIError):
        rt.eval("(undefined-yet)")
    assert list(rt.globals) == ["a", "b"]
    assert len(rt.globals) == 2
    assert "undefined-yet" not in rt.globals
    assert isinstance(rt.globals["b"], fluentai.Function)
    assert rt.globals["b"].name == "b"


def test_a_function_of_another_runtime_is_refused() -> None:
    f = fluentai.Runtime().eval("(lambda () 1)")
    with pytest.raises(ValueError, match="another Runtime"):
        fluentai.Runtime().define("f", f)


def test_load_reports_invalid_utf8_as_a_syntax_error(in_tmp_dir: Path) -> None:
    (in_tmp_dir / "bad.fl").write_bytes(b'(print "\xff")\n')
    with pytest.raises(fluentai.FluentAIError) as info:
        fluentai.Runtime().load("bad.fl")
    assert (info.value.kind, info.value.line, info.value.column) == ("syntax-error", 1, 9)
