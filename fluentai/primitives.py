"""The builtin and effect-operation table: one row per builtin (DESIGN.md §1.3, STYLE.md §4).

Every builtin and built-in effect operation of LANGUAGE.md §14.2 and §17 is one `Prim` row.
Columns: canonical name and aliases, arity, effect set, kind, and the VM implementation.

Kinds:
- FUNCTION: `vm(*args)` (or `vm(world, *args)` when `needs_world`) returns a value or raises
  FlError. Arity has been checked by the caller.
- EFFECT: a built-in effect operation `ns:op`; `vm(world, *args)` is its default behaviour,
  used when no handler handles it. `error:raise` has vm=None (the VM unwinds itself);
  `state:update` has `prelude_default` naming the prelude function that is its default.
- PRELUDE: written in FluentAI in `prelude.fl` (higher-order builtins: map, filter, sort, ...).
- INTRINSIC: executed by the VM itself (`apply`).
- CONSTANT: a value, not a function (`pi`, `Nil`).
Rows with `internal=True` (names starting with `%`) are visible only to prelude code.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, Flag, auto

from fluentai.records import record


class Effect(Flag):
    PURE = 0
    RAISES = auto()
    CALLS = auto()  # calls its function argument: has that function's effects
    IO = auto()
    STATE = auto()
    TIME = auto()
    RANDOM = auto()
    CONTROL = auto()  # exit, args


class PrimKind(Enum):
    FUNCTION = "function"
    EFFECT = "effect"
    PRELUDE = "prelude"
    INTRINSIC = "intrinsic"
    CONSTANT = "constant"


@record
class Prim:
    name: str
    arity: tuple[int, int | None]
    kind: PrimKind = PrimKind.FUNCTION
    effect: Effect = Effect.RAISES
    vm: Callable[..., object] | None = None
    aliases: tuple[str, ...] = ()
    needs_world: bool = False
    value: object = None  # CONSTANT rows
    prelude_default: str | None = None  # EFFECT rows whose default is a prelude function
    internal: bool = False
    # Extra arity rule beyond (min, max), e.g. assoc takes 3, 5, 7, ... arguments.
    arity_ok: Callable[[int], bool] | None = None
    doc: str = ""


def _build_table(rows: list[Prim]) -> dict[str, Prim]:
    """Index rows by canonical name and every alias; a duplicate name is a bug in the table."""
    table: dict[str, Prim] = {}
    for row in rows:
        for name in (row.name, *row.aliases):
            if name in table:
                raise AssertionError(f"primitive {name!r} defined twice")
            table[name] = row
    return table


def _all_rows() -> list[Prim]:
    # The implementations live beside the VM; each module contributes its ROWS.
    from fluentai.vm import (
        builtins_lists,
        builtins_maps,
        builtins_misc,
        builtins_numbers,
        builtins_strings,
        builtins_types,
        effects_default,
    )

    return [
        *builtins_numbers.ROWS,
        *builtins_strings.ROWS,
        *builtins_types.ROWS,
        *builtins_lists.ROWS,
        *builtins_maps.ROWS,
        *builtins_misc.ROWS,
        *effects_default.ROWS,
    ]


_TABLE: dict[str, Prim] | None = None


def table() -> dict[str, Prim]:
    """Every row by name and alias, built on first use (the rows import this module)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _build_table(_all_rows())
    return _TABLE


def __getattr__(name: str) -> object:
    if name == "PRIMS":
        return table()
    raise AttributeError(name)


def lookup(name: str) -> Prim | None:
    """The row for a builtin name or alias (internal `%` rows included), else None."""
    return table().get(name)


def is_builtin_namespace(ns: str) -> bool:
    """io, state, error, time, random: namespaces whose operations are fixed (LANGUAGE.md §14.6)."""
    return ns in ("io", "state", "error", "time", "random")
