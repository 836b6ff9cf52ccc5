"""Accumulator recursion: a self call summed in tail position becomes a loop (DESIGN.md §4).

    (define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))

Here the second call `(fib (- n 2))` is the last thing the frame evaluates before it adds, so
when inference proves every value added is an Int (exact `+` and `*` are associative, bignums
included) the frame can add `(fib (- n 1))` into an accumulator and go round again with
`n - 2` instead of calling: half the calls. Nothing observable changes:

- evaluation order: the operands before the call and the call's arguments are evaluated in the
  same order; only the (pure, never failing) Int addition moves earlier;
- depth: each time round the loop stands for one more nested call, so the loop raises the depth
  count by one per turn, with the same check and the same stack-overflow site as the call it
  replaces; every other call of the body runs at the depth it had;
- traces: an error leaving the loop after j turns adds the j trace entries the j replaced
  frames would have added (all at that call's site) before unwinding further.

When the parameters are inferred Int and the body is only Int arithmetic, comparisons and self
calls, the loop run while they are fixnums is a function of its own (_fixnum_functions),
which keeps the frame's depth count in a register and calls copies of itself, inlined.

The body's tail positions may only be `if`/`do` forms, self tail calls (a jump, the count
unchanged: the original frame was replaced too), one accumulating form, and simple Int values
(variables, literals, arithmetic of those): another tail call would have to become a non-tail
call here. Parameters captured or assigned, `try`, handlers and closures rule it out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import llvmlite.ir as ir

from fluentai.llvm import bounds, quickexit
from fluentai.passes import rcore as r
from fluentai.records import record
from fluentai.syntax import core as c

if TYPE_CHECKING:
    from fluentai.llvm.lower import _FnGen
    from fluentai.types.infer import TypeResult

I64 = ir.IntType(64)

_OPS = ("+", "*")
_SIMPLE_ARITH = frozenset({"+", "-", "*"})
# the operations a fixnum function's body may hold (fx_suits): on Ints they cannot fail
_FX_OPS = frozenset({"+", "-", "*", "<", ">", "<=", ">=", "="})
# the fixnum function and the copies of it inlined into it: its recursion unrolled twice (not in
# code lowered `quick`, whose compile time counts more than its speed)
FX_COPIES = 3


@record
class AccPlan:
    """The accumulating form `(op x ... (self args))` of a function and its operator."""

    op: str
    form: r.PrimApp


def _is_self_call(e: Any, name: str, nparams: int) -> bool:
    return (
        isinstance(e, r.RCall)
        and isinstance(e.fn, r.GlobalRef)
        and e.fn.name == name
        and len(e.args) == nparams
    )


def _walk(node: Any) -> Iterator[Any]:
    """Every node of a resolved expression (patterns and clauses included)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (r.RCall, r.PrimApp, r.CtorApp, r.RPerform)):
            if isinstance(n, r.RCall):
                stack.append(n.fn)
            stack.extend(n.args)
        elif isinstance(n, r.RIf):
            stack.extend((n.test, n.then, n.else_))
        elif isinstance(n, r.RSeq):
            stack.extend(n.exprs)
        elif isinstance(n, r.Scope):
            stack.extend(n.body)
        elif isinstance(n, (r.LocalSet, r.GlobalSet)):
            stack.append(n.value)
        elif isinstance(n, r.RWhile):
            stack.extend((n.test, n.body))
        elif isinstance(n, r.RAscribe):
            stack.append(n.expr)
        elif isinstance(n, (r.Fn, r.RMatch, r.RHandle, r.RTry)):
            pass  # rejected by the caller before their insides matter


def _simple_int(e: Any, types: TypeResult) -> bool:
    """A value whose lowering in tail position and out of it is the same: a literal, a
    variable, or `+ - *` of those, inferred to be an Int."""
    t = types.type_of(e)
    if not t.only("Int") or t.is_never:
        return False
    if isinstance(e, (c.Lit, r.LocalRef)):
        return True
    if isinstance(e, r.PrimApp) and e.name in _SIMPLE_ARITH:
        return all(isinstance(a, (c.Lit, r.LocalRef)) for a in e.args)
    return False


