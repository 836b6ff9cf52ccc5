"""FlMap: the VM's immutable, insertion-ordered Map (LANGUAGE.md §9, DESIGN.md §3.3).

A stamped HAMT: `immutables.Map` from a normalized key to an entry (stamp, original key, value),
plus the next stamp. Iteration sorts the entries by stamp, so order never depends on hashing:

    {"a" 1 "b" 2} --assoc "a" 10--> {"a" 10 "b" 2}    (the key keeps its stamp)
                  --dissoc "a", assoc "a" 3--> {"b" 2 "a" 3}    (a new stamp: moves to the end)

Keys are compared with FluentAI `=` (LANGUAGE.md §4). `normalize_key` maps a value to a hashable
Python object such that two keys normalize to equal objects exactly when they are `=`:
- Int, Float, String, Symbol and nil stand for themselves: Python compares int and float exactly
  (1 and 1.0, -0.0 and 0.0 are equal and hash alike); a NaN becomes a fresh object, never found.
- Bools become sentinels (Python's `True == 1` is wrong here).
- Lists, ADT values and error values become one flat tuple of tokens, built iteratively, so a key of
  any length or depth neither recurses in Python nor in CPython's tuple comparison.
- Maps become a `_MapToken`, interned by content: the frozenset of the Map's normalized (key,
  value) pairs (order does not matter), in which nested Maps are tokens again. So no normalized
  key nests, and a Map nested 100 000 levels deep through keys or values hashes and compares
  without recursion, in Python or in CPython's frozenset and tuple comparison.
- Builtins compare by canonical name, effect operations by name, constructors by their constructor,
  closures by identity.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Iterable, Iterator
from functools import partial
from math import isnan
from operator import itemgetter
from typing import Any, Final, final

import immutables

from fluentai.symbol import Symbol
from fluentai.vm.values import EMPTY, Adt, Builtin, Cons, Constructor, EffectFn, ErrorValue

__all__ = ["FlMap", "normalize_key"]


@final
class _Token:
    """A sentinel in a normalized key: equal only to itself."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_TRUE: Final = _Token("#t")
_FALSE: Final = _Token("#f")
_LIST: Final = _Token("list")  # followed by the length, then the elements' tokens
_ADT: Final = _Token("adt")  # followed by the CtorInfo, then the fields' tokens
_ERROR: Final = _Token("error")  # followed by kind, message, then the data's tokens
_BUILTIN: Final = _Token("builtin")
_EFFECT: Final = _Token("effect")
_CTOR: Final = _Token("ctor")

_Entry = tuple[int, object, object]  # (stamp, original key, value)
_by_stamp: Final = itemgetter(0)


@final
class _NaN:
    """A NaN in a normalized key: equal only to itself, so never found again."""

    __slots__ = ()


@final
class _MapToken:
    """A Map in a normalized key: one object per distinct content while any Map holds it, so
    tokens compare and hash by identity."""

    __slots__ = ("__weakref__",)


_Content = frozenset[tuple[Hashable, Hashable]]

# content -> a weak reference to its token; the entry goes when the token does. (A
# WeakValueDictionary did the same at three times the cost of building a Map keyed by a Map.)
_INTERNED: Final[dict[_Content, weakref.ref[_MapToken]]] = {}


def _forget(content: _Content, ref: weakref.ref[_MapToken]) -> None:
    if _INTERNED.get(content) is ref:
        del _INTERNED[content]


def _intern(content: _Content) -> _MapToken:
    ref = _INTERNED.get(content)
    token = ref() if ref is not None else None
    if token is None:
        token = _MapToken()
        _INTERNED[content] = weakref.ref(token, partial(_forget, content))
    return token


# The tokens of Maps containing a NaN, during one `as_key`: such a Map keeps no token (each
# normalization differs), so the Maps around it find its token here.
_Impure = dict[int, _MapToken]


