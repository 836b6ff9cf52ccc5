"""Writer: Datum -> text in written form (LANGUAGE.md §15), the inverse of the reader.

For every datum the reader can produce from a finite-float source, reading the written text
gives an equal datum (tests/property/test_roundtrip.py):

    DList((DSym("quote"), DStr("a\\nb")), PAREN)   ->   (quote "a\\nb")

Also `format_tokens`, the token dump (`LINE:COL KIND value`, one token per line).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Final, assert_never

from fluentai.reader.datum import (
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
from fluentai.reader.lexer import Token, TokenKind

# Int literals of any size (DESIGN.md §2): CPython refuses over 4300 digits by default.
sys.set_int_max_str_digits(0)

_STRING_ESCAPES: Final[dict[int, str]] = {
    **{code: f"\\u{{{code:x}}}" for code in [*range(0x20), 0x7F]},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord("\r"): "\\r",
}


def write_datum(d: Datum) -> str:
    """The written form of `d`; iterative, so any nesting depth works."""
    parts: list[str] = []
    work: list[Datum | str] = [d]  # data still to write, and text to emit, last first
    while work:
        item = work.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, DList):
            parts.append(item.bracket.value)
            work.append(item.bracket.close)
            items = item.items
            for i in range(len(items) - 1, -1, -1):
                work.append(items[i])
                if i:
                    work.append(" ")
        else:
            parts.append(_write_atom(item))
    return "".join(parts)


def write_string(s: str) -> str:
    """A string in written form: quoted, with `\\ " \\n \\t \\r` and other controls escaped."""
    return '"' + s.translate(_STRING_ESCAPES) + '"'


def write_float(x: float) -> str:
    """A Float as Python's repr writes it, which LANGUAGE.md §15 adopts (`inf`, `nan`, `1e+16`)."""
    return repr(x)


def _write_atom(d: Datum) -> str:
    match d:
        case DInt(value):
            return str(value)
        case DFloat(value):
            return write_float(value)
        case DStr(value):
            return write_string(value)
        case DSym(name):
            return name
        case DBool(value):
            return "#t" if value else "#f"
        case DNil():
            return "nil"
        case DDot():
            return "."
        case DList():
            return write_datum(d)
        case _:
            assert_never(d)


def format_tokens(tokens: Iterable[Token]) -> str:
    """One token per line, `LINE:COL KIND value` (value in written form, or the token's text)."""
    lines = []
    for token in tokens:
        line, col = token.span.file.line_col(token.span.start)
        lines.append(f"{line}:{col} {token.kind.name} {_token_text(token)}")
    return "\n".join(lines)


def _token_text(token: Token) -> str:
    value = token.value
    match token.kind:
        case TokenKind.STRING:
            assert isinstance(value, str)
            return write_string(value)
        case TokenKind.FLOAT:
            assert isinstance(value, float)
            return write_float(value)
        case TokenKind.BOOL:
            return "#t" if value else "#f"
        case TokenKind.INT | TokenKind.SYMBOL:
            return str(value)
        case TokenKind.NIL:
            return "nil"
        case _:
            return str(token.kind.value)  # brackets, quote and dot
