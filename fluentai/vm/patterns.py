"""Pattern matching and type checks for the VM (LANGUAGE.md §10.2, §11).

Patterns arrive compiled by vm/compile.py as nested tuples:
("wild",) ("bind", slot) ("lit", value) ("list", items, rest) ("cons", head, tail)
("ctor", CtorInfo, args) ("ctorb", CtorInfo, slots) ("error", kind, message, data). Matching
never raises; `bind` writes the matched value into the frame's slot list; `ctorb` is a
constructor pattern whose fields are all names or `_`: the slot of each (-1 for `_`).
"""

from __future__ import annotations

from typing import Any

from fluentai.syntax import core as c
from fluentai.vm.equality import equal
from fluentai.vm.maps import FlMap
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Builtin,
    Closure,
    Cons,
    Constructor,
    EffectFn,
    ErrorValue,
    Symbol,
)


def match(pat: tuple[Any, ...], v: Any, slots: list[Any]) -> bool:
    tag = pat[0]
    if tag == "bind":
        slots[pat[1]] = v
        return True
    if tag == "ctorb":
        if type(v) is not Adt or v.ctor is not pat[1]:
            return False
        for slot, x in zip(pat[2], v.fields, strict=True):
            if slot >= 0:
                slots[slot] = x
        return True
    if tag == "ctor":
        if type(v) is not Adt or v.ctor is not pat[1]:
            return False
        for p, x in zip(pat[2], v.fields, strict=True):
            if not match(p, x, slots):
                return False
        return True
    if tag == "wild":
        return True
    if tag == "lit":
        return equal(pat[1], v)
    if tag == "list":
        items, rest = pat[1], pat[2]
        if v is not EMPTY and type(v) is not Cons:
            return False
        n = len(items)
        if (v.length != n) if rest is None else (v.length < n):
            return False
        for p in items:
            if not match(p, v.head, slots):
                return False
            v = v.tail
        return rest is None or match(rest, v, slots)
    if tag == "cons":
        return type(v) is Cons and match(pat[1], v.head, slots) and match(pat[2], v.tail, slots)
    if tag == "error":
        return (
            type(v) is ErrorValue
            and match(pat[1], v.kind, slots)
            and match(pat[2], v.message, slots)
            and match(pat[3], v.data, slots)
        )
    raise AssertionError(f"bad pattern {pat!r}")


_FUNCTION_TYPES = (Closure, Builtin, Constructor, EffectFn)


CHECKED_FIELD_TYPES = frozenset(
    "Int Float Number String Bool Symbol Nil Unit Error List Map Function".split()
)


def field_has_type(ty: c.Type, v: Any) -> bool:
    """Constructor fields check only builtin types; ADT names and variables pass (§10.1)."""
    return not field_is_checked(ty) or has_type(ty, v)


def field_is_checked(ty: c.Type) -> bool:
    """Whether construction checks a field of this type (a builtin type, §10.1)."""
    return not isinstance(ty, c.TVar) and ty.name in CHECKED_FIELD_TYPES


def has_type(ty: c.Type, v: Any) -> bool:
    """Check only the outermost type (LANGUAGE.md §11)."""
    if isinstance(ty, c.TVar):
        return True
    name = ty.name
    t = type(v)
    if name == "Int":
        return t is int
    if name == "Float":
        return t is float
    if name == "Number":
        return t is int or t is float
    if name == "String":
        return t is str
    if name == "Bool":
        return t is bool
    if name == "Symbol":
        return t is Symbol
    if name in ("Nil", "Unit"):
        return v is None
    if name == "Error":
        return t is ErrorValue
    if name == "List":
        return v is EMPTY or t is Cons
    if name == "Map":
        return t is FlMap
    if name == "Function":
        return t in _FUNCTION_TYPES
    if name == "Any":
        return True
    return t is Adt and v.ctor.type_name == name


def type_text(ty: c.Type) -> str:
    if isinstance(ty, c.TVar) or not ty.args:
        return ty.name
    return "(" + " ".join([ty.name, *(type_text(a) for a in ty.args)]) + ")"
