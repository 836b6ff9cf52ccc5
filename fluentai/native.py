"""The native tiers' driver: `--tier native` (whole program compiled, linked into a code cache
entry and loaded with ctypes) and `fluentai build` (an executable linked with the static
runtime). DESIGN.md §1.2, §7.8, §8.

    status = execute_native(src, options, stderr)         # run now, in this process
    status = build_executable(src, "prog", opt=2)         # write ./prog

Both compile the program into one LLVM module (`llvm/lower.py`) and link its object with the
prelude's (compiled once, cached); the program's behaviour, output and reports are those of the
VM (the corpus runner checks every tier). A warm `--tier native` run finds the linked program in
the code cache (`fluentai/codecache.py`) and imports neither llvmlite nor `fluentai.llvm`.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from fluentai import cachekey
from fluentai.codecache import cache_dir
from fluentai.frontend import PassTimes
from fluentai.frontend import resolve_source as resolve
from fluentai.passes import rcore as r
from fluentai.records import field, record
from fluentai.source import SourceFile

EXIT_INTERRUPT = 130
T = TypeVar("T")


@record(frozen=False, slots=False)
class NativeStats:
    """What `--jit-stats` reports for the native tier."""

    functions: int = 0
    front_ms: float = 0.0
    lower_ms: float = 0.0
    parse_ms: float = 0.0
    optimize_ms: float = 0.0
    codegen_ms: float = 0.0
    run_ms: float = 0.0
    prelude_ms: float = 0.0  # compiling the prelude (0 when it came from the cache)
    load_ms: float = 0.0  # finding and loading the code: dlopen of the cache entry (and, on a
    # miss, linking it first)
    cached: bool = False  # the program's code came from the code cache
    stored: bool = False  # a miss whose code went into the code cache
    lljit: bool = False  # no C compiler to link an entry: the objects went through LLJIT
    names: list[str] = field(default_factory=list)  # the program's functions, all native

    def report(self) -> str:
        compile_ms = self.lower_ms + self.parse_ms + self.optimize_ms + self.codegen_ms
        per_fn = compile_ms / max(1, self.functions)
        if self.cached:
            cache = f"jit: code cache: hit, loading {self.load_ms:.1f} ms (nothing compiled)"
        elif self.lljit:
            cache = f"jit: code cache: miss, not stored (no C compiler), LLJIT linking {self.load_ms:.1f} ms"
        else:
            where = "stored" if self.stored else "not stored (cache disabled or read-only)"
            cache = f"jit: code cache: miss, {where}, linking and loading {self.load_ms:.1f} ms"
        return "\n".join(
            [
                "jit: tier native: every function compiled before the run"
                + (" (machine code from the code cache)" if self.cached else ""),
                f"jit: functions compiled: {self.functions}",
                "jit: native code: "
                + (
                    ", ".join(self.names[:20]) + (" ..." if len(self.names) > 20 else "")
                    if self.names
                    else "the program's functions"
                )
                + "; prelude builtins: native",
                f"jit: front end {self.front_ms:.1f} ms, lowering {self.lower_ms:.1f} ms, "
                f"LLVM parse {self.parse_ms:.1f} ms, optimize {self.optimize_ms:.1f} ms, "
                f"codegen {self.codegen_ms:.1f} ms",
                f"jit: compile time per function: {per_fn:.2f} ms",
                "jit: prelude: "
                + (f"compiled in {self.prelude_ms:.1f} ms" if self.prelude_ms else "cached"),
                cache,
                f"jit: time compiling {compile_ms:.1f} ms, time running {self.run_ms:.1f} ms",
                "jit: time in VM 0.0 ms (the native tier uses no VM)",
            ]
        )


@functools.lru_cache(maxsize=1)
def _prelude() -> r.RProgram:
    """The prelude resolved, as the lowering wants it (fluentai/prelude_cache.py: a pickle in
    the code cache, on the critical path of a first run's image, fluentai/imageproc.py)."""
    from fluentai import prelude_cache

    return prelude_cache.load()


def _on_big_stack(fn: Callable[[], T]) -> T:
    """Run the compiler on a thread with a large stack and recursion limit: the lowering
    recurses on the program's nesting (10 000 levels are allowed, LANGUAGE.md §12)."""
    if threading.current_thread().name == "fluentai-compiler":
        return fn()
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            failure.append(exc)

    if sys.getrecursionlimit() < 200_000:
        sys.setrecursionlimit(200_000)
    old = threading.stack_size()
    threading.stack_size(512 << 20)
    try:
        thread = threading.Thread(target=target, name="fluentai-compiler", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def lower_source(
    src: SourceFile,
    *,
    print_values: bool = False,
    print_result: bool = False,
    stats: NativeStats | None = None,
    dump: frozenset[str] = frozenset(),
    dump_to: TextIO | None = None,
    times: PassTimes | None = None,
) -> Any:
    """Source -> LoweredProgram (module, functions, sites); the front end's stages in `dump`
    are written to `dump_to`, each stage is timed in `times`."""
    from fluentai.llvm.lower import lower_program

    t0 = time.perf_counter()
    prelude = _prelude()
    program = _on_big_stack(
        lambda: resolve(src, is_prelude=False, dump=dump, out=dump_to, times=times)
    )
    t1 = time.perf_counter()
    lowered = _on_big_stack(
        lambda: lower_program(
            prelude, program, print_values=print_values, print_result=print_result
        )
    )
    t2 = time.perf_counter()
    if stats is not None:
        stats.front_ms += (t1 - t0) * 1000
        stats.lower_ms += (t2 - t1) * 1000
        stats.functions = len(lowered.functions)
        stats.names = list(lowered.functions)
    return lowered


_prelude_objects: dict[int, bytes] = {}


def prelude_object(opt: int, stats: NativeStats | None = None) -> bytes:
    """The prelude's unit as a position-independent object for a generic CPU: compiled once,
    then read from the code cache (used by both the native tier and executables)."""
    from fluentai import codecache

    memo = _prelude_objects.get(opt)
    if memo is not None:
        return memo
    name = f"prelude-{codecache.key('prelude', f'O{opt}', 'generic')}.o"
    path = os.path.join(cachekey.cache_dir(), name)  # no pathlib: see codecache._link
    if codecache.enabled():
        try:
            with open(path, "rb") as f:
                obj = f.read()
        except OSError:
            pass
        else:
            cachekey.touch(path)
            _prelude_objects[opt] = obj
            return obj
    from fluentai.llvm.engine import compiler
    from fluentai.llvm.lower import lower_prelude

    t0 = time.perf_counter()
    module = lower_prelude(_prelude()).module
    obj = compiler().object_code(str(module), opt)
    if stats is not None:
        stats.prelude_ms = (time.perf_counter() - t0) * 1000
    if codecache.enabled():
        cachekey.write_atomic(str(path), obj)
    _prelude_objects[opt] = obj
    return obj


def program_key(src: SourceFile, opt: int, print_values: bool, print_result: bool) -> str:
    """The code cache key of a whole program on the native tier: its name (reports show it) and
    text, the options; the key adds the compiler, this CPU and FLUENTAI_CACHE_SALT."""
    from fluentai.image import native_key

    return native_key(src.name, src.text, opt, print_values, print_result)


def native_opt_level() -> int:
    """LLVM optimization level of `--tier native` (FLUENTAI_NATIVE_OPT, default 2)."""
    from fluentai.image import native_opt_level as level

    return level()


def execute_native(
    src: SourceFile,
    *,
    argv: list[str],
    print_values: bool,
    print_result: bool,
    jit_stats: bool,
    dump: frozenset[str],
    stdout: TextIO,
    stderr: TextIO,
    times: PassTimes | None = None,
) -> int:
    """Compile the whole program to machine code and run it; return the exit status. `dump`:
    the stages to write to `stderr` (any of them compiles the program, cache or not); `times`:
    each stage's time, written at exit (`--time-passes`)."""
    from fluentai import codecache
    from fluentai.runtime import ffi
    from fluentai.runtime.build import BuildError

    stats = NativeStats()
    try:
        rt = ffi.runtime()
    except BuildError as err:  # no C compiler, libgc-dev or libgmp-dev: say what to install
        stderr.write(f"fluentai: error: {err}\n")
        return 2
    opt = native_opt_level()
    t0 = time.perf_counter()
    key = program_key(src, opt, print_values, print_result)
    # A hit loads <key>.so (the program and the prelude linked together) with ctypes: neither
    # llvmlite nor fluentai.llvm is imported (DESIGN.md §7.8).
    unit = None if dump else codecache.load(key)  # a dump shows the stages of a compile
    if unit is not None:
        stats.cached = True
        stats.names = [str(n) for n in unit.meta.get("functions", [])]
        main_address = unit.address("fl_program_main")
        stats.load_ms = (time.perf_counter() - t0) * 1000
    else:
        from fluentai.progress import Progress

        # a big program takes seconds to compile: a terminal sees a status line meanwhile
        codecache.warn_unwritable(stderr)
        progress = Progress(stderr, f"fluentai: compiling {src.name}")
        progress.live = progress.live and not dump  # dumps write to stderr meanwhile
        progress.stage("native code")
        try:
            main_address, stats.stored = _compile_and_store(
                src, key, opt, print_values, print_result, dump, stats, stderr, rt.path, times
            )
        finally:
            progress.done()
    main = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p))(
        main_address
    )
    args = (ctypes.c_char_p * (len(argv) + 1))(
        *[a.encode("utf-8", "surrogateescape") for a in argv], None
    )
    stdout.flush()
    stderr.flush()

    def body() -> int:
        rt.thread_attach()
        try:
            t0 = time.perf_counter()
            status = int(main(len(argv), args))
            stats.run_ms = (time.perf_counter() - t0) * 1000
            return status
        finally:
            rt.thread_detach()

    from fluentai.bigstack import run_in_big_thread

    status = run_in_big_thread(body, on_interrupt=rt.interrupt, on_abandon=rt.rescue)
    if jit_stats:
        stderr.write(stats.report() + "\n")
    if times is not None:
        stderr.write(_native_times(times, stats).report() + "\n")
    return status


