"""The error-kind table (LANGUAGE.md §13.1) and the exception that carries a FluentAI error.

Every kind a program can see is a row here; the C runtime's header is generated from it later.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from fluentai.records import record


class Phase(Enum):
    COMPILE = "compile"
    RUNTIME = "runtime"
    BOTH = "both"
    FATAL = "fatal"  # not catchable, reported as `fluentai: error: ...`


@record
class ErrorKind:
    name: str
    phase: Phase
    doc: str


KINDS: Final[dict[str, ErrorKind]] = {
    k.name: k
    for k in (
        ErrorKind("syntax-error", Phase.COMPILE, "reader and static checks"),
        ErrorKind("type-error", Phase.RUNTIME, "wrong argument type, calling a non-function"),
        ErrorKind("arity-error", Phase.BOTH, "wrong number of arguments"),
        ErrorKind("unbound-variable", Phase.BOTH, "undefined name, variable read before set"),
        ErrorKind("division-by-zero", Phase.RUNTIME, "zero divisor"),
        ErrorKind("empty-list", Phase.RUNTIME, "head/tail/last/reduce/choice of []"),
        ErrorKind("index-out-of-range", Phase.RUNTIME, "nth, string-ref, substring"),
        ErrorKind("key-error", Phase.RUNTIME, "fetch of a missing key"),
        ErrorKind("match-failure", Phase.RUNTIME, "no match clause applies"),
        ErrorKind("stack-overflow", Phase.RUNTIME, "non-tail recursion beyond the limit"),
        ErrorKind("value-error", Phase.RUNTIME, "a bad value of the right type"),
        ErrorKind("io-error", Phase.RUNTIME, "file operations"),
        ErrorKind("unhandled-effect", Phase.RUNTIME, "user operation without a handler"),
        ErrorKind("user", Phase.RUNTIME, "`error`, and `raise` given only a message"),
        ErrorKind("internal", Phase.FATAL, "a bug in the implementation"),
        ErrorKind("out-of-memory", Phase.FATAL, "memory exhausted"),
    )
}

# Normative messages (LANGUAGE.md §13.4).
MSG_DIVISION_BY_ZERO: Final = "division by zero"
MSG_STACK_OVERFLOW: Final = "maximum recursion depth exceeded"
MSG_NESTING: Final = "nesting too deep"


class FlError(Exception):
    """A FluentAI runtime error raised by a builtin or the VM: kind, message, data.

    `message` is already a string (display form). The VM turns this into an error:raise perform.
    """

    def __init__(self, kind: str, message: str, data: object = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.data = data


def arity_phrase(lo: int, hi: int | None) -> str:
    """`1 argument`, `at least 1 argument`, `1 to 3 arguments` (LANGUAGE.md §13.4)."""

    def n_args(n: int) -> str:
        return f"{n} argument" if n == 1 else f"{n} arguments"

    if hi is None:
        return f"at least {n_args(lo)}"
    if lo == hi:
        return n_args(lo)
    return f"{lo} to {hi} arguments"  # `0 to 1 arguments`, as `1 to 3 arguments`


def arity_message(name: str, lo: int, hi: int | None, got: int, *, by_twos: bool = False) -> str:
    """`by_twos`: the builtin takes lo, lo + 2, lo + 4, ... arguments (`assoc`)."""
    phrase = f"{lo}, {lo + 2}, {lo + 4}, ... arguments" if by_twos else arity_phrase(lo, hi)
    return f"`{name}` expects {phrase}, got {got}"


class ProgramExit(Exception):
    """`(exit n)`: flush output and end the program with status n (no `finally` runs)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exit {code}")
        self.code = code


class ResourceError(RuntimeError):
    """Something the run needs from the machine failed (LLVM's library could not be loaded,
    the program could not be linked): not a bug, reported as `fluentai: error: MESSAGE`, status
    70 (driver.internal_error)."""
