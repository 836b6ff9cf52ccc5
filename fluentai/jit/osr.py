"""On-stack replacement at `while` back edges: the VM side (docs/jit.md; the lowering's side
is fluentai/llvm/osr.py).

A VM `Code` lists its `while` loops (`Code.loops`, by the pc after each back edge: the loop's
span and where its outer variables live in the frame, fluentai/passes/loopvars.py). When a
unit is installed, each loop whose span, function name and variable names match an OSR entry
of the unit gets an `OsrLoop` in `Code.osr`. At a back edge of such a loop, once the function
is hot, the VM calls `enter`: the outer variables cross to native code, the entry runs the loop
to its end, the variables the loop assigned come back into the frame, and the VM continues
after the loop.

    while (< i n) ... JUMP top | end: ...      the VM at `JUMP top`, i = 10001
    -> enter(loop, locals_, free, depth)       fl.osr.N([i, n, total]) -> i = n, total = ...
    -> True: the VM goes on at `end`

What cannot cross keeps the loop in the VM (`enter` returns False): a handler with clauses
installed in the VM, a variable still unbound, a value the unit cannot represent. A loop
refused REFUSALS times in a row for its values loses its entry.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any

from fluentai.jit.bridge import Unconvertible
from fluentai.vm.code import Code
from fluentai.vm.compile import UNBOUND

REFUSALS = 3
# FLUENTAI_DEOPT_STRESS: the chance that a back edge switches over, so that a loop runs some
# iterations in the VM (their calls may deopt) before it finishes natively
STRESS_OSR = 0.125


class OsrLoop:
    """A VM loop with a native entry: the entry's address and the frame places of its outer
    variables, `(in free values?, index, boxed?, written?, shared?)` in the entry's order."""

    __slots__ = ("entry", "places", "code", "pc", "refused", "held")

    def __init__(self, entry: int, places: tuple[Any, ...], code: Code, pc: int) -> None:
        self.entry = entry
        self.places = places
        self.code = code
        self.pc = pc
        self.refused = 0
        self.held: Any = None  # the VM handler stack that last kept it in the VM


def map_loops(codes: list[Code], rows: list[list[Any]], address: Any) -> list[Code]:
    """Give every loop of `codes` that has an OSR entry among `rows` (the unit meta's `osr`
    table) its OsrLoop; the codes that got one."""
    by_span = {(int(row[1]), int(row[2])): row for row in rows}
    mapped = []
    for code in codes:
        if code.loops is None or code.is_prelude:
            continue
        table: dict[int, OsrLoop] = {}
        for pc, (start, end, names, places) in code.loops.items():
            row = by_span.get((start, end))
            if row is None or row[3] != code.name or list(row[4]) != list(names):
                continue
            table[pc] = OsrLoop(address(row[0]), places, code, pc)
        if table:
            code.osr = table
            mapped.append(code)
    return mapped


def _refuse(jit: Any, loop: OsrLoop, why: str) -> bool:
    jit.stats.fallback(why)
    loop.refused += 1
    if loop.refused >= REFUSALS and loop.code.osr is not None:
        loop.code.osr.pop(loop.pc, None)
        jit.log(f"no OSR any more: a loop of {loop.code.name}: {why}")
    return False


def enter(jit: Any, loop: OsrLoop, locals_: list[Any], free: tuple[Any, ...], depth: int) -> bool:
    """Run the rest of `loop` natively from a back edge (`jit`'s unit installed); whether it
    ran (else the VM goes on).
    Errors, `exit` and Ctrl-C come back as from `Jit.call`, after the variables the loop
    assigned are back in the frame."""
    stress = jit._stress
    if stress is not None and stress.random() >= STRESS_OSR:
        jit.stats.fallback("FLUENTAI_DEOPT_STRESS")
        return False
    handlers = jit.vm.handlers
    if handlers is not None:
        if loop.held is handlers:
            return False
        why = jit.ok_to_call()
        if why is not None:
            loop.held = handlers  # counted once for this handler stack
            jit.stats.fallback(why)
            return False
    values: list[Any] = []
    for is_free, index, boxed, _, shared in loop.places:
        v = free[index] if is_free else locals_[index]
        if boxed:
            if v.value is UNBOUND:
                return _refuse(jit, loop, "a variable of the loop is not bound yet")
            if not shared:  # a binding group's variable: its value, boxed again there
                v = v.value
        elif v is UNBOUND:
            return _refuse(jit, loop, "a variable of the loop is not bound yet")
        values.append(v)
    buf = jit._argv
    try:
        jit._sync_globals()
        jit.codec.to_native(values, buf)
    except Unconvertible as exc:
        return _refuse(jit, loop, str(exc))
    loop.refused = 0
    jit.vm.world.flush()
    stats = jit.stats
    stats.crossings += 1
    stats.osr += 1
    stats.osr_loops += 1
    t0 = time.perf_counter_ns()
    jit.in_native = True
    try:
        result = jit._osr_call(loop.entry, buf, depth)
    finally:
        jit.in_native = False
    stats.native_ns += time.perf_counter_ns() - t0
    rt = jit.rt.lib
    rt.fl_out_flush()
    to_vm = jit.codec.to_vm
    for i, (_, index, _, written, _) in enumerate(loop.places):
        if written:  # a local (a shared variable is a box both sides use: none)
            locals_[index] = to_vm(buf[i])
    if result == 0:
        jit.tail = True  # the native frames replace this frame's trace entry
        try:
            jit._raise_pending()
        finally:
            jit.tail = False
    if jit._poll.value and rt.fl_jit_take_interrupt():
        jit._sync_back()
        raise KeyboardInterrupt
    jit._sync_back()
    return True


def entry_function(lib_rt: Any) -> Any:
    """`fl_jit_osr(entry, vars, depth)` of the runtime, typed."""
    fn = lib_rt.fl_jit_osr
    fn.restype = ctypes.c_uint64
    fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_int64]
    return fn