def _native_times(times: PassTimes, stats: NativeStats) -> PassTimes:
    """`times` (the front end's stages, when it ran) and the native tier's own, from `stats`."""
    rows = [
        ("lower", stats.lower_ms),
        ("llvm parse", stats.parse_ms),
        ("llvm optimize", stats.optimize_ms),
        ("llvm codegen", stats.codegen_ms),
        ("prelude", stats.prelude_ms),
        ("load (code cache)" if stats.cached else "link and load", stats.load_ms),
    ]
    times.rows += [(name, ms / 1000) for name, ms in rows if ms or name.startswith("load")]
    return times


def _compile_and_store(
    src: SourceFile,
    key: str,
    opt: int,
    print_values: bool,
    print_result: bool,
    dump: frozenset[str],
    stats: NativeStats,
    stderr: TextIO,
    runtime_path: str,
    times: PassTimes | None,
) -> tuple[int, bool]:
    """A miss: compile the program, link it with the prelude into a code cache entry and load it.
    Returns the address of fl_program_main and whether the entry went into the cache."""
    from fluentai import codecache
    from fluentai.llvm.engine import Engine, compiler

    lowered = lower_source(
        src,
        print_values=print_values,
        print_result=print_result,
        stats=stats,
        dump=dump,
        dump_to=stderr,
        times=times,
    )
    ir_text = str(lowered.module)
    if "llvm" in dump:
        stderr.write(ir_text + "\n")
    if "llvm-opt" in dump:
        stderr.write(Engine().optimized_ir(ir_text, opt) + "\n")
    if "asm" in dump:
        stderr.write(Engine().assembly(ir_text, opt, host_cpu=True) + "\n")
    objects = compiler()
    program_obj = objects.object_code(ir_text, opt, host_cpu=True)
    stats.parse_ms = objects.times.parse_ms
    stats.optimize_ms = objects.times.optimize_ms
    stats.codegen_ms = objects.times.codegen_ms
    prelude_obj = prelude_object(2, stats)
    t0 = time.perf_counter()
    meta = {"tier": "native", "symbols": ["fl_program_main"], "functions": stats.names}
    unit = codecache.store(key, [program_obj, prelude_obj], meta)
    if unit is not None:
        stats.load_ms = (time.perf_counter() - t0) * 1000
        return unit.address("fl_program_main"), codecache.enabled() and unit.path.exists()
    _require_memory_for_lljit()
    # No C compiler to link with, or no room for the entry: load the objects through LLJIT.
    engine = Engine()
    engine.load_library(str(runtime_path))
    lib = engine.link_objects([program_obj, prelude_obj], ["fl_program_main"])
    _keep_alive.append(lib)
    stats.load_ms = (time.perf_counter() - t0) * 1000
    stats.lljit = True
    return lib.address("fl_program_main"), False


