"""Fuse `map`/`filter` pipelines into the `fold`, `sum`, `product` or `length` consuming them.

Input: resolved Core.  Output: resolved Core where such a pipeline is one `while` loop over the
source list that builds no intermediate list, with the original expression kept as its fallback.

    (fold + 0 (filter (lambda (y) (= (mod y 3) 0)) (map (lambda (x) (* x 2)) xs)))
    ->
    (let* ((i0 0) (x0 xs) (acc i0) (l x0) (go (and (list? l) (int? acc))))
      (while (and go (not (empty? l)))
        (let ((h (head l)))
          (if (int? h)
              (begin (let ((y (* h 2))) (if (= (mod y 3) 0) (set! acc (+ acc y)))) (set! l (tail l)))
              (set! go #f))))
      (if go acc (fold + 0 (filter (lambda (y) ...) (map (lambda (x) ...) x0)))))

Invariant: nothing observable changes. A pipeline is fused only when every function in it is a
lambda (or a builtin) whose body, given Int arguments, can neither raise nor do anything
else observable: Int literals, its own parameters, and `+ - * abs min max`, comparisons, `not`,
`even? odd? zero? positive? negative?`, `mod quot rem /` by a non-zero Int literal, `if`.
The loop checks that the source is a List and each element and the initial value are Ints; at
the first that is not, it gives up and the original expression runs from the start on the same
values, so errors, their order and their traces are the original's (the loop's work had no
effects). A `let`/`let*` variable bound to a pipeline stage and used once, as the list argument
of the next binding or the body's final expression, is inlined first (nothing observable runs
between the two). A `range` source becomes a counter, its arguments checked once (a range no
memory holds still runs the original, which reports it). See
docs/decisions.md, "Architecture" 4.
"""

from __future__ import annotations

from typing import Any, Literal

from fluentai import primitives, records
from fluentai.passes import rcore as r
from fluentai.syntax import core as c
from fluentai.vm.builtins_lists import RANGE_MAX

Kind = Literal["int", "bool"]

_STAGES = frozenset({"map", "filter"})
_CONSUMERS = frozenset({"fold", "sum", "product", "length"})
_INT_OPS = frozenset({"+", "*", "-", "abs", "min", "max"})
_COMPARE_OPS = frozenset({"=", "!=", "<", ">", "<=", ">="})
_INT_TESTS = frozenset({"even?", "odd?", "zero?", "positive?", "negative?"})
_DIVISIONS = frozenset({"mod", "quot", "rem", "/"})


def fuse_lists(prog: r.RProgram) -> r.RProgram:
    uses: dict[r.Var, int] = {}
    candidates = False
    for form, _ in prog.forms:
        for node in r.walk(form):
            if isinstance(node, r.LocalRef):
                uses[node.var] = uses.get(node.var, 0) + 1
            elif isinstance(node, r.PrimApp) and not candidates:
                candidates = _candidate(node)
    if not candidates:
        return prog  # nothing to fuse: no rebuild of the program
    inliner = _Inliner(uses)
    forms = tuple(
        (r.rebuild(r.rebuild(form, inliner), _fuse), is_def) for form, is_def in prog.forms
    )
    return records.replace(prog, forms=forms)


def _candidate(e: r.PrimApp) -> bool:
    """Whether `e` is a consumer that is, or may become once a `let*` stage is inlined, a
    pipeline that can be fused."""
    if _canonical(e.name) not in _CONSUMERS or not e.args:
        return False
    return isinstance(e.args[-1], r.LocalRef) or _pipeline(e) is not None


def _canonical(name: str) -> str:
    prim = primitives.lookup(name)
    return prim.name if prim is not None else name


# ---------------------------------------------------------------- what may be fused


def _kind(e: Any, env: dict[r.Var, Kind]) -> Kind | None:
    """The kind of `e` when the variables of `env` hold values of their kinds, if `e` is made
    only of what can neither raise nor have an effect then; else None."""
    if isinstance(e, c.Lit):
        if type(e.value) is bool:
            return "bool"
        return "int" if type(e.value) is int else None
    if isinstance(e, r.LocalRef):
        return env.get(e.var)
    if isinstance(e, r.RIf):
        test, then, else_ = (_kind(x, env) for x in (e.test, e.then, e.else_))
        return then if test is not None and then is not None and then == else_ else None
    if not isinstance(e, r.PrimApp):
        return None
    name = _canonical(e.name)
    kinds = [_kind(a, env) for a in e.args]
    if name == "not":
        return "bool" if kinds[0] is not None else None
    if any(k != "int" for k in kinds):
        return None
    if name in _INT_OPS:
        return "int"
    if name in _COMPARE_OPS or name in _INT_TESTS:
        return "bool"
    if name in _DIVISIONS:
        divisor = e.args[1]
        nonzero = isinstance(divisor, c.Lit) and divisor.value != 0
        return "int" if nonzero and _is_int_literal(divisor) else None
    return None


