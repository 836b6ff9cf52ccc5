"""The VM/native value bridge (runtime/bridge.c, jit/bridge.py; DESIGN.md §3.4).

Every VM value goes to native memory (fl_bridge_decode) and back (fl_bridge_encode), with a full
collection in between, and must come back identical (floats bit for bit, maps in insertion
order); the runtime's printer must write the native value as the VM's printer writes the VM one.

The tests skip while the runtime library does not build or link.
"""

from __future__ import annotations

import ctypes
import math
import struct
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluentai.jit.bridge import Codec, NativeError, Unconvertible
from fluentai.llvm import abi
from fluentai.runtime import build, ffi
from fluentai.symbol import Symbol
from fluentai.vm.maps import FlMap
from fluentai.vm.printer import written as vm_written
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Box,
    Closure,
    Cons,
    CtorInfo,
    ErrorValue,
    from_iter,
    to_pylist,
)

U64 = ctypes.c_uint64
I64 = ctypes.c_int64
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CTORS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Some", "Option", ("a",)),
    ("None", "Option", ()),
    ("Pair", "Pair", ("a", "b")),
    ("Circle", "Shape", ("Float",)),
    ("Leaf", "Tree", ()),
]


class FnDesc(ctypes.Structure):
    _fields_ = [
        ("generic", ctypes.c_void_p),
        ("min_arity", I64),
        ("max_arity", I64),
        ("name", ctypes.c_char_p),
        ("kind", I64),
    ]


class Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", I64), ("cap", I64)]


class FakeCode:
    """Stands for a VM `Code`: closures round-trip to the same one through its descriptor."""

    def __init__(self, name: str) -> None:
        self.name = name


def _load() -> ffi.Runtime:
    try:
        paths = build.ensure_built()
    except build.BuildError as err:
        pytest.skip(f"the runtime library does not build yet: {err}")
    out = subprocess.run(
        ["nm", "-D", "--undefined-only", str(paths.shared)], capture_output=True, text=True
    ).stdout
    missing = sorted({line.split()[-1] for line in out.splitlines() if " fl_" in line})
    if missing:
        pytest.skip("the runtime library does not link yet, missing: " + ", ".join(missing))
    return ffi.load(paths.shared)


class Harness:
    def __init__(self, rt: ffi.Runtime) -> None:
        self.rt = rt
        self.lib = lib = rt.lib
        for name, restype, argtypes in [
            (
                "fl_ctor_register",
                None,
                [I64, ctypes.c_char_p, ctypes.c_char_p, I64, ctypes.c_void_p],
            ),
            ("fl_buf_init", None, [ctypes.POINTER(Buf)]),
            ("fl_written_to", None, [ctypes.POINTER(Buf), U64]),
            ("fl_raise", U64, [ctypes.c_char_p, ctypes.c_char_p]),
            ("fl_raise_value", U64, [U64]),
            ("fl_trace_add", None, [I64]),
            ("fl_list_from", U64, [I64, ctypes.POINTER(U64)]),
            ("GC_gcollect", None, []),
        ]:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        self.ctor_ids: dict[str, int] = {}
        self.ctors: dict[int, CtorInfo] = {}
        self.vm_ctors: dict[str, CtorInfo] = {}
        for i, (name, type_name, fields) in enumerate(CTORS):
            info = CtorInfo(name, type_name, fields)
            self.ctor_ids[name] = i
            self.ctors[i] = info
            self.vm_ctors[name] = info
        self.descs: dict[str, FnDesc] = {}
        self.codes: dict[int, FakeCode] = {}
        self.codec = Codec(
            rt,
            ctor_ids=self.ctor_ids,
            ctors=self.ctors,
            fn_to_native=self.fn_to_native,
            fn_to_vm=self.fn_to_vm,
        )
        self.out = self.codec.roots(1 << 12)

    def register(self) -> None:
        self.rt.begin(None, [], [], 200_000)
        for i, (name, type_name, fields) in enumerate(CTORS):
            texts = (ctypes.c_char_p * max(1, len(fields)))(*[f.encode() for f in fields])
            self.lib.fl_ctor_register(i, name.encode(), type_name.encode(), len(fields), texts)

    def fn_to_native(self, v: Any) -> tuple[int, list[Any]]:
        if type(v) is not Closure:
            raise Unconvertible("only closures in these tests")
        d = self.descs.get(v.code.name)
        if d is None:
            d = self.descs[v.code.name] = FnDesc(None, 0, -1, v.name.encode(), abi.FN_LAMBDA)
            self.codes[ctypes.addressof(d)] = v.code
        return ctypes.addressof(d), list(v.free)

    def fn_to_vm(self, desc: int, kind: int, name: str, free: list[Any]) -> Any:
        assert kind == abi.FN_LAMBDA
        return Closure(self.codes[desc], tuple(free), name)

    def round_trip(self, values: list[Any], *, collect: bool = True) -> list[Any]:
        out = self.out if len(values) <= 1 << 12 else self.codec.roots(len(values))
        self.codec.to_native(values, out)
        if collect:
            self.lib.GC_gcollect()
            garbage = [self.lib.fl_list_from(0, None) for _ in range(10)]  # reuse freed memory
            del garbage
        return [self.codec.to_vm(out[i]) for i in range(len(values))]

    def c_written(self, word: int) -> str:
        b = Buf()
        self.lib.fl_buf_init(ctypes.byref(b))
        self.lib.fl_written_to(ctypes.byref(b), word)
        return ctypes.string_at(b.data, b.len).decode("utf-8")


