"""Long lists across the value bridge: the flat INTLIST and STRLIST items (runtime/bridge.c,
jit/bridge.py). Lists of 8 or more Ints or Strings cross in one piece each way; every other
list keeps the generic LIST form. Both must give back the same values, share what was shared
and keep the compound item numbering that REF items rely on.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluentai.jit import bridge as br
from fluentai.llvm import abi
from fluentai.vm.values import Cons, from_iter, to_pylist
from tests.runtime.test_bridge import SETTINGS, Harness, harness, identical, runtime

__all__ = ["harness", "runtime"]  # test_bridge's fixtures, used here


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.register()
    yield harness
    harness.lib.fl_bridge_clear_pending()


CONTROLS = "".join(chr(c) for c in range(32))


def _native_stream(h: Harness, v: Any) -> list[int]:
    """The word stream native code writes for v (after a trip to native memory)."""
    h.codec.to_native([v], h.out)
    n = ctypes.c_int64()
    address = h.lib.fl_bridge_encode(h.out[0], ctypes.byref(n))
    return list((ctypes.c_uint64 * n.value).from_address(address))


@pytest.mark.parametrize(
    "items",
    [
        [f"{i}," for i in range(1000)],
        ["", "", "", "", "", "", "", ""],
        ["héllo", "日本語", "🙂", "", "a\x00b", "ΣΑΣ", "x" * 100, "\x01\x02"],
        [CONTROLS, "a", "é", "", "b", "c", "d", CONTROLS + "é"],  # every control byte: no separator
        [CONTROLS] * 8,
        list(range(-500, 500)),
        [abi.FIXNUM_MIN, abi.FIXNUM_MAX, -1, 0, 1, 2, 3, 4],
    ],
    ids=["numbers", "empties", "unicode", "no-separator", "controls", "ints", "int-edges"],
)
def test_flat_lists_round_trip(h: Harness, items: list[Any]) -> None:
    lst = from_iter(items)
    (back,) = h.round_trip([lst])
    assert type(back) is Cons and back.length == len(items)
    assert to_pylist(back) == items
    assert all(type(x) is type(y) for x, y in zip(to_pylist(back), items, strict=True))


def test_native_lists_of_ints_and_strings_use_the_flat_items(h: Harness) -> None:
    assert _native_stream(h, from_iter(range(8)))[0] == br.INTLIST
    assert _native_stream(h, from_iter([str(i) for i in range(8)]))[0] == br.STRLIST
    stream = _native_stream(h, from_iter([CONTROLS] * 8))
    assert stream[0] == br.STRLIST and stream[3] == br.NO_SEP
    assert _native_stream(h, from_iter(range(7)))[0] == br.LIST  # short: generic
    assert _native_stream(h, from_iter([*range(8), "x"]))[0] == br.LIST  # mixed: generic
    assert _native_stream(h, from_iter([*range(8), 1 << 70]))[0] == br.LIST  # a bignum


def test_vm_lists_of_ints_and_strings_use_the_flat_items(h: Harness) -> None:
    assert h.codec.encode([from_iter(range(8))])[0] == br.INTLIST
    assert h.codec.encode([from_iter([str(i) for i in range(8)])])[0] == br.STRLIST
    assert h.codec.encode([from_iter(["a\x00"] * 8)])[0] == br.LIST  # a NUL: generic
    assert h.codec.encode([from_iter([True] * 8)])[0] == br.LIST  # bools are no Ints
    with pytest.raises(br.Unconvertible):
        h.codec.encode([from_iter(["\udc80"] * 8)])


def test_flat_lists_keep_sharing_and_numbering(h: Harness) -> None:
    words = from_iter([f"w{i}" for i in range(20)])
    ints = from_iter(range(20))
    nested = from_iter([words, ints, words, from_iter([ints, words]), ints])
    (back,) = h.round_trip([nested])
    assert identical(back, nested)
    xs = to_pylist(back)
    assert xs[0] is xs[2] and xs[1] is xs[4]
    inner = to_pylist(xs[3])
    assert inner[0] is xs[1] and inner[1] is xs[0]


def test_a_long_string_list_decodes_with_the_cyclic_gc_paused_and_restored(h: Harness) -> None:
    items = [f"{i}," for i in range(200_000)]
    assert gc.isenabled()
    (back,) = h.round_trip([from_iter(items)])
    assert gc.isenabled()
    assert to_pylist(back) == items


@pytest.mark.parametrize(
    "stream",
    [
        [14, 3, 1, 2],  # INTLIST missing an element
        [14, 0],  # an empty INTLIST
        [15, 2, 3, 0, 0x636261],  # STRLIST "abc": one piece for two strings
        [15, 1, 1, 0x41, 0x61],  # a separator that is no control byte
        [15, 2, 2, 256, 1, 2, 0x616161],  # lengths beyond the bytes
        [15, 1, 9, 0, 0],  # bytes beyond the stream
        [15, 1, 1, 0, 0xFF],  # invalid UTF-8
    ],
)
def test_malformed_flat_items_are_rejected(h: Harness, stream: list[int]) -> None:
    code = (ctypes.c_uint64 * len(stream))(*stream)
    assert h.lib.fl_bridge_decode(code, len(stream), h.out, 1) == -1


_items = st.lists(
    st.text(max_size=6) | st.sampled_from(["", "\x00", CONTROLS, "é"]), min_size=8, max_size=40
) | st.lists(st.integers(abi.FIXNUM_MIN, abi.FIXNUM_MAX), min_size=8, max_size=40)


@SETTINGS
@given(st.lists(_items, min_size=1, max_size=3))
def test_random_flat_lists_round_trip(h: Harness, lists: list[list[Any]]) -> None:
    vs = [from_iter(items) for items in lists]
    back = h.round_trip(vs)
    for v, w in zip(vs, back, strict=True):
        assert identical(v, w)
