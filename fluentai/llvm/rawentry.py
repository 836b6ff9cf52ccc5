"""Raw entries: known functions that take their Float parameters as raw doubles.

    (define (stays-bounded? cr ci iters) ...)      ; called 640 000 times by count-row

A known program function (fluentai/types/ find_known_functions) whose parameter is inferred
Float-only gets, besides its known entry `.k`, a raw entry `.r` taking that parameter as a
`double` (the other parameters stay words). Its body is lowered a second time there, with the
parameter a raw double as a Float local is (boxed only where it escapes). Direct calls from
program code pass doubles when the arguments are computed as doubles (a Float tree, a Float
local, a specialized loop's parameter), so no Float is boxed to be passed and unboxed again.

Nothing else changes, and inference is never trusted to drop a check:

- a call whose arguments are not all known doubles tests them: Floats go to `.r`, anything
  else (only possible where inference does not hold: tier 2's seeds speculate) to `.k`;
- `.k` (the entry of generic callers, closures, the VM bridge) tests its words the same way
  and tail-calls `.r` with the unboxed doubles, else runs the generic body;
- both entries are the same function for depth, sites and traces: the call site counts the
  call and adds its trace entry whichever entry it called.

Functions that call themselves are left out (a self tail call would have to re-check and may
leave the raw body; accumulating and quick-exit bodies are built around `.k`), and so are
assigned parameters (they live in a box). A closure capturing a raw parameter gets it boxed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import llvmlite.ir as ir

from fluentai.passes import rcore as r

if TYPE_CHECKING:
    from fluentai.llvm.lower import _DV, _FnGen
    from fluentai.types.infer import TypeResult

I1 = ir.IntType(1)
I64 = ir.IntType(64)
DBL = ir.DoubleType()


def _calls_itself(lam: r.Fn, name: str) -> bool:
    return any(isinstance(n, r.GlobalRef) and n.name == name for n in r.walk(lam.body))


def raw_params(lam: r.Fn, name: str, types: TypeResult | None) -> list[int]:
    """Indices of the parameters of known function `name` (defined as `lam`) that its raw
    entry takes as doubles; empty when it gets none."""
    if types is None or lam.rest is not None or lam.free or _calls_itself(lam, name):
        return []
    params, _result = types.signature(lam)
    return [
        i
        for i, p in enumerate(lam.params)
        if not p.assigned and params[i].only("Float") and not params[i].is_never
    ]


def declare(gen_module: ir.Module, kfn: ir.Function, nparams: int, raw: list[int]) -> ir.Function:
    """The raw entry `.r` of the function whose known entry is `kfn`."""
    types = [DBL if i in raw else I64 for i in range(nparams)]
    rfn = ir.Function(gen_module, ir.FunctionType(I64, types), kfn.name.removesuffix(".k") + ".r")
    rfn.linkage = "internal"
    rfn.calling_convention = "tailcc"
    return rfn


def raw_body(gen: _FnGen, clo: ir.GlobalVariable, raw: list[int]) -> None:
    """The body of the raw entry `gen.fn`: the raw parameters live in double slots."""
    from fluentai.llvm.lower import PTR, _Loop, _Var

    lam = gen.lam
    assert lam is not None
    gen.clo = clo.bitcast(PTR) if clo.type != PTR else clo
    b = gen.b
    slots: list[Any] = []
    for i, (p, val) in enumerate(zip(lam.params, gen.fn.args, strict=True)):
        if i in raw:
            dslot = gen.alloca_b.alloca(DBL, name=p.name + ".d")
            b.store(val, dslot)
            info = _Var("local", None, False, False, p.name)
            info.dual = (None, dslot)
            gen.vars[p] = info
            slots.append(None)
        else:
            slot = gen.alloca(p.name)
            b.store(val, slot)
            gen.vars[p] = _Var("local", slot, False, False, p.name)
            slots.append(slot)
    gen.loop = _Loop(lam, slots)
    gen.loop_body(gen.loop, True)
    gen.finish()


def dispatch(gen: _FnGen, rfn: ir.Function, raw: list[int]) -> None:
    """At the start of the known entry `gen.fn`: when its raw parameters are Floats, tail-call
    the raw entry with their doubles; otherwise go on to the generic body."""
    from fluentai.llvm.lower import _tail_marker

    b = gen.b
    words = list(gen.fn.args)
    ok: ir.Value = ir.Constant(I1, 1)
    for i in raw:
        ok = b.and_(ok, gen.is_float_word(words[i]))
    to_raw = gen.new_block("raw.entry")
    generic = gen.new_block("generic.entry")
    b.cbranch(ok, to_raw, generic)
    b.position_at_end(to_raw)
    args = [gen.unbox(w) if i in raw else w for i, w in enumerate(words)]
    b.ret(b.call(rfn, args, cconv="tailcc", tail=_tail_marker(gen.fn, rfn.function_type)))
    b.position_at_end(generic)
    gen.cold = True


def arguments(gen: _FnGen, args: Iterator[Any], raw: list[int]) -> list[_DV]:
    """The arguments of a call of a function with a raw entry, in order: raw parameters'
    kept as doubles where the lowering computes them so."""
    return [gen.dexpr(a) if i in raw else gen.word_dv(gen.value(a)) for i, a in enumerate(args)]


def call(
    gen: _FnGen,
    rfn: ir.Function,
    kfn: ir.Function,
    raw: list[int],
    dargs: list[_DV],
    make_call: Any,
) -> ir.Value | None:
    """A direct call (made by `make_call(fn, args)`, which returns its value or None in tail
    position) through the raw entry when the raw arguments are Floats, else through `.k`."""
    b = gen.b
    ok: ir.Value = ir.Constant(I1, 1)
    for i in raw:
        if dargs[i].flag is not True:
            ok = b.and_(ok, gen.dv_ok(dargs[i]))
    if isinstance(ok, ir.Constant):
        return make_call(rfn, [gen.as_double(d) if i in raw else d.w for i, d in enumerate(dargs)])
    to_raw = gen.new_block("raw.call")
    to_k = gen.new_block("known.call")
    b.cbranch(ok, to_raw, to_k)
    b.position_at_end(to_raw)
    rres = make_call(rfn, [gen.as_double(d) if i in raw else d.w for i, d in enumerate(dargs)])
    raw_end = gen.b.block
    gen.b.position_at_end(to_k)
    kres = make_call(kfn, [gen.as_word(d) for d in dargs])
    if rres is None or kres is None:
        return None
    incoming = [(rres, raw_end), (kres, gen.b.block)]
    return gen._merge(incoming, gen.new_block("raw.join"))