@pytest.fixture(scope="module")
def runtime() -> ffi.Runtime:
    return _load()


@pytest.fixture(scope="module")
def harness(runtime: ffi.Runtime) -> Harness:
    return Harness(runtime)


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.register()  # other test modules may have registered their own constructors
    yield harness
    harness.lib.fl_bridge_clear_pending()


# ---------------------------------------------------------------------------- comparing


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def identical(a: Any, b: Any) -> bool:
    """Same VM value exactly: types, float bits, map order, constructors (iterative)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        t = type(x)
        if t is float:
            if _bits(x) != _bits(y) and not (math.isnan(x) and math.isnan(y)):
                return False
        elif t is Cons:
            if x.length != y.length:
                return False
            stack.extend(zip(to_pylist(x), to_pylist(y), strict=True))
        elif t is FlMap:
            if len(x) != len(y):
                return False
            for (k1, v1), (k2, v2) in zip(x.items(), y.items(), strict=True):
                stack += [(k1, k2), (v1, v2)]
        elif t is Adt:
            if x.ctor is not y.ctor or len(x.fields) != len(y.fields):
                return False
            stack.extend(zip(x.fields, y.fields, strict=True))
        elif t is ErrorValue:
            stack += [(x.kind, y.kind), (x.message, y.message), (x.data, y.data)]
        elif t is Closure:
            if x.code is not y.code or x.name != y.name or len(x.free) != len(y.free):
                return False
            stack.extend(zip(x.free, y.free, strict=True))
        elif t is Symbol or x is EMPTY or x is None or t is bool:
            if x is not y:
                return False
        elif x != y:
            return False
    return True


# ---------------------------------------------------------------------------- strategies

BIG = [
    s * ((1 << e) + d) for e in (62, 63, 64, 65, 128, 200) for d in (-2, -1, 0, 1) for s in (1, -1)
]
_ints = (
    st.integers(-(1 << 70), 1 << 70)
    | st.sampled_from(BIG)
    | st.integers(-10, 10)
    | st.integers(-(10**400), 10**400)
)
_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308]
)
_texts = st.text(max_size=12) | st.sampled_from(
    ["", "héllo", "straße", "ΣΑΣ", "日本語", "🙂x", "a\x00b"]
)
_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=8,
)
_scalars = (
    _ints | _floats | _texts | _names.map(Symbol) | st.sampled_from([True, False, None, EMPTY])
)
_CODES = [FakeCode("f"), FakeCode("g")]


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(children, min_size=1, max_size=6).map(from_iter)
    keys = _scalars | st.lists(_ints | _texts, max_size=3).map(from_iter)
    maps = st.lists(st.tuples(keys, children), max_size=5).map(FlMap.from_pairs)
    somes = children.map(lambda x: ("Some", (x,)))
    pairs = st.tuples(children, children).map(lambda p: ("Pair", p))
    nones = st.just(("None", ()))
    adts = (somes | pairs | nones).map(lambda spec: _ADT_SPEC(spec))
    errors = st.builds(ErrorValue, _names, _names, children)
    closures = st.builds(
        lambda code, free: Closure(code, tuple(free), code.name),
        st.sampled_from(_CODES),
        st.lists(children, max_size=3),
    )
    return lists | maps | adts | errors | closures


class _AdtSpec:
    """ADT values need the harness's CtorInfo objects: filled in by the fixture."""

    ctors: dict[str, CtorInfo] = {}

    def __call__(self, spec: tuple[str, tuple[Any, ...]]) -> Adt:
        name, fields = spec
        info = self.ctors.setdefault(name, CtorInfo(name, "?", tuple("a" for _ in fields)))
        return info.nullary_value if not fields and info.nullary_value else Adt(info, fields)


