"""The program thread: every tier runs a program on a thread with an 8 GiB stack (reserved,
committed on demand), so deep recursion in the VM or in native code fits, and Ctrl-C in the main
thread interrupts it. Importable on its own (warm starts, fluentai/launch.py), so it uses the
`_thread` module: `threading` costs several milliseconds of imports."""

from __future__ import annotations

import _thread
import sys
import time

from fluentai import interrupts
from fluentai.interrupts import SAME_INTERRUPT_S

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

# The program thread's stack: native code's frames live there, and LANGUAGE.md §12's 100 000
# nested calls must fit even when a function's frame is large (a function holding hundreds of
# locals across its recursive call, at -O0, takes tens of KB). Only the pages a recursion
# touches are used; under an address-space limit the smaller sizes are tried in turn.
STACK_SIZES = (8 << 30, 2 << 30, 1 << 30, 256 << 20, 64 << 20, 0)


class _Flag:
    """The part of `threading.Event` used here, for callers that pass none."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


def run_in_big_thread(
    fn: Callable[[], int],
    interrupt: threading.Event | None = None,
    on_interrupt: Callable[[], object] | None = None,
    on_abandon: Callable[[], object] | None = None,
) -> int:
    """Run `fn` on a thread with a large stack; Ctrl-C in the main thread interrupts it.

    The first Ctrl-C sets `interrupt` (blocking waits in the world watch it) and raises
    KeyboardInterrupt inside the program thread, which unwinds through `finally` clauses (or,
    for native code, calls `on_interrupt`, which asks the runtime to unwind); a second Ctrl-C
    exits at once, after `on_abandon` has written what the program's output buffers hold (the
    program thread may still be running)."""
    interrupts.check()  # a Ctrl-C lost during the start-up ends the run before it starts
    flag: threading.Event | _Flag = interrupt if interrupt is not None else _Flag()
    result: list[int] = []
    failure: list[BaseException] = []
    ident: list[int] = []
    done = _thread.allocate_lock()
    done.acquire()

    def target() -> None:
        ident.append(_thread.get_ident())
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failure.append(exc)
        finally:
            done.release()

    old_size = _thread.stack_size()
    for size in STACK_SIZES:
        _thread.stack_size(size)
        try:
            _thread.start_new_thread(target, ())
            break
        except RuntimeError:
            if size == 0:
                raise MemoryError from None
        finally:
            _thread.stack_size(old_size)
    # SIGINT only records its time while the main thread waits here: a KeyboardInterrupt
    # raised in the main thread could land anywhere in the code that handles the first one
    # (`timeout -s INT` sends two at once), which then ended in a Python traceback
    hits: list[float] = []
    previous = _record_sigint(hits)
    first_at = 0.0
    try:
        # the thread's result, not the lock, says it ended: an interrupt raised between a
        # successful acquire and the test of its value loses the acquisition
        while not (result or failure):
            try:
                done.acquire(timeout=0.05 if previous is not None else 0.25)
            except KeyboardInterrupt:  # the default handler (not on the main thread)
                hits.append(time.monotonic())
            while hits and not (result or failure):
                at = hits.pop(0)
                if flag.is_set() and at - first_at < SAME_INTERRUPT_S:
                    continue  # the same interrupt, delivered to the process and to its group
                if flag.is_set() or not ident:
                    if on_abandon is not None and ident:
                        on_abandon()
                    sys.stderr.write("interrupted\n")
                    return 130  # EXIT_INTERRUPT
                flag.set()
                first_at = at
                interrupts.taken(at)  # its second delivery after the run is not raised either
                # on_interrupt returns False when the thread also needs the KeyboardInterrupt
                if on_interrupt is not None and on_interrupt() is not False:
                    continue
                import ctypes  # here only: a warm start of an image does not import it

                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident[0]), ctypes.py_object(KeyboardInterrupt)
                )
    finally:
        if previous is not None:
            _restore_sigint(previous)
    if failure:
        raise failure[0]
    return result[0]


def _record_sigint(hits: list[float]) -> object | None:
    """Make SIGINT append its time to `hits`; the handler it replaces, or None when this is
    not the main thread (only there can Python set handlers) and the default stays. `_signal`,
    not `signal`, whose `enum` import would cost a warm start milliseconds."""
    import _signal  # type: ignore[import-not-found]

    if not interrupts.is_ours(_signal.getsignal(_signal.SIGINT)):
        return None  # ignored (a background job), or the embedding program's own handler
    try:
        previous: object = _signal.signal(
            _signal.SIGINT, lambda _sig, _frame: hits.append(time.monotonic())
        )
    except (ValueError, OSError):
        return None
    return previous


def _restore_sigint(previous: object) -> None:
    import _signal

    _signal.signal(_signal.SIGINT, previous)
