"""Resolved Core: Core after resolve_names (the language both back ends consume).

Delta from Core:
- `Ref` becomes `LocalRef` (a `Var`), `GlobalRef` (a program global, by name), `BuiltinRef`
  (a builtin or prelude function, constant), `CtorRef` (a constructor), `EffectRef` (`ns:op` used
  as a value).
- `SetVar` becomes `LocalSet`/`GlobalSet`; a `Define` becomes `LocalDef` in a `Scope` (the binding
  group, which lists its variables) or `GlobalDef` at top level.
- `Lambda` becomes `Fn`, whose parameters are Vars and which lists its free variables.
- `Call` of a known builtin becomes `PrimApp`; `(C)` of a nullary constructor becomes a CtorRef.
- Pattern variables become `PBind(var)`; `Perform.op` is the canonical operation name.
Every other node is reused from Core with resolved children.

A `Var` is a unique object; resolve_names fills its flags (`captured`, `assigned`) before it
returns, and nothing changes them afterwards. `boxed` variables live in a Box: captured ones that
are assigned, or that belong to a binding group (they may be captured before they get a value).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias, final

from fluentai import records
from fluentai.records import field, record
from fluentai.source import Span
from fluentai.syntax import core as c

_ids = itertools.count(1)


@final
class Var:
    """A local variable: parameter, group variable, pattern variable or temporary."""

    __slots__ = ("name", "id", "captured", "assigned", "is_group")

    def __init__(self, name: str, is_group: bool = False) -> None:
        self.name = name
        self.id = next(_ids)
        self.captured = False
        self.assigned = False
        self.is_group = is_group

    @property
    def boxed(self) -> bool:
        return self.captured and (self.assigned or self.is_group)

    def __getstate__(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__ if k != "id"}

    def __setstate__(self, state: object) -> None:
        # The ids are unique within a process (type inference keys variables by them), so an
        # unpickled Var (the cached resolved prelude, native.py) takes a fresh one: its old id
        # came from another process's counter and may be a program variable's here.
        if isinstance(state, tuple):  # a pickle written before __getstate__ existed
            state = state[1]
        assert isinstance(state, dict)
        for k, v in state.items():
            if k != "id":
                setattr(self, k, v)
        self.id = next(_ids)

    def __repr__(self) -> str:
        return f"{self.name}#{self.id}"


@final
@record
class LocalRef:
    var: Var
    span: Span = field(kw_only=True, compare=False)


@final
@record
class GlobalRef:
    """A program global; `fallback` is the builtin found while it is not yet defined."""

    name: str
    fallback: str | None
    span: Span = field(kw_only=True, compare=False)


@final
@record
class BuiltinRef:
    """A builtin function, prelude function or constant, by canonical name."""

    name: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class CtorRef:
    """A constructor: a function value, or the value itself when nullary."""

    name: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class EffectRef:
    """An `ns:op` symbol used as a value (canonical name)."""

    op: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class LocalSet:
    """`set!` (define=False) or a group definition (define=True) of a local; value nil."""

    var: Var
    value: RExpr
    define: bool
    span: Span = field(kw_only=True, compare=False)


@final
@record
class GlobalSet:
    """`set!` (define=False) or a top-level definition (define=True) of a global; value nil."""

    name: str
    value: RExpr
    define: bool
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Scope:
    """A binding group: its variables start unbound, then `body` runs (value of the last)."""

    vars: tuple[Var, ...]
    body: tuple[RExpr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Fn:
    """A closure; `free` are the outer variables it captures, in a fixed order."""

    params: tuple[Var, ...]
    rest: Var | None
    body: RExpr
    name: str
    free: tuple[Var, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RCall:
    fn: RExpr
    args: tuple[RExpr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PrimApp:
    """Application of a builtin known at compile time (arity already checked)."""

    name: str
    args: tuple[RExpr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class CtorApp:
    """Application of a constructor with fields (arity already checked)."""

    name: str
    args: tuple[RExpr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RIf:
    test: RExpr
    then: RExpr
    else_: RExpr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RSeq:
    exprs: tuple[RExpr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RWhile:
    test: RExpr
    body: RExpr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PBind:
    var: Var
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RPList:
    items: tuple[RPattern, ...]
    rest: PBind | c.PWild | None
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RPCons:
    head: RPattern
    tail: RPattern
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RPCtor:
    name: str
    args: tuple[RPattern, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RPError:
    kind: RPattern
    message: RPattern
    data: RPattern
    span: Span = field(kw_only=True, compare=False)


RPattern: TypeAlias = c.PWild | PBind | c.PLit | RPList | RPCons | RPCtor | RPError


@final
@record
class RClause:
    pattern: RPattern
    guard: RExpr | None
    body: RExpr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RMatch:
    subject: RExpr
    clauses: tuple[RClause, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RHandle:
    keys: tuple[str, ...]
    fns: tuple[RExpr, ...]
    body: RExpr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RPerform:
    op: str
    args: tuple[RExpr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RTry:
    body: RExpr
    catches: tuple[RClause, ...]  # guard always None
    finally_: RExpr | None
    span: Span = field(kw_only=True, compare=False)


@final
@record
class RAscribe:
    expr: RExpr
    type: c.Type
    span: Span = field(kw_only=True, compare=False)


RExpr: TypeAlias = (
    c.Lit
    | LocalRef
    | GlobalRef
    | BuiltinRef
    | CtorRef
    | EffectRef
    | LocalSet
    | GlobalSet
    | Scope
    | Fn
    | RCall
    | PrimApp
    | CtorApp
    | RIf
    | RSeq
    | RWhile
    | RMatch
    | RHandle
    | RPerform
    | RTry
    | RAscribe
)


@final
@record
class CtorDef:
    name: str
    type_name: str
    fields: tuple[c.Type, ...]


@final
@record
class RProgram:
    """Top-level forms (each marked whether it is a definition, for --print-values)."""

    forms: tuple[tuple[RExpr, bool], ...]
    globals: tuple[str, ...]
    ctors: tuple[CtorDef, ...]


def rebuild(e: Any, visit: Callable[[Any], Any]) -> Any:
    """`e` (a node, or a tuple of them) with `visit` applied bottom-up to every record in it;
    nodes are rebuilt only where something changed (the passes' traversal)."""
    if isinstance(e, tuple):
        items = tuple(rebuild(x, visit) for x in e)
        return e if all(new is old for new, old in zip(items, e, strict=True)) else items
    if isinstance(e, type) or not records.is_record(e) or isinstance(e, Var | c.Lit):
        return e
    changes: dict[str, Any] = {}
    for name in records.fields(e):
        if name == "span":
            continue
        old = getattr(e, name)
        new = rebuild(old, visit)
        if new is not old:
            changes[name] = new
    if changes:
        e = records.replace(e, **changes)
    return visit(e)


def children(node: object) -> list[Any]:
    """The nodes directly under `node`, in the order of its fields (spans aside)."""
    kids: list[Any] = []
    for name in getattr(type(node), "__slots__", ()):
        if name == "span":
            continue
        child = getattr(node, name, None)
        if isinstance(child, tuple):
            kids.extend(x for x in child if records.is_record(x))
        elif records.is_record(child):
            kids.append(child)
    return kids


def walk(node: object) -> Iterator[Any]:
    """Every resolved-Core node under `node` (itself included), iteratively, in source order
    of the fields."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
