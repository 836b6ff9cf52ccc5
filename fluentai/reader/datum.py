"""Datum: what the reader produces, every node with its exact source span.

Datum ::= DInt | DFloat | DStr | DSym | DBool | DNil | DList | DDot
`'d` reads as DList((DSym("quote"), d), Bracket.PAREN). `()`, `[]` and `{}` are DLists with
their bracket kind. DDot is the `.` token; it is legal only where a rest parameter is allowed,
which the expander decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypeAlias, final

from fluentai.source import Span


class Bracket(Enum):
    PAREN = "("
    SQUARE = "["
    CURLY = "{"

    @property
    def close(self) -> str:
        return {"(": ")", "[": "]", "{": "}"}[self.value]


@final
@dataclass(frozen=True, slots=True)
class DInt:
    value: int
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DFloat:
    value: float
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DStr:
    value: str
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DSym:
    name: str
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DBool:
    value: bool
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DNil:
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DList:
    items: tuple[Datum, ...]
    bracket: Bracket
    span: Span = field(kw_only=True, compare=False)


@final
@dataclass(frozen=True, slots=True)
class DDot:
    span: Span = field(kw_only=True, compare=False)


Datum: TypeAlias = DInt | DFloat | DStr | DSym | DBool | DNil | DList | DDot
