"""List builtins of the VM (LANGUAGE.md §7, §17 "Lists"): the first-order ones, as `Prim` rows.

The higher-order list builtins (`map`, `filter`, `fold`, `sort`, ...) are written in FluentAI in
`prelude.fl`; their rows here have kind PRELUDE and no VM implementation (DESIGN.md §1.3).

Every function walks lists with loops, never recursion, so lists of any length work:
    _append(from_iter([1]), from_iter([2, 3]))   -> [1 2 3], sharing the last list
    _take(5, from_iter([1, 2]))                  -> [1 2], the argument itself
"""

from __future__ import annotations

from typing import Any, Final

from fluentai.errors import FlError
from fluentai.primitives import Effect, Prim, PrimKind
from fluentai.vm.maps import FlMap
from fluentai.vm.numbers import int_to_float
from fluentai.vm.printer import type_error
from fluentai.vm.profile import long_builtin_safepoint
from fluentai.vm.values import EMPTY, Cons, from_iter, to_pylist

__all__ = ["ROWS"]

_LIST: Final = "a List"


def _check_list(name: str, v: object) -> None:
    if v is not EMPTY and type(v) is not Cons:
        raise type_error(name, _LIST, v)


def _check_int(name: str, v: object) -> int:
    if type(v) is not int:
        raise type_error(name, "an Int", v)
    return v


def _empty_list_error(name: str) -> FlError:
    return FlError("empty-list", f"`{name}` expects a non-empty list, got []")


def _check_count(name: str, n: object) -> int:
    count = _check_int(name, n)
    if count < 0:
        raise FlError("value-error", f"`{name}` expects a non-negative count, got {count}")
    return count


def _build_reversed(items: list[object], tail: Any = EMPTY) -> Any:
    """The List of `items` in order, in front of `tail`."""
    result = tail
    for item in reversed(items):
        result = Cons(item, result)
    return result


def _list(*items: object) -> Any:
    return from_iter(items)


def _cons(head: object, tail: object) -> Any:
    if tail is not EMPTY and type(tail) is not Cons:
        raise type_error("cons", _LIST, tail)
    return Cons(head, tail)


def _head(lst: Any) -> object:
    if type(lst) is Cons:
        return lst.head
    if lst is EMPTY:
        raise _empty_list_error("head")
    raise type_error("head", _LIST, lst)


def _tail(lst: Any) -> object:
    if type(lst) is Cons:
        return lst.tail
    if lst is EMPTY:
        raise _empty_list_error("tail")
    raise type_error("tail", _LIST, lst)


def _last(lst: Any) -> object:
    if type(lst) is not Cons:
        if lst is EMPTY:
            raise _empty_list_error("last")
        raise type_error("last", _LIST, lst)
    tail = lst.tail
    while tail is not EMPTY:
        lst = tail
        tail = lst.tail
    return lst.head


def _is_empty(v: object) -> bool:
    if v is EMPTY:
        return True
    kind = type(v)
    if kind is Cons:
        return False
    if kind is str or kind is FlMap:
        return len(v) == 0  # type: ignore[arg-type]
    raise type_error("empty?", "a List, String or Map", v)


def _length(v: Any) -> int:
    kind = type(v)
    if kind is Cons or v is EMPTY:
        return v.length  # type: ignore[no-any-return]
    if kind is str or kind is FlMap:
        return len(v)
    raise type_error("length", "a List, String or Map", v)


def _nth(lst: Any, index: object) -> object:
    _check_list("nth", lst)
    i = _check_int("nth", index)
    if i < 0 or i >= lst.length:
        raise FlError(
            "index-out-of-range", f"`nth`: index {i} out of range for length {lst.length}"
        )
    for _ in range(i):
        lst = lst.tail
    return lst.head


def _append(*lists: Any) -> Any:
    for lst in lists:
        _check_list("append", lst)
    if not lists:
        return EMPTY
    result = lists[-1]
    for lst in reversed(lists[:-1]):
        if lst is not EMPTY:
            result = _build_reversed(to_pylist(lst), result)
    return result


def _reverse(lst: Any) -> Any:
    _check_list("reverse", lst)
    result = EMPTY
    while lst is not EMPTY:
        result = Cons(lst.head, result)
        lst = lst.tail
    return result


def _nreverse(lst: Any, tail: Any = EMPTY) -> Any:
    """`(%nreverse acc)`, `(%nreverse acc tail)`: the elements of acc in reverse order, in front
    of tail, made by re-linking acc's own cells. Prelude only, on an accumulator it has just
    built and never shared (map, filter, ...): nobody can see the cells change."""
    result = tail
    n = tail.length
    while lst is not EMPTY:
        following = lst.tail
        n += 1
        lst.tail = result
        lst.length = n
        result = lst
        lst = following
    return result