_ADT_SPEC = _AdtSpec()
values = st.recursive(_scalars, _extend, max_leaves=40)


@pytest.fixture(autouse=True)
def _shared_ctors(harness: Harness) -> None:
    _ADT_SPEC.ctors = harness.vm_ctors


# ---------------------------------------------------------------------------- round trips


@SETTINGS
@given(st.lists(values, min_size=1, max_size=4))
def test_values_round_trip_through_native_memory(h: Harness, vs: list[Any]) -> None:
    back = h.round_trip(vs)
    for v, w in zip(vs, back, strict=True):
        assert identical(v, w), (vm_written(v), vm_written(w))


@SETTINGS
@given(values)
def test_the_runtime_printer_writes_what_the_vm_writes(h: Harness, v: Any) -> None:
    h.codec.to_native([v], h.out)
    h.lib.GC_gcollect()
    assert h.c_written(h.out[0]) == vm_written(v)


@pytest.mark.parametrize(
    "n", BIG + [0, 1, -1, abi.FIXNUM_MIN, abi.FIXNUM_MAX, 10**1000, -(10**1000)]
)
def test_ints_at_the_fixnum_and_word_edges(h: Harness, n: int) -> None:
    h.codec.to_native([n], h.out)
    word = h.out[0]
    assert (word & 1 == 1) == (abi.FIXNUM_MIN <= n <= abi.FIXNUM_MAX)  # canonical form
    assert h.c_written(word) == str(n)
    (back,) = h.round_trip([n])
    assert type(back) is int and back == n


def test_floats_keep_their_bits(h: Harness) -> None:
    fs = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -1.5, 1e300]
    back = h.round_trip(fs)
    assert [_bits(x) for x in back] == [_bits(x) for x in fs]


def test_strings_symbols_and_immediates(h: Harness) -> None:
    vs = [
        "",
        "héllo wörld",
        "日本語🙂",
        "a\x00b",
        Symbol("λ"),
        Symbol(":key"),
        True,
        False,
        None,
        EMPTY,
    ]
    back = h.round_trip(vs)
    for v, w in zip(vs, back, strict=True):
        assert identical(v, w)
    assert back[4] is Symbol("λ")


