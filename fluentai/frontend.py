"""The front end without the VM: source text -> resolved Core (reader, expander, name
resolution, the passes), for the native back end, the image compiler process and the prelude's
cache, which must not import the bytecode compiler (fluentai/pipeline.py adds it for the VM).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from fluentai.diagnostics import Diagnostic, DiagnosticSink
from fluentai.passes.pipeline import PASSES
from fluentai.passes.rcore import RProgram
from fluentai.passes.resolve_names import resolve_names
from fluentai.reader.datum import Datum, DList, DSym
from fluentai.reader.read import read_forms
from fluentai.source import SourceFile
from fluentai.syntax.core import Program
from fluentai.syntax.expand import expand_program


class PassTimes:
    """Wall-clock seconds per pipeline stage, in the order the stages ran (`--time-passes`).

    Later stages (type inference, LLVM, the JIT's background compiles) record into the same
    table, so one report covers every stage that ran."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.rows.append((name, time.perf_counter() - start))

    def report(self) -> str:
        """`pass timings (ms):` then one line per stage and the total, for standard error."""
        width = max([len(name) for name, _ in self.rows] + [len("total")])
        lines = ["pass timings (ms):"]
        lines += [f"  {name:<{width}}  {seconds * 1000:10.3f}" for name, seconds in self.rows]
        total = sum(seconds for _, seconds in self.rows)
        lines.append(f"  {'total':<{width}}  {total * 1000:10.3f}")
        return "\n".join(lines)


@contextmanager
def stage(times: PassTimes | None, name: str) -> Iterator[None]:
    """`times.stage(name)`, or nothing without `times`."""
    if times is None:
        yield
    else:
        with times.stage(name):
            yield


def resolve_source(
    src: SourceFile,
    *,
    is_prelude: bool,
    dump: frozenset[str] = frozenset(),
    out: TextIO | None = None,
    times: PassTimes | None = None,
    resolve: Callable[[Program, DiagnosticSink], RProgram] | None = None,
) -> RProgram:
    """The front end and the passes: resolved Core for both back ends (raises CompileError).
    The stages named in `dump` (tokens, ast, core, resolve_names, each pass's name, types) are
    written to `out` (standard error) as they are made, each stage is timed in `times`;
    `resolve`: the name resolution of a session's entry (pipeline.SessionScope), which reports
    every error itself."""
    out = out if out is not None else sys.stderr
    if "tokens" in dump:
        from fluentai.reader.lexer import tokenize
        from fluentai.reader.write import format_tokens

        out.write(format_tokens(tokenize(src)) + "\n")
    sink = DiagnosticSink()
    with stage(times, "read"):
        datums = read_forms(src, sink)
    read_failed = bool(sink.items)
    if "ast" in dump and not read_failed:
        from fluentai.reader.write import write_datum

        out.write("\n".join(write_datum(d) for d in datums) + "\n")
    with stage(times, "expand"):
        program = expand_program(datums, sink)
    if sink.items and resolve is None:
        add_resolve_errors(program, datums, sink, is_prelude, read_failed)
    sink.check()
    if "core" in dump:
        from fluentai.syntax.format import format_core

        out.write(format_core(program) + "\n")
    with stage(times, "resolve_names"):
        if resolve is None:
            resolved = resolve_names(program, sink, prelude=is_prelude)
        else:
            resolved = resolve(program, sink)
    sink.check()

    def dump_resolved(name: str, program: RProgram) -> None:
        if name in dump:
            from fluentai.passes.format import format_resolved

            out.write(format_resolved(program))

    dump_resolved("resolve_names", resolved)
    for row in PASSES:
        with stage(times, row.name):
            resolved = row.run(resolved)
        dump_resolved(row.name, resolved)
    if "types" in dump and not is_prelude:
        from fluentai.types.dump import dump_program

        with stage(times, "types"):
            out.write(dump_program(resolved))
    return resolved


def add_resolve_errors(
    program: Program,
    datums: tuple[Datum, ...],
    sink: DiagnosticSink,
    is_prelude: bool,
    read_failed: bool = False,
) -> None:
    """After syntax errors, also report the resolver's errors, so that the first compile-time
    error in source order is the one reported (LANGUAGE.md §2.4). Names defined by top-level
    forms that failed to expand are not reported as unbound. After a reader error, forms with a
    bracket error are missing altogether, so a resolver error about a name is kept only if the
    name does not occur in the text outside the forms read (it may be defined there)."""
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
    unread: set[str] = set()
    if read_failed and datums:
        text, gaps, at = datums[0].span.file.text, [], 0
        for d in datums:
            gaps.append(text[at : d.span.start])
            at = d.span.end
        gaps.append(text[at:])
        unread = set(_TOKEN_GAPS.split(" ".join(gaps)))
    for diag in extra.items:
        if diag.kind == "unbound-variable" and any(f"`{n}`" in diag.message for n in defined):
            continue
        if read_failed and _named(diag) in unread:
            continue
        sink.items.append(diag)


# what separates symbols in source text (comments and strings split too: a name counts more
# often, never less)
_TOKEN_GAPS = re.compile(r"[\s,;()\[\]{}\"']+")


def _named(diag: Diagnostic) -> str | None:
    """The name a resolver error is about: the first `...` in its message."""
    found = re.search(r"`([^`]+)`", diag.message)
    return found.group(1) if found else None


def prelude_source() -> SourceFile:
    path = os.path.join(os.path.dirname(__file__), "prelude.fl")
    with open(path, encoding="utf-8") as f:
        return SourceFile("<prelude>", f.read())
