"""The state store while native code holds it (DESIGN.md §5.4: one store, shared by the tiers).

A program that uses `state:*` keeps its store in the VM's world (`World.store`, a
`vm.world.StateStore`) until the JIT installs a unit: the unit's native code works on the
runtime's store (`fl_ctl.state`), and native code never calls the VM. So the JIT hands the store
over at install time (`give`): its contents become native values, the runtime takes them, and the
world's store becomes a `NativeStore`, whose operations convert their arguments, run the
runtime's own and convert the result back. Before another unit replaces this one (tier 2), the
JIT takes the store back (`take`) and hands it to the new unit.

A value the bridge cannot give native code cannot be stored natively: it sends the store back to
the VM for the rest of the run, and the JIT uninstalls its unit and installs none again. (A
closure over a variable assigned with `set!` crosses both ways: the VM and native code share
that variable, jit/bridge.py, TwinBox.)
No native frame is live while VM code runs (a call crosses to native code from the VM, and native
code never calls the VM), so nothing native sees the store change hands.

docs/jit.md, "What stays in the VM"; docs/decisions.md, "Tiered JIT" 24.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from fluentai.errors import FlError
from fluentai.jit.bridge import Codec, NativeError, Unconvertible
from fluentai.vm.world import NO_TRANSACTION, StateStore

ROOT_WORDS = 2  # a key and a value


class NativeStore:
    """`World.store` while the runtime holds the store. `hand_back(reason)` is the JIT's: it
    takes the store back for good and returns the VM's store."""

    def __init__(
        self,
        lib: Any,
        codec: Codec,
        hand_back: Callable[[str], StateStore],
    ) -> None:
        self._lib = lib
        self._codec = codec
        self._hand_back = hand_back
        self._words = codec.roots(ROOT_WORDS)

    def get(self, key: object) -> object:
        return self._op(self._lib.fl_e_stateZ3a_get, (key,), lambda s: s.get(key))

    def set(self, key: object, value: object) -> object:
        fn = self._lib.fl_e_stateZ3a_set
        return self._op(fn, (key, value), lambda s: s.set(key, value))

    def delete(self, key: object) -> object:
        fn = self._lib.fl_e_stateZ3a_delete
        return self._op(fn, (key,), lambda s: s.delete(key))

    def begin(self) -> None:
        self._lib.fl_e_stateZ3a_begin_transaction(0, None)

    def commit(self) -> None:
        if self._open() == 0:
            raise FlError("value-error", NO_TRANSACTION.format("commit"))
        self._lib.fl_e_stateZ3a_commit_transaction(0, None)

    def rollback(self) -> None:
        if self._open() == 0:
            raise FlError("value-error", NO_TRANSACTION.format("rollback"))
        self._lib.fl_e_stateZ3a_rollback_transaction(0, None)

    def contents(self) -> list[Any]:
        """The store, then the saved maps, outermost first, as VM values."""
        n = self._lib.fl_rt_state_export(None, 0)
        out = (ctypes.c_uint64 * n)()
        self._lib.fl_rt_state_export(out, n)
        # each decoded at once (to_vm lets no collection run between the export and it; the
        # runtime's store keeps them alive meanwhile)
        return [self._codec.to_vm(out[i]) for i in range(n)]

    def _open(self) -> int:
        count: int = self._lib.fl_rt_state_export(None, 0) - 1
        return count

    def _op(self, fn: Any, args: tuple[Any, ...], in_vm: Callable[[StateStore], Any]) -> Any:
        """`fn` on the runtime's store, its result as a VM value (`in_vm` on the VM's store
        instead when an argument cannot be native)."""
        try:
            self._codec.to_native(args, self._words)
        except Unconvertible as exc:
            return in_vm(
                self._hand_back(f"the program stored a value native code cannot take ({exc})")
            )
        word = fn(len(args), self._words)
        for i in range(len(args)):
            self._words[i] = 0
        if word == 0:
            err = self._codec.take_error()
            if isinstance(err, NativeError):
                raise FlError(err.kind, err.message, err.data)
            raise MemoryError if "out of memory" in err else RuntimeError(err)
        return self._codec.to_vm(word)


def give(
    lib: Any,
    codec: Codec,
    store: Any,
    hand_back: Callable[[str], StateStore],
) -> Any:
    """Hand the VM's `store` to the runtime; the world's store from now on (a NativeStore), or
    the reason it stays in the VM (a str)."""
    contents = store.contents()
    out = codec.roots(len(contents))  # never freed: one per hand-over
    try:
        codec.to_native(contents, out)
    except Unconvertible as exc:
        return f"the state store holds a value native code cannot take ({exc})"
    if lib.fl_rt_state_install(out, len(contents)) != 0:
        codec.take_error()
        raise MemoryError
    for i in range(len(contents)):
        out[i] = 0
    return NativeStore(lib, codec, hand_back)


def take(store: NativeStore) -> StateStore:
    """The runtime's store back in the VM."""
    state, *saved = store.contents()
    return StateStore(state, saved)
