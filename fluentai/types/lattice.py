"""The type lattice of inference (DESIGN.md §6.1): InferredType, join, widening, formatting.

An InferredType is Never (no kinds), a union of at most 3 kinds, or Any (`kinds is None`).
Kinds: Int Float Bool Nil Empty Str Sym List Map Fn Error and `Adt:NAME`. It may also carry a
constant (kept by a join only when both sides agree), an Int value range [lo, hi] (None bound:
unbounded), the element type of a List (or the value type of a Map), and the lambdas a Fn may
be (at most 4; None: unknown). Joins only grow; widening sends moving range bounds to infinity
and cuts element types deeper than 2, so every ascending chain is finite.
"""

from __future__ import annotations

from typing import Final

from fluentai.records import record

Range = tuple[int | None, int | None]
FnId = int | str  # id() of an r.Fn node, or "builtin:NAME"

KINDS: Final = ("Int", "Float", "Bool", "Nil", "Empty", "Str", "Sym", "List", "Map", "Fn", "Error")
MAX_KINDS: Final = 3
MAX_FNS: Final = 4
MAX_DEPTH: Final = 4  # element types deeper than this are Any, even before widening
WIDEN_DEPTH: Final = 2
FIXNUM: Final = 1 << 62


@record
class InferredType:
    kinds: frozenset[str] | None  # None: Any; empty: Never
    is_constant: bool = False
    constant: object = None
    value_range: Range | None = None  # Int only
    element_type: InferredType | None = None  # List element, Map value
    fns: frozenset[FnId] | None = None  # Fn only: the lambdas it may be; None: unknown

    @property
    def is_any(self) -> bool:
        return self.kinds is None

    @property
    def is_never(self) -> bool:
        return self.kinds is not None and not self.kinds

    @property
    def base_type(self) -> str:
        """`Any`, `Never`, or the kinds joined with `|` (sorted as KINDS lists them)."""
        if self.kinds is None:
            return "Any"
        if not self.kinds:
            return "Never"
        return "|".join(sorted(self.kinds, key=_kind_order))

    def only(self, *kinds: str) -> bool:
        """Whether every value of this type has one of `kinds` (Never included)."""
        return self.kinds is not None and self.kinds <= set(kinds)

    def has(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds

    def __str__(self) -> str:
        return format_type(self)


def _kind_order(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


ANY: Final = InferredType(None)
NEVER: Final = InferredType(frozenset())


def make(
    kinds: frozenset[str] | set[str] | None,
    *,
    constant: object = None,
    is_constant: bool = False,
    value_range: Range | None = None,
    element_type: InferredType | None = None,
    fns: frozenset[FnId] | None = None,
) -> InferredType:
    """A normalized type: more than 3 kinds is Any; ranges only with Int, elements only with
    List or Map, lambdas only with Fn; an unbounded range is None."""
    if kinds is None or len(kinds) > MAX_KINDS:
        return ANY
    kinds = frozenset(kinds)
    if "Int" not in kinds or value_range == (None, None):
        value_range = None
    if not kinds & {"List", "Map"}:
        element_type = None
    elif element_type is not None and element_type.element_type is not None:
        element_type = _cut(element_type, MAX_DEPTH - 1)
    if "Fn" not in kinds:
        fns = None
    elif fns is not None and len(fns) > MAX_FNS:
        fns = None
    if is_constant and len(kinds) != 1:
        is_constant, constant = False, None
    if not is_constant:
        constant = None
    return InferredType(kinds, is_constant, constant, value_range, element_type, fns)


def kind(name: str, **kw: object) -> InferredType:
    return make(frozenset({name}), **kw)  # type: ignore[arg-type]


INT: Final = kind("Int")
FLOAT: Final = kind("Float")
BOOL: Final = kind("Bool")
NIL: Final = kind("Nil")
EMPTY: Final = kind("Empty")
STR: Final = kind("Str")
SYM: Final = kind("Sym")
ERROR: Final = kind("Error")
NUMBER: Final = make(frozenset({"Int", "Float"}))
FN: Final = kind("Fn")


def int_range(lo: int | None, hi: int | None) -> InferredType:
    if lo is not None and lo == hi:
        return make(frozenset({"Int"}), value_range=(lo, hi), constant=lo, is_constant=True)
    return make(frozenset({"Int"}), value_range=(lo, hi))


def list_of(elem: InferredType, *, maybe_empty: bool = True) -> InferredType:
    kinds = {"List", "Empty"} if maybe_empty else {"List"}
    if elem.is_never:
        return EMPTY
    return make(frozenset(kinds), element_type=elem)


def map_of(value: InferredType) -> InferredType:
    return make(frozenset({"Map"}), element_type=value)


def adt(name: str) -> InferredType:
    return kind("Adt:" + name)


def fn_of(*ids: FnId) -> InferredType:
    return make(frozenset({"Fn"}), fns=frozenset(ids))


def constant_of(value: object, depth: int = MAX_DEPTH) -> InferredType:
    """The type of a literal value (quoted lists and maps included). Element types deeper than
    `depth` are Any, as `make` would cut them: a literal nested 10 000 levels took 7 s."""
    from fluentai.symbol import Symbol
    from fluentai.syntax.core import QList, QMap

    if value is None:
        return make(frozenset({"Nil"}), constant=None, is_constant=True)
    if isinstance(value, bool):
        return make(frozenset({"Bool"}), constant=value, is_constant=True)
    if isinstance(value, int):
        return int_range(value, value)
    if isinstance(value, float):
        return make(frozenset({"Float"}), constant=value, is_constant=True)
    if isinstance(value, str):
        return make(frozenset({"Str"}), constant=value, is_constant=True)
    if isinstance(value, Symbol):
        return SYM
    if isinstance(value, QList):
        if not value.items:
            return EMPTY
        if depth <= 0:
            return list_of(ANY, maybe_empty=False)
        elements = join_all(constant_of(v, depth - 1) for v in value.items)
        return list_of(elements, maybe_empty=False)
    if isinstance(value, QMap):
        if depth <= 0:
            return map_of(ANY)
        return map_of(join_all(constant_of(v, depth - 1) for _, v in value.pairs))
    return ANY


def _same_constant(a: object, b: object) -> bool:
    return type(a) is type(b) and (repr(a) == repr(b) if isinstance(a, float) else a == b)


def _hull(a: Range | None, b: Range | None) -> Range | None:
    if a is None or b is None:
        return None
    lo = None if a[0] is None or b[0] is None else min(a[0], b[0])
    hi = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return (lo, hi)


def _range_of(t: InferredType) -> Range | None:
    """The Int range of `t` when it may be an Int: None means unbounded."""
    return t.value_range if t.value_range is not None else (None, None)


def join(a: InferredType, b: InferredType) -> InferredType:
    """The least upper bound (commutative, associative, idempotent)."""
    if a.kinds is None or b.kinds is None:
        return ANY
    if not a.kinds:
        return b
    if not b.kinds:
        return a
    if a == b:
        return a
    kinds = a.kinds | b.kinds
    if len(kinds) > MAX_KINDS:
        return ANY
    if "Int" in a.kinds and "Int" in b.kinds:
        value_range = _hull(_range_of(a), _range_of(b))
    else:
        value_range = a.value_range if "Int" in a.kinds else b.value_range
    ea, eb = a.element_type, b.element_type
    if ea is not None and eb is not None:
        element: InferredType | None = _cut(join(ea, eb), MAX_DEPTH)
    elif ea is None and eb is None:
        element = None  # neither side knows its elements: the same as either
    elif a.kinds & {"List", "Map"} and b.kinds & {"List", "Map"}:
        element = ANY  # one side's elements are unknown
    else:
        element = ea if ea is not None else eb
    if "Fn" in a.kinds and "Fn" in b.kinds:
        fns = None if a.fns is None or b.fns is None else a.fns | b.fns
    else:
        fns = a.fns if "Fn" in a.kinds else b.fns
    same = a.is_constant and b.is_constant and _same_constant(a.constant, b.constant)
    return make(
        kinds,
        constant=a.constant if same else None,
        is_constant=same,
        value_range=value_range,
        element_type=element,
        fns=fns,
    )


def join_all(types: object) -> InferredType:
    out = NEVER
    for t in types:  # type: ignore[attr-defined]
        out = join(out, t)
    return out


def _cut(t: InferredType, depth: int) -> InferredType:
    """`t` with element types nested deeper than `depth` replaced by Any."""
    if t.element_type is None:
        return t
    if depth <= 0:
        return make(t.kinds, value_range=t.value_range, element_type=ANY, fns=t.fns)
    inner = _cut(t.element_type, depth - 1)
    if inner is t.element_type:
        return t
    return make(
        t.kinds,
        constant=t.constant,
        is_constant=t.is_constant,
        value_range=t.value_range,
        element_type=inner,
        fns=t.fns,
    )


def widen(old: InferredType, new: InferredType) -> InferredType:
    """join(old, new) with every range bound that moved sent to infinity, constants dropped
    and element types cut at depth 2: applied after 3 changes at loop heads and summaries."""
    j = join(old, new)
    if j.kinds is None or j == old:
        return j
    value_range = j.value_range
    if value_range is not None and "Int" in (old.kinds or ()):
        o = _range_of(old) or (None, None)
        lo = value_range[0] if value_range[0] == o[0] else None
        hi = value_range[1] if value_range[1] == o[1] else None
        value_range = (lo, hi)
    element = j.element_type
    if element is not None and old.element_type is not None:
        element = widen(old.element_type, element)
    w = make(j.kinds, value_range=value_range, element_type=element, fns=j.fns)
    return _cut(w, WIDEN_DEPTH)


def leq(a: InferredType, b: InferredType) -> bool:
    """a is below b (b = a ⊔ b)."""
    return join(a, b) == b


def fn_ids(t: InferredType) -> set[FnId]:
    """Every lambda named anywhere in `t` (its elements included)."""
    out: set[FnId] = set()
    while t is not None:
        if t.fns:
            out |= t.fns
        t = t.element_type  # type: ignore[assignment]
    return out


def has_unknown_fn(t: InferredType) -> bool:
    """Whether `t` may hold a function that is not named (Any, or Fn of unknown lambdas)."""
    while t is not None:
        if t.kinds is None or ("Fn" in t.kinds and t.fns is None):
            return True
        t = t.element_type  # type: ignore[assignment]
    return False


# ---------------------------------------------------------------- formatting


def format_range(r: Range) -> str:
    lo = ".." if r[0] is None else str(r[0])
    hi = ".." if r[1] is None else str(r[1])
    return f"[{lo},{hi}]"


def format_type(t: InferredType) -> str:
    """`Int[0,..]`, `Float`, `List<Int>|Empty`, `Option`, `Int|Float`, `Any`, `Never`."""
    if t.kinds is None:
        return "Any"
    if not t.kinds:
        return "Never"
    parts = []
    for k in sorted(t.kinds, key=_kind_order):
        text = k[4:] if k.startswith("Adt:") else k
        if k == "Int" and t.value_range is not None:
            text += format_range(t.value_range)
        elif k in ("List", "Map") and t.element_type is not None:
            text += f"<{format_type(t.element_type)}>"
        parts.append(text)
    return "|".join(parts)


def describe(t: InferredType) -> str:
    """format_type plus the constant, for people: `Int (constant 3)`."""
    text = format_type(t)
    if t.is_constant:
        if t.constant is None:
            return text
        value = t.constant
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        if isinstance(value, bool):
            shown = "#t" if value else "#f"
        if "Int" in (t.kinds or ()):
            text = "Int"
        return f"{text} (constant {shown})"
    return text


_RUNTIME_KINDS: Final = {
    "Int": "Int",
    "Float": "Float",
    "Bool": "Bool",
    "Nil": "Nil",
    "String": "Str",
    "Symbol": "Sym",
    "Error": "Error",
}


def runtime_type(type_of_name: str) -> InferredType:
    """The type of a value whose `type-of` is `type_of_name` (a REPL session's globals)."""
    if type_of_name in _RUNTIME_KINDS:
        return kind(_RUNTIME_KINDS[type_of_name])
    if type_of_name == "List":
        return make(frozenset({"List", "Empty"}), element_type=ANY)
    if type_of_name == "Map":
        return map_of(ANY)
    if type_of_name == "Function":
        return FN
    return adt(type_of_name)
