"""Map builtins of the VM (LANGUAGE.md §9, §17 "Maps") as `Prim` rows, over `FlMap`.

A map argument that is not a Map (nil included) raises `type-error`:
    (get {"a" 1} "a") -> 1      (get nil "a") -> type-error      (fetch {} "z") -> key-error
`%map-literal` builds `{k1 v1 k2 v2 ...}` for the compiler (a later duplicate key keeps the
earlier position and takes the later value).
"""

from __future__ import annotations

from typing import Any, Final

from fluentai.errors import FlError
from fluentai.primitives import Effect, Prim, PrimKind
from fluentai.vm.maps import FlMap
from fluentai.vm.printer import type_error, written
from fluentai.vm.values import from_iter

__all__ = ["ROWS"]

_MISSING: Final = object()


def _check_map(name: str, m: object) -> FlMap:
    if type(m) is not FlMap:
        raise type_error(name, "a Map", m)
    return m


def _pairs(flat: tuple[object, ...]) -> zip[tuple[object, object]]:
    """(k1, v1, k2, v2, ...) as pairs; the caller has checked the length is even."""
    it = iter(flat)
    return zip(it, it, strict=True)


def _get(m: object, key: object, default: object = None) -> object:
    return _check_map("get", m).lookup(key, default)


def _fetch(m: object, key: object) -> object:
    value = _check_map("fetch", m).lookup(key, _MISSING)
    if value is _MISSING:
        raise FlError("key-error", f"`fetch`: key {written(key)} not found")
    return value


def _assoc(m: object, *kvs: object) -> FlMap:
    fm = _check_map("assoc", m)
    if len(kvs) == 2:
        return fm.assoc(kvs[0], kvs[1])
    return fm.assoc_pairs(_pairs(kvs))


def _dissoc(m: object, *keys: object) -> FlMap:
    fm = _check_map("dissoc", m)
    for key in keys:
        fm = fm.dissoc(key)
    return fm


def _has(m: object, key: object) -> bool:
    return _check_map("has?", m).has(key)


def _keys(m: object) -> Any:
    return from_iter(list(_check_map("keys", m).keys()))


def _values(m: object) -> Any:
    return from_iter(list(_check_map("values", m).values()))


def _items(m: object) -> Any:
    return from_iter([from_iter(pair) for pair in _check_map("items", m).items()])


def _size(m: object) -> int:
    return len(_check_map("size", m))


def _merge(*maps: object) -> FlMap:
    checked = [_check_map("merge", m) for m in maps]
    if not checked:
        return FlMap.empty()
    result = checked[0]
    for other in checked[1:]:
        if len(other):
            result = result.assoc_pairs(other.items())
    return result


def _map_literal(*kvs: object) -> FlMap:
    return FlMap.from_pairs(_pairs(kvs))


def _odd_count(n: int) -> bool:
    return n >= 3 and n % 2 == 1


def _even_count(n: int) -> bool:
    return n % 2 == 0


ROWS: Final[list[Prim]] = [
    Prim("get", arity=(2, 3), vm=_get, doc="the value of k, or default (nil)"),
    Prim("fetch", arity=(2, 2), vm=_fetch, doc="the value of k; key-error if missing"),
    Prim(
        "assoc",
        arity=(3, None),
        vm=_assoc,
        aliases=("set",),
        arity_ok=_odd_count,
        doc="the Map with each k set to its v",
    ),
    Prim("dissoc", arity=(2, None), vm=_dissoc, doc="the Map without the keys"),
    Prim("has?", arity=(2, 2), vm=_has, doc="is k a key"),
    Prim("keys", arity=(1, 1), vm=_keys, doc="List of the keys, in insertion order"),
    Prim("values", arity=(1, 1), vm=_values, doc="List of the values, in insertion order"),
    Prim("items", arity=(1, 1), vm=_items, doc="List of [k v] Lists, in insertion order"),
    Prim("size", arity=(1, 1), vm=_size, doc="number of entries"),
    Prim("merge", arity=(0, None), vm=_merge, doc="the Maps merged, later values winning"),
    Prim(
        "%map-literal",
        arity=(0, None),
        kind=PrimKind.FUNCTION,
        effect=Effect.PURE,
        vm=_map_literal,
        arity_ok=_even_count,
        internal=True,
        doc="{k1 v1 k2 v2 ...}",
    ),
]
