"""Resolve every name: locals to Vars, globals, builtins, constructors, effect operations.

Input: Core Program.  Output: resolved Core (`rcore.RProgram`).
Invariant: every reference in the output names a variable that exists; all compile-time errors of
LANGUAGE.md §2.4 other than syntax are reported here: unbound names, unknown operations of a
built-in namespace, unknown constructors and types, wrong arity to a known function or
constructor, `set!` of a builtin or constructor.

    (define (f x) (g x 1))   ; x -> LocalRef(x#1), g -> GlobalRef("g"), then an arity check on g

Binding groups follow LANGUAGE.md §3.1: inside a group, a name refers to the group's variable
inside a nested lambda, or after its first binding; before that, to the binding outside.
"""

from __future__ import annotations

from bisect import bisect_right

from fluentai import primitives
from fluentai.diagnostics import DiagnosticSink
from fluentai.errors import arity_message
from fluentai.passes import rcore as r
from fluentai.primitives import PrimKind
from fluentai.records import field, record
from fluentai.source import SourceFile, Span
from fluentai.syntax import core as c

BUILTIN_TYPES = frozenset(
    "Int Float Number String Bool Symbol Nil Unit Any Error List Map Function".split()
)
PREDECLARED = (
    ("Option", (("Some", 1), ("None", 0))),
    ("Result", (("Ok", 1), ("Err", 1))),
)
PRELUDE_PREFIX = "%prelude:"
_BUILTIN_SOURCE = SourceFile("<builtin>", "")


@record(frozen=False, slots=False)
class _FnCtx:
    free: dict[r.Var, None] = field(default_factory=dict)


@record(frozen=False, slots=False)
class _Scope:
    """One level of the scope chain; a `boundary` scope marks entry into a lambda body."""

    names: dict[str, r.Var]
    is_group: bool = False
    boundary: _FnCtx | None = None
    defined: set[str] = field(default_factory=set)


@record(frozen=False, slots=False)
class _GlobalInfo:
    definitions: int = 0
    lambda_arity: tuple[int, int | None] | None = None
    assigned: bool = False


