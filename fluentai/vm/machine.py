"""The bytecode VM: tier 0 and the reference semantics (DESIGN.md §1.2, §5).

Frames are heap objects on an explicit list, so FluentAI calls never recurse in Python: tail calls
replace the frame, non-tail recursion is bounded only by `max_depth` (then `stack-overflow`).
Handlers and `try` frames form one dynamic stack (a linked list of HNodes, innermost first).
Errors are Python FlError exceptions caught around the dispatch loop; the search for a handler
happens before anything unwinds, so an `error:raise` clause can resume at the failing
instruction, and `finally` blocks run while unwinding to a `try` or to the top level.
"""

from __future__ import annotations

import itertools
import mmap
from collections.abc import Mapping
from typing import Any, Final

from fluentai import primitives, settings
from fluentai.diagnostics import TraceEntry
from fluentai.errors import MSG_STACK_OVERFLOW, FlError, ProgramExit, arity_message
from fluentai.jit.policy import FALLBACK
from fluentai.primitives import Prim, PrimKind
from fluentai.source import Span
from fluentai.vm.code import Code, TryInfo
from fluentai.vm.compile import UNBOUND, Globals
from fluentai.vm.opcodes import Op
from fluentai.vm.patterns import field_is_checked, has_type, match, type_text
from fluentai.vm.printer import written
from fluentai.vm.profile import Profiler
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Box,
    Builtin,
    Closure,
    Cons,
    Constructor,
    EffectFn,
    ErrorValue,
    from_iter,
    to_pylist,
)


class _KeptStack(list):  # type: ignore[type-arg]
    """The operand stack of a program frame kept while the builtin written in FluentAI that it
    tail-called runs (see `_trace`): the type marks the frame."""

    __slots__ = ()


NO_RESTORE: Final[Any] = object()
DEFAULT_MAX_DEPTH: Final = 200_000

# Address space set aside for a run and given back when memory runs out: unwinding after a
# MemoryError allocates (a traceback entry per frame, and CPython 3.11 retries forever an int it
# fails to make for an exception handler of a long function such as `VM._execute`), so with
# none left the VM spun at 100% CPU until killed, ignoring Ctrl-C.
_RESERVE_BYTES: Final = 16 << 20


def _reserve_memory() -> mmap.mmap:
    """Untouched anonymous pages: they count against an address-space limit, not in RSS. With no
    room for them memory is as good as exhausted already: MemoryError (without the reserve a
    later MemoryError could leave the VM spinning)."""
    try:
        return mmap.mmap(-1, _RESERVE_BYTES)
    except OSError:
        raise MemoryError from None


# The largest limit FLUENTAI_MAX_DEPTH may set (the runtime's MAX_MAX_DEPTH, runtime/misc.c):
# deeper native recursion would not fit the program thread's stack.
MAX_MAX_DEPTH: Final = 1_000_000


def depth_from_environment(environ: Mapping[str, str]) -> int:
    """The non-tail call limit: FLUENTAI_MAX_DEPTH if it is a positive decimal Int (at most
    MAX_MAX_DEPTH), else DEFAULT_MAX_DEPTH, as the runtime reads it."""
    n = settings.integer(environ.get("FLUENTAI_MAX_DEPTH", ""))
    if n is None or n <= 0:
        return DEFAULT_MAX_DEPTH
    return min(n, MAX_MAX_DEPTH)


# A frame is a tuple (code, pc, slots, operand stack, captured values, restore): `restore` is the
# handler stack to reinstate when the frame returns (effect clauses), or NO_RESTORE.
Frame = tuple[Code, int, list[Any], list[Any], tuple[Any, ...], Any]


class HNode:
    """A handler frame (clauses) or a try frame (info), with where the try lives."""

    __slots__ = ("parent", "clauses", "info", "level", "sp", "catches", "link")

    def __init__(
        self,
        parent: HNode | None,
        clauses: dict[str, Any] | None,
        info: TryInfo | None,
        level: int,
        sp: int,
    ) -> None:
        self.parent = parent
        self.clauses = clauses
        self.info = info
        self.level = level  # number of suspended frames below the try's frame
        self.sp = sp
        # whether an error search can stop here (an error clause or catch patterns), and the
        # nearest such node outside: searches skip finally-only trys and other handlers
        self.catches = bool(info.patterns) if info is not None else _has_error_clause(clauses)
        self.link: HNode | None = None
        if parent is not None:
            self.link = parent if parent.catches else parent.link


def _has_error_clause(clauses: dict[str, Any] | None) -> bool:
    return clauses is not None and ("error:raise" in clauses or "error" in clauses)


def _first_catching(node: HNode | None) -> HNode | None:
    return node if node is None or node.catches else node.link


_UNSEARCHED: Final[Any] = object()


