"""Format Core as S-expressions: deterministic text for `--dump core` and golden tests.

Each top-level form starts on a new line; a form wider than 100 columns breaks, its leading parts
(`define name`, `if test`, ...) on the first line and each other part on its own line, indented by
two. Every node kind has its own head word; a call is `(f arg*)` unless `f` is a variable spelled
like a head word or a special form (then `(call f arg*)`); a tail call is `(tail-call f arg*)`.
A name that no program can write (a temporary such as " and1") prints between bars: `| and1|`.
Quoted symbols and data carry a `'` (`'sym`, `'[1 [a]]`); keywords print bare (`:k`).

    (define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))
    =>  (define fact (lambda fact (n) (if (= n 0) 1 (* n (fact (- n 1))))))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias, assert_never, final

from fluentai.reader.write import write_float, write_string
from fluentai.symbol import Symbol
from fluentai.syntax.core import (
    Ascribe,
    Call,
    CatchClause,
    CtorDecl,
    Data,
    Define,
    Expr,
    Group,
    Handle,
    HandlerClause,
    If,
    Lambda,
    Lit,
    LitValue,
    Match,
    MatchClause,
    Pattern,
    PCons,
    PCtor,
    Perform,
    PError,
    PList,
    PLit,
    PrimCall,
    Program,
    PVar,
    PWild,
    QList,
    QMap,
    Ref,
    Seq,
    SetVar,
    TCon,
    Try,
    TVar,
    Type,
    While,
)
from fluentai.syntax.expand import SPECIAL_FORMS

WIDTH: Final = 100
_MAX_BREAK_COLUMN: Final = 60
"""A form starting this far right stays on one line, so deep nesting keeps the dump linear."""

_HEAD_WORDS: Final = SPECIAL_FORMS | {
    "call", "tail-call", "prim", "seq", "group", "handler", "perform", "catch", "finally",
}  # fmt: skip
"""Head words of formatted forms and special-form names: calling a variable so named prints
`(call f ..)`, which also makes special-form names shadowed by local bindings easy to spot."""
_DELIMITERS: Final = frozenset(' \t\n\r\f,;()[]{}"')


def format_core(program: Program) -> str:
    """The whole program, one top-level form per line group, ending with a newline."""
    return "".join(_render(_expr(form)) + "\n" for form in program.forms)


def format_expr(e: Expr) -> str:
    """One expression (no trailing newline)."""
    return _render(_expr(e))


# ---------------------------------------------------------------- layout


@final
@dataclass(frozen=True, slots=True)
class _Block:
    """A bracketed group of parts; broken, the first `heads` parts stay on the opening line."""

    open: str
    parts: tuple[_Doc, ...]
    close: str
    heads: int
    indent: int
    width: int


_Doc: TypeAlias = str | _Block


def _block(open_: str, parts: list[_Doc], close: str, heads: int, indent: int) -> _Block:
    width = len(open_) + len(close) + max(0, len(parts) - 1)
    width += sum(len(p) if isinstance(p, str) else p.width for p in parts)
    return _Block(open_, tuple(parts), close, heads, indent, width)


def _form(*parts: _Doc, heads: int = 1) -> _Block:
    """`(part ...)`, broken after `heads` parts with an indent of two."""
    return _block("(", list(parts), ")", heads, 2)


def _render(doc: _Doc) -> str:
    out: list[str] = []
    _layout(doc, 0, out)
    return "".join(out)


def _layout(doc: _Doc, column: int, out: list[str]) -> int:
    """Write `doc` starting at `column`; return the column after it."""
    if isinstance(doc, str):
        out.append(doc)
        return column + len(doc)
    if column + doc.width <= WIDTH or column >= _MAX_BREAK_COLUMN:
        _flat(doc, out)
        return column + doc.width
    out.append(doc.open)
    at = column + len(doc.open)
    indent = column + doc.indent
    for index, part in enumerate(doc.parts):
        if index == 0:
            at = _layout(part, at, out)
        elif index < doc.heads:
            out.append(" ")
            at = _layout(part, at + 1, out)
        else:
            out.append("\n" + " " * indent)
            at = _layout(part, indent, out)
    out.append(doc.close)
    return at + len(doc.close)


def _flat(doc: _Doc, out: list[str]) -> None:
    if isinstance(doc, str):
        out.append(doc)
        return
    out.append(doc.open)
    for index, part in enumerate(doc.parts):
        if index:
            out.append(" ")
        _flat(part, out)
    out.append(doc.close)


# ---------------------------------------------------------------- Core to layout


def _name(name: str) -> str:
    """A name as written, or between bars if a program could not write it."""
    if name and name[0] not in "'|" and not any(ch in _DELIMITERS for ch in name):
        return name
    return "|" + name.replace("\\", "\\\\").replace("|", "\\|") + "|"


def _literal(value: LitValue) -> _Doc:
    """A literal: quoted symbols and data carry a `'`; keywords evaluate to themselves."""
    match value:
        case Symbol() if not _is_keyword(value.name):
            return "'" + _name(value.name)
        case QList(items):
            return _block("'[", [_datum(v) for v in items], "]", 1, 2)
        case QMap(pairs):
            return _block("'{", [_datum(v) for pair in pairs for v in pair], "}", 1, 2)
        case _:
            return _datum(value)


def _datum(value: LitValue) -> _Doc:
    """A value inside quoted data (or a self-evaluating literal)."""
    match value:
        case bool():
            return "#t" if value else "#f"
        case int():
            return str(value)
        case float():
            return write_float(value)
        case str():
            return write_string(value)
        case None:
            return "nil"
        case Symbol():
            return _name(value.name)
        case QList(items):
            return _block("[", [_datum(v) for v in items], "]", 1, 1)
        case QMap(pairs):
            return _block("{", [_datum(v) for pair in pairs for v in pair], "}", 1, 1)
        case _:
            assert_never(value)


def _is_keyword(name: str) -> bool:
    return len(name) >= 2 and name[0] == ":"


def _expr(e: Expr) -> _Doc:
    match e:
        case Lit(value):
            return _literal(value)
        case Ref(name):
            return _name(name)
        case Lambda(params, rest, body, name):
            head: list[_Doc] = ["lambda"] if name is None else ["lambda", _name(name)]
            return _form(*head, _parameters(params, rest), _expr(body), heads=len(head) + 1)
        case Call(fn, args, tail):
            parts = [_expr(a) for a in args]
            if tail:
                return _form("tail-call", _expr(fn), *parts, heads=2)
            if isinstance(fn, Ref) and fn.name in _HEAD_WORDS:
                return _form("call", _expr(fn), *parts, heads=2)
            return _form(_expr(fn), *parts)
        case PrimCall(name, args):
            return _form("prim", _name(name), *(_expr(a) for a in args), heads=2)
        case If(test, then, else_):
            return _form("if", _expr(test), _expr(then), _expr(else_), heads=2)
        case Seq(exprs):
            return _form("seq", *(_expr(x) for x in exprs))
        case Group(items):
            return _form("group", *(_expr(x) for x in items))
        case Define(name, value):
            return _form("define", _name(name), _expr(value), heads=2)
        case SetVar(name, value):
            return _form("set!", _name(name), _expr(value), heads=2)
        case While(test, body):
            return _form("while", _expr(test), _expr(body), heads=2)
        case Match(subject, clauses):
            return _form("match", _expr(subject), *(_match_clause(c) for c in clauses), heads=2)
        case Handle(clauses, body):
            table = _form(*(_handler_clause(c) for c in clauses))
            return _form("handler", table, _expr(body), heads=2)
        case Perform(op, args):
            return _form("perform", _name(op), *(_expr(a) for a in args), heads=2)
        case Try(body, catches, finally_):
            handlers = [_catch_clause(c) for c in catches]
            if finally_ is not None:
                handlers.append(_form("finally", _expr(finally_)))
            return _form("try", _expr(body), *handlers)
        case Data(name, tvars, ctors):
            names = [_name(v) for v in tvars]
            ctor_docs = [_ctor(c) for c in ctors]
            return _form("data", _name(name), *names, *ctor_docs, heads=2 + len(names))
        case Ascribe(expr, type_):
            return _form(":", _expr(expr), _type(type_), heads=2)
        case _:
            assert_never(e)


def _parameters(params: tuple[str, ...], rest: str | None) -> _Doc:
    names: list[_Doc] = [_name(p) for p in params]
    if rest is not None:
        names += [".", _name(rest)]
    return _form(*names)


def _match_clause(clause: MatchClause) -> _Doc:
    if clause.guard is None:
        return _form(_pattern(clause.pattern), _expr(clause.body))
    guard = _expr(clause.guard)
    return _form(_pattern(clause.pattern), ":when", guard, _expr(clause.body), heads=3)


def _handler_clause(clause: HandlerClause) -> _Doc:
    return _form(_name(clause.key), _expr(clause.fn))


def _catch_clause(clause: CatchClause) -> _Doc:
    return _form("catch", _pattern(clause.pattern), _expr(clause.body), heads=2)


def _ctor(ctor: CtorDecl) -> _Doc:
    if not ctor.fields:
        return _name(ctor.name)
    return _form(_name(ctor.name), *(_type(t) for t in ctor.fields))


def _type(ty: Type) -> _Doc:
    match ty:
        case TCon(name, args):
            return _form(_name(name), *(_type(a) for a in args)) if args else _name(name)
        case TVar(name):
            return _name(name)
        case _:
            assert_never(ty)


def _pattern(p: Pattern) -> _Doc:
    match p:
        case PWild():
            return "_"
        case PVar(name):
            return _name(name)
        case PLit(value):
            return _literal(value)
        case PList(items, rest):
            parts = [_pattern(x) for x in items]
            if rest is not None:
                parts += ["...", _pattern(rest)]
            return _block("[", parts, "]", 1, 1)
        case PCons(head, tail):
            return _form("Cons", _pattern(head), _pattern(tail))
        case PCtor(name, args):
            return _form(_name(name), *(_pattern(a) for a in args)) if args else _name(name)
        case PError(kind, message, data):
            return _form("Error", _pattern(kind), _pattern(message), _pattern(data))
        case _:
            assert_never(p)
