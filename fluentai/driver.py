"""Driver: source -> pipeline -> tier; maps every outcome to an exit status (LANGUAGE.md §16).

0 success; 2 usage error; 65 compile-time error; 70 runtime error, internal error or exhausted
memory; 130 interrupted; n after `(exit n)`. Only this module and cli.py print diagnostics.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from fluentai.bigstack import run_in_big_thread
from fluentai.diagnostics import CompileError, Diagnostic, render_compile, render_runtime
from fluentai.errors import ProgramExit, ResourceError
from fluentai.records import field, record
from fluentai.source import SourceDecodeError, SourceFile, Span

if TYPE_CHECKING:
    from fluentai.vm.profile import Profiler

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_COMPILE = 65
EXIT_RUNTIME = 70
EXIT_INTERRUPT = 130


class UsageError(Exception):
    """A usage problem reported as `fluentai: error: MESSAGE` with exit status 2."""


@record(frozen=False, slots=False)
class RunOptions:
    tier: str = "auto"
    print_values: bool = False
    print_result: bool = False  # `eval`: write the program's value
    jit_stats: bool = False
    dump: frozenset[str] = frozenset()
    time_passes: bool = False  # `--time-passes`: stage timings on standard error at exit
    max_depth: int | None = None
    argv: list[str] = field(default_factory=list)


class Session:
    """One VM with the prelude loaded: runs programs (or REPL entries) against one world."""

    def __init__(
        self,
        world: Any,
        max_depth: int | None = None,
        make_vm: Callable[[Any, int], Any] | None = None,
    ) -> None:
        """`make_vm(world, max_depth)` builds the VM (the embedding API passes a subclass)."""
        from fluentai import primitives
        from fluentai.pipeline import compile_prelude
        from fluentai.primitives import PrimKind
        from fluentai.vm.machine import VM, depth_from_environment
        from fluentai.vm.values import Builtin

        depth = max_depth or depth_from_environment(os.environ)
        self.vm = (make_vm or VM)(world, depth)
        values = self.vm.builtin_values
        for name, prim in primitives.table().items():
            if name != prim.name:
                continue
            if prim.kind is PrimKind.CONSTANT:
                values[name] = prim.value
            elif prim.kind is not PrimKind.PRELUDE:
                values[name] = Builtin(prim)
        self.vm.apply_prim = primitives.lookup("apply")
        prelude = compile_prelude(self.vm.globals, self._builtin)
        self.vm.run(prelude)
        for name, prim in primitives.table().items():
            if prim.kind is PrimKind.PRELUDE and name == prim.name:
                index = self.vm.globals.index["%prelude:" + name]
                closure = self.vm.globals.values[index]
                closure.code.builtin_arity = prim.arity
                values[name] = closure

    def _builtin(self, name: str) -> Any:
        return self.vm.builtin_values[name]

    def compile(
        self, src: SourceFile, options: RunOptions, times: Any = None, scope: Any = None
    ) -> Any:
        """Compile `src`; `times` (PassTimes) records stage timings, `scope` (SessionScope)
        compiles it as one entry of a REPL or embedding session."""
        from fluentai.pipeline import compile_source

        return compile_source(
            src,
            self.vm.globals,
            self._builtin,
            print_values=options.print_values,
            dump=options.dump,
            times=times,
            scope=scope,
        )

    def run(self, code: Any) -> Any:
        return self.vm.run(code)


def _report_compile(err: CompileError, stderr: TextIO) -> int:
    first = err.diagnostics[0]
    stderr.write(render_compile(first) + "\n")
    return EXIT_COMPILE


def _decode_error_diag(exc: SourceDecodeError, data: bytes) -> Diagnostic:
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    src = SourceFile(exc.name, text)
    line_start = src._line_starts[exc.line - 1]
    offset = line_start + exc.col - 1
    return Diagnostic("syntax-error", exc.message, Span(src, offset, offset + 1))


def load_source(path: str) -> SourceFile | Diagnostic:
    """Read a program file: a SourceFile, a Diagnostic for bad UTF-8, or UsageError."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot read `{path}`: {reason.lower()}") from None
    return source_from_bytes(path, data)


def source_from_bytes(name: str, data: bytes) -> SourceFile | Diagnostic:
    """Program text from bytes: a SourceFile, or a Diagnostic for bad UTF-8 (§1)."""
    try:
        return SourceFile.from_bytes(name, data)
    except SourceDecodeError as exc:
        return _decode_error_diag(exc, data)


