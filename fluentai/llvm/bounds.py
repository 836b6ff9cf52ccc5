"""Bounded steps: `(+ i 1)` where a branch test proved `i < n` cannot overflow.

    (let next ((i 0) (total 0))
      (if (< i n)
          (next (+ i 1) ...)      ; i < n <= the largest fixnum, so i + 1 is a fixnum
          total))

While the lowering is inside a branch of `(if TEST ...)`, TEST's strict order between a
variable and another variable or an Int literal is a fact of that branch (`i < n` in the then
branch of `(< i n)`, `n > 1` in the else branch of `(< n 2)`). A variable that is never assigned
keeps the value the test saw for the whole branch. Then `(+ x k)` / `(- x k)` with a literal
`k`, where `x` is a known fixnum (an Int-specialized loop copy's) bounded on that side by a known
fixnum variable (k = 1) or by a literal that leaves room for k, is a fixnum: it is added without
the overflow check and its C slow path, and is known to be a fixnum itself (so a self tail call
of the copy passing it needs no test either, and LLVM threads the loop's back edge).

The facts only remove checks whose failure they prove impossible; a test that raised an error
never reaches its branch, and a comparison of Floats or bignums gives no fact that can be used
(the operands must be known fixnums where the step is lowered).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import llvmlite.ir as ir

from fluentai.llvm import abi
from fluentai.passes import rcore as r
from fluentai.syntax import core as c

if TYPE_CHECKING:
    from fluentai.llvm.lower import _FnGen

# a fact: (x, "<", bound) or (x, ">", bound), bound a Var or an int
Fact = tuple[r.Var, str, Any]

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
_NEGATE = {"<": ">=", ">": "<=", "<=": ">", ">=": "<"}


def _operand(e: Any) -> r.Var | int | None:
    if isinstance(e, r.LocalRef) and not e.var.assigned:
        return e.var
    if isinstance(e, c.Lit) and type(e.value) is int:
        return e.value
    return None


def _strict(x: Any, op: str, y: Any) -> list[Fact]:
    """Facts from `x op y` holding (op one of < > <= >=), kept only when strict."""
    if op in ("<=", ">="):
        return []
    facts: list[Fact] = []
    if isinstance(x, r.Var):
        facts.append((x, op, y))
    if isinstance(y, r.Var):
        facts.append((y, _FLIP[op], x))
    return facts


def branch_facts(test: Any) -> tuple[list[Fact], list[Fact]]:
    """The facts of the then and the else branch of `(if test ...)`."""
    negated = False
    while isinstance(test, r.PrimApp) and test.name == "not" and len(test.args) == 1:
        test, negated = test.args[0], not negated
    if not (isinstance(test, r.PrimApp) and test.name in _FLIP and len(test.args) == 2):
        return [], []
    x, y = (_operand(a) for a in test.args)
    if x is None or y is None:
        return [], []
    when_true = _strict(x, test.name, y)
    when_false = _strict(x, _NEGATE[test.name], y)
    return (when_false, when_true) if negated else (when_true, when_false)


@contextmanager
def facts(gen: _FnGen, new: list[Fact]) -> Iterator[None]:
    """Lower a branch with `new` facts added."""
    if not new:
        yield
        return
    old = gen.facts
    gen.facts = old + new
    try:
        yield
    finally:
        gen.facts = old


def _known_fixnum_var(gen: _FnGen, v: r.Var) -> bool:
    info = gen.vars.get(v)
    return info is not None and info.fixnum and info.dual is None


def _fits(gen: _FnGen, x: r.Var, step: int) -> bool:
    """x + step is a fixnum, by a fact of the branches being lowered (x a known fixnum)."""
    want = "<" if step > 0 else ">"
    for v, op, bound in gen.facts:
        if v is not x or op != want:
            continue
        if isinstance(bound, r.Var):
            if abs(step) == 1 and _known_fixnum_var(gen, bound):
                return True
        elif step > 0 and bound - 1 + step <= abi.FIXNUM_MAX:
            return True
        elif step < 0 and bound + 1 + step >= abi.FIXNUM_MIN:
            return True
    return False


def bounded_step(gen: _FnGen, e: r.PrimApp) -> ir.Value | None:
    """`(+ x k)`, `(+ k x)` or `(- x k)` as a plain addition when a fact bounds it (module
    docstring); None (nothing lowered) otherwise."""
    if e.name not in ("+", "-") or len(e.args) != 2:
        return None
    a, k = e.args
    if e.name == "+" and isinstance(a, c.Lit):
        a, k = k, a
    if not (isinstance(a, r.LocalRef) and isinstance(k, c.Lit) and type(k.value) is int):
        return None
    step = k.value if e.name == "+" else -k.value
    if step == 0 or abs(step) > abi.FIXNUM_MAX or not gen.facts:
        return None
    if not _known_fixnum_var(gen, a.var) or not _fits(gen, a.var, step):
        return None
    x = gen.value(a)
    res = gen.b.add(x, gen.const(2 * step), flags=["nsw"])
    gen.fixvals[id(res)] = res
    return res