def test_maps_keep_insertion_order(h: Harness) -> None:
    m = FlMap.from_pairs([("z", 1), ("a", 2), (3, 3), (Symbol("k"), 4)])
    m = m.dissoc("a").assoc("a", 5).assoc("z", 6)  # "a" moves to the end, "z" stays first
    inner = FlMap.from_pairs(
        [(i, FlMap.from_pairs([(str(i), from_iter([i]))])) for i in range(50, 0, -1)]
    )
    (m2, inner2) = h.round_trip([m, inner])
    assert list(m2.items()) == [("z", 6), (3, 3), (Symbol("k"), 4), ("a", 5)]
    assert identical(inner, inner2)
    big = FlMap.from_pairs((i * 7919 % 10007, i) for i in range(5000))
    (big2,) = h.round_trip([big])
    assert list(big2.items()) == list(big.items())


def test_adts_errors_and_closures(h: Harness) -> None:
    some, pair, none = (h.vm_ctors[n] for n in ("Some", "Pair", "None"))
    adt = Adt(pair, (Adt(some, (1.5,)), none.nullary_value))
    err = ErrorValue("value-error", "bad ✗", from_iter([1, "x"]))
    clo = Closure(_CODES[0], (1, "two", adt), "f")
    back = h.round_trip([adt, err, clo, none.nullary_value])
    assert identical(back[0], adt) and identical(back[1], err) and identical(back[2], clo)
    assert back[3] is none.nullary_value and back[0].fields[1] is none.nullary_value


def test_values_survive_collections_between_decode_and_encode(h: Harness) -> None:
    vs = [from_iter([str(i) * 3, float(i), 10**30 + i]) for i in range(200)]
    h.codec.to_native(vs, h.out)
    for _ in range(3):
        junk = [h.lib.fl_list_from(0, None) for _ in range(1000)]
        del junk
        h.lib.GC_gcollect()
    back = [h.codec.to_vm(h.out[i]) for i in range(len(vs))]
    assert all(identical(v, w) for v, w in zip(vs, back, strict=True))


# ---------------------------------------------------------------------------- size and depth


def test_deep_nesting(h: Harness) -> None:
    depth = 10_000
    lst: Any = from_iter([0])
    m: Any = FlMap.empty()
    adt: Any = h.vm_ctors["None"].nullary_value
    for i in range(depth):
        lst = from_iter([lst, i])
        m = FlMap.from_pairs([("k", m)])
        adt = Adt(h.vm_ctors["Some"], (adt,))
    back = h.round_trip([lst, m, adt])
    assert identical(back[0], lst) and identical(back[1], m) and identical(back[2], adt)


def test_a_list_of_a_million_ints(h: Harness) -> None:
    lst = from_iter(range(-500_000, 500_000))
    start = time.perf_counter()
    (back,) = h.round_trip([lst])
    elapsed = time.perf_counter() - start
    assert back.length == 1_000_000
    assert to_pylist(back) == list(range(-500_000, 500_000))
    assert elapsed < 30, elapsed


def test_shared_structure_stays_shared(h: Harness) -> None:
    x: Any = from_iter([1, 2])
    for _ in range(64):  # 2^64 leaves if it were copied as a tree
        x = from_iter([x, x])
    (back,) = h.round_trip([x])
    assert back.head is back.tail.head
    code = h.codec.encode([x])
    assert len(code) < 64 * 10


# ---------------------------------------------------------------------------- boxes and cycles


def test_a_closure_cycle_through_a_box(h: Harness) -> None:
    lib = h.lib
    d = FnDesc(None, 0, -1, b"loop", abi.FN_LAMBDA)
    h.descs["loop"] = d
    code = FakeCode("loop")
    h.codes[ctypes.addressof(d)] = code
    stream = (U64 * 4)(11, 3, abi.FL_UNBOUND, 0)  # BOX [IMMEDIATE UNBOUND]
    assert lib.fl_bridge_decode(stream, 3, h.out, 1) == 0
    box = h.out[0]
    free = (U64 * 1)(box)
    h.out[1] = lib.fl_bridge_closure(ctypes.addressof(d), 1, free)
    U64.from_address(box + 8).value = h.out[1]  # the box now holds the closure
    lib.GC_gcollect()
    clo = h.codec.to_vm(h.out[1])
    assert type(clo) is Closure and clo.code is code
    assert type(clo.free[0]) is Box and clo.free[0].value is clo