def execute(
    src: SourceFile | Diagnostic, options: RunOptions, stdout: TextIO, stderr: TextIO, stdin: TextIO
) -> int:
    """Compile and run a program; write its output and diagnostics; return the exit status."""
    from fluentai.vm.world import World

    if isinstance(src, Diagnostic):
        stderr.write(render_compile(src) + "\n")
        return EXIT_COMPILE
    if options.tier == "native":
        return _execute_native(src, options, stdout, stderr)
    if sys.getrecursionlimit() < 200_000:
        sys.setrecursionlimit(200_000)
    world = World(options.argv, stdin, stdout, stderr, seed=None)  # FLUENTAI_SEED, else entropy

    from fluentai.frontend import PassTimes
    from fluentai.vm import profile
    from fluentai.vm.profile import Profiler

    profiler: Profiler | None = None
    jit: Any = None
    times = PassTimes() if options.time_passes else None
    runtime_error = _load_runtime_for_jit(options, stdout)
    if not runtime_error:
        _share_prng(world)

    def body() -> int:
        nonlocal profiler, jit
        from fluentai.vm.machine import Interrupted, UncaughtError
        from fluentai.vm.printer import written

        try:
            session = Session(world, options.max_depth)
            # VM values are mostly acyclic: collect rarely, and never rescan the prelude
            gc.freeze()
            gc.set_threshold(100_000, 50, 100)
            code = session.compile(src, options, times)
            if _profiling_enabled(options):
                jit = None if runtime_error else _make_jit(session.vm, src, options, code, stdout)
                profiler = session.vm.profiler = Profiler(jit)
                profiler.running = code
                profile.activate(profiler)  # long builtins are safepoints too
                session.vm.jit = jit
                if jit is not None:
                    jit.preload()
            try:
                value = session.run(code)
            finally:
                profile.activate(None)
                if jit is not None:
                    jit.close()
            if options.print_result and value is not None:
                if not world.at_line_start():
                    world.write("\n")
                world.write(written(value) + "\n")
            world.flush()
            return EXIT_OK
        except CompileError as err:
            return _report_compile(err, stderr)
        except UncaughtError as err:
            world.flush()
            p = err.pending
            stderr.write(render_runtime(p.span, p.kind, p.message, p.trace, p.omitted) + "\n")
            return EXIT_RUNTIME
        except ProgramExit as ex:
            world.flush()
            return ex.code
        except (Interrupted, KeyboardInterrupt):
            _safe_flush(world)
            stderr.write("interrupted\n")
            return EXIT_INTERRUPT
        except MemoryError:
            _safe_flush(world)
            stderr.write("fluentai: error: out of memory\n")
            return EXIT_RUNTIME
        except Exception:
            _safe_flush(world)  # what the program printed before an internal error stays
            raise

    def on_interrupt() -> bool:
        # native code running: it unwinds and the VM raises KeyboardInterrupt when it returns;
        # otherwise the VM thread gets its KeyboardInterrupt directly (False)
        return jit is not None and bool(jit.interrupt())

    def on_abandon() -> None:
        # a second Ctrl-C: the output written so far goes out first (the VM's, then native
        # code's, which the JIT flushes after every native call)
        world.rescue()
        if jit is not None:
            jit.rescue_output()

    try:
        status = run_in_big_thread(body, world.interrupt, on_interrupt, on_abandon)
    except BrokenPipeError:
        return EXIT_OK
    finally:
        stderr.flush()
    if times is not None:
        stderr.write(times.report() + "\n")
    if options.jit_stats:
        if jit is not None:
            stderr.write(jit.stats.report() + "\n")
        else:
            why = _jit_off_reason(options, stdout) or runtime_error
            stderr.write(f"jit: native tiers off ({why}); all code ran in the VM\n")
        if profiler is not None:
            stderr.write(profiler.report() + "\n")
    return status


