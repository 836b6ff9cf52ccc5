"""The bytecode VM: tier 0 and the reference semantics (DESIGN.md §1.2, §5).

Frames are heap objects on an explicit list, so FluentAI calls never recurse in Python: tail calls
replace the frame, non-tail recursion is bounded only by `max_depth` (then `stack-overflow`).
Handlers and `try` frames form one dynamic stack (a linked list of HNodes, innermost first).
Errors are Python FlError exceptions caught around the dispatch loop; the search for a handler
happens before anything unwinds, so an `error:raise` clause can resume at the failing
instruction, and `finally` blocks run while unwinding to a `try` or to the top level.
"""

from __future__ import annotations

from typing import Any, Final

from fluentai.diagnostics import TraceEntry
from fluentai.errors import MSG_STACK_OVERFLOW, FlError, arity_message
from fluentai.primitives import Prim, PrimKind
from fluentai.source import Span
from fluentai.vm.code import Code, TryInfo
from fluentai.vm.compile import UNBOUND, Globals
from fluentai.vm.opcodes import Op
from fluentai.vm.patterns import field_has_type, has_type, match, type_text
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

NO_RESTORE: Final[Any] = object()
DEFAULT_MAX_DEPTH: Final = 200_000


class Frame:
    """One activation: code, pc, slots, operand stack, captured values."""

    __slots__ = ("code", "pc", "locals", "stack", "free", "restore")

    def __init__(self, code: Code, locals_: list[Any], free: tuple[Any, ...], restore: Any) -> None:
        self.code = code
        self.pc = 0
        self.locals = locals_
        self.stack: list[Any] = []
        self.free = free
        self.restore = restore  # handler stack to reinstate on return (effect clauses)


class HNode:
    """A handler frame (clauses) or a try frame (info), with where the try lives."""

    __slots__ = ("parent", "clauses", "info", "frame", "sp")

    def __init__(
        self,
        parent: HNode | None,
        clauses: dict[str, Any] | None,
        info: TryInfo | None,
        frame: Frame | None,
        sp: int,
    ) -> None:
        self.parent = parent
        self.clauses = clauses
        self.info = info
        self.frame = frame
        self.sp = sp


class Pending:
    """An error (or interrupt) on its way out: what the report and `catch` will see."""

    __slots__ = ("kind", "message", "data", "span", "trace", "interrupt", "value")

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
    """An explicit `error:raise` perform (resumes at the user's call when inside the prelude)."""

    def __init__(self, kind: str, message: str, data: object, value: ErrorValue | None) -> None:
        super().__init__(kind, message, data)
        self.value = value


