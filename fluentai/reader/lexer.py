"""Lexer: SourceFile -> tokens, the first step of the reader (LANGUAGE.md §1).

One compiled regular expression finds each token after the whitespace and comments before it;
atoms are then classified by the first row of the §1 table that matches. Spans are code-point
offsets into `src.text`.

    (print "x\\u{3bb}" 1e3)   ->   LPAREN  SYMBOL print  STRING "xλ"  FLOAT 1000.0  RPAREN

A malformed token is reported to the sink as a `syntax-error` and skipped, so one run reports
several errors. `tokenize` drops it; `Scanner`, which the reader uses, yields it as a `BadToken`,
so that the reader can put a placeholder in its place and not report the same mistake twice.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from enum import Enum
from typing import Final, TypeAlias

from fluentai.diagnostics import DiagnosticSink
from fluentai.records import record
from fluentai.source import SourceFile, Span

# Int literals of any size (DESIGN.md §2): CPython refuses over 4300 digits by default.
sys.set_int_max_str_digits(0)

SYNTAX_ERROR: Final = "syntax-error"
MAX_ERRORS: Final = 20
"""A run stops reading after this many syntax errors: later ones are usually consequences."""


class TokenKind(Enum):
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    LBRACE = "{"
    RBRACE = "}"
    QUOTE = "'"
    INT = "int"
    FLOAT = "float"
    STRING = "string"
    SYMBOL = "symbol"
    BOOL = "bool"
    NIL = "nil"
    DOT = "."


class BadToken(Enum):
    """A malformed token that `scan` has already reported."""

    INVALID = "invalid"
    UNTERMINATED_STRING = "unterminated string"  # runs to the end of the input


TokenValue: TypeAlias = int | float | str | bool | None
"""int for INT, float for FLOAT, str for STRING (decoded) and SYMBOL, bool for BOOL, else None."""

RawToken: TypeAlias = tuple[TokenKind | BadToken, TokenValue, int, int]
"""(kind, value, start, end): what `scan` yields, without building a Span per token."""


@record
class Token:
    """One token: its kind, its value (see TokenValue) and its exact source span."""

    kind: TokenKind
    value: TokenValue
    span: Span


_NOT_ATOM: Final = ' \t\n\r\f,;()\\[\\]{}"'  # whitespace, `;` and the delimiters end a token
_MASTER: Final = re.compile(
    # Whitespace and comments, atomic so that a failed match never backtracks into a comment.
    r"(?>[ \t\n\r\f,]*(?:;[^\n]*[ \t\n\r\f,]*)*)"
    r"(?:(?P<punct>[()\[\]{}'])"
    rf"|(?P<int>[+-]?[0-9]+)(?![^{_NOT_ATOM}])"
    rf"|(?P<float>[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(?![^{_NOT_ATOM}])"
    rf"|(?P<atom>[^{_NOT_ATOM}]+)"
    r'|(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")'
    r'|(?P<open>")'
    r"|(?P<end>\Z))",
    re.DOTALL,
)
_PUNCT_GROUP, _INT, _FLOAT, _ATOM, _STRING, _OPEN_STRING = (
    _MASTER.groupindex[name] for name in ("punct", "int", "float", "atom", "string", "open")
)
# Panic mode: anything up to a newline that an opening bracket follows; strings and comments whole.
_SKIP_TO_FORM: Final = re.compile(
    r'(?:[^"\n;]++|"[^"\\]*+(?:\\.[^"\\]*+)*+"|;[^\n]*+|\n(?![(\[{]))*+', re.DOTALL
)
_ESCAPE: Final = re.compile(r'\\(?:u(\{[^}"\\ \t\n\r\f,]*\}?)?|(.))', re.DOTALL)
_UNICODE_ESCAPE: Final = re.compile(r"\{([0-9A-Fa-f]{1,6})\}")
_SIMPLE_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}

_PUNCT: Final = {k.value: k for k in TokenKind if len(k.value) == 1 and k is not TokenKind.DOT}
_CONSTANTS: Final[dict[str, tuple[TokenKind, TokenValue]]] = {
    "#t": (TokenKind.BOOL, True),
    "true": (TokenKind.BOOL, True),
    "#f": (TokenKind.BOOL, False),
    "false": (TokenKind.BOOL, False),
    "nil": (TokenKind.NIL, None),
    ".": (TokenKind.DOT, None),
}
_DIGITS: Final = frozenset("0123456789")
_SPECIAL_START: Final = frozenset("0123456789+-#")  # atoms that may be other than a plain symbol


def tokenize(src: SourceFile, sink: DiagnosticSink | None = None) -> list[Token]:
    """All well-formed tokens of `src`. Errors go to `sink`; without one, raise CompileError."""
    errors = DiagnosticSink() if sink is None else sink
    tokens = [
        Token(kind, value, Span(src, start, end))
        for kind, value, start, end in scan(src, errors)
        if isinstance(kind, TokenKind)
    ]
    if sink is None:
        errors.check()
    return tokens


class Scanner:
    """The raw tokens of a source, in order, with the skip-ahead of the reader's panic mode.

    Iterating yields RawTokens, reporting malformed ones to the sink (and yielding them as
    BadToken); it stops early once the sink holds MAX_ERRORS diagnostics.
    """

    def __init__(self, src: SourceFile, sink: DiagnosticSink) -> None:
        self.src = src
        self.sink = sink
        self._skip = False

    def skip_to_next_form(self) -> None:
        """Skip from the last token yielded to the next opening bracket at the start of a line.

        Strings and comments are skipped whole, and tokens in between are not checked; an
        unterminated string or the end of the input also ends the skip.
        """
        self._skip = True

    def __iter__(self) -> Iterator[RawToken]:
        src, sink, text = self.src, self.sink, self.src.text
        pos = 0
        if text.startswith("#!"):
            newline = text.find("\n")
            pos = len(text) if newline < 0 else newline
        symbol, int_, float_ = TokenKind.SYMBOL, TokenKind.INT, TokenKind.FLOAT
        invalid = BadToken.INVALID
        token: RawToken
        while True:
            # Invariant: each match starts where the previous one ended, as every character is
            # either skipped or starts a token, and the last match is the empty `end` group.
            for m in _MASTER.finditer(text, pos):
                group = m.lastindex
                assert group is not None
                start = m.start(group)
                pos = m.end()
                if group == _ATOM:
                    atom = text[start:pos]
                    if atom[0] not in _SPECIAL_START and ":" not in atom and atom not in _CONSTANTS:
                        token = symbol, atom, start, pos  # the common case, without a call
                    else:
                        token = _classify_atom(src, sink, atom, start, pos)
                elif group == _PUNCT_GROUP:
                    token = _PUNCT[text[start]], None, start, pos
                elif group == _INT:
                    token = int_, int(text[start:pos]), start, pos
                elif group == _STRING:
                    token = _decode_string(src, sink, start, pos)
                elif group == _FLOAT:
                    token = float_, float(text[start:pos]), start, pos
                elif group == _OPEN_STRING:
                    sink.error(SYNTAX_ERROR, "unterminated string", Span(src, start, start + 1))
                    yield BadToken.UNTERMINATED_STRING, None, start, len(text)
                    return
                else:
                    return
                yield token
                if self._skip:
                    break
                if token[0] is invalid and len(sink.items) >= MAX_ERRORS:
                    return
            self._skip = False
            skipped = _SKIP_TO_FORM.match(text, pos)
            assert skipped is not None  # the pattern matches the empty string
            pos = skipped.end()


def scan(src: SourceFile, sink: DiagnosticSink) -> Iterator[RawToken]:
    """The raw tokens of `src` (see Scanner)."""
    return iter(Scanner(src, sink))


def _classify_atom(
    src: SourceFile, sink: DiagnosticSink, text: str, start: int, end: int
) -> RawToken:
    """Classify an atom that is not a well-formed number (LANGUAGE.md §1, in table order)."""
    first = text[0]
    problem: str | None = None
    if first in _DIGITS or (first in "+-" and len(text) > 1 and text[1] in _DIGITS):
        problem = f"invalid number literal `{_excerpt(text)}`"
    elif text in _CONSTANTS:
        kind, value = _CONSTANTS[text]
        return kind, value, start, end
    elif first == "#":
        problem = f"invalid token `{_excerpt(text)}`: only `#t` and `#f` start with `#`"
    elif ":" in text and not is_valid_colon_symbol(text):
        problem = (
            f"invalid symbol `{_excerpt(text)}`: `:` may only start a keyword or separate `ns:op`"
        )
    if problem is None:
        return TokenKind.SYMBOL, text, start, end
    sink.error(SYNTAX_ERROR, problem, Span(src, start, end))
    return BadToken.INVALID, None, start, end


def is_valid_colon_symbol(name: str) -> bool:
    """Whether a symbol name with `:` in it is legal: `:`, a keyword `:name`, or `ns:op`. The
    rows of LANGUAGE.md §1's table apply in order, so any symbol of two characters or more that
    starts with `:` is a keyword, more colons or not (`:a:b`, `::`)."""
    if name[0] == ":":
        return True
    return name.count(":") == 1 and name[-1] != ":"


def _decode_string(src: SourceFile, sink: DiagnosticSink, start: int, end: int) -> RawToken:
    """Decode the string literal text[start:end] (quotes included), reporting bad escapes."""
    body = src.text[start + 1 : end - 1]
    if "\\" not in body:
        return TokenKind.STRING, body, start, end
    parts: list[str] = []
    ok = True
    last = 0
    for m in _ESCAPE.finditer(body):
        parts.append(body[last : m.start()])
        last = m.end()
        char = m.group(2)
        replacement: str | int | None
        if char is not None:
            replacement = _SIMPLE_ESCAPES.get(char)
        else:
            replacement = _decode_unicode_escape(m.group(1) or "")
        if isinstance(replacement, str):
            parts.append(replacement)
            continue
        ok = False
        span = Span(src, start + 1 + m.start(), start + 1 + m.end())
        sink.error(SYNTAX_ERROR, _escape_problem(m.group(0), replacement), span)
    if not ok:
        return BadToken.INVALID, None, start, end
    parts.append(body[last:])
    return TokenKind.STRING, "".join(parts), start, end


def _decode_unicode_escape(braces: str) -> str | int | None:
    """The character of `\\u{H}` given `{H}`; else the bad code point, or None if malformed."""
    m = _UNICODE_ESCAPE.fullmatch(braces)
    if m is None:
        return None
    code = int(m.group(1), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return code
    return chr(code)


def _escape_problem(escape: str, replacement: int | None) -> str:
    """The message for a bad escape: `replacement` is None, or a code point out of range."""
    if escape.startswith("\\u"):
        if replacement is None:
            return (
                f"malformed escape `{_excerpt(escape)}` in string: "
                "expected `\\u{` then 1 to 6 hex digits then `}`"
            )
        if replacement > 0x10FFFF:
            return f"escape `{escape}` in string is beyond the last code point 10FFFF"
        return f"escape `{escape}` in string is a surrogate (D800-DFFF), not a character"
    char = escape[1]
    if char.isprintable():
        return f"unknown escape `{escape}` in string"
    return f"unknown escape in string: `\\` followed by U+{ord(char):04X}"


def _excerpt(text: str, limit: int = 40) -> str:
    """`text`, shortened for a message if it is very long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
