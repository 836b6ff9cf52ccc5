"""Escape analysis (DESIGN.md §6.6): which allocations of a program may live in the frame of
the function that makes them.

    sites = stack_sites(program, direct, inline_loop)

`sites` holds the `id` of each `cons` and `list` application (a `list` of constants is no
allocation: it is made once, at start-up), constructor application and lambda whose
value provably dies before its function returns and before the same expression runs again in
that frame; the native lowering gives those objects a slot of the frame instead of a heap
allocation (Boehm scans the stack, so what they point to stays alive).

The analysis is a unification one (Steensgaard's points-to analysis). Each variable, allocation
and other value has a class, and each class a class of contents: what its objects point to (a
cell's head and tail, a constructed value's fields, a closure's free values). Binding a
variable, joining the branches of an `if` or passing a loop's next values unify classes;
`(cons x xs)` unifies `x` and `xs` with the new cell's contents, and `head`, `tail` and the
parts of a pattern are contents. A class is marked

- ESCAPES when one of its values may outlive the frame: returned, stored in a global or with
  `set!`, performed, passed to a builtin that keeps it or calls it, to an unknown function, or
  to a known function whose parameter (or anything it points to) escapes;
- LOCAL when its values must not be the frame's own objects although the frame outlives them:
  arguments of a tail call (the frame is replaced) and values a loop carries from one turn to the
  next (the next turn would make its object in the same slot).

Marks flow from a class to its contents (what an escaping object points to escapes too), never
back: a cell whose head escapes may stay in the frame. An allocation is in the frame when its
class has neither mark. A closure's body is analyzed as a frame of its own, over the same
variables, so what it does with its free values marks their classes; a closure that escapes
makes them escape as its contents.

A known function called directly (`direct`) has its parameters analyzed: a direct call's
argument escapes when the parameter, or anything it points to, escapes in the callee. This is a
fixpoint over the program, from "nothing escapes", that only adds marks. Objects a parameter
reaches belong to callers' frames, which outlive the call, so a LOCAL parameter costs its
callers nothing.

Only values that can be such objects matter, so builtins that neither return nor keep an
argument that could be one (arithmetic, comparisons, predicates, `length`, `str`...) keep
nothing; builtins whose result may be, contain or point into an argument (`reverse`, `get`...)
unify it with the argument and its contents; every other builtin (the prelude's higher-order
functions, `apply`, state) makes its arguments escape.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from fluentai.passes import rcore as r
from fluentai.syntax import core as c

ESCAPES = 1
LOCAL = 2
# passes over the program before giving up on the parameters' fixpoint: each pass finds the
# escaping parameters one call further away, and few programs need more than three
_MAX_TURNS = 8

# builtins that neither return nor keep any argument that could be a list cell, closure or
# constructed value (a wrong argument raises a type-error whose message is text)
_KEEPS_NOTHING = frozenset(
    """!= * + - / < <= = > >= abs atan atan2 bool? ceil char->int cos empty? even? exp float
    float? floor function? int int->char int? length list? log map? max min nil? not null?
    number->string number? odd? positive? negative? zero? pow quot rem mod round sin size sqrt
    str string->list list->string string-append string-contains? string-downcase
    string-ends-with? string-join string-length string-ref string-replace string-split
    string-starts-with? string-trim string-upcase string? substring sum product symbol?
    string->number string->symbol symbol->string tan to-string type-of has? range %written
    error? args""".split()
)
# builtins whose Number result may be an argument itself (a Float box passed through, as
# `max` or `abs` may return it) or, for `sum` and `product`, an element of a list argument:
# their result is unified with what they are given, so that a Float box in the frame
# (`+ - * /` trees, below) escapes when what it becomes does
_PASSES_NUMBERS = frozenset(
    """* + - / abs atan atan2 ceil cos exp float floor int log max min mod pow quot rem round sin
    sqrt tan sum product""".split()
)
_OVER_LISTS = frozenset({"sum", "product"})
# builtins whose result is a new object holding their arguments (`error`, which raises its
# data at once, keeps nothing: its arguments escape)
_BUILDS = frozenset({"list", "Error"})  # `list` of no argument is []
# builtins whose result is a part of their argument
_PARTS = frozenset({"head", "tail"})
# the operations whose node is the allocation of the Float box native code may make of its result
ARITH = frozenset({"+", "-", "*", "/"})
# builtins whose result may be, contain or point into one of their arguments
_SHARES = frozenset(
    """nth last drop take reverse append concat zip values items keys get fetch assoc dissoc
    merge identity error-data error-kind error-message %map-literal""".split()
)

InlineLoop = Callable[[r.RCall, bool], "r.Fn | None"]


class _Classes:
    """Union-find over integer keys, with the marks and the contents of each class at its root."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.marks: dict[int, int] = {}
        self.inside: dict[int, int] = {}  # root -> its contents' class (any key of it)
        self._fresh = -1

    def fresh(self) -> int:
        self._fresh -= 1
        return self._fresh

    def find(self, k: int) -> int:
        parent = self.parent
        root = k
        while root in parent:
            root = parent[root]
        while k != root:  # path compression
            up = parent[k]
            parent[k] = root
            k = up
        return root

    def union(self, a: int, b: int) -> int:
        """One class of a and b, whose contents are one class too."""
        work = [(a, b)]
        while work:
            x, y = work.pop()
            rx, ry = self.find(x), self.find(y)
            if rx == ry:
                continue
            self.parent[ry] = rx
            m = self.marks.pop(ry, 0)
            if m:
                self.marks[rx] = self.marks.get(rx, 0) | m
            cy = self.inside.pop(ry, None)
            if cy is not None:
                cx = self.inside.get(rx)
                if cx is None:
                    self.inside[rx] = cy
                else:
                    work.append((cx, cy))
        return self.find(a)

    def contents(self, k: int) -> int:
        root = self.find(k)
        inner = self.inside.get(root)
        if inner is None:
            inner = self.inside[root] = self.fresh()
        return self.find(inner)

    def mark(self, k: int, m: int) -> None:
        root = self.find(k)
        self.marks[root] = self.marks.get(root, 0) | m

    def settle(self) -> None:
        """Pass every class's marks on to its contents, transitively."""
        work = list(self.marks)
        while work:
            root = self.find(work.pop())
            m = self.marks.get(root, 0)
            inner = self.inside.get(root)
            if not m or inner is None:
                continue
            ri = self.find(inner)
            had = self.marks.get(ri, 0)
            if had | m != had:
                self.marks[ri] = had | m
                work.append(ri)

    def marks_of(self, k: int) -> int:
        return self.marks.get(self.find(k), 0)

    def reaches_escaping(self, k: int) -> bool:
        """Whether the class of k, or a class its contents reach, escapes."""
        seen: set[int] = set()
        root: int | None = self.find(k)
        while root is not None and root not in seen:
            if self.marks.get(root, 0) & ESCAPES:
                return True
            seen.add(root)
            inner = self.inside.get(root)
            root = None if inner is None else self.find(inner)
        return False


