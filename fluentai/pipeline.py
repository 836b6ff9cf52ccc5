"""The front end as one function: source text -> top-level Code for the VM.

reader -> expand -> resolve_names -> vm/compile. Each stage's output can be dumped
(`--dump tokens,ast,core,types,bytecode`) to stderr while the program still runs, and each stage can be
timed (`--time-passes`, PassTimes). A SessionScope compiles one REPL or embedding entry against
what earlier entries of the same session defined.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from fluentai.diagnostics import Diagnostic, DiagnosticSink
from fluentai.frontend import PassTimes, resolve_source, stage
from fluentai.passes.rcore import CtorDef, RProgram
from fluentai.passes.resolve_names import PRELUDE_PREFIX, resolve_names
from fluentai.records import field, record, replace
from fluentai.source import SourceFile, Span
from fluentai.syntax.core import Data, Define, Expr, Lit, Program
from fluentai.vm.code import Code
from fluentai.vm.compile import Globals, ProgramContext, compile_program
from fluentai.vm.values import CtorInfo


def compile_source(
    src: SourceFile,
    globals_: Globals,
    builtin_value: Callable[[str], Any],
    *,
    print_values: bool = False,
    is_prelude: bool = False,
    dump: frozenset[str] = frozenset(),
    dump_to: TextIO | None = None,
    times: PassTimes | None = None,
    scope: SessionScope | None = None,
) -> Code:
    """Compile a whole program; raises CompileError (exit 65) on any compile-time error.

    With `times`, each stage's duration is recorded; with `scope`, the program is one entry of a
    session (REPL, embedding) that sees, and adds to, the definitions of earlier entries."""
    out = dump_to if dump_to is not None else sys.stderr
    resolve = None
    if scope is not None:

        def resolve(program: Program, sink: DiagnosticSink) -> RProgram:
            return scope.resolve(program, globals_, sink)

    resolved = resolve_source(
        src, is_prelude=is_prelude, dump=dump, out=out, times=times, resolve=resolve
    )
    with stage(times, "bytecode"):
        if scope is None:
            ctors = {d.name: CtorInfo(d.name, d.type_name, d.fields) for d in resolved.ctors}
        else:
            ctors = scope.constructors(resolved.ctors)
        code = _bytecode(resolved, ctors, globals_, builtin_value, is_prelude, print_values, scope)
    if "bytecode" in dump:
        from fluentai.vm.disasm import disassemble

        out.write(disassemble(code, globals_.names) + "\n")
    return code


def compile_prelude(globals_: Globals, builtin_value: Callable[[str], Any]) -> Code:
    """The prelude's top-level Code: `compile_source` of its source, but the stages up to the
    bytecode come from the code cache when they can (fluentai/prelude_cache.py)."""
    from fluentai import prelude_cache

    resolved = prelude_cache.load()
    ctors = {d.name: CtorInfo(d.name, d.type_name, d.fields) for d in resolved.ctors}
    return _bytecode(resolved, ctors, globals_, builtin_value, True, False)


def _bytecode(
    resolved: RProgram,
    ctors: dict[str, CtorInfo],
    globals_: Globals,
    builtin_value: Callable[[str], Any],
    is_prelude: bool,
    print_values: bool,
    scope: SessionScope | None = None,
) -> Code:
    ctx = ProgramContext(globals_, ctors, builtin_value, is_prelude)
    code = compile_program(ctx, resolved, None, print_values)
    if scope is not None:
        scope.bind(ctors, globals_, ctx)
    return code


_DECLARED = SourceFile("<session>", "")


@record(frozen=False, slots=False)
class SessionScope:
    """What the earlier entries of one session (REPL, embedding API) declared.

    Each entry is compiled as a program of its own, so the resolver is shown declarations of the
    globals and `data` types that exist already; these declarations are dropped again after
    resolution and never run. LANGUAGE.md §16: in the REPL a name that is not defined yet is
    reported when it is evaluated, so an entry's unbound names become globals that raise
    `unbound-variable` when read. Constructors keep their identity across entries, so a value
    made in one entry matches patterns written in the next.
        entry 1: (define (sq x) (* x x))
        entry 2: (sq 4)      -> 16 (`sq` is declared from entry 1)
        entry 3: (later 1)   -> compiles, then raises `unbound-variable` when it runs
    """

    data: dict[str, Data] = field(default_factory=dict)  # type name -> its latest declaration
    ctor_infos: dict[CtorDef, CtorInfo] = field(default_factory=dict)
    current: dict[str, CtorInfo] = field(default_factory=dict)  # by name, as of the last entry
    # references to builtins are late bound (the REPL): a later entry may define the name, and
    # functions of earlier entries then call the definition (LANGUAGE.md §2.2)
    late_builtins: bool = False
    declared: tuple[str, ...] = ()  # the constructors the last entry's `data` forms declared

    def resolve(self, program: Program, globals_: Globals, sink: DiagnosticSink) -> RProgram:
        """Resolve an entry with the session's declarations in scope; remember its `data`."""
        # a constructor of a `data` in scope is not the global an earlier entry made of its
        # name while it was not defined yet (that global gets the constructor: `bind`)
        ctor_names = {k.name for d in self.data.values() for k in d.ctors}
        ctor_names |= {k.name for f in program.forms if isinstance(f, Data) for k in f.ctors}
        names = [
            n for n in globals_.names if not n.startswith(PRELUDE_PREFIX) and n not in ctor_names
        ]
        first = DiagnosticSink()
        resolved = self._resolve_with(program, names, first)
        unbound = [n for n in map(_unbound_name, first.items) if n is not None]
        if unbound:
            resolved = self._resolve_with(program, [*names, *unbound], sink)
        else:
            sink.items.extend(first.items)
        self.declared = ()
        if not sink.items:
            for form in program.forms:
                if isinstance(form, Data):
                    self._declare_data(form)
                    self.declared += tuple(k.name for k in form.ctors)
        return resolved

    def bind(self, ctors: dict[str, CtorInfo], globals_: Globals, ctx: ProgramContext) -> None:
        """The constructors the entry declares, in the globals of their names: an earlier entry
        that used a name before its `data` was entered refers to that global."""
        for name in self.declared:
            index = globals_.index.get(name)
            info = ctors.get(name)
            if index is not None and info is not None:
                value = info.nullary_value if info.arity == 0 else ctx.constructor(info)
                globals_.values[index] = value

    def constructors(self, defs: tuple[CtorDef, ...]) -> dict[str, CtorInfo]:
        """The VM's CtorInfo per constructor, the same object for an unchanged declaration."""
        infos: dict[str, CtorInfo] = {}
        for d in defs:
            info = self.ctor_infos.get(d)
            if info is None:
                info = self.ctor_infos[d] = CtorInfo(d.name, d.type_name, d.fields)
            infos[d.name] = info
        self.current = infos
        return infos

    def _resolve_with(self, program: Program, names: list[str], sink: DiagnosticSink) -> RProgram:
        span = Span(_DECLARED, 0, 0)
        declared_ctors = {k.name for f in program.forms if isinstance(f, Data) for k in f.ctors}
        declared_types = {f.name for f in program.forms if isinstance(f, Data)}
        prefix: list[Expr] = [
            d
            for d in self.data.values()
            if d.name not in declared_types and not {k.name for k in d.ctors} & declared_ctors
        ]
        prefix += [Define(name, Lit(None, span=span), span=span) for name in names]
        shifted = frozenset(i + len(prefix) for i in program.quiet)
        resolved = resolve_names(
            Program((*prefix, *program.forms), shifted), sink, late_builtins=self.late_builtins
        )
        return replace(resolved, forms=resolved.forms[len(prefix) :])

    def _declare_data(self, form: Data) -> None:
        ctors = {k.name for k in form.ctors}
        for name, old in list(self.data.items()):
            if name == form.name or {k.name for k in old.ctors} & ctors:
                del self.data[name]
        self.data[form.name] = form


def _unbound_name(diag: Diagnostic) -> str | None:
    """The name an `unbound-variable` diagnostic is about, when it can become a late-bound global
    (a plain symbol: not an operation of a built-in namespace, a pattern or a type)."""
    if diag.kind != "unbound-variable":
        return None
    text = diag.span.file.text[diag.span.start : diag.span.end]
    if text.startswith("(set!"):  # `set!` of a global no entry has defined yet
        named = re.fullmatch(r"`([^`]+)` is not defined", diag.message)
        text = named.group(1) if named else ""
    if not text or ":" in text or any(ch in text for ch in " \t\n()[]{}\"';,"):
        return None
    return text
