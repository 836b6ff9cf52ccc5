"""Expand special forms: Datum -> Core (DESIGN.md §1.2, LANGUAGE.md §3).

Input: the reader's Datums. Output: a Core `Program` (syntax/core.py). Every derived form ends
here: cond/when/unless, and/or (a Group plus If returning the deciding operand), named let,
defun/def, let*/letrec, quote, `[..]`/`{..}` and `(ns:op ..)`. A form whose shape its grammar line
does not allow is a `syntax-error` with the span of the offending datum.

    (define (f x) (and x (g x)))
    =>  (define f (lambda f (x) (group (define | and1| x) (if | and1| (g x) | and1|))))

Temporaries are named with a leading space (" and1", " or2", " cond3"), so no program can write
them. The expander tracks the set of locally bound names: a special-form name bound by a parameter,
`let`, internal definition or pattern is an ordinary variable in its scope (LANGUAGE.md §1), so a
form headed by it is a call. After an error, expansion goes on with the next top-level form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Final, NoReturn, TypeAlias, TypeVar, assert_never

from fluentai import records
from fluentai.diagnostics import DiagnosticSink
from fluentai.reader.datum import (
    Bracket,
    Datum,
    DBool,
    DDot,
    DFloat,
    DInt,
    DList,
    DNil,
    DStr,
    DSym,
)
from fluentai.reader.write import write_datum
from fluentai.records import record
from fluentai.source import Span
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

_T = TypeVar("_T")
# `and`/`or` operands nested one inside the next before the halves nest (`_and_or_of`)
AND_OR_CHAIN: Final = 1000

SPECIAL_FORMS: Final = frozenset(
    {
        "quote", "if", "cond", "when", "unless", "and", "or", "do", "begin", "let", "let*",
        "letrec", "lambda", "fn", "define", "defun", "def", "set!", "while", "match", "data", ":",
        "effect", "handler", "try", "module", "import", "export",
    }
)  # fmt: skip
"""LANGUAGE.md §3.2: a form headed by one of these is that form unless the name is bound locally."""

SYNTAX_ERROR: Final = "syntax-error"

_DEFINITIONS: Final = frozenset({"define", "defun", "def"})
_BASE_TYPES: Final = frozenset(
    {"Int", "Float", "Number", "String", "Bool", "Symbol", "Nil", "Unit", "Any", "Error"}
)
_TYPE_SHAPES: Final[dict[str, tuple[Callable[[int], bool], str]]] = {
    "List": (lambda n: n == 1, "(List type)"),
    "Map": (lambda n: n == 2, "(Map type type)"),
    "Function": (lambda n: n >= 1, "(Function type* type)"),
}
"""Type constructors with a fixed shape: (check on the number of arguments, grammar)."""
_GRAMMAR: Final = {
    "quote": "(quote datum)",
    "if": "(if test then else?)",
    "cond": "(cond (test body?)* (else body)?)",
    "when": "(when test body)",
    "unless": "(unless test body)",
    "let": "(let ((name expr)*) body) or (let name ((var init)*) body)",
    "let*": "(let* ((name expr)*) body) or (let* name ((var init)*) body)",
    "letrec": "(letrec ((name expr)*) body) or (letrec name ((var init)*) body)",
    "lambda": "(lambda params body)",
    "fn": "(fn params body)",
    "define": "(define name expr) or (define (name param* (. name)?) body)",
    "defun": "(defun name params body)",
    "def": "(def name expr) or (def name params body)",
    "set!": "(set! name expr)",
    "while": "(while test form+)",
    "match": "(match expr clause+)",
    "data": "(data TypeName tvar* ctor+)",
    ":": "(: expr type)",
    "effect": "(effect ns:op arg*)",
    "handler": "(handler (clause*) body)",
    "try": "(try body (catch pattern body)* (finally body)?)",
}

Bound: TypeAlias = frozenset[str]
"""The special-form names bound by enclosing local bindings, which make those names plain
(resolve_names does the rest). No other name decides anything here: `_bind` keeps only these, as
copying every local name into every inner scope made a body of n definitions quadratic (20 000
local functions took 37 s to expand)."""


def _bind(bound: Bound, names: Iterable[str]) -> Bound:
    """`bound` and those of `names` that are special-form names."""
    specials = [name for name in names if name in SPECIAL_FORMS]
    return bound.union(specials) if specials else bound


_NONE_BOUND: Final[Bound] = frozenset()


def expand_program(datums: Sequence[Datum], sink: DiagnosticSink) -> Program:
    """Expand a whole program; errors go to `sink` (the caller calls `sink.check()`)."""
    expander = _Expander(sink)
    forms: list[Expr] = []
    quiet: set[int] = set()
    for datum in datums:
        expander.expand_top_level(datum, forms, quiet)
    return Program(tuple(forms), frozenset(quiet))


class _SyntaxError(Exception):
    """Abandons the current top-level form; expand_top_level reports it."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


def _fail(message: str, span: Span) -> NoReturn:
    raise _SyntaxError(message, span)


def _malformed(name: str, d: Datum) -> NoReturn:
    _fail(f"malformed `{name}`: expected {_GRAMMAR[name]}", d.span)


# ---------------------------------------------------------------- symbols


