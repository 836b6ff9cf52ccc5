"""OSR entries: a `while` loop of a JIT unit as a function the VM can enter at a back edge
(on-stack replacement at `while` back edges, docs/jit.md; the VM side is fluentai/jit/osr.py).

For each `while` of the program lowered in JIT mode (`Lowerer(jit=True)`), once per loop
(by source span), the lowering emits beside the enclosing function

    i64 @fl.osr.N(ptr %vars)

`vars` holds the loop's outer variables (fluentai/passes/loopvars.py: those it reads or sets,
bound outside it, in a fixed order the VM computes the same way), each a plain word: a variable
the VM keeps in a box (a binding group's variable captured by a closure, never assigned) comes
as its value and is boxed again here; a shared one (captured and assigned) comes as the native
box the VM shares with native code (jit/bridge.py, TwinBox), used as it is. The entry runs the loop from its test to its end, writes
the variables the loop may assign back into `vars`, and returns nil; or it returns 0 with a
condition pending (error, exit, interrupt), after writing them back as well, so a `try` in the
VM around the loop sees what the loop did. Traces: the entry's sites carry the name of the
function around the loop, so its frames read as that function's (the VM drops its own entry
for the frame, as after a tail call).

    (define (count-up n) (let ((i 0) (total 0)) (while (< i n) ...) total))
    -> @fl.osr.1(vars = [i, n, total]): i, total written back
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import llvmlite.ir as ir

from fluentai.llvm import abi
from fluentai.passes import rcore as r
from fluentai.passes.loopvars import loop_vars, shared
from fluentai.records import record
from fluentai.syntax import core as c

if TYPE_CHECKING:
    from fluentai.llvm.lower import _FnGen

I64 = ir.IntType(64)
PTR = ir.PointerType()
ENTRY_TY = ir.FunctionType(I64, [PTR])


@record
class OsrInfo:
    """One OSR entry as the JIT sees it (the unit's meta): the exported function, the loop's
    span, the name of the function around it, its outer variables' names."""

    symbol: str
    start: int
    end: int
    fn: str
    names: tuple[str, ...]


def _float_vars(g: _FnGen, loop: r.RWhile, written: set[r.Var]) -> set[r.Var]:
    """The outer variables the loop assigns a Float computation to (a Float literal among the
    operands of an arithmetic tree, as `(set! x (+ x 0.5))`): those are kept as raw doubles in
    the entry, as the function's own code keeps a Float variable (every use stays guarded)."""
    from fluentai.llvm.lower import _arith_leaves, _is_arith

    out: set[r.Var] = set()
    for node in r.walk(loop):
        if type(node) is not r.LocalSet or node.var not in written or node.var.boxed:
            continue
        value = node.value
        if not g.may_be(value, "Float"):
            continue
        leaves = _arith_leaves(value) if _is_arith(value) else [value]
        if any(isinstance(x, c.Lit) and type(x.value) is float for x in leaves):
            out.add(node.var)
    return out


def entry(gen: _FnGen, loop: r.RWhile) -> None:
    """Emit the OSR entry of `loop` (lowered in `gen`), unless it has one already or is not
    eligible (too many outer variables)."""
    from fluentai.llvm.lower import _FnGen, _Var

    low = gen.low
    done: dict[tuple[int, int], Any] = low.u.osr_done
    key = (loop.span.start, loop.span.end)
    if key in done:
        return
    done[key] = None  # before lowering: the loop's own lowering below must not recurse
    lv = loop_vars(loop)
    if not lv.eligible:
        return
    symbol = f"fl.osr.{len(done)}"  # unique: loops met while lowering this one come later
    fn = ir.Function(low.u.module, ENTRY_TY, symbol)
    g = _FnGen(low, fn, gen.name, gen.is_prelude, None)
    vars_ptr = fn.args[0]
    b = g.b
    floats = _float_vars(g, loop, lv.written)
    cells: list[tuple[int, r.Var]] = []
    for i, var in enumerate(lv.outer):
        word = b.load(b.gep(vars_ptr, [g.const(i)], source_etype=I64), typ=I64)
        slot = g.alloca(var.name)
        if shared(var):  # the box itself, which the VM shares (jit/bridge.py, TwinBox)
            b.store(word, slot)
        elif var.boxed:  # a binding group's variable captured, never assigned: boxed again
            b.store(g.make_box(word), slot)
        else:
            b.store(word, slot)
        info = _Var("local", slot, var.boxed, False, var.name)
        if var in floats:  # a Float accumulator: a raw double while the loop runs
            fslot = g.alloca_b.alloca(ir.IntType(1), name=var.name + ".isd")
            dslot = g.alloca_b.alloca(ir.DoubleType(), name=var.name + ".d")
            b.store(ir.Constant(ir.IntType(1), 0), fslot)
            info.dual = (fslot, dslot)
        g.vars[var] = info
        if var in lv.written:
            cells.append((i, var))

    def write_back() -> None:
        for i, var in cells:
            value = g.load_var(var, loop.span)  # a raw double is boxed here
            g.b.store(value, g.b.gep(vars_ptr, [g.const(i)], source_etype=I64))

    unwind = g.new_block("osr.unwind")
    with g.landing_at(unwind):
        g.while_(loop)
    write_back()
    g.b.ret(g.const(abi.FL_NIL))
    g.b.position_at_end(unwind)  # a condition is pending: its landing writes back too
    write_back()
    g.b.ret(g.const(0))
    g.finish()
    low.u.osr.append(OsrInfo(symbol, key[0], key[1], gen.name, tuple(v.name for v in lv.outer)))