_keep_alive: list[Any] = []  # LLJIT libraries whose code may still run


def _require_memory_for_lljit() -> None:
    """Before LLJIT takes over from a failed link (no C compiler, a file size limit): when the
    link or the load failed for want of memory (an address-space limit), LLJIT would too, inside
    LLVM, which then aborts the process: out of memory instead."""
    from fluentai import codecache

    reason = codecache.last_failure.lower()
    if any(sign in reason for sign in ("memory", "map segment", "errno 12")):
        raise MemoryError(reason)


def store_image(
    src: SourceFile, key: str, opt: int, call_targets: dict[str, Any] | None = None
) -> bool:
    """Compile the whole program (as `--tier native` does) into the code cache entry `key`
    without loading it: the program image a later `fluentai run` starts from (fluentai/image.py).
    Returns whether it was stored. `call_targets`: inline caches (lower.lower_program)."""
    return finish_image(lower_image(src, call_targets=call_targets), key, opt)


def lower_image(
    src: SourceFile, *, quick: bool = False, call_targets: dict[str, Any] | None = None
) -> Any:
    """The first half of `store_image`: the program lowered, with the native prelude's object
    code at hand. Every program has an image, those the JIT keeps in the VM included: an image
    runs without a VM, so it shares no state with one. `quick`: the image of one run, lowered
    for compile time; `call_targets`: the inline caches the VM's profile gave, as the JIT's units
    get them (lower.lower_program)."""
    prelude = _prelude()
    program = _on_big_stack(lambda: resolve(src, is_prelude=False))
    from fluentai.llvm.lower import lower_program

    lowered = _on_big_stack(
        lambda: lower_program(prelude, program, quick=quick, call_targets=call_targets)
    )
    prelude_object(2)
    return lowered