class _Role(Enum):
    """The fixed role of a symbol (LANGUAGE.md §1)."""

    PLAIN = "plain"
    KEYWORD = "keyword"
    OPERATION = "ns:op"
    ASCRIPTION = ":"
    MALFORMED = "malformed"


def _role(name: str) -> _Role:
    if name == ":":
        return _Role.ASCRIPTION
    if ":" not in name:
        return _Role.PLAIN
    if name[0] == ":":  # §1's rows in order: `:name` comes before "any other symbol with `:`"
        return _Role.KEYWORD
    if name.count(":") == 1 and name[-1] != ":":
        return _Role.OPERATION
    return _Role.MALFORMED


def _malformed_symbol(name: str, span: Span) -> NoReturn:
    _fail(f"invalid symbol `{name}`: `:` may only start a keyword or separate `ns:op`", span)


def _binding_name(d: Datum) -> str:
    """The name bound or assigned by `d`: a symbol that is not a keyword, `ns:op` or `:`."""
    if not isinstance(d, DSym):
        _fail(f"expected a name, got `{_written(d)}`", d.span)
    role = _role(d.name)
    match role:
        case _Role.PLAIN:
            return d.name
        case _Role.KEYWORD:
            _fail(f"cannot bind keyword `{d.name}`", d.span)
        case _Role.OPERATION:
            _fail(f"cannot bind effect operation `{d.name}`", d.span)
        case _Role.ASCRIPTION:
            return d.name  # `:` is a special-form name, not reserved in local scopes (§1)
        case _Role.MALFORMED:
            _malformed_symbol(d.name, d.span)
        case _:
            assert_never(role)


def _as_special(d: Datum, bound: Bound) -> tuple[str, DList] | None:
    """(name, form) if `d` is a special form: headed by an unbound special-form name."""
    if isinstance(d, DList) and d.bracket is Bracket.PAREN and d.items:
        head = d.items[0]
        if isinstance(head, DSym) and head.name in SPECIAL_FORMS and head.name not in bound:
            return head.name, d
    return None


def _span_of(forms: Sequence[Datum]) -> Span:
    return forms[0].span.to(forms[-1].span)


def _with_name(value: Expr, name: str) -> Expr:
    """A `lambda`/`fn` bound by a definition or `let` takes the bound name."""
    if isinstance(value, Lambda) and value.name is None and name != "_":
        return records.replace(value, name=name)
    return value


def _parameters(
    items: Sequence[Datum], *, min_before_dot: int
) -> tuple[tuple[str, ...], str | None]:
    """`name* (. name)?`: the parameter names and the rest name; duplicates are errors."""
    params: list[str] = []
    rest: str | None = None
    seen: set[str] = set()
    for index, item in enumerate(items):
        target = item
        if isinstance(item, DDot):
            if len(params) < min_before_dot:
                _fail("a rest parameter `. name` needs a parameter before the `.`", item.span)
            if index != len(items) - 2:
                _fail("`.` must be followed by exactly one rest parameter name", item.span)
            target = items[index + 1]
        name = _binding_name(target)
        if name != "_" and name in seen:
            _fail(f"duplicate parameter `{name}`", target.span)
        seen.add(name)
        if target is item:
            params.append(name)
        else:
            rest = name
            break
    return tuple(params), rest


def _lambda_parameters(d: Datum) -> tuple[tuple[str, ...], str | None]:
    """`params` of lambda/fn/defun/def: `(name*)`, `(name+ . name)` or a single name."""
    if isinstance(d, DSym):
        return (), _binding_name(d)
    if isinstance(d, DList) and d.bracket is Bracket.PAREN:
        return _parameters(d.items, min_before_dot=1)
    _fail(f"expected a parameter list or a name, got `{_written(d)}`", d.span)


def _bound_by(params: Sequence[str], rest: str | None) -> frozenset[str]:
    return frozenset(params) | ({rest} if rest is not None else frozenset())


# ---------------------------------------------------------------- the expander


