"""Reader: tokens -> Datums, the first stage of the pipeline (LANGUAGE.md §1, DESIGN.md §1.2).

    (define xs '[1 2])   ->   DList((DSym("define"), DSym("xs"),
                                     DList((DSym("quote"), DList((DInt(1), DInt(2)), SQUARE)),
                                           PAREN)),
                                    PAREN)

The reader keeps an explicit stack of open brackets and pending quotes, never Python recursion,
so deep nesting cannot crash it; nesting deeper than MAX_DEPTH is one `nesting too deep` error
(LANGUAGE.md §12). After a structural error it recovers in panic mode: it skips tokens until an
opening bracket at the start of a line, the likely next top-level form, and reads on, so one run
reports several errors (at most MAX_ERRORS).
"""

from __future__ import annotations

import gc
from typing import Final, TypeAlias, cast

from fluentai.diagnostics import CompileError, Diagnostic, DiagnosticSink
from fluentai.errors import MSG_NESTING
from fluentai.reader.datum import (
    Bracket,
    Datum,
    DBool,
    DDot,
    DFloat,
    DInt,
    DList,
    DNil,
    DStr,
    DSym,
)
from fluentai.reader.lexer import MAX_ERRORS, SYNTAX_ERROR, BadToken, Scanner, TokenKind
from fluentai.records import record
from fluentai.source import SourceFile, Span

MAX_DEPTH: Final = 10_000
"""Brackets and quotes may nest this deep (LANGUAGE.md §12)."""

_OPENERS: Final = {
    TokenKind.LPAREN: Bracket.PAREN,
    TokenKind.LBRACKET: Bracket.SQUARE,
    TokenKind.LBRACE: Bracket.CURLY,
}
_CLOSERS: Final = {
    TokenKind.RPAREN: Bracket.PAREN,
    TokenKind.RBRACKET: Bracket.SQUARE,
    TokenKind.RBRACE: Bracket.CURLY,
}

# An open bracket (with its start offset and the items read so far) or, with bracket None and
# no items, a quote waiting for its datum.
_Frame: TypeAlias = tuple[Bracket | None, int, list[Datum]]


def read_program(src: SourceFile) -> tuple[Datum, ...]:
    """Every top-level datum of `src`; raise CompileError with all syntax errors found."""
    sink = DiagnosticSink()
    result = _read(src, sink)
    sink.check()
    return result.forms


def read_forms(src: SourceFile, sink: DiagnosticSink) -> tuple[Datum, ...]:
    """Every top-level datum of `src`, reading on after syntax errors, which go to `sink` (a bad
    token stands as nil; a form with a bracket error is left out)."""
    return _read(src, sink).forms


def read_one(src: SourceFile) -> Datum:
    """The one datum `src` holds (for tests and tools); anything else is a CompileError."""
    forms = read_program(src)
    if len(forms) == 1:
        return forms[0]
    span = forms[1].span if forms else Span(src, 0, len(src.text))
    found = "nothing" if not forms else f"{len(forms)} data"
    raise CompileError([Diagnostic(SYNTAX_ERROR, f"expected one datum, found {found}", span)])


def is_complete(text: str) -> bool:
    """Whether a REPL entry is ready to read: brackets balanced, no string open, no `'` pending.

    An entry with a syntax error before its end is complete, so that the REPL reports it.
    """
    return not _read(SourceFile("<repl>", text), DiagnosticSink()).incomplete


@record
class _ReadResult:
    forms: tuple[Datum, ...]
    incomplete: bool  # the input ended inside a datum, with no other error before that


def _read(src: SourceFile, sink: DiagnosticSink) -> _ReadResult:
    # Reading allocates many small objects and no reference cycles: collections during it free
    # nothing, yet take about a third of the time on a large file.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_forms(src, sink)
    finally:
        if enabled:
            gc.enable()