class _Fn:
    """A function of a pipeline as a body over parameters (a builtin becomes its application)."""

    def __init__(self, params: tuple[r.Var, ...], body: Any) -> None:
        self.params = params
        self.body = body

    def kind(self, arg_kinds: tuple[Kind, ...]) -> Kind | None:
        return _kind(self.body, dict(zip(self.params, arg_kinds, strict=True)))

    def apply(self, args: tuple[Any, ...]) -> Any:
        """The body with each parameter replaced by the matching argument (a LocalRef)."""
        return _substitute(self.body, dict(zip(self.params, args, strict=True)))


def _as_fn(f: Any, arity: int) -> _Fn | None:
    if isinstance(f, r.Fn):
        if f.rest is not None or len(f.params) != arity or f.free:
            return None
        return _Fn(f.params, f.body)
    if isinstance(f, r.BuiltinRef):
        prim = primitives.lookup(f.name)
        if prim is None or prim.kind is not primitives.PrimKind.FUNCTION:
            return None
        lo, hi = prim.arity
        if arity < lo or (hi is not None and arity > hi):
            return None
        params = tuple(r.Var(f"%arg{i}") for i in range(arity))
        span = f.span
        return _Fn(
            params, r.PrimApp(prim.name, tuple(r.LocalRef(p, span=span) for p in params), span=span)
        )
    return None


def _substitute(e: Any, args: dict[r.Var, Any]) -> Any:
    if isinstance(e, r.LocalRef):
        return records.replace(args[e.var], span=e.span) if e.var in args else e
    if isinstance(e, r.RIf):
        return records.replace(
            e,
            test=_substitute(e.test, args),
            then=_substitute(e.then, args),
            else_=_substitute(e.else_, args),
        )
    if isinstance(e, r.PrimApp):
        return records.replace(e, args=tuple(_substitute(a, args) for a in e.args))
    return e


class _Pipeline:
    """`(consumer ... (stage f (stage g ... source)))`: the stages innermost first."""

    def __init__(
        self, consumer: r.PrimApp, stages: list[tuple[str, _Fn]], source: Any, step: _Fn | None
    ) -> None:
        self.consumer = consumer
        self.stages = stages
        self.source = source
        self.step = step  # fold's function


def _stage(e: Any) -> tuple[str, _Fn, Any] | None:
    if isinstance(e, r.PrimApp) and _canonical(e.name) in _STAGES and len(e.args) == 2:
        fn = _as_fn(e.args[0], 1)
        if fn is not None:
            return _canonical(e.name), fn, e.args[1]
    return None


def _pipeline(e: r.PrimApp) -> _Pipeline | None:
    """The pipeline `e` consumes, if it is one that may be fused (kinds checked)."""
    name = _canonical(e.name)
    if name not in _CONSUMERS:
        return None
    step = None
    if name == "fold":
        if len(e.args) != 3:
            return None
        step = _as_fn(e.args[0], 2)
        if step is None:
            return None
    elif len(e.args) != 1:
        return None
    stages: list[tuple[str, _Fn]] = []
    lst = e.args[-1]
    found = _stage(lst)
    while found is not None:
        stages.append(found[:2])
        lst = found[2]
        found = _stage(lst)
    if not stages and name != "fold" and _range_args(lst) is None:
        return None  # `sum` and `length` of a list are builtins already
    stages.reverse()
    kind: Kind = "int"
    for stage, fn in stages:
        k = fn.kind((kind,))
        if k is None:
            return None
        if stage == "map":
            kind = k
    if name in ("sum", "product") and kind != "int":
        return None
    if step is not None and step.kind(("int", kind)) != "int":
        return None
    return _Pipeline(e, stages, lst, step)


# ---------------------------------------------------------------- the rewrite


def _fuse(e: Any) -> Any:
    if isinstance(e, r.PrimApp):
        pipeline = _pipeline(e)
        if pipeline is not None:
            return _fused(pipeline)
    return e


