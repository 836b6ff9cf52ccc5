"""Embedding FluentAI in Python: `fluentai.Runtime` (DESIGN.md §1.3; docs/embedding.md).

A Runtime is one session: a VM with the prelude loaded, one World (output, state store, PRNG) and
the globals that every `eval`, `load` and `call` share, as in the REPL, which is built on it.
Values cross the boundary converted (table below); FluentAI errors are raised as FluentAIError;
effect operations can be handled by Python functions.

| FluentAI | Python |
|---|---|
| Int, Float, String, Bool, nil | int (any size), float, str, bool, None |
| Symbol, keyword | fluentai.Symbol |
| List | list (tuples convert to Lists too) |
| Map | dict (a List used as a key becomes a tuple) |
| ADT value | Variant(name, fields) |
| error value | FluentAIError (not raised) |
| function | Function (callable from Python); a Python callable becomes a builtin |

    rt = Runtime(handlers={"time:now": lambda: 0.0})
    rt.eval("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))")
    rt.call("fib", 20)  -> 6765        rt.eval("(time:now)") -> 0.0
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

from fluentai import primitives
from fluentai.diagnostics import (
    CompileError,
    Diagnostic,
    TraceEntry,
    render_compile,
    render_runtime,
)
from fluentai.driver import RunOptions, Session
from fluentai.errors import FlError, ProgramExit, arity_message
from fluentai.frontend import PassTimes
from fluentai.pipeline import SessionScope
from fluentai.primitives import Prim, PrimKind
from fluentai.source import SourceDecodeError, SourceFile, Span
from fluentai.symbol import Symbol
from fluentai.vm.compile import UNBOUND
from fluentai.vm.machine import NO_RESTORE, VM, Frame, Interrupted, UncaughtError
from fluentai.vm.maps import FlMap
from fluentai.vm.patterns import field_has_type, type_text
from fluentai.vm.values import EMPTY, Adt, Builtin, Cons, ErrorValue, from_iter
from fluentai.vm.world import World

__all__ = [
    "TIERS",
    "FluentAIError",
    "FluentAIExit",
    "Function",
    "GlobalsView",
    "Runtime",
    "Symbol",
    "TraceFrame",
    "Variant",
]

TIERS: Final = ("auto", "vm")
"""`auto` runs on the VM: the tiered JIT and `native` compile a whole program as one unit, which
does not fit a session whose entries come one at a time (docs/jit.md, "Not done yet")."""

_HOST_FILE: Final = "<python>"  # the source of the tiny programs behind `call`
_HostHandler = Callable[..., Any]


class FluentAIError(Exception):
    """A FluentAI error: `kind`, `message`, `data`, where it happened and the FluentAI trace.

    Raised by `eval`, `load` and `call` for compile-time and unhandled runtime errors; error values
    (made by `Error` or caught by `try`) convert to one too, unraised. Raise one from a Python
    function or handler to raise a FluentAI error of that kind in the program."""

    def __init__(
        self,
        kind: str,
        message: str,
        data: Any = None,
        *,
        trace: Sequence[TraceFrame] = (),
        location: tuple[str, int, int] | None = None,
        report: str | None = None,
    ) -> None:
        self.kind = kind
        self.message = message
        self.data = data
        self.trace = tuple(trace)
        self.file: str | None = None
        self.line: int | None = None
        self.column: int | None = None
        if location is not None:
            self.file, self.line, self.column = location
        self.report = report if report is not None else self._report_line()
        super().__init__(self._report_line())

    def _report_line(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.file is not None else ""
        return f"{where}error[{self.kind}]: {self.message}"


@dataclass(frozen=True)
class TraceFrame:
    """One entry of a FluentAI trace, outermost first: the call executing in a function."""

    file: str
    line: int
    column: int
    function: str
    source: str  # the source line


class FluentAIExit(Exception):
    """The program called `(exit code)`."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exit {code}")
        self.code = code