def plan_accumulation(lam: r.Fn, name: str, types: TypeResult | None) -> AccPlan | None:
    """The accumulating form of known function `name` (defined as `lam`), when the whole body
    suits the transformation (module docstring); None otherwise."""
    if types is None or lam.rest is not None or lam.free:
        return None
    if any(p.captured or p.assigned for p in lam.params):
        return None
    _params, result = types.signature(lam)
    if not result.only("Int") or result.is_never:
        return None
    for n in _walk(lam.body):
        if isinstance(n, (r.Fn, r.RMatch, r.RHandle, r.RTry, r.RPerform, r.Scope, r.RWhile)):
            return None
    nparams = len(lam.params)
    forms: list[r.PrimApp] = []

    def tail_ok(e: Any) -> bool:
        if isinstance(e, r.RIf):
            return tail_ok(e.then) and tail_ok(e.else_)
        if isinstance(e, r.RSeq):
            return bool(e.exprs) and tail_ok(e.exprs[-1])
        if _is_self_call(e, name, nparams):
            return True
        if (
            isinstance(e, r.PrimApp)
            and e.name in _OPS
            and e.args
            and _is_self_call(e.args[-1], name, nparams)
        ):
            if not all(types.type_of(a).only("Int") for a in e.args[:-1]):
                return False
            forms.append(e)
            return True
        return _simple_int(e, types)

    if not tail_ok(lam.body) or len(forms) != 1:
        return None
    return AccPlan(forms[0].name, forms[0])


def fx_suits(lam: r.Fn, name: str, types: TypeResult | None) -> bool:
    """Whether the Int-specialized copy of `lam`'s accumulating loop can be a fixnum function
    of its own (_fixnum_functions): every parameter is inferred Int, and the body holds only
    parameters, literals, `if`/`do`, `+ - *` and comparisons of Ints and self calls. Nothing
    there can fail but a call (its depth check, or an error it returns), so the only calls of
    the runtime that read the depth count are known, and the frame's count can stay in a
    register between them."""
    if types is None:
        return False
    params, _result = types.signature(lam)
    if not params or not all(t.only("Int") and not t.is_never for t in params):
        return False
    own = set(lam.params)
    heads: set[int] = set()
    for n in _walk(lam.body):
        if isinstance(n, (c.Lit, r.RIf, r.RSeq)):
            continue
        if isinstance(n, r.LocalRef) and n.var in own:
            continue
        if isinstance(n, r.GlobalRef) and id(n) in heads:
            continue
        if _is_self_call(n, name, len(lam.params)):
            heads.add(id(n.fn))
            continue
        if isinstance(n, r.PrimApp) and n.name in _FX_OPS:
            kinds = [types.type_of(a) for a in n.args]
            if n.args and all(t.only("Int") and not t.is_never for t in kinds):
                continue
        return False
    return True


class _Turns:
    """The state of the loop being lowered: slots of the parameters, the accumulator, the
    number of turns taken and the depth count on entry; `first`: lowering the first turn.
    For the Int-specialized copy (`fixed`: the parameters known to be fixnums there), a turn
    whose new values of those are not all fixnums goes on in the generic loop (`leave`)."""

    def __init__(self, plan: AccPlan, slots: list[ir.Value], gen: _FnGen) -> None:
        self.plan = plan
        self.slots = slots
        self.acc = gen.alloca("acc")
        self.turns = gen.alloca("turns")
        self.depth0 = gen.alloca("depth0")
        self.head = gen.new_block("acc.head")
        self.first = True
        self.fixed: list[int] = []
        self.leave: ir.Block | None = None
        # in a fixnum function: the known entry that goes on with values that are not all
        # fixnums, and where an error leaving the loop adds the turns' trace entries
        self.kfn: ir.Function | None = None
        self.unwind: ir.Block | None = None

    def specialized(self, gen: _FnGen, fixed: list[int]) -> _Turns:
        """The state of the Int-specialized copy: the same slots, its own head."""
        spec = _Turns.__new__(_Turns)
        spec.__dict__.update(self.__dict__)
        spec.head = gen.new_block("acc.spec.head")
        spec.fixed = fixed
        spec.leave = self.head
        return spec


