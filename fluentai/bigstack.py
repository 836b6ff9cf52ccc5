"""The program thread: every tier runs a program on a thread with a 1 GiB stack (reserved,
committed on demand), so deep recursion in the VM or in native code fits, and Ctrl-C in the main
thread interrupts it. Importable on its own (warm starts, fluentai/launch.py)."""

from __future__ import annotations

import ctypes
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

STACK_BYTES = 1 << 30


def run_in_big_thread(
    fn: Callable[[], int],
    interrupt: threading.Event | None = None,
    on_interrupt: Callable[[], object] | None = None,
) -> int:
    """Run `fn` on a thread with a large stack; Ctrl-C in the main thread interrupts it.

    The first Ctrl-C sets `interrupt` (blocking waits in the world watch it) and raises
    KeyboardInterrupt inside the program thread, which unwinds through `finally` clauses (or,
    for native code, calls `on_interrupt`, which asks the runtime to unwind); a second Ctrl-C
    exits at once."""
    if interrupt is None:
        interrupt = threading.Event()
    result: list[int] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failure.append(exc)
        finally:
            done.set()

    old_size = threading.stack_size()
    thread = threading.Thread(target=target, name="fluentai-program", daemon=True)
    # under an address-space limit a 1 GiB stack cannot be reserved: try smaller ones
    for size in (STACK_BYTES, STACK_BYTES // 4, STACK_BYTES // 16, 0):
        threading.stack_size(size)
        try:
            thread = threading.Thread(target=target, name="fluentai-program", daemon=True)
            thread.start()
            break
        except RuntimeError:
            if size == 0:
                raise MemoryError from None
        finally:
            threading.stack_size(old_size)
    while True:
        try:
            if done.wait(0.25):
                break
        except KeyboardInterrupt:
            if interrupt.is_set() or thread.ident is None:
                sys.stderr.write("interrupted\n")
                return 130  # EXIT_INTERRUPT
            interrupt.set()
            # on_interrupt returns False when the thread also needs the KeyboardInterrupt
            if on_interrupt is not None and on_interrupt() is not False:
                continue
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
            )
    if failure:
        raise failure[0]
    return result[0]
