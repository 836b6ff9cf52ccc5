"""Default behaviours of the built-in effect operations (LANGUAGE.md §14.2), as EFFECT rows.

A perform that no handler handles runs the row's `vm(world, *args)`. Two rows have no Python
default: `error:raise` (the VM unwinds itself, §13) and `state:update`, whose default
`%state-update` is written in `prelude.fl` because it calls a function.
    (io:print "a" 1)   -> world.write("a 1\\n"), nil
    (state:set "k" 2)  -> the previous value of "k", or nil
"""

from __future__ import annotations

import math
import os
import stat
import time
from typing import TYPE_CHECKING, Any, Final

from fluentai.errors import FlError
from fluentai.primitives import Effect, Prim, PrimKind
from fluentai.vm.printer import display, type_error, written
from fluentai.vm.values import EMPTY, Cons

if TYPE_CHECKING:
    from fluentai.vm.world import World

__all__ = ["ROWS"]

# io


def _io_print(world: World, *args: object) -> None:
    world.write(" ".join(map(display, args)) + "\n")


def _io_write(world: World, *args: object) -> None:
    world.write(" ".join(map(display, args)))


def _io_print_err(world: World, *args: object) -> None:
    world.write_err(" ".join(map(display, args)) + "\n")


def _io_read_line(world: World) -> str | None:
    return world.read_line()


def _check_path(name: str, path: object) -> str:
    if type(path) is not str:
        raise type_error(name, "a String path", path)
    return path


