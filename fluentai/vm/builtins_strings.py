"""String builtins (LANGUAGE.md §8, §17 "Strings").

Strings are Python `str`: lengths and indices count code points, and a character is a
1-character String. `str`, `string-append` and `to-string` take any values (display forms);
every other builtin here raises `type-error` for a non-String where it expects one.
    (string-split "a,b,,c" ",") -> ["a" "b" "" "c"]     (substring "hello" 1 3) -> "el"
"""

from __future__ import annotations

from typing import Any, Final

from fluentai.errors import FlError
from fluentai.primitives import Effect, Prim
from fluentai.symbol import Symbol
from fluentai.vm.numbers import parse_number
from fluentai.vm.printer import display, type_error, written
from fluentai.vm.values import EMPTY, Cons, from_iter

__all__ = ["ROWS"]

_STRING: Final = "a String"
_MAX_CODE_POINT: Final = 0x10FFFF


def _check_string(name: str, x: Any) -> str:
    if type(x) is str:
        return x
    raise type_error(name, _STRING, x)


def _check_index(name: str, x: Any) -> int:
    if type(x) is int:
        return x
    raise type_error(name, "an Int", x)


def _index_error(name: str, index: int, length: int) -> FlError:
    message = f"`{name}`: index {index} out of range for length {length}"
    return FlError("index-out-of-range", message)


def _strings_of_list(name: str, lst: Any) -> list[str]:
    """The elements of a List of Strings; `type-error` for another value or a non-String element."""
    if lst is not EMPTY and type(lst) is not Cons:
        raise type_error(name, "a List of Strings", lst)
    out: list[str] = []
    while lst is not EMPTY:
        item = lst.head
        if type(item) is not str:
            message = f"`{name}` expects a List of Strings, got the element {written(item)}"
            raise FlError("type-error", message)
        out.append(item)
        lst = lst.tail
    return out


def _string_length(s: Any) -> int:
    return len(_check_string("string-length", s))


def _str(*args: Any) -> str:
    # display() inlined for the common pieces, Strings and Ints: (str i ",") runs in loops
    out = ""
    for x in args:
        t = type(x)
        if t is str:
            out += x
        elif t is int:
            out += repr(x)
        else:
            out += display(x)
    return out


def _concat(*args: Any) -> str:
    for x in args:
        _check_string("concat", x)
    return "".join(args)


def _to_string(x: Any) -> str:
    return display(x)


_ABSENT: Final[Any] = object()  # an optional argument not given (nil is a value)


def _substring(s: Any, start: Any, end: Any = _ABSENT) -> str:
    text = _check_string("substring", s)
    first = _check_index("substring", start)
    length = len(text)
    last = length if end is _ABSENT else _check_index("substring", end)
    # 0 <= start <= end <= length; the index reported is the first one that breaks it.
    if not 0 <= first <= length:
        raise _index_error("substring", first, length)
    if not first <= last <= length:
        raise _index_error("substring", last, length)
    return text[first:last]


def _string_ref(s: Any, i: Any) -> str:
    text = _check_string("string-ref", s)
    index = _check_index("string-ref", i)
    if not 0 <= index < len(text):
        raise _index_error("string-ref", index, len(text))
    return text[index]


def _string_split(s: Any, sep: Any = _ABSENT) -> Any:
    text = _check_string("string-split", s)
    if sep is _ABSENT:
        return from_iter(text.split())  # Unicode whitespace, empty parts dropped
    separator = _check_string("string-split", sep)
    if separator == "":
        return from_iter(list(text))
    return from_iter(text.split(separator))


def _string_join(sep: Any, lst: Any) -> str:
    separator = _check_string("string-join", sep)
    return separator.join(_strings_of_list("string-join", lst))


def _string_upcase(s: Any) -> str:
    return _check_string("string-upcase", s).upper()


def _string_downcase(s: Any) -> str:
    return _check_string("string-downcase", s).lower()


def _string_trim(s: Any) -> str:
    return _check_string("string-trim", s).strip()


def _string_contains(s: Any, part: Any) -> bool:
    return _check_string("string-contains?", part) in _check_string("string-contains?", s)


def _string_starts_with(s: Any, prefix: Any) -> bool:
    text = _check_string("string-starts-with?", s)
    return text.startswith(_check_string("string-starts-with?", prefix))


