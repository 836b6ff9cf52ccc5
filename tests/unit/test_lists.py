"""The first-order list builtins (LANGUAGE.md §7, §17 "Lists") and the misc builtins."""

from __future__ import annotations

from typing import Any

import pytest

from fluentai.errors import FlError, ProgramExit
from fluentai.primitives import PrimKind, lookup
from fluentai.symbol import Symbol
from fluentai.vm.builtins_misc import normalize_raise
from fluentai.vm.maps import FlMap
from fluentai.vm.printer import written
from fluentai.vm.values import EMPTY, ErrorValue, from_iter, to_pylist

BIG = 1_000_000


def call(name: str, *args: object) -> Any:
    row = lookup(name)
    assert row is not None and row.vm is not None
    return row.vm(*args)


def lst(*items: object) -> Any:
    return from_iter(items)


def raises(kind: str, name: str, *args: object) -> str:
    with pytest.raises(FlError) as info:
        call(name, *args)
    assert info.value.kind == kind
    return info.value.message


def test_spec_example_basic_operations() -> None:
    xs = lst(1, 2, 3)
    assert written(call("cons", 0, xs)) == "[0 1 2 3]"
    assert call("head", xs) == 1 and call("car", xs) == 1 and call("first", xs) == 1
    assert call("tail", xs) is xs.tail and call("rest", xs) is xs.tail
    assert call("last", xs) == 3
    assert call("list") is EMPTY
    assert written(call("list", 1, "a", None)) == '[1 "a" nil]'
    assert call("empty?", EMPTY) is True and call("empty?", xs) is False
    assert call("length", xs) == 3 and call("nth", xs, 0) == 1 and call("nth", xs, 2) == 3


def test_spec_example_append_reverse_take_drop() -> None:
    xs = lst(1, 2, 3)
    assert call("append") is EMPTY
    assert written(call("append", lst(1), lst(2, 3), EMPTY)) == "[1 2 3]"
    assert written(call("reverse", xs)) == "[3 2 1]"
    assert written(call("take", 2, xs)) == "[1 2]"
    assert written(call("drop", 2, xs)) == "[3]"
    assert call("take", 5, xs) is xs
    assert call("drop", 5, xs) is EMPTY
    assert call("take", 0, xs) is EMPTY


def test_append_shares_its_last_list() -> None:
    last = lst(2, 3)
    assert call("append", lst(1), last).tail is last


def test_spec_example_range() -> None:
    assert written(call("range", 5)) == "[0 1 2 3 4]"
    assert written(call("range", 2, 5)) == "[2 3 4]"
    assert written(call("range", 10, 0, -3)) == "[10 7 4 1]"
    assert call("range", 0) is EMPTY
    assert call("range", 3, 1) is EMPTY
    assert call("range", -2) is EMPTY


def test_spec_example_zip_sum_product() -> None:
    assert written(call("zip", lst(1, 2, 3), lst("a", "b"))) == '[[1 "a"] [2 "b"]]'
    assert written(call("zip", lst(1, 2), lst(3, 4), lst(5, 6))) == "[[1 3 5] [2 4 6]]"
    assert written(call("zip", lst(1, 2))) == "[[1] [2]]"
    assert call("zip", EMPTY, lst(1)) is EMPTY
    assert call("sum", lst(1, 2, 3)) == 6
    assert call("sum", EMPTY) == 0
    assert call("product", lst(2, 3, 4)) == 24
    assert call("product", EMPTY) == 1
    assert call("sum", lst(1, 2.5)) == 3.5


def test_sum_of_one_element_is_that_element() -> None:
    assert written(call("sum", lst(-0.0))) == "-0.0"
    assert written(call("product", lst(-0.0))) == "-0.0"
    assert written(call("sum", lst(-0.0, -0.0))) == "-0.0"
    assert type(call("sum", lst(1, 2.0))) is float
    assert call("sum", lst(10**30, 1)) == 10**30 + 1


