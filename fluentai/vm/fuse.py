"""Expression fusion: a pure arithmetic expression becomes one EVAL instruction.

A tree of builtin applications over locals and constants, such as `(+ acc (mod (* i i) 7))`,
compiles to one generated Python function `f(L, F)` (L: the frame's slots, F: its captured
values), with fixnum fast paths inlined and every other case calling the builtin's own VM
implementation, so results are identical. The tree is pure, so when anything in it raises, the
VM runs the expression again in plain bytecode (its fallback, placed after the function's code),
which raises the error at the right subexpression and lets an `error:raise` clause resume there.

    (+ acc (mod (* i i) 7))  ->  EVAL k   where consts[k] = (f, fallback_pc)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fluentai import primitives
from fluentai.passes import rcore as r
from fluentai.primitives import PrimKind
from fluentai.syntax import core as c

_INLINE: dict[str, str] = {"+": "+", "-": "-", "*": "*", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_INLINE_EQ = {"=": "=="}
_LEAF_TYPES = (int, float, str, bool, type(None))


def _is_pure_prim(name: str) -> bool:
    prim = primitives.lookup(name)
    return prim is not None and prim.kind is PrimKind.FUNCTION and not prim.needs_world


def is_fusable(e: r.RExpr, local_slot: Callable[[r.Var], str | None]) -> bool:
    """A PrimApp tree of pure builtins over unboxed variables and simple constants, with at
    least two operations or one operation on two operands."""
    if not isinstance(e, r.PrimApp):
        return False
    size = _size(e, local_slot)
    return size is not None and size >= 3


def _size(e: r.RExpr, local_slot: Callable[[r.Var], str | None]) -> int | None:
    match e:
        case c.Lit(value=value):
            return 1 if type(value) in _LEAF_TYPES else None
        case r.LocalRef(var=var):
            return 1 if local_slot(var) is not None else None
        case r.PrimApp(name=name, args=args):
            if not _is_pure_prim(name):
                return None
            total = 1
            for a in args:
                n = _size(a, local_slot)
                if n is None:
                    return None
                total += n
            return total
    return None


class _Gen:
    def __init__(self, local_slot: Callable[[r.Var], str | None]) -> None:
        self.local_slot = local_slot
        self.lines: list[str] = []
        self.consts: list[Any] = []
        self.count = 0

    def temp(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"

    def expr(self, e: r.RExpr) -> str:
        match e:
            case c.Lit(value=value):
                if type(value) is int and abs(value) < 1 << 60:
                    return repr(value)
                return self.const(value)
            case r.LocalRef(var=var):
                where = self.local_slot(var)
                assert where is not None
                t = self.temp()
                self.lines.append(f"{t} = {where}")
                return t
            case r.PrimApp(name=name, args=args):
                operands = [self.expr(a) for a in args]
                prim = primitives.lookup(name)
                assert prim is not None and prim.vm is not None
                fn = self.const(prim.vm)
                t = self.temp()
                op = _INLINE.get(name) or _INLINE_EQ.get(name)
                divisor = args[1] if len(args) == 2 else None
                if (
                    name in ("mod", "/")
                    and isinstance(divisor, c.Lit)
                    and type(divisor.value) is int
                    and divisor.value != 0
                ):
                    # floored remainder and floor division of Ints are Python's % and //
                    a, b = operands
                    pyop = "%" if name == "mod" else "//"
                    self.lines.append(
                        f"{t} = ({a} {pyop} {b}) if type({a}) is int else {fn}({a}, {b})"
                    )
                elif op is not None and len(operands) == 2:
                    a, b = operands
                    self.lines.append(
                        f"{t} = ({a} {op} {b}) if type({a}) is int and type({b}) is int "
                        f"else {fn}({a}, {b})"
                    )
                else:
                    self.lines.append(f"{t} = {fn}({', '.join(operands)})")
                return t
        raise AssertionError(f"not fusable: {e!r}")


def generate(e: r.RExpr, local_slot: Callable[[r.Var], str | None]) -> Callable[..., Any]:
    """The Python function computing `e` from (L, F)."""
    gen = _Gen(local_slot)
    result = gen.expr(e)
    body = "\n".join(f"    {line}" for line in gen.lines)
    source = f"def fused(L, F):\n{body}\n    return {result}\n"
    namespace: dict[str, Any] = {"K": tuple(gen.consts)}
    exec(compile(source, "<fused>", "exec"), namespace)  # noqa: S102 - generated from Core
    fn: Callable[..., Any] = namespace["fused"]
    fn.__doc__ = source
    return fn
