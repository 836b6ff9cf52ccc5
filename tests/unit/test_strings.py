"""String builtins (LANGUAGE.md §8, §17 "Strings"), called directly through their rows."""

from __future__ import annotations

import math
from typing import Any

import pytest

# Import the table first: importing a builtins module before fluentai.primitives is a circular
# import (primitives builds its table from every builtins module while it loads).
import fluentai.primitives  # noqa: F401
from fluentai.errors import FlError
from fluentai.primitives import Prim
from fluentai.symbol import Symbol
from fluentai.vm import builtins_strings
from fluentai.vm.maps import FlMap
from fluentai.vm.printer import display
from fluentai.vm.values import EMPTY, Adt, CtorInfo, from_iter, to_pylist

ROWS: dict[str, Prim] = {
    name: row for row in builtins_strings.ROWS for name in (row.name, *row.aliases)
}


def call(name: str, *args: Any) -> Any:
    row = ROWS[name]
    lo, hi = row.arity
    assert lo <= len(args) and (hi is None or len(args) <= hi), f"bad arity for {name}"
    assert row.vm is not None
    return row.vm(*args)


def shown(*values: object) -> str:
    return " ".join(display(v) for v in values)


def raises(kind: str, name: str, *args: Any) -> str:
    with pytest.raises(FlError) as info:
        call(name, *args)
    assert info.value.kind == kind
    return info.value.message


def strings(*items: str) -> Any:
    return from_iter(items)


def test_every_string_builtin_of_the_reference_has_a_row() -> None:
    expected = {
        "string-length": (1, 1),
        "string-append": (0, None),
        "str": (0, None),
        "concat": (0, None),
        "string-concat": (0, None),
        "to-string": (1, 1),
        "substring": (2, 3),
        "string-ref": (2, 2),
        "string-split": (1, 2),
        "string-join": (2, 2),
        "string-upcase": (1, 1),
        "string-downcase": (1, 1),
        "string-trim": (1, 1),
        "string-contains?": (2, 2),
        "string-starts-with?": (2, 2),
        "string-ends-with?": (2, 2),
        "string-replace": (3, 3),
        "string->list": (1, 1),
        "list->string": (1, 1),
        "string->number": (1, 1),
        "number->string": (1, 1),
        "char->int": (1, 1),
        "int->char": (1, 1),
        "symbol->string": (1, 1),
        "string->symbol": (1, 1),
    }
    assert {name: row.arity for name, row in ROWS.items()} == expected
    assert ROWS["string-concat"].name == "concat"
    assert ROWS["str"].name == "str" and ROWS["string-append"].name == "string-append"


def test_spec_example_lines() -> None:
    assert (
        shown(
            call("string-length", "héllo"),
            call("string-append", "x=", 1.5, " ", from_iter([1, "a"]), None),
            call("concat", "ab", "cd"),
            call("string-concat", "e", "f"),
        )
        == '5 x=1.5 [1 "a"]nil abcd ef'
    )
    assert (
        shown(
            call("str", 1, "a", Symbol("b")),
            call("string-length", call("str")),
            call("to-string", 3.0),
            call("to-string", "s"),
            call("to-string", from_iter([1, "s"])),
        )
        == '1ab 0 3.0 s [1 "s"]'
    )
    assert (
        shown(
            call("substring", "hello", 1, 3),
            call("substring", "hello", 2),
            call("string-ref", "abc", 1),
            call("string-upcase", "straße"),
            call("string-downcase", "ÀB"),
        )
        == "el llo b STRASSE àb"
    )
    assert (
        shown(
            call("string-split", "a,b,,c", ","),
            call("string-split", "  a b  c "),
            call("string-split", "abc", ""),
            call("string-join", "-", strings("a", "b", "c")),
        )
        == '["a" "b" "" "c"] ["a" "b" "c"] ["a" "b" "c"] a-b-c'
    )
    assert (
        shown(
            call("string-trim", "  hi \n"),
            call("string-contains?", "hello", "ell"),
            call("string-starts-with?", "hello", "he"),
            call("string-ends-with?", "hello", "lo"),
        )
        == "hi #t #t #t"
    )
    assert (
        shown(
            call("string-replace", "a-b-c", "-", "+"),
            call("string->list", "abc"),
            call("list->string", strings("a", "bc")),
        )
        == 'a+b+c ["a" "b" "c"] abc'
    )
    assert (
        shown(
            call("string->number", "42"),
            call("string->number", "-2.5e3"),
            call("string->number", "x1"),
            call("number->string", 255),
            call("char->int", "A"),
            call("int->char", 955),
        )
        == "42 -2500.0 nil 255 65 λ"
    )
    assert shown(call("symbol->string", Symbol("abc")), call("string->symbol", "x y")) == "abc x y"
    raises("index-out-of-range", "substring", "abc", 2, 5)
    raises("type-error", "concat", "a", 1)