class Pending:
    """An error (or interrupt) on its way out: what the report and `catch` will see, and the
    try that catches it (found once, before anything unwinds)."""

    __slots__ = (
        "kind",
        "message",
        "data",
        "span",
        "trace",
        "interrupt",
        "value",
        "target",
        "omitted",
    )

    def __init__(
        self,
        kind: str,
        message: str,
        data: Any,
        span: Span | None,
        trace: list[TraceEntry],
        interrupt: bool = False,
        value: ErrorValue | None = None,
    ) -> None:
        self.kind = kind
        self.message = message
        self.data = data
        self.span = span
        self.trace = trace
        self.interrupt = interrupt
        self.value = value if value is not None else ErrorValue(kind, message, data)
        self.target: Any = _UNSEARCHED
        self.omitted = 0  # trace entries left out between the outer and inner ten


class UncaughtError(Exception):
    """A runtime error reached the top level (exit 70)."""

    def __init__(self, pending: Pending) -> None:
        super().__init__(pending.message)
        self.pending = pending


class Interrupted(Exception):
    """Ctrl-C unwound to the top level (exit 130)."""


class _Reraise(Exception):
    def __init__(self, pending: Pending) -> None:
        super().__init__(pending.kind)
        self.pending = pending


class _RaisedByPerform(FlError):
    """An explicit `error:raise` perform (resumes at the user's call when written inside the
    prelude; `applied`: made by applying the operation as a function value, as `(map raise xs)`
    does, whose resumed value replaces that application, LANGUAGE.md §14.4)."""

    applied = False

    def __init__(self, kind: str, message: str, data: object, value: ErrorValue | None) -> None:
        super().__init__(kind, message, data)
        self.value = value


def _prim_vm(name: str) -> Any:
    prim = primitives.lookup(name)
    assert prim is not None and prim.vm is not None
    return prim.vm


def _compare(generic: Any, a: Any, b: Any, stub: int) -> Any:
    """The slow path of a fused compare-and-branch; a resumed error continues at `stub`."""
    try:
        return generic(a, b)
    except FlError as exc:
        exc.resume_pc = stub  # type: ignore[attr-defined]
        raise


def _is_function(v: Any) -> bool:
    return type(v) in (Closure, Builtin, Constructor, EffectFn)