@final
class _Budget:
    """How many more Maps inside `as_key` may make their tokens by recursion, the quick way for
    the usual shallow nesting; past it `as_key` starts again with an explicit stack."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


_RECURSION_BUDGET: Final = 64


class _TokenMissing(Exception):
    """A Map inside has no token yet."""


def normalize_key(key: Any) -> Hashable:
    """A hashable stand-in for the VM value `key`, equal to another's exactly when the keys
    are `=`."""
    kind = type(key)
    if kind is str or kind is int or kind is Symbol or key is None:
        return key  # type: ignore[no-any-return]
    return _normalize(key)[0]


def _normalize(key: Any, impure: _Impure | _Budget | None = None) -> tuple[Hashable, bool]:
    """`normalize_key(key)` and whether it is the same every time (no NaN inside): only such a
    stand-in of a Map is kept in the Map (`FlMap.as_key`). `impure` gives the tokens of Maps
    with a NaN inside `key`, or a budget for making the missing tokens by recursion."""
    kind = type(key)
    if kind is Cons or kind is Adt or kind is ErrorValue:
        tokens: list[object] = []
        pure = _flatten(key, tokens, impure)
        return tuple(tokens), pure
    return _atom(key, impure)


def _atom(value: Any, impure: _Impure | _Budget | None = None) -> tuple[Hashable, bool]:
    """The token of a value that is not a List, ADT or error value, and whether it is the same
    every time."""
    kind = type(value)
    if kind is bool:
        return (_TRUE if value else _FALSE), True
    if kind is float:
        return (_NaN(), False) if isnan(value) else (value, True)
    if kind is FlMap:
        flmap: FlMap = value
        if flmap._key is not None:
            return flmap._key, True
        if type(impure) is _Budget:
            if impure.left == 0:
                raise _TokenMissing
            impure.left -= 1
            return flmap._make_token(impure)
        if impure is not None:
            token = impure.get(id(flmap))
            if token is not None:
                return token, False
        return flmap.as_key()
    if kind is Builtin:
        return (_BUILTIN, value.prim.name), True
    if kind is EffectFn:
        return (_EFFECT, value.op), True
    if kind is Constructor:
        return (_CTOR, value.ctor), True
    # Int, String, Symbol, nil, [] and closures: themselves (closures by identity).
    return value, True


def _flatten(value: object, out: list[object], impure: _Impure | _Budget | None = None) -> bool:
    """Append the tokens of `value` in preorder; an explicit stack instead of recursion. Whether
    the tokens are the same every time (no NaN)."""
    pure = True
    stack: list[Any] = [value]
    pop = stack.pop
    append = out.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is Symbol or item is None:
            append(item)
        elif kind is Cons:
            append(_LIST)
            append(item.length)
            elements: list[object] = []
            cell = item
            while cell is not EMPTY:
                elements.append(cell.head)
                cell = cell.tail
            elements.reverse()
            stack.extend(elements)
        elif item is EMPTY:
            append(_LIST)
            append(0)
        elif kind is Adt:
            append(_ADT)
            append(item.ctor)
            stack.extend(reversed(item.fields))
        elif kind is ErrorValue:
            append(_ERROR)
            append(item.kind)
            append(item.message)
            stack.append(item.data)
        else:
            token, same = _atom(item, impure)
            append(token)
            pure = pure and same
    return pure


@final
class FlMap:
    """An immutable Map that remembers insertion order; keys are compared with `=`."""

    __slots__ = ("_entries", "_next", "_order", "_key")

    _entries: immutables.Map[Hashable, _Entry]
    _next: int
    _order: tuple[_Entry, ...] | None
    _key: _MapToken | None

    def __init__(self, entries: immutables.Map[Hashable, _Entry], next_stamp: int) -> None:
        self._entries = entries
        self._next = next_stamp
        self._order = None
        self._key = None

    def as_key(self) -> tuple[Hashable, bool]:
        """This Map as a key: its `_MapToken`, and whether that is the same every time (no NaN
        inside). The token is kept then, so a Map nested through keys is normalized once per
        level (normalizing it whole at every level was quadratic). Unless they have theirs
        already, the Maps inside get their tokens first, innermost first, with no recursion."""
        key = self._key
        if key is not None:
            return key, True
        try:
            return self._make_token(_Budget(_RECURSION_BUDGET))
        except _TokenMissing:
            pass
        impure: _Impure = {}
        token: Hashable = None
        pure = True
        for flmap in _inside_out(self):
            token, pure = flmap._make_token(impure)
            if not pure:
                impure[id(flmap)] = token
        return token, pure

    def _make_token(self, impure: _Impure | _Budget) -> tuple[_MapToken, bool]:
        """This Map's token (kept when it is the same every time), the Maps inside it having
        theirs (kept, or in `impure`) or making them within the budget."""
        pure = True
        pairs: list[tuple[Hashable, Hashable]] = []
        for _, k, v in self._entries.values():
            k_norm, k_same = _normalize(k, impure)
            v_norm, v_same = _normalize(v, impure)
            pure = pure and k_same and v_same
            pairs.append((k_norm, v_norm))
        if not pure:
            return _MapToken(), False  # a NaN inside: equal to no other Map
        token = self._key = _intern(frozenset(pairs))
        return token, True

    @staticmethod
    def empty() -> FlMap:
        return _EMPTY_MAP

    @staticmethod
    def from_pairs(pairs: Iterable[tuple[object, object]]) -> FlMap:
        """A Map of `pairs` in order; a later duplicate keeps the first position, later value."""
        return _EMPTY_MAP.assoc_pairs(pairs)

    def assoc_pairs(self, pairs: Iterable[tuple[object, object]]) -> FlMap:
        """`assoc` each pair in turn (one batch update of the HAMT)."""
        stamp = self._next
        with self._entries.mutate() as entries:
            for key, value in pairs:
                normalized = normalize_key(key)
                old = entries.get(normalized)
                if old is None:
                    entries[normalized] = (stamp, key, value)
                    stamp += 1
                else:
                    entries[normalized] = (old[0], old[1], value)
            result = entries.finish()
        return FlMap(result, stamp)

    def assoc(self, key: object, value: object) -> FlMap:
        """Set `key` to `value`: an existing key keeps its position and original key."""
        normalized = normalize_key(key)
        old = self._entries.get(normalized)
        if old is None:
            entry = (self._next, key, value)
            return FlMap(self._entries.set(normalized, entry), self._next + 1)
        return FlMap(self._entries.set(normalized, (old[0], old[1], value)), self._next)

    def dissoc(self, key: object) -> FlMap:
        normalized = normalize_key(key)
        if normalized not in self._entries:
            return self
        return FlMap(self._entries.delete(normalized), self._next)

    def lookup(self, key: object, default: object = None) -> object:
        entry = self._entries.get(normalize_key(key))
        return default if entry is None else entry[2]

    def has(self, key: object) -> bool:
        return normalize_key(key) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def _ordered(self) -> tuple[_Entry, ...]:
        order = self._order
        if order is None:
            order = tuple(sorted(self._entries.values(), key=_by_stamp))
            self._order = order
        return order

    def items(self) -> Iterator[tuple[object, object]]:
        """(key, value) pairs in insertion order."""
        return ((key, value) for _, key, value in self._ordered())

    def keys(self) -> Iterator[object]:
        return (entry[1] for entry in self._ordered())

    def values(self) -> Iterator[object]:
        return (entry[2] for entry in self._ordered())

    def __repr__(self) -> str:
        return f"FlMap({list(self.items())!r})"


_EMPTY_MAP: Final = FlMap(immutables.Map(), 0)


def _inside_out(root: FlMap) -> list[FlMap]:
    """`root` and the Maps without a kept token inside it, each after every Map inside it (a
    depth-first postorder with an explicit stack; values are acyclic)."""
    order: list[FlMap] = []
    visited: set[int] = set()
    stack: list[tuple[FlMap, bool]] = [(root, False)]
    while stack:
        flmap, expanded = stack.pop()
        if expanded:
            order.append(flmap)
            continue
        if id(flmap) in visited:
            continue
        visited.add(id(flmap))
        stack.append((flmap, True))
        stack.extend((inner, False) for inner in _maps_in(flmap) if id(inner) not in visited)
    return order


def _maps_in(flmap: FlMap) -> Iterator[FlMap]:
    """The Maps without a kept token in the keys and values of `flmap`, not looking inside
    them: through Lists, ADT values and error data."""
    stack: list[Any] = []
    for _, key, value in flmap._entries.values():
        stack.append(key)
        stack.append(value)
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is Cons:
            while item is not EMPTY:
                stack.append(item.head)
                item = item.tail
        elif kind is Adt:
            stack.extend(item.fields)
        elif kind is ErrorValue:
            stack.append(item.data)
        elif kind is FlMap and item._key is None:
            yield item
