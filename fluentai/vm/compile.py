"""VM compiler: resolved Core -> Code (one per lambda, one for the top level).

Input: `rcore.RProgram`.  Output: the top-level `Code`; nested functions are `FnTemplate`
constants of their enclosing Code. Tail position is decided here, exactly as LANGUAGE.md §12 says:
function bodies, both branches of `if`, the last form of a body/`do`/`let`/match clause; never the
bodies of `try`, `catch`, `finally`, `handler` or `while`, arguments, tests, guards or `:`.

    (define (f x) (g x))   ->   f: LOAD_LOCAL 0; LOAD_GLOBAL g; ... TAIL_CALL 1; RETURN
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from fluentai import primitives
from fluentai.passes import rcore as r
from fluentai.passes.loopvars import loop_vars, shared
from fluentai.primitives import PrimKind
from fluentai.source import Span
from fluentai.syntax import core as c
from fluentai.vm import fuse
from fluentai.vm.code import Code, FnTemplate, TryInfo
from fluentai.vm.opcodes import Op
from fluentai.vm.values import EMPTY, Constructor, CtorInfo, EffectFn, Symbol, from_iter

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "=": operator.eq,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_BINARY_OPS = {
    "*": Op.MUL,
    "+": Op.ADD,
    "-": Op.SUB,
    "<": Op.LT,
    "=": Op.NUM_EQ,
    ">": Op.GT,
    "<=": Op.LE,
    ">=": Op.GE,
}


class Globals:
    """The global variable table shared by every compile of one VM: name -> index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.values: list[Any] = []
        self.fallback: list[str | None] = []

    def slot(self, name: str, fallback: str | None = None) -> int:
        idx = self.index.get(name)
        if idx is None:
            idx = len(self.names)
            self.index[name] = idx
            self.names.append(name)
            self.values.append(UNBOUND)
            self.fallback.append(fallback)
        return idx


class _Unbound:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND: Any = _Unbound()


def lit_value(v: c.LitValue) -> Any:
    """Turn a Core literal (with quoted lists and maps) into a VM value."""
    from fluentai.vm.maps import FlMap

    if isinstance(v, c.QList):
        return from_iter([lit_value(x) for x in v.items])
    if isinstance(v, c.QMap):
        return FlMap.from_pairs((lit_value(k), lit_value(x)) for k, x in v.pairs)
    return v


class ProgramContext:
    """What compiling one program needs besides its tree: globals, constructors, builtins."""

    def __init__(
        self,
        globals_: Globals,
        ctors: dict[str, CtorInfo],
        builtin_value: Callable[[str], Any],
        is_prelude: bool,
    ) -> None:
        self.globals = globals_
        self.ctors = ctors
        self.builtin_value = builtin_value
        self.is_prelude = is_prelude
        self.effect_fns: dict[str, EffectFn] = {}
        self._ctor_fns: dict[str, Constructor] = {}

    def constructor(self, ctor: CtorInfo) -> Constructor:
        """The one function value of a constructor with fields (so `(= Some Some)` holds)."""
        fn = self._ctor_fns.get(ctor.name)
        if fn is None or fn.ctor is not ctor:
            fn = self._ctor_fns[ctor.name] = Constructor(ctor)
        return fn