def _prim_vm(name: str) -> Any:
    from fluentai import primitives

    prim = primitives.lookup(name)
    assert prim is not None and prim.vm is not None
    return prim.vm


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
        self.last_value: Any = None
        self.builtin_values: dict[str, Any] = {}
        self.apply_prim: Prim | None = None
        self.profiler: Profiler | None = None

    # ------------------------------------------------------------ entry

    def run(self, code: Code) -> Any:
        """Run a top-level Code to completion; return the value of its last form."""
        self._bind_fallbacks()
        frame = Frame(code, [None] * code.nslots, (), NO_RESTORE)
        self.frames = []
        self.handlers = None
        self.depth = 0
        self._execute(frame)
        return self.last_value

    def _bind_fallbacks(self) -> None:
        g = self.globals
        for i, fallback in enumerate(g.fallback):
            if fallback is not None and g.values[i] is UNBOUND:
                g.values[i] = self.builtin_values[fallback]

    # ------------------------------------------------------------ calls

    def _closure_frame(self, fn: Closure, args: list[Any], restore: Any) -> Frame:
        code = fn.code
        n = code.nparams
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
        args.extend(code.blank)
        return Frame(code, args, fn.free, restore)

    def _call_value(self, fn: Any, args: list[Any], caller: Frame, restore: Any) -> Frame | None:
        """Call any function value; either return a new frame or push the result on `caller`."""
        t = type(fn)
        if t is Closure:
            return self._closure_frame(fn, args, restore)
        if t is Builtin:
            prim: Prim = fn.prim
            lo, hi = prim.arity
            n = len(args)
            if n < lo or (hi is not None and n > hi) or (prim.arity_ok and not prim.arity_ok(n)):
                raise FlError("arity-error", arity_message(prim.name, lo, hi, n))
            if prim.kind is PrimKind.INTRINSIC:  # apply
                f2, args2 = self._unpack_apply(args)
                return self._call_value(f2, args2, caller, restore)
            if prim.kind is PrimKind.EFFECT:
                return self._perform(prim.name, args, caller)
            assert prim.vm is not None
            result = prim.vm(self.world, *args) if prim.needs_world else prim.vm(*args)
            caller.stack.append(result)
            return None
        if t is Constructor:
            caller.stack.append(self._construct(fn.ctor, args))
            return None
        if t is EffectFn:
            return self._perform(fn.op, args, caller)
        raise FlError("type-error", f"expected a function, got {written(fn)}")

    def _unpack_apply(self, args: list[Any]) -> tuple[Any, list[Any]]:
        last = args[-1]
        if last is not EMPTY and type(last) is not Cons:
            raise FlError(
                "type-error", f"`apply` expects a List as its last argument, got {written(last)}"
            )
        return args[0], [*args[1:-1], *to_pylist(last)]

    def _construct(self, ctor: Any, args: list[Any]) -> Adt:
        if len(args) != ctor.arity:
            raise FlError(
                "arity-error", arity_message(ctor.name, ctor.arity, ctor.arity, len(args))
            )
        for i, (ty, v) in enumerate(zip(ctor.fields, args, strict=True)):
            if not field_has_type(ty, v):
                raise FlError(
                    "type-error",
                    f"`{ctor.name}` expects {type_text(ty)} for field {i + 1}, got {written(v)}",
                )
        return Adt(ctor, tuple(args))

    def _perform(self, op: str, args: list[Any], caller: Frame) -> Frame | None:
        if op == "error:raise":
            from fluentai.vm.builtins_misc import normalize_raise

            norm = normalize_raise(tuple(args))
            if isinstance(norm, ErrorValue):
                raise _RaisedByPerform(norm.kind, norm.message, norm.data, norm)
            raise _RaisedByPerform(norm[0], norm[1], norm[2], None)
        ns = op.split(":", 1)[0]
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
                    args = [op.split(":", 1)[1], *args]
                    break
            node = node.parent
        if node is not None:
            restore = self.handlers
            self.handlers = node.parent
            frame = self._call_value(fn, args, caller, restore)
            if frame is None:
                self.handlers = restore
            return frame
        from fluentai import primitives

        prim = primitives.lookup(op)
        if prim is None:
            raise FlError("unhandled-effect", f"no handler for `{op}`")
        if prim.prelude_default is not None:
            default = self.globals.values[self.globals.index["%prelude:" + prim.prelude_default]]
            return self._closure_frame(default, args, NO_RESTORE)
        assert prim.vm is not None
        caller.stack.append(prim.vm(self.world, *args))
        return None

    # ------------------------------------------------------------ errors

    @staticmethod
    def _span_at(frame: Frame) -> Span | None:
        return frame.code.spans[(frame.pc - 2) // 2] if frame.pc >= 2 else frame.code.span

    def _trace(self, frame: Frame) -> tuple[Span | None, list[TraceEntry]]:
        """The error location and trace: prelude frames are opaque (LANGUAGE.md §13.4)."""
        entries: list[TraceEntry] = []
        for f in (*self.frames, frame):
            if f.code.is_prelude:
                continue
            span = self._span_at(f)
            if span is not None:
                entries.append(TraceEntry(span, f.code.name))
        return (entries[-1].span if entries else None), entries

    def _new_pending(self, exc: FlError, frame: Frame) -> Pending:
        span, trace = self._trace(frame)
        value = exc.value if isinstance(exc, _RaisedByPerform) else None
        return Pending(exc.kind, exc.message, exc.data, span, trace, value=value)

    def _handle(self, exc: FlError, frame: Frame) -> Frame:
        """A fresh error at `frame`: resume in an error:raise clause, or unwind."""
        pending = self._new_pending(exc, frame)
        node = self.handlers
        if pending.kind != "stack-overflow":
            while node is not None:
                clauses = node.clauses
                if clauses is not None:
                    fn = clauses.get("error:raise")
                    args: list[Any] = [pending.kind, pending.message, pending.data]
                    if fn is None and "error" in clauses:
                        fn = clauses["error"]
                        args = ["raise", *args]
                    if fn is not None:
                        return self._resume(exc, frame, node, fn, args)
                elif node.info is not None and self._catch_index(node.info, pending) is not None:
                    break
                node = node.parent
        return self._unwind(pending, frame)

    def _resume(self, exc: FlError, frame: Frame, node: HNode, fn: Any, args: list[Any]) -> Frame:
        if isinstance(exc, _RaisedByPerform):
            # a raise written in the prelude resumes at the user's call of the builtin
            while frame.code.is_prelude and self.frames:
                frame = self.frames.pop()
        restore = self.handlers
        self.handlers = node.parent
        new = self._call_value(fn, args, frame, restore)
        if new is None:
            self.handlers = restore
            return frame
        self.frames.append(frame)
        return new

    @staticmethod
    def _catch_index(info: TryInfo, pending: Pending) -> int | None:
        if pending.interrupt:
            return None
        scratch = _Scratch()
        for i, pat in enumerate(info.patterns):
            if match(pat, pending.value, scratch):
                return i
        return None

    def _unwind(self, pending: Pending, frame: Frame) -> Frame:
        """Unwind to the nearest catching try, running finally blocks on the way."""
        node = self.handlers
        while node is not None:
            info = node.info
            if info is not None:
                index = self._catch_index(info, pending)
                if index is not None or info.finally_pc is not None:
                    frame = self._unwind_to(node, frame)
                    self.handlers = node.parent
                    if index is not None:
                        match(info.patterns[index], pending.value, frame.locals)
                        frame.pc = info.clause_pcs[index]
                    else:
                        frame.stack.append(pending)
                        frame.pc = info.finally_pc  # type: ignore[assignment]
                    return frame
            node = node.parent
        self.handlers = None
        if pending.interrupt:
            raise Interrupted()
        raise UncaughtError(pending)

    def _unwind_to(self, node: HNode, frame: Frame) -> Frame:
        while frame is not node.frame:
            if not frame.code.is_prelude:
                self.depth -= 1
            frame = self.frames.pop()
        del frame.stack[node.sp :]
        return frame

    # ------------------------------------------------------------ the loop

    def _execute(self, frame: Frame) -> None:  # noqa: C901 - the dispatch loop
        frames = self.frames
        gvalues = self.globals.values
        world = self.world
        code_obj = frame.code
        code = code_obj.code
        consts = code_obj.consts
        locals_ = frame.locals
        stack = frame.stack
        free = frame.free
        pc = frame.pc
        profiler = self.profiler
        add2, sub2, lt2, eq2, gt2, le2, ge2 = (
            _prim_vm(name) for name in ("+", "-", "<", "=", ">", "<=", ">=")
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
                    elif op == 2:  # JUMP_IF_FALSE   c --
                        v = stack.pop()
                        if v is False or v is None:
                            pc = arg
                    elif op == 3:  # ADD             a b -- a+b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a + b)
                        else:
                            stack.append(add2(a, b))
                    elif op == 4:  # SUB             a b -- a-b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a - b)
                        else:
                            stack.append(sub2(a, b))
                    elif op == 5:  # LT              a b -- a<b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a < b)
                        else:
                            stack.append(lt2(a, b))
                    elif op == 6:  # NUM_EQ          a b -- a=b
                        b = stack.pop()
                        a = stack.pop()
                        if type(a) is int and type(b) is int:
                            stack.append(a == b)
                        else:
                            stack.append(eq2(a, b))
                    elif op == 7 or op == 8:  # CALL / TAIL_CALL   f a1..an -- r
                        fn = stack[-arg - 1]
                        args = stack[len(stack) - arg :]
                        del stack[-arg - 1 :]
                        if op == 8:
                            while type(fn) is Builtin and fn.prim is self.apply_prim:
                                fn, args = self._unpack_apply(args)
                        if type(fn) is Closure:
                            fcode = fn.code
                            if profiler is not None and not fcode.calls & 7:
                                # sampled: every 8th call records kinds and charges time
                                profiler.record_call(code_obj, pc, fcode, args)
                            if op == 8 and fcode is code_obj:
                                fcode.backedges += 1
                            if op == 8:  # replace the frame
                                counted = not code_obj.is_prelude
                                if counted:
                                    self.depth -= 1
                                try:
                                    new = self._closure_frame(fn, args, frame.restore)
                                except FlError:
                                    if counted:
                                        self.depth += 1
                                    raise
                            else:
                                frame.pc = pc
                                new = self._closure_frame(fn, args, NO_RESTORE)
                                frames.append(frame)
                            frame = new
                            code_obj = fcode
                            code = fcode.code
                            consts = fcode.consts
                            locals_ = frame.locals
                            stack = frame.stack
                            free = frame.free
                            pc = 0
                        else:
                            frame.pc = pc
                            new2 = self._call_value(fn, args, frame, NO_RESTORE)
                            if new2 is not None:
                                frames.append(frame)
                                frame = new2
                                code_obj = frame.code
                                code = code_obj.code
                                consts = code_obj.consts
                                locals_ = frame.locals
                                stack = frame.stack
                                free = frame.free
                                pc = 0
                    elif op == 9:  # RETURN          v --
                        v = stack.pop()
                        if frame.restore is not NO_RESTORE:
                            self.handlers = frame.restore
                        if not frames:
                            return
                        if not code_obj.is_prelude:
                            self.depth -= 1
                        frame = frames.pop()
                        code_obj = frame.code
                        code = code_obj.code
                        consts = code_obj.consts
                        locals_ = frame.locals
                        stack = frame.stack
                        free = frame.free
                        pc = frame.pc
                        stack.append(v)
                    elif op == 10:  # LOAD_GLOBAL    -- v
                        v = gvalues[arg]
                        if v is UNBOUND:
                            name = self.globals.names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        stack.append(v)
                    elif op == 11:  # PRIM           a1..an -- r
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
                    elif op == 12:  # STORE_LOCAL    v --
                        locals_[arg] = stack.pop()
                    elif op == 13:  # LOAD_FREE      -- v
                        stack.append(free[arg])
                    elif op == 14:  # JUMP
                        if arg < pc:
                            code_obj.backedges += 1
                            if profiler is not None and not code_obj.backedges & 7:
                                profiler.tick(code_obj)
                        pc = arg
                    elif op == 15:  # POP            v --
                        stack.pop()
                    elif op == 16:  # LOAD_BOX       -- v
                        v = locals_[arg].value
                        if v is UNBOUND:
                            name = code_obj.slot_names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        stack.append(v)
                    elif op == 17:  # LOAD_FREE_BOX  -- v
                        v = free[arg].value
                        if v is UNBOUND:
                            raise FlError("unbound-variable", "variable used before it is defined")
                        stack.append(v)
                    elif op == 18:  # STORE_BOX      v --
                        locals_[arg].value = stack.pop()
                    elif op == 19:  # STORE_FREE_BOX v --
                        free[arg].value = stack.pop()
                    elif op == 20:  # MAKE_BOX
                        locals_[arg] = Box(UNBOUND)
                    elif op == 21:  # BOX_PARAM
                        locals_[arg] = Box(locals_[arg])
                    elif op == 22:  # STORE_GLOBAL   v --
                        if gvalues[arg] is UNBOUND:
                            name = self.globals.names[arg]
                            raise FlError("unbound-variable", f"`{name}` is not defined")
                        gvalues[arg] = stack.pop()
                    elif op == 23:  # DEFINE_GLOBAL  v --
                        gvalues[arg] = stack.pop()
                    elif op == 24:  # MAKE_CLOSURE   -- f
                        tmpl = consts[arg]
                        captured = tuple(
                            free[i] if from_free else locals_[i] for from_free, i in tmpl.sources
                        )
                        stack.append(Closure(tmpl.code, captured, tmpl.code.name))
                    elif op == 25:  # CTOR           a1..an -- v
                        ctor = consts[arg]
                        n = ctor.arity
                        args = stack[len(stack) - n :]
                        del stack[-n:]
                        stack.append(self._construct(ctor, args))
                    elif op == 26:  # PERFORM        a1..an -- r
                        opname, n = consts[arg]
                        if n:
                            args = stack[len(stack) - n :]
                            del stack[-n:]
                        else:
                            args = []
                        frame.pc = pc
                        new3 = self._perform(opname, args, frame)
                        if new3 is not None:
                            frames.append(frame)
                            frame = new3
                            code_obj = frame.code
                            code = code_obj.code
                            consts = code_obj.consts
                            locals_ = frame.locals
                            stack = frame.stack
                            free = frame.free
                            pc = 0
                    elif op == 27:  # PUSH_HANDLER   f1..fn --
                        keys = consts[arg]
                        n = len(keys)
                        fns = stack[len(stack) - n :]
                        del stack[-n:]
                        clauses: dict[str, Any] = {}
                        for key, f in zip(keys, fns, strict=True):
                            if not _is_function(f):
                                raise FlError(
                                    "type-error",
                                    f"`handler` expects a function for `{key}`, got {written(f)}",
                                )
                            clauses.setdefault(key, f)
                        self.handlers = HNode(self.handlers, clauses, None, None, 0)
                    elif op == 28:  # POP_HANDLER
                        self.handlers = self.handlers.parent  # type: ignore[union-attr]
                    elif op == 29:  # SETUP_TRY
                        self.handlers = HNode(self.handlers, None, consts[arg], frame, len(stack))
                    elif op == 30:  # POP_TRY
                        self.handlers = self.handlers.parent  # type: ignore[union-attr]
                    elif op == 31:  # RERAISE        e --
                        raise _Reraise(stack.pop())
                    elif op == 32:  # MATCH          v -- b
                        stack.append(match(consts[arg], stack.pop(), locals_))
                    elif op == 33:  # MATCH_FAIL
                        raise FlError(
                            "match-failure", f"no pattern matches {written(locals_[arg])}"
                        )
                    elif op == 34:  # ASCRIBE        v -- v
                        ty = consts[arg]
                        v = stack.pop()
                        if not has_type(ty, v):
                            raise FlError(
                                "type-error",
                                f"expected a value of type {type_text(ty)}, got {written(v)}",
                            )
                        stack.append(v)
                    elif op == 35:  # TOP_VALUE      v --
                        v = stack.pop()
                        self.last_value = v
                        if arg and v is not None:
                            world.write(written(v) + "\n")
                    elif op == 36:  # GT
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(a > b if type(a) is int and type(b) is int else gt2(a, b))
                    elif op == 37:  # LE
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(a <= b if type(a) is int and type(b) is int else le2(a, b))
                    elif op == 38:  # GE
                        b = stack.pop()
                        a = stack.pop()
                        stack.append(a >= b if type(a) is int and type(b) is int else ge2(a, b))
                    elif op == 39:  # DUP
                        stack.append(stack[-1])
                    elif op == 40:  # UNSET_LOCAL
                        locals_[arg] = UNBOUND
                    else:
                        raise AssertionError(f"unknown opcode {Op(op).name}")
            except FlError as exc:
                frame.pc = pc
                frame = self._handle(exc, frame)
            except _Reraise as rr:
                frame.pc = pc
                frame = self._unwind(rr.pending, frame)
            except KeyboardInterrupt:
                frame.pc = pc
                span, trace = self._trace(frame)
                frame = self._unwind(
                    Pending("interrupt", "interrupted", None, span, trace, True), frame
                )
            except RecursionError:
                frame.pc = pc
                exc2 = FlError("stack-overflow", MSG_STACK_OVERFLOW)
                frame = self._unwind(self._new_pending(exc2, frame), frame)
            code_obj = frame.code
            code = code_obj.code
            consts = code_obj.consts
            locals_ = frame.locals
            stack = frame.stack
            free = frame.free
            pc = frame.pc


class _Scratch(list[Any]):
    """A slot list that accepts any index (pattern tests before unwinding bind nothing real)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None
