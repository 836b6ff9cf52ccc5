"""Structural equality `=` and exact numeric ordering (LANGUAGE.md §4 Equality, §6 Comparison).

Python's `==` is wrong for FluentAI (`True == 1`, NaN inside containers compared by identity), so
`equal` spells every rule out:
    equal(1, 1.0) and equal(0.0, -0.0)    not equal(True, 1)    not equal(nan, nan)

Compound values are compared with an explicit stack of pairs, so long and deeply nested data never
exhausts the Python stack.
"""

from __future__ import annotations

from typing import Any, Final

from fluentai.symbol import Symbol
from fluentai.vm.maps import FlMap
from fluentai.vm.numbers import compare_numbers
from fluentai.vm.values import EMPTY, Adt, Builtin, Closure, Cons, Constructor, EffectFn, ErrorValue

__all__ = ["compare_numbers", "equal"]

# Types whose values are equal exactly when Python's `==` says so (same type on both sides).
_PLAIN: Final[frozenset[type]] = frozenset({int, float, str, bool})

# Symbols are interned; closures, nil and [] equal only themselves.
_IDENTITY_ONLY: Final[frozenset[type]] = frozenset({Symbol, Closure, type(None), type(EMPTY)})


def equal(a: object, b: object) -> bool:
    """`(= a b)`: structural equality, numbers by exact mathematical value."""
    ta = type(a)
    if ta is type(b):
        if ta in _PLAIN:
            return a == b
        if ta in _IDENTITY_ONLY:
            return a is b
        # No identity shortcut for compound values: a List holding NaN is not equal to itself.
        return _equal_parts(a, b)
    # Different Python types: only Int vs Float can be equal (Python compares them exactly).
    if (ta is int and type(b) is float) or (ta is float and type(b) is int):
        return a == b
    return False


_MISSING: Final = object()


def _equal_parts(a0: object, b0: object) -> bool:
    """Equality of two distinct objects of the same type, comparing their parts iteratively."""
    stack: list[tuple[Any, Any]] = [(a0, b0)]
    while stack:
        a, b = stack.pop()
        ta = type(a)
        if ta is not type(b):
            numeric = (ta is int and type(b) is float) or (ta is float and type(b) is int)
            if numeric and a == b:
                continue
            return False
        if ta in _PLAIN:
            if a == b:
                continue
            return False
        if ta in _IDENTITY_ONLY:
            if a is b:
                continue
            return False
        if ta is Cons:
            if a.length != b.length:
                return False
            # Walk the spine here; only compound elements are pushed, so the stack grows with
            # the nesting depth and the number of compound elements, never with plain elements.
            while a is not EMPTY:
                x = a.head
                y = b.head
                tx = type(x)
                if tx is type(y) and tx in _PLAIN:
                    if x != y:
                        return False
                else:
                    stack.append((x, y))
                a = a.tail
                b = b.tail
        elif ta is Adt:
            if a.ctor is not b.ctor:
                return False
            stack.extend(zip(a.fields, b.fields, strict=True))
        elif ta is ErrorValue:
            if a.kind != b.kind or a.message != b.message:
                return False
            stack.append((a.data, b.data))
        elif ta is FlMap:
            if len(a) != len(b):
                return False
            for key, value in a.items():
                other = b.lookup(key, _MISSING)
                if other is _MISSING:
                    return False
                stack.append((value, other))
        elif ta is Builtin:
            # One function under several names (`car` is `head`): the same row.
            if a.prim is not b.prim:
                return False
        elif ta is EffectFn:
            if a.op != b.op:
                return False
        elif ta is Constructor:
            if a.ctor is not b.ctor:
                return False
        else:
            raise TypeError(f"not a FluentAI value: {ta.__name__}")
    return True