class _FnCompiler:
    def __init__(self, ctx: ProgramContext, name: str, span: Span | None) -> None:
        self.ctx = ctx
        self.code = Code(name, 0, False, 0, is_prelude=ctx.is_prelude, span=span)
        self.slots: dict[r.Var, int] = {}
        self.free: dict[r.Var, int] = {}
        self._const_index: dict[tuple[type, Any], int] = {}
        self.stubs: list[tuple[int, tuple[Any, ...], int, int, Span]] = []
        # fused expressions: (expr, const index, function, pc after the EVAL)
        self.deferred: list[tuple[r.PrimApp, int, Any, int]] = []
        self.fuse = False

    # ------------------------------------------------------------ emission helpers

    def emit(self, op: Op, arg: int, span: Span | None) -> int:
        self.code.code.append(int(op))
        self.code.code.append(arg)
        self.code.spans.append(span)
        return len(self.code.code) - 2

    def here(self) -> int:
        return len(self.code.code)

    def patch(self, at: int, target: int) -> None:
        self.code.code[at + 1] = target

    def const(self, value: Any) -> int:
        key: tuple[type, Any] | None = None
        if type(value) is float:
            key = (float, value.hex())  # keeps -0.0 apart from 0.0, and every NaN together
        elif type(value) in (int, str, bool, Symbol):
            key = (type(value), value)
        if key is not None and key in self._const_index:
            return self._const_index[key]
        self.code.consts.append(value)
        idx = len(self.code.consts) - 1
        if key is not None:
            self._const_index[key] = idx
        return idx

    def slot(self, var: r.Var) -> int:
        idx = self.slots.get(var)
        if idx is None:
            idx = self.code.nslots
            self.code.nslots += 1
            self.code.slot_names.append(var.name)
            self.slots[var] = idx
        return idx

    def temp(self, name: str) -> int:
        return self.slot(r.Var(name))

    # ------------------------------------------------------------ variables

    def load_var(self, var: r.Var, span: Span) -> None:
        if var in self.slots:
            self.emit(Op.LOAD_BOX if var.boxed else Op.LOAD_LOCAL, self.slots[var], span)
        else:
            self.emit(Op.LOAD_FREE_BOX if var.boxed else Op.LOAD_FREE, self.free[var], span)

    def store_var(self, var: r.Var, span: Span) -> None:
        if var in self.free:
            assert var.boxed, var
            self.emit(Op.STORE_FREE_BOX, self.free[var], span)
        else:
            self.emit(Op.STORE_BOX if var.boxed else Op.STORE_LOCAL, self.slot(var), span)

    # ------------------------------------------------------------ expressions

    def expr(self, e: r.RExpr, tail: bool) -> None:  # noqa: C901 - one case per node
        match e:
            case c.Lit(value=value, span=span):
                self.emit(Op.CONST, self.const(lit_value(value)), span)
            case r.LocalRef(var=var, span=span):
                self.load_var(var, span)
            case r.GlobalRef(name=name, fallback=fallback, span=span):
                self.emit(Op.LOAD_GLOBAL, self.ctx.globals.slot(name, fallback), span)
            case r.BuiltinRef(name=name, span=span):
                self.emit(Op.CONST, self.const(self.ctx.builtin_value(name)), span)
            case r.CtorRef(name=name, span=span):
                ctor = self.ctx.ctors[name]
                ctor_value: Any = (
                    ctor.nullary_value if ctor.arity == 0 else self.ctx.constructor(ctor)
                )
                self.emit(Op.CONST, self.const(ctor_value), span)
            case r.EffectRef(op=op_name, span=span):
                fn = self.ctx.effect_fns.setdefault(op_name, EffectFn(op_name))
                self.emit(Op.CONST, self.const(fn), span)
            case r.LocalSet(var=var, value=value, span=span):
                self.expr(value, False)
                self.store_var(var, span)
                self.emit(Op.CONST, self.const(None), span)
            case r.GlobalSet(name=name, value=value, define=define, span=span):
                self.expr(value, False)
                if define:
                    self.emit(Op.DEFINE_GLOBAL, self.ctx.globals.slot(name), span)
                    self.emit(Op.CONST, self.const(None), span)
                else:  # one instruction gives the form's value, so a resumed error replaces it
                    self.emit(Op.STORE_GLOBAL, self.ctx.globals.slot(name), span)
            case r.Scope(vars=vars_, body=body, span=span):
                for var in vars_:
                    if var.boxed:
                        self.emit(Op.MAKE_BOX, self.slot(var), span)
                self.body(body, tail)
            case r.Fn():
                self.closure(e)
            case r.RCall(fn=fn, args=args, span=span):
                self.expr(fn, False)
                for a in args:
                    self.expr(a, False)
                self.emit(Op.TAIL_CALL if tail else Op.CALL, len(args), span)
            case r.PrimApp():
                self.prim_app(e, tail)
            case r.CtorApp(name=name, args=args, span=span):
                for a in args:
                    self.expr(a, False)
                self.emit(Op.CTOR, self.const(self.ctx.ctors[name]), span)
            case r.RIf(test=test, then=then, else_=else_, span=span):
                jf = self.branch_unless(test)
                self.expr(then, tail)
                if tail:  # in tail position the branch returns instead of jumping to a RETURN
                    self.emit(Op.RETURN, 0, span)
                    jf(self.here())
                    self.expr(else_, tail)
                else:
                    j = self.emit(Op.JUMP, 0, span)
                    jf(self.here())
                    self.expr(else_, tail)
                    self.patch(j, self.here())
            case r.RSeq(exprs=exprs):
                self.body(exprs, tail)
            case r.RWhile(test=test, body=body, span=span):
                # top: test; JUMP_IF_FALSE end; body; POP; JUMP top; end: CONST nil
                top = self.here()
                jf = self.branch_unless(test)
                self.effect(body)
                self.emit(Op.JUMP, top, span)
                jf(self.here())
                self.osr_site(e)
                self.emit(Op.CONST, self.const(None), span)
            case r.RMatch():
                self.match(e, tail)
            case r.RHandle(keys=keys, fns=fns, body=body, span=span):
                for fn_expr in fns:
                    self.expr(fn_expr, False)
                keys_idx = self.const(None)
                self.emit(Op.PUSH_HANDLER, keys_idx, span)
                self.expr(body, False)
                self.emit(Op.POP_HANDLER, 0, span)
                self.code.consts[keys_idx] = (keys, self.here())
            case r.RPerform(op=op, args=args, span=span):
                prim = primitives.lookup(op)
                if tail and prim is not None and prim.prelude_default is not None:
                    # a call, so that its default behaviour replaces this frame (machine.py
                    # `_tail_default`); PERFORM is never a tail call
                    self.emit(Op.CONST, self.const(self.ctx.builtin_value(prim.name)), span)
                    for a in args:
                        self.expr(a, False)
                    self.emit(Op.TAIL_CALL, len(args), span)
                    return
                for a in args:
                    self.expr(a, False)
                self.emit(Op.PERFORM, self.const((op, len(args))), span)
            case r.RTry():
                self.try_(e)
            case r.RAscribe(expr=inner, type=ty, span=span):
                self.expr(inner, False)
                self.emit(Op.ASCRIBE, self.const(ty), span)
            case _:
                raise AssertionError(f"unexpected resolved node {e!r}")

    def osr_site(self, loop: r.RWhile) -> None:
        """Record, under the pc after the loop's back edge, where the loop's outer variables
        live in this frame (on-stack replacement at `while` back edges, jit/osr.py)."""
        if self.ctx.is_prelude:
            return
        lv = loop_vars(loop)
        if not lv.eligible:
            return
        places = []
        for var in lv.outer:
            place = (var.boxed, var in lv.written, shared(var))
            if var in self.slots:
                places.append((False, self.slots[var], *place))
            elif var in self.free:
                places.append((True, self.free[var], *place))
            else:  # never stored before the loop: no OSR
                return
        names = tuple(v.name for v in lv.outer)
        if self.code.loops is None:
            self.code.loops = {}
        self.code.loops[self.here()] = (loop.span.start, loop.span.end, names, tuple(places))

    def _stub(
        self, idx: int, operands: tuple[Any, ...], target: int, after: int, span: Span
    ) -> None:
        """Record a fused branch whose constant is `(*operands, target, stub)`: its resume stub
        is emitted after the function's code (see opcodes), and the constant then filled in."""
        self.stubs.append((idx, operands, target, after, span))

    def finish(self) -> None:
        """Emit fallbacks of fused expressions and resume stubs, and fill in their constants."""
        self.fuse = False
        for expr, idx, fn, after in self.deferred:
            fallback = self.here()
            self.prim_app(expr, False)
            self.emit(Op.JUMP, after, expr.span)
            self.code.consts[idx] = (fn, fallback)
        for idx, operands, target, after, span in self.stubs:
            stub = self.here()
            self.emit(Op.JUMP_IF_FALSE, target, span)
            self.emit(Op.JUMP, after, span)
            self.code.consts[idx] = (*operands, target, stub)
        self.code.finish()

    def _int_local(self, e: r.RExpr) -> int | None:
        """The slot of an unboxed local of this function (superinstruction operand), else None."""
        if isinstance(e, r.LocalRef) and e.var in self.slots and not e.var.boxed:
            return self.slots[e.var]
        return None

    def branch_unless(self, test: r.RExpr) -> Callable[[int], None]:
        """Evaluate `test` and jump unless it is truthy; returns the patcher of the target.

        `(< x 10)`-style tests become one fused compare-and-branch instruction."""
        if isinstance(test, r.PrimApp) and test.name in _COMPARISONS and len(test.args) == 2:
            fast = _COMPARISONS[test.name]
            prim = primitives.lookup(test.name)
            assert prim is not None
            left, right = test.args
            slot = self._int_local(left)
            if slot is not None and isinstance(right, c.Lit) and type(right.value) is int:
                k = right.value
                idx = self.const(None)
                special = {"<": Op.JUMP_UNLESS_LT_LC, "=": Op.JUMP_UNLESS_EQ_LC}
                self.emit(special.get(test.name, Op.JUMP_UNLESS_LC), idx, test.span)
                after = self.here()
                operands = (fast, prim.vm, test.name, slot, k)
                return lambda target: self._stub(idx, operands, target, after, test.span)
            self.expr(left, False)
            self.expr(right, False)
            idx2 = self.const(None)
            self.emit(Op.JUMP_UNLESS, idx2, test.span)
            after2 = self.here()
            operands2 = (fast, prim.vm, test.name)
            return lambda target: self._stub(idx2, operands2, target, after2, test.span)
        self.expr(test, False)
        at = self.emit(Op.JUMP_IF_FALSE, 0, test.span)
        return lambda target: self.patch(at, target)

    def body(self, exprs: tuple[r.RExpr, ...], tail: bool) -> None:
        for x in exprs[:-1]:
            self.effect(x)
        self.expr(exprs[-1], tail)

    def effect(self, e: r.RExpr) -> None:
        """Compile `e` for its effect only: its value is discarded."""
        if isinstance(e, r.RSeq):
            for x in e.exprs:
                self.effect(x)
        elif isinstance(e, r.LocalSet):
            self.expr(e.value, False)
            self.store_var(e.var, e.span)
        elif isinstance(e, r.GlobalSet) and e.define:
            self.expr(e.value, False)
            self.emit(Op.DEFINE_GLOBAL, self.ctx.globals.slot(e.name), e.span)
        else:
            self.expr(e, False)
            self.emit(Op.POP, 0, None)

    def _fused_slot(self, var: r.Var) -> str | None:
        if var.boxed:
            return None
        if var in self.slots:
            return f"L[{self.slots[var]}]"
        if var in self.free:
            return f"F[{self.free[var]}]"
        return None

    def prim_app(self, e: r.PrimApp, tail: bool) -> None:
        prim = primitives.lookup(e.name)
        assert prim is not None, e.name
        if prim.name in ("+", "-") and len(e.args) == 2:
            slot = self._int_local(e.args[0])
            right = e.args[1]
            if slot is not None and isinstance(right, c.Lit) and type(right.value) is int:
                op = Op.ADD_LC if prim.name == "+" else Op.SUB_LC
                self.emit(op, self.const((slot, right.value)), e.span)
                return
        if self.fuse and fuse.is_fusable(e, self._fused_slot):
            idx = self.const(None)
            self.emit(Op.EVAL, idx, e.span)
            self.deferred.append((e, idx, fuse.generate(e, self._fused_slot), self.here()))
            return
        binary = _BINARY_OPS.get(prim.name)
        if binary is not None and len(e.args) == 2:
            self.expr(e.args[0], False)
            self.expr(e.args[1], False)
            self.emit(binary, 0, e.span)
            return
        if prim.kind is PrimKind.FUNCTION:
            for a in e.args:
                self.expr(a, False)
            n = len(e.args)
            if not prim.needs_world and n in (1, 2):
                self.emit(Op.PRIM1 if n == 1 else Op.PRIM2, self.const(prim.vm), e.span)
            else:
                self.emit(Op.PRIM, self.const((prim, n)), e.span)
            return
        # prelude and intrinsic builtins are called like closures
        self.emit(Op.CONST, self.const(self.ctx.builtin_value(prim.name)), e.span)
        for a in e.args:
            self.expr(a, False)
        self.emit(Op.TAIL_CALL if tail else Op.CALL, len(e.args), e.span)

    def closure(self, fn: r.Fn) -> None:
        template = compile_function(self.ctx, fn)
        sources = tuple(
            (False, self.slots[v]) if v in self.slots else (True, self.free[v]) for v in fn.free
        )
        self.emit(Op.MAKE_CLOSURE, self.const(FnTemplate(template, sources)), fn.span)

    # ------------------------------------------------------------ patterns

    def pattern(self, p: r.RPattern, boxed: list[int]) -> tuple[Any, ...]:
        match p:
            case c.PWild():
                return ("wild",)
            case r.PBind(var=var):
                slot = self.slot(var)
                if var.boxed:
                    boxed.append(slot)
                return ("bind", slot)
            case c.PLit(value=value):
                return ("lit", lit_value(value))
            case r.RPList(items=items, rest=rest):
                rest_pat = None if rest is None else self.pattern(rest, boxed)
                return ("list", tuple(self.pattern(x, boxed) for x in items), rest_pat)
            case r.RPCons(head=head, tail=tail_pat):
                return ("cons", self.pattern(head, boxed), self.pattern(tail_pat, boxed))
            case r.RPCtor(name=name, args=args):
                ctor = self.ctx.ctors.get(name)
                subs = tuple(self.pattern(x, boxed) for x in args)
                if all(sub[0] in ("bind", "wild") for sub in subs):
                    # the usual `(Ctor a b _)`: the fields go straight to their slots
                    return (
                        "ctorb",
                        ctor,
                        tuple(sub[1] if sub[0] == "bind" else -1 for sub in subs),
                    )
                return ("ctor", ctor, subs)
            case r.RPError(kind=k, message=m, data=d):
                return (
                    "error",
                    self.pattern(k, boxed),
                    self.pattern(m, boxed),
                    self.pattern(d, boxed),
                )
        raise AssertionError(f"unexpected pattern {p!r}")

    def match(self, m: r.RMatch, tail: bool) -> None:
        # subject -> tmp; per clause: LOAD tmp; MATCH pat; JUMP_IF_FALSE next; [guard;
        # JUMP_IF_FALSE next]; body; JUMP end; next: ...; MATCH_FAIL tmp; end:
        self.expr(m.subject, False)
        tmp = self.temp(" match")
        self.emit(Op.STORE_LOCAL, tmp, m.span)
        ends: list[int] = []
        for clause in m.clauses:
            boxed: list[int] = []
            pat = self.pattern(clause.pattern, boxed)
            self.emit(Op.LOAD_LOCAL, tmp, clause.span)
            self.emit(Op.MATCH, self.const(pat), clause.span)
            fails = [self.emit(Op.JUMP_IF_FALSE, 0, clause.span)]
            for slot in boxed:
                self.emit(Op.BOX_PARAM, slot, clause.span)
            if clause.guard is not None:
                self.expr(clause.guard, False)
                fails.append(self.emit(Op.JUMP_IF_FALSE, 0, clause.span))
            self.expr(clause.body, tail)
            if tail:
                self.emit(Op.RETURN, 0, clause.span)
            else:
                ends.append(self.emit(Op.JUMP, 0, clause.span))
            for f in fails:
                self.patch(f, self.here())
        self.emit(Op.MATCH_FAIL, tmp, m.span)
        for j in ends:
            self.patch(j, self.here())

    def try_(self, t: r.RTry) -> None:
        # SETUP_TRY info; body; POP_TRY; [finally; POP]; JUMP end
        # clause_i: [SETUP_TRY fin-only]; body_i; [POP_TRY; finally; POP]; JUMP end
        # fin_err: finally; POP; RERAISE        (entered with the pending error pushed)
        span = t.span
        info_idx = self.const(None)
        self.emit(Op.SETUP_TRY, info_idx, span)
        self.expr(t.body, False)
        self.emit(Op.POP_TRY, 0, span)
        if t.finally_ is not None:
            self.expr(t.finally_, False)
            self.emit(Op.POP, 0, span)
        ends = [self.emit(Op.JUMP, 0, span)]
        fin_only_idx = self.const(None) if t.finally_ is not None else None
        patterns: list[Any] = []
        clause_pcs: list[int] = []
        for clause in t.catches:
            boxed: list[int] = []
            patterns.append(self.pattern(clause.pattern, boxed))
            clause_pcs.append(self.here())
            for slot in boxed:
                self.emit(Op.BOX_PARAM, slot, clause.span)
            if fin_only_idx is not None:
                self.emit(Op.SETUP_TRY, fin_only_idx, clause.span)
            self.expr(clause.body, False)
            if t.finally_ is not None:
                self.emit(Op.POP_TRY, 0, clause.span)
                self.expr(t.finally_, False)
                self.emit(Op.POP, 0, clause.span)
            ends.append(self.emit(Op.JUMP, 0, clause.span))
        fin_pc = None
        if t.finally_ is not None:
            fin_pc = self.here()
            self.expr(t.finally_, False)
            self.emit(Op.POP, 0, span)
            self.emit(Op.RERAISE, 0, span)
        self.code.consts[info_idx] = TryInfo(tuple(patterns), tuple(clause_pcs), fin_pc)
        if fin_only_idx is not None:
            self.code.consts[fin_only_idx] = TryInfo((), (), fin_pc)
        for j in ends:
            self.patch(j, self.here())