def test_sum_with_a_huge_int_and_a_float_raises_value_error() -> None:
    raises("value-error", "sum", lst(1.5, 10**400))
    raises("value-error", "product", lst(10**400, 2.0))


def test_empty_list_messages_use_the_canonical_name() -> None:
    assert raises("empty-list", "head", EMPTY) == "`head` expects a non-empty list, got []"
    assert raises("empty-list", "car", EMPTY) == "`head` expects a non-empty list, got []"
    assert raises("empty-list", "cdr", EMPTY) == "`tail` expects a non-empty list, got []"
    assert raises("empty-list", "last", EMPTY) == "`last` expects a non-empty list, got []"


def test_nth_out_of_range_message() -> None:
    msg = raises("index-out-of-range", "nth", lst(1, 2, 3), 3)
    assert msg == "`nth`: index 3 out of range for length 3"
    assert (
        raises("index-out-of-range", "nth", EMPTY, 0) == "`nth`: index 0 out of range for length 0"
    )
    raises("index-out-of-range", "nth", lst(1), -1)


def test_negative_counts_and_zero_step_raise_value_error() -> None:
    raises("value-error", "take", -1, lst(1))
    raises("value-error", "drop", -1, lst(1))
    assert raises("value-error", "range", 0, 5, 0) == "`range` expects a non-zero step, got 0"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("cons", (1, 2)),
        ("cons", (1, None)),
        ("head", (None,)),
        ("tail", ("abc",)),
        ("last", (5,)),
        ("empty?", (5,)),
        ("empty?", (None,)),
        ("length", (5,)),
        ("length", (None,)),
        ("nth", (lst(1), 0.0)),
        ("nth", (lst(1), True)),
        ("nth", ("abc", 0)),
        ("append", (lst(1), 2)),
        ("reverse", (None,)),
        ("take", (1.0, lst(1))),
        ("drop", (1, "ab")),
        ("range", (1.0,)),
        ("range", (0, True)),
        ("zip", (lst(1), None)),
        ("sum", (lst(1, "a"),)),
        ("sum", (lst(True),)),
        ("product", (5,)),
    ],
)
def test_wrong_argument_types_raise_type_error(name: str, args: tuple[object, ...]) -> None:
    raises("type-error", name, *args)


def test_length_and_empty_accept_strings_and_maps() -> None:
    fm = FlMap.from_pairs([("a", 1)])
    assert call("length", "héllo") == 5
    assert call("length", fm) == 1
    assert call("empty?", "") is True
    assert call("empty?", FlMap.empty()) is True
    assert call("empty?", fm) is False


def test_cons_alias_and_nil_constant() -> None:
    row = lookup("Cons")
    assert row is not None and row.name == "cons"
    nil_row = lookup("Nil")
    assert nil_row is not None and nil_row.kind is PrimKind.CONSTANT and nil_row.value is EMPTY


def test_prelude_rows_are_declared_without_an_implementation() -> None:
    names = ["map", "for-each", "filter", "fold", "fold-right", "reduce", "concat-map"]
    for name in [*names, "any?", "all?", "sort"]:
        row = lookup(name)
        assert row is not None and row.kind is PrimKind.PRELUDE and row.vm is None


@pytest.fixture(scope="module")
def big() -> Any:
    return call("range", BIG)


def test_walking_builtins_handle_a_million_elements(big: Any) -> None:
    assert big.length == BIG
    assert call("last", big) == BIG - 1
    assert call("nth", big, BIG - 1) == BIG - 1
    assert call("drop", BIG - 1, big).head == BIG - 1
    assert call("sum", big) == BIG * (BIG - 1) // 2
    assert call("product", call("take", 3, call("drop", 1, big))) == 6


