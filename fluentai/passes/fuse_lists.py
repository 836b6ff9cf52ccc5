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

A `map` over a range that no consumer fuses, with any function, becomes a call of the prelude's
`%map-range` (`for-each`: `%for-each-range`) once the range's arguments pass the same checks: the function is called on the same
Ints in the same order, and the range's list is never built (docs/decisions.md,
"Architecture" 5).

    (map f (range n))
    ->
    (let* ((n0 n)) (if (and (int? n0) (<= (abs (- n0 0)) RANGE_MAX)) (%map-range f 0 n0 1)
                       (map f (range n0))))
"""

from __future__ import annotations

from typing import Any, Literal

from fluentai import primitives, records
from fluentai.passes import rcore as r
from fluentai.syntax import core as c
from fluentai.vm.builtins_lists import RANGE_MAX

Kind = Literal["int", "bool"]

_STAGES = frozenset({"map", "filter"})
# a one-list builtin over a range that no consumer fuses -> the prelude function doing its work
# without the range's list
_OVER_RANGE = {"map": "%map-range", "for-each": "%for-each-range"}
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
    fuser = _Fuser()
    forms = tuple(
        (r.rebuild(r.rebuild(r.rebuild(form, inliner), fuser.pipeline), fuser.over_range), is_def)
        for form, is_def in prog.forms
    )
    return records.replace(prog, forms=forms)


def _candidate(e: r.PrimApp) -> bool:
    """Whether `e` is a consumer that is, or may become once a `let*` stage is inlined, a
    pipeline that can be fused, or a `map` over a range."""
    name = _canonical(e.name)
    if name in _OVER_RANGE:
        return len(e.args) == 2 and _range_args(e.args[1]) is not None
    if name not in _CONSUMERS or not e.args:
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


class _Fuser:
    """The rewrites, in two walks: pipelines first (a `map` of one is fused into its consumer),
    then the `map`s and `for-each`es over a range left, but for those in the originals the fused
    pipelines keep as their fallbacks."""

    def __init__(self) -> None:
        self.fallbacks: set[int] = set()  # ids of the `map`s in those originals

    def pipeline(self, e: Any) -> Any:
        if isinstance(e, r.PrimApp):
            pipeline = _pipeline(e)
            if pipeline is not None:
                fused, original = _fused(pipeline)
                self.fallbacks.update(id(x) for x in r.walk(original) if isinstance(x, r.PrimApp))
                return fused
        return e

    def over_range(self, e: Any) -> Any:
        if (
            isinstance(e, r.PrimApp)
            and _canonical(e.name) in _OVER_RANGE
            and id(e) not in self.fallbacks
        ):
            return _over_range(e) or e
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


class _Builder:
    """The code of a fused form, at the span of the expression it replaces: its temporaries
    (`variables`), what it evaluates first (`items`), and what the loop needs of the values
    (`checks`, in order)."""

    def __init__(self, span: Any) -> None:
        self.span = span
        self.variables: list[r.Var] = []
        self.items: list[Any] = []
        self.checks: list[Any] = []

    def lit(self, value: Any) -> c.Lit:
        return c.Lit(value, span=self.span)

    def ref(self, v: r.Var) -> r.LocalRef:
        return r.LocalRef(v, span=self.span)

    def prim(self, op: str, *args: Any) -> r.PrimApp:
        return r.PrimApp(op, args, span=self.span)

    def define(self, v: r.Var, value: Any) -> r.LocalSet:
        return r.LocalSet(v, value, True, span=self.span)

    def assign(self, v: r.Var, value: Any) -> r.LocalSet:
        v.assigned = True
        return r.LocalSet(v, value, False, span=self.span)

    def let(self, v: r.Var, value: Any, body: Any) -> r.Scope:
        return r.Scope((v,), (self.define(v, value), body), span=self.span)

    def temporary(self, value: Any, name: str) -> r.LocalRef:
        """`value`, evaluated here into a variable."""
        var = r.Var(name, is_group=True)
        self.variables.append(var)
        self.items.append(self.define(var, value))
        return self.ref(var)

    def bind(self, value: Any, name: str) -> Any:
        """`value`, evaluated here into a variable checked to be an Int, unless it is an Int
        literal."""
        if _is_int_literal(value):
            return value
        var = self.temporary(value, name)
        self.checks.append(self.prim("int?", var))
        return var

    def all_of(self, tests: list[Any]) -> Any:
        if not tests:
            return self.lit(True)
        result = tests[-1]
        for t in reversed(tests[:-1]):
            result = r.RIf(t, result, self.lit(False), span=self.span)
        return result

    def range_bounds(self, source: r.PrimApp, args: tuple[Any, ...]) -> tuple[Any, Any, Any, Any]:
        """The arguments of the range `source`, evaluated here and checked (an Int step that is
        not 0, a range `range` makes): start, end and step, and `source` on those values."""
        bounds = [self.bind(a, f"%range{k}") for k, a in enumerate(args)]
        new_source = records.replace(source, args=tuple(bounds))
        if len(bounds) == 1:
            bounds = [self.lit(0), bounds[0]]
        lo, hi, by = (*bounds, self.lit(1))[:3]
        if not _is_int_literal(by):
            self.checks.append(self.prim("not", self.prim("=", by, self.lit(0))))
        # a range no memory holds is out of memory at once (builtins_lists.RANGE_MAX): the
        # original reports it
        if _is_int_literal(by):
            limit: Any = self.lit(abs(by.value) * RANGE_MAX)
        else:
            limit = self.prim("*", self.prim("abs", by), self.lit(RANGE_MAX))
        self.checks.append(self.prim("<=", self.prim("abs", self.prim("-", hi, lo)), limit))
        return lo, hi, by, new_source

    def scope(self, result: Any) -> r.Scope:
        return r.Scope(tuple(self.variables), (*self.items, result), span=self.span)


def _fused(p: _Pipeline) -> tuple[r.RExpr, r.PrimApp]:
    """The pipeline `p` as one loop, and the original it runs should the loop give up."""
    name = _canonical(p.consumer.name)
    k = _Builder(p.consumer.span)
    acc = r.Var("%acc", is_group=True)
    go = r.Var("%go", is_group=True)
    initial = {"fold": None, "product": 1}.get(name, 0)
    start: Any = k.bind(k.lit(initial) if name != "fold" else p.consumer.args[1], "%init")

    # the element through the stages, innermost first, then into the accumulator
    def through(i: int, element: r.Var) -> Any:
        if i == len(p.stages):
            if name == "fold":
                assert p.step is not None
                return k.assign(acc, p.step.apply((k.ref(acc), k.ref(element))))
            if name in ("sum", "product"):
                op = "+" if name == "sum" else "*"
                return k.assign(acc, k.prim(op, k.ref(acc), k.ref(element)))
            return k.assign(acc, k.prim("+", k.ref(acc), k.lit(1)))
        stage, fn = p.stages[i]
        value = fn.apply((k.ref(element),))
        if stage == "filter":
            return r.RIf(value, through(i + 1, element), k.lit(None), span=k.span)
        mapped = r.Var("%mapped", is_group=True)
        return k.let(mapped, value, through(i + 1, mapped))

    range_args = _range_args(p.source)
    if range_args is not None:
        # a range: a counter, no list; its arguments are checked once
        assert isinstance(p.source, r.PrimApp)
        lo, hi, by, new_source = k.range_bounds(p.source, range_args)
        counter = r.Var("%i", is_group=True)
        k.variables += [acc, go, counter]
        k.items += [k.define(acc, start), k.define(go, k.all_of(k.checks))]
        k.items.append(k.define(counter, lo))
        up, down = k.prim("<", k.ref(counter), hi), k.prim(">", k.ref(counter), hi)
        if _is_int_literal(by):
            more: Any = up if by.value > 0 else down
        else:
            more = r.RIf(k.prim(">", by, k.lit(0)), up, down, span=k.span)
        test = r.RIf(k.ref(go), more, k.lit(False), span=k.span)
        advance = k.assign(counter, k.prim("+", k.ref(counter), by))
        step = r.RSeq((through(0, counter), advance), span=k.span)
        k.items.append(r.RWhile(test, step, span=k.span))
    else:
        source = r.Var("%source", is_group=True)
        rest = r.Var("%rest", is_group=True)
        head = r.Var("%head", is_group=True)
        new_source = k.ref(source)
        k.variables += [source, acc, rest, go]
        k.items += [k.define(source, p.source), k.define(acc, start)]
        k.items.append(k.define(rest, k.ref(source)))
        k.items.append(k.define(go, k.all_of([k.prim("list?", k.ref(rest)), *k.checks])))
        advance = k.assign(rest, k.prim("tail", k.ref(rest)))
        step = r.RSeq((through(0, head), advance), span=k.span)
        body = k.let(
            head,
            k.prim("head", k.ref(rest)),
            r.RIf(k.prim("int?", k.ref(head)), step, k.assign(go, k.lit(False)), span=k.span),
        )
        test = r.RIf(
            k.ref(go), k.prim("not", k.prim("empty?", k.ref(rest))), k.lit(False), span=k.span
        )
        k.items.append(r.RWhile(test, body, span=k.span))

    # the original on the same values, should the loop have given up
    *fixed, pipeline = p.consumer.args
    if name == "fold":
        fixed = [fixed[0], start]
    original = records.replace(p.consumer, args=(*fixed, _replace_source(pipeline, new_source)))
    return k.scope(r.RIf(k.ref(go), k.ref(acc), original, span=k.span)), original


def _over_range(e: r.PrimApp) -> r.RExpr | None:
    """`(map f (range ...))` as `%map-range` (prelude.fl), which builds no list of the range,
    once the range's arguments are checked; the original on the same values otherwise. Any
    function: it is called on the same elements in the same order, with the same errors (the
    function is checked as `map` checks it, after the range). `for-each` likewise."""
    if len(e.args) != 2:
        return None
    f, source = e.args
    range_args = _range_args(source)
    if range_args is None:
        return None
    assert isinstance(source, r.PrimApp)
    k = _Builder(e.span)
    if not (isinstance(f, r.LocalRef) and not f.var.assigned and not f.var.is_group):
        f = k.temporary(f, "%f")  # evaluated first, as `map`'s first argument
    lo, hi, by, new_source = k.range_bounds(source, range_args)
    fused = k.prim(_OVER_RANGE[_canonical(e.name)], f, lo, hi, by)
    original = records.replace(e, args=(f, new_source))
    return k.scope(r.RIf(k.all_of(k.checks), fused, original, span=k.span))


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
