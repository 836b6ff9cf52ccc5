"""Datum: what the reader produces, every node with its exact source span.

Datum ::= DInt | DFloat | DStr | DSym | DBool | DNil | DList | DDot
`'d` reads as DList((DSym("quote"), d), Bracket.PAREN). `()`, `[]` and `{}` are DLists with
their bracket kind. DDot is the `.` token; it is legal only where a rest parameter is allowed,
which the expander decides.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeAlias, final

from fluentai.records import field, record
from fluentai.source import Span


class Bracket(Enum):
    PAREN = "("
    SQUARE = "["
    CURLY = "{"

    @property
    def close(self) -> str:
        return {"(": ")", "[": "]", "{": "}"}[self.value]


@final
@record
class DInt:
    value: int
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DFloat:
    value: float
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DStr:
    value: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DSym:
    name: str
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DBool:
    value: bool
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DNil:
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DList:
    items: tuple[Datum, ...]
    bracket: Bracket
    span: Span = field(kw_only=True, compare=False)


@final
@record
class DDot:
    span: Span = field(kw_only=True, compare=False)


Datum: TypeAlias = DInt | DFloat | DStr | DSym | DBool | DNil | DList | DDot