class _Analysis:
    def __init__(
        self, direct: dict[str, r.Fn], escaping: dict[str, list[bool]], inline_loop: InlineLoop
    ) -> None:
        self.direct = direct
        self.escaping = escaping
        self.inline_loop = inline_loop
        self.k = _Classes()
        self.sites: list[int] = []  # allocations made in a function body (not the top level)
        self.pending: list[tuple[r.Fn, str | None]] = []

    def function(self, fn: r.Fn, name: str | None) -> None:
        """Analyze a lambda's body as its own frame (`name`: a known function's global)."""
        scan = _Frame(self, name, in_function=True)
        self.k.mark(scan.expr(fn.body, True), ESCAPES)  # returned

    def top_level(self, form: Any) -> None:
        scan = _Frame(self, None, in_function=False)
        self.k.mark(scan.expr(form, False), ESCAPES)  # a top-level value may be printed

    def drain(self) -> None:
        while self.pending:
            fn, name = self.pending.pop()
            self.function(fn, name)


class _Frame:
    """One function body (or the top level): the classes of its expressions. A variable's
    class is keyed by id(var), an allocation's by id(node)."""

    def __init__(self, an: _Analysis, name: str | None, in_function: bool) -> None:
        self.an = an
        self.k = an.k
        self.name = name
        self.in_function = in_function
        # inlined named lets whose body is being scanned: their variable -> their parameters
        self.loops: dict[int, tuple[r.Var, ...]] = {}

    def site(self, node: Any) -> int:
        if self.in_function:
            self.an.sites.append(id(node))
        return id(node)

    def escape_all(self, args: Iterable[Any]) -> None:
        for a in args:
            self.k.mark(self.expr(a, False), ESCAPES)

    def holding(self, cls: int, args: Iterable[Any]) -> int:
        """`cls`, whose objects point to the values of args."""
        for a in args:
            self.k.union(self.k.contents(cls), self.expr(a, False))
        return cls

    def body(self, exprs: tuple[Any, ...], tail: bool) -> int:
        cls = self.k.fresh()
        for i, x in enumerate(exprs):
            cls = self.expr(x, tail and i == len(exprs) - 1)
        return cls

    def expr(self, e: Any, tail: bool) -> int:  # noqa: C901 - one case per node kind
        k = self.k
        match e:
            case r.LocalRef(var=v):
                return id(v)
            case c.Lit() | r.GlobalRef() | r.BuiltinRef() | r.CtorRef() | r.EffectRef():
                return k.fresh()
            case r.LocalSet(var=v, value=value, define=define):
                cls = self.expr(value, False)
                k.union(id(v), cls)
                if not define:  # kept for what follows, loop turns included
                    k.mark(cls, ESCAPES)
                return k.fresh()
            case r.GlobalSet(value=value):
                k.mark(self.expr(value, False), ESCAPES)
                return k.fresh()
            case r.Scope(body=exprs) | r.RSeq(exprs=exprs):
                return self.body(exprs, tail)
            case r.Fn(free=free):
                self.an.pending.append((e, None))
                cls = self.site(e)
                for v in free:
                    k.union(k.contents(cls), id(v))
                return cls
            case r.RCall():
                return self.call(e, tail)
            case r.PrimApp():
                return self.prim_app(e, tail)
            case r.CtorApp(args=args):
                return self.holding(self.site(e), args)
            case r.RIf(test=test, then=then, else_=else_):
                self.expr(test, False)
                return k.union(self.expr(then, tail), self.expr(else_, tail))
            case r.RWhile(test=test, body=body):
                self.expr(test, False)
                self.expr(body, False)
                return k.fresh()
            case r.RMatch(subject=subject, clauses=clauses):
                cls = self.expr(subject, False)
                result = k.fresh()
                for clause in clauses:
                    self.pattern(clause.pattern, cls)
                    if clause.guard is not None:
                        self.expr(clause.guard, False)
                    result = k.union(result, self.expr(clause.body, tail))
                return result
            case r.RHandle(fns=fns, body=body):
                self.escape_all(fns)  # installed on the handler stack
                return self.expr(body, False)
            case r.RPerform(args=args):
                self.escape_all(args)
                return k.fresh()
            case r.RTry(body=body, catches=catches, finally_=finally_):
                result = self.expr(body, False)
                for clause in catches:
                    self.pattern(clause.pattern, k.fresh())  # an error value, made by a raise
                    result = k.union(result, self.expr(clause.body, False))
                if finally_ is not None:
                    self.expr(finally_, False)
                return result
            case r.RAscribe(expr=inner):
                return self.expr(inner, False)
        raise AssertionError(f"escape analysis: unexpected node {type(e).__name__}")

    def pattern(self, p: Any, cls: int) -> None:
        """Bind the variables of pattern `p` matched against values of class `cls`."""
        k = self.k
        match p:
            case r.PBind(var=v):
                k.union(id(v), cls)
            case r.RPList(items=items, rest=rest):
                cell = cls  # item i is the head of the i-th cell, `rest` the last cell's tail
                for item in items:
                    inner = k.contents(cell)
                    self.pattern(item, inner)
                    cell = inner
                if rest is not None:
                    self.pattern(rest, cell)
            case r.RPCons() | r.RPCtor() | r.RPError():  # parts of the value matched
                for child in r.children(p):
                    self.pattern(child, k.contents(cls))
            case c.PWild() | c.PLit():
                pass
            case _:
                raise AssertionError(f"escape analysis: unexpected pattern {type(p).__name__}")

    def prim_app(self, e: r.PrimApp, tail: bool) -> int:
        k = self.k
        name, args = e.name, e.args
        if name == "cons" and len(args) == 2:
            return self.holding(self.site(e), args)
        if name == "list" and args:
            cls = self.holding(self.site(e), args)
            if len(args) > 1:  # its cells share one slot: a tail taken from it is the list too
                k.union(cls, k.contents(cls))
            return cls
        if name in _KEEPS_NOTHING:
            # a two-argument `+ - * /` may box a Float the native code computed raw: that box
            # is the allocation of the node (fluentai/llvm/lower.py, `float_box`); its result
            # is never an argument (a Float result is a new box, fluentai/runtime/int.c)
            boxes = name in ARITH and len(args) == 2
            cls = self.site(e) if boxes else k.fresh()
            for a in args:
                # `(+ x (f ...))` in tail position of f: an accumulating loop's turn
                # (fluentai/llvm/accumulate.py) may carry f's arguments, as a tail call
                part = self.expr(a, tail and name in ("+", "*") and self.is_self_call(a))
                if name in _PASSES_NUMBERS and not boxes:  # two-argument arithmetic: new
                    cls = k.union(cls, k.contents(part) if name in _OVER_LISTS else part)
            return cls
        if name in _BUILDS:
            return self.holding(k.fresh(), args)
        if name in _PARTS and len(args) == 1:
            return k.contents(self.expr(args[0], False))
        if name in _SHARES:
            cls = k.fresh()
            for a in args:
                part = self.expr(a, False)
                cls = k.union(cls, k.union(part, k.contents(part)))
            return cls
        self.escape_all(args)
        return k.fresh()

    def is_self_call(self, e: Any) -> bool:
        return isinstance(e, r.RCall) and isinstance(e.fn, r.GlobalRef) and e.fn.name == self.name

    def call(self, e: r.RCall, tail: bool) -> int:
        k = self.k
        fn = e.fn
        if isinstance(fn, r.LocalRef) and id(fn.var) in self.loops:
            # a turn of an inlined named let: its arguments go round to the next turn
            for p, a in zip(self.loops[id(fn.var)], e.args, strict=True):
                cls = self.expr(a, False)
                k.mark(cls, LOCAL)
                k.union(id(p), cls)
            return k.fresh()
        loop = self.an.inline_loop(e, tail) if self.in_function else None
        if loop is not None:
            scope = fn
            assert isinstance(scope, r.Scope)
            for p, a in zip(loop.params, e.args, strict=True):
                k.union(id(p), self.expr(a, False))
            self.loops[id(scope.vars[0])] = loop.params
            try:
                return self.expr(loop.body, tail)
            finally:
                del self.loops[id(scope.vars[0])]
        if isinstance(fn, r.GlobalRef) and fn.name in self.an.direct:
            target = self.an.direct[fn.name]
            if len(e.args) == len(target.params):
                escaping = self.an.escaping[fn.name]
                for i, a in enumerate(e.args):
                    cls = self.expr(a, False)
                    if tail:  # the frame is replaced, or the call is a turn of its loop
                        k.mark(cls, LOCAL)
                    if escaping[i]:
                        k.mark(cls, ESCAPES)
                return k.fresh()
        callee = self.expr(fn, False)  # calling a closure keeps nothing of it...
        if tail:  # ...but it runs after the frame that made it is gone
            k.mark(callee, LOCAL)
        self.escape_all(e.args)
        return k.fresh()