def compile_function(ctx: ProgramContext, fn: r.Fn) -> Code:
    comp = _FnCompiler(ctx, fn.name, fn.span)
    comp.fuse = True  # function bodies only: top-level code runs once
    for i, var in enumerate(fn.free):
        comp.free[var] = i
        comp.code.free_names.append(var.name)
        comp.code.free_assigned.append(var.assigned)
    for p in fn.params:
        comp.slot(p)
    comp.code.nparams = len(fn.params)
    if fn.rest is not None:
        comp.slot(fn.rest)
        comp.code.has_rest = True
    for p in (*fn.params, *([fn.rest] if fn.rest else [])):
        if p.boxed:
            comp.emit(Op.BOX_PARAM, comp.slots[p], fn.span)
    comp.expr(fn.body, True)
    comp.emit(Op.RETURN, 0, fn.span)
    comp.finish()
    return comp.code


def compile_program(
    ctx: ProgramContext, prog: r.RProgram, span: Span | None, print_values: bool
) -> Code:
    """The top level: each form in order, its value recorded (and printed under -p)."""
    comp = _FnCompiler(ctx, "<top level>", span)
    for form, is_definition in prog.forms:
        comp.expr(form, False)
        flag = 1 if (print_values and not is_definition) else 0
        comp.emit(Op.TOP_VALUE, flag, None)
    comp.emit(Op.CONST, comp.const(None), None)
    comp.emit(Op.RETURN, 0, None)
    comp.finish()
    return comp.code


__all__ = ["EMPTY", "UNBOUND", "Globals", "ProgramContext", "compile_program", "lit_value"]