@dataclass(frozen=True)
class Variant:
    """An ADT value: `Variant("Some", (1,))` is `(Some 1)`, `Variant("None")` is `None`."""

    name: str
    fields: tuple[Any, ...] = ()
    type_name: str = field(default="", compare=False)  # filled in for values from FluentAI


class Function:
    """A FluentAI function held by Python; calling it runs it in its Runtime."""

    __slots__ = ("_call", "value")

    def __init__(self, call: Callable[[Any, list[Any]], Any], value: Any) -> None:
        self._call = call
        self.value = value  # the VM's function value

    @property
    def name(self) -> str:
        """The name it prints with: `#<function NAME>`."""
        return str(self.value.name)

    def __call__(self, *args: Any) -> Any:
        return self._call(self.value, list(args))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Function) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)

    def __repr__(self) -> str:
        return f"<fluentai function {self.name}>"


class _PythonFunction:
    """The VM implementation of a builtin made from a Python callable."""

    __slots__ = ("fn", "convert")

    def __init__(self, fn: Callable[..., Any], convert: Converter) -> None:
        self.fn = fn
        self.convert = convert

    def __call__(self, *raw: Any) -> Any:
        return self.convert.call_python(self.fn, raw)


class Converter:
    """Converts values between the VM and Python for one Runtime (table in the module doc)."""

    def __init__(self, call: Callable[[Any, list[Any]], Any], scope: SessionScope) -> None:
        self._call = call  # applies a raw function to raw arguments, returning a raw value
        self._scope = scope
        self._builtins: dict[int, tuple[Callable[..., Any], Builtin]] = {}

    def to_python(self, v: Any) -> Any:
        """A VM value as a Python value."""
        t = type(v)
        if v is None or t in (int, float, str, bool, Symbol):
            return v
        if v is EMPTY or t is Cons:
            return [self.to_python(x) for x in v]
        if t is FlMap:
            return {_hashable(self.to_python(k)): self.to_python(x) for k, x in v.items()}
        if t is Adt:
            fields = tuple(self.to_python(x) for x in v.fields)
            return Variant(v.ctor.name, fields, v.ctor.type_name)
        if t is ErrorValue:
            return FluentAIError(v.kind, v.message, self.to_python(v.data))
        if t is Builtin and isinstance(v.prim.vm, _PythonFunction):
            return v.prim.vm.fn
        return Function(self._wrap_call, v)

    def from_python(self, x: Any) -> Any:
        """A Python value as a VM value; TypeError or ValueError if it has no FluentAI form."""
        if x is None or isinstance(x, bool | Symbol):
            return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return float(x)
        if isinstance(x, str):
            return str(x)
        if isinstance(x, list | tuple):
            return from_iter([self.from_python(item) for item in x])
        if isinstance(x, Mapping):
            return FlMap.from_pairs(
                (self.from_python(k), self.from_python(v)) for k, v in x.items()
            )
        if isinstance(x, Variant):
            return self._construct(x)
        if isinstance(x, FluentAIError):
            return ErrorValue(x.kind, x.message, self.from_python(x.data))
        if isinstance(x, Function):
            if x._call != self._wrap_call:
                raise ValueError(f"{x!r} belongs to another Runtime")
            return x.value
        if callable(x):
            return self._builtin(x)
        raise TypeError(f"cannot convert a Python {type(x).__name__} to a FluentAI value")

    def call_python(self, fn: Callable[..., Any], raw_args: Sequence[Any]) -> Any:
        """Call a Python function from the VM: arguments and result converted, a FluentAIError
        raised as the FluentAI error it describes."""
        try:
            result = fn(*(self.to_python(a) for a in raw_args))
        except FluentAIError as err:
            raise FlError(err.kind, err.message, self.from_python(err.data)) from None
        return self.from_python(result)

    def runtime_error(
        self,
        kind: str,
        message: str,
        data: Any,
        span: Span | None,
        trace: Sequence[TraceEntry],
        omitted: int,
    ) -> FluentAIError:
        """The FluentAIError of an unhandled runtime error; frames of `call`'s own little program
        are left out of its trace."""
        kept = [e for e in trace if e.span.file.name != _HOST_FILE or e is trace[-1]]
        if len(kept) > 1 and kept[-1].span.file.name == _HOST_FILE:
            kept = kept[:-1]
        frames = [_trace_frame(e) for e in kept]
        location = None
        if span is not None:
            line, col = span.file.line_col(span.start)
            location = (span.file.name, line, col)
        report = render_runtime(span, kind, message, kept, omitted)
        return FluentAIError(
            kind, message, self.to_python(data), trace=frames, location=location, report=report
        )

    def _wrap_call(self, fn: Any, args: list[Any]) -> Any:
        raw = [self.from_python(a) for a in args]
        return self.to_python(self._call(fn, raw))

    def _construct(self, v: Variant) -> Any:
        info = self._scope.current.get(v.name)
        if info is None:
            raise ValueError(f"unknown constructor `{v.name}`")
        if len(v.fields) != info.arity:
            raise ValueError(arity_message(v.name, info.arity, info.arity, len(v.fields)))
        if info.nullary_value is not None:
            return info.nullary_value
        fields = tuple(self.from_python(f) for f in v.fields)
        types: tuple[Any, ...] = info.fields  # Core types (the VM stores them untyped)
        for i, (ty, value) in enumerate(zip(types, fields, strict=True)):
            if not field_has_type(ty, value):
                raise TypeError(f"`{v.name}` expects {type_text(ty)} for field {i + 1}")
        return Adt(info, fields)

    def _builtin(self, fn: Callable[..., Any]) -> Builtin:
        """The builtin standing for a Python callable (the same one each time)."""
        cached = self._builtins.get(id(fn))
        if cached is not None and cached[0] is fn:
            return cached[1]
        name = getattr(fn, "__name__", "python-function")
        if not isinstance(name, str) or not name or name == "<lambda>":
            name = "python-function"
        prim = Prim(name, arity=(0, None), vm=_PythonFunction(fn, self), doc="a Python function")
        builtin = Builtin(prim)
        self._builtins[id(fn)] = (fn, builtin)
        return builtin