def _defined_late(program: r.RProgram, direct: dict[str, r.Fn]) -> set[str]:
    """The known functions whose definition may run after a call of them: those defined after
    the first top-level form that can run program code. Until its definition runs, a call finds
    the builtin of the same name, or raises `unbound-variable`, whose handler's value is called
    (LANGUAGE.md §2.2): either may keep the arguments."""
    late: set[str] = set()
    running = False
    for form, _ in program.forms:
        value = form.value if isinstance(form, r.GlobalSet) else form
        if running and isinstance(form, r.GlobalSet) and form.name in direct:
            late.add(form.name)
        if not isinstance(value, r.Fn | c.Lit):
            running = True
    return late


def stack_sites(
    program: r.RProgram, direct: dict[str, r.Fn], inline_loop: InlineLoop
) -> frozenset[int]:
    """The ids of the allocations of `program` that may live in their function's frame.
    `direct`: the known functions called directly (their parameters are analyzed); a named let
    for which `inline_loop(call, tail)` gives its lambda is a loop of the function around it."""
    late = _defined_late(program, direct)
    escaping = {name: [name in late] * len(fn.params) for name, fn in direct.items()}
    known_ids = {id(fn): name for name, fn in direct.items()}
    for turn in itertools.count():
        if turn == _MAX_TURNS:  # a long chain of calls: assume every parameter escapes
            escaping = {name: [True] * len(fn.params) for name, fn in direct.items()}
        an = _Analysis(direct, escaping, inline_loop)
        for form, _ in program.forms:
            value = form.value if isinstance(form, r.GlobalSet) else None
            if isinstance(value, r.Fn) and id(value) in known_ids:
                an.function(value, known_ids[id(value)])
            else:
                an.top_level(form)
        an.drain()
        an.k.settle()
        changed = False
        for name, fn in direct.items():
            flags = escaping[name]
            for i, p in enumerate(fn.params):
                if not flags[i] and an.k.reaches_escaping(id(p)):
                    flags[i] = True
                    changed = True
        if not changed or turn >= _MAX_TURNS:
            return frozenset(s for s in an.sites if not an.k.marks_of(s))
    raise AssertionError("unreachable")


__all__ = ["ARITH", "stack_sites"]
