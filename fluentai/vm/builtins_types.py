"""General builtins on any value: `type-of`, the type predicates, `not`, `identity` (LANGUAGE.md §4,
§5, §17 "General").

None of them raises. Bools are not numbers, and a nullary constructor value such as `None` is an
ADT value, not a function:
    (type-of (Some 1)) -> "Option"    (int? #t) -> #f    (function? None) -> #f
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fluentai.primitives import Effect, Prim
from fluentai.symbol import Symbol
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
)

__all__ = ["ROWS", "type_name"]

_FUNCTION_TYPES: Final[frozenset[type]] = frozenset({Closure, Builtin, Constructor, EffectFn})

# `type-of` by exact Python type; ADT values are looked up separately (their type's own name).
_TYPE_NAMES: Final[dict[type, str]] = {
    int: "Int",
    float: "Float",
    bool: "Bool",
    type(None): "Nil",
    str: "String",
    Symbol: "Symbol",
    type(EMPTY): "List",
    Cons: "List",
    FlMap: "Map",
    Closure: "Function",
    Builtin: "Function",
    Constructor: "Function",
    EffectFn: "Function",
    ErrorValue: "Error",
}


def type_name(v: object) -> str:
    """`(type-of v)`: the name of the value's type (§4 table)."""
    name = _TYPE_NAMES.get(type(v))
    if name is not None:
        return name
    if isinstance(v, Adt):
        return v.ctor.type_name
    raise TypeError(f"not a FluentAI value: {type(v).__name__}")


def _not(v: object) -> bool:
    return v is False or v is None


def _identity(v: object) -> object:
    return v


def _is_int(v: object) -> bool:
    return type(v) is int


def _is_float(v: object) -> bool:
    return type(v) is float


def _is_number(v: object) -> bool:
    return type(v) is int or type(v) is float


def _is_string(v: object) -> bool:
    return type(v) is str


def _is_bool(v: object) -> bool:
    return type(v) is bool


def _is_symbol(v: object) -> bool:
    return type(v) is Symbol


def _is_list(v: object) -> bool:
    return v is EMPTY or type(v) is Cons


def _is_map(v: object) -> bool:
    return type(v) is FlMap


def _is_function(v: object) -> bool:
    return type(v) in _FUNCTION_TYPES


def _is_error(v: object) -> bool:
    return type(v) is ErrorValue


def _is_nil(v: object) -> bool:
    return v is None


def _is_null(v: object) -> bool:
    return v is None or v is EMPTY


def _predicate(name: str, test: Callable[[object], bool], *aliases: str) -> Prim:
    return Prim(name, arity=(1, 1), vm=test, aliases=aliases, effect=Effect.PURE)


ROWS: Final[list[Prim]] = [
    Prim("type-of", arity=(1, 1), vm=type_name, effect=Effect.PURE, doc="the type's name"),
    Prim("not", arity=(1, 1), vm=_not, effect=Effect.PURE, doc="#t for #f and nil"),
    Prim("identity", arity=(1, 1), vm=_identity, effect=Effect.PURE, doc="the argument"),
    _predicate("int?", _is_int),
    _predicate("float?", _is_float),
    _predicate("number?", _is_number),
    _predicate("string?", _is_string),
    _predicate("bool?", _is_bool, "boolean?"),
    _predicate("symbol?", _is_symbol),
    _predicate("list?", _is_list),
    _predicate("map?", _is_map),
    _predicate("function?", _is_function),
    _predicate("error?", _is_error),
    _predicate("nil?", _is_nil),
    _predicate("null?", _is_null),
]
