"""The variables a `while` loop shares with the function around it (on-stack replacement).

The VM compiler (fluentai/vm/compile.py) and the JIT's lowering (fluentai/llvm/osr.py) both
call `loop_vars` on the same loop of the same program, resolved separately, so both see the
same variables in the same order: the VM frame's slots map one to one onto the native OSR
entry's variable array (docs/jit.md, "On-stack replacement at `while` back edges").

    (let ((i 0) (total 0))
      (while (< i n) (set! total (+ total i)) (set! i (+ i 1))))
    -> outer [i, n, total], written {i, total}

Outer variables are those the loop reads or sets (itself, or a closure made in it captures)
that are bound outside it. A loop is eligible when there are at most MAX_VARS of them. A shared
variable (captured and assigned with `set!`, `shared`) crosses as its box, which the VM and
native code then share (jit/bridge.py, TwinBox), and is never written back.
"""

from __future__ import annotations

from typing import Any

from fluentai.passes import rcore as r

MAX_VARS = 200  # words of the JIT's argument buffer the entry's variables may use


class LoopVars:
    """`outer`: the loop's outer variables in order of first occurrence; `written`: those the
    loop may assign, shared ones aside (their box is assigned); `eligible`: whether the loop
    can have an OSR entry."""

    __slots__ = ("outer", "written", "eligible")

    def __init__(self, outer: list[r.Var], written: set[r.Var]) -> None:
        self.outer = outer
        self.written = {v for v in written if not shared(v)}
        self.eligible = len(outer) <= MAX_VARS


def shared(var: r.Var) -> bool:
    """A variable the VM keeps in a Box that closures and assignments share: it crosses to an
    OSR entry as that box."""
    return var.boxed and var.assigned


def loop_vars(loop: r.RWhile) -> LoopVars:
    """Walk `loop` (test, then body) in a fixed pre-order; closures made in the loop count with
    their captured variables (their bodies are not walked)."""
    seen: dict[r.Var, None] = {}
    bound: set[r.Var] = set()
    written: set[r.Var] = set()
    stack: list[Any] = [loop]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is r.LocalRef:
            seen.setdefault(n.var, None)
            continue
        if t is r.LocalSet:
            seen.setdefault(n.var, None)
            written.add(n.var)
        elif t is r.Fn:
            for v in n.free:
                seen.setdefault(v, None)
            continue
        elif t is r.Scope:
            bound.update(n.vars)
        elif t is r.PBind:
            bound.add(n.var)
            continue
        stack.extend(reversed(r.children(n)))
    outer = [v for v in seen if v not in bound]
    return LoopVars(outer, {v for v in written if v not in bound})