def test_building_builtins_handle_a_million_elements(big: Any) -> None:
    assert call("head", call("reverse", big)) == BIG - 1
    assert call("length", call("append", big, lst(1))) == BIG + 1
    assert call("last", call("take", BIG - 1, big)) == BIG - 2
    assert call("last", call("zip", big, big)).head == BIG - 1


def test_zip_stops_at_the_shortest() -> None:
    rows = call("zip", call("range", 5), lst("a"), call("range", 3))
    assert [to_pylist(r) for r in to_pylist(rows)] == [[0, "a", 0]]


# Error values, raise normalization, exit


def test_error_constructor_and_accessors() -> None:
    e = call("Error", Symbol("oops"), 42, lst(1))
    assert isinstance(e, ErrorValue)
    assert (e.kind, e.message) == ("oops", "42")
    assert call("error-kind", e) == "oops"
    assert call("error-message", e) == "42"
    assert to_pylist(call("error-data", e)) == [1]
    assert written(call("Error", "custom", "made by hand", None)) == "#<error custom: made by hand>"
    raises("type-error", "Error", 5, "m", None)
    raises("type-error", "error-kind", "not an error")


def test_normalize_raise_follows_13_2() -> None:
    assert normalize_raise(("oops", "boom", 42)) == ("oops", "boom", 42)
    assert normalize_raise(("just a message",)) == ("user", "just a message", None)
    assert normalize_raise((Symbol("my-kind"), "m")) == ("my-kind", "m", None)
    kind, message, data = normalize_raise(("k", lst(1, "a")))  # type: ignore[misc]
    assert (kind, message, data) == ("k", '[1 "a"]', None)
    e = ErrorValue("inner", "x", None)
    assert normalize_raise((e,)) is e
    with pytest.raises(FlError) as info:
        normalize_raise((5, "m"))
    assert info.value.kind == "type-error"


def test_error_raises_user_error() -> None:
    with pytest.raises(FlError) as info:
        call("error", "fatal", lst(1))
    assert (info.value.kind, info.value.message) == ("user", "fatal")
    assert to_pylist(info.value.data) == [1]


class _FakeWorld:
    def __init__(self) -> None:
        self.flushed = 0
        self.args = lst("a", "b")

    def flush(self) -> None:
        self.flushed += 1


def test_exit_flushes_and_raises_program_exit() -> None:
    world = _FakeWorld()
    with pytest.raises(ProgramExit) as info:
        call("exit", world, 3)
    assert info.value.code == 3 and world.flushed == 1
    with pytest.raises(ProgramExit) as info:
        call("exit", world)
    assert info.value.code == 0
    raises("value-error", "exit", world, 256)
    raises("value-error", "exit", world, -1)
    raises("type-error", "exit", world, 1.0)


def test_args_returns_the_world_argument_list() -> None:
    assert to_pylist(call("args", _FakeWorld())) == ["a", "b"]


def test_written_internal_row() -> None:
    assert call("%written", "a\n") == '"a\\n"'


def test_nreverse_relinks_the_cells_of_a_fresh_list() -> None:
    # `%nreverse`: the prelude's reversal of the accumulators it builds (internal row)
    row = lookup("%nreverse")
    assert row is not None and row.internal
    acc = lst(3, 2, 1)
    cells = [acc, acc.tail, acc.tail.tail]
    result = call("%nreverse", acc)
    assert written(result) == "[1 2 3]" and result is cells[2] and cells[0].tail is EMPTY
    assert [result.length, result.tail.length, result.tail.tail.length] == [3, 2, 1]
    tail = lst(4, 5)
    onto = call("%nreverse", lst(2, 1), tail)
    assert written(onto) == "[1 2 4 5]" and onto.length == 4 and onto.tail.tail is tail
    assert call("%nreverse", EMPTY) is EMPTY and call("%nreverse", EMPTY, tail) is tail
    big = call("%nreverse", call("range", BIG))
    assert big.head == BIG - 1 and big.length == BIG and to_pylist(big)[-1] == 0