class _Expander:
    """Expansion state for one program: the sink, the temporary counter, declared data names."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self._sink = sink
        self._temp_count = 0
        self._type_names: set[str] = set()
        self._ctor_names: set[str] = set()

    def expand_top_level(
        self, d: Datum, out: list[Expr], quiet: set[int], last: bool = True
    ) -> None:
        """Append the Core of top-level form `d` (a `do`/`begin` is flattened) to `out`; the
        indices of forms that are not the last of their `do`/`begin` (`last` false) go into
        `quiet` (their values are not the top-level form's)."""
        start = len(out)
        try:
            special = _as_special(d, _NONE_BOUND)
            if special is None:
                out.append(self._expr(d, _NONE_BOUND))
                return
            name, form = special
            if name in ("do", "begin"):
                items = form.items[1:]
                for i, item in enumerate(items):
                    self.expand_top_level(item, out, quiet, last and i == len(items) - 1)
            elif name in _DEFINITIONS:
                out.append(self._definition(name, form, _NONE_BOUND, top_level=True))
            elif name == "data":
                out.append(self._data(form))
            else:
                out.append(self._expr(d, _NONE_BOUND))
        except _SyntaxError as error:
            self._sink.error(SYNTAX_ERROR, error.message, error.span)
        finally:
            if not last:
                quiet.update(range(start, len(out)))

    def _temp(self, prefix: str) -> str:
        self._temp_count += 1
        return f" {prefix}{self._temp_count}"

    # ------------------------------------------------------------ expressions

    def _exprs(self, ds: Sequence[Datum], bound: Bound) -> tuple[Expr, ...]:
        return tuple(self._expr(d, bound) for d in ds)

    def _expr(self, d: Datum, bound: Bound) -> Expr:
        """An expression where definitions are not allowed. A syntax error inside it is
        reported and the expression becomes nil, so that the rest of the top-level form is
        still expanded and resolved: an unbound name or arity error before it in the same form
        is the first compile-time error in source order (LANGUAGE.md §2.4)."""
        try:
            return self._expr_of(d, bound)
        except _SyntaxError as error:
            self._sink.error(SYNTAX_ERROR, error.message, error.span)
            return Lit(None, span=d.span)

    def _expr_of(self, d: Datum, bound: Bound) -> Expr:
        span = d.span
        match d:
            case DInt(value):
                return Lit(value, span=span)
            case DFloat(value):
                return Lit(value, span=span)
            case DStr(value):
                return Lit(value, span=span)
            case DBool(value):
                return Lit(value, span=span)
            case DNil():
                return Lit(None, span=span)
            case DSym(name):
                return self._symbol(name, span, bound)
            case DDot():
                _fail("`.` is allowed only before a rest parameter", span)
            case DList():
                return self._bracketed(d, bound)
            case _:
                assert_never(d)

    def _symbol(self, name: str, span: Span, bound: Bound) -> Expr:
        role = _role(name)
        match role:
            case _Role.PLAIN:
                if name in SPECIAL_FORMS and name not in bound:
                    _fail(f"special form `{name}` cannot be used as a value", span)
                return Ref(name, span=span)
            case _Role.KEYWORD:
                return Lit(Symbol(name), span=span)
            case _Role.OPERATION:
                return Ref(name, span=span)
            case _Role.ASCRIPTION:
                if name not in bound:
                    _fail("special form `:` cannot be used as a value", span)
                return Ref(name, span=span)
            case _Role.MALFORMED:
                _malformed_symbol(name, span)
            case _:
                assert_never(role)

    def _bracketed(self, d: DList, bound: Bound) -> Expr:
        items, span = d.items, d.span
        match d.bracket:
            case Bracket.SQUARE:
                if not items:
                    return Lit(QList(()), span=span)
                return PrimCall("list", self._exprs(items, bound), span=span)
            case Bracket.CURLY:
                if len(items) % 2:
                    _fail(f"a map needs keys and values in pairs, got {len(items)} forms", span)
                if not items:
                    return Lit(QMap(()), span=span)
                return PrimCall("%map-literal", self._exprs(items, bound), span=span)
            case Bracket.PAREN:
                return self._form(d, bound)
            case _:
                assert_never(d.bracket)

    def _form(self, d: DList, bound: Bound) -> Expr:
        """`(op arg*)`: a special form, a perform of `ns:op`, or a call; `()` is the empty list."""
        if not d.items:
            return Lit(QList(()), span=d.span)
        head, args = d.items[0], d.items[1:]
        if isinstance(head, DSym):
            if head.name in SPECIAL_FORMS and head.name not in bound:
                return self._special_form(head.name, d, bound)
            if _role(head.name) is _Role.OPERATION:
                return Perform(head.name, self._exprs(args, bound), span=d.span)
        return Call(self._expr(head, bound), self._exprs(args, bound), span=d.span)

    def _special_form(self, name: str, d: DList, bound: Bound) -> Expr:
        """A special form in expression position (not top level, not among a body's forms)."""
        items = d.items
        match name:
            case "quote":
                if len(items) != 2:
                    _malformed(name, d)
                return Lit(_quote(items[1]), span=d.span)
            case "if":
                if len(items) not in (3, 4):
                    _malformed(name, d)
                test, then = self._expr(items[1], bound), self._expr(items[2], bound)
                otherwise = (
                    self._expr(items[3], bound) if len(items) == 4 else Lit(None, span=d.span)
                )
                return If(test, then, otherwise, span=d.span)
            case "cond":
                return self._cond(d, bound)
            case "when" | "unless":
                if len(items) < 3:
                    _malformed(name, d)
                test = self._expr(items[1], bound)
                body = self._body(items[2:], bound)
                nothing = Lit(None, span=d.span)
                if name == "when":
                    return If(test, body, nothing, span=d.span)
                return If(test, nothing, body, span=d.span)
            case "and" | "or":
                return self._and_or(name, d, bound)
            case "do" | "begin":
                if len(items) == 1:
                    return Lit(None, span=d.span)
                return Seq(self._exprs(items[1:], bound), span=d.span)
            case "let" | "let*" | "letrec":
                return self._let(name, d, bound)
            case "lambda" | "fn":
                if len(items) < 3:
                    _malformed(name, d)
                params, rest = _lambda_parameters(items[1])
                return self._function(None, params, rest, items[2:], bound, d.span)
            case "define" | "defun" | "def":
                _fail(
                    "a definition is allowed only at top level or among the forms of a body", d.span
                )
            case "set!":
                return self._set(d, bound)
            case "while":
                if len(items) < 3:
                    _malformed(name, d)
                body = Seq(self._exprs(items[2:], bound), span=_span_of(items[2:]))
                return While(self._expr(items[1], bound), body, span=d.span)
            case "match":
                if len(items) < 3:
                    _malformed(name, d)
                subject = self._expr(items[1], bound)
                clauses = tuple(
                    clause
                    for clause in (
                        self._recovering(self._match_clause, c, bound) for c in items[2:]
                    )
                    if clause is not None
                )
                return Match(subject, clauses, span=d.span)
            case "data":
                _fail("`data` is allowed only at top level", d.span)
            case ":":
                if len(items) != 3:
                    _malformed(name, d)
                return Ascribe(self._expr(items[1], bound), _type(items[2]), span=d.span)
            case "effect":
                if len(items) < 2:
                    _malformed(name, d)
                op = items[1]
                if not (isinstance(op, DSym) and _role(op.name) is _Role.OPERATION):
                    _fail(f"`effect` expects an operation `ns:op`, got `{_written(op)}`", op.span)
                return Perform(op.name, self._exprs(items[2:], bound), span=d.span)
            case "handler":
                return self._handler(d, bound)
            case "try":
                return self._try(d, bound)
            case "module" | "import" | "export":
                _fail(f"`{name}`: modules are not supported in this version", d.span)
            case _:
                raise AssertionError(f"special form `{name}` has no expansion")

    # ------------------------------------------------------------ bodies and definitions

    def _body(self, forms: Sequence[Datum], bound: Bound) -> Expr:
        """A body (`form+`, at least one form): definitions make it a binding Group.

        Which forms are definitions is decided in the enclosing scope; the defined names are then
        in scope in the whole group (LANGUAGE.md §3.1).
        """
        assert forms, "callers check that a body has a form"
        # The group's names are in scope in the whole group, so a local definition of `def`
        # makes a later `(def 4)` a call: first collect the names of the well-formed
        # definitions, then classify every form with those names in scope.
        first: dict[int, str] = {}
        for index, form in enumerate(forms):
            special = _as_special(form, bound)
            if special is not None and special[0] in _DEFINITIONS:
                try:
                    first[index] = self._definition_name(*special)
                except _SyntaxError:
                    pass  # reported below if it is still a definition

        specials = {j: n for j, n in first.items() if n in SPECIAL_FORMS}

        def scope_of(index: int) -> Bound:
            # a form's own head is judged without the name it defines itself
            return _bind(bound, (n for j, n in specials.items() if j != index))

        definitions: dict[int, str] = {}
        for index, form in enumerate(forms):
            special = _as_special(form, scope_of(index))
            if special is not None and special[0] in _DEFINITIONS:
                definitions[index] = self._definition_name(*special)
        span = _span_of(forms)
        if not definitions:
            exprs = self._exprs(forms, bound)
            return exprs[0] if len(exprs) == 1 else Seq(exprs, span=span)
        inner = _bind(bound, definitions.values())
        items: list[Expr] = []
        for index, form in enumerate(forms):
            special = _as_special(form, scope_of(index))
            if index in definitions and special is not None:
                items.append(self._definition(special[0], special[1], inner, top_level=False))
            else:
                items.append(self._expr(form, inner))
        return Group(tuple(items), span=span)

    def _definition_name(self, kind: str, d: DList) -> str:
        """The name a definition defines (checked before the group's scope is known)."""
        items = d.items
        if len(items) < 3:
            _malformed(kind, d)
        target = items[1]
        if kind == "define" and isinstance(target, DList) and target.bracket is Bracket.PAREN:
            if not target.items:
                _malformed(kind, d)
            target = target.items[0]
        return _binding_name(target)

    def _definition(self, kind: str, d: DList, bound: Bound, *, top_level: bool) -> Define:
        """`define`, `defun` or `def` at top level or among a body's forms."""
        name = self._definition_name(kind, d)
        if top_level and name in SPECIAL_FORMS:
            signature = d.items[1]
            at = signature.items[0] if isinstance(signature, DList) else signature
            _fail(f"cannot define special form name `{name}` at top level", at.span)
        items = d.items
        signature = items[1]
        value: Expr
        value_only = False
        if kind == "define" and isinstance(signature, DList):
            params, rest = _parameters(signature.items[1:], min_before_dot=0)
            value = self._function(name, params, rest, items[2:], bound, d.span)
        elif len(items) == 3 and kind != "defun":
            value = _with_name(self._expr(items[2], bound), name)
            value_only = kind == "def"
        elif len(items) >= 4 and kind != "define":
            params, rest = _lambda_parameters(items[2])
            value = self._function(name, params, rest, items[3:], bound, d.span)
        else:
            _malformed(kind, d)
        return Define(name, value, span=d.span, value_only=value_only)

    def _function(
        self,
        name: str | None,
        params: tuple[str, ...],
        rest: str | None,
        body: Sequence[Datum],
        bound: Bound,
        span: Span,
    ) -> Lambda:
        inner = _bind(bound, _bound_by(params, rest))
        return Lambda(params, rest, self._body(body, inner), name, span=span)

    # ------------------------------------------------------------ derived forms

    def _cond(self, d: DList, bound: Bound) -> Expr:
        """`cond` as nested Ifs; a clause without a body keeps its test's value in a temporary."""
        clauses = d.items[1:]
        parsed: list[tuple[DList, Expr | None, Expr | None]] = []  # (clause, test, body)
        for index, clause in enumerate(clauses):
            if not (isinstance(clause, DList) and clause.bracket is Bracket.PAREN and clause.items):
                _fail(
                    f"malformed `cond` clause: expected (test body?), got `{_written(clause)}`",
                    clause.span,
                )
            test, forms = clause.items[0], clause.items[1:]
            if isinstance(test, DSym) and test.name == "else":
                if index != len(clauses) - 1:
                    _fail("`else` must be the last clause of `cond`", clause.span)
                if not forms:
                    _fail("malformed `cond` clause: expected (else body)", clause.span)
                parsed.append((clause, None, self._body(forms, bound)))
            else:
                body = self._body(forms, bound) if forms else None
                parsed.append((clause, self._expr(test, bound), body))
        result: Expr = Lit(None, span=d.span)
        for clause, test_expr, body in reversed(parsed):
            if test_expr is None:
                assert body is not None
                result = body
            elif body is not None:
                result = If(test_expr, body, result, span=clause.span)
            else:
                temp = self._temp("cond")
                ref = Ref(temp, span=test_expr.span)
                keep = If(ref, ref, result, span=clause.span)
                result = Group(
                    (Define(temp, test_expr, span=test_expr.span), keep), span=clause.span
                )
        return result

    def _and_or(self, name: str, d: DList, bound: Bound) -> Expr:
        """`(and a b ..)`: Group((Define(t, a), If(t, (and b ..), t))); `or` swaps the branches."""
        operands = self._exprs(d.items[1:], bound)
        if not operands:
            return Lit(name == "and", span=d.span)
        return self._and_or_of(name, operands, d.span)

    def _and_or_of(self, name: str, operands: Sequence[Expr], span: Span) -> Expr:
        """Each operand nests one level deeper than the one before it. Past AND_OR_CHAIN
        operands, both halves are `and`s (`or`s) of their own and the second is the first's
        `(and ..)` rest: the same values, order and tail position (both operations are
        associative), nested about AND_OR_CHAIN + log2(n) deep, so any number of operands
        compiles (docs/decisions.md, "Language" 30)."""
        if len(operands) > AND_OR_CHAIN:
            half = len(operands) // 2
            temp = self._temp(name)
            first = self._and_or_of(name, operands[:half], span)
            rest = self._and_or_of(name, operands[half:], span)
            return self._and_or_step(name, temp, first, rest, span)
        temps = [self._temp(name) for _ in operands[:-1]]
        result = operands[-1]
        for operand, temp in zip(reversed(operands[:-1]), reversed(temps), strict=True):
            result = self._and_or_step(name, temp, operand, result, span)
        return result

    def _and_or_step(self, name: str, temp: str, operand: Expr, rest: Expr, span: Span) -> Expr:
        ref = Ref(temp, span=operand.span)
        if name == "and":
            decide = If(ref, rest, ref, span=span)
        else:
            decide = If(ref, ref, rest, span=span)
        return Group((Define(temp, operand, span=operand.span), decide), span=span)

    def _let(self, kind: str, d: DList, bound: Bound) -> Expr:
        """`let`/`let*`/`letrec`: one binding Group of the bindings, then the body."""
        items = d.items
        if len(items) >= 2 and isinstance(items[1], DSym):
            return self._named_let(kind, d, bound)
        if len(items) < 3:
            _malformed(kind, d)
        pairs = self._bindings(kind, items[1])
        inner = _bind(bound, (name for name, _, _ in pairs))
        defines = [
            Define(name, _with_name(self._expr(init, inner), name), span=binding.span)
            for name, init, binding in pairs
        ]
        return Group((*defines, self._body(items[2:], inner)), span=d.span)

    def _named_let(self, kind: str, d: DList, bound: Bound) -> Expr:
        """`(let loop ((v init)*) body)`: ((group (define loop (lambda ...)) loop) init*)."""
        items = d.items
        if len(items) < 4:
            _malformed(kind, d)
        name = _binding_name(items[1])
        pairs = self._bindings(kind, items[2])
        seen: set[str] = set()
        for var, _, binding in pairs:
            if var != "_" and var in seen:
                _fail(f"duplicate parameter `{var}`", binding.span)
            seen.add(var)
        inits = self._exprs([init for _, init, _ in pairs], bound)
        params = tuple(var for var, _, _ in pairs)
        loop = self._function(name, params, None, items[3:], _bind(bound, (name,)), d.span)
        group = Group((Define(name, loop, span=d.span), Ref(name, span=items[1].span)), span=d.span)
        return Call(group, inits, span=d.span)

    def _bindings(self, kind: str, d: Datum) -> list[tuple[str, Datum, Datum]]:
        """`((name expr)*)` as (name, init, binding) triples."""
        if not (isinstance(d, DList) and d.bracket is Bracket.PAREN):
            _fail(
                f"malformed `{kind}`: expected a binding list ((name expr)*), got `{_written(d)}`",
                d.span,
            )
        pairs: list[tuple[str, Datum, Datum]] = []
        for binding in d.items:
            if not (
                isinstance(binding, DList)
                and binding.bracket is Bracket.PAREN
                and len(binding.items) == 2
            ):
                _fail(
                    f"malformed `{kind}` binding: expected (name expr), got `{_written(binding)}`",
                    binding.span,
                )
            pairs.append((_binding_name(binding.items[0]), binding.items[1], binding))
        return pairs

    def _set(self, d: DList, bound: Bound) -> Expr:
        if len(d.items) != 3:
            _malformed("set!", d)
        name = _binding_name(d.items[1])
        if name in SPECIAL_FORMS and name not in bound:
            _fail(f"cannot assign special form name `{name}`", d.items[1].span)
        return SetVar(name, self._expr(d.items[2], bound), span=d.span)

    # ------------------------------------------------------------ match, handler, try

    def _recovering(self, make: Callable[[Datum, Bound], _T], d: Datum, bound: Bound) -> _T | None:
        """`make(d, bound)`, or None after reporting its syntax error: the other clauses of the
        form are still expanded and resolved, so that an error before it in source order (an
        unknown constructor in an earlier pattern) is the one reported (LANGUAGE.md §2.4)."""
        try:
            return make(d, bound)
        except _SyntaxError as error:
            self._sink.error(SYNTAX_ERROR, error.message, error.span)
            return None

    def _match_clause(self, d: Datum, bound: Bound) -> MatchClause:
        """`(pattern body)` or `(pattern :when guard body)`."""
        if not (isinstance(d, DList) and d.bracket is Bracket.PAREN and len(d.items) >= 2):
            _fail(
                "malformed `match` clause: expected (pattern body) or (pattern :when guard body)",
                d.span,
            )
        items = d.items
        pattern, names = _pattern_of(items[0])
        inner = _bind(bound, names)
        guard: Expr | None = None
        body = items[1:]
        if isinstance(items[1], DSym) and items[1].name == ":when":
            if len(items) < 4:
                _fail("malformed `match` clause: expected (pattern :when guard body)", d.span)
            guard = self._expr(items[2], inner)
            body = items[3:]
        return MatchClause(pattern, guard, self._body(body, inner), span=d.span)

    def _handler(self, d: DList, bound: Bound) -> Expr:
        items = d.items
        if len(items) < 3:
            _malformed("handler", d)
        clause_list = items[1]
        if not (isinstance(clause_list, DList) and clause_list.bracket is Bracket.PAREN):
            _malformed("handler", d)
        clauses: list[HandlerClause] = []
        for clause in clause_list.items:
            match clause:
                case DList(items=(DSym(name=key) as key_datum, fn), bracket=Bracket.PAREN):
                    role = _role(key)
                    if role is not _Role.OPERATION and (role is not _Role.PLAIN or key == "_"):
                        _fail(
                            f"a handler clause key must be `ns:op` or `ns`, got `{key}`",
                            key_datum.span,
                        )
                    clauses.append(HandlerClause(key, self._expr(fn, bound), span=clause.span))
                case _:
                    _fail(
                        "malformed `handler` clause: expected (ns:op expr) or (ns expr)",
                        clause.span,
                    )
        return Handle(tuple(clauses), self._body(items[2:], bound), span=d.span)

    def _try(self, d: DList, bound: Bound) -> Expr:
        """The clauses start at the first `(catch ..)`/`(finally ..)` after the body forms."""
        items = d.items
        first = next((i for i in range(1, len(items)) if _try_clause(items[i])), None)
        if first is None:
            _fail("`try` needs at least one `catch` or `finally` clause after its body", d.span)
        if first == 1:
            _fail("`try` needs a body before its clauses", d.span)
        body = self._body(items[1:first], bound)
        catches: list[CatchClause] = []
        finally_: Expr | None = None
        for clause in items[first:]:
            kind = _try_clause(clause)
            if kind is None:
                _fail(
                    f"expected a `catch` or `finally` clause, got `{_written(clause)}`", clause.span
                )
            if finally_ is not None:
                _fail("`finally` must be the last clause of `try`", clause.span)
            assert isinstance(clause, DList)
            if kind == "catch":
                caught = self._recovering(self._catch_clause, clause, bound)
                if caught is not None:
                    catches.append(caught)
            else:
                if len(clause.items) < 2:
                    _fail("malformed `finally` clause: expected (finally body)", clause.span)
                finally_ = self._body(clause.items[1:], bound)
        return Try(body, tuple(catches), finally_, span=d.span)

    def _catch_clause(self, clause: Datum, bound: Bound) -> CatchClause:
        assert isinstance(clause, DList)
        if len(clause.items) < 3:
            _fail("malformed `catch` clause: expected (catch pattern body)", clause.span)
        pattern, names = _pattern_of(clause.items[1])
        handler_body = self._body(clause.items[2:], _bind(bound, names))
        return CatchClause(pattern, handler_body, span=clause.span)

    # ------------------------------------------------------------ data

    def _data(self, d: DList) -> Data:
        """`(data TypeName tvar* ctor+)` at top level; names are checked against earlier data."""
        items = d.items
        if len(items) < 3:
            _malformed("data", d)
        type_name = _upper_name(items[1], "type name")
        if type_name in self._type_names:
            _fail(f"type `{type_name}` is defined twice", items[1].span)
        tvars: list[str] = []
        index = 2
        while index < len(items):
            item = items[index]
            if not isinstance(item, DSym) or _is_upper_name(item.name):
                break
            if not _is_type_variable(item.name):
                _fail(
                    f"malformed type variable `{item.name}`: expected a lowercase name", item.span
                )
            if item.name in tvars:
                _fail(f"duplicate type variable `{item.name}`", item.span)
            tvars.append(item.name)
            index += 1
        if index == len(items):
            _fail(f"`data {type_name}` needs at least one constructor", d.span)
        ctors: list[CtorDecl] = []
        names: set[str] = set()
        for ctor in items[index:]:
            decl = _ctor_decl(ctor)
            if decl.name in names or decl.name in self._ctor_names:
                _fail(f"constructor `{decl.name}` is defined twice", ctor.span)
            names.add(decl.name)
            ctors.append(decl)
        self._type_names.add(type_name)
        self._ctor_names |= names
        return Data(type_name, tuple(tvars), tuple(ctors), span=d.span)


def _try_clause(d: Datum) -> str | None:
    """ "catch" or "finally" if `d` is such a clause of `try` (recognized by position)."""
    match d:
        case DList(items=(DSym(name=("catch" | "finally") as kind), *_), bracket=Bracket.PAREN):
            return kind
    return None


# ---------------------------------------------------------------- data declarations and types


def _is_upper_name(name: str) -> bool:
    """Type and constructor names start with an uppercase ASCII letter (LANGUAGE.md §10.1)."""
    return "A" <= name[0] <= "Z" and ":" not in name


def _is_type_variable(name: str) -> bool:
    return name[0].islower() and ":" not in name


def _upper_name(d: Datum, what: str) -> str:
    if not (isinstance(d, DSym) and _is_upper_name(d.name)):
        _fail(f"a {what} must start with an uppercase ASCII letter, got `{_written(d)}`", d.span)
    return d.name


def _ctor_decl(d: Datum) -> CtorDecl:
    """`C`, `(C)` or `(C type+)`."""
    if isinstance(d, DSym):
        return CtorDecl(_upper_name(d, "constructor name"), (), span=d.span)
    if isinstance(d, DList) and d.bracket is Bracket.PAREN and d.items:
        name = _upper_name(d.items[0], "constructor name")
        return CtorDecl(name, tuple(_type(t) for t in d.items[1:]), span=d.span)
    _fail(
        f"malformed constructor: expected CtorName or (CtorName type+), got `{_written(d)}`", d.span
    )


def _type(d: Datum) -> Type:
    """A type (LANGUAGE.md §11); only the shape is checked here, names by resolve_names."""
    match d:
        case DSym(name) if _is_upper_name(name):
            return TCon(name, (), span=d.span)
        case DSym(name) if _is_type_variable(name):
            return TVar(name, span=d.span)
        case DList(items=(DSym(name=name), *args), bracket=Bracket.PAREN) if _is_upper_name(name):
            if name in _BASE_TYPES:
                _fail(f"malformed type `{_written(d)}`: `{name}` takes no type arguments", d.span)
            shape = _TYPE_SHAPES.get(name)
            if shape is not None and not shape[0](len(args)):
                _fail(f"malformed type `{_written(d)}`: expected {shape[1]}", d.span)
            return TCon(name, tuple(_type(a) for a in args), span=d.span)
    _fail(f"malformed type `{_written(d)}`", d.span)


# ---------------------------------------------------------------- patterns


def _pattern_of(d: Datum) -> tuple[Pattern, frozenset[str]]:
    """A pattern and the names it binds (each at most once)."""
    names: dict[str, Span] = {}
    pattern = _pattern(d, names)
    return pattern, frozenset(names)


def _pattern(d: Datum, names: dict[str, Span]) -> Pattern:
    span = d.span
    match d:
        case DInt(value):
            return PLit(value, span=span)
        case DFloat(value):
            return PLit(value, span=span)
        case DStr(value):
            return PLit(value, span=span)
        case DBool(value):
            return PLit(value, span=span)
        case DNil():
            return PLit(None, span=span)
        case DSym(name):
            return _symbol_pattern(name, span, names)
        case DDot():
            _fail("malformed pattern: `.` is not a pattern", span)
        case DList():
            match d.bracket:
                case Bracket.PAREN:
                    return _form_pattern(d, names)
                case Bracket.SQUARE:
                    return _list_pattern(d, names)
                case Bracket.CURLY:
                    _fail(f"malformed pattern `{_written(d)}`: there are no map patterns", span)
                case _:
                    assert_never(d.bracket)
        case _:
            assert_never(d)


def _symbol_pattern(name: str, span: Span, names: dict[str, Span]) -> Pattern:
    role = _role(name)
    if role is _Role.KEYWORD:
        return PLit(Symbol(name), span=span)
    if role is _Role.MALFORMED:
        _malformed_symbol(name, span)
    if role is not _Role.PLAIN:
        _fail(f"malformed pattern `{name}`", span)
    if name == "_":
        return PWild(span=span)
    if name == "Nil":
        return PList((), None, span=span)
    if name in ("Cons", "Error"):
        _fail(f"malformed pattern `{name}`: `{name}` patterns need their fields", span)
    if name.startswith("..."):
        _fail(f"malformed pattern `{name}`: a rest pattern may only end a list pattern", span)
    if name[0].isupper():
        return PCtor(name, (), span=span)
    return _pattern_variable(name, span, names)


def _pattern_variable(name: str, span: Span, names: dict[str, Span]) -> PVar:
    if name in names:
        _fail(f"duplicate pattern variable `{name}`", span)
    names[name] = span
    return PVar(name, span=span)


def _form_pattern(d: DList, names: dict[str, Span]) -> Pattern:
    """`()`, `'symbol`, `(Nil)`, `(Cons ph pt)`, `(Error pk pm pd)` or `(Ctor pattern*)`."""
    items, span = d.items, d.span
    if not items:
        return PList((), None, span=span)
    head, args = items[0], items[1:]
    if not isinstance(head, DSym) or _role(head.name) is not _Role.PLAIN:
        _fail(f"malformed pattern `{_written(d)}`: expected a constructor at its head", span)
    match head.name, len(args):
        case "quote", 1:
            quoted = args[0]
            if not isinstance(quoted, DSym):
                _fail(f"malformed pattern `{_written(d)}`: only a symbol may be quoted", span)
            if _role(quoted.name) is _Role.MALFORMED:
                _malformed_symbol(quoted.name, quoted.span)
            return PLit(Symbol(quoted.name), span=span)
        case "Nil", 0:
            return PList((), None, span=span)
        case "Cons", 2:
            return PCons(_pattern(args[0], names), _pattern(args[1], names), span=span)
        case "Error", 3:
            kind, message, data = (_pattern(a, names) for a in args)
            return PError(kind, message, data, span=span)
        case ("quote" | "Nil" | "Cons" | "Error") as name, _:
            shape = {"quote": "'symbol", "Nil": "(Nil)", "Cons": "(Cons head tail)"}
            expected = shape.get(name, "(Error kind message data)")
            _fail(f"malformed pattern `{_written(d)}`: expected {expected}", span)
        case name, _ if name[0].isupper():
            return PCtor(name, tuple(_pattern(a, names) for a in args), span=span)
    _fail(f"malformed pattern `{_written(d)}`: constructors start with an uppercase letter", span)


def _list_pattern(d: DList, names: dict[str, Span]) -> PList:
    """`[p*]`, `[p* ... rest]` or `[p* ...rest]`."""
    items = d.items
    elements: list[Pattern] = []
    rest: PVar | PWild | None = None
    for index, item in enumerate(items):
        if isinstance(item, DSym) and item.name.startswith("..."):
            if item.name == "...":
                if index != len(items) - 2 or not isinstance(items[-1], DSym):
                    _fail(
                        "malformed list pattern: `...` must be followed by one rest name at "
                        "the end",
                        item.span,
                    )
                rest_datum = items[-1]
                assert isinstance(rest_datum, DSym)
                rest = _rest_pattern(rest_datum.name, rest_datum.span, names)
            else:
                if index != len(items) - 1:
                    _fail(
                        f"malformed list pattern: `{item.name}` must end the list pattern",
                        item.span,
                    )
                rest = _rest_pattern(item.name[3:], item.span, names)
            break
        elements.append(_pattern(item, names))
    return PList(tuple(elements), rest, span=d.span)


def _rest_pattern(name: str, span: Span, names: dict[str, Span]) -> PVar | PWild:
    if name == "_":
        return PWild(span=span)
    if not name or _role(name) is not _Role.PLAIN or name[0].isupper() or name.startswith("..."):
        _fail(f"malformed rest pattern `{name}`: expected a name or `_`", span)
    return _pattern_variable(name, span, names)


# ---------------------------------------------------------------- quote


@record(frozen=False)
class _QuoteFrame:
    """A list being quoted: its datum, the values of the items done so far."""

    datum: DList
    values: list[LitValue]


def _quote(d: Datum) -> LitValue:
    """The quoted value of `d`, with an explicit stack (quoted data may nest 10 000 deep)."""
    if not isinstance(d, DList):
        return _quote_atom(d)
    frames = [_QuoteFrame(d, [])]
    while True:
        frame = frames[-1]
        if len(frame.values) < len(frame.datum.items):
            item = frame.datum.items[len(frame.values)]
            if isinstance(item, DList):
                frames.append(_QuoteFrame(item, []))
            else:
                frame.values.append(_quote_atom(item))
            continue
        frames.pop()
        value = _quoted_collection(frame.datum, frame.values)
        if not frames:
            return value
        frames[-1].values.append(value)


def _quoted_collection(d: DList, values: list[LitValue]) -> LitValue:
    match d.bracket:
        case Bracket.PAREN | Bracket.SQUARE:
            return QList(tuple(values))
        case Bracket.CURLY:
            if len(values) % 2:
                _fail(f"a map needs keys and values in pairs, got {len(values)} forms", d.span)
            return QMap(tuple(zip(values[::2], values[1::2], strict=True)))
        case _:
            assert_never(d.bracket)


def _quote_atom(d: Datum) -> LitValue:
    match d:
        case DInt(value):
            return value
        case DFloat(value):
            return value
        case DStr(value):
            return value
        case DBool(value):
            return value
        case DNil():
            return None
        case DSym(name):
            if _role(name) is _Role.MALFORMED:
                _malformed_symbol(name, d.span)
            return Symbol(name)
        case DDot():
            _fail("`.` cannot appear in quoted data", d.span)
        case DList():
            raise AssertionError("_quote handles lists")
        case _:
            assert_never(d)


# ---------------------------------------------------------------- messages


def _written(d: Datum, limit: int = 40) -> str:
    """The written form of `d` for a message, cut to about `limit` characters."""
    text = write_datum(d)
    return text if len(text) <= limit else text[: limit - 3] + "..."
