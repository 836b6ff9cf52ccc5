"""The front end as one function: source text -> top-level Code for the VM.

reader -> expand -> resolve_names -> vm/compile. Each stage's output can be dumped
(`--dump tokens,ast,core,bytecode`) to stderr while the program still runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from fluentai.diagnostics import DiagnosticSink
from fluentai.passes.format import format_resolved
from fluentai.passes.pipeline import PASSES
from fluentai.passes.resolve_names import resolve_names
from fluentai.reader.datum import Datum, DList, DSym
from fluentai.reader.read import read_program
from fluentai.source import SourceFile
from fluentai.syntax.core import Program
from fluentai.syntax.expand import expand_program
from fluentai.vm.code import Code
from fluentai.vm.compile import Globals, ProgramContext, compile_program
from fluentai.vm.values import CtorInfo

DUMP_STAGES = ("tokens", "ast", "core", "resolve_names", "fold_constants", "bytecode")


def compile_source(
    src: SourceFile,
    globals_: Globals,
    builtin_value: Callable[[str], Any],
    *,
    print_values: bool = False,
    is_prelude: bool = False,
    dump: frozenset[str] = frozenset(),
    dump_to: TextIO | None = None,
) -> Code:
    """Compile a whole program; raises CompileError (exit 65) on any compile-time error."""
    out = dump_to if dump_to is not None else sys.stderr
    if "tokens" in dump:
        from fluentai.reader.lexer import tokenize
        from fluentai.reader.write import format_tokens

        out.write(format_tokens(tokenize(src)) + "\n")
    datums = read_program(src)
    if "ast" in dump:
        from fluentai.reader.write import write_datum

        out.write("\n".join(write_datum(d) for d in datums) + "\n")
    sink = DiagnosticSink()
    program = expand_program(datums, sink)
    if sink.items:
        _add_resolve_errors(program, datums, sink, is_prelude)
    sink.check()
    if "core" in dump:
        from fluentai.syntax.format import format_core

        out.write(format_core(program) + "\n")
    resolved = resolve_names(program, sink, prelude=is_prelude)
    sink.check()
    if "resolve_names" in dump:
        out.write(format_resolved(resolved))
    for row in PASSES:
        resolved = row.run(resolved)
        if row.name in dump:
            out.write(format_resolved(resolved))
    ctors = {d.name: CtorInfo(d.name, d.type_name, d.fields) for d in resolved.ctors}
    ctx = ProgramContext(globals_, ctors, builtin_value, is_prelude)
    code = compile_program(ctx, resolved, None, print_values)
    if "bytecode" in dump:
        from fluentai.vm.disasm import disassemble

        out.write(disassemble(code, globals_.names) + "\n")
    return code


def _add_resolve_errors(
    program: Program, datums: tuple[Datum, ...], sink: DiagnosticSink, is_prelude: bool
) -> None:
    """After syntax errors, also report the resolver's errors, so that the first compile-time
    error in source order is the one reported (LANGUAGE.md §2.4). Names defined by top-level
    forms that failed to expand are not reported as unbound."""
    defined = set()
    for d in datums:
        if isinstance(d, DList) and len(d.items) >= 2 and isinstance(d.items[0], DSym):
            if d.items[0].name in ("define", "defun", "def"):
                target = d.items[1]
                if isinstance(target, DList) and target.items:
                    target = target.items[0]
                if isinstance(target, DSym):
                    defined.add(target.name)
    extra = DiagnosticSink()
    resolve_names(program, extra, prelude=is_prelude)
    for diag in extra.items:
        if diag.kind == "unbound-variable" and any(f"`{n}`" in diag.message for n in defined):
            continue
        sink.items.append(diag)


def prelude_source() -> SourceFile:
    path = Path(__file__).with_name("prelude.fl")
    return SourceFile("<prelude>", path.read_text(encoding="utf-8"))
