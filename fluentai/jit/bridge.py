"""Values between the VM and native code (DESIGN.md §3.4): one C call per direction.

VM values become one word stream (format in fluentai/runtime/bridge.c) that `fl_bridge_decode`
builds into scanned native memory; a native value comes back as the stream `fl_bridge_encode`
writes, decoded here:

    codec = Codec(rt, ctor_ids=..., ctors=..., fn_to_native=..., fn_to_vm=...)
    out = codec.roots(2)                   # scanned, uncollectable words (fl_alloc_roots)
    codec.to_native([x, y], out)           # out[0], out[1] are native values, rooted by out
    value = codec.to_vm(result_word)       # call at once: encode lets no collection run
    err = codec.take_error()               # after a native call returned 0 with ERROR pending

Shared objects keep their sharing within one call in both directions (a REF item repeats an
earlier object), so DAG-shaped data is not blown up. Native cycles pass only through boxes
(letrec closures), which are created before their contents and patched after.
"""

from __future__ import annotations

import ctypes
import gc
import struct
import weakref
from array import array
from collections.abc import Callable, Sequence
from typing import Any, Final

from fluentai.records import record
from fluentai.runtime.ffi import from_c_text
from fluentai.symbol import Symbol
from fluentai.vm.compile import UNBOUND
from fluentai.vm.maps import FlMap
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Box,
    Builtin,
    Closure,
    Cons,
    Constructor,
    EffectFn,
    ErrorValue,
)

__all__ = ["Boxed", "Codec", "FnPairs", "NativeError", "Twin", "TwinBox", "Unconvertible"]

# Item tags of the word stream (bridge.c).
FIXNUM: Final = 0
BIGNUM: Final = 1
FLOAT: Final = 2
IMMEDIATE: Final = 3
STRING: Final = 4
SYMBOL: Final = 5
LIST: Final = 6
MAP: Final = 7
ADT: Final = 8
ERROR: Final = 9
FUNCTION: Final = 10
BOX: Final = 11
REF: Final = 12
WORD: Final = 13
INTLIST: Final = 14
STRLIST: Final = 15
NO_SEP: Final = 256  # STRLIST without a separator: the lengths come first
FLAT_MIN: Final = 8  # lists this long or longer of Ints or Strings cross as INTLIST, STRLIST
# Streams longer than this (words) are decoded with Python's cyclic GC paused: building a
# million Cons cells otherwise triggers collections that traverse all of them again and again.
_GC_PAUSE_WORDS: Final = 1 << 14


class Boxed:
    """A captured variable the VM keeps in a Box that is never assigned (a binding group's
    variable): crosses as a fresh BOX around its value."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class TwinBox(Box):
    """A VM Box whose variable native code shares: since its first crossing (the JIT's
    `_box_to_native`), its value lives in a native box, the cell, which the VM reads and writes
    through `twin` (a Twin). Both sides then see one variable: a `while` loop that assigns a
    variable a closure captures can finish natively, and a closure over it can be called there
    (docs/decisions.md, "Tiered JIT" 26). The JIT makes it a plain Box again when its unit goes
    (`Jit._untwin`)."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        return self.twin.read()

    @value.setter
    def value(self, v: Any) -> None:
        try:
            self.twin.write(v)
        except Unconvertible as exc:
            # a value native code cannot hold: the JIT takes every shared variable back (this
            # one becomes a plain Box) and native code stops
            self.twin.owner.give_up_twins(f"a shared variable was assigned {exc}")
            self.value = v


class Twin:
    """The native side of a TwinBox: the cell's address (a native BOX object: header, value),
    the roots that keep it alive (`root[0]`) and the native value last read or written
    (`root[1]`, so that no other object can get its address), and that value in the VM with its
    native word, so that reading an unchanged cell converts nothing."""

    __slots__ = ("cell", "root", "owner", "word", "cached", "tmp")

    def __init__(self, cell: int, root: Any, owner: Any, value: Any) -> None:
        self.cell = cell
        self.root = root
        self.owner = owner  # the JIT: its `codec` (the installed unit's) and `give_up_twins`
        self.word = ctypes.c_uint64.from_address(cell + 8).value
        root[1] = self.word
        self.cached = value
        self.tmp: Any = None

    def read(self) -> Any:
        word = ctypes.c_uint64.from_address(self.cell + 8).value
        if word != self.word:  # native code assigned it
            self.cached = self.owner.codec.to_vm(word)
            self.word = word
            self.root[1] = word
        return self.cached

    def write(self, v: Any) -> None:
        codec = self.owner.codec
        if self.tmp is None:
            self.tmp = codec.roots(1)
        codec.to_native([v], self.tmp)  # Unconvertible: the JIT takes the variable back
        word = int(self.tmp[0])
        ctypes.c_uint64.from_address(self.cell + 8).value = word
        self.root[1] = word
        self.tmp[0] = 0
        self.word = word
        self.cached = v