def lower_accumulating(gen: _FnGen, plan: AccPlan, values: list[ir.Value]) -> None:
    """The body of the known entry of `gen.lam` as an accumulating loop (module docstring).
    The first turn is lowered on its own (the accumulator is still the identity and no turn
    was taken): a call that returns at once does not touch the loop's state, so it needs no
    more registers than the test (the prologue can be placed after it)."""
    lam = gen.lam
    assert lam is not None
    b = gen.b
    st = _Turns(plan, gen.bind_params(values), gen)
    b.store(_identity(gen, plan), st.acc)
    b.store(gen.const(0), st.turns)
    depth_g = gen.low.rt_global("fl_rt_depth")
    b.store(b.load(depth_g, typ=I64), st.depth0)
    fixed = _fixnum_params(gen)
    spec: _Turns | None = None
    gname = gen.low.known.get(id(lam))
    kfn = gen.low.kentries.get(gname) if gname is not None else None
    if fixed and kfn is not None and gname and fx_suits(lam, gname, gen.low.types):
        # the Int parameters are fixnums on entry: the loop goes on in the fixnum function
        ok0: ir.Value = ir.Constant(ir.IntType(1), 1)
        values_now = [b.load(slot, typ=I64) for slot in st.slots]
        for i in fixed:
            ok0 = b.and_(ok0, gen.is_fixnum_word(values_now[i]))
        fx_first = gen.new_block("acc.fx")
        generic_first = gen.new_block("acc.generic")
        b.cbranch(ok0, fx_first, generic_first)
        gen.b.position_at_end(fx_first)
        fx = _fixnum_functions(gen, plan, kfn)
        depth0 = b.load(st.depth0, typ=I64)
        res = gen.b.call(fx, [*values_now, depth0])
        gen.b.store(depth0, depth_g)  # a fixnum function's return leaves the count as it is
        gen.b.ret(res)
        gen.b.position_at_end(generic_first)
        fixed = []
    if fixed:
        # the Int parameters are fixnums on entry: the whole loop again, where they are
        # known fixnums (no tag tests), for as long as they stay fixnums
        spec = st.specialized(gen, fixed)
        ok: ir.Value = ir.Constant(ir.IntType(1), 1)
        for i in fixed:
            ok = b.and_(ok, gen.is_fixnum_word(b.load(st.slots[i], typ=I64)))
        spec_first = gen.new_block("acc.spec")
        generic_first = gen.new_block("acc.generic")
        b.cbranch(ok, spec_first, generic_first)
        gen.b.position_at_end(spec_first)
        with _known_fixnums(gen, fixed):
            _tail(gen, lam.body, spec)
        gen.b.position_at_end(generic_first)
    _tail(gen, lam.body, st)
    # the later turns; an error leaving them after j turns adds the j entries of the frames
    # the turns stand for
    st.first = False
    unwind = gen.new_block("acc.unwind")
    ub = ir.IRBuilder(unwind)
    ub.store(ub.load(st.depth0, typ=I64), depth_g)
    _add_turn_entries(gen, plan, ub, ub.load(st.turns, typ=I64))
    gen.b.position_at_end(st.head)
    with gen.landing_at(unwind):
        _tail(gen, lam.body, st)
    if spec is not None:
        spec.first = False
        gen.b.position_at_end(spec.head)
        with gen.landing_at(unwind), _known_fixnums(gen, fixed):
            _tail(gen, lam.body, spec)
    gen.finish()


def _fixnum_functions(gen: _FnGen, plan: AccPlan, kfn: ir.Function) -> ir.Function:
    """The fixnum function of the accumulating loop of `gen.lam` (docs/decisions.md, "Native
    back end" 35): `NAME.k.fx(params..., depth)`, an internal C-convention function whose
    parameters are fixnums and `depth` the count of its frame, and FX_COPIES - 1 copies of it,
    inlined, which its self calls go through in turn (its recursion unrolled). When the
    function has a quick exit, each self call goes through a thin copy of it too (inlined)."""
    from fluentai.llvm.lower import _FnGen

    lam = gen.lam
    assert lam is not None
    module = gen.low.u.module
    fnty = ir.FunctionType(I64, [I64] * (len(lam.params) + 1))
    base = kfn.name + ".fx"
    copies = 1 if gen.low.quick else FX_COPIES
    fns = [ir.Function(module, fnty, base if i == 0 else f"{base}{i}") for i in range(copies)]
    quick = quickexit.quick_exit(lam, gen.low.types)
    entries = list(fns)
    if quick is not None:
        entries = [ir.Function(module, fnty, fn.name + ".q") for fn in fns]
    for i, fn in enumerate(fns):
        fn.linkage = "internal"
        fn.attributes.add("noinline" if i == 0 else "alwaysinline")
    for fn, entry in zip(fns, entries, strict=True):
        if entry is fn:
            continue
        assert quick is not None
        entry.linkage = "internal"
        entry.attributes.add("alwaysinline")
        qg = _FnGen(gen.low, entry, gen.name, False, lam)
        qg.clo = gen.clo
        quickexit.thin_fixnum_entry(qg, quick, fn)
    for i, fn in enumerate(fns):
        fg = _FnGen(gen.low, fn, gen.name, False, lam)
        fg.clo = gen.clo
        fg.self_entry = kfn
        fg.fx_callee = entries[(i + 1) % len(fns)]
        _lower_fixnum_function(fg, plan, kfn)
    return fns[0]