def _hashable(key: Any) -> Any:
    """A converted Map key usable in a dict: Lists become tuples, Maps tuples of pairs."""
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, dict):
        return tuple((k, _hashable(v)) for k, v in key.items())
    if isinstance(key, Variant):
        return Variant(key.name, tuple(_hashable(f) for f in key.fields), key.type_name)
    return key


def _trace_frame(entry: TraceEntry) -> TraceFrame:
    span = entry.span
    line, col = span.file.line_col(span.start)
    return TraceFrame(span.file.name, line, col, entry.name, span.file.line_text(line))


class _HostVM(VM):
    """The VM with effect handlers written in Python, consulted as the outermost handlers: a
    `handler` form in the program still takes precedence, and only when no program handler
    handles an operation does its Python handler run instead of the default behaviour."""

    def __init__(self, world: Any, max_depth: int, host: Mapping[str, _HostHandler]) -> None:
        super().__init__(world, max_depth)
        self.host = host

    def _perform(
        self,
        op: str,
        args: list[Any],
        stack: list[Any],
        outer: Any = NO_RESTORE,
        *,
        applied: bool = False,
    ) -> Frame | None:
        ns, _, name = op.partition(":")
        fn = self.host.get(op)
        call_args: list[Any] = args
        if fn is None and ns in self.host:
            fn, call_args = self.host[ns], [name, *args]
        if fn is None or op == "error:raise" or self._program_handles(op, ns):
            return super()._perform(op, args, stack, outer, applied=applied)
        prim = primitives.lookup(op)
        if prim is not None:
            lo, hi = prim.arity
            if len(args) < lo or (hi is not None and len(args) > hi):
                # reports the arity error
                return super()._perform(op, args, stack, outer, applied=applied)
        stack.append(fn(*call_args))
        return None

    def _program_handles(self, op: str, ns: str) -> bool:
        node = self.handlers
        while node is not None:
            if node.clauses is not None and (op in node.clauses or ns in node.clauses):
                return True
            node = node.parent
        return False