def test_lengths_and_indices_count_code_points() -> None:
    assert call("string-length", "") == 0
    assert call("string-length", "😀a") == 2
    assert call("string-ref", "😀a", 1) == "a"
    assert call("substring", "a😀b", 1, 2) == "😀"
    assert to_pylist(call("string->list", "a😀")) == ["a", "😀"]


def test_str_and_string_append_use_display_forms_of_any_values() -> None:
    option = CtorInfo("Some", "Option", (None,))
    map_value = FlMap.from_pairs([("k", "v")])
    text = call("str", "s", Symbol(":kw"), True, None, -0.0, Adt(option, ("x",)), map_value)
    assert text == 's:kw#tnil-0.0(Some "x"){"k" "v"}'
    assert call("string-append") == ""
    assert call("to-string", from_iter(["a\n"])) == '["a\\n"]'
    assert call("to-string", math.nan) == "nan"


def test_concat_accepts_strings_only() -> None:
    assert call("concat") == ""
    assert call("concat", "a", "", "b") == "ab"
    assert raises("type-error", "concat", "a", 1) == "`concat` expects a String, got 1"
    assert raises("type-error", "string-concat", Symbol("a")) == "`concat` expects a String, got a"


def test_substring_bounds() -> None:
    assert call("substring", "hello", 0, 5) == "hello"
    assert call("substring", "hello", 5) == ""
    assert call("substring", "hello", 2, 2) == ""
    assert call("substring", "", 0) == ""
    message = raises("index-out-of-range", "substring", "abc", 2, 5)
    assert message == "`substring`: index 5 out of range for length 3"
    assert raises("index-out-of-range", "substring", "abc", -1) == (
        "`substring`: index -1 out of range for length 3"
    )
    assert raises("index-out-of-range", "substring", "abc", 4) == (
        "`substring`: index 4 out of range for length 3"
    )
    assert raises("index-out-of-range", "substring", "abc", 2, 1) == (
        "`substring`: index 1 out of range for length 3"
    )
    raises("index-out-of-range", "substring", "abc", 0, -1)
    raises("type-error", "substring", "abc", 1.0)
    raises("type-error", "substring", "abc", 0, True)
    raises("type-error", "substring", Symbol("abc"), 0)


def test_string_ref_bounds() -> None:
    assert call("string-ref", "abc", 0) == "a" and call("string-ref", "abc", 2) == "c"
    assert raises("index-out-of-range", "string-ref", "abc", 3) == (
        "`string-ref`: index 3 out of range for length 3"
    )
    raises("index-out-of-range", "string-ref", "abc", -1)
    raises("index-out-of-range", "string-ref", "", 0)
    raises("type-error", "string-ref", "abc", 1.0)
    raises("type-error", "string-ref", 5, 0)


def test_string_split_follows_python_split() -> None:
    assert to_pylist(call("string-split", "")) == []
    assert to_pylist(call("string-split", "", ",")) == [""]
    assert to_pylist(call("string-split", "", "")) == []
    assert to_pylist(call("string-split", "a\u3000b\u2028c")) == ["a", "b", "c"]
    assert to_pylist(call("string-split", "a::b::", "::")) == ["a", "b", ""]
    assert to_pylist(call("string-split", "a b", " ")) == ["a", "b"]
    assert to_pylist(call("string-split", "  a", " ")) == ["", "", "a"]
    raises("type-error", "string-split", "a b", 1)
    raises("type-error", "string-split", None)


def test_string_join_takes_a_list_of_strings() -> None:
    assert call("string-join", ", ", EMPTY) == ""
    assert call("string-join", "", strings("a", "b")) == "ab"
    assert call("string-join", "-", strings("x")) == "x"
    assert raises("type-error", "string-join", "-", from_iter(["a", 1])) == (
        "`string-join` expects a List of Strings, got the element 1"
    )
    raises("type-error", "string-join", "-", "abc")
    raises("type-error", "string-join", 1, strings("a"))
    raises("type-error", "string-join", "-", None)