class NativeWord:
    """A native value already made (kept alive by whoever made this): crosses as it is."""

    __slots__ = ("word",)

    def __init__(self, word: int) -> None:
        self.word = word


FL_FALSE: Final = 0x06
FL_TRUE: Final = 0x0E
FL_EMPTY: Final = 0x16
FL_UNBOUND: Final = 0x1E
FL_NIL: Final = 0x26
FIXNUM_MIN: Final = -(1 << 62)
FIXNUM_MAX: Final = (1 << 62) - 1
MASK64: Final = (1 << 64) - 1
SIGN64: Final = 1 << 63
TRACE_KEEP: Final = 10  # FL_TRACE_KEEP (fl_ctl.h)

_FLOAT_BITS: Final = struct.Struct("<d")
_U64: Final = struct.Struct("<Q")
_IMMEDIATES: Final[dict[int, Any]] = {
    FL_TRUE: True,
    FL_FALSE: False,
    FL_NIL: None,
    FL_EMPTY: EMPTY,
    FL_UNBOUND: UNBOUND,
}
_FUNCTION_TYPES: Final = (Closure, Builtin, Constructor, EffectFn)


class Unconvertible(Exception):
    """A VM value that cannot cross to native code (a Box, an unknown type or constructor)."""


@record(frozen=False, slots=False)
class NativeError:
    """An error native code left pending: its value and its trace (site ids, innermost first:
    all of them, or the innermost and outermost TRACE_KEEP when `count` is larger)."""

    kind: str
    message: str
    data: Any
    value: ErrorValue
    trace: list[int]
    count: int


class _FnDesc(ctypes.Structure):
    """fl_fndesc (fl_runtime.h)."""

    _fields_ = [
        ("generic", ctypes.c_void_p),
        ("min_arity", ctypes.c_int64),
        ("max_arity", ctypes.c_int64),
        ("name", ctypes.c_char_p),
        ("kind", ctypes.c_int64),
    ]