def finish_image(
    lowered: Any,
    key: str,
    opt: int,
    stages: dict[str, float] | None = None,
    ir_text: str | None = None,
) -> bool:
    """The second half of `store_image`: LLVM, then the code cache. `stages["llvm"]` is set
    to the time LLVM finished (time.perf_counter). `ir_text`: the module's text, if made
    already."""
    return put_image(lowered, key, opt, image_object(lowered, opt, stages, ir_text))


def image_object(
    lowered: Any, opt: int, stages: dict[str, float] | None = None, ir_text: str | None = None
) -> bytes:
    """LLVM's part of `finish_image`: the program's object code at `opt`."""
    from fluentai.llvm.engine import compiler

    if ir_text is None:
        ir_text = str(lowered.module)
    program_obj = compiler().object_code(ir_text, opt, host_cpu=True, bounded=True)
    if stages is not None:
        stages["llvm"] = time.perf_counter()
    return program_obj


def put_image(lowered: Any, key: str, opt: int, program_obj: bytes) -> bool:
    """The code cache's part of `finish_image`: the program's object linked with the prelude's
    into the image entry `key`; whether it was stored."""
    from fluentai import codecache

    meta = {
        "tier": "image",
        "opt": opt,
        "symbols": ["fl_program_main"],
        "functions": list(lowered.functions),
        "inline_caches": lowered.inline_caches,
    }
    return codecache.put(key, [program_obj, prelude_object(2)], meta)


