"""The C runtime's control part (error.c, effects.c, io.c, random.c, misc.c) through ctypes.

Checked against the Python reference: the PRNG against vm/prng.py and the spec's example
(LANGUAGE.md §14.5), reports against diagnostics.render_runtime (elision included), arity
messages against errors.arity_message, io messages against vm/effects_default.py. Handler and
perform lookup use clause stand-ins written in Python, called through a Python call shim.

The tests run against the real library (fluentai.runtime.build); while it does not link they
skip, naming the missing symbols. FL_TEST_CONTROL_STUBS=1 runs them instead against the control
files plus tests/runtime/stubs_control.c (stand-ins for the data and numbers parts).
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from fluentai.diagnostics import TraceEntry, caret_lines, render_runtime
from fluentai.errors import FlError, arity_message
from fluentai.llvm import abi
from fluentai.runtime import build, ffi
from fluentai.source import SourceFile, Span
from fluentai.vm import effects_default
from fluentai.vm.prng import Prng, splitmix64_words
from fluentai.vm.values import from_iter, to_pylist

CONTROL_SOURCES = ("error.c", "effects.c", "io.c", "random.c", "misc.c")
STUBS = Path(__file__).resolve().parent / "stubs_control.c"

U64 = ctypes.c_uint64
I64 = ctypes.c_int64
ARGV = ctypes.POINTER(U64)
MATCHER = ctypes.CFUNCTYPE(I64, U64)
PRIM = ctypes.CFUNCTYPE(U64, I64, ARGV)
NIL = abi.FL_NIL
ROOTS = 1 << 16


class PendingTrace(ctypes.Structure):
    _fields_ = [
        ("count", I64),
        ("inner", I64 * 10),
        ("outer", I64 * 10),
        ("fresh", ctypes.c_bool),
    ]


class PendingRec(ctypes.Structure):
    """fl_pending_rec (fl_ctl.h), the first field of the exported `fl_ctl`."""

    _fields_ = [
        ("kind", I64),
        ("error", U64),
        ("target", I64),
        ("exit_code", I64),
        ("fatal", ctypes.c_char_p),
        ("trace", PendingTrace),
    ]


class FnDesc(ctypes.Structure):
    _fields_ = [
        ("generic", ctypes.c_void_p),
        ("min_arity", I64),
        ("max_arity", I64),
        ("name", ctypes.c_char_p),
        ("kind", I64),
    ]


class Closure(ctypes.Structure):
    _fields_ = [("hdr", U64), ("desc", ctypes.POINTER(FnDesc))]


class Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", I64), ("cap", I64)]


# ---------------------------------------------------------------------------- the library


def _build_stub_library(out: Path) -> Path:
    cc = build.compiler()
    objects = []
    for src in [*(build.RUNTIME_DIR / name for name in CONTROL_SOURCES), STUBS]:
        obj = out / (src.stem + ".o")
        cmd = [cc, *build.CFLAGS, "-I", str(build.RUNTIME_DIR), "-c", str(src), "-o", str(obj)]
        subprocess.run(cmd, check=True)
        objects.append(str(obj))
    lib = out / "libcontrol_stubs.so"
    subprocess.run([cc, "-shared", "-o", str(lib), *objects, *build.LIBS], check=True)
    return lib


def _missing_symbols(shared: Path) -> list[str]:
    """The runtime's own symbols that the shared library uses but nobody defines."""
    out = subprocess.run(
        ["nm", "-D", "--undefined-only", str(shared)], capture_output=True, text=True
    ).stdout
    return sorted({line.split()[-1] for line in out.splitlines() if " fl_" in line})


def _load(tmp: Path) -> ffi.Runtime:
    if os.environ.get("FL_TEST_CONTROL_STUBS") == "1":
        return ffi.load(_build_stub_library(tmp))
    try:
        paths = build.ensure_built()
    except build.BuildError as err:
        pytest.skip(f"the runtime library does not build yet: {err}")
    missing = _missing_symbols(paths.shared)
    if missing:
        pytest.skip("the runtime library does not link yet, missing: " + ", ".join(missing))
    return ffi.load(paths.shared)


# ---------------------------------------------------------------------------- the harness