def _lower_fixnum_function(gen: _FnGen, plan: AccPlan, kfn: ir.Function) -> None:
    """The body of a fixnum function: the accumulating loop with its parameters known
    fixnums, as the Int-specialized copy of lower_accumulating, but with the frame's depth
    count in `gen.fx_depth` (fl_rt_depth holds it only where the runtime reads it, and on an
    error's way out; the known entry restores it after the outermost call returns), self
    calls of fixnums calling `gen.fx_callee` with the count they run at, and the loop's turns
    with new values that are not all fixnums going on in the known entry `kfn` (_fx_leave)."""
    lam = gen.lam
    assert lam is not None
    b = gen.b
    *values, depth0 = gen.fn.args
    st = _Turns(plan, gen.bind_params(values), gen)
    st.fixed = list(range(len(lam.params)))
    st.kfn = kfn
    b.store(_identity(gen, plan), st.acc)
    b.store(depth0, st.depth0)
    gen.fx_depth = gen.alloca("depth")
    b.store(depth0, gen.fx_depth)
    depth_g = gen.low.rt_global("fl_rt_depth")
    st.unwind = unwind = gen.new_block("fx.unwind")
    ub = ir.IRBuilder(unwind)
    ub.store(depth0, depth_g)
    _add_turn_entries(gen, plan, ub, ub.sub(ub.load(gen.fx_depth, typ=I64), depth0))
    with _known_fixnums(gen, st.fixed):
        _tail(gen, lam.body, st)
        st.first = False
        gen.b.position_at_end(st.head)
        with gen.landing_at(unwind):
            _tail(gen, lam.body, st)
    gen.finish()


def fx_call(gen: _FnGen, e: r.RCall, kfn: ir.Function) -> ir.Value:
    """A self call in a fixnum function (not in tail position): the depth check and the
    failure path of an ordinary call, but its arguments, when they are fixnums, go to the next
    fixnum function with the count it runs at, and fl_rt_depth is left alone; otherwise the
    known entry `kfn` is called the ordinary way."""
    args = [gen.value(a) for a in e.args]
    b = gen.b
    assert gen.fx_depth is not None and gen.fx_callee is not None
    depth_g = gen.low.rt_global("fl_rt_depth")
    cur = b.load(gen.fx_depth, typ=I64)
    d = b.add(cur, gen.const(1))
    gen.check_depth(d, e.span, "fx.depth")
    tests = [gen.is_fixnum_word(a) for a in args if not gen.is_known_fixnum(a)]
    if not tests:
        res = b.call(gen.fx_callee, [*args, d])
    else:
        ok: ir.Value = tests[0]
        for t in tests[1:]:
            ok = b.and_(ok, t)
        fast = gen.new_block("fx.call")
        slow = gen.new_block("fx.call.generic")
        join = gen.new_block("fx.call.join")
        b.cbranch(ok, fast, slow)
        b.position_at_end(fast)
        res_fast = b.call(gen.fx_callee, [*args, d])
        b.branch(join)
        b.position_at_end(slow)
        b.store(d, depth_g)
        res_slow = b.call(kfn, args, cconv="tailcc")
        b.branch(join)
        b.position_at_end(join)
        phi = b.phi(I64)
        phi.add_incoming(res_fast, fast)
        phi.add_incoming(res_slow, slow)
        res = phi
    return gen.or_resumed(res, e.span)


def _add_turn_entries(gen: _FnGen, plan: AccPlan, ub: ir.IRBuilder, count: ir.Value) -> None:
    """From `ub`, on the way out of an accumulating loop that an error leaves after `count`
    turns: add the trace entries of the `count` frames the turns stand for (all at the
    accumulated call's site), then unwind further."""
    call = plan.form.args[-1]
    assert isinstance(call, r.RCall)
    call_site = gen.const(gen.low.site(call.span, gen.name))
    start = ub.block
    ub.branch(more := gen.new_block("acc.trace"))
    ub.position_at_end(more)
    i = ub.phi(I64)
    i.add_incoming(gen.const(0), start)
    add = gen.new_block("acc.trace.add")
    ub.cbranch(ub.icmp_signed("<", i, count), add, gen.current_landing())
    ub.position_at_end(add)
    ub.call(gen.low.rt("fl_trace_add"), [call_site])
    i.add_incoming(ub.add(i, gen.const(1)), add)
    ub.branch(more)


