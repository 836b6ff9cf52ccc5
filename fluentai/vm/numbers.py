"""Numeric helpers shared by the VM builtins (LANGUAGE.md §1 number tokens, §6).

- `int_to_float`: correctly rounded Int -> Float, `value-error` when the result would be ±inf.
- `compare_numbers`: exact Int/Float ordering (never via a double), None when NaN is involved.
- `parse_number`: exactly the reader's Int and Float literal grammar, for `string->number`.
- `string_to_int` / `string_to_float`: the String rules of `int` and `float` (§6).

Text is validated by a regex of the reader's grammar before Python's `int()`/`float()` see it, so
their extras (underscores, Unicode digits, `inf`, surrounding whitespace) never leak through:
    parse_number("1e3") == 1000.0      parse_number("1_000") is None      parse_number(" 1") is None
"""

from __future__ import annotations

import re
import sys
from typing import Final

from fluentai.errors import FlError

# CPython 3.11 refuses to convert Ints of more than 4300 digits to or from text (DESIGN.md §2).
sys.set_int_max_str_digits(0)

__all__ = [
    "compare_numbers",
    "int_to_float",
    "is_number",
    "parse_number",
    "string_to_float",
    "string_to_int",
]

# LANGUAGE.md §1: `[+-]?[0-9]+` is an Int; followed by `.[0-9]+`, `[eE][+-]?[0-9]+` or both, a Float.
# `[0-9]` (never `\d`) keeps the digits ASCII.
_INT_LITERAL: Final = re.compile(r"[+-]?[0-9]+")
_FLOAT_LITERAL: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)")
# The extra spellings `float` accepts (§6), in any case.
_FLOAT_SPECIAL: Final = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
# ASCII whitespace stripped by `int` and `float` of a String (§6); not Python's Unicode set.
_ASCII_SPACE: Final = " \t\n\v\f\r"


def is_number(x: object) -> bool:
    """Int or Float; a Bool is not a number."""
    t = type(x)
    return t is int or t is float


def int_to_float(n: int, name: str | None = None) -> float:
    """`n` rounded to the nearest double (ties to even); `value-error` if that is ±2^1024 or more.

    `name` is the builtin doing the conversion, for the message.
    """
    try:
        return float(n)  # CPython rounds int -> float correctly and checks the rounded value
    except OverflowError:
        where = f"`{name}`: " if name is not None else ""
        raise FlError("value-error", f"{where}Int too large to convert to Float") from None


def compare_numbers(a: float, b: float) -> int | None:
    """-1, 0 or 1 by exact mathematical value; None when either is NaN.

    Python compares an int with a float exactly (no conversion of the int), which is what
    LANGUAGE.md §6 asks for: `(< 9007199254740993 9007199254740992.0)` is #f.
    """
    if a < b:
        return -1
    if a > b:
        return 1
    if a == b:
        return 0
    return None


def parse_number(text: str) -> int | float | None:
    """The Int or Float that `text` is exactly the literal of (§1), else None."""
    if _INT_LITERAL.fullmatch(text):
        return int(text)
    if _FLOAT_LITERAL.fullmatch(text):
        return float(text)  # the nearest double, as the reader does; `1e400` is inf
    return None


def string_to_int(text: str) -> int | None:
    """`(int s)`: an Int literal after stripping ASCII whitespace, else None."""
    stripped = text.strip(_ASCII_SPACE)
    if _INT_LITERAL.fullmatch(stripped):
        return int(stripped)
    return None


def string_to_float(text: str) -> float | None:
    """`(float s)`: an Int or Float literal or inf/infinity/nan after stripping, else None.

    An Int literal gives the double nearest to its decimal value, like a Float literal, so a
    400-digit Int literal gives inf rather than an error.
    """
    stripped = text.strip(_ASCII_SPACE)
    if (
        _INT_LITERAL.fullmatch(stripped)
        or _FLOAT_LITERAL.fullmatch(stripped)
        or _FLOAT_SPECIAL.fullmatch(stripped)
    ):
        return float(stripped)
    return None