class Runtime:
    """One FluentAI session embedded in Python (`tier`: "auto" or "vm")."""

    def __init__(
        self,
        tier: str = "auto",
        *,
        handlers: Mapping[str, _HostHandler] | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        stdin: TextIO | None = None,
        args: Sequence[str] = (),
        seed: int | None = None,
        max_depth: int | None = None,
    ) -> None:
        if tier not in TIERS:
            if tier == "native":
                raise ValueError(
                    "tier 'native' compiles whole programs and is not available for embedding yet"
                )
            raise ValueError(f"unknown tier {tier!r} (tiers: {', '.join(TIERS)})")
        self.tier = tier
        self._host: dict[str, _HostHandler] = {}
        self.world = World(
            list(args),
            stdin if stdin is not None else sys.stdin,
            stdout if stdout is not None else sys.stdout,
            stderr if stderr is not None else sys.stderr,
            seed,
        )
        self.session = Session(
            self.world, max_depth, make_vm=lambda world, depth: _HostVM(world, depth, self._host)
        )
        self.scope = SessionScope()
        self.convert = Converter(self._call_function, self.scope)
        self._calls: dict[int, Any] = {}  # arity -> compiled `(%host-fn %host-arg0 ...)`
        self.run_entry(SourceFile(_HOST_FILE, ""))  # declares the predefined constructors
        for op, fn in (handlers or {}).items():
            self.handle(op, fn)

    # ------------------------------------------------------------ the public API

    def eval(self, source: str, *, name: str = "<eval>") -> Any:
        """Run `source` as one entry of the session; the value of its last form, converted."""
        value = self.run_entry(SourceFile(name, source.replace("\r\n", "\n")))
        return self.convert.to_python(value)

    def load(self, path: str) -> Any:
        """Run the program file at `path` in the session; the value of its last form."""
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            src = SourceFile.from_bytes(path, data)
        except SourceDecodeError as exc:
            location = (path, exc.line, exc.col)
            raise FluentAIError("syntax-error", exc.message, location=location) from None
        return self.convert.to_python(self.run_entry(src))

    def call(self, fn: str | Function, *args: Any) -> Any:
        """Call the global or builtin named `fn` (or a Function) with converted `args`."""
        target = self.lookup(fn) if isinstance(fn, str) else self.convert.from_python(fn)
        if isinstance(fn, str) and target is None:
            raise FluentAIError("unbound-variable", f"`{fn}` is not defined")
        raw_args = [self.convert.from_python(a) for a in args]
        return self.convert.to_python(self._call_function(target, raw_args))

    @property
    def globals(self) -> GlobalsView:
        """The globals the program defined, by name, as converted values (read-only)."""
        return GlobalsView(self)

    def define(self, name: str, value: Any) -> None:
        """Make `name` a global with the converted `value` (a Python callable is a function)."""
        raw = self.convert.from_python(value)
        globals_ = self.session.vm.globals
        globals_.values[globals_.slot(name)] = raw

    def handle(self, op: str, fn: _HostHandler) -> None:
        """Handle the effect operation `op` (`ns:op`, or a whole namespace `ns`) in Python.

        `fn` gets the converted arguments (a namespace handler gets the operation's name first,
        as a namespace clause of `handler` does) and its converted result is the operation's value.
        A `handler` form in the program takes precedence over it."""
        key = _canonical_op(op)
        self._host[key] = lambda *raw: self.convert.call_python(fn, raw)

    # ------------------------------------------------------------ for the REPL

    def run_entry(
        self, src: SourceFile, *, print_values: bool = False, times: PassTimes | None = None
    ) -> Any:
        """Compile and run one entry; its raw VM value. Errors raise FluentAIError, `(exit n)`
        FluentAIExit, Ctrl-C KeyboardInterrupt (after the program's finally clauses ran)."""
        options = RunOptions(tier=self.tier, print_values=print_values)
        with self._outcomes():
            try:
                code = self.session.compile(src, options, times, self.scope)
            except CompileError as err:
                raise _compile_error(err.diagnostics[0]) from None
            if times is None:
                return self._run(code)
            with times.stage("run"):
                return self._run(code)

    def lookup(self, name: str) -> Any:
        """The raw value of the global or builtin `name`, or None if there is none."""
        globals_ = self.session.vm.globals
        index = globals_.index.get(name)
        if index is not None and globals_.values[index] is not UNBOUND:
            return globals_.values[index]
        prim = primitives.lookup(name)
        if prim is None or prim.internal:
            return None
        return self.session.vm.builtin_values.get(prim.name)

    def global_names(self) -> list[str]:
        """The names of the globals defined so far, in order of first definition."""
        globals_ = self.session.vm.globals
        return [
            name
            for name, value in zip(globals_.names, globals_.values, strict=True)
            if value is not UNBOUND and not name.startswith("%")
        ]

    # ------------------------------------------------------------ running

    def _run(self, code: Any) -> Any:
        """Run top-level code; a nested run (from a Python callback) keeps the outer one's
        frames, handlers and depth."""
        vm = self.session.vm
        saved = (vm.frames, vm.handlers, vm.depth, vm.last_value)
        try:
            return self.session.run(code)
        finally:
            vm.frames, vm.handlers, vm.depth, vm.last_value = saved

    def _call_function(self, fn: Any, raw_args: list[Any]) -> Any:
        """Apply a raw function value to raw arguments through `(%host-fn %host-arg0 ...)`."""
        n = len(raw_args)
        names = ["%host-fn", *(f"%host-arg{i}" for i in range(n))]
        code = self._calls.get(n)
        if code is None:
            src = SourceFile(_HOST_FILE, f"({' '.join(names)})")
            code = self._calls[n] = self.session.compile(src, RunOptions(), None, self.scope)
        globals_ = self.session.vm.globals
        for name, value in zip(names, [fn, *raw_args], strict=True):
            globals_.values[globals_.index[name]] = value
        with self._outcomes():
            return self._run(code)

    @contextmanager
    def _outcomes(self) -> Iterator[None]:
        """Turn the VM's ways of ending into the API's exceptions; flush the output."""
        try:
            yield
        except UncaughtError as err:
            p = err.pending
            error = self.convert.runtime_error(
                p.kind, p.message, p.data, p.span, p.trace, p.omitted
            )
            raise error from None
        except ProgramExit as ex:
            raise FluentAIExit(ex.code) from None
        except Interrupted:
            raise KeyboardInterrupt from None
        finally:
            self.world.flush()