def _execute_native(src: SourceFile, options: RunOptions, stdout: TextIO, stderr: TextIO) -> int:
    """`--tier native`: the whole program compiled to machine code, no VM (DESIGN.md §8.7)."""
    from fluentai.frontend import PassTimes
    from fluentai.native import execute_native

    try:
        return execute_native(
            src,
            argv=options.argv,
            print_values=options.print_values,
            print_result=options.print_result,
            jit_stats=options.jit_stats,
            dump=options.dump,
            stdout=stdout,
            stderr=stderr,
            times=PassTimes() if options.time_passes else None,
        )
    except CompileError as err:
        return _report_compile(err, stderr)
    except ImportError as err:  # the native tiers need llvmlite
        stderr.write(f"fluentai: error: the native tier needs llvmlite ({err})\n")
        return EXIT_USAGE
    finally:
        stderr.flush()


def _jit_off_reason(options: RunOptions, stdout: TextIO) -> str:
    """Why `--tier auto` runs without native tiers ('' when it may use them)."""
    if options.tier != "auto":
        return f"--tier {options.tier}"
    if os.environ.get("FLUENTAI_JIT") == "0":
        return "FLUENTAI_JIT=0"
    if options.print_values or options.print_result:
        return "values of top-level forms are printed"
    try:
        if stdout.fileno() != 1:
            return "standard output is not the process's"
    except (AttributeError, OSError, ValueError):
        return "standard output is not a file"
    return ""


def _load_runtime_for_jit(options: RunOptions, stdout: TextIO) -> str:
    """Load the C runtime on the main thread when the JIT may run ('' when loaded, else why
    not). Its initialization registers the calling thread with the garbage collector, which
    must stay alive: a collection signals every registered thread, and one that has ended (the
    compile thread, had it loaded the runtime) makes it abort."""
    if _jit_off_reason(options, stdout):
        return "off"
    try:
        from fluentai.runtime import ffi

        ffi.runtime()
    except Exception as exc:  # noqa: BLE001 - no C compiler or libraries: the VM runs it all
        return f"the runtime library is not available ({exc})"
    return ""


def _share_prng(world: Any) -> None:
    """The VM draws random numbers from the runtime's generator state (`fl_prng_state`), so
    VM and native code share one sequence (DESIGN.md §5.4); `world.prng_start` keeps the
    first state, for a restart (jit/jit.py)."""
    from fluentai.runtime import ffi

    shared = ffi.runtime().prng_state()
    words = list(world.prng.state)
    for i in range(4):
        shared[i] = words[i]
    world.prng.state = shared
    world.prng_start = tuple(words)


def _make_jit(vm: Any, src: SourceFile, options: RunOptions, code: Any, stdout: TextIO) -> Any:
    """The JIT for this run, or None (FLUENTAI_JIT=0, or a run it cannot serve)."""
    if _jit_off_reason(options, stdout):
        return None
    try:
        from fluentai.jit.jit import Jit
        from fluentai.jit.policy import Thresholds
    except ImportError:
        return None
    log_path = os.environ.get("FLUENTAI_JIT_LOG")
    log = None
    if log_path:
        try:
            log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed at exit
        except OSError:
            log = None
    return Jit(vm, src, Thresholds.from_env(os.environ), options.argv, code, log)


def _profiling_enabled(options: RunOptions) -> bool:
    """The VM profiles for the JIT under `--tier auto`; FLUENTAI_VM_PROFILE=0/1 overrides."""
    setting = os.environ.get("FLUENTAI_VM_PROFILE")
    if setting is not None:
        return setting == "1"
    return options.tier == "auto" and os.environ.get("FLUENTAI_JIT") != "0"


def _safe_flush(world: Any) -> None:
    try:
        world.flush()
    except OSError:
        pass


def internal_error(exc: BaseException, stderr: TextIO) -> int:
    """An implementation bug: one line, the traceback only under FLUENTAI_TRACEBACK=1. Memory
    running out on the way (a huge input, an address-space limit: no thread could be started)
    and a ResourceError are not bugs: they get a line of their own, status 70."""
    import traceback

    if os.environ.get("FLUENTAI_TRACEBACK") == "1":
        traceback.print_exception(exc, file=stderr)
    if isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)
    ):
        stderr.write("fluentai: error: out of memory\n")
        return EXIT_RUNTIME
    if isinstance(exc, ResourceError):
        stderr.write(f"fluentai: error: {exc}\n")
        return EXIT_RUNTIME
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" (in {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno})"
    stderr.write(f"fluentai: error: internal error: {type(exc).__name__}: {exc}{where}\n")
    return EXIT_RUNTIME