def _link(prev: Any, x: object, like: Any) -> Any:
    """`(%link! prev x like)`: a new last cell holding x and counting as many cells as the
    non-empty list `like` (or `like` cells, an Int), linked after prev (unless prev is []).
    Prelude only: map builds its result front to back with it, each cell getting the length of
    the argument's cell at its position (`%map-range`: the count of elements left), on cells
    nobody else sees before the list is finished."""
    cell = Cons(x, EMPTY)
    cell.length = like if type(like) is int else like.length
    if prev is not EMPTY:
        prev.tail = cell
    return cell


def _native() -> bool:
    """`(%native?)`: #f here, #t in native code (lower.py makes it a constant there)."""
    return False


def _take(n: object, lst: Any) -> Any:
    count = _check_count("take", n)
    _check_list("take", lst)
    if count >= lst.length:
        return lst
    items: list[object] = []
    for _ in range(count):
        items.append(lst.head)
        lst = lst.tail
    return _build_reversed(items)


def _drop(n: object, lst: Any) -> Any:
    count = _check_count("drop", n)
    _check_list("drop", lst)
    if count >= lst.length:
        return EMPTY
    for _ in range(count):
        lst = lst.tail
    return lst


RANGE_CHUNK: Final = 1 << 16  # a long `range` is a safepoint of the profile this often
RANGE_MAX: Final = 1 << 48  # more elements than any memory holds (8 PiB of cells)


def _range(*args: object) -> Any:
    bounds = [_check_int("range", a) for a in args]
    step = 1
    if len(bounds) == 1:
        start, end = 0, bounds[0]
    elif len(bounds) == 2:
        start, end = bounds
    else:
        start, end, step = bounds
        if step == 0:
            raise FlError("value-error", "`range` expects a non-zero step, got 0")
    result = EMPTY
    numbers = range(start, end, step)
    if not numbers:  # empty, however far apart the bounds
        return EMPTY
    if abs(end - start) > abs(step) * RANGE_MAX:  # no memory holds them (len() would overflow)
        raise MemoryError  # reported as `out-of-memory` (LANGUAGE.md §13.4), as list.c does
    count = len(numbers)
    for chunk_end in range(count, 0, -RANGE_CHUNK):
        for i in reversed(numbers[max(0, chunk_end - RANGE_CHUNK) : chunk_end]):
            result = Cons(i, result)
        if chunk_end > RANGE_CHUNK:
            long_builtin_safepoint()
    return result


def _zip(*lists: Any) -> Any:
    for lst in lists:
        _check_list("zip", lst)
    n = min(lst.length for lst in lists)
    columns: list[list[object]] = []
    for lst in lists:
        column: list[object] = []
        for _ in range(n):
            column.append(lst.head)
            lst = lst.tail
        columns.append(column)
    columns.reverse()
    result = EMPTY
    for i in range(n - 1, -1, -1):
        row = EMPTY
        for column in columns:
            row = Cons(column[i], row)
        result = Cons(row, result)
    return result


def _check_numbers(name: str, lst: Any) -> list[int | float]:
    _check_list(name, lst)
    items = to_pylist(lst)
    for x in items:
        kind = type(x)
        if kind is not int and kind is not float:
            raise type_error(name, "a Number", x)
    return items  # type: ignore[return-value]


def _sum(lst: Any) -> int | float:
    """`(+ x1 x2 ...)`: 0 for [], the element itself for one (so `(sum [-0.0])` is -0.0)."""
    items = _check_numbers("sum", lst)
    if not items:
        return 0
    acc = items[0]
    for x in items[1:]:
        if type(acc) is type(x):
            acc += x
        elif type(x) is int:
            acc += int_to_float(x, "sum")
        else:
            acc = int_to_float(acc, "sum") + x  # type: ignore[arg-type]
    return acc


def _product(lst: Any) -> int | float:
    items = _check_numbers("product", lst)
    if not items:
        return 1
    acc = items[0]
    for x in items[1:]:
        if type(acc) is type(x):
            acc *= x
        elif type(x) is int:
            acc *= int_to_float(x, "product")
        else:
            acc = int_to_float(acc, "product") * x  # type: ignore[arg-type]
    return acc


def _prelude(name: str, lo: int, hi: int | None, doc: str, *, internal: bool = False) -> Prim:
    """A higher-order builtin written in `prelude.fl`; it may raise and calls its function."""
    return Prim(
        name,
        arity=(lo, hi),
        kind=PrimKind.PRELUDE,
        effect=Effect.CALLS | Effect.RAISES,
        internal=internal,
        doc=doc,
    )