def _string_ends_with(s: Any, suffix: Any) -> bool:
    text = _check_string("string-ends-with?", s)
    return text.endswith(_check_string("string-ends-with?", suffix))


def _string_replace(s: Any, old: Any, new: Any) -> str:
    text = _check_string("string-replace", s)
    return text.replace(_check_string("string-replace", old), _check_string("string-replace", new))


def _string_to_list(s: Any) -> Any:
    return from_iter(list(_check_string("string->list", s)))


def _list_to_string(lst: Any) -> str:
    return "".join(_strings_of_list("list->string", lst))


def _string_to_number(s: Any) -> int | float | None:
    return parse_number(_check_string("string->number", s))


def _number_to_string(x: Any) -> str:
    if type(x) is int or type(x) is float:
        return display(x)
    raise type_error("number->string", "a Number", x)


def _char_to_int(s: Any) -> int:
    text = _check_string("char->int", s)
    if len(text) != 1:
        message = f"`char->int` expects a 1-character String, got {written(text)}"
        raise FlError("value-error", message)
    return ord(text)


def _int_to_char(n: Any) -> str:
    code = _check_index("int->char", n)
    if not 0 <= code <= _MAX_CODE_POINT or 0xD800 <= code <= 0xDFFF:
        expected = "a code point from 0 to 10FFFF outside D800-DFFF"
        raise FlError("value-error", f"`int->char` expects {expected}, got {code}")
    return chr(code)


def _symbol_to_string(sym: Any) -> str:
    if type(sym) is Symbol:
        return sym.name
    raise type_error("symbol->string", "a Symbol", sym)


def _string_to_symbol(s: Any) -> Symbol:
    return Symbol(_check_string("string->symbol", s))


_PURE: Final = Effect.PURE
_RAISES: Final = Effect.RAISES

ROWS: Final[list[Prim]] = [
    Prim("string-length", arity=(1, 1), vm=_string_length, effect=_RAISES, doc="code points"),
    Prim("string-append", arity=(0, None), vm=_str, effect=_PURE, doc="display forms joined"),
    Prim("str", arity=(0, None), vm=_str, effect=_PURE, doc="display forms joined"),
    Prim("concat", arity=(0, None), vm=_concat, aliases=("string-concat",), effect=_RAISES),
    Prim("to-string", arity=(1, 1), vm=_to_string, effect=_PURE, doc="display form"),
    Prim("substring", arity=(2, 3), vm=_substring, effect=_RAISES, doc="(substring s start end?)"),
    Prim("string-ref", arity=(2, 2), vm=_string_ref, effect=_RAISES, doc="1-character String"),
    Prim("string-split", arity=(1, 2), vm=_string_split, effect=_RAISES),
    Prim("string-join", arity=(2, 2), vm=_string_join, effect=_RAISES, doc="(string-join sep l)"),
    Prim("string-upcase", arity=(1, 1), vm=_string_upcase, effect=_RAISES),
    Prim("string-downcase", arity=(1, 1), vm=_string_downcase, effect=_RAISES),
    Prim("string-trim", arity=(1, 1), vm=_string_trim, effect=_RAISES),
    Prim("string-contains?", arity=(2, 2), vm=_string_contains, effect=_RAISES),
    Prim("string-starts-with?", arity=(2, 2), vm=_string_starts_with, effect=_RAISES),
    Prim("string-ends-with?", arity=(2, 2), vm=_string_ends_with, effect=_RAISES),
    Prim("string-replace", arity=(3, 3), vm=_string_replace, effect=_RAISES),
    Prim("string->list", arity=(1, 1), vm=_string_to_list, effect=_RAISES),
    Prim("list->string", arity=(1, 1), vm=_list_to_string, effect=_RAISES),
    Prim("string->number", arity=(1, 1), vm=_string_to_number, effect=_RAISES),
    Prim("number->string", arity=(1, 1), vm=_number_to_string, effect=_RAISES),
    Prim("char->int", arity=(1, 1), vm=_char_to_int, effect=_RAISES),
    Prim("int->char", arity=(1, 1), vm=_int_to_char, effect=_RAISES),
    Prim("symbol->string", arity=(1, 1), vm=_symbol_to_string, effect=_RAISES),
    Prim("string->symbol", arity=(1, 1), vm=_string_to_symbol, effect=_RAISES),
]