class _Inliner:
    """Inlines a variable bound to a pipeline stage into its single use, the list argument of
    the next item of its scope."""

    def __init__(self, uses: dict[r.Var, int]) -> None:
        self.uses = uses

    def __call__(self, e: Any) -> Any:
        return self.inline(e) if isinstance(e, r.Scope) else e

    def inline(self, scope: r.Scope) -> Any:
        body = list(scope.body)
        dropped: set[r.Var] = set()
        i = 0
        while i + 1 < len(body):
            var = self._inlinable(scope, body, i)
            if var is None:
                i += 1
                continue
            item = body[i]
            assert isinstance(item, r.LocalSet)
            body[i + 1] = _replace_list_arg(body[i + 1], item.value)
            del body[i]
            dropped.add(var)
        if not dropped:
            return scope
        variables = tuple(v for v in scope.vars if v not in dropped)
        if not variables and len(body) == 1:
            return body[0]
        return records.replace(scope, vars=variables, body=tuple(body))

    def _inlinable(self, scope: r.Scope, body: list[Any], i: int) -> r.Var | None:
        """The variable body[i] defines, if it may be inlined into body[i + 1]."""
        item, nxt = body[i], body[i + 1]
        if not (isinstance(item, r.LocalSet) and item.define and _stage(item.value) is not None):
            return None
        var = item.var
        if var not in scope.vars or var.captured or var.assigned or self.uses.get(var) != 1:
            return None
        app = nxt.value if isinstance(nxt, r.LocalSet) and nxt.define else nxt
        if not isinstance(app, r.PrimApp) or _canonical(app.name) not in _STAGES | _CONSUMERS:
            return None
        *others, last = app.args
        if not (isinstance(last, r.LocalRef) and last.var is var):
            return None
        # what the next item evaluates before its list argument has no effect and cannot fail:
        # a variable of a binding group is read only if it was defined before the stage
        defined = {x.var for x in body[:i] if isinstance(x, r.LocalSet) and x.define}
        if not all(_effect_free(a, defined) for a in others):
            return None
        return var


def _effect_free(e: Any, defined: set[r.Var]) -> bool:
    """Whether evaluating `e` has no effect, cannot fail and gives the same value before or
    after other code that has none: a literal, a lambda, a builtin, or a variable never
    assigned that is bound (a binding group's only once `defined`)."""
    if isinstance(e, r.LocalRef):
        return not e.var.assigned and (not e.var.is_group or e.var in defined)
    return isinstance(e, r.Fn | r.BuiltinRef | c.Lit)


def _replace_list_arg(item: Any, value: Any) -> Any:
    """`item` (an application, or a definition of one) with `value` as its last argument."""
    if isinstance(item, r.LocalSet):
        return records.replace(item, value=_replace_list_arg(item.value, value))
    assert isinstance(item, r.PrimApp)
    return records.replace(item, args=(*item.args[:-1], value))


