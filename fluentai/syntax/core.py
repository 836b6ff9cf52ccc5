"""Core: the kernel language every surface form expands into (DESIGN.md §1.2).

Program ::= Expr*                      (top-level forms; Define and Data may appear)
Expr    ::= Lit | Ref | Lambda | Call | PrimCall | If | Seq | Group | Define | SetVar | While
          | Match | Handle | Perform | Try | Data | Ascribe
Pattern ::= PWild | PVar | PLit | PList | PCons | PCtor | PError
Type    ::= TCon | TVar

Delta from the surface syntax: no cond/when/unless/and/or/named let/defun/def/let*/letrec/quote;
`[..]`/`{..}` are PrimCalls of `list`/`%map-literal`; `(ns:op ..)` and `(effect ns:op ..)` are
Perform. A `let` and a body with internal definitions are both a Group: its Define items bind the
group's variables, in order (LANGUAGE.md §3.1). Names are still strings; resolve_names decides
what each one refers to.
"""

from __future__ import annotations

from typing import TypeAlias, final

from fluentai.records import field, record
from fluentai.source import Span
from fluentai.symbol import Symbol

# ---------------------------------------------------------------- quoted data in literals


@final
@record
class QList:
    """A quoted list literal: its elements are literal values."""

    items: tuple[LitValue, ...]


@final
@record
class QMap:
    """A quoted map literal: key/value pairs in source order (later duplicate keys win)."""

    pairs: tuple[tuple[LitValue, LitValue], ...]


LitValue: TypeAlias = int | float | str | bool | None | Symbol | QList | QMap


# ---------------------------------------------------------------- types (section 11)


@final
@record
class TCon:
    """A named type, `Int` or `(List Int)`; args are empty for a bare name."""

    name: str
    args: tuple[Type, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class TVar:
    """A type variable (any lowercase symbol)."""

    name: str
    span: Span = field(kw_only=True, compare=False)


Type: TypeAlias = TCon | TVar


# ---------------------------------------------------------------- patterns (section 10.2)


@final
@record
class PWild:
    """`_`: matches anything, binds nothing."""

    span: Span = field(kw_only=True, compare=False)


@final
@record
class PVar:
    """A name: matches anything and binds it."""

    name: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PLit:
    """A literal (Int, Float, String, Bool, nil, keyword, 'symbol): matches a value `=` to it."""

    value: LitValue
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PList:
    """`[p1 .. pn]` (rest None) or `[p1 .. pn ... r]` (rest a PVar or PWild); `[]`/`()`/`Nil`."""

    items: tuple[Pattern, ...]
    rest: PVar | PWild | None
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PCons:
    """`(Cons ph pt)`: a non-empty list."""

    head: Pattern
    tail: Pattern
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PCtor:
    """`C`, `(C)` or `(C p1 .. pn)`: a value made by constructor `name`."""

    name: str
    args: tuple[Pattern, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PError:
    """`(Error pk pm pd)`: an error value whose kind, message and data match."""

    kind: Pattern
    message: Pattern
    data: Pattern
    span: Span = field(kw_only=True, compare=False)


Pattern: TypeAlias = PWild | PVar | PLit | PList | PCons | PCtor | PError


# ---------------------------------------------------------------- expressions


@final
@record
class Lit:
    """A constant: numbers, strings, booleans, nil, symbols and keywords, quoted data."""

    value: LitValue
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Ref:
    """A variable reference by name (local, global or builtin: resolve_names decides)."""

    name: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Lambda:
    """A closure. `params` may contain `_` (binds nothing); `rest` collects extra arguments.

    `name` is the name given by a definition, `let` binding or named let, else None (`lambda`).
    """

    params: tuple[str, ...]
    rest: str | None
    body: Expr
    name: str | None
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Call:
    """Apply `fn` to `args` (fn first, then args left to right). `tail` set by mark_tail_calls."""

    fn: Expr
    args: tuple[Expr, ...]
    tail: bool = False
    span: Span = field(kw_only=True, compare=False)


@final
@record
class PrimCall:
    """Apply the builtin `name` directly; user definitions never shadow it (list literals...)."""

    name: str
    args: tuple[Expr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class If:
    """Evaluate `test`; if it is neither #f nor nil evaluate `then`, otherwise `else_`."""

    test: Expr
    then: Expr
    else_: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Seq:
    """Evaluate in order, value of the last (at least one element; `(do)` is Lit(None))."""

    exprs: tuple[Expr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Group:
    """A binding group (LANGUAGE.md §3.1): `let` bindings or a body with internal definitions.

    `items` are evaluated in order; the Define items among them bind the group's variables (one
    per distinct name). The value is that of the last item, nil if it is a Define.
    """

    items: tuple[Expr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Define:
    """Bind `name` to `value`: a group variable inside a Group, a global at top level. Value nil.
    `value_only`: `(def name expr)`, which defines a value even when `expr` is a lambda, so the
    global is no known function (LANGUAGE.md §2.4 item 3, §3.8)."""

    name: str
    value: Expr
    span: Span = field(kw_only=True, compare=False)
    value_only: bool = field(default=False, kw_only=True, compare=False)


@final
@record
class SetVar:
    """`(set! name value)`: assign an existing local or global; value nil."""

    name: str
    value: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class While:
    """Evaluate `body` while `test` is truthy; value nil."""

    test: Expr
    body: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class MatchClause:
    pattern: Pattern
    guard: Expr | None
    body: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Match:
    """Evaluate `subject` once; the first clause whose pattern matches and guard holds wins."""

    subject: Expr
    clauses: tuple[MatchClause, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class HandlerClause:
    """`(ns:op fn)` or `(ns fn)`: `key` is "ns:op" or "ns" as written."""

    key: str
    fn: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Handle:
    """`(handler (clause*) body)`: clause functions evaluated first, then body under the frame."""

    clauses: tuple[HandlerClause, ...]
    body: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Perform:
    """Perform the effect operation `op` ("ns:op" as written) with `args`."""

    op: str
    args: tuple[Expr, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class CatchClause:
    pattern: Pattern
    body: Expr
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Try:
    """`(try body (catch pat body)* (finally body)?)`."""

    body: Expr
    catches: tuple[CatchClause, ...]
    finally_: Expr | None
    span: Span = field(kw_only=True, compare=False)


@final
@record
class CtorDecl:
    """One constructor of a `data` form; `fields` empty for a nullary constructor."""

    name: str
    fields: tuple[Type, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Data:
    """`(data Name tvar* ctor+)`: top level only; defines the constructors as globals; nil."""

    name: str
    tvars: tuple[str, ...]
    ctors: tuple[CtorDecl, ...]
    span: Span = field(kw_only=True, compare=False)


@final
@record
class Ascribe:
    """`(: expr type)`: evaluate, check the outermost type, return the value."""

    expr: Expr
    type: Type
    span: Span = field(kw_only=True, compare=False)


Expr: TypeAlias = (
    Lit
    | Ref
    | Lambda
    | Call
    | PrimCall
    | If
    | Seq
    | Group
    | Define
    | SetVar
    | While
    | Match
    | Handle
    | Perform
    | Try
    | Data
    | Ascribe
)


@final
@record
class Program:
    """A whole program: top-level forms in order (a top-level `do`/`begin` is flattened).
    `quiet`: the indices of the forms that were not the last of their top-level `do`/`begin`,
    whose values `-p` and the REPL do not write (LANGUAGE.md §16: the value of each top-level
    form is written, and a `do`'s value is its last form's)."""

    forms: tuple[Expr, ...]
    quiet: frozenset[int] = field(default=frozenset())
