"""Number builtins, `=`, the type predicates and the numeric helpers (LANGUAGE.md §4, §5, §6).

The rows are called directly (`call("mod", -7, 2.0)`), and results are compared in display form
where the spec's examples give printed output.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

# Import the table first: importing a builtins module before fluentai.primitives is a circular
# import (primitives builds its table from every builtins module while it loads).
import fluentai.primitives  # noqa: F401
from fluentai.errors import FlError
from fluentai.primitives import Prim, PrimKind
from fluentai.symbol import Symbol
from fluentai.vm import builtins_numbers, builtins_types
from fluentai.vm.equality import compare_numbers, equal
from fluentai.vm.maps import FlMap
from fluentai.vm.numbers import int_to_float, parse_number, string_to_float, string_to_int
from fluentai.vm.printer import display
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Builtin,
    Closure,
    Constructor,
    CtorInfo,
    EffectFn,
    ErrorValue,
    from_iter,
)

ROWS: dict[str, Prim] = {
    name: row
    for row in (*builtins_numbers.ROWS, *builtins_types.ROWS)
    for name in (row.name, *row.aliases)
}

NAN = math.nan
INF = math.inf


def call(name: str, *args: Any) -> Any:
    row = ROWS[name]
    lo, hi = row.arity
    assert lo <= len(args) and (hi is None or len(args) <= hi), f"bad arity for {name}"
    assert row.vm is not None
    return row.vm(*args)


def shown(*values: object) -> str:
    """Values as `print` shows them: display forms separated by spaces."""
    return " ".join(display(v) for v in values)


def raises(kind: str, name: str, *args: Any) -> str:
    with pytest.raises(FlError) as info:
        call(name, *args)
    assert info.value.kind == kind
    return info.value.message


def is_neg_zero(x: object) -> bool:
    return type(x) is float and x == 0.0 and math.copysign(1.0, x) < 0


# --- the table ---------------------------------------------------------------------------------


def test_number_rows_declare_the_spec_arities() -> None:
    expected = {
        "+": (0, None),
        "*": (0, None),
        "-": (1, None),
        "/": (2, 2),
        "mod": (2, 2),
        "quot": (2, 2),
        "rem": (2, 2),
        "=": (1, None),
        "!=": (1, None),
        "<": (1, None),
        ">=": (1, None),
        "min": (1, None),
        "abs": (1, 1),
        "round": (1, 1),
        "log": (1, 2),
        "atan2": (2, 2),
        "pow": (2, 2),
        "float": (1, 1),
        "even?": (1, 1),
    }
    for name, arity in expected.items():
        assert ROWS[name].arity == arity, name
    assert ROWS["=="] is ROWS["="] and ROWS["not="] is ROWS["!="] and ROWS["expt"] is ROWS["pow"]


def test_pi_is_a_constant_not_a_function() -> None:
    row = ROWS["pi"]
    assert row.kind is PrimKind.CONSTANT
    assert row.value == 3.141592653589793
    assert display(row.value) == "3.141592653589793"


# --- arithmetic (§6 examples) ------------------------------------------------------------------


def test_arithmetic_example_lines() -> None:
    assert (
        shown(
            call("+"),
            call("+", 1, 2, 3),
            call("+", 1, 2.5),
            call("-", 5),
            call("-", 10, 1, 2),
            call("*"),
            call("*", 2, 3, 4),
            call("*", 2, 0.5),
        )
        == "0 6 3.5 -5 7 1 24 1.0"
    )
    assert (
        shown(
            call("/", 7, 2),
            call("/", -7, 2),
            call("/", 7, 2.0),
            call("/", 1, 3.0),
            call("/", 6, 3),
        )
        == "3 -4 3.5 0.3333333333333333 2"
    )
    assert (
        shown(
            call("mod", 7, 2),
            call("mod", -7, 2),
            call("mod", 7, -2),
            call("rem", -7, 2),
            call("rem", 7, -2),
            call("quot", -7, 2),
            call("quot", 7, 2),
        )
        == "1 1 -1 -1 1 -3 3"
    )
    assert (
        shown(
            call("mod", 5.5, 2),
            call("mod", -7, 2.0),
            call("rem", -7.5, 2),
            call("quot", 7.5, 2),
            call("quot", -0.5, 1.0),
            call("+", -0.0),
        )
        == "1.5 1.0 -1.5 3.0 -0.0 -0.0"
    )
    assert (
        shown(
            call("+", 9223372036854775807, 1),
            call("*", 99999999999, 99999999999),
            call("pow", 2, 100),
        )
        == "9223372036854775808 9999999999800000000001 1267650600228229401496703205376"
    )


def test_single_argument_plus_and_times_return_the_argument_itself() -> None:
    assert is_neg_zero(call("+", -0.0))
    assert is_neg_zero(call("*", -0.0))
    assert call("+", 5) == 5
    assert is_neg_zero(call("-", 0.0))
    assert call("-", -0.0) == 0.0 and not is_neg_zero(call("-", -0.0))


def test_int_results_stay_int_and_mixed_results_are_float() -> None:
    assert type(call("+", 1, 2)) is int
    assert type(call("+", 1, 2.0)) is float
    assert type(call("*", 2, 3, 1.0)) is float
    assert type(call("/", 6, 3)) is int
    assert type(call("/", 6, 3.0)) is float


def test_float_overflow_and_invalid_operations_do_not_raise() -> None:
    assert call("*", 1e308, 10) == INF
    assert call("-", -1e308, 1e308) == -INF
    assert math.isnan(call("-", INF, INF))
    assert math.isnan(call("*", 0.0, INF))
    assert call("/", 1e308, 1e-10) == INF


@pytest.mark.parametrize("name", ["+", "-", "*", "/", "mod", "quot", "rem", "pow"])
def test_mixed_arithmetic_with_an_int_too_large_for_a_float_is_a_value_error(name: str) -> None:
    huge = 10**400
    message = raises("value-error", name, huge, 1.5)
    assert message == f"`{name}`: Int too large to convert to Float"
    raises("value-error", name, 1.5, huge)


@pytest.mark.parametrize(
    "name, args",
    [
        ("+", ("a",)),
        ("+", (1, "a")),
        ("+", (1, 2, True)),
        ("-", (None,)),
        ("-", (1, EMPTY)),
        ("*", (2, "x")),
        ("/", (1, "2")),
        ("mod", (True, 2)),
        ("quot", (1, None)),
        ("rem", ("7", 2)),
        ("abs", (True,)),
        ("floor", ("1.5",)),
        ("sqrt", (False,)),
        ("log", (8, "2")),
        ("atan2", (1, "x")),
        ("pow", ("2", 2)),
        ("pow", (2, True)),
        ("zero?", (False,)),
        ("positive?", ("1",)),
        ("negative?", (None,)),
    ],
)
def test_non_numbers_raise_type_error(name: str, args: tuple[Any, ...]) -> None:
    raises("type-error", name, *args)


def test_type_error_message_shows_the_value_in_written_form() -> None:
    assert raises("type-error", "+", 1, "a") == '`+` expects a Number, got "a"'
    assert raises("type-error", "+", True) == "`+` expects a Number, got #t"
    assert raises("type-error", "-", 1, from_iter([1, "x"])) == '`-` expects a Number, got [1 "x"]'


# --- division ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["/", "mod", "quot", "rem"])
@pytest.mark.parametrize("zero", [0, 0.0, -0.0])
@pytest.mark.parametrize("numerator", [1, 0, -3, 2.5, 0.0, INF, NAN])
def test_zero_divisor_is_division_by_zero(name: str, zero: float, numerator: float) -> None:
    assert raises("division-by-zero", name, numerator, zero) == "division by zero"


def test_zero_divisor_is_checked_before_converting_a_huge_int() -> None:
    raises("division-by-zero", "/", 10**400, 0.0)


def test_floor_division_and_modulo_of_ints_are_floored() -> None:
    assert call("/", 7, -2) == -4
    assert call("/", -7, -2) == 3
    assert call("mod", -7, -2) == -1
    assert call("/", 10**30 + 1, 10**15) == 10**15
    assert call("mod", -(10**30) - 1, 10**15) == 10**15 - 1


def test_float_mod_follows_python_percent() -> None:
    assert call("mod", 7.5, -2) == -0.5
    assert is_neg_zero(call("mod", 4.0, -2.0))
    assert not is_neg_zero(call("mod", -4.0, 2.0))
    assert call("mod", -1.0, INF) == INF
    assert call("mod", 1.0, INF) == 1.0
    assert math.isnan(call("mod", INF, 2.0))
    assert math.isnan(call("mod", NAN, 2.0))


def test_float_quot_truncates_and_keeps_the_sign_of_zero() -> None:
    assert display(call("quot", -0.5, 1.0)) == "-0.0"
    assert display(call("quot", 0.5, -1.0)) == "-0.0"
    assert display(call("quot", 0.5, 1)) == "0.0"
    assert call("quot", -7.5, 2) == -3.0
    assert call("quot", 1e300, 1e-300) == INF
    assert math.isnan(call("quot", NAN, 1.0))
    assert call("quot", 1.0, INF) == 0.0


def test_float_rem_is_fmod_with_the_sign_of_a() -> None:
    assert call("rem", 7.5, -2) == 1.5
    assert is_neg_zero(call("rem", -4.0, 2.0))
    assert call("rem", 5.0, INF) == 5.0
    assert math.isnan(call("rem", INF, 3.0))
    assert math.isnan(call("rem", -INF, NAN))
    assert math.isnan(call("rem", 1.0, NAN))


@given(st.integers(), st.integers().filter(lambda b: b != 0))
def test_int_division_identities_hold(a: int, b: int) -> None:
    assert a == b * call("/", a, b) + call("mod", a, b)
    assert a == b * call("quot", a, b) + call("rem", a, b)
    quotient = call("quot", a, b)
    assert quotient == math.trunc(Fraction(a, b))
    remainder = call("rem", a, b)
    assert remainder == 0 or (remainder < 0) == (a < 0)


# --- comparison ----------------------------------------------------------------------------------


def test_comparison_example_lines() -> None:
    assert (
        shown(
            call("<", 1, 2, 3),
            call("<", 1, 3, 2),
            call("<=", 1, 1, 2),
            call(">", 3, 2.5),
            call(">=", 2, 2.0),
            call("<", 1),
            call("<", "apple", "banana"),
            call("<", "Z", "a"),
        )
        == "#t #f #t #t #t #t #t #t"
    )
    nan = call("float", "nan")
    assert shown(call("<", 9007199254740993, 9007199254740992.0), call(">", nan, 0)) == "#f #f"


def test_int_and_float_compare_exactly_not_after_conversion() -> None:
    big = 2**53 + 1
    assert call(">", big, float(2**53))
    assert call("<=", float(2**53), big)
    assert not call("=", big, float(2**53))
    assert call("=", 2**53, float(2**53))
    assert call("<", 10**400, INF) and call(">", 10**400, 1.7976931348623157e308)
    assert call(">", -(10**400), -INF)


def test_any_comparison_with_nan_is_false() -> None:
    for name in ("<", ">", "<=", ">="):
        assert call(name, NAN, 1) is False
        assert call(name, 1, NAN) is False
        assert call(name, NAN, NAN) is False
        assert call(name, 1, 2, NAN) is False


def test_strings_compare_by_code_point() -> None:
    assert call("<", "a", "b", "c")
    assert call("<", "abc", "abd")
    assert call("<", "", "a")
    assert call(">", "é", "z")
    assert call(">=", "b", "b", "a")


def test_comparison_types_are_checked_before_comparing() -> None:
    message = raises("type-error", "<", 1, "a")
    assert message == '`<` expects numbers or strings, got 1 and "a"'
    # The pair (3, 2) already fails, but the type error still wins.
    raises("type-error", "<", 3, 2, "a")
    raises("type-error", ">", "a", "b", 1)
    assert raises("type-error", "<=", True, 1) == "`<=` expects numbers or strings, got #t"
    raises("type-error", ">=", Symbol("a"))
    raises("type-error", "<", EMPTY, EMPTY)


@given(
    st.one_of(st.integers(), st.floats(allow_nan=False)),
    st.one_of(st.integers(), st.floats(allow_nan=False)),
)
def test_compare_numbers_agrees_with_exact_fractions(a: float, b: float) -> None:
    def exact(x: float) -> Fraction | float:
        return x if math.isinf(x) else Fraction(x)

    fa, fb = exact(a), exact(b)
    expected = -1 if fa < fb else (1 if fa > fb else 0)
    assert compare_numbers(a, b) == expected
    assert call("<", a, b) is (expected < 0)
    assert call(">=", a, b) is (expected >= 0)
    assert call("=", a, b) is (expected == 0)


def test_compare_numbers_is_none_for_nan() -> None:
    assert compare_numbers(NAN, 1) is None
    assert compare_numbers(1, NAN) is None


# --- equality (§4) -------------------------------------------------------------------------------

_OPTION = CtorInfo("Some", "Option", (None,))
_NONE = CtorInfo("None", "Option", ())
_OTHER = CtorInfo("Some", "Other", (None,))


def some(v: object) -> Adt:
    return Adt(_OPTION, (v,))


def test_equality_example_lines() -> None:
    m1 = FlMap.from_pairs([("a", 1), ("b", 2)])
    m2 = FlMap.from_pairs([("b", 2), ("a", 1)])
    nested = from_iter([1, from_iter([2, "x"])])
    assert (
        shown(
            call("=", 1, 1.0),
            call("==", 2, 2),
            call("=", True, 1),
            call("=", nested, from_iter([1, from_iter([2, "x"])])),
            call("=", m1, m2),
        )
        == "#t #t #f #t #t"
    )
    assert (
        shown(
            call("=", None, EMPTY),
            call("=", "a", Symbol("a")),
            call("=", some(1), some(1.0)),
            call("=", 1, 1, 1.0),
            call("!=", 1, 2),
            call("not=", 1, 1),
        )
        == "#f #f #t #t #t #f"
    )


def test_numbers_compare_by_exact_value_and_bools_are_not_numbers() -> None:
    assert equal(0.0, -0.0)
    assert not equal(NAN, NAN)
    assert not equal(True, 1) and not equal(1, True) and not equal(False, 0.0)
    assert equal(True, True) and not equal(True, False)
    assert not equal(2**53 + 1, float(2**53))
    assert equal(10**20, 1e20)
    assert not equal(None, False)


def test_nan_inside_a_value_makes_it_unequal_even_to_itself() -> None:
    lst = from_iter([1, NAN])
    assert not equal(lst, lst)
    assert not equal(some(NAN), some(NAN))
    assert not call("=", lst, lst)


def test_compound_equality_rules() -> None:
    assert equal(from_iter([1, 2]), from_iter([1.0, 2]))
    assert not equal(from_iter([1, 2]), from_iter([1, 2, 3]))
    assert not equal(from_iter([1]), EMPTY)
    assert equal(EMPTY, EMPTY)
    assert not equal(some(1), Adt(_OTHER, (1,)))
    assert equal(Adt(_NONE, ()), Adt(_NONE, ()))
    assert not equal(some(1), some(2))
    assert equal(Symbol("k"), Symbol("k")) and not equal(Symbol("k"), Symbol(":k"))
    err = ErrorValue("k", "m", from_iter([1]))
    assert equal(err, ErrorValue("k", "m", from_iter([1.0])))
    assert not equal(err, ErrorValue("k", "m2", from_iter([1])))
    assert not equal(err, ErrorValue("k2", "m", from_iter([1])))
    assert not equal(err, ErrorValue("k", "m", None))


def test_map_equality_ignores_order_and_compares_values_with_equal() -> None:
    m = FlMap.from_pairs([(1, "one"), ("k", from_iter([1, 2]))])
    assert equal(m, FlMap.from_pairs([("k", from_iter([1.0, 2])), (1.0, "one")]))
    assert not equal(m, FlMap.from_pairs([(1, "one")]))
    assert not equal(m, FlMap.from_pairs([(1, "one"), ("k", from_iter([1, 3]))]))
    assert not equal(m, FlMap.from_pairs([(1, "one"), ("j", from_iter([1, 2]))]))
    assert equal(FlMap.from_pairs([]), FlMap.from_pairs([]))
    nan_key = FlMap.from_pairs([(NAN, 1)])
    assert not equal(nan_key, nan_key)


def test_functions_are_equal_only_to_themselves() -> None:
    closure = Closure(None, (), "f")
    assert equal(closure, closure)
    assert not equal(closure, Closure(None, (), "f"))
    head = ROWS["abs"]
    assert equal(Builtin(head), Builtin(head))  # one builtin, reached through any of its names
    assert not equal(Builtin(head), Builtin(ROWS["sqrt"]))
    assert equal(EffectFn("io:print"), EffectFn("io:print"))
    assert not equal(EffectFn("io:print"), EffectFn("io:write"))
    assert equal(Constructor(_OPTION), Constructor(_OPTION))
    assert not equal(Constructor(_OPTION), Constructor(_OTHER))
    assert not equal(closure, Builtin(head))


def test_equality_of_long_and_deep_values_needs_no_recursion() -> None:
    a = from_iter(range(1_000_000))
    assert equal(a, a)  # walked element by element: no identity shortcut (NaN)
    n = 100_000
    assert not equal(from_iter(range(n)), from_iter([*range(n - 1), 0.5]))
    deep_a: object = 0
    deep_b: object = 0
    for _ in range(10_000):
        deep_a = from_iter([deep_a])
        deep_b = from_iter([deep_b])
    assert equal(deep_a, deep_b)
    deep_c: object = 1
    for _ in range(10_000):
        deep_c = from_iter([deep_c])
    assert not equal(deep_a, deep_c)


def test_equal_with_more_arguments_checks_adjacent_pairs() -> None:
    assert call("=", 5) is True
    assert call("!=", 5) is False
    assert call("=", 1, 1.0, 1) is True
    assert call("=", 1, 1, 2) is False
    assert call("!=", 1, 1, 2) is True
    assert call("=", "a", "a", Symbol("a")) is False


# --- other numeric builtins (§6 examples) ---------------------------------------------------------


def test_other_numeric_example_lines() -> None:
    assert (
        shown(
            call("abs", -5),
            call("abs", -2.5),
            call("min", 3, 1, 2),
            call("max", 1, 2.0),
            call("max", 2, 2.0),
            call("min", "b", "a"),
        )
        == "5 2.5 1 2.0 2 a"
    )
    assert (
        shown(*(call(name, x) for name, x in [
            ("floor", -1.5), ("ceil", 1.2), ("round", 2.5), ("round", 3.5), ("round", -2.5),
            ("round", 2.6), ("floor", 7),
        ]))
        == "-2 2 2 4 -2 3 7"
    )  # fmt: skip
    assert (
        shown(
            call("sqrt", 16),
            call("sqrt", 2),
            call("exp", 0),
            call("log", 1),
            call("log", 8, 2),
            call("sin", 0),
            call("cos", 0),
            call("tan", 0),
        )
        == "4.0 1.4142135623730951 1.0 0.0 3.0 0.0 1.0 0.0"
    )
    assert (
        shown(
            call("atan", 1),
            call("atan2", 1, -1),
            call("pow", 2, 10),
            call("pow", 2, -1),
            call("pow", 2.0, 3),
            call("expt", 9, 0.5),
            ROWS["pi"].value,
        )
        == "0.7853981633974483 2.356194490192345 1024 0.5 8.0 3.0 3.141592653589793"
    )
    assert (
        shown(
            call("float", 3),
            call("float", " 2.5 "),
            call("int", 3.9),
            call("int", -3.9),
            call("int", "42"),
            call("int", " -7 "),
            call("int", 1e20),
        )
        == "3.0 2.5 3 -3 42 -7 100000000000000000000"
    )
    assert (
        shown(
            call("even?", 4),
            call("odd?", 4),
            call("zero?", 0.0),
            call("positive?", -1),
            call("negative?", -1),
            call("*", 1e308, 10),
            call("-", 0.0),
        )
        == "#t #f #t #f #t inf -0.0"
    )
    raises("value-error", "int", "4.5")
    raises("value-error", "sqrt", -1)
    raises("value-error", "float", 10**400)


def test_abs_keeps_the_type() -> None:
    assert type(call("abs", -3)) is int and call("abs", -(10**30)) == 10**30
    assert call("abs", -0.0) == 0.0 and not is_neg_zero(call("abs", -0.0))
    assert call("abs", -INF) == INF
    assert math.isnan(call("abs", NAN))


def test_min_and_max_return_the_first_strictly_best_argument_unconverted() -> None:
    assert type(call("max", 2, 2.0)) is int
    assert type(call("min", 2.0, 2)) is float
    assert is_neg_zero(call("min", -0.0, 0.0))
    assert not is_neg_zero(call("min", 0.0, -0.0))
    assert call("min", 1, NAN) == 1
    assert math.isnan(call("min", NAN, 1))
    assert call("max", 5) == 5
    assert call("max", "a", "c", "b") == "c"
    assert call("min", 2**53 + 1, float(2**53)) == float(2**53)
    raises("type-error", "min", 1, "a")
    raises("type-error", "max", True)
    raises("type-error", "max", "a", 1)


def test_rounding_gives_ints_and_rejects_non_finite_floats() -> None:
    assert type(call("floor", 2.0)) is int
    assert call("round", 0.5) == 0 and call("round", 1.5) == 2 and call("round", -0.5) == 0
    assert call("ceil", -0.5) == 0 and call("floor", -0.5) == -1
    assert call("round", 1e300) == int(1e300)
    big = 10**40
    assert call("floor", big) is big and call("ceil", big) is big and call("round", big) is big
    for name in ("floor", "ceil", "round", "int"):
        assert raises("value-error", name, INF) == f"`{name}` expects a finite number, got inf"
        raises("value-error", name, -INF)
        raises("value-error", name, NAN)


def test_math_functions_give_floats_and_check_their_domains() -> None:
    assert type(call("sqrt", 4)) is float
    assert is_neg_zero(call("sqrt", -0.0))
    assert call("sqrt", INF) == INF
    assert math.isnan(call("sqrt", NAN))
    assert raises("value-error", "sqrt", -1) == "`sqrt` expects a non-negative number, got -1"
    raises("value-error", "sqrt", -INF)
    assert call("exp", 1000) == INF
    assert call("exp", -INF) == 0.0
    assert math.isnan(call("exp", NAN))
    assert call("log", INF) == INF
    assert math.isnan(call("log", NAN))
    assert raises("value-error", "log", 0) == "`log` expects a positive number, got 0"
    raises("value-error", "log", -0.0)
    raises("value-error", "log", -1.5)
    raises("value-error", "log", 8, 1)
    raises("value-error", "log", 8, 1.0)
    raises("value-error", "log", 8, 0)
    raises("value-error", "log", 8, -2)
    assert call("log", 100, 10) == math.log(100) / math.log(10)
    assert call("log", 8, INF) == 0.0
    for name in ("sin", "cos", "tan"):
        assert raises("value-error", name, INF) == f"`{name}` expects a finite number, got inf"
        raises("value-error", name, -INF)
        assert math.isnan(call(name, NAN))
    assert call("atan", INF) == math.pi / 2
    assert call("atan2", 0.0, -0.0) == math.pi
    assert math.isnan(call("atan2", NAN, 1))
    raises("value-error", "sqrt", 10**400)
    raises("value-error", "exp", 10**400)


def test_pow_is_exact_for_ints_and_c_pow_otherwise() -> None:
    assert call("pow", 3, 0) == 1 and type(call("pow", 3, 0)) is int
    assert call("pow", 0, 0) == 1
    assert call("pow", -2, 3) == -8
    assert call("pow", 10, 30) == 10**30
    assert call("pow", -2, -1) == -0.5
    assert call("pow", 2, -1074) == 5e-324
    assert call("pow", 10, -400) == 0.0
    assert call("pow", 0.0, 0) == 1.0 and call("pow", NAN, 0) == 1.0
    assert call("pow", 1, NAN) == 1.0
    assert math.isnan(call("pow", NAN, 1))
    assert call("pow", -8.0, 3) == -512.0
    assert call("pow", -INF, 0.5) == INF
    assert call("pow", -1, INF) == 1.0
    assert call("pow", 0.5, INF) == 0.0
    assert call("pow", 2, INF) == INF
    assert call("pow", 10.0, 400) == INF
    assert call("pow", -10.0, 401) == -INF
    assert call("pow", -10.0, 400) == INF
    assert call("pow", -10.0, 1e300) == INF  # huge Floats are even integers


@pytest.mark.parametrize(
    "base, exponent",
    [(0, -1), (0.0, -1), (-0.0, -2), (0, -0.5), (0.0, -INF), (0, -(10**30)), (0.0, -(10**400))],
)
def test_zero_to_a_negative_power_is_division_by_zero(base: float, exponent: float) -> None:
    assert raises("division-by-zero", "pow", base, exponent) == "division by zero"


def test_negative_base_with_finite_fractional_exponent_is_a_value_error() -> None:
    raises("value-error", "pow", -8, 0.5)
    raises("value-error", "pow", -8.0, 1 / 3)
    raises("value-error", "expt", -0.5, -2.5)
    assert math.isnan(call("pow", NAN, 0.5))


def test_float_conversion() -> None:
    assert call("float", 2**53 + 1) == float(2**53)  # ties to even
    assert call("float", -7) == -7.0 and type(call("float", 5)) is float
    nan = call("float", "nan")
    assert math.isnan(nan)
    assert call("float", "-inf") == -INF
    assert call("float", "\t+Infinity\n") == INF
    assert call("float", "INF") == INF
    assert math.isnan(call("float", "-NaN"))
    assert call("float", "1e400") == INF
    assert call("float", "1" + "0" * 400) == INF  # a literal's nearest double, not an Int
    assert call("float", "007") == 7.0
    assert is_neg_zero(call("float", "-0.0"))
    assert call("float", "\v\f\r 1.5e3 ") == 1500.0
    for bad in ["", " ", "abc", "1.", ".5", "1e", "1_000", "0x10", "in f", "nanx", "١", "1 2"]:
        raises("value-error", "float", bad)
    raises("value-error", "float", "\u00a01.5")  # not ASCII whitespace
    raises("type-error", "float", True)
    raises("type-error", "float", None)
    message = raises("value-error", "float", 2**1024)
    assert message == "`float`: Int too large to convert to Float"


def test_int_conversion() -> None:
    assert call("int", -0.5) == 0 and type(call("int", -0.5)) is int
    assert call("int", 2.0**80) == 2**80
    assert call("int", "+5") == 5 and call("int", "007") == 7
    assert call("int", " 123456789012345678901234567890\n") == 123456789012345678901234567890
    assert call("int", "9" * 5000) == int("9" * 5000)
    for bad in ["4.5", "1e3", "inf", "nan", "", "- 1", "1_0", "٣", "0b1", "12abc"]:
        raises("value-error", "int", bad)
    assert raises("value-error", "int", "4.5") == '`int` expects an Int literal, got "4.5"'
    raises("type-error", "int", False)
    raises("type-error", "int", EMPTY)


def test_parity_takes_ints_only_and_sign_predicates_take_numbers() -> None:
    assert call("even?", 0) and call("even?", -2) and call("odd?", -3) and not call("odd?", 10**30)
    assert raises("type-error", "even?", 2.0) == "`even?` expects an Int, got 2.0"
    raises("type-error", "odd?", True)
    assert call("zero?", -0.0) and call("zero?", 0) and not call("zero?", NAN)
    assert not call("positive?", 0) and not call("negative?", -0.0)
    assert not call("positive?", NAN) and not call("negative?", NAN)
    assert call("positive?", INF) and call("negative?", -(10**100))


# --- numeric helpers ----------------------------------------------------------------------------


def test_int_to_float_rounds_to_nearest_even_and_rejects_overflow() -> None:
    max_float = 2**1024 - 2**971
    assert int_to_float(max_float) == sys.float_info.max
    assert int_to_float(2**1024 - 2**970 - 1) == sys.float_info.max
    with pytest.raises(FlError) as info:
        int_to_float(2**1024 - 2**970)  # the tie rounds up to 2^1024
    assert info.value.kind == "value-error"
    assert info.value.message == "Int too large to convert to Float"
    with pytest.raises(FlError):
        int_to_float(-(2**1024), "+")
    assert int_to_float(2**53 + 3) == 2.0**53 + 4


@given(st.integers(min_value=-(2**1100), max_value=2**1100))
def test_int_to_float_is_correctly_rounded(n: int) -> None:
    try:
        x = int_to_float(n)
    except FlError:
        assert abs(n) >= 2**1024 - 2**970
        return
    err = abs(Fraction(x) - n)
    ulp = Fraction(math.ulp(x)) if x != 0 else Fraction(0)
    assert err <= ulp / 2


def test_parse_number_follows_the_reader_grammar_exactly() -> None:
    assert parse_number("42") == 42 and type(parse_number("42")) is int
    assert parse_number("-7") == -7 and parse_number("+5") == 5 and parse_number("007") == 7
    assert parse_number("3.14") == 3.14
    assert parse_number("-2.5e-3") == -0.0025
    assert parse_number("1e3") == 1000.0 and type(parse_number("1e3")) is float
    assert parse_number("2E10") == 2e10
    assert parse_number("1.5E+2") == 150.0
    assert parse_number("1e400") == INF
    assert parse_number("1" * 10_000) == int("1" * 10_000)
    for bad in [
        "",
        " 1",
        "1 ",
        "1\n",
        "+",
        "-",
        "5.",
        ".5",
        "1e",
        "1e+",
        "1.2.3",
        "123abc",
        "inf",
        "nan",
        "-inf",
        "1_000",
        "0x1F",
        "١٢",
        "1.5f",
        "+-1",
        "1,000",
        "#t",
        "e5",
    ]:
        assert parse_number(bad) is None, bad  # fmt: skip


def test_int_and_float_string_helpers_strip_ascii_whitespace_only() -> None:
    assert string_to_int(" \t\n\v\f\r12\r") == 12
    assert string_to_int("\u20031") is None
    assert string_to_int("1.0") is None
    assert string_to_float(" 12 ") == 12.0
    assert string_to_float("-Infinity") == -INF
    assert string_to_float("infinit") is None
    assert string_to_float("+inf") == INF


# --- general builtins: type-of, predicates, not, identity (§4, §5) ------------------------------


def test_type_of_example_lines() -> None:
    option = CtorInfo("Some", "Option", (None,))
    none = CtorInfo("None", "Option", ())
    err = ErrorValue("k", "m", None)
    assert (
        shown(
            *(
                call("type-of", v)
                for v in [1, 1.0, "s", Symbol("a"), None, from_iter([1]), FlMap.from_pairs([])]
            )
        )
        == "Int Float String Symbol Nil List Map"
    )
    plus = Builtin(ROWS["+"])
    values = [plus, Adt(option, (1,)), Adt(none, ()), True, err]
    assert shown(*(call("type-of", v) for v in values)) == "Function Option Option Bool Error"
    assert call("type-of", EMPTY) == "List"
    for fn in (Closure(None, (), "f"), Constructor(option), EffectFn("io:print")):
        assert call("type-of", fn) == "Function"


def test_predicate_example_lines() -> None:
    assert (
        shown(
            call("int?", 1),
            call("int?", 1.0),
            call("float?", 1.0),
            call("number?", 1.5),
            call("number?", "1"),
            call("string?", "s"),
            call("symbol?", Symbol(":k")),
        )
        == "#t #f #t #t #f #t #t"
    )
    assert (
        shown(
            call("bool?", False),
            call("boolean?", 0),
            call("nil?", None),
            call("nil?", EMPTY),
            call("null?", EMPTY),
            call("null?", None),
            call("list?", EMPTY),
            call("map?", FlMap.from_pairs([])),
        )
        == "#t #f #t #f #t #t #t #t"
    )
    option = CtorInfo("Some", "Option", (None,))
    none = CtorInfo("None", "Option", ())
    assert (
        shown(
            call("function?", Builtin(ROWS["abs"])),
            call("function?", Constructor(option)),
            call("function?", Adt(none, ())),
            call("error?", 5),
            call("identity", "same"),
        )
        == "#t #t #f #f same"
    )


def test_predicates_reject_lookalikes() -> None:
    assert not call("int?", True) and not call("number?", False) and not call("float?", 1)
    assert not call("string?", Symbol("s")) and not call("symbol?", "s")
    assert call("list?", from_iter([1])) and not call("list?", None)
    assert not call("map?", EMPTY) and not call("map?", None)
    assert call("error?", ErrorValue("k", "m", None))
    assert call("function?", Closure(None, (), "f")) and call("function?", EffectFn("io:print"))
    assert not call("null?", False) and not call("nil?", False)
    assert call("bool?", True) and not call("bool?", None)


def test_not_uses_truthiness() -> None:
    values = [False, None, 0, "", EMPTY, FlMap.from_pairs([]), 0.0, ErrorValue("k", "m", None)]
    assert shown(*(call("not", v) for v in values)) == "#t #t #f #f #f #f #f #f"
    assert call("not", True) is False


def test_identity_returns_the_argument_itself() -> None:
    lst = from_iter([1, 2])
    assert call("identity", lst) is lst