class Harness:
    """Values, clause stand-ins and calls into the runtime for one test."""

    def __init__(self, rt: ffi.Runtime, roots: ctypes.Array[ctypes.c_uint64]) -> None:
        self.rt = rt
        self.lib = lib = rt.lib
        for name, restype, argtypes in [
            ("fl_string_from_utf8", U64, [ctypes.c_char_p, I64]),
            ("fl_symbol_intern", U64, [ctypes.c_char_p, I64]),
            ("fl_cons_new", U64, [U64, U64]),
            ("fl_int_from_decimal", U64, [ctypes.c_char_p]),
            ("fl_buf_init", None, [ctypes.POINTER(Buf)]),
            ("fl_written_to", None, [ctypes.POINTER(Buf), U64]),
            ("fl_raise", U64, [ctypes.c_char_p, ctypes.c_char_p]),
            ("fl_raise_value", U64, [U64]),
            ("fl_raise_arity", U64, [ctypes.c_char_p, I64, I64, I64]),
            ("fl_raise_stack_overflow", U64, []),
            ("fl_trace_add", None, [I64]),
            ("fl_pending_take_for", U64, [I64]),
            ("fl_pending_stash", I64, []),
            ("fl_pending_unstash", None, [I64]),
            ("fl_pending_drop", None, [I64]),
            ("fl_poll_slow", U64, []),
            ("fl_depth_slow", U64, []),
            ("fl_handler_height", I64, []),
            ("fl_handler_restore", None, [I64]),
            ("fl_handler_push", U64, [I64, ctypes.c_void_p, ARGV]),
            ("fl_try_push", I64, [MATCHER]),
            ("fl_perform", U64, [ctypes.c_char_p, ctypes.c_void_p, I64, ARGV]),
            ("fl_apply_args", ctypes.c_void_p, [I64, ARGV]),
            ("fl_call_value", U64, [U64, I64, ARGV]),
            ("GC_gcollect", None, []),
        ]:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        self._roots = roots  # registered with GC_add_roots once: it must outlive the process
        self._roots[:] = [0] * ROOTS
        self._nroots = 0
        self._fns: dict[int, Callable[..., int]] = {}
        self._alive: list[object] = []
        self.shim = ffi.CALL_SHIM(self._dispatch)
        self.pending = PendingRec.in_dll(lib, "fl_ctl")

    # -- runs

    def begin(self, sites: Sequence[ffi.SiteInfo] = (), argv: Sequence[str] = ()) -> None:
        self.rt.begin(self.shim, sites, argv, 200_000)

    def global_(self, name: str) -> ctypes.c_int64:
        return ctypes.c_int64.in_dll(self.lib, name)

    # -- values

    def keep(self, v: int) -> int:
        self._roots[self._nroots % ROOTS] = v
        self._nroots += 1
        return v

    def string(self, s: str) -> int:
        data = s.encode()
        return self.keep(self.lib.fl_string_from_utf8(data, len(data)))

    def symbol(self, s: str) -> int:
        data = s.encode()
        return self.keep(self.lib.fl_symbol_intern(data, len(data)))

    def int_(self, i: int) -> int:
        if abi.FIXNUM_MIN <= i <= abi.FIXNUM_MAX:
            return abi.fixnum(i)
        return self.keep(self.lib.fl_int_from_decimal(str(i).encode()))

    def list_(self, items: Sequence[int]) -> int:
        v = abi.FL_EMPTY
        for item in reversed(items):
            v = self.keep(self.lib.fl_cons_new(item, v))
        return v

    def text(self, v: int) -> str:
        nbytes = U64.from_address(v).value >> 16
        return ctypes.string_at(v + 16, nbytes).decode()

    def written(self, v: int) -> str:
        b = Buf()
        self.lib.fl_buf_init(ctypes.byref(b))
        self.lib.fl_written_to(ctypes.byref(b), v)
        return ctypes.string_at(b.data, b.len).decode()

    def field(self, v: int, i: int) -> int:
        return U64.from_address(v + 8 * (i + 1)).value

    def error(self) -> tuple[str, str, str]:
        """Kind, message and written data of the pending error."""
        e = self.pending.error
        assert self.pending.kind == abi.PENDING_ERROR and e != 0
        return (
            self.text(self.field(e, 0)),
            self.text(self.field(e, 1)),
            self.written(self.field(e, 2)),
        )

    # -- functions and calls

    def fn(self, body: Callable[..., int], name: str = "lambda", kind: int = abi.FN_LAMBDA) -> int:
        desc = FnDesc(None, 0, -1, name.encode(), kind)
        clo = Closure(abi.header(abi.T_CLOSURE), ctypes.pointer(desc))
        self._alive += [desc, clo]
        address = ctypes.addressof(clo)
        self._fns[address] = body
        return address

    def _dispatch(self, clo: int, argc: int, argv: Any) -> int:
        return self._fns[clo](*(argv[i] for i in range(argc)))

    def argv(self, args: Sequence[int]) -> Any:
        arr = (U64 * max(1, len(args)))(*args)
        self._alive.append(arr)
        return arr

    def prim(self, name: str, *args: int) -> int:
        fn = getattr(self.lib, name)
        fn.restype = U64
        fn.argtypes = [I64, ARGV]
        result: int = fn(len(args), self.argv(args))
        return self.keep(result)

    def perform(self, op: str, *args: int, dflt: str | None = None) -> int:
        pointer = ctypes.cast(getattr(self.lib, dflt), ctypes.c_void_p) if dflt else None
        result: int = self.lib.fl_perform(op.encode(), pointer, len(args), self.argv(args))
        return self.keep(result)

    def push_handler(self, clauses: dict[str, int]) -> int:
        keys = (ctypes.c_char_p * max(1, len(clauses)))(*(k.encode() for k in clauses))
        self._alive.append(keys)
        result: int = self.lib.fl_handler_push(
            len(clauses), keys, self.argv(list(clauses.values()))
        )
        return result

    def push_try(self, accepts: Callable[[int], bool]) -> int:
        matcher = MATCHER(lambda e: 1 if accepts(e) else 0)
        self._alive.append(matcher)
        try_id: int = self.lib.fl_try_push(matcher)
        return try_id

    def height(self) -> int:
        height: int = self.lib.fl_handler_height()
        return height

    def float_(self, d: float) -> int:
        fn = self.lib.fl_box_float
        fn.restype = U64
        fn.argtypes = [ctypes.c_double]
        return self.keep(fn(d))

    def float_value(self, v: int) -> float:
        return ctypes.c_double.from_address(v - 2).value


_GC_ROOTS: dict[Path, ctypes.Array[ctypes.c_uint64]] = {}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ffi.Runtime:
    return _load(tmp_path_factory.mktemp("control"))


@pytest.fixture
def h(runtime: ffi.Runtime) -> Iterator[Harness]:
    roots = _GC_ROOTS.get(runtime.path)
    if roots is None:  # values held only by Python ints are not GC roots (DESIGN.md §3.5)
        roots = _GC_ROOTS[runtime.path] = (U64 * ROOTS)()
        add_roots = runtime.lib.GC_add_roots
        add_roots.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        add_roots(ctypes.addressof(roots), ctypes.addressof(roots) + ctypes.sizeof(roots))
    harness = Harness(runtime, roots)
    harness.begin()
    yield harness
    runtime.lib.fl_rt_finish(NIL)  # leave nothing pending for the next test