class VM:
    def __init__(self, world: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self.world = world
        self.max_depth = max_depth
        self.globals = Globals()
        self.handlers: HNode | None = None
        self.depth = 0
        self.frames: list[Frame] = []
        self.kept_frames = False  # a frame was kept for a builtin it tail-called (`_trace`)
        self.last_value: Any = None
        self.builtin_values: dict[str, Any] = {}
        self.apply_prim: Prim | None = None
        self.profiler: Profiler | None = None
        self.jit: Any = None  # jit/jit.py, under `--tier auto`
        self.reserve: mmap.mmap | None = None

    # ------------------------------------------------------------ entry

    def run(self, code: Code) -> Any:
        """Run a top-level Code to completion; return the value of its last form."""
        self._bind_fallbacks()
        self.frames = []
        self.handlers = None
        self.depth = 0
        self.reserve = _reserve_memory()
        try:
            self._execute((code, 0, [None] * code.nslots, [], (), NO_RESTORE))
        finally:
            self._release_reserve()
        return self.last_value

    def _release_reserve(self) -> None:
        reserve = self.reserve
        if reserve is not None:
            self.reserve = None
            reserve.close()

    def _bind_fallbacks(self) -> None:
        g = self.globals
        for i, fallback in enumerate(g.fallback):
            if fallback is not None and g.values[i] is UNBOUND:
                g.values[i] = self.builtin_values[fallback]

    # ------------------------------------------------------------ calls

    def _closure_frame(self, fn: Closure, args: list[Any], restore: Any) -> Frame:
        """A new frame for a closure call (any arity rule), counting depth."""
        code = fn.code
        n = code.nparams
        if code.builtin_arity is not None:  # a prelude builtin: its table arity is normative
            lo, hi = code.builtin_arity
            if len(args) < lo or (hi is not None and len(args) > hi):
                raise FlError("arity-error", arity_message(fn.name, lo, hi, len(args)))
        if len(args) != n:
            if not code.has_rest or len(args) < n:
                hi = None if code.has_rest else n
                raise FlError("arity-error", arity_message(fn.name, n, hi, len(args)))
            args = [*args[:n], from_iter(args[n:])]
        elif code.has_rest:
            args = [*args, EMPTY]
        if not code.is_prelude:
            if self.depth >= self.max_depth:
                raise FlError("stack-overflow", MSG_STACK_OVERFLOW)
            self.depth += 1
        code.calls += 1
        if code.blank:
            args.extend(code.blank)
        return (code, 0, args, [], fn.free, restore)

    def _call_value(self, fn: Any, args: list[Any], stack: list[Any], restore: Any) -> Frame | None:
        """Call any function value: return a new frame, or push the result on `stack`."""
        t = type(fn)
        if t is Closure:
            return self._closure_frame(fn, args, restore)
        if t is Builtin:
            prim: Prim = fn.prim
            lo, hi = prim.arity
            n = len(args)
            if n < lo or (hi is not None and n > hi) or (prim.arity_ok and not prim.arity_ok(n)):
                by_twos = prim.arity_ok is not None
                raise FlError("arity-error", arity_message(prim.name, lo, hi, n, by_twos=by_twos))
            if prim.kind is PrimKind.INTRINSIC:  # apply
                f2, args2 = self._unpack_apply(args)
                return self._call_value(f2, args2, stack, restore)
            if prim.kind is PrimKind.EFFECT:
                return self._perform(prim.name, args, stack, restore, applied=True)
            assert prim.vm is not None
            stack.append(prim.vm(self.world, *args) if prim.needs_world else prim.vm(*args))
            return None
        if t is Constructor:
            stack.append(self._construct(fn.ctor, args))
            return None
        if t is EffectFn:
            return self._perform(fn.op, args, stack, restore, applied=True)
        raise FlError("type-error", f"expected a function, got {written(fn)}")

    @staticmethod
    def _unpack_apply(args: list[Any]) -> tuple[Any, list[Any]]:
        if len(args) < 2:  # a tail call of `apply` comes here without the arity check
            raise FlError("arity-error", arity_message("apply", 2, None, len(args)))
        last = args[-1]
        if last is not EMPTY and type(last) is not Cons:
            raise FlError(
                "type-error", f"`apply` expects a List as its last argument, got {written(last)}"
            )
        return args[0], [*args[1:-1], *to_pylist(last)]

    @staticmethod
    def _construct(ctor: Any, args: list[Any]) -> Adt:
        if len(args) != ctor.arity:
            raise FlError(
                "arity-error", arity_message(ctor.name, ctor.arity, ctor.arity, len(args))
            )
        checked = ctor.checked
        if checked is None:
            checked = ctor.checked = tuple(
                (i, ty) for i, ty in enumerate(ctor.fields) if field_is_checked(ty)
            )
        for i, ty in checked:
            v = args[i]
            if not has_type(ty, v):
                raise FlError(
                    "type-error",
                    f"`{ctor.name}` expects {type_text(ty)} for field {i + 1}, got {written(v)}",
                )
        return Adt(ctor, tuple(args))

    def _perform(
        self,
        op: str,
        args: list[Any],
        stack: list[Any],
        outer: Any = NO_RESTORE,
        *,
        applied: bool = False,
    ) -> Frame | None:
        """Perform `op`: call the innermost handler's clause, or run the default behaviour.
        `outer`: the handler stack to restore when the frame returned ends, when this perform
        is itself a clause being called (`(handler ((app:f app:g)) ...)`): the clause's, not
        the stack cut for it."""
        prim = primitives.lookup(op)
        if prim is not None:
            lo, hi = prim.arity
            if len(args) < lo or (hi is not None and len(args) > hi):
                raise FlError("arity-error", arity_message(prim.name, lo, hi, len(args)))
        if op == "error:raise":
            from fluentai.vm.builtins_misc import normalize_raise

            norm = normalize_raise(tuple(args))
            if isinstance(norm, ErrorValue):
                raised = _RaisedByPerform(norm.kind, norm.message, norm.data, norm)
            else:
                raised = _RaisedByPerform(norm[0], norm[1], norm[2], None)
            raised.applied = applied
            raise raised
        ns, _, name = op.partition(":")
        node = self.handlers
        fn: Any = None
        while node is not None:
            clauses = node.clauses
            if clauses is not None:
                fn = clauses.get(op)
                if fn is not None:
                    break
                fn = clauses.get(ns)
                if fn is not None:
                    args = [name, *args]
                    break
            node = node.parent
        if node is not None:
            restore = self.handlers if outer is NO_RESTORE else outer
            self.handlers = node.parent  # the clause runs outside its own frame
            try:
                frame = self._call_value(fn, args, stack, restore)
            except FlError as exc:
                # raised by the call itself (e.g. arity): outside the handler, yet still inside
                # the trys around the perform, whose finally clauses must run
                exc.restore_handlers = restore  # type: ignore[attr-defined]
                raise
            if frame is None:
                self.handlers = restore
            return frame
        if prim is None:
            raise FlError("unhandled-effect", f"no handler for `{op}`")
        if prim.prelude_default is not None:
            index = self.globals.index["%prelude:" + prim.prelude_default]
            return self._closure_frame(self.globals.values[index], args, outer)
        assert prim.vm is not None
        stack.append(prim.vm(self.world, *args))
        return None

    def _tail_default(self, fn: Any, args: list[Any]) -> Any:
        """An operation applied in tail position of a program frame: the prelude function
        that is its default behaviour (`%state-update`, which calls a function), when no
        handler clause handles it now, so that the frame waits for it like for a builtin
        written in FluentAI that it tail-called (see `_trace`: it has no trace entry while the
        function called runs, LANGUAGE.md §12). Otherwise `fn` itself: a clause of the program
        is a non-tail call, and the other defaults call nothing."""
        op = fn.op if type(fn) is EffectFn else fn.prim.name
        prim = primitives.lookup(op)
        if prim is None or prim.prelude_default is None:
            return fn
        ns = op.partition(":")[0]
        node = self.handlers
        while node is not None:
            clauses = node.clauses
            if clauses is not None and (op in clauses or ns in clauses):
                return fn
            node = node.parent
        lo, hi = prim.arity
        if len(args) < lo or (hi is not None and len(args) > hi):
            raise FlError("arity-error", arity_message(prim.name, lo, hi, len(args)))
        return self.globals.values[self.globals.index["%prelude:" + prim.prelude_default]]

    # ------------------------------------------------------------ errors

    @staticmethod
    def _span_at(code: Code, pc: int) -> Span | None:
        return code.spans[(pc - 2) // 2] if pc >= 2 else code.span

    def _trace(self, cur: Frame, inner: bool = False) -> tuple[Span | None, list[TraceEntry], int]:
        """The error location, the trace entries and how many entries are left out. `inner`:
        native frames inside `cur` have entries of their own.

        Prelude frames are opaque (LANGUAGE.md §13.4). A program frame that tail-called a
        builtin written in FluentAI (`map`) is kept while the builtin runs, so that the
        builtin's calls of program functions nest one level deeper, as in native code (an
        endless `(define (d n) (map d [n]))` must reach stack-overflow). Being replaced by the
        builtin, it has an entry only while no program frame runs inside it: then it holds the
        program's call of the builtin, where an error raised in the builtin is reported.

        A report shows at most the outermost 10 and the innermost 10 entries, so only those are
        collected: an error caught deep in a recursion costs the same as one near the top (with
        kept frames, whose entries the depth does not count, the whole stack is looked at)."""
        frames = self.frames
        total = self.depth + 1  # program frames: every counted call, plus the top level
        if total <= 40 or self.kept_frames:
            entries: list[TraceEntry] = []
            for frame in itertools.chain((cur,), reversed(frames)):
                entry = self._entry(frame[0], frame[1])
                if entry is not None and (not inner or type(frame[3]) is not _KeptStack):
                    entries.append(entry)
                    inner = True
            entries.reverse()
            span = entries[-1].span if entries else None
            if len(entries) <= 40:
                return span, entries, 0
            return span, entries[:10] + entries[-10:], len(entries) - 20
        inner_entries: list[TraceEntry] = []
        for code, pc, *_ in itertools.chain((cur,), reversed(frames)):  # no copy of the stack
            entry = self._entry(code, pc)
            if entry is not None:
                inner_entries.append(entry)
                if len(inner_entries) == 10:
                    break
        outer: list[TraceEntry] = []
        for code, pc, *_ in frames:
            entry = self._entry(code, pc)
            if entry is not None:
                outer.append(entry)
                if len(outer) == 10:
                    break
        inner_entries.reverse()
        return inner_entries[-1].span, outer + inner_entries, total - 20

    def _entry(self, code: Code, pc: int) -> TraceEntry | None:
        if code.is_prelude:
            return None
        span = self._span_at(code, pc)
        return TraceEntry(span, code.name) if span is not None else None

    def _new_pending(self, exc: FlError, cur: Frame) -> Pending:
        native = getattr(exc, "native_trace", None)
        span, trace, omitted = self._trace(cur, inner=bool(native))
        if native is not None:  # raised in native code called from this frame (jit/jit.py)
            if getattr(exc, "tail", False) and trace and self._entry(cur[0], cur[1]) is not None:
                trace = trace[:-1]  # a tail call replaced this frame (a prelude frame has no entry)
            kept = trace + native
            omitted += exc.native_omitted  # type: ignore[attr-defined]
            if len(kept) > 20:
                omitted += len(kept) - 20
                kept = kept[:10] + kept[-10:]
            trace = kept
            span = trace[-1].span if trace else span
            value = exc.value  # type: ignore[attr-defined]
            pending = Pending(exc.kind, exc.message, exc.data, span, trace, value=value)
            pending.omitted = omitted
            return pending
        value = exc.value if isinstance(exc, _RaisedByPerform) else None
        pending = Pending(exc.kind, exc.message, exc.data, span, trace, value=value)
        pending.omitted = omitted
        return pending

    def _handle(self, exc: FlError, cur: Frame) -> Frame:
        """A fresh error in `cur`: resume in an error:raise clause, or unwind."""
        pending = self._new_pending(exc, cur)
        full_chain = getattr(exc, "restore_handlers", _UNSEARCHED)
        if pending.kind != "stack-overflow":
            node = _first_catching(self.handlers)
            while node is not None:
                clauses = node.clauses
                if clauses is not None:
                    fn = clauses.get("error:raise")
                    args: list[Any] = [pending.kind, pending.message, pending.data]
                    if fn is None and "error" in clauses:
                        fn = clauses["error"]
                        args = ["raise", *args]
                    if fn is not None:
                        if full_chain is not _UNSEARCHED:
                            self.handlers = full_chain
                        return self._resume(exc, cur, node, fn, args)
                elif node.info is not None and self._catch_index(node.info, pending) is not None:
                    break
                node = node.link
        if full_chain is not _UNSEARCHED:
            pending.target = self._find_target(pending)
            self.handlers = full_chain
        return self._unwind(pending, cur)

    def _resume(self, exc: FlError, cur: Frame, node: HNode, fn: Any, args: list[Any]) -> Frame:
        """Call an error:raise clause; its value replaces the failing expression's."""
        if isinstance(exc, _RaisedByPerform) and not exc.applied:
            # a raise written in the prelude resumes at the user's call of the builtin
            while cur[0].is_prelude and self.frames:
                cur = self.frames.pop()
        resume_pc = getattr(exc, "resume_pc", None)
        if resume_pc is not None:  # continue where the failing form's value is expected
            cur = (cur[0], resume_pc, cur[2], cur[3], cur[4], cur[5])
        restore = self.handlers
        self.handlers = node.parent
        try:
            new = self._call_value(fn, args, cur[3], restore)
        except FlError as exc2:
            exc2.restore_handlers = restore  # type: ignore[attr-defined]
            raise
        if new is None:
            self.handlers = restore
            return cur
        self.frames.append(cur)
        return new

    def _recover(self, exc: FlError, cur: Frame) -> Frame:
        """Handle an error; an error raised by calling the clause itself is handled in turn,
        in the context outside the clause's handler (LANGUAGE.md §14.3)."""
        while True:
            try:
                return self._handle(exc, cur)
            except FlError as again:
                exc = again

    @staticmethod
    def _catch_index(info: TryInfo, pending: Pending) -> int | None:
        if pending.interrupt:
            return None
        scratch = _Scratch()
        for i, pat in enumerate(info.patterns):
            if match(pat, pending.value, scratch):
                return i
        return None

    def _find_target(self, pending: Pending) -> HNode | None:
        """The try that will catch `pending`: the nearest whose catch patterns match."""
        node = _first_catching(self.handlers)
        while node is not None:
            if node.info is not None and self._catch_index(node.info, pending) is not None:
                return node
            node = node.link
        return None

    def _unwind(self, pending: Pending, cur: Frame) -> Frame:
        """Unwind toward the catching try (or the top level), frame by frame, running every
        `finally` on the way, innermost first. A frame that ran an effect clause reinstates the
        handler stack of its perform when it is popped, so the finally clauses of a try around
        the perform run too."""
        if pending.target is _UNSEARCHED:
            pending.target = self._find_target(pending)
        target = pending.target
        while True:
            level = len(self.frames)
            node = self.handlers
            if node is not None and node.level == level:
                self.handlers = node.parent
                info = node.info
                if info is None:
                    continue  # a handler frame: just leave it
                code, _, slots, stack, free, restore = cur
                del stack[node.sp :]
                if node is target:
                    index = self._catch_index(info, pending)
                    assert index is not None
                    match(info.patterns[index], pending.value, slots)
                    return (code, info.clause_pcs[index], slots, stack, free, restore)
                if info.finally_pc is not None:
                    stack.append(pending)
                    return (code, info.finally_pc, slots, stack, free, restore)
                continue
            if not self.frames:
                break
            if cur[5] is not NO_RESTORE:
                self.handlers = cur[5]
            if not cur[0].is_prelude:
                self.depth -= 1
            cur = self.frames.pop()
        self.handlers = None
        if pending.interrupt:
            raise Interrupted()
        raise UncaughtError(pending)

    # ------------------------------------------------------------ the loop

    def _execute(self, cur: Frame) -> None:  # noqa: C901 - the dispatch loop
        frames = self.frames
        gvalues = self.globals.values
        world = self.world
        code_obj, pc, locals_, stack, free, restore = cur
        code = code_obj.code
        consts = code_obj.consts
        profiler = self.profiler
        jit = self.jit
        hot_calls = profiler.hot_calls if profiler is not None else 0
        hot_loops = profiler.hot_loops if profiler is not None else 0
        max_depth = self.max_depth
        apply_prim = self.apply_prim
        add2, sub2, mul2, lt2, eq2, gt2, le2, ge2 = (
            _prim_vm(name) for name in ("+", "-", "*", "<", "=", ">", "<=", ">=")
        )
        while True:
            try:
                while True:
                    op = code[pc]
                    arg = code[pc + 1]
                    pc += 2
                    if op == 0:  # LOAD_LOCAL        -- v
                        stack.append(locals_[arg])
                    elif op == 1:  # CONST           -- k
                        stack.append(consts[arg])
                    elif op == 47:  # JUMP_UNLESS_LT_LC --
                        _, generic, _, slot, k, target, stub = consts[arg]
                        a = locals_[slot]
                        if type(a) is int:
                            if not a < k:
                                pc = target
                        elif not _compare(generic, a, k, stub):
                            pc = target
                    elif op == 48:  # JUMP_UNLESS_EQ_LC --
                        _, generic, _, slot, k, target, stub = consts[arg]
                        a = locals_[slot]
                        if type(a) is int:
                            if a != k:
                                pc = target
                        elif not _compare(generic, a, k, stub):
                            pc = target
                    elif op == 9:  # JUMP_UNLESS_LC --
                        fast, generic, _, slot, k, target, stub = consts[arg]
                        a = locals_[slot]
                        if type(a) is int:
                            if not fast(a, k):
                                pc = target
                        elif not _compare(generic, a, k, stub):
                            pc = target
                    elif op == 2:  # JUMP_IF_FALSE   c --
                        v = stack.pop()
                        if v is False or v is None:
                            pc = arg
                    elif op == 3 or op == 6:  # CALL / TAIL_CALL   f a1..an -- r
                        fn = stack[-arg - 1]
                        if type(fn) is Closure and fn.code.fast_argc == arg:
                            fcode = fn.code
                            if op == 6 and fcode.is_prelude and not code_obj.is_prelude:
                                op = 3  # this frame waits for the builtin (see `_trace`)
                                stack = _KeptStack(stack)
                                self.kept_frames = True
                            if arg:
                                args = stack[-arg:]
                                del stack[-arg - 1 :]
                            else:
                                args = []
                                stack.pop()
                            if fcode.native is not None and jit is not None:
                                if op == 3:
                                    if fcode.is_prelude:
                                        v = jit.call(fn, args, self.depth)
                                    elif self.depth < max_depth:
                                        v = jit.call(fn, args, self.depth + 1)
                                    else:
                                        v = FALLBACK
                                    if v is not FALLBACK:
                                        stack.append(v)
                                        continue
                                elif frames:  # a tail call: return its value from this frame
                                    jit.tail = True
                                    try:
                                        v = jit.call(
                                            fn,
                                            args,
                                            self.depth + code_obj.is_prelude - fcode.is_prelude,
                                        )
                                    finally:
                                        jit.tail = False
                                    if v is not FALLBACK:
                                        if fcode is code_obj:
                                            jit.stats.osr += 1
                                        if restore is not NO_RESTORE:
                                            self.handlers = restore
                                        if not code_obj.is_prelude:
                                            self.depth -= 1
                                        code_obj, pc, locals_, stack, free, restore = frames.pop()
                                        code = code_obj.code
                                        consts = code_obj.consts
                                        stack.append(v)
                                        continue
                            if op == 6:
                                if fcode is code_obj:
                                    if profiler is not None:
                                        fcode.backedges += 1
                                        if fcode.backedges > hot_loops and not fcode.hot:
                                            profiler.hot(fcode)
                                        if not fcode.backedges & 7:  # a safepoint, as at JUMP
                                            profiler.tick(fcode)
                                elif fcode.is_prelude != code_obj.is_prelude:
                                    self.depth += code_obj.is_prelude - fcode.is_prelude
                                    if self.depth > max_depth:
                                        self.depth -= 1
                                        raise FlError("stack-overflow", MSG_STACK_OVERFLOW)
                            else:
                                if not fcode.is_prelude:
                                    if self.depth >= max_depth:
                                        raise FlError("stack-overflow", MSG_STACK_OVERFLOW)
                                    self.depth += 1
                                frames.append((code_obj, pc, locals_, stack, free, restore))
                                stack = []
                                restore = NO_RESTORE
                            if profiler is not None and (op == 3 or fcode is not code_obj):
                                # counted only when profiling (--tier auto); a self tail call
                                # is a loop iteration (back edge), not a call
                                fcode.calls += 1
                                if fcode.calls > hot_calls and not fcode.hot:
                                    profiler.hot(fcode)
                                if not fcode.calls & 7:
                                    profiler.record_call(code_obj, pc, fcode, args)
                            if fcode.blank:
                                args.extend(fcode.blank)
                            code_obj = fcode
                            code = fcode.code
                            consts = fcode.consts
                            locals_ = args
                            free = fn.free
                            pc = 0
                        else:
                            args = stack[len(stack) - arg :]
                            del stack[-arg - 1 :]
                            if op == 6:
                                while type(fn) is Builtin and fn.prim is apply_prim:
                                    fn, args = self._unpack_apply(args)
                                if not code_obj.is_prelude and (
                                    type(fn) is EffectFn
                                    or type(fn) is Builtin
                                    and fn.prim.kind is PrimKind.EFFECT
                                ):
                                    fn = self._tail_default(fn, args)
                                if (
                                    type(fn) is Closure
                                    and fn.code.is_prelude
                                    and not code_obj.is_prelude
                                ):
                                    op = 3  # this frame waits for the builtin (see `_trace`)
                                    stack = _KeptStack(stack)
                                    self.kept_frames = True
                            new: Frame | None
                            if op == 6 and type(fn) is Closure:
                                counted = not code_obj.is_prelude
                                if counted:
                                    self.depth -= 1
                                try:
                                    new = self._closure_frame(fn, args, restore)
                                except FlError:
                                    if counted:
                                        self.depth += 1
                                    raise
                            else:
                                new = self._call_value(fn, args, stack, NO_RESTORE)
                                if new is not None:
                                    frames.append((code_obj, pc, locals_, stack, free, restore))
                            if new is not None:
                                code_obj, pc, locals_, stack, free, restore = new
                                code = code_obj.code
                                consts = code_obj.consts
                    elif op == 4:  # RETURN          v --
                        v = stack.pop()
                        if restore is not NO_RESTORE:
                            self.handlers = restore
                        if not frames:
                            return
                        if not code_obj.is_prelude:
                            self.depth -= 1
                        code_obj, pc, locals_, stack, free, restore = frames.pop()
                        code = code_obj.code
                        consts = code_obj.consts
                        stack.append(v)
                    elif op == 5:  # LOAD_GLOBAL    -- v
                        v = gvalues[arg]
                        if v is UNBOUND:
                            name = self.globals.names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        stack.append(v)
                    elif op == 7:  # ADD_LC         -- x+k
                        slot, k = consts[arg]
                        a = locals_[slot]
                        stack.append(a + k if type(a) is int else add2(a, k))
                    elif op == 8:  # SUB_LC         -- x-k
                        slot, k = consts[arg]
                        a = locals_[slot]
                        stack.append(a - k if type(a) is int else sub2(a, k))
                    elif op == 46:  # EVAL           -- v
                        fused, fallback = consts[arg]
                        try:
                            stack.append(fused(locals_, free))
                        except ProgramExit:  # a restart from a long builtin's safepoint
                            raise
                        except Exception:  # noqa: BLE001 - rerun as bytecode, which reports it
                            pc = fallback
                    elif op == 17:  # STORE_LOCAL    v --
                        locals_[arg] = stack.pop()
                    elif op == 19:  # POP            v --
                        stack.pop()
                    elif op == 15:  # JUMP
                        if arg < pc and profiler is not None:
                            code_obj.backedges += 1
                            if code_obj.backedges > hot_loops and not code_obj.hot:
                                profiler.hot(code_obj)
                            if not code_obj.backedges & 7:
                                profiler.tick(code_obj)
                            # a hot `while` with native code finishes natively (jit/osr.py)
                            if code_obj.osr is not None and code_obj.backedges > hot_loops:
                                osr = code_obj.osr.get(pc)
                                if osr is not None and jit.osr(osr, locals_, free, self.depth):
                                    continue  # after the loop, its variables written back
                        pc = arg
                    elif op == 44:  # PRIM1          a -- r
                        a = stack.pop()
                        stack.append(consts[arg](a))
                    elif op == 45:  # PRIM2          a b -- r
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(consts[arg](a, b))
                    elif op == 10:  # JUMP_UNLESS   a b --
                        fast, generic, _, target, stub = consts[arg]
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            if not fast(a, b):
                                pc = target
                        elif not _compare(generic, a, b, stub):
                            pc = target
                    elif op == 11:  # ADD            a b -- a+b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a + b)
                        else:
                            stack.append(add2(a, b))
                    elif op == 12:  # SUB            a b -- a-b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a - b)
                        else:
                            stack.append(sub2(a, b))
                    elif op == 13:  # LT             a b -- a<b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a < b)
                        else:
                            stack.append(lt2(a, b))
                    elif op == 14:  # NUM_EQ         a b -- a=b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a == b)
                        else:
                            stack.append(eq2(a, b))
                    elif op == 43:  # MUL            a b -- a*b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a * b)
                        else:
                            stack.append(mul2(a, b))
                    elif op == 18:  # LOAD_FREE      -- v
                        stack.append(free[arg])
                    elif op == 16:  # PRIM           a1..an -- r
                        prim, n = consts[arg]
                        if n:
                            args = stack[len(stack) - n :]
                            del stack[-n:]
                        else:
                            args = []
                        if prim.needs_world:
                            stack.append(prim.vm(world, *args))
                        else:
                            stack.append(prim.vm(*args))
                    elif op == 20:  # LOAD_BOX       -- v
                        v = locals_[arg].value
                        if v is UNBOUND:
                            name = code_obj.slot_names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        stack.append(v)
                    elif op == 21:  # LOAD_FREE_BOX  -- v
                        v = free[arg].value
                        if v is UNBOUND:
                            name = code_obj.free_names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        stack.append(v)
                    elif op == 22:  # STORE_BOX      v --
                        locals_[arg].value = stack.pop()
                    elif op == 23:  # STORE_FREE_BOX v --
                        free[arg].value = stack.pop()
                    elif op == 24:  # MAKE_BOX
                        locals_[arg] = Box(UNBOUND)
                    elif op == 25:  # BOX_PARAM
                        locals_[arg] = Box(locals_[arg])
                    elif op == 26:  # STORE_GLOBAL   v -- nil
                        v = stack.pop()
                        if gvalues[arg] is UNBOUND:
                            name = self.globals.names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        gvalues[arg] = v
                        stack.append(None)
                    elif op == 27:  # DEFINE_GLOBAL  v --
                        gvalues[arg] = stack.pop()
                    elif op == 28:  # MAKE_CLOSURE   -- f
                        tmpl = consts[arg]
                        captured = tuple(
                            free[i] if from_free else locals_[i] for from_free, i in tmpl.sources
                        )
                        stack.append(Closure(tmpl.code, captured, tmpl.code.name))
                    elif op == 29:  # CTOR           a1..an -- v
                        ctor = consts[arg]
                        n = ctor.arity
                        args = stack[len(stack) - n :]
                        del stack[-n:]
                        stack.append(self._construct(ctor, args))
                    elif op == 30:  # PERFORM        a1..an -- r
                        opname, n = consts[arg]
                        if n:
                            args = stack[len(stack) - n :]
                            del stack[-n:]
                        else:
                            args = []
                        new = self._perform(opname, args, stack)
                        if new is not None:  # an effect clause runs in a new frame
                            frames.append((code_obj, pc, locals_, stack, free, restore))
                            code_obj, pc, locals_, stack, free, restore = new
                            code = code_obj.code
                            consts = code_obj.consts
                    elif op == 31:  # PUSH_HANDLER   f1..fn --
                        keys, end_pc = consts[arg]
                        n = len(keys)
                        fns = stack[len(stack) - n :]
                        del stack[-n:]
                        clauses: dict[str, Any] = {}
                        for key, f in zip(keys, fns, strict=True):
                            if not _is_function(f):
                                bad = FlError(
                                    "type-error",
                                    f"`handler` expects a function for `{key}`, got {written(f)}",
                                )
                                bad.resume_pc = end_pc  # type: ignore[attr-defined]
                                raise bad
                            clauses.setdefault(key, f)
                        self.handlers = HNode(self.handlers, clauses, None, len(frames), 0)
                    elif op == 32:  # POP_HANDLER
                        self.handlers = self.handlers.parent  # type: ignore[union-attr]
                    elif op == 33:  # SETUP_TRY
                        self.handlers = HNode(
                            self.handlers, None, consts[arg], len(frames), len(stack)
                        )
                    elif op == 34:  # POP_TRY
                        self.handlers = self.handlers.parent  # type: ignore[union-attr]
                    elif op == 35:  # RERAISE        e --
                        raise _Reraise(stack.pop())
                    elif op == 36:  # MATCH          v -- b
                        stack.append(match(consts[arg], stack.pop(), locals_))
                    elif op == 37:  # MATCH_FAIL
                        raise FlError(
                            "match-failure", f"no pattern matches {written(locals_[arg])}"
                        )
                    elif op == 38:  # ASCRIBE        v -- v
                        ty = consts[arg]
                        v = stack.pop()
                        if not has_type(ty, v):
                            raise FlError(
                                "type-error",
                                f"expected a value of type {type_text(ty)}, got {written(v)}",
                            )
                        stack.append(v)
                    elif op == 39:  # TOP_VALUE      v --
                        v = stack.pop()
                        self.last_value = v
                        if arg and v is not None:  # on a line of its own (§16)
                            if not world.at_line_start():
                                world.write("\n")
                            world.write(written(v) + "\n")
                    elif op == 40:  # GT
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(a > b if type(a) is int and type(b) is int else gt2(a, b))
                    elif op == 41:  # LE
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(a <= b if type(a) is int and type(b) is int else le2(a, b))
                    elif op == 42:  # GE
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(a >= b if type(a) is int and type(b) is int else ge2(a, b))
                    else:
                        raise AssertionError(f"unknown opcode {Op(op).name}")
            except FlError as exc:
                cur = self._recover(exc, (code_obj, pc, locals_, stack, free, restore))
            except _Reraise as rr:
                cur = self._unwind(rr.pending, (code_obj, pc, locals_, stack, free, restore))
            except KeyboardInterrupt:
                self.world.interrupt_taken = True
                here = (code_obj, pc, locals_, stack, free, restore)
                span, trace, _ = self._trace(here)
                cur = self._unwind(
                    Pending("interrupt", "interrupted", None, span, trace, True), here
                )
            except RecursionError:
                here = (code_obj, pc, locals_, stack, free, restore)
                overflow = FlError("stack-overflow", MSG_STACK_OVERFLOW)
                cur = self._unwind(self._new_pending(overflow, here), here)
            except MemoryError as exc:
                # out-of-memory ends the run at once, running no `finally` (docs/decisions.md);
                # first free what unwinding needs: the reserve, and the failed allocation's
                # partial data, which the traceback's frames keep alive
                self._release_reserve()
                exc.__traceback__ = None
                raise
            code_obj, pc, locals_, stack, free, restore = cur
            code = code_obj.code
            consts = code_obj.consts


class _Scratch(list[Any]):
    """A slot list that accepts any index (pattern tests before unwinding bind nothing real)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None