def _fx_leave(gen: _FnGen, st: _Turns) -> None:
    """A turn of a fixnum function whose new values are not all fixnums: the rest of the loop
    is what the known entry computes from them at this frame's depth (no call counted: the
    frame goes on, as the generic loop would, and an error there adds its own turns' trace
    entries before this loop's unwinding adds these), combined with the accumulator."""
    b = gen.b
    assert st.kfn is not None and st.unwind is not None and gen.fx_depth is not None
    gen.sync_depth()
    res = b.call(st.kfn, [b.load(slot, typ=I64) for slot in st.slots], cconv="tailcc")
    ok = gen.new_block("fx.leave.ok")
    b.cbranch(b.icmp_unsigned("==", res, gen.const(0)), st.unwind, ok)
    b.position_at_end(ok)
    with gen.landing_at(st.unwind):
        _combine(gen, st, res)
    gen.b.ret(gen.b.load(st.acc, typ=I64))


def _fixnum_params(gen: _FnGen) -> list[int]:
    """The parameters inferred Int-only: the specialized copy knows them to be fixnums."""
    lam = gen.lam
    types = gen.low.types
    assert lam is not None and types is not None
    params, _result = types.signature(lam)
    return [i for i, t in enumerate(params) if t.only("Int") and not t.is_never]


@contextmanager
def _known_fixnums(gen: _FnGen, fixed: list[int]) -> Iterator[None]:
    lam = gen.lam
    assert lam is not None
    saved = {lam.params[i]: gen.vars[lam.params[i]] for i in fixed}
    for p, info in saved.items():
        gen.vars[p] = info.known_fixnum()
    try:
        yield
    finally:
        gen.vars.update(saved)


def _go_round(gen: _FnGen, st: _Turns, args: list[ir.Value]) -> None:
    """Store the parameters' new values and jump to the loop's head: in the specialized copy,
    its own head when the fixed parameters' values are fixnums, else the generic loop's."""
    b = gen.b
    for slot, v in zip(st.slots, args, strict=True):
        b.store(v, slot)
    if not st.fixed:
        b.branch(st.head)
        return
    ok: ir.Value = ir.Constant(ir.IntType(1), 1)
    for i in st.fixed:
        if not gen.is_known_fixnum(args[i]):
            ok = b.and_(ok, gen.is_fixnum_word(args[i]))
    if st.kfn is not None:  # a fixnum function
        if isinstance(ok, ir.Constant):
            b.branch(st.head)
            return
        leave = gen.new_block("fx.leave")
        b.cbranch(ok, st.head, leave)
        b.position_at_end(leave)
        _fx_leave(gen, st)
        return
    assert st.leave is not None
    b.cbranch(ok, st.head, st.leave)


def _identity(gen: _FnGen, plan: AccPlan) -> ir.Value:
    return gen.low.const_word(gen.b, 0 if plan.op == "+" else 1)


def _combine(gen: _FnGen, st: _Turns, v: ir.Value, acc_fixnum: bool = False) -> None:
    """acc := acc op v (both Ints: no error but out of memory). `acc_fixnum`: the accumulator
    is known to be a fixnum, as it is at the start of each turn of a fixnum function, whose
    turns go round only with a fixnum one (_fx_turn), so that only `v` is tested."""
    old = gen.b.load(st.acc, typ=I64)
    if acc_fixnum:
        gen.fixvals[id(old)] = old
    gen.b.store(gen.binary(st.plan.op, old, v, st.plan.form.span, floats=False), st.acc)


def _checked_before(form: r.PrimApp, call: r.RCall) -> bool:
    """In a fixnum function: whether the turn's depth check is one a self call among the
    form's operands (always evaluated, before the turn, at the same count plus one) has just
    passed. The limit it passed cannot fall below that count since: the runtime raises it
    (`next_depth_limit`) and lowers it only to request an interrupt, which then waits for the
    next check or poll, one call or turn later. So the check is left out (decision "Native
    back end" 37)."""
    fn = call.fn
    assert isinstance(fn, r.GlobalRef)
    return any(_is_self_call(x, fn.name, len(call.args)) for x in form.args[:-1])