def _fused(p: _Pipeline) -> r.RExpr:
    span = p.consumer.span
    name = _canonical(p.consumer.name)

    def ref(v: r.Var) -> r.LocalRef:
        return r.LocalRef(v, span=span)

    def prim(op: str, *args: Any) -> r.PrimApp:
        return r.PrimApp(op, args, span=span)

    def define(v: r.Var, value: Any) -> r.LocalSet:
        return r.LocalSet(v, value, True, span=span)

    def assign(v: r.Var, value: Any) -> r.LocalSet:
        v.assigned = True
        return r.LocalSet(v, value, False, span=span)

    def let(v: r.Var, value: Any, body: Any) -> r.Scope:
        return r.Scope((v,), (define(v, value), body), span=span)

    acc = r.Var("%acc", is_group=True)
    go = r.Var("%go", is_group=True)
    variables: list[r.Var] = []
    items: list[Any] = []
    checks: list[Any] = []  # what the loop needs of the values, in order

    def bind(value: Any, name: str) -> Any:
        """`value`, evaluated here into a variable unless it is an Int literal."""
        if _is_int_literal(value):
            return value
        var = r.Var(name, is_group=True)
        variables.append(var)
        items.append(define(var, value))
        checks.append(prim("int?", ref(var)))
        return ref(var)

    initial = {"fold": None, "product": 1}.get(name, 0)
    start: Any = bind(c.Lit(initial, span=span) if name != "fold" else p.consumer.args[1], "%init")

    # the element through the stages, innermost first, then into the accumulator
    def through(k: int, element: r.Var) -> Any:
        if k == len(p.stages):
            if name == "fold":
                assert p.step is not None
                return assign(acc, p.step.apply((ref(acc), ref(element))))
            if name in ("sum", "product"):
                return assign(acc, prim("+" if name == "sum" else "*", ref(acc), ref(element)))
            return assign(acc, prim("+", ref(acc), c.Lit(1, span=span)))
        stage, fn = p.stages[k]
        value = fn.apply((ref(element),))
        if stage == "filter":
            return r.RIf(value, through(k + 1, element), c.Lit(None, span=span), span=span)
        mapped = r.Var("%mapped", is_group=True)
        return let(mapped, value, through(k + 1, mapped))

    def all_of(tests: list[Any]) -> Any:
        if not tests:
            return c.Lit(True, span=span)
        result = tests[-1]
        for t in reversed(tests[:-1]):
            result = r.RIf(t, result, c.Lit(False, span=span), span=span)
        return result

    range_args = _range_args(p.source)
    if range_args is not None:
        # a range: a counter, no list; its arguments are checked once
        bounds = [bind(a, f"%range{k}") for k, a in enumerate(range_args)]
        new_source: Any = records.replace(p.source, args=tuple(bounds))
        if len(bounds) == 1:
            bounds = [c.Lit(0, span=span), bounds[0]]
        lo, hi, by = (*bounds, c.Lit(1, span=span))[:3]
        if not _is_int_literal(by):
            checks.append(prim("not", prim("=", by, c.Lit(0, span=span))))
        # a range no memory holds is out of memory at once (builtins_lists.RANGE_MAX): the
        # original reports it
        if isinstance(by, c.Lit) and type(by.value) is int:
            limit: Any = c.Lit(abs(by.value) * RANGE_MAX, span=span)
        else:
            limit = prim("*", prim("abs", by), c.Lit(RANGE_MAX, span=span))
        checks.append(prim("<=", prim("abs", prim("-", hi, lo)), limit))
        counter = r.Var("%i", is_group=True)
        variables += [acc, go, counter]
        items += [define(acc, start), define(go, all_of(checks)), define(counter, lo)]
        up, down = prim("<", ref(counter), hi), prim(">", ref(counter), hi)
        if isinstance(by, c.Lit) and type(by.value) is int:
            more: Any = up if by.value > 0 else down
        else:
            more = r.RIf(prim(">", by, c.Lit(0, span=span)), up, down, span=span)
        test = r.RIf(ref(go), more, c.Lit(False, span=span), span=span)
        advance = assign(counter, prim("+", ref(counter), by))
        items.append(r.RWhile(test, r.RSeq((through(0, counter), advance), span=span), span=span))
    else:
        source = r.Var("%source", is_group=True)
        rest = r.Var("%rest", is_group=True)
        head = r.Var("%head", is_group=True)
        new_source = ref(source)
        variables += [source, acc, rest, go]
        items += [define(source, p.source), define(acc, start), define(rest, ref(source))]
        items.append(define(go, all_of([prim("list?", ref(rest)), *checks])))
        step = r.RSeq((through(0, head), assign(rest, prim("tail", ref(rest)))), span=span)
        body = let(
            head,
            prim("head", ref(rest)),
            r.RIf(prim("int?", ref(head)), step, assign(go, c.Lit(False, span=span)), span=span),
        )
        test = r.RIf(
            ref(go), prim("not", prim("empty?", ref(rest))), c.Lit(False, span=span), span=span
        )
        items.append(r.RWhile(test, body, span=span))

    # the original on the same values, should the loop have given up
    *fixed, pipeline = p.consumer.args
    if name == "fold":
        fixed = [fixed[0], start]
    original = records.replace(p.consumer, args=(*fixed, _replace_source(pipeline, new_source)))
    items.append(r.RIf(ref(go), ref(acc), original, span=span))
    return r.Scope(tuple(variables), tuple(items), span=span)


def _range_args(e: Any) -> tuple[Any, ...] | None:
    """The arguments of a `range` call whose step is not the literal 0, else None."""
    if not (isinstance(e, r.PrimApp) and _canonical(e.name) == "range" and 1 <= len(e.args) <= 3):
        return None
    if len(e.args) == 3 and isinstance(e.args[2], c.Lit) and e.args[2].value == 0:
        return None
    return e.args


def _is_int_literal(e: Any) -> bool:
    return isinstance(e, c.Lit) and type(e.value) is int


def _replace_source(e: Any, source: Any) -> Any:
    """The pipeline `e` reading `source` instead of its own source expression."""
    if _stage(e) is None:
        return source if isinstance(source, r.PrimApp) else records.replace(source, span=e.span)
    return records.replace(e, args=(e.args[0], _replace_source(e.args[1], source)))
