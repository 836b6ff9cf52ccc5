"""Error values, `error`, `args`, `exit` and `apply` (LANGUAGE.md §13.2, §16, §17 "General").

`normalize_raise` implements the argument rules of `error:raise` (§13.2), shared by the VM's
perform of `error:raise` and by `error`:
    ("k", "m")      -> ("k", "m", None)          (message,) -> ("user", message, None)
    ('k, 42, [1])   -> ("k", "42", [1])          (error-value,) -> that ErrorValue, raised again
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NoReturn

from fluentai.errors import FlError, ProgramExit
from fluentai.primitives import Effect, Prim, PrimKind
from fluentai.symbol import Symbol
from fluentai.vm.printer import display, type_error, written
from fluentai.vm.values import ErrorValue

if TYPE_CHECKING:
    from fluentai.vm.world import World

__all__ = ["ROWS", "normalize_raise"]


def _kind_name(name: str, kind: object) -> str:
    """An error kind: a String, or a Symbol's name."""
    if type(kind) is str:
        return kind
    if type(kind) is Symbol:
        return kind.name
    raise type_error(name, "a String or Symbol kind", kind)


def _message_text(message: object) -> str:
    """A message: a String as it is, any other value in its display form."""
    return message if type(message) is str else display(message)


def normalize_raise(args: tuple[object, ...]) -> tuple[str, str, object] | ErrorValue:
    """The (kind, message, data) that `(error:raise arg...)` raises, or the error value to raise
    again. One argument that is neither an error value nor a String is a message too (kind
    `user`), as it is for `error`."""
    if len(args) == 1:
        (only,) = args
        if type(only) is ErrorValue:
            return only
        return ("user", _message_text(only), None)
    if not 2 <= len(args) <= 3:
        raise AssertionError(f"error:raise given {len(args)} arguments after the arity check")
    kind = _kind_name("error:raise", args[0])
    data = args[2] if len(args) == 3 else None
    return (kind, _message_text(args[1]), data)


def _error(message: object, data: object = None) -> NoReturn:
    raise FlError("user", _message_text(message), data)


def _make_error(kind: object, message: object, data: object) -> ErrorValue:
    return ErrorValue(_kind_name("Error", kind), _message_text(message), data)


def _check_error(name: str, e: object) -> ErrorValue:
    if type(e) is not ErrorValue:
        raise type_error(name, "an Error", e)
    return e


def _error_kind(e: object) -> str:
    return _check_error("error-kind", e).kind


def _error_message(e: object) -> str:
    return _check_error("error-message", e).message


def _error_data(e: object) -> object:
    return _check_error("error-data", e).data


def _args(world: World) -> object:
    return world.args


def _exit(world: World, code: object = 0) -> NoReturn:
    if type(code) is not int:
        raise type_error("exit", "an Int", code)
    if not 0 <= code <= 255:
        raise FlError("value-error", f"`exit` expects a code from 0 to 255, got {code}")
    world.flush()
    raise ProgramExit(code)


ROWS: Final[list[Prim]] = [
    Prim("Error", arity=(3, 3), vm=_make_error, doc="an error value (kind message data)"),
    Prim("error-kind", arity=(1, 1), vm=_error_kind, doc="the kind of an error value"),
    Prim("error-message", arity=(1, 1), vm=_error_message, doc="the message of an error value"),
    Prim("error-data", arity=(1, 1), vm=_error_data, doc="the data of an error value"),
    Prim("error", arity=(1, 2), vm=_error, doc='(raise "user" message data?)'),
    Prim(
        "args",
        arity=(0, 0),
        effect=Effect.CONTROL,
        vm=_args,
        needs_world=True,
        doc="List of the program's argument strings",
    ),
    Prim(
        "exit",
        arity=(0, 1),
        effect=Effect.CONTROL | Effect.RAISES,
        vm=_exit,
        needs_world=True,
        doc="flush output and end the program with status n",
    ),
    Prim(
        "apply",
        arity=(2, None),
        kind=PrimKind.INTRINSIC,
        effect=Effect.CALLS | Effect.RAISES,
        doc="(f a... elements-of-l...), executed by the VM",
    ),
    Prim(
        "%written",
        arity=(1, 1),
        effect=Effect.PURE,
        vm=written,
        internal=True,
        doc="the written form, for prelude error messages",
    ),
]