def build_executable(
    src: SourceFile,
    output: str,
    *,
    opt: int,
    emit: str | None,
    stderr: TextIO,
    host_cpu: bool = False,
    verbose: bool = False,
) -> int:
    """`fluentai build`: an executable (or --emit llvm|asm|obj) for the program. Says what it is
    doing on a terminal (fluentai/progress.py); `verbose` writes each stage's time instead."""
    from fluentai.progress import Progress

    progress = Progress(stderr, "fluentai build", verbose=verbose)
    try:
        return _build(src, output, opt, emit, stderr, host_cpu, progress)
    finally:
        progress.done()


def _build(
    src: SourceFile,
    output: str,
    opt: int,
    emit: str | None,
    stderr: TextIO,
    host_cpu: bool,
    progress: Any,
) -> int:
    import subprocess
    import tempfile
    from pathlib import Path

    progress.stage("front end and lowering")
    stats = NativeStats()
    lowered = lower_source(src, stats=stats)
    from fluentai.llvm.lower import executable_ir

    ir_text = executable_ir(str(lowered.module))
    count = stats.functions
    progress.stage(f"LLVM -O{opt}, {count} function{'' if count == 1 else 's'}")
    from fluentai.llvm.engine import Engine, compiler
    from fluentai.runtime.build import BuildError, ensure_built
    from fluentai.runtime.build import compiler as c_compiler

    if emit == "llvm":
        Path(output).write_text(Engine().optimized_ir(ir_text, opt), encoding="utf-8")
        progress.done(f"wrote {output}")
        return 0
    if emit == "asm":
        text = Engine().assembly(ir_text, opt, host_cpu=host_cpu)
        Path(output).write_text(text, encoding="utf-8")
        progress.done(f"wrote {output}")
        return 0
    obj = compiler().object_code(ir_text, opt, host_cpu=host_cpu)
    if emit == "obj":
        Path(output).write_bytes(obj)
        progress.done(f"wrote {output}")
        return 0
    progress.stage("the prelude and the runtime")
    prelude_obj = prelude_object(2)
    try:
        paths = ensure_built()
        cc = c_compiler()
    except BuildError as err:
        progress.done()
        stderr.write(f"fluentai: error: {err}\n")
        return 2
    progress.stage("linking")
    with tempfile.TemporaryDirectory(prefix="flbuild-") as tmp:
        obj_path = Path(tmp) / "program.o"
        obj_path.write_bytes(obj)
        prelude_path = Path(tmp) / "prelude.o"
        prelude_path.write_bytes(prelude_obj)
        cmd = [
            cc,
            str(obj_path),
            str(prelude_path),
            str(paths.static),
            "-lgc",
            "-lgmp",
            "-lm",
            "-lpthread",
            "-o",
            output,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            # one line (§13.4): the linker's first message, such as an output it cannot open
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            detail = lines[0] if lines else f"`{cc}` exited with status {proc.returncode}"
            progress.done()
            stderr.write(f"fluentai: error: linking failed: {detail}\n")
            return 70
    progress.done(f"built {output}")
    return 0


__all__ = [
    "NativeStats",
    "build_executable",
    "cache_dir",
    "execute_native",
    "lower_source",
    "program_key",
    "resolve",
]