def _read_forms(src: SourceFile, sink: DiagnosticSink) -> _ReadResult:
    text = src.text
    earlier_errors = len(sink.items)
    forms: list[Datum] = []
    stack: list[_Frame] = []
    panic = False
    datum: Datum
    # Hot loop: token kinds as locals, the most frequent first (enum attribute access is slow).
    symbol, int_, string, float_ = (
        TokenKind.SYMBOL,
        TokenKind.INT,
        TokenKind.STRING,
        TokenKind.FLOAT,
    )
    lparen, lbracket, lbrace, quote = (
        TokenKind.LPAREN,
        TokenKind.LBRACKET,
        TokenKind.LBRACE,
        TokenKind.QUOTE,
    )
    rparen, rbracket, rbrace = TokenKind.RPAREN, TokenKind.RBRACKET, TokenKind.RBRACE
    scanner = Scanner(src, sink)
    for kind, value, start, end in scanner:
        if panic:
            if (kind is lparen or kind is lbracket or kind is lbrace) and (
                start == 0 or text[start - 1] == "\n"
            ):
                panic = False
            else:
                continue
        if kind is symbol:
            datum = DSym(cast(str, value), span=Span(src, start, end))
        elif kind is rparen or kind is rbracket or kind is rbrace:
            closed = _close(src, sink, stack, _CLOSERS[kind], start, end)
            if closed is None:
                if len(sink.items) >= MAX_ERRORS:
                    return _ReadResult(tuple(forms), False)
                if stack:  # inside a form: skip the rest of it
                    panic = True
                    stack.clear()
                    scanner.skip_to_next_form()
                continue
            datum = closed
        elif kind is lparen or kind is lbracket or kind is lbrace or kind is quote:
            if len(stack) >= MAX_DEPTH:
                sink.error(SYNTAX_ERROR, MSG_NESTING, Span(src, start, end))
                panic = True
                stack.clear()
                scanner.skip_to_next_form()
                continue
            stack.append((_OPENERS.get(kind), start, []))
            continue
        elif kind is int_:
            datum = DInt(cast(int, value), span=Span(src, start, end))
        elif kind is string:
            datum = DStr(cast(str, value), span=Span(src, start, end))
        elif kind is float_:
            datum = DFloat(cast(float, value), span=Span(src, start, end))
        elif kind is TokenKind.BOOL:
            datum = DBool(cast(bool, value), span=Span(src, start, end))
        elif kind is TokenKind.NIL:
            datum = DNil(span=Span(src, start, end))
        elif kind is TokenKind.DOT:
            datum = DDot(span=Span(src, start, end))
        elif kind is BadToken.UNTERMINATED_STRING:
            # Already reported; the brackets left open around it are the same mistake.
            return _ReadResult(tuple(forms), len(sink.items) == earlier_errors + 1)
        else:
            if len(sink.items) >= MAX_ERRORS:
                return _ReadResult(tuple(forms), False)
            datum = DNil(span=Span(src, start, end))  # stands in for the reported bad token
        while stack and stack[-1][0] is None:
            quote_start = stack.pop()[1]
            quoted = (DSym("quote", span=Span(src, quote_start, quote_start + 1)), datum)
            datum = DList(quoted, Bracket.PAREN, span=Span(src, quote_start, datum.span.end))
        if stack:
            stack[-1][2].append(datum)
        elif isinstance(datum, DDot):
            sink.error(SYNTAX_ERROR, "`.` is only allowed before a rest parameter", datum.span)
            if len(sink.items) >= MAX_ERRORS:
                return _ReadResult(tuple(forms), False)
        else:
            forms.append(datum)
    if panic or not stack or len(sink.items) >= MAX_ERRORS:
        return _ReadResult(tuple(forms), False)
    incomplete = len(sink.items) == earlier_errors
    for bracket, start, _ in stack[: MAX_ERRORS - len(sink.items)]:
        if bracket is None:
            message = "expected a datum after `'`, found the end of the input"
        else:
            message = f"unclosed `{bracket.value}`"
        sink.error(SYNTAX_ERROR, message, Span(src, start, start + 1))
    return _ReadResult(tuple(forms), incomplete)


def _close(
    src: SourceFile,
    sink: DiagnosticSink,
    stack: list[_Frame],
    bracket: Bracket,
    start: int,
    end: int,
) -> DList | None:
    """Pop the frame that a closing bracket ends and build its list; None after an error."""
    here = Span(src, start, end)
    if not stack:
        sink.error(SYNTAX_ERROR, f"unexpected `{bracket.close}`", here)
        return None
    opened, open_start, items = stack[-1]
    if opened is None:
        message = f"expected a datum after `'`, found `{bracket.close}`"
        sink.error(SYNTAX_ERROR, message, Span(src, open_start, open_start + 1))
        return None
    if opened is not bracket:
        message = f"expected `{opened.close}` to close `{opened.value}` but found `{bracket.close}`"
        sink.error(SYNTAX_ERROR, message, here)
        return None
    stack.pop()
    span = Span(src, open_start, end)
    if bracket is Bracket.CURLY and len(items) % 2:
        message = f"a map literal `{{...}}` needs an even number of elements, found {len(items)}"
        sink.error(SYNTAX_ERROR, message, span)
    return DList(tuple(items), bracket, span=span)
