"""Diagnostics: compile-time errors with spans, and render(), the only Python error formatter.

Report formats are LANGUAGE.md §13.4:

    demo.fl:4:3: error[arity-error]: `cons` expects 2 arguments, got 3
      4 |   (cons 1 2 3)
        |   ^^^^^^^^^^^^
"""

from __future__ import annotations

from collections.abc import Sequence

from fluentai.records import record
from fluentai.source import Span


@record
class Diagnostic:
    """One user-facing compile-time problem."""

    kind: str
    message: str
    span: Span


class CompileError(Exception):
    """One or more compile-time diagnostics, in source order (the driver exits 65)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.span.start, d.span.end))


class DiagnosticSink:
    """Collects diagnostics; `check()` raises CompileError if any were reported."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, kind: str, message: str, span: Span) -> None:
        self.items.append(Diagnostic(kind, message, span))

    def check(self) -> None:
        if self.items:
            raise CompileError(self.items)


def report_text(line_text: str) -> str:
    """A source line as reports show it: control characters other than tab become U+FFFD."""
    return "".join(ch if ch >= " " or ch == "\t" else "\ufffd" for ch in line_text)


# A source line longer than this (in code points) is shown in part: a minified program's line
# of megabytes made each report as long (docs/decisions.md, "Language" 36).
LINE_SHOWN = 200


def shown_line(text: str, col: int, width: int) -> tuple[str, int, int]:
    """The part of source line `text` a report shows, with the caret's column (from 1) and width
    in it: all of it when it is at most LINE_SHOWN code points, else LINE_SHOWN of them around
    the caret, with `...` where it is cut. Both back ends report through this."""
    if len(text) <= LINE_SHOWN:
        return text, col, width
    start = max(0, min(col - 1 - LINE_SHOWN // 4, len(text) - LINE_SHOWN))
    end = start + LINE_SHOWN
    head = "..." if start > 0 else ""
    tail = "..." if end < len(text) else ""
    return (
        head + text[start:end] + tail,
        col - start + len(head),
        max(1, min(width, end - (col - 1))),
    )


def caret_lines(span: Span, indent: str) -> list[str]:
    """The source line of the span's start and a caret line under the span (to end of line)."""
    line, col = span.file.line_col(span.start)
    text = report_text(span.file.line_text(line))
    end_line, end_col = span.file.line_col(max(span.start, span.end))
    width = (end_col - col) if end_line == line else (len(text) - col + 1)
    text, col, width = shown_line(text, col, max(1, width))
    # under a tab, a tab: the carets stay under the span wherever the terminal's tab stops are
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
    return [f"{indent}{text}", f"{indent}{pad}{'^' * width}"]


def report_line(span: Span, kind: str, message: str) -> str:
    line, col = span.file.line_col(span.start)
    return f"{span.file.name}:{line}:{col}: error[{kind}]: {message}"


def render_compile(diag: Diagnostic) -> str:
    """A compile-time report: report line, gutter with the source line, caret line."""
    line = diag.span.line
    gutter = str(line)
    text_line, caret_line = caret_lines(diag.span, "")
    pad = " " * len(gutter)
    return "\n".join(
        [
            report_line(diag.span, diag.kind, diag.message),
            f"  {gutter} | {text_line}",
            f"  {pad} | {caret_line}",
        ]
    )


@record
class TraceEntry:
    """One frame of a runtime trace: where the frame is executing and the function's name."""

    span: Span
    name: str


def render_runtime(
    span: Span | None, kind: str, message: str, trace: Sequence[TraceEntry], omitted: int = 0
) -> str:
    """A runtime report: report line, then the call trace, innermost last (LANGUAGE.md §13.4).

    `omitted` > 0 means `trace` holds only the outermost and innermost ten entries."""
    if span is None:
        return f"fluentai: error: {message}"
    lines = [report_line(span, kind, message)]
    if trace:
        lines.append("trace (innermost last):")
        entries: list[TraceEntry | int] = list(trace)
        if omitted > 0:
            entries = [*trace[:10], omitted, *trace[10:]]
        elif len(trace) > 20:
            entries = [*trace[:10], len(trace) - 20, *trace[-10:]]
        for i, entry in enumerate(entries):
            if isinstance(entry, int):
                lines.append(f"  ... {entry} more ...")
                continue
            line, col = entry.span.file.line_col(entry.span.start)
            lines.append(f"  {entry.span.file.name}:{line}:{col} in {entry.name}")
            text_line, caret_line = caret_lines(entry.span, "    ")
            lines.append(text_line)
            if i == len(entries) - 1:
                lines.append(caret_line)
    return "\n".join(lines)
