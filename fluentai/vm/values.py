"""VM values (DESIGN.md §3.4): Python objects standing for FluentAI values.

| FluentAI | Python |
|---|---|
| Int, Float, Bool, nil, String | int (never bool), float, bool, None, str |
| Symbol | fluentai.symbol.Symbol (interned) |
| List | EMPTY, or Cons(head, tail, length) |
| Map | fluentai.vm.maps.FlMap |
| ADT value | Adt(ctor, fields) |
| Function | Closure, Builtin, Constructor, EffectFn |
| Error value | ErrorValue(kind, message, data) |
| captured mutated variable | Box(value) (never user-visible) |

Type tests use `type(x) is int` so that a bool is never taken for an Int.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, final

from fluentai.symbol import Symbol

if TYPE_CHECKING:
    from fluentai.primitives import Prim

__all__ = [
    "EMPTY",
    "Adt",
    "Box",
    "Builtin",
    "Closure",
    "Cons",
    "Constructor",
    "CtorInfo",
    "EffectFn",
    "ErrorValue",
    "Symbol",
    "from_iter",
    "to_pylist",
]


@final
class _Empty:
    """The empty list `[]` (one instance, EMPTY)."""

    __slots__ = ()
    length = 0

    def __repr__(self) -> str:
        return "EMPTY"

    def __iter__(self) -> Iterator[object]:
        return iter(())


EMPTY: Any = _Empty()


@final
class Cons:
    """A non-empty immutable list cell; `length` makes `length` O(1)."""

    __slots__ = ("head", "tail", "length")

    def __init__(self, head: object, tail: Any) -> None:
        self.head = head
        self.tail = tail
        self.length: int = tail.length + 1

    def __iter__(self) -> Iterator[object]:
        cell: Any = self
        while cell is not EMPTY:
            yield cell.head
            cell = cell.tail

    def __repr__(self) -> str:
        return f"Cons{list(self)!r}"


def from_iter(items: Iterable[object]) -> Any:
    """Build a List (EMPTY or Cons) from a Python iterable, keeping order."""
    seq = items if isinstance(items, list | tuple) else list(items)
    result: Any = EMPTY
    for item in reversed(seq):
        result = Cons(item, result)
    return result


def to_pylist(lst: Any) -> list[object]:
    """The elements of a List as a Python list (iterative, any length)."""
    out: list[object] = []
    while lst is not EMPTY:
        out.append(lst.head)
        lst = lst.tail
    return out


@final
class CtorInfo:
    """A constructor of a `data` type: name, type name, field types (Core TCon/TVar), arity."""

    __slots__ = ("name", "type_name", "fields", "arity", "nullary_value", "checked")

    def __init__(self, name: str, type_name: str, fields: tuple[object, ...]) -> None:
        self.name = name
        self.type_name = type_name
        self.fields = fields
        self.arity = len(fields)
        self.nullary_value: Adt | None = Adt(self, ()) if not fields else None
        # (index, type) of the fields construction checks (builtin types, §10.1); the VM fills
        # it in at the first construction (vm/patterns.py knows which types are checked)
        self.checked: tuple[tuple[int, object], ...] | None = None

    def __repr__(self) -> str:
        return f"CtorInfo({self.name})"


@final
class Adt:
    """A value made by a constructor."""

    __slots__ = ("ctor", "fields")

    def __init__(self, ctor: CtorInfo, fields: tuple[object, ...]) -> None:
        self.ctor = ctor
        self.fields = fields


@final
class Closure:
    """A FluentAI function: compiled code plus captured variables (`free`, Boxes or values)."""

    # weakly referable: the JIT pairs a closure with its native twin while it lives (FnPairs)
    __slots__ = ("code", "free", "name", "__weakref__")

    def __init__(self, code: Any, free: tuple[object, ...], name: str) -> None:
        self.code = code
        self.free = free
        self.name = name


@final
class Builtin:
    """A builtin function value (prints as `#<function CANONICAL-NAME>`)."""

    __slots__ = ("prim",)

    def __init__(self, prim: Prim) -> None:
        self.prim = prim

    @property
    def name(self) -> str:
        return self.prim.name


@final
class Constructor:
    """A constructor with fields used as a function value."""

    __slots__ = ("ctor",)

    def __init__(self, ctor: CtorInfo) -> None:
        self.ctor = ctor

    @property
    def name(self) -> str:
        return self.ctor.name


@final
class EffectFn:
    """An `ns:op` symbol used as a value: calling it performs the operation."""

    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = op

    @property
    def name(self) -> str:
        return self.op


@final
class ErrorValue:
    """An error value (LANGUAGE.md §13.2)."""

    __slots__ = ("kind", "message", "data")

    def __init__(self, kind: str, message: str, data: object) -> None:
        self.kind = kind
        self.message = message
        self.data = data


class Box:
    """A captured variable that is assigned with `set!`. Once it crosses to native code its
    class becomes the JIT's TwinBox (fluentai/jit/bridge.py), whose value lives in a native box
    (`twin`) both sides share."""

    __slots__ = ("value", "twin", "__weakref__")
    twin: Any  # set when it becomes a TwinBox

    def __init__(self, value: object) -> None:
        self.value = value
