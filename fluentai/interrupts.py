"""Ctrl-C outside a program run: how the `fluentai` command takes SIGINT from its first line.

While a program runs, the program thread's module (fluentai/bigstack.py) takes SIGINT. Before
that (the interpreter's imports, compiling) and after it, Python's own handler raised
KeyboardInterrupt wherever the main thread was, and `timeout -s INT` or a process group's `kill`
deliver two SIGINTs at once: the second one could land in the code that handles the first, which
then ended in a Python traceback. `install` replaces that handler with one that raises
KeyboardInterrupt as Python's does, except for a SIGINT within SAME_INTERRUPT_S of the one before,
which is the same interrupt delivered twice (as in runtime/main.c):

    interrupts.install()   # fluentai/launch.py, before anything else
    ...                    # Ctrl-C: KeyboardInterrupt, reported as `interrupted`, status 130

Imports only built-in modules: it runs before the command has imported anything.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # not `signal`, whose enum import costs ms
import sys
import time

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs start-up time
if TYPE_CHECKING:
    from types import FrameType

# Within this time of the first, another SIGINT is the same interrupt: `timeout -s INT` and
# `kill` of a process group deliver one to the process and one to its group (runtime/main.c).
SAME_INTERRUPT_S = 0.3

# when the last interrupt was taken (time.monotonic()), by this handler or by a program run's
_last: list[float] = []
# an interrupt raised by this handler that no code has seen yet (see `check`)
_unseen: list[bool] = []


def taken(at: float) -> None:
    """Note that an interrupt was taken at `at`: its second delivery is not raised again."""
    _last[:] = [at]


def raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    """The command's SIGINT handler: KeyboardInterrupt, once per interrupt."""
    now = time.monotonic()
    if _last and now - _last[0] < SAME_INTERRUPT_S:
        return  # the same interrupt, delivered to the process and to its group
    taken(now)
    _unseen[:] = [True]
    raise KeyboardInterrupt


def check() -> None:
    """Raise KeyboardInterrupt again for an interrupt that was raised but lost: Python drops
    an exception raised in a weak reference's callback or a destructor ("Exception ignored
    in ..."), which the import system runs. A program run calls this before it starts, so a
    Ctrl-C during its start-up never goes unanswered. The callers of `install` end the command
    on KeyboardInterrupt, so an interrupt raised by `raise_interrupt` is lost if the program
    is still to run."""
    if _unseen:
        _unseen.clear()
        raise KeyboardInterrupt


def install() -> None:
    """Take SIGINT with `raise_interrupt` where Python's default handler would take it (not
    when SIGINT is ignored, as in a background job, or is someone else's)."""
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, raise_interrupt)
        sys.unraisablehook = _keep_quiet_about_interrupts


def _keep_quiet_about_interrupts(unraisable: sys.UnraisableHookArgs) -> None:
    """A KeyboardInterrupt that Python has to drop is not written out with its traceback:
    `check` raises it again."""
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def is_ours(handler: object) -> bool:
    """Whether `handler` raises KeyboardInterrupt on SIGINT as Python's default handler does
    (`raise_interrupt` or that handler), so that a program run may take SIGINT in its place."""
    return handler is _signal.default_int_handler or handler is raise_interrupt
