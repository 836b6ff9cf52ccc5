"""ctypes binding of the C runtime for the JIT host (DESIGN.md §3.4, §4.4, §5; fl_runtime.h).

The shared library is loaded once per process, with RTLD_GLOBAL so that JIT code resolves the
runtime's symbols, and initialized on the loading (main) thread:

    rt = load()                                  # build if stale, dlopen, fl_rt_init()
    rt.begin(shim, sites, ["a"], 200_000)        # per program run, on the program thread
    status = rt.finish(result)                   # report, 0 / 70 / 130 / exit code
    rt.address("fl_rt_poll")                     # for llvmlite's add_symbol
    rt.prng_state()[0]                           # the PRNG words the VM's Prng draws from

Values cross as plain 64-bit words; keeping them alive is the caller's business (DESIGN.md §3.5:
an address held only in a Python int is not a GC root).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from fluentai.records import record
from fluentai.runtime import layout

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "CALL_SHIM",
    "FlSite",
    "READ_LINE_HOOK",
    "Runtime",
    "SHARED_GLOBALS",
    "SiteInfo",
    "load",
    "runtime",
]

# fl_value (*)(fl_value clo, int64_t argc, const fl_value *argv): the compiler's call shim.
CALL_SHIM: Final = ctypes.CFUNCTYPE(
    ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int64, ctypes.POINTER(ctypes.c_uint64)
)
# fl_value (*)(void): the VM's reader behind io:read-line (a String, nil, or 0 when pending).
READ_LINE_HOOK: Final = ctypes.CFUNCTYPE(ctypes.c_uint64)

# Globals that generated code loads and stores directly (fl_runtime.h).
SHARED_GLOBALS: Final = ("fl_rt_depth", "fl_rt_depth_limit", "fl_rt_poll", "fl_rt_site")


def c_text(text: str) -> bytes:
    """A name or source line as the runtime's C strings hold it (no terminator): a NUL inside
    (a Symbol may hold one, LANGUAGE.md §1) is C0 80, never valid UTF-8, which the runtime
    writes and turns into strings as a NUL (`fl_buf_puts`, `fl_string_from_cstr`);
    surrogateescape keeps the bytes of a file name that is not UTF-8."""
    return text.encode("utf-8", "surrogateescape").replace(b"\0", b"\xc0\x80")


def from_c_text(raw: bytes) -> str:
    """The text of such a C string (`c_text`'s inverse for valid UTF-8)."""
    return raw.replace(b"\xc0\x80", b"\0").decode("utf-8", "replace")


class FlSite(ctypes.Structure):
    """`fl_site`: one entry of the compiler's site table."""

    _fields_ = [
        ("where", ctypes.c_char_p),
        ("fn", ctypes.c_char_p),
        ("text", ctypes.c_char_p),
        ("caret_col", ctypes.c_int64),
        ("caret_width", ctypes.c_int64),
        ("report_prefix", ctypes.c_char_p),
    ]


@record
class SiteInfo:
    """A site as Python sees it: "FILE:LINE:COL", function name, source line, caret line."""

    where: str
    fn: str
    text: str
    caret: str
    report_prefix: str


def _declare(lib: ctypes.CDLL) -> None:
    u64, i64, void_p = ctypes.c_uint64, ctypes.c_int64, ctypes.c_void_p
    signatures: dict[str, tuple[object, list[object]]] = {
        "fl_rt_init": (None, []),
        "fl_rt_begin": (
            None,
            [CALL_SHIM, ctypes.POINTER(FlSite), i64, i64, ctypes.POINTER(ctypes.c_char_p), i64],
        ),
        "fl_rt_finish": (i64, [u64]),
        "fl_rt_interrupt": (None, []),
        "fl_out_rescue": (None, []),
        "fl_rt_thread_attach": (None, []),
        "fl_rt_thread_detach": (None, []),
        "fl_pending_kind": (i64, []),
        "fl_out_write": (None, [ctypes.c_char_p, i64]),
        "fl_out_flush": (None, []),
        "fl_out_at_line_start": (ctypes.c_bool, []),
        "fl_rt_set_read_line_hook": (None, [void_p]),
        # the state store, when the JIT's VM hands it to native code (jit/jit.py)
        "fl_rt_state_install": (i64, [void_p, i64]),
        "fl_rt_state_export": (i64, [void_p, i64]),
        "fl_e_stateZ3a_get": (u64, [i64, void_p]),
        "fl_e_stateZ3a_set": (u64, [i64, void_p]),
        "fl_e_stateZ3a_delete": (u64, [i64, void_p]),
        "fl_e_stateZ3a_begin_transaction": (u64, [i64, void_p]),
        "fl_e_stateZ3a_commit_transaction": (u64, [i64, void_p]),
        "fl_e_stateZ3a_rollback_transaction": (u64, [i64, void_p]),
        # the value bridge (bridge.c, jit/bridge.py)
        "fl_alloc_roots": (void_p, [i64]),
        "fl_jit_roots_begin": (None, []),
        "fl_jit_roots_end": (void_p, []),
        "fl_jit_roots_free": (None, [void_p]),
        "fl_jit_code_size": (i64, [void_p]),
        "fl_bridge_decode": (i64, [void_p, i64, void_p, i64]),
        "fl_bridge_encode": (void_p, [u64, ctypes.POINTER(i64)]),
        "fl_bridge_decoded": (u64, [i64]),
        "fl_b_cons": (u64, [i64, ctypes.POINTER(u64)]),
        "fl_bridge_pin_page": (void_p, [i64]),
        "fl_bridge_pending_error": (u64, [ctypes.POINTER(i64), i64, ctypes.POINTER(i64)]),
        "fl_bridge_pending_fatal": (ctypes.c_char_p, []),
        "fl_bridge_exit_code": (i64, []),
        "fl_bridge_clear_pending": (None, []),
        "fl_bridge_closure": (u64, [void_p, i64, ctypes.POINTER(u64)]),
        "fl_bridge_set_depth": (None, [i64]),
        "fl_bridge_get_depth": (i64, []),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


class Runtime:
    """The loaded runtime library and the objects that must outlive the calls given them."""

    def __init__(self, lib: ctypes.CDLL, path: str) -> None:
        self.lib = lib
        self.path = path
        # Kept alive for the run: C holds pointers into them.
        self._run_objects: list[object] = []
        self._read_hook: object = None

    def address(self, symbol: str) -> int:
        """The address of an exported variable (SHARED_GLOBALS, `fl_prng_state`) or function,
        for the JIT's symbol table."""
        return ctypes.addressof(ctypes.c_char.in_dll(self.lib, symbol))

    def prng_state(self) -> memoryview:
        """The four xoshiro256** words, as a writable memoryview of unsigned 64-bit ints."""
        words = (ctypes.c_uint64 * 4).in_dll(self.lib, "fl_prng_state")
        return memoryview(words).cast("B").cast("Q")

    def begin(
        self,
        shim: object,
        sites: Sequence[SiteInfo],
        argv: Sequence[str],
        max_depth: int,
    ) -> None:
        """Start a program run: `shim` is a CALL_SHIM (or None in tests that call no clause)."""
        table = (FlSite * max(1, len(sites)))()
        for i, site in enumerate(sites):
            table[i] = FlSite(
                c_text(site.where),
                c_text(site.fn),
                c_text(site.text),
                len(site.caret) - len(site.caret.lstrip(" ")),
                site.caret.count("^"),
                c_text(site.report_prefix),
            )
        args = (ctypes.c_char_p * max(1, len(argv)))(*(a.encode() for a in argv))
        call = shim if shim is not None else CALL_SHIM()
        self._run_objects = [table, args, call]
        self.lib.fl_rt_begin(call, table, len(sites), len(argv), args, max_depth)

    def finish(self, result: int) -> int:
        """Flush, write the report of what is pending, and return the exit status."""
        status: int = self.lib.fl_rt_finish(result)
        return status

    def interrupt(self) -> None:
        """Request an interrupt (Ctrl-C): the program unwinds at its next safepoint."""
        self.lib.fl_rt_interrupt()

    def thread_attach(self) -> None:
        """Register the calling thread (the program thread) with the GC."""
        self.lib.fl_rt_thread_attach()

    def thread_detach(self) -> None:
        self.lib.fl_rt_thread_detach()

    def pending_kind(self) -> int:
        kind: int = self.lib.fl_pending_kind()
        return kind

    def write(self, text: str) -> None:
        """Buffered standard output, shared with native code (DESIGN.md §3.4)."""
        data = text.encode("utf-8", "replace")
        self.lib.fl_out_write(data, len(data))

    def flush(self) -> None:
        self.lib.fl_out_flush()

    def rescue(self) -> None:
        """A second Ctrl-C: write the buffered output without waiting (fl_out_rescue)."""
        self.lib.fl_out_rescue()

    def at_line_start(self) -> bool:
        return bool(self.lib.fl_out_at_line_start())

    def set_read_line_hook(self, hook: Any) -> None:  # Any: a ctypes READ_LINE_HOOK instance
        """Route io:read-line to `hook` (a READ_LINE_HOOK), or back to fd 0 with None."""
        self._read_hook = hook
        pointer = ctypes.cast(hook, ctypes.c_void_p) if hook is not None else None
        self.lib.fl_rt_set_read_line_hook(pointer)


_loaded: dict[str, Runtime] = {}


def load(path: Path | str | None = None) -> Runtime:
    """Load (building first if needed) and initialize the runtime; one instance per library."""
    if path is not None:
        lib_path = str(path)
    else:
        lib_path = layout.shared_library()
        if not os.path.exists(lib_path):  # the build (and its imports) only when needed
            from fluentai.runtime.build import ensure_built

            lib_path = str(ensure_built().shared)
    runtime = _loaded.get(lib_path)
    if runtime is None:
        lib = ctypes.CDLL(lib_path, mode=ctypes.RTLD_GLOBAL)
        _declare(lib)
        lib.fl_rt_init()
        runtime = _loaded[lib_path] = Runtime(lib, lib_path)
    return runtime


def runtime() -> Runtime:
    """The runtime built from this checkout's sources (the JIT host's one)."""
    return load()
