"""Result types of the builtins (DESIGN.md §1.3 "sig" column), by canonical name.

`result_type(name, args)` gives the type of a primitive application from its argument types. A
builtin that is certain to fail still gets a type (inference never rejects); a builtin not in
RULES gives Any. Int ranges follow the arithmetic exactly where it is cheap: `+ - *` on ranges,
`mod` by a positive divisor, `length`, `string-length`, `range`, `char->int`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fluentai import primitives
from fluentai.types.lattice import (
    ANY,
    BOOL,
    EMPTY,
    ERROR,
    FIXNUM,
    FLOAT,
    INT,
    NEVER,
    NIL,
    NUMBER,
    STR,
    SYM,
    InferredType,
    Range,
    int_range,
    join,
    join_all,
    list_of,
    make,
    map_of,
)

Rule = Callable[[list[InferredType]], InferredType]

LENGTH: Final = int_range(0, FIXNUM - 1)


def _rng(t: InferredType) -> Range:
    return t.value_range if t.value_range is not None else (None, None)


def _add(a: Range, b: Range) -> Range:
    lo = None if a[0] is None or b[0] is None else a[0] + b[0]
    hi = None if a[1] is None or b[1] is None else a[1] + b[1]
    return (lo, hi)


def _neg(a: Range) -> Range:
    return (None if a[1] is None else -a[1], None if a[0] is None else -a[0])


def _mul(a: Range, b: Range) -> Range:
    if None in a or None in b:
        if a == (0, 0) or b == (0, 0):
            return (0, 0)
        nonneg = a[0] is not None and a[0] >= 0 and b[0] is not None and b[0] >= 0
        return (0, None) if nonneg else (None, None)
    products = [x * y for x in a for y in b]  # type: ignore[operator]
    return (min(products), max(products))


def _numeric(
    args: list[InferredType], int_op: Callable[[list[Range]], Range] | None
) -> InferredType:
    """Binary-rule arithmetic: all Int -> Int (with a range); a certain Float -> Float; else
    Int|Float. Arguments that are not numbers raise, so they add nothing."""
    if any(a.is_never for a in args):
        return NEVER
    if all(a.only("Int") for a in args):
        if int_op is None:
            return INT
        r = int_op([_rng(a) for a in args])
        return int_range(*r)
    if any(a.only("Float") for a in args):
        return FLOAT  # the binary rule: one Float operand makes a Float (or the call raises)
    return NUMBER


def _plus(args: list[InferredType]) -> InferredType:
    if not args:
        return int_range(0, 0)

    def op(rs: list[Range]) -> Range:
        out: Range = (0, 0)
        for r in rs:
            out = _add(out, r)
        return out

    return _numeric(args, op)


def _minus(args: list[InferredType]) -> InferredType:
    def op(rs: list[Range]) -> Range:
        if len(rs) == 1:
            return _neg(rs[0])
        out = rs[0]
        for r in rs[1:]:
            out = _add(out, _neg(r))
        return out

    return _numeric(args, op)


def _times(args: list[InferredType]) -> InferredType:
    if not args:
        return int_range(1, 1)

    def op(rs: list[Range]) -> Range:
        out: Range = (1, 1)
        for r in rs:
            out = _mul(out, r)
        return out

    return _numeric(args, op)


def _mod(args: list[InferredType]) -> InferredType:
    def op(rs: list[Range]) -> Range:
        lo, hi = rs[1]
        if lo is not None and lo > 0:
            return (0, None if hi is None else hi - 1)
        if hi is not None and hi < 0:
            return (None if lo is None else lo + 1, 0)
        return (None, None)

    return _numeric(args, op)


def _div(args: list[InferredType]) -> InferredType:
    return _numeric(args, None)


def _abs(args: list[InferredType]) -> InferredType:
    a = args[0]
    if a.only("Int"):
        lo, hi = _rng(a)
        if lo is not None and lo >= 0:
            return int_range(lo, hi)
        if hi is not None and hi <= 0:
            return int_range(-hi, None if lo is None else -lo)
        bound = None if lo is None or hi is None else max(-lo, hi)
        return int_range(0, bound)
    return _numeric(args, None)


def _pow(args: list[InferredType]) -> InferredType:
    a, b = args
    if a.only("Int") and b.only("Int"):
        lo = _rng(b)[0]
        return INT if lo is not None and lo >= 0 else NUMBER
    return _numeric(args, None)


def _minmax(args: list[InferredType]) -> InferredType:
    if all(a.only("Int") for a in args) and args:
        rs = [_rng(a) for a in args]
        lo = None if any(r[0] is None for r in rs) else min(r[0] for r in rs)  # type: ignore[type-var]
        hi = None if any(r[1] is None for r in rs) else max(r[1] for r in rs)  # type: ignore[type-var]
        return int_range(lo, hi)
    return make(join_all(args).kinds)


def _elem(t: InferredType) -> InferredType:
    """The element type of a List (Any when unknown, Never for the empty list)."""
    if t.kinds is None:
        return ANY
    if "List" not in t.kinds and "Map" not in t.kinds:
        return NEVER
    return t.element_type if t.element_type is not None else ANY


def _as_list(t: InferredType) -> InferredType:
    """`t` seen as a (possibly empty) list: what tail, reverse, take and drop give."""
    if t.kinds is None:
        return list_of(ANY)
    if "List" in t.kinds:
        return list_of(_elem(t))
    return EMPTY if "Empty" in t.kinds else NEVER


def _cons(args: list[InferredType]) -> InferredType:
    x, lst = args
    if x.is_never or lst.is_never:
        return NEVER
    elem = join(x, _elem(lst)) if lst.has("List") else x
    return list_of(elem, maybe_empty=False)


def _list(args: list[InferredType]) -> InferredType:
    if not args:
        return EMPTY
    return list_of(join_all(args), maybe_empty=False)


def _append(args: list[InferredType]) -> InferredType:
    if not args:
        return EMPTY
    if any(a.is_never for a in args):
        return NEVER
    lists = [_as_list(a) for a in args]
    elems = [_elem(a) for a in lists if a.has("List")]
    if not elems:
        return EMPTY
    return list_of(join_all(elems))


def _range(args: list[InferredType]) -> InferredType:
    if len(args) == 1:
        start, end = int_range(0, 0), args[0]
    else:
        start, end = args[0], args[1]
    if len(args) == 3 or not (start.only("Int") and end.only("Int")):
        return list_of(INT)
    lo, hi = _rng(start)[0], _rng(end)[1]
    return list_of(int_range(lo, None if hi is None else hi - 1))


def _sum(args: list[InferredType]) -> InferredType:
    e = _elem(args[0])
    if e.only("Int") and not e.is_never:
        return INT
    if e.only("Float") and not e.is_never:
        return make(frozenset({"Int", "Float"}))
    return NUMBER


def _get(args: list[InferredType]) -> InferredType:
    default = args[2] if len(args) == 3 else NIL
    return join(_elem(args[0]) if not args[0].only("List", "Empty") else ANY, default)


def _assoc(args: list[InferredType]) -> InferredType:
    m = args[0]
    values = [args[i] for i in range(2, len(args), 2)]
    old = m.element_type if m.only("Map") and m.element_type is not None else NEVER
    if not m.only("Map"):
        old = ANY
    return map_of(join_all([old, *values]))


def _map_literal(args: list[InferredType]) -> InferredType:
    return map_of(join_all(args[i] for i in range(1, len(args), 2)))


def _same_map(args: list[InferredType]) -> InferredType:
    m = args[0]
    return m if m.only("Map") and not m.is_never else map_of(ANY)


def _merge(args: list[InferredType]) -> InferredType:
    if not all(a.only("Map") for a in args):
        return map_of(ANY)
    return map_of(join_all(_elem(a) for a in args)) if args else map_of(NEVER)


def _const(t: InferredType) -> Rule:
    return lambda args: t


def _first(args: list[InferredType]) -> InferredType:
    return args[0]


_PREDICATES: Final = (
    "= != < > <= >= even? odd? zero? positive? negative? not int? float? number? string? bool? "
    "symbol? list? map? function? error? nil? null? empty? has? string-contains? "
    "string-starts-with? string-ends-with?"
).split()
_FLOATS: Final = "sqrt exp log sin cos tan atan atan2 float".split()
_INTS: Final = "floor ceil round int".split()
_STRINGS: Final = (
    "string-append str concat to-string substring string-ref string-join string-upcase "
    "string-downcase string-trim string-replace list->string number->string int->char "
    "symbol->string type-of error-kind error-message"
).split()

RULES: dict[str, Rule] = {
    "+": _plus,
    "-": _minus,
    "*": _times,
    "/": _div,
    "mod": _mod,
    "quot": _div,
    "rem": _div,
    "abs": _abs,
    "pow": _pow,
    "min": _minmax,
    "max": _minmax,
    "identity": _first,
    "string-length": _const(LENGTH),
    "length": _const(LENGTH),
    "size": _const(LENGTH),
    "char->int": _const(int_range(0, 0x10FFFF)),
    "string-split": _const(list_of(STR)),
    "string->list": _const(list_of(STR)),
    "string->number": _const(make(frozenset({"Int", "Float", "Nil"}))),
    "string->symbol": _const(SYM),
    "list": _list,
    "cons": _cons,
    "head": lambda a: _elem(a[0]),
    "last": lambda a: _elem(a[0]),
    "nth": lambda a: _elem(a[0]),
    "tail": lambda a: _as_list(a[0]),
    "reverse": lambda a: _as_list(a[0]),
    "%nreverse": _append,  # (%nreverse acc tail): acc reversed in front of tail
    "%native?": _const(BOOL),
    "%link!": lambda a: _cons([a[1], a[0]]),  # (%link! prev x like): the cell of x after prev
    "take": lambda a: _as_list(a[1]),
    "drop": lambda a: _as_list(a[1]),
    "append": _append,
    "range": _range,
    "zip": _const(list_of(list_of(ANY, maybe_empty=False))),
    "sum": _sum,
    "product": _sum,
    "get": _get,
    "fetch": lambda a: _elem(a[0]) if a[0].only("Map") else ANY,
    "assoc": _assoc,
    "dissoc": _same_map,
    "keys": _const(list_of(ANY)),
    "values": lambda a: list_of(_elem(a[0]) if a[0].only("Map") else ANY),
    "items": _const(list_of(list_of(ANY, maybe_empty=False))),
    "merge": _merge,
    "%map-literal": _map_literal,
    "Error": _const(ERROR),
    "error": _const(NEVER),
    "error:raise": _const(NEVER),
    "exit": _const(NEVER),
    "args": _const(list_of(STR)),
    "%sort-default": lambda a: _as_list(a[0]),
    "%written": _const(STR),
    "io:print": _const(NIL),
    "io:write": _const(NIL),
    "io:print-err": _const(NIL),
    "io:read-line": _const(make(frozenset({"Str", "Nil"}))),
    "io:read-file": _const(STR),
    "io:write-file": _const(NIL),
    "io:append-file": _const(NIL),
    "io:file-exists?": _const(BOOL),
    "time:now": _const(FLOAT),
    "time:monotonic": _const(FLOAT),
    "time:sleep": _const(NIL),
    "random:float": _const(FLOAT),
    "random:int": lambda a: (
        int_range(_rng(a[0])[0], _rng(a[1])[1]) if all(x.only("Int") for x in a) else INT
    ),
    "random:choice": lambda a: _elem(a[0]),
    "random:shuffle": lambda a: _as_list(a[0]),
    "random:seed": _const(NIL),
    "state:set": _const(NIL),
    "state:delete": _const(NIL),
    "state:begin-transaction": _const(NIL),
    "state:commit-transaction": _const(NIL),
    "state:rollback-transaction": _const(NIL),
    "%state-set": _const(NIL),
}
RULES.update({n: _const(BOOL) for n in _PREDICATES})
RULES.update({n: _const(FLOAT) for n in _FLOATS})
RULES.update({n: _const(INT) for n in _INTS})
RULES.update({n: _const(STR) for n in _STRINGS})

# builtins that never call a function they are given and never store one where inference
# does not follow it: a lambda passed to any other builtin escapes (DESIGN.md §6.2)
KEEPS_FUNCTIONS: Final = frozenset(
    "list cons head last nth tail reverse %nreverse %link! take drop append get fetch assoc dissoc values merge "
    "%map-literal identity random:choice random:shuffle".split()
)
PURE_OBSERVERS: Final = frozenset(_PREDICATES + _STRINGS + ["%written", "io:print", "io:write"])


def canonical(name: str) -> str:
    prim = primitives.lookup(name)
    return prim.name if prim is not None else name


def result_type(name: str, args: list[InferredType]) -> InferredType:
    """The result of applying builtin `name` to arguments of these types."""
    rule = RULES.get(canonical(name))
    if rule is None:
        return ANY
    try:
        return rule(args)
    except (IndexError, ValueError, TypeError):  # an arity the rule does not expect: Any
        return ANY


def has_rule(name: str) -> bool:
    return canonical(name) in RULES
