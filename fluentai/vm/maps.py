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
- Maps become a frozenset of normalized (key, value) pairs (order does not matter).
- Builtins compare by canonical name, effect operations by name, constructors by their constructor,
  closures by identity.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
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


def normalize_key(key: Any) -> Hashable:
    """A hashable stand-in for the VM value `key`, equal to another's exactly when the keys
    are `=`."""
    kind = type(key)
    if kind is str or kind is int or kind is Symbol or key is None:
        return key  # type: ignore[no-any-return]
    return _normalize(key)[0]


def _normalize(key: Any) -> tuple[Hashable, bool]:
    """`normalize_key(key)` and whether it is the same every time (no NaN inside): only such a
    stand-in of a Map is kept in the Map (`FlMap.as_key`)."""
    kind = type(key)
    if kind is Cons or kind is Adt or kind is ErrorValue:
        tokens: list[object] = []
        pure = _flatten(key, tokens)
        return tuple(tokens), pure
    return _atom(key)


def _atom(value: Any) -> tuple[Hashable, bool]:
    """The token of a value that is not a List, ADT or error value, and whether it is the same
    every time."""
    kind = type(value)
    if kind is bool:
        return (_TRUE if value else _FALSE), True
    if kind is float:
        return (_NaN(), False) if isnan(value) else (value, True)
    if kind is FlMap:
        flmap: FlMap = value
        return flmap.as_key()
    if kind is Builtin:
        return (_BUILTIN, value.prim.name), True
    if kind is EffectFn:
        return (_EFFECT, value.op), True
    if kind is Constructor:
        return (_CTOR, value.ctor), True
    # Int, String, Symbol, nil, [] and closures: themselves (closures by identity).
    return value, True


def _flatten(value: object, out: list[object]) -> bool:
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
            token, same = _atom(item)
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
    _key: frozenset[tuple[Hashable, Hashable]] | None

    def __init__(self, entries: immutables.Map[Hashable, _Entry], next_stamp: int) -> None:
        self._entries = entries
        self._next = next_stamp
        self._order = None
        self._key = None

    def as_key(self) -> tuple[Hashable, bool]:
        """This Map as a key: a frozenset of normalized (key, value) pairs, kept when it is the
        same every time, so a Map nested through keys is normalized once per level (it was
        normalized whole at every level: quadratic), and whether it is."""
        key = self._key
        if key is not None:
            return key, True
        pure = True
        pairs: list[tuple[Hashable, Hashable]] = []
        for _, k, v in self._entries.values():
            k_norm, k_same = _normalize(k)
            v_norm, v_same = _normalize(v)
            pure = pure and k_same and v_same
            pairs.append((k_norm, v_norm))
        norm = frozenset(pairs)
        if pure:
            self._key = norm
        return norm, pure

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
