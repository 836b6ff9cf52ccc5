"""Number builtins: arithmetic, comparison, `=`, rounding, math, conversions (LANGUAGE.md §6, §17).

Every rule of §6 is spelled out here, and the C runtime must match it exactly. Two Ints
give an exact Int; an Int meeting a Float is converted with `int_to_float` (`value-error` when too
large); a Bool is not a number. The VM checks arity before calling an implementation.
    (/ -7 2) -> -4    (mod -7 2.0) -> 1.0    (quot -0.5 1.0) -> -0.0    (pow 2 -1) -> 0.5
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, Final

from fluentai.errors import MSG_DIVISION_BY_ZERO, FlError
from fluentai.primitives import Effect, Prim, PrimKind
from fluentai.vm.equality import equal
from fluentai.vm.numbers import int_to_float, string_to_float, string_to_int
from fluentai.vm.printer import type_error, written

__all__ = ["ROWS"]

_INF: Final = math.inf

Binary = Callable[[Any, Any], Any]


def _division_by_zero() -> FlError:
    return FlError("division-by-zero", MSG_DIVISION_BY_ZERO)


def _is_number(x: object) -> bool:
    t = type(x)
    return t is int or t is float


def _not_a_number(name: str, *args: object) -> FlError:
    """The type-error for the first argument that is not a number."""
    bad = next((x for x in args if not _is_number(x)), None)
    return type_error(name, "a Number", bad)


def _check_number(name: str, x: Any) -> Any:
    if type(x) is int or type(x) is float:
        return x
    raise _not_a_number(name, x)


def _to_float(name: str, x: Any) -> float:
    """A number as a Float, for the math functions."""
    if type(x) is float:
        return x
    if type(x) is int:
        return int_to_float(x, name)
    raise _not_a_number(name, x)


# --- + - * ------------------------------------------------------------------------------------


def _binary(name: str, op: Binary) -> Binary:
    """`op` on two numbers with the §6 binary rule: an Int meeting a Float is converted."""

    def apply(a: Any, b: Any) -> Any:
        ta = type(a)
        tb = type(b)
        if ta is int:
            if tb is int:
                return op(a, b)
            if tb is float:
                return op(int_to_float(a, name), b)
        elif ta is float:
            if tb is float:
                return op(a, b)
            if tb is int:
                return op(a, int_to_float(b, name))
        raise _not_a_number(name, a, b)

    return apply


_add: Final = _binary("+", operator.add)
_sub: Final = _binary("-", operator.sub)
_mul: Final = _binary("*", operator.mul)


def _plus(*args: Any) -> Any:
    if len(args) == 2:
        a, b = args
        if type(a) is int and type(b) is int:
            return a + b
        return _add(a, b)
    if not args:
        return 0
    acc = _check_number("+", args[0])
    for b in args[1:]:
        acc = _add(acc, b)
    return acc


def _minus(*args: Any) -> Any:
    if len(args) == 2:
        a, b = args
        if type(a) is int and type(b) is int:
            return a - b
        return _sub(a, b)
    acc = _check_number("-", args[0])
    if len(args) == 1:
        return -acc
    for b in args[1:]:
        acc = _sub(acc, b)
    return acc


def _times(*args: Any) -> Any:
    if len(args) == 2:
        a, b = args
        if type(a) is int and type(b) is int:
            return a * b
        return _mul(a, b)
    if not args:
        return 1
    acc = _check_number("*", args[0])
    for b in args[1:]:
        acc = _mul(acc, b)
    return acc


# --- / mod quot rem ----------------------------------------------------------------------------


def _float_operands(name: str, a: Any, b: Any) -> tuple[float, float]:
    """Both operands as Floats, after the type and zero-divisor checks (in that order)."""
    if not (_is_number(a) and _is_number(b)):
        raise _not_a_number(name, a, b)
    if b == 0:
        raise _division_by_zero()
    x = a if type(a) is float else int_to_float(a, name)
    y = b if type(b) is float else int_to_float(b, name)
    return x, y


def _divide(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise _division_by_zero()
        return a // b
    x, y = _float_operands("/", a, b)
    return x / y


def _mod(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise _division_by_zero()
        return a % b
    x, y = _float_operands("mod", a, b)
    # Python's float `%` is exactly §6's rule: fmod, moved to the divisor's sign, zero signed as b.
    return x % y


def _int_quot(a: int, b: int) -> int:
    q, r = divmod(a, b)
    if r and q < 0:  # floor went one below trunc: the signs differ and the division is inexact
        q += 1
    return q


def _quot(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise _division_by_zero()
        return _int_quot(a, b)
    x, y = _float_operands("quot", a, b)
    q = x / y
    if not math.isfinite(q):
        return q
    return math.copysign(float(math.trunc(q)), q)  # C trunc keeps the sign of a zero result


def _rem(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise _division_by_zero()
        return a - b * _int_quot(a, b)
    x, y = _float_operands("rem", a, b)
    if math.isinf(x):
        return math.nan  # C fmod(±inf, y) is NaN; Python's math.fmod raises instead
    return math.fmod(x, y)


# --- = and comparisons ---------------------------------------------------------------------------


def _equal_all(*args: Any) -> bool:
    if len(args) == 2:
        a, b = args
        t = type(a)
        if t is type(b) and (t is int or t is str):
            same: bool = a == b
            return same
        return equal(a, b)
    return all(equal(args[i], args[i + 1]) for i in range(len(args) - 1))


def _not_equal_all(*args: Any) -> bool:
    return not _equal_all(*args)


def _check_comparable(name: str, args: tuple[Any, ...]) -> None:
    """All numbers or all strings, checked before any comparison (§6)."""
    first = args[0]
    if _is_number(first):
        for x in args:
            if not _is_number(x):
                raise _mixed(name, first, x)
    elif type(first) is str:
        for x in args:
            if type(x) is not str:
                raise _mixed(name, first, x)
    else:
        raise type_error(name, "numbers or strings", first)


def _mixed(name: str, first: object, other: object) -> FlError:
    message = f"`{name}` expects numbers or strings, got {written(first)} and {written(other)}"
    return FlError("type-error", message)


def _comparison(name: str, test: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    """A chained comparison: #t when every adjacent pair passes `test`. Python compares an Int
    with a Float exactly, any comparison with NaN is false, and strings go by code point."""

    def compare(*args: Any) -> bool:
        if len(args) == 2:
            a, b = args
            ta = type(a)
            tb = type(b)
            if ta is int and tb is int:
                return test(a, b)
            if (ta is int or ta is float) and (tb is int or tb is float) or ta is tb is str:
                return test(a, b)
        _check_comparable(name, args)
        for i in range(1, len(args)):
            if not test(args[i - 1], args[i]):
                return False
        return True

    return compare


def _extremum(name: str, better: Binary) -> Callable[..., Any]:
    """`min`/`max`: scan left to right, replacing the result by a strictly better argument."""

    def pick(*args: Any) -> Any:
        _check_comparable(name, args)
        best = args[0]
        for x in args[1:]:
            if better(x, best):
                best = x
        return best

    return pick


# --- abs, rounding, math -----------------------------------------------------------------------


def _abs(x: Any) -> Any:
    return abs(_check_number("abs", x))


def _rounding(name: str, to_int: Callable[[float], int]) -> Callable[[Any], int]:
    """`floor`/`ceil`/`round`: an Int argument unchanged; a finite Float to an Int."""

    def apply(x: Any) -> int:
        if type(x) is int:
            return x
        if type(x) is float:
            if math.isfinite(x):
                return to_int(x)
            raise FlError("value-error", f"`{name}` expects a finite number, got {written(x)}")
        raise _not_a_number(name, x)

    return apply


def _sqrt(x: Any) -> float:
    y = _to_float("sqrt", x)
    if y < 0:
        raise FlError("value-error", f"`sqrt` expects a non-negative number, got {written(x)}")
    return math.sqrt(y)


def _exp(x: Any) -> float:
    try:
        return math.exp(_to_float("exp", x))
    except OverflowError:
        return _INF  # C exp overflows to inf; Python raises


_ABSENT: Final[Any] = object()  # an optional argument not given (nil is a value)


def _log(x: Any, base: Any = _ABSENT) -> float:
    y = _to_float("log", x)
    b = None if base is _ABSENT else _to_float("log", base)
    if y <= 0:
        raise FlError("value-error", f"`log` expects a positive number, got {written(x)}")
    if b is None:
        return math.log(y)
    if b <= 0 or b == 1:
        message = f"`log` expects a positive base other than 1, got {written(base)}"
        raise FlError("value-error", message)
    return math.log(y) / math.log(b)  # log(b) != 0 for every double b != 1


def _trig(name: str, fn: Callable[[float], float]) -> Callable[[Any], float]:
    def apply(x: Any) -> float:
        y = _to_float(name, x)
        if math.isinf(y):
            raise FlError("value-error", f"`{name}` expects a finite number, got {written(x)}")
        return fn(y)

    return apply


def _atan(x: Any) -> float:
    return math.atan(_to_float("atan", x))


def _atan2(y: Any, x: Any) -> float:
    return math.atan2(_to_float("atan2", y), _to_float("atan2", x))


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y.is_integer() and math.fmod(y, 2.0) != 0.0


def _float_pow(a: Any, b: Any) -> float:
    """C `pow` on the converted arguments, with §6's two errors instead of C's poles/NaN."""
    if a == 0 and b < 0:  # before converting, as `/` checks its divisor first
        raise _division_by_zero()
    x = _to_float("pow", a)
    y = _to_float("pow", b)
    if x < 0 and math.isfinite(x) and math.isfinite(y) and not y.is_integer():
        message = (
            f"`pow` expects an integer exponent for a negative base, got {written(a)} "
            f"and {written(b)}"
        )
        raise FlError("value-error", message)
    try:
        # float ** float is C pow for everything left (inf and NaN cases included), except that
        # Python raises on overflow where C gives ±inf.
        result: float = x**y
        return result
    except OverflowError:
        return -_INF if x < 0 and _is_odd_integer(y) else _INF


_MAX_RESULT_BITS: Final = 1 << 33  # a 1 GiB Int: beyond it memory is exhausted, not a result


def _pow(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int and b >= 0:
        if abs(a) > 1 and b * (abs(a).bit_length() - 1) > _MAX_RESULT_BITS:
            raise MemoryError  # reported as `out-of-memory` (LANGUAGE.md §13.4)
        return a**b
    if not (_is_number(a) and _is_number(b)):
        raise _not_a_number("pow", a, b)
    return _float_pow(a, b)


# --- conversions and predicates ----------------------------------------------------------------


def _float(x: Any) -> float:
    if type(x) is float:
        return x
    if type(x) is int:
        return int_to_float(x, "float")
    if type(x) is str:
        result = string_to_float(x)
        if result is None:
            raise FlError("value-error", f"`float` expects a number literal, got {written(x)}")
        return result
    raise type_error("float", "a Number or a String", x)


def _int(x: Any) -> int:
    if type(x) is int:
        return x
    if type(x) is float:
        if math.isfinite(x):
            return math.trunc(x)
        raise FlError("value-error", f"`int` expects a finite number, got {written(x)}")
    if type(x) is str:
        result = string_to_int(x)
        if result is None:
            raise FlError("value-error", f"`int` expects an Int literal, got {written(x)}")
        return result
    raise type_error("int", "a Number or a String", x)


def _check_int(name: str, x: Any) -> int:
    if type(x) is int:
        return x
    raise type_error(name, "an Int", x)


def _is_even(x: Any) -> bool:
    return not _check_int("even?", x) & 1


def _is_odd(x: Any) -> bool:
    return bool(_check_int("odd?", x) & 1)


def _is_zero(x: Any) -> bool:
    return bool(_check_number("zero?", x) == 0)


def _is_positive(x: Any) -> bool:
    return bool(_check_number("positive?", x) > 0)


def _is_negative(x: Any) -> bool:
    return bool(_check_number("negative?", x) < 0)


# --- the table -----------------------------------------------------------------------------------

_PURE: Final = Effect.PURE
_RAISES: Final = Effect.RAISES

ROWS: Final[list[Prim]] = [
    Prim("+", arity=(0, None), vm=_plus, effect=_RAISES, doc="sum; (+) is 0"),
    Prim("-", arity=(1, None), vm=_minus, effect=_RAISES, doc="negate, or subtract left to right"),
    Prim("*", arity=(0, None), vm=_times, effect=_RAISES, doc="product; (*) is 1"),
    Prim("/", arity=(2, 2), vm=_divide, effect=_RAISES, doc="floor division for Ints, else Float"),
    Prim("mod", arity=(2, 2), vm=_mod, effect=_RAISES, doc="floored remainder (sign of divisor)"),
    Prim("quot", arity=(2, 2), vm=_quot, effect=_RAISES, doc="quotient truncated toward zero"),
    Prim("rem", arity=(2, 2), vm=_rem, effect=_RAISES, doc="remainder with the sign of a"),
    Prim("=", arity=(1, None), vm=_equal_all, aliases=("==",), effect=_PURE, doc="equality"),
    Prim("!=", arity=(1, None), vm=_not_equal_all, aliases=("not=",), effect=_PURE, doc="(not =)"),
    Prim("<", arity=(1, None), vm=_comparison("<", operator.lt), effect=_RAISES),
    Prim(">", arity=(1, None), vm=_comparison(">", operator.gt), effect=_RAISES),
    Prim("<=", arity=(1, None), vm=_comparison("<=", operator.le), effect=_RAISES),
    Prim(">=", arity=(1, None), vm=_comparison(">=", operator.ge), effect=_RAISES),
    Prim("abs", arity=(1, 1), vm=_abs, effect=_RAISES, doc="absolute value, same type"),
    Prim("min", arity=(1, None), vm=_extremum("min", lambda x, best: x < best), effect=_RAISES),
    Prim("max", arity=(1, None), vm=_extremum("max", lambda x, best: x > best), effect=_RAISES),
    Prim("floor", arity=(1, 1), vm=_rounding("floor", math.floor), effect=_RAISES),
    Prim("ceil", arity=(1, 1), vm=_rounding("ceil", math.ceil), effect=_RAISES),
    Prim("round", arity=(1, 1), vm=_rounding("round", round), effect=_RAISES, doc="half to even"),
    Prim("sqrt", arity=(1, 1), vm=_sqrt, effect=_RAISES),
    Prim("exp", arity=(1, 1), vm=_exp, effect=_RAISES),
    Prim("log", arity=(1, 2), vm=_log, effect=_RAISES, doc="natural log, or log x / log base"),
    Prim("sin", arity=(1, 1), vm=_trig("sin", math.sin), effect=_RAISES),
    Prim("cos", arity=(1, 1), vm=_trig("cos", math.cos), effect=_RAISES),
    Prim("tan", arity=(1, 1), vm=_trig("tan", math.tan), effect=_RAISES),
    Prim("atan", arity=(1, 1), vm=_atan, effect=_RAISES),
    Prim("atan2", arity=(2, 2), vm=_atan2, effect=_RAISES, doc="(atan2 y x)"),
    Prim("pow", arity=(2, 2), vm=_pow, aliases=("expt",), effect=_RAISES, doc="power"),
    Prim("float", arity=(1, 1), vm=_float, effect=_RAISES, doc="Int, Float or String to Float"),
    Prim("int", arity=(1, 1), vm=_int, effect=_RAISES, doc="Int, Float (truncated) or String"),
    Prim("even?", arity=(1, 1), vm=_is_even, effect=_RAISES),
    Prim("odd?", arity=(1, 1), vm=_is_odd, effect=_RAISES),
    Prim("zero?", arity=(1, 1), vm=_is_zero, effect=_RAISES),
    Prim("positive?", arity=(1, 1), vm=_is_positive, effect=_RAISES),
    Prim("negative?", arity=(1, 1), vm=_is_negative, effect=_RAISES),
    Prim("pi", arity=(0, 0), kind=PrimKind.CONSTANT, value=math.pi, effect=_PURE),
]
