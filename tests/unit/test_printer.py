"""Display and written forms (LANGUAGE.md §15), including huge and deeply nested values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fluentai.primitives  # noqa: F401  (builds the builtin table before its modules are used)
from fluentai.errors import FlError
from fluentai.primitives import PRIMS
from fluentai.symbol import Symbol
from fluentai.vm.maps import FlMap
from fluentai.vm.numbers import parse_number
from fluentai.vm.printer import display, type_error, written, written_string
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Box,
    Builtin,
    Closure,
    Constructor,
    CtorInfo,
    EffectFn,
    ErrorValue,
    from_iter,
)

SOME = CtorInfo("Some", "Option", (None,))
NONE = CtorInfo("None", "Option", ())
PAIR = CtorInfo("Pair", "Pair", (None, None))


def shown(*values: object) -> str:
    return " ".join(display(v) for v in values)


def test_spec_example_line_one() -> None:
    values = [
        "top",
        from_iter(["in", "list"]),
        FlMap.from_pairs([("k", "v")]),
        Adt(SOME, ("s",)),
        Symbol("sym"),
        Symbol(":kw"),
        None,
        True,
        1.0,
        -0.0,
        float("nan"),
        float("-inf"),
    ]
    assert (
        shown(*values) == 'top ["in" "list"] {"k" "v"} (Some "s") sym :kw nil #t 1.0 -0.0 nan -inf'
    )


def test_spec_example_line_two() -> None:
    car = Builtin(PRIMS["car"])
    values = [
        from_iter(['a"b\\c\nd\r']),
        display(from_iter(["\t", "\x07"])),
        car,
        Closure(None, (), "lambda"),
        ErrorValue("k", "msg", None),
        EffectFn("io:print"),
        Closure(None, (), "f"),
    ]
    expected = (
        '["a\\"b\\\\c\\nd\\r"] ["\\t" "\\u{7}"] #<function head> #<function lambda> '
        "#<error k: msg> #<function io:print> #<function f>"
    )
    assert shown(*values) == expected


def test_spec_float_examples() -> None:
    values = [0.1, 0.1 + 0.2, 1e16, 1e15, 123456789.0, 0.0001, 0.00001, 1.5e300, 2 / 3.0, 2.5e-7]
    expected = (
        "0.1 0.30000000000000004 1e+16 1000000000000000.0 123456789.0 0.0001 1e-05 1.5e+300 "
        "0.6666666666666666 2.5e-07"
    )
    assert shown(*values) == expected


def test_reader_example_line() -> None:
    values = [42, -7, 5, 7, 123456789012345678901234567890, 3.14, -0.0025, 1000.0, 2e10, math.inf]
    assert shown(*values) == (
        "42 -7 5 7 123456789012345678901234567890 3.14 -0.0025 1000.0 20000000000.0 inf"
    )
    strings = from_iter(["tab\t", 'quote"', "back\\slash", "new\nline"])
    assert shown(strings, "x\u03bby") == '["tab\\t" "quote\\"" "back\\\\slash" "new\\nline"] xλy'
    empty_map = FlMap.from_pairs([])
    values2 = [True, False, None, EMPTY, empty_map, from_iter([1, 2, 3]), Symbol("sym")]
    assert shown(*values2) == "#t #f nil [] {} [1 2 3] sym"


@pytest.mark.parametrize(
    "x, text",
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1e-4, "0.0001"),
        (9.999e-5, "9.999e-05"),
        (9999999999999998.0, "9999999999999998.0"),
        (1e16, "1e+16"),
        (1.5e16, "1.5e+16"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (1e100, "1e+100"),
        (-1e-7, "-1e-07"),
        (100.0, "100.0"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
        (-math.nan, "nan"),
        (math.copysign(math.nan, -1.0), "nan"),
    ],
)
def test_float_format(x: float, text: str) -> None:
    assert display(x) == text
    assert written(x) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_reads_back_as_the_same_double(x: float) -> None:
    text = display(x)
    assert float(text) == x and math.copysign(1.0, float(text)) == math.copysign(1.0, x)
    mantissa = text.lstrip("-").split("e")[0]
    if "e" in text:
        assert "e+" in text or "e-" in text
        assert len(text.split("e")[1]) >= 3  # a sign and at least two digits
    else:
        assert "." in mantissa and not mantissa.endswith(".")
    # Every float text is also a literal of the language (after an optional exponent fix-up).
    if "e" not in text:
        assert parse_number(text) == x


def test_ints_of_any_size() -> None:
    big = 10**5000 + 1
    assert display(big) == "1" + "0" * 4999 + "1"
    assert written(-big) == "-" + display(big)
    assert display(0) == "0"


def test_written_string_escapes() -> None:
    assert written("") == '""'
    assert written("plain λ ✓ 😀") == '"plain λ ✓ 😀"'
    assert written('"\\') == '"\\"\\\\"'
    assert written("\n\t\r") == '"\\n\\t\\r"'
    assert written("\x00\x01\x1b\x1f\x7f") == '"\\u{0}\\u{1}\\u{1b}\\u{1f}\\u{7f}"'
    assert written("\x80\u2028 ") == '"\x80\u2028 "'  # only below U+0020 and U+007F
    assert written_string("a\vb") == '"a\\u{b}b"'
    assert display('raw\n"') == 'raw\n"'


def test_display_differs_from_written_only_for_a_top_level_string() -> None:
    lst = from_iter(["a", Symbol("b"), 1])
    assert display(lst) == written(lst) == '["a" b 1]'
    assert display("s") == "s" and written("s") == '"s"'
    assert display(Symbol("s")) == written(Symbol("s")) == "s"


def test_adt_values() -> None:
    assert written(Adt(NONE, ())) == "None"
    assert written(Adt(SOME, (Adt(NONE, ()),))) == "(Some None)"
    assert written(Adt(PAIR, ("a", from_iter([1])))) == '(Pair "a" [1])'
    nested = Adt(SOME, (Adt(PAIR, (1.5, Adt(SOME, (EMPTY,)))),))
    assert display(nested) == "(Some (Pair 1.5 (Some [])))"


def test_maps_print_in_insertion_order_with_written_keys_and_values() -> None:
    m = FlMap.from_pairs([("b", 1), (Symbol(":k"), "v"), (from_iter([1, 2]), None)])
    assert display(m) == '{"b" 1 :k "v" [1 2] nil}'
    assert display(m.assoc("b", 10)) == '{"b" 10 :k "v" [1 2] nil}'
    inner = FlMap.from_pairs([(1, FlMap.from_pairs([]))])
    assert display(from_iter([inner, inner])) == "[{1 {}} {1 {}}]"


def test_functions_and_errors() -> None:
    assert written(Constructor(SOME)) == "#<function Some>"
    assert written(Builtin(PRIMS["+"])) == "#<function +>"
    assert written(Builtin(PRIMS["string-concat"])) == "#<function concat>"
    assert written(EffectFn("state:get")) == "#<function state:get>"
    assert written(ErrorValue("division-by-zero", "division by zero", 5)) == (
        "#<error division-by-zero: division by zero>"
    )
    assert written(ErrorValue("k", 'a "quoted" msg', None)) == '#<error k: a "quoted" msg>'
    assert display(from_iter([ErrorValue("k", "m", None)])) == "[#<error k: m>]"


def test_a_list_of_a_million_elements() -> None:
    n = 1_000_000
    text = display(from_iter(range(n)))
    assert text.startswith("[0 1 2 ") and text.endswith(" 999999]")
    assert text.count(" ") == n - 1


def test_data_nested_ten_thousand_levels() -> None:
    depth = 10_000
    value: object = 1
    for _ in range(depth):
        value = from_iter([value, "x"])
    assert display(value) == "[" * depth + "1" + ' "x"]' * depth
    adt: object = Adt(NONE, ())
    for _ in range(depth):
        adt = Adt(SOME, (adt,))
    assert display(adt) == "(Some " * depth + "None" + ")" * depth
    m: object = 0
    for _ in range(depth):
        m = FlMap.from_pairs([("k", m)])
    assert display(m) == '{"k" ' * depth + "0" + "}" * depth


def test_values_that_are_not_fluentai_values_are_a_bug() -> None:
    with pytest.raises(TypeError):
        written(Box(1))
    with pytest.raises(TypeError):
        display(from_iter([[1, 2]]))


def test_type_error_formats_the_found_value_in_written_form() -> None:
    err = type_error("string-length", "a String", Symbol("x"))
    assert isinstance(err, FlError)
    assert err.kind == "type-error"
    assert err.message == "`string-length` expects a String, got x"
    assert type_error("f", "an Int", "7").message == '`f` expects an Int, got "7"'
