"""The front end without the VM: source text -> resolved Core (reader, expander, name
resolution, the passes), for the native back end, the image compiler process and the prelude's
cache, which must not import the bytecode compiler (fluentai/pipeline.py adds it for the VM).
"""

from __future__ import annotations

import os
import re

from fluentai.diagnostics import Diagnostic, DiagnosticSink
from fluentai.passes.pipeline import PASSES
from fluentai.passes.rcore import RProgram
from fluentai.passes.resolve_names import resolve_names
from fluentai.reader.datum import Datum, DList, DSym
from fluentai.reader.read import read_forms
from fluentai.source import SourceFile
from fluentai.syntax.core import Program
from fluentai.syntax.expand import expand_program


def resolve_source(src: SourceFile, *, is_prelude: bool) -> RProgram:
    """The front end and the passes without dumps or timings: resolved Core for both back ends
    (raises CompileError)."""
    sink = DiagnosticSink()
    datums = read_forms(src, sink)
    read_failed = bool(sink.items)
    program = expand_program(datums, sink)
    if sink.items:
        add_resolve_errors(program, datums, sink, is_prelude, read_failed)
    sink.check()
    resolved = resolve_names(program, sink, prelude=is_prelude)
    sink.check()
    for row in PASSES:
        resolved = row.run(resolved)
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