class _Resolver:
    def __init__(
        self, prog: c.Program, sink: DiagnosticSink, prelude: bool, late_builtins: bool = False
    ) -> None:
        self.sink = sink
        self.prelude = prelude
        self.late_builtins = late_builtins
        self.chain: list[_Scope] = []
        # chain indices of the scopes binding each name, and of the boundary scopes: a lookup
        # visits only the scopes that bind its name (walking the whole chain for every name
        # was quadratic in nesting: `(and x ... x)` of 20 000 operands took 48 s)
        self.binders: dict[str, list[int]] = {}
        self.boundaries: list[int] = []
        self.globals: dict[str, _GlobalInfo] = {}
        self.ctors: dict[str, r.CtorDef] = {}
        self.types: set[str] = set(BUILTIN_TYPES)
        self.pending_arity: list[tuple[str, int, Span]] = []
        # the index among the program's forms of the `data` form declaring each constructor,
        # and of the form being resolved: a constructor used by a form before its `data` form
        # (or by a function such a form makes) is read from its global, which the `data` form
        # sets when it runs (LANGUAGE.md §2.2; docs/decisions.md, "Language" 23)
        self.ctor_form: dict[str, int] = {}
        self.form_index = -1
        self.early_ctors: dict[str, None] = {}  # constructors some reference reads as globals
        self.early_refs: dict[int, str] = {}  # id() of those references -> constructor
        self._scan(prog)

    # ------------------------------------------------------------ program-wide facts

    def _scan(self, prog: c.Program) -> None:
        declared_types = {f.name for f in prog.forms if isinstance(f, c.Data)}
        declared_ctors = {k.name for f in prog.forms if isinstance(f, c.Data) for k in f.ctors}
        if not self.prelude:
            for type_name, ctors in PREDECLARED:
                if type_name in declared_types:
                    continue
                self.types.add(type_name)
                for name, arity in ctors:
                    if name not in declared_ctors:
                        fields = tuple(
                            c.TVar("a", span=Span(_BUILTIN_SOURCE, 0, 0)) for _ in range(arity)
                        )
                        self.ctors[name] = r.CtorDef(name, type_name, fields)
        for form in prog.forms:
            if isinstance(form, c.Data):
                self.types.add(form.name)
        for index, form in enumerate(prog.forms):
            if isinstance(form, c.Data):
                for ctor in form.ctors:
                    for ty in ctor.fields:
                        self._check_type(ty)
                    self.ctors[ctor.name] = r.CtorDef(ctor.name, form.name, ctor.fields)
                    self.ctor_form.setdefault(ctor.name, index)
            elif isinstance(form, c.Define):
                info = self.globals.setdefault(form.name, _GlobalInfo())
                info.definitions += 1
                if isinstance(form.value, c.Lambda) and not form.value_only:
                    lam = form.value
                    hi = None if lam.rest is not None else len(lam.params)
                    info.lambda_arity = (len(lam.params), hi)
        # a constructor whose name a top-level definition reuses is a global the `data` form
        # defines too (it binds it when it runs): defined twice, so not a known function
        for name in self.globals.keys() & self.ctors.keys():
            if name in declared_ctors:
                self.globals[name].definitions += 1

    def _global_name(self, name: str) -> str:
        return PRELUDE_PREFIX + name if self.prelude else name

    def _builtin(self, name: str) -> primitives.Prim | None:
        prim = primitives.lookup(name)
        if prim is None or (prim.internal and not self.prelude):
            return None
        return prim

    # ------------------------------------------------------------ scopes

    def _push(self, scope: _Scope) -> None:
        index = len(self.chain)
        self.chain.append(scope)
        for name in scope.names:
            self.binders.setdefault(name, []).append(index)
        if scope.boundary is not None:
            self.boundaries.append(index)

    def _pop(self) -> None:
        scope = self.chain.pop()
        for name in scope.names:
            indices = self.binders[name]
            indices.pop()
            if not indices:
                del self.binders[name]
        if scope.boundary is not None:
            self.boundaries.pop()

    def _lookup_local(self, name: str) -> r.Var | None:
        for index in reversed(self.binders.get(name, ())):
            scope = self.chain[index]
            crossed = self.boundaries[bisect_right(self.boundaries, index) :]
            if scope.is_group and not crossed and name not in scope.defined:
                continue  # before its first binding: the binding outside the group applies
            var = scope.names[name]
            if crossed:
                var.captured = True
                for boundary in crossed:
                    ctx = self.chain[boundary].boundary
                    assert ctx is not None
                    ctx.free[var] = None
            return var
        return None

    def _unbound(self, name: str, span: Span) -> None:
        self.sink.error("unbound-variable", f"`{name}` is not defined", span)

    # ------------------------------------------------------------ expressions

    def expr(self, e: c.Expr) -> r.RExpr:  # noqa: C901 - one case per Core node
        match e:
            case c.Lit():
                return e
            case c.Ref(name=name, span=span):
                return self.ref(name, span)
            case c.Lambda():
                return self.fn(e)
            case c.Call(fn=fn, args=args, span=span):
                return self.call(fn, args, span)
            case c.PrimCall(name=name, args=args, span=span):
                return r.PrimApp(name, tuple(self.expr(a) for a in args), span=span)
            case c.If(test=test, then=then, else_=else_, span=span):
                return r.RIf(self.expr(test), self.expr(then), self.expr(else_), span=span)
            case c.Seq(exprs=exprs, span=span):
                return r.RSeq(tuple(self.expr(x) for x in exprs), span=span)
            case c.Group():
                return self.group(e)
            case c.Define(span=span):
                raise AssertionError(f"{span}: Define outside a Group")
            case c.SetVar(name=name, value=value, span=span):
                return self.set_var(name, value, span)
            case c.While(test=test, body=body, span=span):
                return r.RWhile(self.expr(test), self.expr(body), span=span)
            case c.Match():
                return self.match(e)
            case c.Handle(clauses=clauses, body=body, span=span):
                for clause in clauses:
                    self.check_handler_key(clause.key, clause.span)
                fns = tuple(self.expr(cl.fn) for cl in clauses)
                keys = tuple(self.canonical_key(cl.key) for cl in clauses)
                return r.RHandle(keys, fns, self.expr(body), span=span)
            case c.Perform(op=op, args=args, span=span):
                return self.perform(op, args, span)
            case c.Try(body=body, catches=catches, finally_=fin, span=span):
                rbody = self.expr(body)
                rcatches = tuple(self.clause(cl.pattern, None, cl.body, cl.span) for cl in catches)
                rfin = self.expr(fin) if fin is not None else None
                return r.RTry(rbody, rcatches, rfin, span=span)
            case c.Data(span=span):
                self.sink.error("syntax-error", "`data` is allowed only at top level", span)
                return c.Lit(None, span=span)
            case c.Ascribe(expr=inner, type=ty, span=span):
                self._check_type(ty)
                return r.RAscribe(self.expr(inner), ty, span=span)
        raise AssertionError(f"unexpected Core node {e!r}")

    def ref(self, name: str, span: Span) -> r.RExpr:
        var = self._lookup_local(name)
        if var is not None:
            return r.LocalRef(var, span=span)
        if name in self.globals:
            prim = self._builtin(name)
            fallback = prim.name if prim is not None else None
            return r.GlobalRef(self._global_name(name), fallback, span=span)
        if name in self.ctors:
            if self.form_index < self.ctor_form.get(name, -1):
                # may run before the `data` form: the global it sets, unbound until then
                ref = r.GlobalRef(self._global_name(name), None, span=span)
                self.early_ctors[name] = None
                self.early_refs[id(ref)] = name
                return ref
            return r.CtorRef(name, span=span)
        prim = self._builtin(name)
        if prim is not None:
            if self._late(name, prim):
                return r.GlobalRef(self._global_name(name), prim.name, span=span)
            if prim.kind is PrimKind.EFFECT:
                return r.EffectRef(prim.name, span=span)
            return r.BuiltinRef(prim.name, span=span)
        if _is_op_symbol(name):
            op = self.canonical_op(name, span)
            if op is not None:
                return r.EffectRef(op, span=span)
            return c.Lit(None, span=span)
        self._unbound(name, span)
        return c.Lit(None, span=span)

    def canonical_op(self, op: str, span: Span) -> str | None:
        ns = op.split(":", 1)[0]
        if not primitives.is_builtin_namespace(ns):
            return op
        prim = primitives.lookup(op)
        if prim is None or prim.kind is not PrimKind.EFFECT:
            self._unbound(op, span)
            return None
        return prim.name

    def canonical_key(self, key: str) -> str:
        if ":" in key:
            prim = primitives.lookup(key)
            if prim is not None and prim.kind is PrimKind.EFFECT:
                return prim.name
        return key

    def check_handler_key(self, key: str, span: Span) -> None:
        if ":" in key:
            self.canonical_op(key, span)

    def _check_arity(self, name: str, lo: int, hi: int | None, got: int, span: Span) -> bool:
        prim = primitives.lookup(name)
        ok = lo <= got and (hi is None or got <= hi)
        if ok and prim is not None and prim.arity_ok is not None:
            ok = prim.arity_ok(got)
        if not ok:
            by_twos = prim is not None and prim.arity_ok is not None
            self.sink.error("arity-error", arity_message(name, lo, hi, got, by_twos=by_twos), span)
        return ok

    def _late(self, name: str, prim: primitives.Prim) -> bool:
        """A session entry's reference to a builtin (REPL): a global with the builtin as its
        fallback, as a later entry may define the name (LANGUAGE.md §2.2, §16)."""
        return (
            self.late_builtins
            and ":" not in name
            and prim.kind in (PrimKind.FUNCTION, PrimKind.EFFECT)
            and not prim.internal
        )

    def call(self, fn: c.Expr, args: tuple[c.Expr, ...], span: Span) -> r.RExpr:
        rfn = self.expr(fn)
        rargs = tuple(self.expr(a) for a in args)
        if (
            isinstance(rfn, r.GlobalRef)
            and self.late_builtins
            and rfn.fallback is not None
            and rfn.name not in self.globals
        ):
            # a builtin not defined by the session (yet): checked as the builtin is
            prim = primitives.lookup(rfn.fallback)
            assert prim is not None
            self._check_arity(prim.name, *prim.arity, len(args), span)
            return r.RCall(rfn, rargs, span=span)
        early = self.early_refs.get(id(rfn))
        if early is not None:  # a constructor read from its global: checked as the constructor
            ctor = self.ctors[early]
            self._check_arity(early, len(ctor.fields), len(ctor.fields), len(args), span)
            return r.RCall(rfn, rargs, span=span) if ctor.fields else rfn
        match rfn:
            case r.BuiltinRef(name=name):
                prim = primitives.lookup(name)
                assert prim is not None
                if prim.kind is not PrimKind.CONSTANT:
                    self._check_arity(name, *prim.arity, len(args), span)
                    return r.PrimApp(name, rargs, span=span)
            case r.EffectRef(op=op):
                prim = primitives.lookup(op)
                if prim is not None:
                    self._check_arity(op, *prim.arity, len(args), span)
                return r.RPerform(op, rargs, span=span)
            case r.CtorRef(name=name):
                ctor = self.ctors[name]
                self._check_arity(name, len(ctor.fields), len(ctor.fields), len(args), span)
                if not ctor.fields:
                    return rfn
                return r.CtorApp(name, rargs, span=span)
            case r.GlobalRef(name=gname) if not self.prelude:
                self.pending_arity.append((gname, len(args), span))
        return r.RCall(rfn, rargs, span=span)

    def perform(self, op: str, args: tuple[c.Expr, ...], span: Span) -> r.RExpr:
        rargs = tuple(self.expr(a) for a in args)
        canonical = self.canonical_op(op, span)
        if canonical is None:
            return c.Lit(None, span=span)
        prim = primitives.lookup(canonical)
        if prim is not None:
            self._check_arity(canonical, *prim.arity, len(args), span)
        return r.RPerform(canonical, rargs, span=span)

    def set_var(self, name: str, value: c.Expr, span: Span) -> r.RExpr:
        rvalue = self.expr(value)
        var = self._lookup_local(name)
        if var is not None:
            var.assigned = True
            return r.LocalSet(var, rvalue, False, span=span)
        if name in self.globals:
            self.globals[name].assigned = True
            return r.GlobalSet(self._global_name(name), rvalue, False, span=span)
        if name in self.ctors or self._builtin(name) is not None:
            self.sink.error("syntax-error", f"cannot `set!` the builtin `{name}`", span)
        else:
            self._unbound(name, span)
        return rvalue

    def fn(self, lam: c.Lambda) -> r.Fn:
        ctx = _FnCtx()
        params = tuple(r.Var(p) for p in lam.params)
        rest = r.Var(lam.rest) if lam.rest is not None else None
        names = {v.name: v for v in (*params, *([rest] if rest else [])) if v.name != "_"}
        self._push(_Scope({}, boundary=ctx))
        self._push(_Scope(names))
        body = self.expr(lam.body)
        self._pop()
        self._pop()
        return r.Fn(params, rest, body, lam.name or "lambda", tuple(ctx.free), span=lam.span)

    def group(self, g: c.Group) -> r.RExpr:
        scope = _Scope({}, is_group=True)
        for item in g.items:
            if isinstance(item, c.Define) and item.name != "_":
                scope.names.setdefault(item.name, r.Var(item.name, is_group=True))
        self._push(scope)
        body: list[r.RExpr] = []
        for item in g.items:
            if isinstance(item, c.Define):
                value = self.expr(item.value)
                if item.name == "_":
                    body.append(r.RSeq((value, c.Lit(None, span=item.span)), span=item.span))
                    continue
                var = scope.names[item.name]
                if item.name in scope.defined:
                    var.assigned = True
                scope.defined.add(item.name)
                body.append(r.LocalSet(var, value, True, span=item.span))
            else:
                body.append(self.expr(item))
        self._pop()
        return r.Scope(tuple(scope.names.values()), tuple(body), span=g.span)

    # ------------------------------------------------------------ patterns

    def match(self, m: c.Match) -> r.RMatch:
        subject = self.expr(m.subject)
        clauses = tuple(self.clause(cl.pattern, cl.guard, cl.body, cl.span) for cl in m.clauses)
        return r.RMatch(subject, clauses, span=m.span)

    def clause(self, pat: c.Pattern, guard: c.Expr | None, body: c.Expr, span: Span) -> r.RClause:
        names: dict[str, r.Var] = {}
        rpat = self.pattern(pat, names)
        self._push(_Scope(names))
        rguard = self.expr(guard) if guard is not None else None
        rbody = self.expr(body)
        self._pop()
        return r.RClause(rpat, rguard, rbody, span=span)

    def pattern(self, p: c.Pattern, names: dict[str, r.Var]) -> r.RPattern:
        match p:
            case c.PWild() | c.PLit():
                return p
            case c.PVar(name=name, span=span):
                var = r.Var(name)
                names[name] = var
                return r.PBind(var, span=span)
            case c.PList(items=items, rest=rest, span=span):
                ritems = tuple(self.pattern(x, names) for x in items)
                rrest: r.PBind | c.PWild | None = None
                if isinstance(rest, c.PVar):
                    rrest = r.PBind(r.Var(rest.name), span=rest.span)
                    names[rest.name] = rrest.var
                elif isinstance(rest, c.PWild):
                    rrest = rest
                return r.RPList(ritems, rrest, span=span)
            case c.PCons(head=head, tail=tail, span=span):
                return r.RPCons(self.pattern(head, names), self.pattern(tail, names), span=span)
            case c.PCtor(name=name, args=args, span=span):
                rargs = tuple(self.pattern(x, names) for x in args)
                ctor = self.ctors.get(name)
                if ctor is None:
                    self._unbound(name, span)
                elif len(ctor.fields) != len(args) and (args or ctor.fields):
                    arity = len(ctor.fields)
                    self.sink.error(
                        "arity-error", arity_message(name, arity, arity, len(args)), span
                    )
                return r.RPCtor(name, rargs, span=span)
            case c.PError(kind=k, message=msg, data=d, span=span):
                return r.RPError(
                    self.pattern(k, names),
                    self.pattern(msg, names),
                    self.pattern(d, names),
                    span=span,
                )
        raise AssertionError(f"unexpected pattern {p!r}")

    def _check_type(self, ty: c.Type) -> None:
        if isinstance(ty, c.TCon):
            if ty.name not in self.types:
                self._unbound(ty.name, ty.span)
            for arg in ty.args:
                self._check_type(arg)

    # ------------------------------------------------------------ program

    def program(self, prog: c.Program) -> r.RProgram:
        forms: list[tuple[r.RExpr, bool]] = []
        for index, form in enumerate(prog.forms):
            self.form_index = index
            if isinstance(form, c.Define):
                value = self.expr(form.value)
                gname = self._global_name(form.name)
                forms.append((r.GlobalSet(gname, value, True, span=form.span), True))
            elif isinstance(form, c.Data):
                forms.append((c.Lit(None, span=form.span), True))
                # bound here: reused by a definition, or used before this form
                for ctor in form.ctors:
                    if ctor.name in self.globals or ctor.name in self.early_ctors:
                        value = r.CtorRef(ctor.name, span=ctor.span)
                        gname = self._global_name(ctor.name)
                        forms.append((r.GlobalSet(gname, value, True, span=form.span), True))
            else:  # a value `-p` writes, unless it is not its top-level form's (Program.quiet)
                forms.append((self.expr(form), index in prog.quiet))
        for gname, argc, span in self.pending_arity:
            info = self.globals[gname]
            if info.definitions == 1 and not info.assigned and info.lambda_arity is not None:
                self._check_arity(gname, *info.lambda_arity, argc, span)
        ctors = tuple(self.ctors.values())
        names = [*self.globals, *(n for n in self.early_ctors if n not in self.globals)]
        gnames = tuple(self._global_name(n) for n in names)
        return r.RProgram(tuple(forms), gnames, ctors)


def _is_op_symbol(name: str) -> bool:
    return name.count(":") == 1 and not name.startswith(":") and not name.endswith(":")


def resolve_names(
    prog: c.Program, sink: DiagnosticSink, *, prelude: bool = False, late_builtins: bool = False
) -> r.RProgram:
    """Resolve a whole program (or the prelude, whose globals live in their own namespace).
    `late_builtins`: references to builtins are globals that fall back to the builtin (an entry
    of a REPL session, where a later entry may define the name)."""
    return _Resolver(prog, sink, prelude, late_builtins).program(prog)