def test_boxes_and_unknown_values_do_not_cross(h: Harness) -> None:
    for bad in [Box(1), from_iter([1, Box(2)]), object(), Adt(CtorInfo("Nope", "N", ("a",)), (1,))]:
        with pytest.raises(Unconvertible):
            h.codec.to_native([bad], h.out)
    with pytest.raises(Unconvertible):
        h.codec.to_native(["\udc80"], h.out)


@pytest.mark.parametrize(
    "stream",
    [
        [],
        [0],
        [99, 1],
        [6, 2, 0, 1],  # a list missing its second element
        [4, 9, 0],  # a string longer than the stream
        [4, 1, 0xFF],  # invalid UTF-8
        [3, 0x46],  # not an immediate
        [8, 1000, 0],  # no such constructor
        [8, 0, 2, 0, 1, 0, 2],  # Some has one field
        [9, 0, 1, 4, 0, 0, 3, 0x26],  # error kind must be a String
        [12, 0],  # a REF to nothing
        [6, 1, 12, 0],  # a REF to an unfinished item
        [0, 1, 0, 2],  # trailing items
    ],
)
def test_malformed_streams_are_rejected(h: Harness, stream: list[int]) -> None:
    code = (U64 * max(1, len(stream)))(*stream)
    assert h.lib.fl_bridge_decode(code, len(stream), h.out, 1) == -1


# ---------------------------------------------------------------------------- pending errors


def test_take_error_returns_the_value_and_kept_trace(h: Harness) -> None:
    lib = h.lib
    site = ctypes.c_int64.in_dll(lib, "fl_rt_site")
    site.value = 100
    assert lib.fl_raise(b"value-error", "bad ✗".encode()) == 0
    for s in range(30):
        lib.fl_trace_add(s)
    err = h.codec.take_error()
    assert isinstance(err, NativeError)
    assert (err.kind, err.message, err.data) == ("value-error", "bad ✗", None)
    assert err.count == 31
    assert err.trace == [100, *range(9), *range(20, 30)]
    assert lib.fl_pending_kind() == abi.PENDING_NONE


def test_take_error_of_a_raised_error_value_and_a_short_trace(h: Harness) -> None:
    lib = h.lib
    ctypes.c_int64.in_dll(lib, "fl_rt_site").value = 5
    h.codec.to_native([ErrorValue("my-error", "m", from_iter([1, 2]))], h.out)
    assert lib.fl_raise_value(h.out[0]) == 0
    lib.fl_trace_add(6)
    lib.fl_trace_add(7)
    err = h.codec.take_error()
    assert isinstance(err, NativeError)
    assert err.kind == "my-error" and to_pylist(err.data) == [1, 2]
    assert err.trace == [5, 6, 7] and err.count == 3


def test_take_error_of_a_fatal_error_is_its_message(h: Harness) -> None:
    assert h.lib.fl_raise(b"internal", b"it broke") == 0
    assert h.codec.take_error() == "it broke"
    assert h.lib.fl_pending_kind() == abi.PENDING_NONE
    with pytest.raises(RuntimeError):
        h.codec.take_error()


def test_depth_accessors(h: Harness) -> None:
    h.lib.fl_bridge_set_depth(42)
    assert h.lib.fl_bridge_get_depth() == 42
    assert ctypes.c_int64.in_dll(h.lib, "fl_rt_depth").value == 42
    h.lib.fl_bridge_set_depth(0)


def test_long_int_lists_with_edges_and_bignums(h: Harness) -> None:
    edges = [abi.FIXNUM_MIN, abi.FIXNUM_MAX, -1, 0, 1, 7, -7, 2**40, -(2**40), 3]
    mixed = [*edges, abi.FIXNUM_MAX + 1, 2**64, 1.5, "x"]
    back = h.round_trip([from_iter(edges), from_iter(mixed)])
    assert to_pylist(back[0]) == edges and identical(back[1], from_iter(mixed))
