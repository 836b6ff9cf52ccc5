"""Interned symbols, shared by every stage (Core literals and VM values alike)."""

from __future__ import annotations

from typing import ClassVar


class Symbol:
    """A FluentAI Symbol; interned, so identity is equality. Keywords are symbols `:name`."""

    __slots__ = ("name", "__weakref__")
    _table: ClassVar[dict[str, Symbol]] = {}
    name: str

    def __new__(cls, name: str) -> Symbol:
        sym = cls._table.get(name)
        if sym is None:
            sym = object.__new__(cls)
            sym.name = name
            cls._table[name] = sym
        return sym

    def __repr__(self) -> str:
        return f"Symbol({self.name!r})"

    def __reduce__(self) -> tuple[type[Symbol], tuple[str]]:
        return (Symbol, (self.name,))