class _Forward:
    """A REF to an item not finished yet (a cycle through a box)."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


_UNFINISHED: Final = object()


def _packed(data: bytes) -> array[int]:
    """bytes as little-endian words, zero-padded."""
    words = array("Q")
    words.frombytes(data + b"\0" * (-len(data) % 8))
    return words


def _list_of(items: list[Any]) -> Any:
    """The VM List of items (in order)."""
    value = EMPTY
    for x in reversed(items):
        value = Cons(x, value)
    return value


def _strlist_items(raw: bytes, w: array[int], i: int) -> tuple[list[str], int]:
    """The strings of the STRLIST item at w[i] (its tag) and the index after it."""
    count, nbytes, sep = w[i + 1], w[i + 2], w[i + 3]
    at = i + 4
    if sep == NO_SEP:
        lens = w[at : at + count]
        at += count
    start = 8 * at
    block = raw[start : start + nbytes]
    end = at + ((nbytes + 7) >> 3)
    if sep != NO_SEP:
        items = block.decode("utf-8").split(chr(sep))
        if len(items) != count:
            raise ValueError("a STRLIST whose separator occurs in its strings")
        return items, end
    text = block.decode("utf-8")
    items = []
    add = items.append
    pos = 0
    if len(text) == nbytes:  # ASCII: code points are bytes
        for n in lens:
            add(text[pos : pos + n])
            pos += n
    else:
        for n in lens:
            add(block[pos : pos + n].decode("utf-8"))
            pos += n
    return items, end


def _flat_list(items: list[Any]) -> array[int] | None:
    """The INTLIST or STRLIST item of a list of Ints in fixnum range or of Strings (joined by
    NUL), or None for another list, a String holding a NUL or one that is not valid Unicode
    (the generic path handles those, and raises for the last)."""
    kinds = set(map(type, items))
    if kinds == {int}:
        if not (FIXNUM_MIN <= min(items) and max(items) <= FIXNUM_MAX):
            return None
        item = array("Q", (INTLIST, len(items)))
        item.frombytes(array("q", items).tobytes())
        return item
    if kinds != {str}:
        return None
    text = "\0".join(items)
    if text.count("\0") != len(items) - 1:
        return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    item = array("Q", (STRLIST, len(items), len(data), 0))
    item.frombytes(data + b"\0" * (-len(data) % 8))
    return item


class FnPairs:
    """The identity of functions across the bridge (LANGUAGE.md §4: a function equals only
    itself). A VM closure that crossed to native code is paired with the native closure made
    for it, and a native closure that came back with the VM closure made for it: crossing again,
    either way, gives the same function, so a function kept in a map by native code is found
    by the VM, and the other way round. The native closure of a pair is pinned (a scanned,
    uncollectable slot), so its address names it while the VM closure lives; when the VM closure
    dies, a weak reference's callback forgets the pair and frees the slot. A new unit forgets
    every pair (`clear`): its native values are made afresh from the VM's."""

    PAGE: Final = 1024

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        # id(VM closure) -> (its weak reference, native word, slot); native word -> the reference
        self.native_of: dict[int, tuple[weakref.ref[Any], int, int]] = {}
        self.vm_of: dict[int, weakref.ref[Any]] = {}
        self._pages: list[Any] = []
        self._free: list[int] = []
        self._generation = 0

    def __len__(self) -> int:
        return len(self.native_of)

    def native(self, v: Any) -> int | None:
        """The native closure paired with the VM closure `v`, or None."""
        pair = self.native_of.get(id(v))
        if pair is not None and pair[0]() is v:
            return pair[1]
        return None

    def vm(self, word: int) -> Any:
        """The VM closure paired with the native closure `word`, or None."""
        ref = self.vm_of.get(word)
        return ref() if ref is not None else None

    def pair(self, v: Any, word: int) -> None:
        if self.native(v) is not None or self.vm(word) is not None:
            return
        if not self._free:
            page = ctypes.cast(
                self.lib.fl_bridge_pin_page(self.PAGE), ctypes.POINTER(ctypes.c_uint64)
            )
            base = len(self._pages) * self.PAGE
            self._pages.append(page)
            self._free.extend(range(base + self.PAGE - 1, base - 1, -1))
        slot = self._free.pop()
        self._pin(slot, word)
        key, generation = id(v), self._generation

        def dead(ref: weakref.ref[Any]) -> None:
            if generation != self._generation:
                return  # forgotten by `clear`, the slot with it
            if self.native_of.get(key, (None,))[0] is ref:
                del self.native_of[key]
            if self.vm_of.get(word) is ref:
                del self.vm_of[word]
            self._pin(slot, 0)
            self._free.append(slot)

        ref = weakref.ref(v, dead)
        self.native_of[key] = (ref, word, slot)
        self.vm_of[word] = ref

    def _pin(self, slot: int, word: int) -> None:
        """Root `word` in `slot` (0 unpins)."""
        self._pages[slot // self.PAGE][slot % self.PAGE] = word

    def clear(self) -> None:
        """Forget every pair (a new unit is installed) and unpin their native closures."""
        self._generation += 1
        for _ref, _word, slot in self.native_of.values():
            self._pin(slot, 0)
        self.native_of.clear()
        self.vm_of.clear()
        self._free = list(range(len(self._pages) * self.PAGE - 1, -1, -1))


class Codec:
    """Converts values between the VM and the runtime `rt` (an ffi.Runtime)."""

    def __init__(
        self,
        rt: Any,
        *,
        ctor_ids: dict[str, int],
        ctors: dict[int, Any],
        fn_to_native: Callable[[Any], tuple[int, list[Any]]],
        fn_to_vm: Callable[[int, int, str, list[Any]], Any],
        box_to_native: Callable[[Box], int] | None = None,
        box_of: Callable[[int], Box | None] | None = None,
    ) -> None:
        self.rt = rt
        self.box_to_native = box_to_native  # a shared variable's cell (TwinBox)
        self.box_of = box_of  # the TwinBox of a cell, if it has one
        self.lib = rt.lib
        self.ctor_ids = ctor_ids
        self.ctors = ctors
        self.fn_to_native = fn_to_native
        self.fn_to_vm = fn_to_vm
        self._descs: dict[int, tuple[int, str]] = {}
        self._n = ctypes.c_int64()
        self._trace = (ctypes.c_int64 * (2 * TRACE_KEEP))()
        self._count = ctypes.c_int64()
        self.boxed = False  # the stream being encoded has a BOX item
        self.pairs = FnPairs(self.lib)
        self._fresh: list[tuple[int, Any]] = []  # (item number, VM closure) of FUNCTION items

    # ---------------------------------------------------------------- VM -> native

    def roots(self, n: int) -> Any:
        """n scanned, uncollectable words (never freed) as a ctypes POINTER(c_uint64)."""
        address = self.lib.fl_alloc_roots(max(1, n))
        return ctypes.cast(address, ctypes.POINTER(ctypes.c_uint64))

    def encode(self, values: Sequence[Any]) -> array[int]:
        """The word stream of `values` (what to_native hands to fl_bridge_decode)."""
        out = array("Q")  # the stream so far, then `words`
        words: list[int] = []
        put = words.append
        extend = words.extend
        memo: dict[int, int] = {}
        pairs = self.pairs
        fresh = self._fresh
        fresh.clear()
        stack: list[Any] = list(values)
        stack.reverse()
        pop = stack.pop
        push = stack.append
        ctor_ids = self.ctor_ids
        while stack:
            v = pop()
            t = type(v)
            if t is int:
                if FIXNUM_MIN <= v <= FIXNUM_MAX:
                    put(FIXNUM)
                    put(v & MASK64)
                else:
                    mag = -v if v < 0 else v
                    nl = (mag.bit_length() + 63) >> 6
                    put(BIGNUM)
                    put((-nl) & MASK64 if v < 0 else nl)
                    limbs = array("Q")
                    limbs.frombytes(mag.to_bytes(nl * 8, "little"))
                    extend(limbs)
            elif t is str:
                try:
                    data = v.encode("utf-8")
                except UnicodeEncodeError as err:
                    raise Unconvertible(f"a String that is not valid Unicode: {v!r}") from err
                put(STRING)
                put(len(data))
                extend(_packed(data))
            elif t is float:
                put(FLOAT)
                put(_U64.unpack(_FLOAT_BITS.pack(v))[0])
            elif v is None:
                put(IMMEDIATE)
                put(FL_NIL)
            elif t is bool:
                put(IMMEDIATE)
                put(FL_TRUE if v else FL_FALSE)
            elif v is EMPTY:
                put(IMMEDIATE)
                put(FL_EMPTY)
            elif t is Symbol:
                data = v.name.encode("utf-8", "surrogatepass")
                put(SYMBOL)
                put(len(data))
                extend(_packed(data))
            elif t is Cons or t is FlMap or t is ErrorValue or t is Adt or t in _FUNCTION_TYPES:
                if t is Closure:
                    word = pairs.native(v)
                    if word is not None:
                        put(WORD)
                        put(word)
                        continue
                if t is Adt and not v.fields:
                    ctor_id = ctor_ids.get(v.ctor.name)
                    if ctor_id is None:
                        raise Unconvertible(f"no native constructor `{v.ctor.name}`")
                    put(ADT)
                    put(ctor_id)
                    put(0)
                    continue
                key = id(v)
                index = memo.get(key)
                if index is not None:
                    put(REF)
                    put(index)
                    continue
                memo[key] = len(memo)
                if t is Cons:
                    put(LIST)
                    put(v.length)
                    items: list[Any] = list(v)  # Cons.__iter__: faster than a loop here
                    if len(items) >= FLAT_MIN:
                        flat_item = _flat_list(items)
                        if flat_item is not None:
                            del words[-2:]  # LIST n
                            out.extend(words)
                            words.clear()
                            out.extend(flat_item)
                            continue
                    items.reverse()
                    stack.extend(items)
                elif t is FlMap:
                    put(MAP)
                    put(len(v))
                    flat: list[Any] = []
                    for key_, value in v.items():
                        flat.append(key_)
                        flat.append(value)
                    flat.reverse()
                    stack.extend(flat)
                elif t is Adt:
                    ctor_id = ctor_ids.get(v.ctor.name)
                    if ctor_id is None:
                        raise Unconvertible(f"no native constructor `{v.ctor.name}`")
                    put(ADT)
                    put(ctor_id)
                    put(len(v.fields))
                    stack.extend(reversed(v.fields))
                elif t is ErrorValue:
                    if type(v.kind) is not str or type(v.message) is not str:
                        raise Unconvertible("an error value whose kind or message is no String")
                    put(ERROR)
                    push(v.data)
                    push(v.message)
                    push(v.kind)
                else:
                    desc, free = self.fn_to_native(v)
                    if t is Closure:
                        fresh.append((memo[key], v))
                    put(FUNCTION)
                    put(desc)
                    put(len(free))
                    stack.extend(reversed(free))
            elif v is UNBOUND:
                put(IMMEDIATE)
                put(FL_UNBOUND)
            elif t is NativeWord:
                put(WORD)
                put(v.word)
            elif t is Boxed:
                memo[-1 - len(memo)] = len(memo)  # a compound item: numbered, never repeated
                put(BOX)
                push(v.value)
                self.boxed = True
            elif t is TwinBox or t is Box:
                if self.box_to_native is None:
                    raise Unconvertible("a Box cannot cross to native code")
                put(WORD)
                put(self.box_to_native(v))
            else:
                raise Unconvertible(f"no native value for {t.__name__}")
        out.extend(words)
        return out

    def to_native(self, values: Sequence[Any], out: Any) -> None:
        """Fill out[0..len(values)) (scanned memory, e.g. from `roots`) with native values."""
        self.boxed = False
        code = self.encode(values)
        n = len(code)
        buf = (ctypes.c_uint64 * max(1, n)).from_buffer(code) if n else None
        status = self.lib.fl_bridge_decode(buf, n, out, len(values))
        if status != 0:
            if self.boxed:  # a cycle through a box: decode takes no REF to an unfinished item
                raise Unconvertible("functions that refer to each other through a box")
            raise RuntimeError("fl_bridge_decode rejected the stream (a bridge bug)")
        if self._fresh:
            decoded = self.lib.fl_bridge_decoded
            for index, v in self._fresh:
                self.pairs.pair(v, decoded(index))
            self._fresh.clear()

    # ---------------------------------------------------------------- native -> VM

    def _desc(self, address: int) -> tuple[int, str]:
        info = self._descs.get(address)
        if info is None:
            d = _FnDesc.from_address(address)
            name = from_c_text(d.name) if d.name is not None else "lambda"
            info = self._descs[address] = (int(d.kind), name)
        return info

    def to_vm(self, word: int) -> Any:
        """The VM value of a native value word. Call it before anything allocates: the word
        may be rooted nowhere else."""
        n = self._n
        address = self.lib.fl_bridge_encode(word, ctypes.byref(n))
        count = n.value
        if count < 0 or not address:
            raise ValueError(f"not a native value: {word:#x}")
        raw = ctypes.string_at(address, 8 * count)
        return self.decode(raw)

    def decode(self, raw: bytes) -> Any:
        """The VM value of one item of a word stream (bytes, little-endian words)."""
        if len(raw) < 8 * _GC_PAUSE_WORDS or not gc.isenabled():
            return self._decode(raw)
        gc.disable()
        try:
            return self._decode(raw)
        finally:
            gc.enable()

    def _decode(self, raw: bytes) -> Any:
        # The words, read where needed: converting them all to a list would make an int of
        # every word of a STRLIST's bytes.
        w = array("Q")
        w.frombytes(raw)
        n = len(w)
        vals: list[Any] = []
        push = vals.append
        # frames: [tag, need, base, memo index, extra]
        frames: list[list[Any]] = []
        memo: list[Any] = []
        fixups: list[tuple[Box, int]] = []
        forwards = 0
        i = 0
        while True:
            while frames and len(vals) - frames[-1][2] == frames[-1][1]:
                tag, need, base, index, extra = frames.pop()
                items = vals[base:]
                del vals[base:]
                if tag == BOX:
                    item = items[0]
                    if type(item) is _Forward:
                        if type(extra) is not TwinBox:
                            fixups.append((extra, item.index))
                        forwards -= 1
                    elif type(extra) is not TwinBox:
                        extra.value = item
                    value = extra
                else:
                    if forwards and any(type(x) is _Forward for x in items):
                        raise ValueError("a cyclic native value whose cycle has no box")
                    if tag == LIST:
                        value = EMPTY
                        for x in reversed(items):
                            value = Cons(x, value)
                    elif tag == MAP:
                        value = FlMap.from_pairs(zip(items[0::2], items[1::2], strict=True))
                    elif tag == ADT:
                        value = Adt(extra, tuple(items))
                    elif tag == ERROR:
                        value = ErrorValue(items[0], items[1], items[2])
                    else:
                        desc, word = extra
                        value = self.pairs.vm(word)
                        if value is None:
                            kind, name = self._desc(desc)
                            value = self.fn_to_vm(desc, kind, name, items)
                            if type(value) is Closure:
                                self.pairs.pair(value, word)
                memo[index] = value
                push(value)
            if not frames and vals:
                break
            if i >= n:
                raise ValueError("a truncated native value stream")
            tag = w[i]
            a = w[i + 1] if i + 1 < n else 0
            if tag == FIXNUM:
                push(a - (1 << 64) if a & SIGN64 else a)
                i += 2
            elif tag == STRING:
                start = 8 * (i + 2)
                push(raw[start : start + a].decode("utf-8"))
                i += 2 + ((a + 7) >> 3)
            elif tag == IMMEDIATE:
                try:
                    push(_IMMEDIATES[a])
                except KeyError:
                    raise ValueError(f"an unknown immediate {a:#x}") from None
                i += 2
            elif tag == STRLIST:
                strs, i = _strlist_items(raw, w, i)
                value = _list_of(strs)
                memo.append(value)
                push(value)
            elif tag == INTLIST:
                if i + 2 + a > n:
                    raise ValueError("a truncated native value stream")
                ints = array("q")
                ints.frombytes(raw[8 * (i + 2) : 8 * (i + 2 + a)])
                value = _list_of(ints.tolist())
                memo.append(value)
                push(value)
                i += 2 + a
            elif tag == LIST:
                frames.append([LIST, a, len(vals), len(memo), None])
                memo.append(_UNFINISHED)
                i += 2
            elif tag == FLOAT:
                push(_FLOAT_BITS.unpack_from(raw, 8 * (i + 1))[0])
                i += 2
            elif tag == BIGNUM:
                size = a - (1 << 64) if a & SIGN64 else a
                nl = -size if size < 0 else size
                start = 8 * (i + 2)
                mag = int.from_bytes(raw[start : start + 8 * nl], "little")
                push(-mag if size < 0 else mag)
                i += 2 + nl
            elif tag == SYMBOL:
                start = 8 * (i + 2)
                push(Symbol(raw[start : start + a].decode("utf-8")))
                i += 2 + ((a + 7) >> 3)
            elif tag == MAP:
                frames.append([MAP, 2 * a, len(vals), len(memo), None])
                memo.append(_UNFINISHED)
                i += 2
            elif tag == ADT:
                ctor = self.ctors.get(a)
                if ctor is None:
                    raise ValueError(f"an unknown constructor id {a}")
                nfields = w[i + 2]
                i += 3
                if nfields == 0:
                    push(ctor.nullary_value)
                else:
                    frames.append([ADT, nfields, len(vals), len(memo), ctor])
                    memo.append(_UNFINISHED)
            elif tag == ERROR:
                frames.append([ERROR, 3, len(vals), len(memo), None])
                memo.append(_UNFINISHED)
                i += 1
            elif tag == FUNCTION:
                frames.append([FUNCTION, w[i + 3], len(vals), len(memo), (a, w[i + 2])])
                memo.append(_UNFINISHED)
                i += 4
            elif tag == BOX:
                cell = w[i + 1]
                twin = self.box_of(cell) if self.box_of is not None else None
                if twin is None:
                    box = Box(None)
                    box.twin = cell  # its native box, should the JIT share it (TwinBox)
                else:
                    box = twin  # shared already: its value is the cell's
                frames.append([BOX, 1, len(vals), len(memo), box])
                memo.append(box)  # a box exists before its contents: cycles end here
                i += 2
            elif tag == REF:
                target = memo[a]
                if target is _UNFINISHED:
                    push(_Forward(a))
                    forwards += 1
                else:
                    push(target)
                i += 2
            else:
                raise ValueError(f"an unknown item tag {tag}")
        for box, index in fixups:
            if type(box) is not TwinBox:  # a shared one's value is its native box's
                box.value = memo[index]
        return vals[0]

    # ---------------------------------------------------------------- errors

    def take_error(self) -> NativeError | str:
        """The pending error as a NativeError, or a fatal error's message; clears the pending
        state and the handler stack. Raises RuntimeError when no error is pending."""
        lib = self.lib
        word = lib.fl_bridge_pending_error(self._trace, len(self._trace), ctypes.byref(self._count))
        if word == 0:
            fatal = lib.fl_bridge_pending_fatal()
            if fatal is None:
                raise RuntimeError(f"no error is pending (pending kind {lib.fl_pending_kind()})")
            lib.fl_bridge_clear_pending()
            return str(fatal.decode("utf-8", "replace"))
        value = self.to_vm(word)  # rooted by the pending record until it is cleared
        count = self._count.value
        trace = list(self._trace[: min(count, len(self._trace))])
        lib.fl_bridge_clear_pending()
        return NativeError(value.kind, value.message, value.data, value, trace, count)