def _fx_turn(gen: _FnGen, form: r.PrimApp, st: _Turns) -> None:
    """A turn of a fixnum function. The accumulator is a fixnum at the start of each turn:
    the operands and the call's arguments are evaluated, the count raised, and only then
    the operands combined into it, where a result that is not a fixnum leaves the loop
    (_fx_leave) instead of going round. So only the operand is tested, and nothing joins a
    bignum into the loop. (The combination is pure and cannot fail: when it happens among
    the turn's steps is not observable.)"""
    vals = [gen.value(x) for x in form.args[:-1]]
    call = form.args[-1]
    assert isinstance(call, r.RCall)
    args = [gen.value(a) for a in call.args]
    b = gen.b
    assert gen.fx_depth is not None
    d = b.add(b.load(gen.fx_depth, typ=I64), gen.const(1))  # turns = depth - depth0
    if not _checked_before(form, call):
        gen.check_depth(d, call.span, "acc.depth")
    b.store(d, gen.fx_depth)
    for slot, v in zip(st.slots, args, strict=True):  # what _fx_leave goes on with
        b.store(v, slot)
    acc = b.load(st.acc, typ=I64)
    for i, v in enumerate(vals):
        fits: ir.Value = ir.Constant(ir.IntType(1), 1)
        if not gen.is_known_fixnum(v):
            fits = gen.tag_is_fixnum(v)
        fast = gen.new_block("fx.fix")
        slow = gen.new_block("fx.big")
        b.cbranch(fits, fast, slow)
        b.position_at_end(fast)
        val, ovf = gen.fixnum_arith(st.plan.op, acc, v)
        b.cbranch(ovf, slow, ok := gen.new_block("fx.fits"))
        b.position_at_end(slow)  # the rest of the loop generically
        with gen.landing_at(st.unwind):
            big = acc
            for w in vals[i:]:
                big = gen.slow_op(st.plan.op, big, w, form.span)
        b.store(big, st.acc)
        _fx_leave(gen, st)
        b.position_at_end(ok)
        gen.fixvals[id(val)] = val
        acc = val
    b.store(acc, st.acc)
    _go_round(gen, st, args)


def _tail(gen: _FnGen, e: Any, st: _Turns) -> None:
    """Lower `e` in tail position of the accumulating body: each path ends in a return of
    acc op value or a jump to the loop's head."""
    if isinstance(e, r.RIf):
        test = gen.test(e.test)
        then_b = gen.new_block("acc.then")
        else_b = gen.new_block("acc.else")
        gen.b.cbranch(test, then_b, else_b)
        then_facts, else_facts = bounds.branch_facts(e.test)
        for blk, branch, facts in ((then_b, e.then, then_facts), (else_b, e.else_, else_facts)):
            gen.b.position_at_end(blk)
            with bounds.facts(gen, facts):
                _tail(gen, branch, st)
        return
    if isinstance(e, r.RSeq):
        for x in e.exprs[:-1]:
            gen.value(x)
        _tail(gen, e.exprs[-1], st)
        return
    b = gen.b
    if isinstance(e, r.RCall):  # a self tail call: the same frame, the same depth
        args = [gen.value(a) for a in e.args]
        gen.poll()
        _go_round(gen, st, args)
        return
    if e is st.plan.form:
        if gen.fx_depth is not None:
            _fx_turn(gen, e, st)
            return
        for x in e.args[:-1]:
            _combine(gen, st, gen.value(x))
        call = e.args[-1]
        assert isinstance(call, r.RCall)
        args = [gen.value(a) for a in call.args]
        b = gen.b
        depth_g = gen.low.rt_global("fl_rt_depth")
        depth0 = b.load(st.depth0, typ=I64)
        n = gen.const(0) if st.first else b.load(st.turns, typ=I64)
        d = b.add(b.add(depth0, n), gen.const(1))
        gen.check_depth(d, call.span, "acc.depth")
        b.store(d, depth_g)
        b.store(b.add(n, gen.const(1)), st.turns)
        _go_round(gen, st, args)
        return
    v = gen.value(e)
    if st.first:  # no turn taken: the value itself
        gen.b.ret(v)
        return
    _combine(gen, st, v, acc_fixnum=st.kfn is not None)
    if st.kfn is None:  # a fixnum function's return leaves the count as it is
        gen.b.store(gen.b.load(st.depth0, typ=I64), gen.low.rt_global("fl_rt_depth"))
    gen.b.ret(gen.b.load(st.acc, typ=I64))