def test_case_conversion_and_trim_are_pythons() -> None:
    assert call("string-upcase", "ﬁx ǆ") == "FIX Ǆ"
    assert call("string-downcase", "İ") == "i̇"
    assert call("string-trim", "\u00a0\u2003 x y \t") == "x y"
    assert call("string-trim", "") == ""
    for name in ("string-upcase", "string-downcase", "string-trim"):
        raises("type-error", name, Symbol("a"))


def test_search_predicates() -> None:
    assert call("string-contains?", "abc", "") is True
    assert call("string-contains?", "abc", "d") is False
    assert call("string-starts-with?", "abc", "") and not call("string-starts-with?", "ab", "abc")
    assert call("string-ends-with?", "abc", "bc") and not call("string-ends-with?", "abc", "ab")
    for name in ("string-contains?", "string-starts-with?", "string-ends-with?"):
        raises("type-error", name, "abc", 1)
        raises("type-error", name, None, "a")


def test_string_replace_is_pythons_replace() -> None:
    assert call("string-replace", "aaa", "aa", "b") == "ba"
    assert call("string-replace", "abc", "x", "y") == "abc"
    assert call("string-replace", "ab", "", "-") == "-a-b-"
    raises("type-error", "string-replace", "abc", "a", 1)
    raises("type-error", "string-replace", "abc", Symbol("a"), "b")


def test_list_conversions() -> None:
    assert call("string->list", "") is EMPTY
    assert call("list->string", EMPTY) == ""
    assert call("list->string", strings("ab", "", "c")) == "abc"
    raises("type-error", "list->string", from_iter([Symbol("a")]))
    raises("type-error", "list->string", "abc")
    raises("type-error", "string->list", from_iter(["a"]))


def test_string_to_number_accepts_exactly_a_literal() -> None:
    assert call("string->number", "007") == 7
    assert call("string->number", "+5") == 5
    assert call("string->number", "1e400") == math.inf
    assert type(call("string->number", "1e3")) is float
    for bad in [" 42", "42 ", "", "inf", "nan", "5.", ".5", "1_0", "٤٢", "0x10", "1e"]:
        assert call("string->number", bad) is None, bad
    raises("type-error", "string->number", 42)


def test_number_to_string_uses_the_printed_form() -> None:
    assert call("number->string", -0.0) == "-0.0"
    assert call("number->string", 1e16) == "1e+16"
    assert call("number->string", 10**30) == "1" + "0" * 30
    assert call("number->string", math.inf) == "inf"
    raises("type-error", "number->string", "1")
    raises("type-error", "number->string", True)


def test_characters_and_code_points() -> None:
    assert call("char->int", "λ") == 955
    assert call("char->int", "\x00") == 0
    assert call("int->char", 0) == "\x00"
    assert call("int->char", 0x10FFFF) == "\U0010ffff"
    assert call("int->char", 0xD7FF) == "\ud7ff" and call("int->char", 0xE000) == "\ue000"
    raises("value-error", "char->int", "")
    assert raises("value-error", "char->int", "ab") == (
        '`char->int` expects a 1-character String, got "ab"'
    )
    for bad in (-1, 0x110000, 0xD800, 0xDFFF, 10**30):
        raises("value-error", "int->char", bad)
    raises("type-error", "char->int", 65)
    raises("type-error", "int->char", "A")
    raises("type-error", "int->char", 65.0)
    raises("type-error", "int->char", True)


def test_symbol_conversions() -> None:
    assert call("symbol->string", Symbol(":key")) == ":key"
    assert call("string->symbol", "abc") is Symbol("abc")
    assert call("string->symbol", "") is Symbol("")
    assert raises("type-error", "symbol->string", "abc") == (
        '`symbol->string` expects a Symbol, got "abc"'
    )
    raises("type-error", "string->symbol", Symbol("abc"))


def test_str_of_ints_and_strings_takes_the_display_forms() -> None:
    # `str` turns Strings and Ints into text itself; everything else goes through display()
    assert call("str", 12, ",") == "12,"
    assert call("str", -(2**70), "é", 0) == f"{-(2**70)}é0"
    assert call("str", True, 1, False, "x", None, 2.5) == "#t1#fxnil2.5"
    assert call("str", from_iter([1, "a"]), "") == '[1 "a"]'
