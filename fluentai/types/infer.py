"""Type inference over resolved Core (DESIGN.md §6.2): constraints solved by a worklist.

    result = infer_program(prelude, program)              # closed world (AOT, --tier native)
    result = infer_program(prelude, program, seeds={"f": (INT,)})   # JIT: profiled arguments
    result = infer_program(prelude, program, seeds={"f": (INT,)}, closed_world=True)  # tier 2
    result.signature("fib")   -> ((Int,), Int)
    result.type_of(node)      -> InferredType of any Core expression
    result.reasons("fib")     -> why a parameter or the result is Any

Every function body is evaluated abstractly in a *unit*: a lambda in one context, or a top level.
Variables, results, globals and constructor fields are cells of one table; a unit that reads a
cell is evaluated again when the cell grows (the worklist). Cells only grow, by join, and by
widening after 3 changes, so the solver terminates; one narrowing pass follows, then a last
pass records the type of every node.

Known functions (globals defined once by a lambda without free variables, never `set!`) get a
context per tuple of argument kinds (at most 4, then one shared context): a summary keyed by
argument types, recursion starting from Never. In the closed world a lambda's parameters join
the arguments of its call sites; a lambda whose value may reach code that inference does not
follow (a handler, an effect, an unknown call, a lost join) escapes and its parameters are Any.
Without the closed world, known functions take their seeds (else Any), and only lambdas that are
never used except by being called keep the join of their call sites. In the closed world with
seeds (the JIT's tier 2, fluentai/jit/tier2.py), a seeded known function of fixed arity has one
context, its seed: its call sites do not widen its parameters. That is a speculation the caller
checks: the VM guards its calls, and native code stays correct for other arguments because the
lowering uses types only to leave out fast paths (every path stays guarded).
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from fluentai import primitives
from fluentai.passes import rcore as r
from fluentai.passes.resolve_names import PRELUDE_PREFIX
from fluentai.primitives import PrimKind
from fluentai.records import field, record
from fluentai.source import Span
from fluentai.syntax import core as c
from fluentai.types import prims as P
from fluentai.types.lattice import (
    ANY,
    BOOL,
    EMPTY,
    ERROR,
    FLOAT,
    NEVER,
    NIL,
    STR,
    FnId,
    InferredType,
    adt,
    constant_of,
    fn_ids,
    fn_of,
    has_unknown_fn,
    int_range,
    join,
    leq,
    list_of,
    make,
    map_of,
    widen,
)

Key = tuple[Any, ...]
UnitKey = tuple[Any, ...]

WIDEN_AFTER: Final = 3
MAX_CONTEXTS: Final = 8  # summaries per known function (native code keeps at most 4, §6.3)
_STACK_BYTES: Final = 512 << 20

# type predicates: the kinds for which each gives #t
PREDICATE_KINDS: Final[dict[str, frozenset[str]]] = {
    "int?": frozenset({"Int"}),
    "float?": frozenset({"Float"}),
    "number?": frozenset({"Int", "Float"}),
    "string?": frozenset({"Str"}),
    "bool?": frozenset({"Bool"}),
    "symbol?": frozenset({"Sym"}),
    "list?": frozenset({"List", "Empty"}),
    "map?": frozenset({"Map"}),
    "function?": frozenset({"Fn"}),
    "error?": frozenset({"Error"}),
    "nil?": frozenset({"Nil"}),
    "null?": frozenset({"Nil", "Empty"}),
}
_FLIP: Final = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


@record(frozen=False, slots=False)
class _Unit:
    key: UnitKey
    fn: r.Fn | None
    forms: tuple[r.RExpr, ...] = ()
    prelude: bool = False


@record(frozen=False, slots=False)
class TypeResult:
    """What inference found: a type per node, a signature per function, and reasons for Any."""

    node_types: dict[int, InferredType]
    sigs: dict[int, tuple[tuple[InferredType, ...], InferredType]]
    why: dict[int, list[tuple[str, str, Span | None]]]  # fn id -> (what, constraint, span)
    fns: dict[int, r.Fn]
    known: dict[str, r.Fn]
    program_fns: list[tuple[str, r.Fn]]  # the program's lambdas in source order, named
    keep: tuple[object, ...] = field(default=(), repr=False)  # keeps the nodes (ids) alive
    evaluations: int = 0  # unit evaluations the solver made
    budget: int = 0  # evaluations after which every changing cell goes straight to Any

    def _fn(self, fn: str | r.Fn) -> r.Fn | None:
        if isinstance(fn, r.Fn):
            return fn
        if fn in self.known:
            return self.known[fn]
        for name, node in self.program_fns:
            if name == fn or node.name == fn:
                return node
        return None

    def signature(self, fn: str | r.Fn) -> tuple[tuple[InferredType, ...], InferredType]:
        """(parameter types, result type) of a function, by global name or Fn node; a
        function inference never reached is (Any..., Any)."""
        node = self._fn(fn)
        if node is None:
            raise KeyError(fn)
        sig = self.sigs.get(id(node))
        if sig is None:
            return tuple(ANY for _ in node.params), ANY
        return sig

    def type_of(self, node: object) -> InferredType:
        """The type of any Core expression (Never for code inference found unreachable)."""
        return self.node_types.get(id(node), NEVER)

    def reasons(self, fn: str | r.Fn) -> list[str]:
        """For each parameter (and the result) that is Any, the constraint that made it Any."""
        node = self._fn(fn)
        if node is None:
            raise KeyError(fn)
        return [
            f"{what} is Any: {text}" + (f" at {span}" if span is not None else "")
            for what, text, span in self.why.get(id(node), [])
        ]


def infer_program(
    prelude: r.RProgram | None,
    program: r.RProgram,
    seeds: dict[str, tuple[InferredType, ...]] | None = None,
    *,
    closed_world: bool | None = None,
    global_types: dict[str, InferredType] | None = None,
) -> TypeResult:
    """Infer types for `program` (and the prelude functions it calls). The closed world is the
    default without seeds; `global_types` gives the types of globals defined elsewhere (a REPL
    session's earlier entries). Never raises on a valid resolved program, always terminates."""
    solver = _Solver(
        prelude,
        program,
        seeds or {},
        seeds is None if closed_world is None else closed_world,
        global_types or {},
    )
    return _on_big_stack(solver.solve)


def _on_big_stack(fn: Callable[[], TypeResult]) -> TypeResult:
    """Run `fn` where deep nesting (10 000 levels) cannot exhaust the stack."""
    if (
        sys.getrecursionlimit() >= 100_000
        and threading.stack_size() == 0
        and threading.current_thread().name != "MainThread"
    ):
        return fn()
    if threading.current_thread().name == "fluentai-types":
        return fn()
    out: list[TypeResult] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            failure.append(exc)

    if sys.getrecursionlimit() < 200_000:
        sys.setrecursionlimit(200_000)
    old = threading.stack_size()
    try:
        threading.stack_size(_STACK_BYTES)
    except (ValueError, RuntimeError):
        pass
    try:
        thread = threading.Thread(target=target, name="fluentai-types", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if failure:
        raise failure[0]
    return out[0]


def find_known_functions(*programs: r.RProgram) -> dict[str, r.Fn]:
    """Globals defined once, at top level, by a lambda without free variables, and never
    assigned (DESIGN.md §4.1): the native back end calls them directly, and inference keeps a
    summary per argument kinds for each."""
    definitions: dict[str, int] = {}
    lambdas: dict[str, r.Fn] = {}
    assigned: set[str] = set()
    for prog in programs:
        prog_definitions, prog_lambdas, prog_assigned = _global_definitions(prog)
        for name, count in prog_definitions.items():
            definitions[name] = definitions.get(name, 0) + count
        lambdas.update(prog_lambdas)
        assigned |= prog_assigned
    return {n: fn for n, fn in lambdas.items() if definitions.get(n) == 1 and n not in assigned}


# the last few programs' `_global_definitions` (the prelude's is asked for at every compile, and
# a compile asks several times): (program, result), checked by identity
_definitions_memo: list[tuple[r.RProgram, tuple[dict[str, int], dict[str, r.Fn], set[str]]]] = []


def _global_definitions(
    prog: r.RProgram,
) -> tuple[dict[str, int], dict[str, r.Fn], set[str]]:
    """How often each global is defined in `prog`, its top-level lambdas without free
    variables, and the globals it assigns (one walk of the program)."""
    for memo_prog, result in _definitions_memo:
        if memo_prog is prog:
            return result
    definitions: dict[str, int] = {}
    lambdas: dict[str, r.Fn] = {}
    assigned: set[str] = set()
    for form, _ in prog.forms:
        if isinstance(form, r.GlobalSet) and form.define:
            definitions[form.name] = definitions.get(form.name, 0) + 1
            if isinstance(form.value, r.Fn) and not form.value.free:
                lambdas[form.name] = form.value
        for node in r.walk(form):
            if isinstance(node, r.GlobalSet) and not node.define:
                assigned.add(node.name)
            elif isinstance(node, r.GlobalSet) and node is not form:
                definitions[node.name] = definitions.get(node.name, 0) + 1
    result = (definitions, lambdas, assigned)
    _definitions_memo.insert(0, (prog, result))
    del _definitions_memo[4:]
    return result


class _Solver:
    def __init__(
        self,
        prelude: r.RProgram | None,
        program: r.RProgram,
        seeds: dict[str, tuple[InferredType, ...]],
        closed: bool,
        global_types: dict[str, InferredType],
    ) -> None:
        self.prelude = prelude
        self.program = program
        self.seeds = seeds
        self.closed = closed
        self.global_types = global_types
        programs = (prelude, program) if prelude is not None else (program,)
        self.known = find_known_functions(*programs)
        self.known_ids = {id(fn): name for name, fn in self.known.items()}
        self.values: dict[Key, InferredType] = {}
        self.changes: dict[Key, int] = {}
        self.readers: dict[Key, set[UnitKey]] = {}
        self.why: dict[Key, tuple[str, Span | None]] = {}
        self.node_why: dict[int, tuple[str, Span | None]] = {}
        self.pinned: set[Key] = set()
        self.units: dict[UnitKey, _Unit] = {}
        self.contexts: dict[int, list[UnitKey]] = {}
        self.fns: dict[int, r.Fn] = {}
        self.fn_prelude: dict[int, bool] = {}
        self.escaped: set[FnId] = set()
        self.queue: deque[UnitKey] = deque()
        self.queued: set[UnitKey] = set()
        self.cur: UnitKey = ("top", False)
        self.recording = False
        self.narrowing = False
        self.fresh: dict[Key, InferredType] = {}
        self.node_types: dict[int, InferredType] = {}
        self.evaluations = 0
        self.budget = 0
        self.ctors: dict[str, r.CtorDef] = {}
        self.defined: set[str] = set()
        self.handled: set[str] = set()
        self.callee_only: set[int] = set()  # Fn ids that are only ever called
        # closed world with seeds: known functions specialized on their seeds (tier 2)
        self.seeded: set[int] = (
            {
                id(fn)
                for name, fn in self.known.items()
                if name in seeds and fn.rest is None and len(seeds[name]) == len(fn.params)
            }
            if closed
            else set()
        )
        for prog in programs:
            for d in prog.ctors:
                self.ctors[d.name] = d
        self._prepass(programs)

    # ------------------------------------------------------------ setup

    def _prepass(self, programs: tuple[r.RProgram, ...]) -> None:
        """Defined globals, handled operations, and lambdas bound to a local that is only
        called (named let): those keep the join of their call sites in every mode."""
        bound: dict[int, r.Fn] = {}
        sets: dict[int, int] = {}
        # every reference to a local but those that are what a call calls (through `do` and
        # scopes): one walk, so nested calls thousands deep cost no more than flat code
        refs: list[r.LocalRef] = []
        called: set[int] = set()  # id() of the references a call calls
        nodes = 0
        for prog in programs:
            for form, _ in prog.forms:
                for node in r.walk(form):
                    nodes += 1
                    if isinstance(node, r.GlobalSet):
                        self.defined.add(node.name)
                    elif isinstance(node, r.RHandle):
                        self.handled.update(node.keys)
                    elif isinstance(node, r.LocalSet):
                        sets[node.var.id] = sets.get(node.var.id, 0) + 1
                        if node.define and isinstance(node.value, r.Fn):
                            bound[node.var.id] = node.value
                    elif isinstance(node, r.LocalRef):
                        refs.append(node)
                    elif isinstance(node, r.RCall):
                        callee = node.fn
                        while isinstance(callee, r.Scope | r.RSeq):
                            seq = callee.body if isinstance(callee, r.Scope) else callee.exprs
                            callee = seq[-1]
                        if isinstance(callee, r.LocalRef):
                            called.add(id(callee))
        value_refs = {ref.var.id for ref in refs if id(ref) not in called}
        for var_id, fn in bound.items():
            if sets.get(var_id) == 1 and var_id not in value_refs:
                self.callee_only.add(id(fn))
        self.budget = 40 * nodes + 20_000

    # ------------------------------------------------------------ cells

    def read(self, key: Key) -> InferredType:
        self.readers.setdefault(key, set()).add(self.cur)
        return self.values.get(key, NEVER)

    def update(self, key: Key, t: InferredType, source: object = None) -> None:
        if self.recording:
            return
        if self.narrowing:
            if key not in self.pinned:
                self.fresh[key] = join(self.fresh.get(key, NEVER), t)
            return
        old = self.values.get(key, NEVER)
        n = self.changes.get(key, 0)
        if self.evaluations > self.budget:
            new = join(old, t)
            if new != old:
                new = ANY
        elif n >= WIDEN_AFTER:
            new = widen(old, t)
        else:
            new = join(old, t)
        if new == old:
            return
        self._lost(t, new)
        self.changes[key] = n + 1
        self.values[key] = new
        if new.is_any and key not in self.why:
            self.why[key] = self.explain(source, t)
        for unit in self.readers.get(key, ()):
            self.enqueue(unit)

    def pin(self, key: Key, t: InferredType, reason: str, span: Span | None) -> None:
        """Set a cell that nothing narrows (seeds, escaping parameters, outside globals)."""
        self.pinned.add(key)
        old = self.values.get(key, NEVER)
        new = join(old, t)
        if new != old:
            self.values[key] = new
            if new.is_any and key not in self.why:
                self.why[key] = (reason, span)
            for unit in self.readers.get(key, ()):
                self.enqueue(unit)

    def _lost(self, before: InferredType, after: InferredType) -> None:
        """Lambdas whose identity a join dropped escape: unknown code may call them."""
        if has_unknown_fn(after):
            ids = fn_ids(before) - fn_ids(after)
            for fid in ids:
                self.escape_id(fid)

    def ijoin(self, a: InferredType, b: InferredType) -> InferredType:
        out = join(a, b)
        if out.is_any or has_unknown_fn(out):
            self._lost(a, out)
            self._lost(b, out)
        return out

    def escape(self, t: InferredType) -> None:
        for fid in fn_ids(t):
            self.escape_id(fid)

    def escape_id(self, fid: FnId) -> None:
        if fid in self.escaped or not isinstance(fid, int):
            return
        self.escaped.add(fid)
        fn = self.fns.get(fid)
        if fn is None:
            return
        if fid in self.known_ids:
            self.unit_for(fn, "any")
        for ukey in self.contexts.get(fid, []):
            self._pin_params(
                ukey,
                fn,
                "a parameter of a lambda that escapes (called from code inference does not follow)",
            )

    def _pin_params(
        self, ukey: UnitKey, fn: r.Fn, reason: str, types: tuple[InferredType, ...] | None = None
    ) -> None:
        for i, var in enumerate(fn.params):
            t = types[i] if types is not None and i < len(types) else ANY
            self.pin(self.var_key(var, ukey), t, reason, fn.span)
        if fn.rest is not None:
            self.pin(self.var_key(fn.rest, ukey), list_of(ANY), reason, fn.span)

    def var_key(self, var: r.Var, unit: UnitKey | None = None) -> Key:
        if var.captured:
            return ("v", None, var.id)
        return ("v", self.cur if unit is None else unit, var.id)

    def enqueue(self, unit: UnitKey) -> None:
        if unit not in self.queued:
            self.queued.add(unit)
            self.queue.append(unit)

    # ------------------------------------------------------------ units

    def unit_for(self, fn: r.Fn, ctx: object) -> UnitKey:
        key: UnitKey = (id(fn), ctx)
        if key in self.units:
            return key
        self.units[key] = _Unit(key, fn, prelude=self.fn_prelude.get(id(fn), False))
        self.contexts.setdefault(id(fn), []).append(key)
        self.fns[id(fn)] = fn
        if ctx == "any" or id(fn) in self.escaped:
            self._pin_params(
                key,
                fn,
                "a parameter of a lambda that escapes (called from code inference does not follow)",
            )
        elif ctx == "main":
            name = self.known_ids.get(id(fn), fn.name)
            seed = self.seeds.get(name)
            why = "a parameter of an entry point (no seed: outside callers are unknown)"
            self._pin_params(key, fn, why if seed is None else "seeded as Any", seed)
        self.enqueue(key)
        return key

    def solve(self) -> TypeResult:
        top_units = []
        if self.prelude is not None:
            top_units.append(self._top(self.prelude, True))
        top_units.append(self._top(self.program, False))
        self._register_fns()
        if not self.closed:
            for fn in self.known.values():
                if not self.fn_prelude.get(id(fn)):
                    self.unit_for(fn, "main")
            for fid in list(self.fns):
                if fid not in self.known_ids and fid not in self.callee_only:
                    self.escape_id(fid)
        self._drain()
        # one narrowing pass, then a pass that records the type of every node
        self.narrowing = True
        for key in list(self.units):
            self._run(key)
        self.narrowing = False
        for key, t in self.fresh.items():
            old = self.values.get(key, NEVER)
            if t != old and leq(t, old):
                self.values[key] = t
        self.fresh.clear()
        self._drain()
        self.recording = True
        for key in list(self.units):
            self._run(key)
        self.recording = False
        return self._result()

    def _top(self, prog: r.RProgram, prelude: bool) -> UnitKey:
        key: UnitKey = ("top", prelude)
        self.units[key] = _Unit(key, None, tuple(f for f, _ in prog.forms), prelude)
        self.enqueue(key)
        return key

    def _register_fns(self) -> None:
        progs = (
            [(self.prelude, True), (self.program, False)]
            if self.prelude
            else [(self.program, False)]
        )
        for prog, prelude in progs:
            if prog is None:
                continue
            for form, _ in prog.forms:
                for node in r.walk(form):
                    if isinstance(node, r.Fn):
                        self.fns[id(node)] = node
                        self.fn_prelude[id(node)] = prelude

    def _drain(self) -> None:
        while self.queue:
            key = self.queue.popleft()
            self.queued.discard(key)
            self._run(key)

    def _run(self, key: UnitKey) -> None:
        unit = self.units[key]
        self.evaluations += 1
        saved = self.cur
        self.cur = key
        try:
            if unit.fn is None:
                for form in unit.forms:
                    self.ev(form, {})
            else:
                t = self.ev(unit.fn.body, {})
                self.update(("ret", key), t, unit.fn.body)
        finally:
            self.cur = saved

    # ------------------------------------------------------------ result

    def _result(self) -> TypeResult:
        sigs: dict[int, tuple[tuple[InferredType, ...], InferredType]] = {}
        why: dict[int, list[tuple[str, str, Span | None]]] = {}
        for fid, keys in self.contexts.items():
            fn = self.fns[fid]
            if not self.closed and any(k[1] == "main" for k in keys):
                keys = [k for k in keys if k[1] == "main"]
            params = []
            reasons: list[tuple[str, str, Span | None]] = []
            for var in fn.params:
                t = NEVER
                for k in keys:
                    vk = ("v", None if var.captured else k, var.id)
                    t = join(t, self.values.get(vk, NEVER))
                    if t.is_any and not any(x[0] == var.name for x in reasons):
                        text, span = self.why.get(vk, ("unknown", None))
                        reasons.append((var.name, text, span))
                params.append(t)
            ret = NEVER
            for k in keys:
                ret = join(ret, self.values.get(("ret", k), NEVER))
                if ret.is_any:
                    text, span = self.why.get(("ret", k), ("unknown", None))
                    reasons.append(("result", text, span))
                    break
            seen: set[str] = set()
            why[fid] = [x for x in reasons if not (x[0] in seen or seen.add(x[0]))]  # type: ignore[func-returns-value]
            sigs[fid] = (tuple(params), ret)
        program_fns: list[tuple[str, r.Fn]] = []
        for form, _ in self.program.forms:
            for node in r.walk(form):
                if isinstance(node, r.Fn):
                    program_fns.append((node.name, node))
        return TypeResult(
            self.node_types,
            sigs,
            why,
            dict(self.fns),
            {n: f for n, f in self.known.items() if not n.startswith(PRELUDE_PREFIX)},
            program_fns,
            keep=(self.prelude, self.program),
            evaluations=self.evaluations,
            budget=self.budget,
        )

    # ------------------------------------------------------------ reasons

    def explain(self, node: object, t: InferredType) -> tuple[str, Span | None]:
        """Why the value of `node` is Any, as (constraint, span)."""
        if node is None:
            return ("unknown", None)
        nid = id(node)
        if nid in self.node_why:
            return self.node_why[nid]
        span = getattr(node, "span", None)
        if isinstance(node, r.LocalRef):
            key = self.var_key(node.var)
            return self.why.get(key, (f"`{node.var.name}` is Any", span))
        if isinstance(node, r.GlobalRef):
            return self.why.get(("g", node.name), (f"global `{node.name}` is Any", span))
        if isinstance(node, r.RIf):
            for b in (node.then, node.else_):
                if id(b) in self.node_types or True:
                    got = self.explain(b, t)
                    if got[0] != "unknown":
                        return got
        if isinstance(node, r.RSeq) and node.exprs:
            return self.explain(node.exprs[-1], t)
        if isinstance(node, r.Scope) and node.body:
            return self.explain(node.body[-1], t)
        return (f"the value of {_describe(node)}", span)

    def because(self, node: object, text: str) -> None:
        if not self.recording and id(node) not in self.node_why:
            self.node_why[id(node)] = (text, getattr(node, "span", None))

    # ------------------------------------------------------------ expressions

    def ev(self, node: r.RExpr, ov: dict[int, InferredType]) -> InferredType:
        t = _DISPATCH[type(node)](self, node, ov)
        if self.recording:
            nid = id(node)
            old = self.node_types.get(nid)
            self.node_types[nid] = t if old is None else join(old, t)
        return t

    def ev_lit(self, node: c.Lit, ov: dict[int, InferredType]) -> InferredType:
        return constant_of(node.value)

    def ev_local(self, node: r.LocalRef, ov: dict[int, InferredType]) -> InferredType:
        t = self.read(self.var_key(node.var))
        refined = ov.get(node.var.id)
        return refined if refined is not None else t

    def ev_global(self, node: r.GlobalRef, ov: dict[int, InferredType]) -> InferredType:
        fn = self.known.get(node.name)
        if fn is not None:
            return fn_of(id(fn))
        if node.name not in self.defined or not self.closed:
            outside = self.global_types.get(node.name)
            if outside is not None and node.name not in self.defined:
                return outside
            self.pin(
                ("g", node.name),
                ANY,
                f"global `{node.name}` is defined outside this unit"
                if node.name not in self.defined
                else f"global `{node.name}` may be redefined (no closed world)",
                node.span,
            )
        t = self.read(("g", node.name))
        if node.fallback is not None:
            t = self.ijoin(t, fn_of("builtin:" + P.canonical(node.fallback)))
        return t

    def ev_builtin(self, node: r.BuiltinRef, ov: dict[int, InferredType]) -> InferredType:
        prim = primitives.lookup(node.name)
        if prim is not None and prim.kind is PrimKind.CONSTANT:
            if prim.name == "Nil":
                return EMPTY
            return constant_of(prim.value) if isinstance(prim.value, float) else FLOAT
        if prim is not None and prim.kind is PrimKind.EFFECT:
            return fn_of("effect:" + prim.name)
        return fn_of("builtin:" + P.canonical(node.name))

    def ev_ctorref(self, node: r.CtorRef, ov: dict[int, InferredType]) -> InferredType:
        d = self.ctors.get(node.name)
        if d is not None and not d.fields:
            return adt(d.type_name)
        return fn_of("ctor:" + node.name)

    def ev_effectref(self, node: r.EffectRef, ov: dict[int, InferredType]) -> InferredType:
        return fn_of("effect:" + node.op)

    def ev_localset(self, node: r.LocalSet, ov: dict[int, InferredType]) -> InferredType:
        t = self.ev(node.value, ov)
        self.update(self.var_key(node.var), t, node.value)
        return NIL

    def ev_globalset(self, node: r.GlobalSet, ov: dict[int, InferredType]) -> InferredType:
        t = self.ev(node.value, ov)
        if node.name not in self.known:
            self.update(("g", node.name), t, node.value)
        return NIL

    def ev_scope(self, node: r.Scope, ov: dict[int, InferredType]) -> InferredType:
        t = NIL
        for e in node.body:
            t = self.ev(e, ov)
            if t.is_never:
                return NEVER
        return t

    def ev_seq(self, node: r.RSeq, ov: dict[int, InferredType]) -> InferredType:
        t = NIL
        for e in node.exprs:
            t = self.ev(e, ov)
            if t.is_never:
                return NEVER
        return t

    def ev_fn(self, node: r.Fn, ov: dict[int, InferredType]) -> InferredType:
        fid = id(node)
        self.fns[fid] = node
        if fid not in self.known_ids:
            self.unit_for(node, None)
        elif not self.closed and not self.fn_prelude.get(fid):
            self.unit_for(node, "main")
        return fn_of(fid)

    def ev_while(self, node: r.RWhile, ov: dict[int, InferredType]) -> InferredType:
        test = self.ev(node.test, ov)
        if test.is_never:
            return NEVER
        then_ov, _ = self.refine(node.test, ov)
        self.ev(node.body, then_ov)
        return NIL

    def ev_if(self, node: r.RIf, ov: dict[int, InferredType]) -> InferredType:
        test = self.ev(node.test, ov)
        if test.is_never:
            return NEVER
        truthy, falsy = _truthiness(test)
        then_ov, else_ov = self.refine(node.test, ov)
        t = self.ev(node.then, then_ov) if truthy else NEVER
        e = self.ev(node.else_, else_ov) if falsy else NEVER
        out = self.ijoin(t, e)
        if out.is_any and not t.is_any and not e.is_any:
            self.because(node, f"the branches join to more than 3 kinds ({t} and {e})")
        return out

    def ev_prim(self, node: r.PrimApp, ov: dict[int, InferredType]) -> InferredType:
        args = [self.ev(a, ov) for a in node.args]
        if any(a.is_never for a in args):
            return NEVER
        return self.apply_builtin(P.canonical(node.name), args, node)

    def ev_ctorapp(self, node: r.CtorApp, ov: dict[int, InferredType]) -> InferredType:
        args = [self.ev(a, ov) for a in node.args]
        if any(a.is_never for a in args):
            return NEVER
        return self.construct(node.name, args, node)

    def construct(self, name: str, args: list[InferredType], node: object) -> InferredType:
        d = self.ctors.get(name)
        if d is None:
            return ANY
        for i, a in enumerate(args):
            if self.closed:
                self.update(("ctor", name, i), a, node)
            else:
                self.escape(a)
        return adt(d.type_name)

    def ev_call(self, node: r.RCall, ov: dict[int, InferredType]) -> InferredType:
        callee = self.ev(node.fn, ov)
        args = [self.ev(a, ov) for a in node.args]
        if callee.is_never or any(a.is_never for a in args):
            return NEVER
        return self.call(callee, args, node)

    def call(self, callee: InferredType, args: list[InferredType], node: object) -> InferredType:
        if callee.kinds is None or ("Fn" in callee.kinds and callee.fns is None):
            for a in args:
                self.escape(a)
            self.because(node, "a call of a function inference cannot name")
            return ANY
        out = NEVER
        for fid in sorted(callee.fns or (), key=str):
            if isinstance(fid, int):
                t = self.call_lambda(self.fns[fid], args, node)
            elif fid.startswith("builtin:"):
                t = self.apply_builtin(fid[8:], args, node)
            elif fid.startswith("ctor:"):
                t = self.construct(fid[5:], args, node)
            else:
                t = self.perform(fid[7:], args, node)
            out = self.ijoin(out, t)
        return out

    def call_lambda(self, fn: r.Fn, args: list[InferredType], node: object) -> InferredType:
        n = len(fn.params)
        if len(args) < n or (len(args) > n and fn.rest is None):
            return NEVER  # arity-error
        fid = id(fn)
        if fid in self.seeded:  # its seed, whatever the call site passes (checked at run time)
            t = self.read(("ret", self.unit_for(fn, "main")))
            if t.is_any:
                self.because(node, f"the result of `{fn.name}` is Any")
            return t
        if fid in self.known_ids:
            ctx_key = (len(args), *(_kind_key(a) for a in args))
            ctxs = [k for k in self.contexts.get(fid, []) if k[1] not in ("any", "main")]
            if (fid, ctx_key) in self.units:
                ukey: UnitKey = (fid, ctx_key)
            elif len(ctxs) >= MAX_CONTEXTS:
                ukey = self.unit_for(fn, "*")
            else:
                ukey = self.unit_for(fn, ctx_key)
        else:
            ukey = self.unit_for(fn, None)
        for var, a in zip(fn.params, args, strict=False):
            self.update(self.var_key(var, ukey), a, node)
        if fn.rest is not None:
            extra = args[n:]
            rest = EMPTY if not extra else list_of(_join_all(extra), maybe_empty=False)
            self.update(self.var_key(fn.rest, ukey), rest, node)
        t = self.read(("ret", ukey))
        if t.is_any:
            self.because(node, f"the result of `{fn.name}` is Any")
        return t

    def apply_builtin(self, name: str, args: list[InferredType], node: object) -> InferredType:
        prim = primitives.lookup(name)
        if prim is not None and prim.kind is PrimKind.PRELUDE:
            fn = self.known.get(PRELUDE_PREFIX + prim.name)
            if fn is not None:
                return self.call_lambda(fn, args, node)
        if prim is not None and prim.kind is PrimKind.EFFECT:
            return self.perform(prim.name, args, node)
        if name == "apply":
            if not args:
                return ANY
            f = args[0]
            for a in args[1:]:
                self.escape(a)
            if f.kinds is not None and f.fns is not None and all(isinstance(x, int) for x in f.fns):
                return self.call(f, [ANY] * _max_arity(self, f), node)
            self.escape(f)
            self.because(node, "`apply` of a function inference cannot name")
            return ANY
        if name in PREDICATE_KINDS or name == "not":
            return _predicate(name, args)
        t = P.result_type(name, args)
        if name not in P.PURE_OBSERVERS:
            lost = set().union(*(fn_ids(a) for a in args)) - fn_ids(t) if args else set()
            for fid in lost:
                self.escape_id(fid)
        if t.is_any:
            why = (
                f"`{name}` has no result type"
                if not P.has_rule(name)
                else f"the result of `{name}` on {', '.join(map(str, args))}"
            )
            self.because(node, why)
        return t

    def perform(self, op: str, args: list[InferredType], node: object) -> InferredType:
        for a in args:
            self.escape(a)
        ns = op.split(":", 1)[0]
        if op in self.handled or ns in self.handled:
            self.because(node, f"`{op}` is handled by a handler, which may return anything")
            return ANY
        prim = primitives.lookup(op)
        if prim is not None and prim.prelude_default is not None:
            fn = self.known.get(PRELUDE_PREFIX + prim.prelude_default) or self.known.get(
                prim.prelude_default
            )
            if fn is not None:
                return self.call_lambda(fn, args, node)
        if prim is None:
            self.because(node, f"`{op}` is a user-defined operation")
            return ANY
        t = P.result_type(prim.name, args)
        if t.is_any:
            self.because(node, f"the result of `{op}`")
        return t

    def ev_perform(self, node: r.RPerform, ov: dict[int, InferredType]) -> InferredType:
        args = [self.ev(a, ov) for a in node.args]
        if any(a.is_never for a in args):
            return NEVER
        return self.perform(node.op, args, node)

    def ev_handle(self, node: r.RHandle, ov: dict[int, InferredType]) -> InferredType:
        for f in node.fns:
            self.escape(self.ev(f, ov))
        self.ev(node.body, ov)
        self.because(node, "the value of a `handler` form (a clause may return it)")
        return ANY

    def ev_try(self, node: r.RTry, ov: dict[int, InferredType]) -> InferredType:
        t = self.ev(node.body, ov)
        for clause in node.catches:
            self.bind(clause.pattern, ERROR, clause)
            t = self.ijoin(t, self.ev(clause.body, ov))
        if node.finally_ is not None:
            self.ev(node.finally_, ov)
        return t

    def ev_match(self, node: r.RMatch, ov: dict[int, InferredType]) -> InferredType:
        subject = self.ev(node.subject, ov)
        if subject.is_never:
            return NEVER
        out = NEVER
        for clause in node.clauses:
            self.bind(clause.pattern, subject, clause)
            if clause.guard is not None:
                self.ev(clause.guard, ov)
            out = self.ijoin(out, self.ev(clause.body, ov))
        return out

    def ev_ascribe(self, node: r.RAscribe, ov: dict[int, InferredType]) -> InferredType:
        t = self.ev(node.expr, ov)
        kinds = self.type_kinds(node.type)
        if kinds is None or t.is_never:
            return t
        return _meet(t, kinds)

    def type_kinds(self, ty: c.Type) -> frozenset[str] | None:
        if not isinstance(ty, c.TCon):
            return None
        name = ty.name
        table = {
            "Int": {"Int"},
            "Float": {"Float"},
            "Number": {"Int", "Float"},
            "String": {"Str"},
            "Bool": {"Bool"},
            "Symbol": {"Sym"},
            "Nil": {"Nil"},
            "Unit": {"Nil"},
            "Error": {"Error"},
            "List": {"List", "Empty"},
            "Map": {"Map"},
            "Function": {"Fn"},
        }
        if name in table:
            return frozenset(table[name])
        if name == "Any":
            return None
        if any(d.type_name == name for d in self.ctors.values()):
            return frozenset({"Adt:" + name})
        return None

    # ------------------------------------------------------------ patterns and refinement

    def bind(self, pat: r.RPattern, t: InferredType, where: object) -> None:
        if isinstance(pat, r.PBind):
            self.update(self.var_key(pat.var), t, where)
        elif isinstance(pat, r.RPList):
            elem = P._elem(t)
            for p in pat.items:
                self.bind(p, elem, where)
            if isinstance(pat.rest, r.PBind):
                self.bind(pat.rest, P._as_list(t), where)
        elif isinstance(pat, r.RPCons):
            self.bind(pat.head, P._elem(t), where)
            self.bind(pat.tail, P._as_list(t), where)
        elif isinstance(pat, r.RPCtor):
            for i, p in enumerate(pat.args):
                if self.closed:
                    self.bind(p, self.read(("ctor", pat.name, i)), where)
                else:
                    self.bind(p, ANY, where)
                    self.because(where, "a constructor field (no closed world)")
        elif isinstance(pat, r.RPError):
            self.bind(pat.kind, STR, where)
            self.bind(pat.message, STR, where)
            self.bind(pat.data, ANY, where)

    def refine(
        self, test: r.RExpr, ov: dict[int, InferredType]
    ) -> tuple[dict[int, InferredType], dict[int, InferredType]]:
        """Variable types in the then- and else-branches of `test` (DESIGN.md §6.2)."""
        if isinstance(test, r.PrimApp):
            name = P.canonical(test.name)
            if name == "not" and len(test.args) == 1:
                yes, no = self.refine(test.args[0], ov)
                return no, yes
            if name in PREDICATE_KINDS and len(test.args) == 1:
                arg = test.args[0]
                if isinstance(arg, r.LocalRef) and not arg.var.assigned:
                    t = self._peek(arg, ov)
                    kinds = PREDICATE_KINDS[name]
                    then = _meet(t, kinds)
                    other = (
                        t
                        if t.kinds is None
                        else make(
                            t.kinds - kinds,
                            value_range=t.value_range,
                            element_type=t.element_type,
                            fns=t.fns,
                        )
                    )
                    return {**ov, arg.var.id: then}, {**ov, arg.var.id: other}
            if name in ("<", "<=", ">", ">=") and len(test.args) == 2:
                a, b = test.args
                if name in (">", ">="):
                    a, b, name = b, a, _FLIP[name]
                return self._compare(a, b, name == "<", ov)
        return ov, ov

    def _peek(self, ref: r.LocalRef, ov: dict[int, InferredType]) -> InferredType:
        got = ov.get(ref.var.id)
        return got if got is not None else self.read(self.var_key(ref.var))

    def _compare(
        self, a: r.RExpr, b: r.RExpr, strict: bool, ov: dict[int, InferredType]
    ) -> tuple[dict[int, InferredType], dict[int, InferredType]]:
        """`(< a b)` (strict) or `(<= a b)` on Ints: a <= hi(b) - 1 then, a >= lo(b) else."""
        ta = self._operand(a, ov)
        tb = self._operand(b, ov)
        if ta is None or tb is None or not (ta.only("Int") and tb.only("Int")):
            return ov, ov
        if ta.is_never or tb.is_never:
            return ov, ov
        ra = ta.value_range or (None, None)
        rb = tb.value_range or (None, None)
        d = 1 if strict else 0
        then, other = dict(ov), dict(ov)
        if isinstance(a, r.LocalRef) and not a.var.assigned:
            then[a.var.id] = _clip(ra, None, None if rb[1] is None else rb[1] - d)
            other[a.var.id] = _clip(ra, None if rb[0] is None else rb[0] + 1 - d, None)
        if isinstance(b, r.LocalRef) and not b.var.assigned:
            then[b.var.id] = _clip(rb, None if ra[0] is None else ra[0] + d, None)
            other[b.var.id] = _clip(rb, None, None if ra[1] is None else ra[1] - 1 + d)
        return then, other

    def _operand(self, e: r.RExpr, ov: dict[int, InferredType]) -> InferredType | None:
        if isinstance(e, r.LocalRef):
            return self._peek(e, ov)
        if isinstance(e, c.Lit):
            return constant_of(e.value)
        return self.node_types.get(id(e)) if self.recording else None


def _clip(rng: tuple[int | None, int | None], lo: int | None, hi: int | None) -> InferredType:
    new_lo = rng[0] if lo is None else (lo if rng[0] is None else max(lo, rng[0]))
    new_hi = rng[1] if hi is None else (hi if rng[1] is None else min(hi, rng[1]))
    if new_lo is not None and new_hi is not None and new_lo > new_hi:
        return NEVER
    return int_range(new_lo, new_hi)


def _meet(t: InferredType, kinds: frozenset[str]) -> InferredType:
    if t.kinds is None:
        el = ANY if kinds & {"List", "Map"} else None
        return make(kinds, element_type=el)
    return make(
        t.kinds & kinds,
        constant=t.constant,
        is_constant=t.is_constant,
        value_range=t.value_range,
        element_type=t.element_type,
        fns=t.fns,
    )


def _truthiness(t: InferredType) -> tuple[bool, bool]:
    """Whether a test of this type may be true, and may be false."""
    if t.kinds is None:
        return True, True
    if t.is_constant and t.kinds == {"Bool"}:
        return bool(t.constant), not t.constant
    falsy = bool(t.kinds & {"Bool", "Nil"})
    truthy = bool(t.kinds - {"Nil"})
    return truthy, falsy


def _predicate(name: str, args: list[InferredType]) -> InferredType:
    """A type test, constant when the argument's kinds decide it."""
    if len(args) != 1:
        return BOOL
    t = args[0]
    if t.kinds is None:
        return BOOL
    if name == "not":
        may_true, may_false = _truthiness(t)
        if not may_false:
            return constant_of(False)
        if not may_true:
            return constant_of(True)
        return BOOL
    kinds = PREDICATE_KINDS[name]
    if t.kinds <= kinds:
        return constant_of(True)
    if not t.kinds & kinds:
        return constant_of(False)
    return BOOL


def _kind_key(t: InferredType) -> object:
    elem = t.element_type.kinds if t.element_type is not None else None
    return (t.kinds, t.fns, elem)


def _join_all(ts: list[InferredType]) -> InferredType:
    out = NEVER
    for t in ts:
        out = join(out, t)
    return out


def _max_arity(solver: _Solver, f: InferredType) -> int:
    n = 0
    for fid in f.fns or ():
        if isinstance(fid, int) and fid in solver.fns:
            n = max(n, len(solver.fns[fid].params))
    return n


def _describe(node: object) -> str:
    if isinstance(node, r.PrimApp):
        return f"`({node.name} ...)`"
    if isinstance(node, r.RCall):
        return "a call"
    return f"a {type(node).__name__}"


_DISPATCH: Final[dict[type, Callable[[_Solver, Any, dict[int, InferredType]], InferredType]]] = {
    c.Lit: _Solver.ev_lit,
    r.LocalRef: _Solver.ev_local,
    r.GlobalRef: _Solver.ev_global,
    r.BuiltinRef: _Solver.ev_builtin,
    r.CtorRef: _Solver.ev_ctorref,
    r.EffectRef: _Solver.ev_effectref,
    r.LocalSet: _Solver.ev_localset,
    r.GlobalSet: _Solver.ev_globalset,
    r.Scope: _Solver.ev_scope,
    r.Fn: _Solver.ev_fn,
    r.RCall: _Solver.ev_call,
    r.PrimApp: _Solver.ev_prim,
    r.CtorApp: _Solver.ev_ctorapp,
    r.RIf: _Solver.ev_if,
    r.RSeq: _Solver.ev_seq,
    r.RWhile: _Solver.ev_while,
    r.RMatch: _Solver.ev_match,
    r.RHandle: _Solver.ev_handle,
    r.RPerform: _Solver.ev_perform,
    r.RTry: _Solver.ev_try,
    r.RAscribe: _Solver.ev_ascribe,
}

_ = (FLOAT, map_of)
