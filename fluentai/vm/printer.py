"""Display and written forms of VM values (LANGUAGE.md §15).

`display` is used by `print`, `io:write`, `str`, `string-append` and `to-string`; `written` by
lists, maps and ADT fields, `--print-values`, the REPL and error messages. They differ only for a
String at top level, whose display form is its raw characters:
    display(from_iter(["a", 1.0])) == written(from_iter(["a", 1.0])) == '["a" 1.0]'
    display("tab\there") is the string itself;  written("tab\there") == '"tab\\there"'

Compound values are printed with an explicit stack of frames, so a List of 10^6 elements and data
nested 10 000 deep print without Python recursion.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, Final

from fluentai.errors import FlError
from fluentai.symbol import Symbol
from fluentai.vm.maps import FlMap
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Builtin,
    Closure,
    Cons,
    Constructor,
    EffectFn,
    ErrorValue,
)

sys.set_int_max_str_digits(0)

__all__ = ["display", "type_error", "written", "written_string"]

# `\\ \" \n \t \r`, and `\u{h}` (lowercase hex) for the other characters below U+0020 and U+007F.
_ESCAPES: Final[dict[int, str]] = {
    **{c: f"\\u{{{c:x}}}" for c in (*range(0x20), 0x7F)},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord("\r"): "\\r",
}
_NEEDS_ESCAPE: Final = re.compile(r'[\x00-\x1f\x7f"\\]').search


def written_string(s: str) -> str:
    """A String in written form: quoted, with escapes."""
    if _NEEDS_ESCAPE(s) is None:
        return f'"{s}"'
    return f'"{s.translate(_ESCAPES)}"'


def _function_form(f: Closure | Builtin | Constructor | EffectFn) -> str:
    return f"#<function {f.name}>"


def _error_form(e: ErrorValue) -> str:
    message = e.message if type(e.message) is str else display(e.message)
    return f"#<error {e.kind}: {message}>"


def _bool_form(b: bool) -> str:
    return "#t" if b else "#f"


def _nil_form(_: None) -> str:
    return "nil"


def _empty_form(_: object) -> str:
    return "[]"


def _symbol_form(s: Symbol) -> str:
    return s.name


# Values whose form has no parts: one dictionary lookup on the exact type.
_ATOMS: Final[dict[type, Callable[[Any], str]]] = {
    int: repr,
    str: written_string,
    # Python's float repr is the §15 format: shortest round trip, positional for
    # 1e-4 <= |x| < 1e16, `inf`, `-inf`, `-0.0`, and `nan` whatever the NaN's sign bit.
    float: repr,
    bool: _bool_form,
    type(None): _nil_form,
    type(EMPTY): _empty_form,
    Symbol: _symbol_form,
    Closure: _function_form,
    Builtin: _function_form,
    Constructor: _function_form,
    EffectFn: _function_form,
    ErrorValue: _error_form,
}


def display(v: object) -> str:
    """The display form: a String's raw characters, otherwise the written form."""
    if type(v) is str:
        return v
    if type(v) is int:
        return repr(v)
    return written(v)


def written(v: object) -> str:
    """The written form (§15)."""
    atom = _ATOMS.get(type(v))
    if atom is not None:
        return atom(v)
    out: list[str] = []
    frame = _open(v, out)
    if frame is not None:
        _write_frames(frame, out)
    return "".join(out)


class _Frame:
    """A compound value being written: its remaining parts, its closing bracket, and whether the
    next part needs a separating space."""

    __slots__ = ("close", "parts", "sep")

    def __init__(self, parts: Iterator[object], close: str, sep: bool) -> None:
        self.parts = parts
        self.close = close
        self.sep = sep


def _open(v: object, out: list[str]) -> _Frame | None:
    """Write the opening of a non-atomic value `v` and return the frame of its parts, or write
    all of `v` and return None when it has no parts (a nullary ADT value)."""
    if isinstance(v, Cons):
        out.append("[")
        return _Frame(iter(v), "]", False)
    if isinstance(v, Adt):
        if not v.fields:
            out.append(v.ctor.name)
            return None
        out.append("(")
        out.append(v.ctor.name)
        return _Frame(iter(v.fields), ")", True)
    if isinstance(v, FlMap):
        out.append("{")
        return _Frame(chain.from_iterable(v.items()), "}", False)
    raise TypeError(f"not a FluentAI value: {type(v).__name__}")


def _write_frames(first: _Frame, out: list[str]) -> None:
    """Write the parts of `first` and of everything nested in it, depth first."""
    atoms = _ATOMS
    stack = [first]
    while stack:
        frame = stack[-1]
        for x in frame.parts:
            if frame.sep:
                out.append(" ")
            else:
                frame.sep = True
            atom = atoms.get(type(x))
            if atom is not None:
                out.append(atom(x))
                continue
            inner = _open(x, out)
            if inner is not None:
                stack.append(inner)
                break
        else:
            out.append(frame.close)
            stack.pop()


def type_error(name: str, expected: str, got: object) -> FlError:
    """`` `name` expects EXPECTED, got WRITTEN `` as a type-error (LANGUAGE.md §13.4 style)."""
    return FlError("type-error", f"`{name}` expects {expected}, got {written(got)}")