# ---------------------------------------------------------------------------- random


SEEDS = [0, 1, -1, 2024, 2**62, -(2**62) - 1, 2**64 + 5, -(2**70), 123456789123456789]


@pytest.mark.parametrize("seed", SEEDS)
def test_seeding_matches_splitmix64_of_the_python_reference(h: Harness, seed: int) -> None:
    h.prim("fl_e_randomZ3a_seed", h.int_(seed))
    assert tuple(h.rt.prng_state()) == splitmix64_words(seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_draws_match_the_python_generator(h: Harness, seed: int) -> None:
    h.prim("fl_e_randomZ3a_seed", h.int_(seed))
    py = Prng(seed)
    ranges = [(1, 6), (-(10**6), 10**6), (0, 2**62), (-(2**63), 2**63 - 1), (7, 7)]
    ranges += [(2**100, 2**100 + 10), (-(2**62) - 3, -(2**62) + 3)]
    for _ in range(3):
        f = h.prim("fl_e_randomZ3a_float")
        assert h.float_value(f) == py.float()
        for lo, hi in ranges:
            got = h.prim("fl_e_randomZ3a_int", h.int_(lo), h.int_(hi))
            assert h.written(got) == str(py.int(lo, hi))
        items = [h.int_(i) for i in range(9)]
        choice = h.prim("fl_e_randomZ3a_choice", h.list_(items))
        assert h.written(choice) == str(py.choice(from_iter(range(9))))
        shuffled = h.prim("fl_e_randomZ3a_shuffle", h.list_(items))
        expected = to_pylist(py.shuffle(from_iter(range(9))))
        assert h.written(shuffled) == "[" + " ".join(map(str, expected)) + "]"


def test_the_spec_example_of_seeded_draws(h: Harness) -> None:
    h.prim("fl_e_randomZ3a_seed", h.int_(2024))
    ints = [h.prim("fl_e_randomZ3a_int", h.int_(1), h.int_(6)) for _ in range(3)]
    ints.append(h.prim("fl_e_randomZ3a_int", h.int_(-1000000), h.int_(1000000)))
    assert [h.written(v) for v in ints] == ["5", "4", "6", "583378"]
    f = h.prim("fl_e_randomZ3a_float")
    assert repr(h.float_value(f)) == "0.773650389718931"
    abc = h.list_([h.string(s) for s in "abc"])
    assert h.written(h.prim("fl_e_randomZ3a_choice", abc)) == '"b"'
    five = h.list_([h.int_(i) for i in range(1, 6)])
    assert h.written(h.prim("fl_e_randomZ3a_shuffle", five)) == "[5 4 2 1 3]"
    h.prim("fl_e_randomZ3a_seed", h.int_(2024))
    assert h.written(h.prim("fl_e_randomZ3a_int", h.int_(1), h.int_(6))) == "5"
    f = h.prim("fl_e_randomZ3a_float")
    assert repr(h.float_value(f)) == "0.782103772866755"


@pytest.mark.parametrize(("lo", "hi"), [(5, 1), (0, 2**64), (-(2**64), 2**64)])
def test_bad_random_int_ranges_raise_value_error_and_draw_nothing(
    h: Harness, lo: int, hi: int
) -> None:
    h.prim("fl_e_randomZ3a_seed", h.int_(7))
    before = tuple(h.rt.prng_state())
    assert h.prim("fl_e_randomZ3a_int", h.int_(lo), h.int_(hi)) == 0
    with pytest.raises(FlError) as exc:
        Prng(7).int(lo, hi)
    assert h.error() == ("value-error", exc.value.message, "nil")
    assert tuple(h.rt.prng_state()) == before


def test_random_type_and_empty_list_errors(h: Harness) -> None:
    assert h.prim("fl_e_randomZ3a_int", h.string("1"), h.int_(2)) == 0
    assert h.error()[:2] == ("type-error", '`random:int` expects an Int, got "1"')
    assert h.prim("fl_e_randomZ3a_choice", abi.FL_EMPTY) == 0
    assert h.error()[:2] == ("empty-list", "`random:choice` expects a non-empty list, got []")
    assert h.prim("fl_e_randomZ3a_shuffle", h.int_(3)) == 0
    assert h.error()[:2] == ("type-error", "`random:shuffle` expects a List, got 3")


# ---------------------------------------------------------------------------- reports


def _sites(src: SourceFile, spans: Sequence[tuple[Span, str]]) -> list[ffi.SiteInfo]:
    sites = []
    for span, name in spans:
        line, col = src.line_col(span.start)
        where = f"{src.name}:{line}:{col}"
        text, caret = caret_lines(span, "")
        sites.append(ffi.SiteInfo(where, name, text, caret, where))
    return sites


def _program(n: int) -> tuple[SourceFile, list[tuple[Span, str]]]:
    """A source with n call sites, one per line, each in its own function."""
    lines = [f"(define (f{i} x) (g{i} (+ x {i})))" for i in range(n)]
    src = SourceFile("demo.fl", "\n".join(lines) + "\n")
    spans = []
    for i, line in enumerate(lines):
        start = sum(len(k) + 1 for k in lines[:i]) + line.index("(g")
        spans.append((Span(src, start, start + len(f"(g{i} (+ x {i}))")), f"f{i}"))
    spans[-1] = (spans[-1][0], "<top level>")
    return src, spans


@pytest.mark.parametrize("depth", [1, 2, 3, 19, 20, 21, 22, 45])
def test_report_matches_render_runtime(
    h: Harness, capfd: pytest.CaptureFixture[str], depth: int
) -> None:
    src, spans = _program(depth)
    h.begin(_sites(src, spans))
    capfd.readouterr()
    h.global_("fl_rt_site").value = 0  # innermost: site 0; the outermost is the top level
    h.lib.fl_raise(b"division-by-zero", b"division by zero")
    for site in range(depth):  # the frame that raised appends its own site first: skipped
        h.lib.fl_trace_add(site)
    assert h.rt.finish(0) == 70
    trace = [TraceEntry(span, name) for span, name in reversed(spans)]
    expected = render_runtime(spans[0][0], "division-by-zero", "division by zero", trace)
    assert capfd.readouterr().err == expected + "\n"


def test_a_repeated_site_in_the_next_frame_is_a_trace_entry(
    h: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    src, spans = _program(2)
    h.begin(_sites(src, spans))
    capfd.readouterr()
    h.global_("fl_rt_site").value = 0
    h.lib.fl_raise_arity(b"f", 1, 1, 2)
    for site in [0, 0, 1]:  # the raising frame's own call site, then a caller at the same site
        h.lib.fl_trace_add(site)
    assert h.pending.trace.count == 3
    assert h.rt.finish(0) == 70
    trace = [TraceEntry(spans[i][0], spans[i][1]) for i in [1, 0, 0]]
    message = arity_message("f", 1, 1, 2)
    assert (
        capfd.readouterr().err == render_runtime(spans[0][0], "arity-error", message, trace) + "\n"
    )


def test_stack_overflow_refused_call_then_callers_at_the_same_site(h: Harness) -> None:
    src, spans = _program(2)
    h.rt.begin(h.shim, _sites(src, spans), [], 5)
    h.global_("fl_rt_depth").value = 5
    h.global_("fl_rt_site").value = 0
    assert h.lib.fl_depth_slow() == 0
    assert h.error()[:2] == ("stack-overflow", "maximum recursion depth exceeded")
    for site in [0, 0, 1]:  # no entry from the refusing frame: its callers at the same site
        h.lib.fl_trace_add(site)
    assert h.pending.trace.count == 4


def test_an_error_without_a_site_is_reported_without_location(
    h: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    h.lib.fl_raise(b"user", b"no site")
    assert h.rt.finish(0) == 70
    assert capfd.readouterr().err == "fluentai: error: no site\n"


def test_fatal_errors_are_not_caught_and_report_one_line(
    h: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    try_id = h.push_try(lambda e: True)
    assert h.lib.fl_raise(b"internal", b"something broke") == 0
    assert h.lib.fl_pending_take_for(try_id) == 0
    capfd.readouterr()
    assert h.rt.finish(0) == 70
    assert capfd.readouterr().err == "fluentai: error: something broke\n"


def test_finish_statuses_for_success_exit_and_interrupt(
    h: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    assert h.rt.finish(NIL) == 0
    h.begin()
    assert h.prim("fl_b_exit", h.int_(3)) == 0
    assert h.pending.kind == abi.PENDING_EXIT
    assert h.lib.fl_pending_take_for(1) == 0
    assert h.rt.finish(0) == 3
    h.begin()
    assert h.prim("fl_b_exit") == 0
    assert h.rt.finish(0) == 0
    h.begin()
    capfd.readouterr()
    h.rt.interrupt()
    assert h.global_("fl_rt_poll").value == 1 and h.global_("fl_rt_depth_limit").value == 0
    assert h.lib.fl_poll_slow() == 0
    assert h.pending.kind == abi.PENDING_INTERRUPT
    # acknowledged: finally bodies run normally while the interrupt unwinds
    # the depth limit is back, raised DEPTH_STEP (256) calls at a time from the current depth
    assert h.global_("fl_rt_poll").value == 0 and h.global_("fl_rt_depth_limit").value == 256
    assert h.rt.finish(0) == 130
    assert capfd.readouterr().err == "interrupted\n"


def test_an_interrupt_is_taken_at_a_depth_check(h: Harness) -> None:
    h.rt.interrupt()
    assert h.lib.fl_depth_slow() == 0
    assert h.pending.kind == abi.PENDING_INTERRUPT
    assert h.lib.fl_pending_take_for(1) == 0


@pytest.mark.parametrize(
    ("code", "message"), [(256, "`exit` expects a code from 0 to 255, got 256")]
)
def test_exit_checks_its_code(h: Harness, code: int, message: str) -> None:
    assert h.prim("fl_b_exit", h.int_(code)) == 0
    assert h.error()[:2] == ("value-error", message)
    h.begin()
    assert h.prim("fl_b_exit", h.int_(2**70)) == 0
    assert h.error()[1] == f"`exit` expects a code from 0 to 255, got {2**70}"
    h.begin()
    assert h.prim("fl_b_exit", h.string("x")) == 0
    assert h.error()[:2] == ("type-error", '`exit` expects an Int, got "x"')


@pytest.mark.parametrize(
    ("lo", "hi", "got"), [(1, 1, 2), (2, 2, 0), (0, 1, 2), (1, 3, 0), (1, None, 0), (2, None, 1)]
)
def test_arity_messages_match_the_vm(h: Harness, lo: int, hi: int | None, got: int) -> None:
    h.lib.fl_raise_arity(b"f", lo, -1 if hi is None else hi, got)
    assert h.error()[:2] == ("arity-error", arity_message("f", lo, hi, got))


def test_pending_stash_unstash_and_drop(h: Harness) -> None:
    h.lib.fl_raise(b"first", b"1")
    token = h.lib.fl_pending_stash()
    assert h.pending.kind == abi.PENDING_NONE
    h.lib.fl_pending_unstash(token)
    assert h.error()[:2] == ("first", "1")
    token = h.lib.fl_pending_stash()
    h.lib.fl_raise(b"second", b"2")  # an error in the finally body replaces the first
    h.lib.fl_pending_drop(token)
    assert h.error()[:2] == ("second", "2")


# ---------------------------------------------------------------------------- raise


def test_error_raise_arguments_are_normalized_as_in_the_vm(h: Harness) -> None:
    h.prim("fl_e_errorZ3a_raise", h.string("just a message"))
    assert h.error() == ("user", "just a message", "nil")
    h.prim("fl_e_errorZ3a_raise", h.symbol("my-kind"), h.int_(42), h.list_([h.int_(1)]))
    assert h.error() == ("my-kind", "42", "[1]")
    h.prim("fl_e_errorZ3a_raise", h.int_(5), h.string("m"))
    assert h.error()[:2] == ("type-error", "`error:raise` expects a String or Symbol kind, got 5")
    h.prim("fl_b_error", h.list_([h.int_(1), h.string("a")]), h.int_(7))
    assert h.error() == ("user", '[1 "a"]', "7")


def test_raising_an_error_value_raises_that_value(h: Harness) -> None:
    e = h.prim("fl_b_Error", h.string("k"), h.string("m"), NIL)
    try_id = h.push_try(lambda err: True)
    assert h.prim("fl_e_errorZ3a_raise", e) == 0
    assert h.lib.fl_pending_take_for(try_id) == e


def test_error_values_and_their_accessors(h: Harness) -> None:
    e = h.prim("fl_b_Error", h.symbol("custom"), h.int_(12), h.string("d"))
    assert h.written(e) == "#<error custom: 12>"
    assert h.text(h.prim("fl_b_error_kind", e)) == "custom"
    assert h.text(h.prim("fl_b_error_message", e)) == "12"
    assert h.written(h.prim("fl_b_error_data", e)) == '"d"'
    assert h.prim("fl_b_error_kind", h.int_(5)) == 0
    assert h.error()[:2] == ("type-error", "`error-kind` expects an Error, got 5")
    assert h.prim("fl_b_Error", NIL, h.string("m"), NIL) == 0
    assert h.error()[:2] == ("type-error", "`Error` expects a String or Symbol kind, got nil")


def test_an_error_raise_clause_resumes_with_its_value(h: Harness) -> None:
    seen: list[object] = []

    def clause(kind: int, message: int, data: int) -> int:
        seen.append((h.text(kind), h.text(message), data, h.height()))
        return h.int_(0)

    h.push_handler({"io:print": h.fn(lambda *a: NIL), "error:raise": h.fn(clause)})
    assert h.lib.fl_raise(b"division-by-zero", b"division by zero") == abi.fixnum(0)
    assert seen == [("division-by-zero", "division by zero", NIL, 0)]
    assert h.height() == 1 and h.pending.kind == abi.PENDING_NONE


def test_an_error_clause_gets_raise_first(h: Harness) -> None:
    seen: list[str] = []
    h.push_handler({"error": h.fn(lambda op, *rest: seen.append(h.text(op)) or h.string("r"))})
    assert h.text(h.lib.fl_raise(b"k", b"m")) == "r"
    assert seen == ["raise"]


def test_the_nearest_accepting_try_or_handler_wins(h: Harness) -> None:
    h.push_handler({"error:raise": h.fn(lambda k, m, d: h.int_(1))})
    rejecting = h.push_try(lambda e: False)
    assert h.lib.fl_raise(b"k", b"m") == abi.fixnum(1)  # passed over the rejecting try
    accepting = h.push_try(lambda e: h.text(h.field(e, 0)) == "k")
    assert h.lib.fl_raise(b"k", b"m") == 0
    assert h.pending.target == accepting
    assert h.lib.fl_pending_take_for(rejecting) == 0
    e = h.lib.fl_pending_take_for(accepting)
    assert h.text(h.field(e, 1)) == "m" and h.pending.kind == abi.PENDING_NONE
    assert h.lib.fl_pending_take_for(accepting) == 0


def test_stack_overflow_skips_handler_clauses(h: Harness) -> None:
    outer = h.push_try(lambda e: True)
    h.push_handler({"error:raise": h.fn(lambda k, m, d: h.int_(1))})
    assert h.lib.fl_raise_stack_overflow() == 0
    assert h.pending.target == outer
    h.lib.fl_pending_take_for(outer)
    h.prim("fl_e_errorZ3a_raise", h.string("stack-overflow"), h.string("by hand"))
    assert h.pending.target == outer  # the kind decides, as in the VM


def test_a_raise_inside_a_clause_targets_a_try_outside_its_handler(h: Harness) -> None:
    outer = h.push_try(lambda e: True)

    def clause(x: int) -> int:
        assert h.height() == 1
        return h.lib.fl_raise(b"wrapped", b"from the clause")

    h.push_handler({"io:print": h.fn(clause)})
    inner = h.push_try(lambda e: True)
    assert h.perform("io:print", h.string("x")) == 0
    assert h.height() == 3
    assert h.pending.target == outer and h.lib.fl_pending_take_for(inner) == 0


# ---------------------------------------------------------------------------- perform


def test_perform_runs_the_innermost_clause_outside_its_frame(h: Harness) -> None:
    seen: list[tuple[str, str, int]] = []

    def outer(x: int) -> int:
        seen.append(("outer", h.text(x), h.height()))
        return h.string("from outer")

    def inner(x: int) -> int:
        seen.append(("inner", h.text(x), h.height()))
        return h.perform("io:print", h.string("again"))

    h.push_handler({"io:print": h.fn(outer)})
    h.push_try(lambda e: False)
    h.push_handler({"io:write": h.fn(outer), "io:print": h.fn(inner)})
    assert h.text(h.perform("io:print", h.string("a"))) == "from outer"
    assert seen == [("inner", "a", 2), ("outer", "again", 0)]
    assert h.height() == 3
    h.lib.fl_handler_restore(1)
    assert h.height() == 1


def test_a_namespace_clause_gets_the_operation_name_first(h: Harness) -> None:
    h.push_handler({"state": h.fn(lambda op, *args: h.list_([op, h.list_(list(args))]))})
    assert h.written(h.perform("state:get", h.string("x"))) == '["get" ["x"]]'


def test_exact_clauses_win_over_namespace_clauses(h: Harness) -> None:
    h.push_handler({"app": h.fn(lambda *a: h.int_(1)), "app:ask": h.fn(lambda *a: h.int_(2))})
    assert h.perform("app:ask") == abi.fixnum(2)
    assert h.perform("app:tell") == abi.fixnum(1)


def test_unhandled_operations_run_the_default_or_raise(h: Harness) -> None:
    assert h.perform("state:set", h.string("k"), h.int_(1), dflt="fl_e_stateZ3a_set") == NIL
    assert h.perform("state:get", h.string("k"), dflt="fl_e_stateZ3a_get") == abi.fixnum(1)
    assert h.perform("app:ask", h.string("q")) == 0
    assert h.error()[:2] == ("unhandled-effect", "no handler for `app:ask`")


def test_handler_clauses_must_be_functions(h: Harness) -> None:
    assert h.push_handler({"io:print": h.int_(42)}) == 0
    assert h.error()[:2] == ("type-error", "`handler` expects a function for `io:print`, got 42")
    assert h.height() == 0


def test_clause_calls_count_depth_and_add_the_perform_site_to_the_trace(h: Harness) -> None:
    depths: list[int] = []

    def clause(x: int) -> int:
        depths.append(h.global_("fl_rt_depth").value)
        h.global_("fl_rt_site").value = 1  # a raise inside the clause, at its own site
        return h.lib.fl_raise(b"k", b"m")

    h.push_handler({"app:op": h.fn(clause)})
    h.global_("fl_rt_site").value = 4
    assert h.perform("app:op", NIL) == 0
    assert depths == [1] and h.global_("fl_rt_depth").value == 0
    trace = h.pending.trace
    assert (trace.count, trace.inner[0], trace.inner[1]) == (2, 1, 4)
    assert h.global_("fl_rt_site").value == 4


def test_builtin_clauses_do_not_count_depth(h: Harness) -> None:
    depths: list[int] = []
    builtin = h.fn(lambda x: depths.append(h.global_("fl_rt_depth").value) or NIL, "head", 1)
    h.push_handler({"app:op": builtin})
    h.perform("app:op", NIL)
    assert depths == [0]


def test_a_clause_beyond_the_depth_limit_raises_stack_overflow(h: Harness) -> None:
    h.rt.begin(h.shim, [], [], 3)
    h.global_("fl_rt_depth").value = 3
    h.push_handler({"app:op": h.fn(lambda x: NIL)})
    assert h.perform("app:op", NIL) == 0
    assert h.error()[0] == "stack-overflow"


def test_calling_a_non_function(h: Harness) -> None:
    assert h.lib.fl_call_value(h.int_(5), 0, h.argv([])) == 0
    assert h.error()[:2] == ("type-error", "expected a function, got 5")


def test_apply_args(h: Harness) -> None:
    tail = h.list_([h.int_(3), h.int_(4)])
    vec = h.lib.fl_apply_args(3, h.argv([h.int_(1), h.int_(2), tail]))
    assert U64.from_address(vec).value >> 16 == 4
    assert [U64.from_address(vec + 8 * i).value for i in range(1, 5)] == [
        abi.fixnum(i) for i in range(1, 5)
    ]
    assert h.lib.fl_apply_args(2, h.argv([h.int_(1), h.int_(2)])) is None
    assert h.error()[:2] == ("type-error", "`apply` expects a List as its last argument, got 2")


def test_args_are_the_program_arguments(h: Harness) -> None:
    h.begin(argv=["a", "é b"])
    assert h.written(h.prim("fl_b_args")) == '["a" "é b"]'


# ---------------------------------------------------------------------------- state


def test_state_operations_and_transactions(h: Harness) -> None:
    k, n = h.string("k"), h.string("n")
    assert h.prim("fl_e_stateZ3a_set", k, h.int_(1)) == NIL
    assert h.prim("fl_e_stateZ3a_set", k, h.int_(2)) == abi.fixnum(1)
    times_ten = h.fn(lambda v: abi.fixnum((v >> 1) * 10))
    assert h.prim("fl_e_stateZ3a_update", k, times_ten) == abi.fixnum(20)
    assert h.prim("fl_e_stateZ3a_delete", k) == abi.fixnum(20)
    assert h.prim("fl_e_stateZ3a_get", k) == NIL
    h.prim("fl_e_stateZ3a_set", n, h.int_(3))
    h.prim("fl_e_stateZ3a_begin_transaction")
    h.prim("fl_e_stateZ3a_set", n, h.int_(100))
    h.prim("fl_e_stateZ3a_begin_transaction")
    h.prim("fl_e_stateZ3a_set", n, h.int_(200))
    assert h.prim("fl_e_stateZ3a_commit_transaction") == NIL
    assert h.prim("fl_e_stateZ3a_get", n) == abi.fixnum(200)
    assert h.prim("fl_e_stateZ3a_rollback_transaction") == NIL
    assert h.prim("fl_e_stateZ3a_get", n) == abi.fixnum(3)
    assert h.prim("fl_e_stateZ3a_commit_transaction") == 0
    assert h.error()[:2] == ("value-error", "`state:commit-transaction`: no open transaction")
    h.begin()  # a new run starts with an empty store and no transaction
    assert h.prim("fl_e_stateZ3a_get", n) == NIL
    assert h.prim("fl_e_stateZ3a_rollback_transaction") == 0
    assert h.error()[:2] == ("value-error", "`state:rollback-transaction`: no open transaction")


def test_state_update_with_a_non_function(h: Harness) -> None:
    assert h.prim("fl_e_stateZ3a_update", h.string("k"), h.int_(5)) == 0
    assert h.error()[:2] == ("type-error", "`state:update` expects a function, got 5")


def test_runtime_state_survives_collections(h: Harness) -> None:
    h.prim("fl_e_stateZ3a_set", h.string("key"), h.list_([h.string("kept")]))
    h.lib.fl_raise(b"k", b"pending survives")
    h._nroots = 0
    h._roots[:] = [0] * ROOTS  # nothing but the runtime's own roots holds them now
    for _ in range(3):
        for _ in range(20000):
            h.lib.fl_string_from_utf8(b"garbage" * 8, 56)
        h.lib.GC_gcollect()
    assert h.error()[:2] == ("k", "pending survives")
    got = h.prim("fl_e_stateZ3a_get", h.string("key"))
    assert h.written(got) == '["kept"]'


# ---------------------------------------------------------------------------- io and time


def test_output_is_buffered_until_flushed(h: Harness, capfd: pytest.CaptureFixture[str]) -> None:
    h.rt.flush()
    capfd.readouterr()
    h.prim("fl_e_ioZ3a_write", h.string("no newline,"), h.string("then"))
    assert not h.rt.at_line_start()
    h.prim("fl_e_ioZ3a_print", h.string(" a"), h.int_(1), h.list_([h.string("s")]))
    assert h.rt.at_line_start()
    assert capfd.readouterr().out == ""
    h.prim("fl_e_ioZ3a_print_err", h.string("to stderr"))  # flushes standard output first
    out = capfd.readouterr()
    assert (out.out, out.err) == ('no newline, then a 1 ["s"]\n', "to stderr\n")


def test_files(h: Harness, tmp_path: Path) -> None:
    path = h.string(str(tmp_path / "notes.txt"))
    assert h.prim("fl_e_ioZ3a_file_existsZ3f_", path) == abi.FL_FALSE
    assert h.prim("fl_e_ioZ3a_write_file", path, h.string("line 1\n")) == NIL
    assert h.prim("fl_e_ioZ3a_append_file", path, h.string("ligne 2 é")) == NIL
    assert h.prim("fl_e_ioZ3a_file_existsZ3f_", path) == abi.FL_TRUE
    assert h.text(h.prim("fl_e_ioZ3a_read_file", path)) == "line 1\nligne 2 é"


def _vm_io_message(fn: Callable[..., object], *args: object) -> str:
    with pytest.raises(FlError) as exc:
        fn(None, *args)
    return exc.value.message


def test_file_errors_match_the_vm(h: Harness, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xed\xa0\x80")  # an encoded surrogate is not UTF-8 for Python
    cases: list[tuple[str, Callable[..., object], list[object]]] = [
        ("fl_e_ioZ3a_read_file", effects_default._io_read_file, [str(tmp_path / "missing")]),
        ("fl_e_ioZ3a_read_file", effects_default._io_read_file, [str(tmp_path)]),
        ("fl_e_ioZ3a_read_file", effects_default._io_read_file, [str(bad)]),
        ("fl_e_ioZ3a_read_file", effects_default._io_read_file, ["a\0b"]),
        ("fl_e_ioZ3a_write_file", effects_default._io_write_file, [str(tmp_path / "no/x"), "t"]),
        ("fl_e_ioZ3a_append_file", effects_default._io_append_file, [str(tmp_path), "t"]),
        ("fl_e_ioZ3a_file_existsZ3f_", effects_default._io_file_exists, ["a\0b"]),
    ]
    for name, vm_fn, args in cases:
        values = [h.string(a) if isinstance(a, str) else a for a in args]
        assert h.prim(name, *values) == 0
        assert h.error()[:2] == ("io-error", _vm_io_message(vm_fn, *args)), name
    assert h.prim("fl_e_ioZ3a_read_file", h.int_(5)) == 0
    assert h.error()[1] == "`io:read-file` expects a String path, got 5"
    assert h.prim("fl_e_ioZ3a_write_file", h.string(str(tmp_path / "x")), h.int_(5)) == 0
    assert h.error()[1] == "`io:write-file` expects a String, got 5"


def test_read_line_splits_lines_and_rejects_bad_utf8(h: Harness) -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"first\r\nsecond\n\xff\xfe\n\nlast")
    os.close(write_fd)
    saved = os.dup(0)
    os.dup2(read_fd, 0)
    try:
        lines = []
        for _ in range(6):
            v = h.prim("fl_e_ioZ3a_read_line")
            lines.append(h.text(v) if v not in (0, NIL) else v)
            if v == 0:
                assert h.error()[:2] == (
                    "io-error",
                    "`io:read-line`: standard input is not valid UTF-8",
                )
                h.begin()
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read_fd)
    assert lines == ["first", "second", 0, "", "last", NIL]


def test_time_operations(h: Harness) -> None:
    now = h.float_value(h.prim("fl_e_timeZ3a_now"))
    assert abs(now - time.time()) < 5
    t0 = h.float_value(h.prim("fl_e_timeZ3a_monotonic"))
    assert h.prim("fl_e_timeZ3a_sleep", h.float_(0.02)) == NIL
    t1 = h.float_value(h.prim("fl_e_timeZ3a_monotonic"))
    assert t1 - t0 >= 0.02


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (-1, "`time:sleep` expects a non-negative number, got -1"),
        (math.nan, "`time:sleep` expects a non-negative number, got nan"),
        (-math.inf, "`time:sleep` expects a non-negative number, got -inf"),
        (math.inf, "`time:sleep` expects a finite number, got inf"),
        (1e300, "`time:sleep`: 1e+300 seconds is too long"),
        (10**30, "`time:sleep`: 1000000000000000000000000000000 seconds is too long"),
    ],
)
def test_sleep_rejects_bad_durations(h: Harness, seconds: float, message: str) -> None:
    value = h.int_(seconds) if isinstance(seconds, int) else h.float_(seconds)
    assert h.prim("fl_e_timeZ3a_sleep", value) == 0
    assert h.error()[:2] == ("value-error", message)


def test_an_interrupt_ends_a_sleep_at_once(h: Harness) -> None:
    timer = threading.Timer(0.05, h.rt.interrupt)
    timer.start()
    t0 = time.monotonic()
    assert h.prim("fl_e_timeZ3a_sleep", h.int_(30)) == 0
    assert time.monotonic() - t0 < 2
    assert h.pending.kind == abi.PENDING_INTERRUPT
    timer.join()


def test_the_binding_exposes_globals_prng_and_the_read_hook(h: Harness) -> None:
    for name in ffi.SHARED_GLOBALS:
        assert h.rt.address(name) == ctypes.addressof(h.global_(name))
    state = h.rt.prng_state()
    state[0], state[1], state[2], state[3] = splitmix64_words(99)  # the VM's Prng writes so
    py = Prng(99)
    assert h.written(h.prim("fl_e_randomZ3a_int", h.int_(0), h.int_(10**9))) == str(
        py.int(0, 10**9)
    )
    hook = ffi.READ_LINE_HOOK(lambda: h.string("from the VM"))
    h.rt.set_read_line_hook(hook)
    try:
        assert h.text(h.prim("fl_e_ioZ3a_read_line")) == "from the VM"
    finally:
        h.rt.set_read_line_hook(None)


# ---------------------------------------------------------------------------- AOT main

AOT_PROGRAM = r"""
#include <string.h>
#include <gc.h>
#include "fl_prims_gen.h"

static fl_value shim(fl_value clo, int64_t argc, const fl_value *argv) { return 0; }
static const fl_site sites[] = {{"p.fl:1:1", "<top level>", "(main)", 0, 6, "p.fl:1:1"}};

/* about 1 KiB of stack per level: more than a default 8 MiB thread stack holds */
static int64_t deep(int64_t n) {
    volatile char pad[1024];
    pad[0] = (char)n;
    if (n == 0) {
        GC_gcollect();
        return pad[0];
    }
    return deep(n - 1) + pad[0];
}

int64_t fl_program_main(int64_t argc, const char *const *argv) {
    fl_rt_begin(shim, sites, 1, argc, argv, 0);
    fl_rt_site = 0;
    fl_value args = fl_b_args(0, NULL);
    if (fl_perform("io:print", fl_e_ioZ3a_print, 1, &args) == 0) return fl_rt_finish(0);
    const char *mode = argc > 0 ? argv[0] : "";
    if (strcmp(mode, "sleep") == 0) {
        fl_value s = fl_fixnum(30);
        return fl_rt_finish(fl_perform("time:sleep", fl_e_timeZ3a_sleep, 1, &s));
    }
    if (strcmp(mode, "exit") == 0) {
        fl_value code = fl_fixnum(7);
        return fl_rt_finish(fl_b_exit(1, &code));
    }
    if (strcmp(mode, "error") == 0) return fl_rt_finish(fl_raise("user", "boom"));
    if (strcmp(mode, "deep") == 0) return fl_rt_finish(fl_fixnum(deep(200000)));
    return fl_rt_finish(FL_NIL);
}
"""


@pytest.fixture(scope="module")
def aot_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("FL_TEST_CONTROL_STUBS") == "1":
        pytest.skip("needs the real static library")
    try:
        paths = build.ensure_built()
    except build.BuildError as err:
        pytest.skip(f"the runtime library does not build yet: {err}")
    out = tmp_path_factory.mktemp("aot")
    (out / "prog.c").write_text(AOT_PROGRAM)
    exe = out / "prog"
    cmd = [build.compiler(), *build.CFLAGS, "-I", str(paths.include), str(out / "prog.c")]
    cmd += [str(paths.static), *build.LIBS, "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 and "undefined reference" in proc.stderr:
        pytest.skip(f"the runtime library does not link yet:\n{proc.stderr}")
    assert proc.returncode == 0, proc.stderr
    return exe


@pytest.mark.parametrize(
    ("args", "status", "stdout", "stderr"),
    [
        (["a", "b c"], 0, '["a" "b c"]\n', ""),
        (["exit"], 7, '["exit"]\n', ""),
        (["error"], 70, '["error"]\n', "p.fl:1:1: error[user]: boom\ntrace (innermost last):\n"),
        (["deep"], 0, '["deep"]\n', ""),
    ],
)
def test_aot_main_runs_the_program_and_exits_with_its_status(
    aot_program: Path, args: list[str], status: int, stdout: str, stderr: str
) -> None:
    proc = subprocess.run([str(aot_program), *args], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (status, stdout)
    assert proc.stderr.startswith(stderr)


def _default_sigint() -> None:
    """In the child: SIGINT as a terminal delivers it. The suite may run with SIGINT ignored (a
    background job of a non-interactive shell, a pytest worker), and an ignored SIGINT is
    inherited through exec, where an executable leaves it ignored, as Python does."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_aot_ctrl_c_interrupts_a_sleep(aot_program: Path) -> None:
    proc = subprocess.Popen(
        [str(aot_program), "sleep"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == '["sleep"]\n'  # flushed before the sleep
    proc.send_signal(2)
    out, err = proc.communicate(timeout=10)
    assert (proc.returncode, err) == (130, "interrupted\n")