def _io_error(name: str, action: str, path: str, exc: OSError | ValueError) -> FlError:
    """`` `io:read-file`: cannot read "x.txt": No such file or directory ``."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return FlError("io-error", f"`{name}`: cannot {action} {written(path)}: {reason}")


def _io_read_file(world: World, path: object) -> str:
    name = "io:read-file"
    checked = _check_path(name, path)
    try:
        with open(checked, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                # a pipe, FIFO or terminal (/dev/stdin) is consumed by reading it: a restart
                # could not read it again (World.touched)
                _touch(world)
            data = f.read()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        raise _io_error(name, "read", checked, exc) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FlError("io-error", f"`{name}`: {written(checked)} is not valid UTF-8") from None


def _write_file(name: str, mode: str, path: object, text: object) -> None:
    checked = _check_path(name, path)
    if type(text) is not str:
        raise type_error(name, "a String", text)
    data = text.encode("utf-8", "replace")
    try:
        with open(checked, mode) as f:
            f.write(data)
    except (OSError, ValueError) as exc:
        raise _io_error(name, "write", checked, exc) from None


def _touch(world: World | None) -> None:
    """A file written is something another process can see (World.touched)."""
    if world is not None:
        world.touched = True


def _io_write_file(world: World | None, path: object, text: object) -> None:
    _touch(world)
    _write_file("io:write-file", "wb", path, text)


def _io_append_file(world: World | None, path: object, text: object) -> None:
    _touch(world)
    _write_file("io:append-file", "ab", path, text)


def _io_file_exists(world: World, path: object) -> bool:
    name = "io:file-exists?"
    checked = _check_path(name, path)
    try:
        os.stat(checked)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError) as exc:
        raise _io_error(name, "check", checked, exc) from None
    return True


# state


def _state_get(world: World, key: object) -> object:
    return world.state_get(key)


def _state_set(world: World, key: object, value: object) -> object:
    return world.state_set(key, value)


def _state_delete(world: World, key: object) -> object:
    return world.state_delete(key)


def _state_begin(world: World) -> None:
    world.begin_transaction()


def _state_commit(world: World) -> None:
    world.commit_transaction()


def _state_rollback(world: World) -> None:
    world.rollback_transaction()


# time


def _time_now(world: World) -> float:
    return time.time()


def _time_monotonic(world: World) -> float:
    return time.monotonic()


def _time_sleep(world: World, seconds: object) -> None:
    name = "time:sleep"
    if type(seconds) is not int and type(seconds) is not float:
        raise type_error(name, "a Number", seconds)
    if not seconds >= 0:  # also rejects NaN
        raise FlError(
            "value-error", f"`{name}` expects a non-negative number, got {written(seconds)}"
        )
    if type(seconds) is float and math.isinf(seconds):
        raise FlError("value-error", f"`{name}` expects a finite number, got inf")
    world.flush()
    try:
        world.sleep(seconds)
    except OverflowError:
        raise FlError("value-error", f"`{name}`: {written(seconds)} seconds is too long") from None


# random


def _check_int(name: str, n: object) -> int:
    if type(n) is not int:
        raise type_error(name, "an Int", n)
    return n


def _check_list(name: str, lst: object) -> Any:
    if lst is not EMPTY and type(lst) is not Cons:
        raise type_error(name, "a List", lst)
    return lst


def _random_float(world: World) -> float:
    return world.prng.float()


def _random_int(world: World, lo: object, hi: object) -> int:
    return world.prng.int(_check_int("random:int", lo), _check_int("random:int", hi))


def _random_choice(world: World, lst: object) -> object:
    return world.prng.choice(_check_list("random:choice", lst))


def _random_shuffle(world: World, lst: object) -> object:
    return world.prng.shuffle(_check_list("random:shuffle", lst))


def _random_seed(world: World, n: object) -> None:
    world.prng.seed(_check_int("random:seed", n))


def _op(
    name: str,
    lo: int,
    hi: int | None,
    effect: Effect,
    impl: Any,
    doc: str,
    aliases: tuple[str, ...] = (),
) -> Prim:
    return Prim(
        name,
        arity=(lo, hi),
        kind=PrimKind.EFFECT,
        effect=effect,
        vm=impl,
        aliases=aliases,
        needs_world=True,
        doc=doc,
    )


_IO: Final = Effect.IO
_IO_RAISES: Final = Effect.IO | Effect.RAISES
_STATE: Final = Effect.STATE
_STATE_RAISES: Final = Effect.STATE | Effect.RAISES
_RANDOM_RAISES: Final = Effect.RANDOM | Effect.RAISES

ROWS: Final[list[Prim]] = [
    _op(
        "io:print", 0, None, _IO, _io_print, "display forms, spaces, newline", ("print", "println")
    ),
    _op("io:write", 0, None, _IO, _io_write, "display forms joined by spaces"),
    _op("io:print-err", 0, None, _IO, _io_print_err, "like io:print, to standard error"),
    _op("io:read-line", 0, 0, _IO_RAISES, _io_read_line, "a line of input or nil", ("read-line",)),
    _op("io:read-file", 1, 1, _IO_RAISES, _io_read_file, "a file's contents (UTF-8)"),
    _op("io:write-file", 2, 2, _IO_RAISES, _io_write_file, "replace a file's contents"),
    _op("io:append-file", 2, 2, _IO_RAISES, _io_append_file, "append to a file"),
    _op("io:file-exists?", 1, 1, _IO_RAISES, _io_file_exists, "does the path exist"),
    _op("state:get", 1, 1, _STATE, _state_get, "the stored value, or nil"),
    _op("state:set", 2, 2, _STATE, _state_set, "store; the previous value or nil"),
    Prim(
        "state:update",
        arity=(2, 2),
        kind=PrimKind.EFFECT,
        effect=Effect.STATE | Effect.CALLS | Effect.RAISES,
        prelude_default="%state-update",
        doc="store (f old); the new value",
    ),
    _op("state:delete", 1, 1, _STATE, _state_delete, "remove; the removed value or nil"),
    _op("state:begin-transaction", 0, 0, _STATE, _state_begin, "start a nested transaction"),
    _op("state:commit-transaction", 0, 0, _STATE_RAISES, _state_commit, "keep its changes"),
    _op("state:rollback-transaction", 0, 0, _STATE_RAISES, _state_rollback, "undo its changes"),
    Prim(
        "error:raise",
        arity=(1, 3),
        kind=PrimKind.EFFECT,
        effect=Effect.RAISES,
        aliases=("raise",),
        doc="raise an error (LANGUAGE.md §13.2, §14.4)",
    ),
    _op("time:now", 0, 0, Effect.TIME, _time_now, "Float seconds since the Unix epoch"),
    _op("time:monotonic", 0, 0, Effect.TIME, _time_monotonic, "Float seconds, never decreasing"),
    _op("time:sleep", 1, 1, Effect.TIME | Effect.RAISES, _time_sleep, "wait that many seconds"),
    _op("random:float", 0, 0, Effect.RANDOM, _random_float, "Float in [0, 1)", ("random:random",)),
    _op("random:int", 2, 2, _RANDOM_RAISES, _random_int, "Int in [lo, hi]", ("random:randint",)),
    _op("random:choice", 1, 1, _RANDOM_RAISES, _random_choice, "a random element"),
    _op("random:shuffle", 1, 1, _RANDOM_RAISES, _random_shuffle, "the elements shuffled"),
    _op("random:seed", 1, 1, _RANDOM_RAISES, _random_seed, "reseed the generator"),
    Prim(
        "%state-get",
        arity=(1, 1),
        effect=Effect.STATE,
        vm=_state_get,
        needs_world=True,
        internal=True,
        doc="state:get's default, for %state-update",
    ),
    Prim(
        "%state-set",
        arity=(2, 2),
        effect=Effect.STATE,
        vm=_state_set,
        needs_world=True,
        internal=True,
        doc="state:set's default, for %state-update",
    ),
]