def _sort_numbers_or_strings(lst: Any) -> Any:
    """`(sort l)`: exactly the merge sort of LANGUAGE.md §7 with `<` as less?. The prelude has
    checked that the elements are all numbers or all strings, so `<` cannot raise and has no
    effect: running the same algorithm here gives the same result as running it in FluentAI."""
    from fluentai import primitives

    row = primitives.lookup("<")
    assert row is not None and row.vm is not None
    less = row.vm

    def merge_sort(xs: list[Any]) -> list[Any]:
        if len(xs) <= 1:
            return xs
        k = len(xs) // 2
        a, b = merge_sort(xs[:k]), merge_sort(xs[k:])
        out: list[Any] = []
        i = j = 0
        while i < len(a) and j < len(b):
            if less(b[j], a[i]):
                out.append(b[j])
                j += 1
            else:
                out.append(a[i])
                i += 1
        out.extend(a[i:])
        out.extend(b[j:])
        return out

    return from_iter(merge_sort(to_pylist(lst)))


ROWS: Final[list[Prim]] = [
    Prim(
        "%sort-default",
        arity=(1, 1),
        vm=_sort_numbers_or_strings,
        effect=Effect.PURE,
        internal=True,
        doc="(sort l) after %check-sortable",
    ),
    Prim(
        "%nreverse",
        arity=(1, 2),
        vm=_nreverse,
        internal=True,
        doc="(reverse acc) by re-linking an unshared accumulator's cells, onto tail",
    ),
    Prim(
        "%link!",
        arity=(3, 3),
        vm=_link,
        internal=True,
        doc="a list's next cell, built front to back: x after prev, as long as like (or like)",
    ),
    Prim(
        "%native?",
        arity=(0, 0),
        vm=_native,
        internal=True,
        doc="#t in native code, #f in the VM: map's way of building its result (prelude.fl)",
    ),
    Prim("list", arity=(0, None), effect=Effect.PURE, vm=_list, doc="a List of the arguments"),
    Prim("cons", arity=(2, 2), vm=_cons, aliases=("Cons",), doc="a List with v in front of l"),
    Prim("head", arity=(1, 1), vm=_head, aliases=("car", "first"), doc="the first element"),
    Prim("tail", arity=(1, 1), vm=_tail, aliases=("cdr", "rest"), doc="all but the first"),
    Prim("last", arity=(1, 1), vm=_last, doc="the last element"),
    Prim("empty?", arity=(1, 1), vm=_is_empty, doc="is the List, String or Map empty"),
    Prim("length", arity=(1, 1), vm=_length, doc="elements, code points or entries"),
    Prim("nth", arity=(2, 2), vm=_nth, doc="element i, counting from 0"),
    Prim("append", arity=(0, None), vm=_append, doc="the Lists joined"),
    Prim("reverse", arity=(1, 1), vm=_reverse, doc="the elements in reverse order"),
    Prim("take", arity=(2, 2), vm=_take, doc="the first n elements"),
    Prim("drop", arity=(2, 2), vm=_drop, doc="all but the first n elements"),
    Prim("range", arity=(1, 3), vm=_range, doc="Ints from start to end (excluded) by step"),
    Prim("zip", arity=(1, None), vm=_zip, doc="Lists of the i-th elements, up to the shortest"),
    Prim("sum", arity=(1, 1), vm=_sum, doc="`+` over the elements"),
    Prim("product", arity=(1, 1), vm=_product, doc="`*` over the elements"),
    Prim("Nil", arity=(0, 0), kind=PrimKind.CONSTANT, effect=Effect.PURE, value=EMPTY),
    _prelude("map", 2, None, "List of (f x1 y1 ...), up to the shortest list"),
    _prelude("%map-range", 4, 4, "(map f (range lo hi by)), no range list", internal=True),
    _prelude("for-each", 2, None, "calls (f x1 y1 ...) in order; nil"),
    _prelude("%for-each-range", 4, 4, "(for-each f (range lo hi by)), no range", internal=True),
    _prelude("filter", 2, 2, "the elements for which f is truthy"),
    _prelude("fold", 3, 3, "(f (f (f init x1) x2) ...)"),
    _prelude("fold-right", 3, 3, "(f x1 (f x2 (... (f xn init))))"),
    _prelude("reduce", 2, 3, "fold with the first element as init, or fold"),
    _prelude("concat-map", 2, 2, "the Lists returned by f, appended"),
    _prelude("any?", 2, 2, "is f truthy for some element"),
    _prelude("all?", 2, 2, "is f truthy for every element"),
    _prelude("sort", 1, 2, "stable merge sort (LANGUAGE.md §7)"),
]