class GlobalsView(Mapping[str, Any]):
    """A read-only view of a Runtime's globals: name -> converted value."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def __getitem__(self, name: str) -> Any:
        globals_ = self._runtime.session.vm.globals
        index = globals_.index.get(name)
        if index is None or name.startswith("%") or globals_.values[index] is UNBOUND:
            raise KeyError(name)
        return self._runtime.convert.to_python(globals_.values[index])

    def __iter__(self) -> Iterator[str]:
        return iter(self._runtime.global_names())

    def __len__(self) -> int:
        return len(self._runtime.global_names())


def _canonical_op(op: str) -> str:
    """`print` -> `io:print`; `app:ask` and namespaces stay; `error:raise` is refused."""
    prim = primitives.lookup(op)
    if prim is not None and prim.kind is PrimKind.EFFECT:
        op = prim.name
    elif ":" in op and primitives.is_builtin_namespace(op.partition(":")[0]):
        raise ValueError(f"unknown effect operation `{op}`")
    elif prim is not None:
        raise ValueError(f"`{op}` is a builtin function, not an effect operation")
    if op in ("error", "error:raise"):
        raise ValueError("errors cannot be handled from Python: use `try`, or catch FluentAIError")
    return op


def _compile_error(diag: Diagnostic) -> FluentAIError:
    span: Span = diag.span
    line, col = span.file.line_col(span.start)
    return FluentAIError(
        diag.kind,
        diag.message,
        location=(span.file.name, line, col),
        report=render_compile(diag),
    )
