"""FlMap and the Map builtins (LANGUAGE.md §9): order, `=` on keys, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluentai.errors import FlError
from fluentai.primitives import lookup
from fluentai.symbol import Symbol
from fluentai.vm.equality import equal
from fluentai.vm.maps import FlMap, normalize_key
from fluentai.vm.printer import written
from fluentai.vm.values import EMPTY, Adt, Closure, Cons, CtorInfo, ErrorValue, from_iter, to_pylist


def call(name: str, *args: object) -> Any:
    row = lookup(name)
    assert row is not None and row.vm is not None
    return row.vm(*args)


def m(*kvs: object) -> FlMap:
    return call("%map-literal", *kvs)  # type: ignore[no-any-return]


def test_insertion_order_is_kept_by_keys_values_items() -> None:
    fm = FlMap.from_pairs([("b", 1), ("a", 2), ("c", 3)])
    assert list(fm.keys()) == ["b", "a", "c"]
    assert list(fm.values()) == [1, 2, 3]
    assert list(fm.items()) == [("b", 1), ("a", 2), ("c", 3)]


def test_assoc_of_existing_key_keeps_position_and_original_key() -> None:
    fm = FlMap.from_pairs([(1, "int"), ("x", 0)]).assoc(1.0, "float")
    assert list(fm.items()) == [(1, "float"), ("x", 0)]
    assert type(next(fm.keys())) is int


def test_dissoc_then_assoc_moves_key_to_end() -> None:
    fm = FlMap.from_pairs([("a", 1), ("b", 2)]).dissoc("a").assoc("a", 3)
    assert list(fm.items()) == [("b", 2), ("a", 3)]


def test_from_pairs_duplicate_keeps_first_position_and_later_value() -> None:
    fm = FlMap.from_pairs([("a", 1), ("b", 2), ("a", 3)])
    assert list(fm.items()) == [("a", 3), ("b", 2)]
    assert written(m(1, "int", 1.0, "float")) == '{1 "float"}'


def test_maps_are_persistent() -> None:
    base = FlMap.from_pairs([("a", 1)])
    changed = base.assoc("a", 2).assoc("b", 3)
    assert list(base.items()) == [("a", 1)]
    assert list(changed.items()) == [("a", 2), ("b", 3)]
    assert base.dissoc("zzz") is base


def test_numeric_keys_compare_by_value() -> None:
    fm = FlMap.empty().assoc(1, "one").assoc(0.0, "zero")
    assert fm.lookup(1.0) == "one"
    assert fm.lookup(-0.0) == "zero"
    assert fm.lookup(0) == "zero"
    assert len(fm) == 2
    assert FlMap.empty().assoc(2**53 + 1, "exact").lookup(float(2**53)) is None


def test_nan_key_is_never_found_and_each_insert_is_new() -> None:
    nan = float("nan")
    fm = FlMap.empty().assoc(nan, 1).assoc(nan, 2)
    assert len(fm) == 2
    assert not fm.has(nan)
    assert fm.lookup(nan, "missing") == "missing"
    assert len(fm.dissoc(nan)) == 2
    assert not FlMap.empty().assoc(from_iter([nan]), 1).has(from_iter([nan]))


def test_bool_is_not_int_and_string_is_not_symbol() -> None:
    fm = FlMap.empty().assoc(True, "t").assoc(1, "one").assoc("a", "s").assoc(Symbol("a"), "sym")
    assert len(fm) == 4
    assert fm.lookup(True) == "t"
    assert fm.lookup(1) == "one"
    assert fm.lookup(Symbol("a")) == "sym"
    assert fm.lookup("a") == "s"
    assert FlMap.empty().assoc(None, 1).lookup(EMPTY) is None


def test_structured_keys_compare_structurally() -> None:
    ctor = CtorInfo("Some", "Option", (None,))
    fm = (
        FlMap.empty()
        .assoc(from_iter([1, from_iter([2, "x"])]), "list")
        .assoc(Adt(ctor, (1,)), "adt")
        .assoc(ErrorValue("k", "m", from_iter([1])), "err")
        .assoc(FlMap.from_pairs([("a", 1), ("b", 2)]), "map")
    )
    assert fm.lookup(from_iter([1.0, from_iter([2, "x"])])) == "list"
    assert fm.lookup(from_iter([1, from_iter([2])])) is None
    assert fm.lookup(Adt(ctor, (1.0,))) == "adt"
    assert fm.lookup(Adt(CtorInfo("Some", "Option", (None,)), (1,))) is None
    assert fm.lookup(ErrorValue("k", "m", from_iter([1]))) == "err"
    assert fm.lookup(FlMap.from_pairs([("b", 2), ("a", 1)])) == "map"
    assert fm.lookup(FlMap.from_pairs([("b", 2)])) is None


def test_list_keys_do_not_confuse_nesting() -> None:
    flat = from_iter([1, 2])
    nested = from_iter([from_iter([1, 2])])
    pair = from_iter([from_iter([1]), 2])
    fm = FlMap.empty().assoc(flat, "flat").assoc(nested, "nested").assoc(pair, "pair")
    assert len(fm) == 3
    assert fm.lookup(EMPTY) is None
    assert FlMap.empty().assoc(EMPTY, 0).lookup(EMPTY) == 0


def test_functions_are_keys_by_identity() -> None:
    f = Closure(None, (), "f")
    g = Closure(None, (), "f")
    fm = FlMap.empty().assoc(f, 1)
    assert fm.has(f)
    assert not fm.has(g)


def test_long_and_deep_list_keys_do_not_recurse() -> None:
    long = from_iter(range(1_000_000))
    fm = FlMap.empty().assoc(long, "long")
    assert fm.lookup(from_iter(range(1_000_000))) == "long"
    deep: Any = EMPTY
    for _ in range(20_000):
        deep = Cons(deep, EMPTY)
    deep2: Any = EMPTY
    for _ in range(20_000):
        deep2 = Cons(deep2, EMPTY)
    assert FlMap.empty().assoc(deep, 1).lookup(deep2) == 1


scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, True, False, None, "a", "b"]),
    st.sampled_from([Symbol("a"), Symbol(":k")]),
)
keys = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3).map(from_iter), max_leaves=8)


@given(keys, keys)
def test_normalized_keys_agree_with_equal(a: object, b: object) -> None:
    assert (normalize_key(a) == normalize_key(b)) == equal(a, b)
    if equal(a, b):
        assert hash(normalize_key(a)) == hash(normalize_key(b))


@given(st.lists(st.tuples(keys, st.integers()), max_size=20))
def test_from_pairs_matches_a_model(pairs: list[tuple[object, int]]) -> None:
    model: list[list[object]] = []
    for k, v in pairs:
        for entry in model:
            if equal(entry[0], k):
                entry[1] = v
                break
        else:
            model.append([k, v])
    fm = FlMap.from_pairs(pairs)
    assert len(fm) == len(model)
    assert [v for _, v in fm.items()] == [v for _, v in model]
    assert all(equal(a, b) for a, (b, _) in zip(fm.keys(), model, strict=True))


# The builtins


def test_get_fetch_has_size() -> None:
    fm = m("a", 1, "b", 2)
    assert call("get", fm, "a") == 1
    assert call("get", fm, "z") is None
    assert call("get", fm, "z", 0) == 0
    assert call("has?", fm, "b") is True
    assert call("has?", fm, "z") is False
    assert call("size", fm) == 2
    assert call("fetch", fm, "b") == 2


def test_fetch_missing_key_raises_key_error_with_written_key() -> None:
    with pytest.raises(FlError) as info:
        call("fetch", m("a", 1), "z")
    assert info.value.kind == "key-error"
    assert info.value.message == '`fetch`: key "z" not found'


def test_assoc_dissoc_merge_follow_the_spec_example() -> None:
    fm = m("a", 1, "b", 2)
    assert written(call("assoc", fm, "c", 3)) == '{"a" 1 "b" 2 "c" 3}'
    assert written(call("assoc", fm, "a", 10, "d", 4)) == '{"a" 10 "b" 2 "d" 4}'
    assert written(call("set", fm, "e", 5)) == '{"a" 1 "b" 2 "e" 5}'
    assert written(call("dissoc", fm, "a")) == '{"b" 2}'
    assert written(call("dissoc", fm, "a", "b", "zz")) == "{}"
    assert written(fm) == '{"a" 1 "b" 2}'
    assert written(call("merge", fm, m("b", 20, "c", 30))) == '{"a" 1 "b" 20 "c" 30}'
    assert written(call("merge")) == "{}"
    assert written(call("merge", m(), m("x", 1), m("y", 2, "x", 3))) == '{"x" 3 "y" 2}'


def test_keys_values_items_are_lists() -> None:
    fm = m("a", 1, "b", 2)
    assert to_pylist(call("keys", fm)) == ["a", "b"]
    assert to_pylist(call("values", fm)) == [1, 2]
    assert written(call("items", fm)) == '[["a" 1] ["b" 2]]'
    assert call("keys", m()) is EMPTY


def test_assoc_arity_rule_is_odd_and_at_least_three() -> None:
    row = lookup("assoc")
    assert row is not None and row.arity_ok is not None
    assert [n for n in range(8) if row.arity_ok(n)] == [3, 5, 7]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("get", (None, "a")),
        ("fetch", (EMPTY, "a")),
        ("assoc", (5, "a", 1)),
        ("dissoc", ("m", "a")),
        ("has?", (None, 1)),
        ("keys", (EMPTY,)),
        ("values", (1,)),
        ("items", (None,)),
        ("size", ("ab",)),
        ("merge", (m(), None)),
    ],
)
def test_non_map_argument_raises_type_error(name: str, args: tuple[object, ...]) -> None:
    with pytest.raises(FlError) as info:
        call(name, *args)
    assert info.value.kind == "type-error"
    assert info.value.message.startswith(f"`{name}` expects a Map, got ")
