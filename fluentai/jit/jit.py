"""The tiered JIT of `--tier auto` (DESIGN.md §7): the VM runs the program and profiles it; when a
function gets hot, the program is compiled to native code on a compile thread while the VM keeps
running, and from then on the VM's calls of compiled functions run natively.

    jit = Jit(vm, src, thresholds, argv, top_code)
    vm.jit = jit                  # the VM calls jit.hot(code, why) and jit.call(fn, args, ...)
    ...
    jit.close(); stderr.write(jit.stats.report())

Units. One unit holds the whole program (its lambdas and the prelude's), lowered in JIT mode
(`fl_jit_init` sets the unit up without running its top level). Its object code is cached on
disk by content, so a second run installs it without compiling. The first unit is tier 1
(generic, FLUENTAI_JIT_OPT); functions that stay hot get tier-2 units (jit/tier2.py: the whole
program again, specialized on the kinds the VM saw, guarded at VM calls), each replacing the
installed unit at a safepoint (`_install`, `_uninstall`).

Calls. Every VM `Code` compiled from a lambda of the unit gets a code slot (`Code.native`):
the descriptor of its native twin. A VM call of such a closure converts the arguments and the
closure's free values (`bridge.Codec`), runs the native generic entry with the VM's call depth,
and converts the result back; a self tail call that finds native code finishes the loop natively
(on-stack replacement at self tail calls). Native code never calls back into the VM, so a call
that could observe VM-only state stays in the VM: while a handler with clauses is installed in
the VM, when a value cannot cross (a mutable captured variable, a function compiled only in the
VM), and in programs that use the state store, random numbers or standard input.

Errors, `exit` and Ctrl-C raised in native code come back as the VM's own conditions, with the
native frames added to the trace, so reports are the VM's.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any, TextIO

import fluentai
from fluentai.diagnostics import TraceEntry
from fluentai.errors import FlError, ProgramExit
from fluentai.jit import osr as osr_mod
from fluentai.jit.bridge import Boxed, NativeWord
from fluentai.jit.policy import FALLBACK, Thresholds, decide_tier2
from fluentai.jit.tier2 import STRESS_DEOPT, Tier2, check
from fluentai.llvm import abi
from fluentai.records import field, record
from fluentai.settings import count
from fluentai.source import SourceFile, Span
from fluentai.vm.code import Code, FnTemplate
from fluentai.vm.compile import UNBOUND
from fluentai.vm.maps import FlMap
from fluentai.vm.values import (
    Adt,
    Box,
    Builtin,
    Closure,
    Cons,
    Constructor,
    CtorInfo,
    EffectFn,
)

IDLE, COMPILING, READY, INSTALLED, FAILED, RESTART, RESTARTED = range(7)
COMPILE_YIELD_S = 0.001  # how long the VM sleeps at a sampled safepoint while a compile runs
RESTART_YIELD_FACTOR = 5  # ... and how much longer while the image for a restart compiles
# ... but no longer than this in all (a restart aside): a small program's unit is lowered in 30 to
# 150 ms, and a big one's lowering, which takes seconds, must not keep the VM at a third of its
# speed all that time (the VM and the compile thread then share the GIL)
YIELD_TOTAL_S = 0.25
RESTART_WAIT_S = 0.1  # the longest wait for the image compiler process at a sampled safepoint
RESTART_WAIT_TOTAL_S = 3.0  # ... and in all: a child that takes longer lets the VM run on
_FL_UNBOUND = 0x1E
# random:* is not here: the VM draws from the runtime's generator state (driver._share_prng);
# nor io:read-line: native code reads standard input through the VM's world (`_share_stdin`)
ARGV_WORDS = 256
COMPILE_SWITCH_INTERVAL_S = 0.0002
REFUSALS = 3
TWIN_MIN = 32  # lists and maps at least this long keep their native copy between calls
ONTO_MAX = 64  # at most this many cells consed onto a synced global list are built onto it
TWIN_SLOTS = 1024  # rooted argument buffer: closure, arguments, free values


def _kib(n: int) -> str:
    return f"{n / 1024:.0f} KiB"


class Loaded:
    """A unit the JIT loaded: the library, what its initialization kept (its argument
    strings, its root arrays as recorded by the runtime), its mapped size and its tier."""

    __slots__ = ("unit", "args", "roots", "size", "tier")

    def __init__(self, unit: Any, args: Any, roots: int | None, size: int, tier: int) -> None:
        self.unit = unit
        self.args = args
        self.roots = roots
        self.size = size
        self.tier = tier


class NativeRaised(FlError):
    """An error that native code raised and did not catch: the VM unwinds it from the call
    site; `native_trace` holds the native frames' entries (outermost first)."""

    def __init__(
        self, kind: str, message: str, data: object, value: Any, trace: list[Any], omitted: int
    ) -> None:
        super().__init__(kind, message, data)
        self.value = value
        self.native_trace = trace
        self.native_omitted = omitted
        self.tail = False


@record(frozen=False, slots=False)
class JitStats:
    """What `--jit-stats` reports for `--tier auto`."""

    state: str = "not compiled (nothing got hot)"
    first_hot: str = ""
    functions: int = 0
    slots: int = 0
    lower_ms: float = 0.0
    compile_ms: float = 0.0  # LLVM: optimize and code generation
    link_ms: float = 0.0
    install_ms: float = 0.0
    prelude_ms: float = 0.0  # the JIT prelude: compiled once per compiler, else read from the cache
    cached: bool = False
    crossings: int = 0
    osr: int = 0  # on-stack replacements: at self tail calls and at `while` back edges
    osr_loops: int = 0  # ... of which at `while` back edges (jit/osr.py)
    fallbacks: dict[str, int] = field(default_factory=dict)
    native_ns: int = 0
    image_ms: float = 0.0  # compiling the program image (fluentai/image.py)
    tier2: Any = None  # jit/tier2.py: functions per tier, deopts, recompilations, blacklist
    units: int = 0  # units loaded (tier 1 and tier 2), and their mapped bytes
    code_bytes: int = 0
    code_peak: int = 0  # the most bytes of units loaded at once
    evicted: int = 0  # replaced units unloaded under the code budget, and their bytes
    evicted_bytes: int = 0
    started: float = field(default_factory=time.perf_counter)
    log: list[str] = field(default_factory=list)

    def fallback(self, reason: str) -> None:
        self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1

    def loaded(self, size: int) -> None:
        self.units += 1
        self.code_bytes += size
        self.code_peak = max(self.code_peak, self.code_bytes)

    def unloaded(self, size: int) -> None:
        self.evicted += 1
        self.evicted_bytes += size
        self.code_bytes -= size

    def report(self) -> str:
        """The `--jit-stats` lines (`jit: NAME VALUE UNIT, ...`, as fluentai/bench reads them)."""
        total_ms = (time.perf_counter() - self.started) * 1000
        native_ms = self.native_ns / 1e6
        lines = [f"jit: tier auto: {self.state}"]
        if self.first_hot:
            lines.append(f"jit: first hot function: {self.first_hot}")
        if self.functions:
            compile_ms = self.lower_ms + self.compile_ms + self.link_ms
            per_fn = (self.lower_ms + self.compile_ms) / max(1, self.functions)
            cached = " (object code from the cache)" if self.cached else ""
            lines += [
                f"jit: functions compiled: {self.functions}",
                f"jit: VM functions with native code: {self.slots}",
                f"jit: lowering {self.lower_ms:.1f} ms, LLVM {self.compile_ms:.1f} ms, "
                f"link {self.link_ms:.1f} ms, install {self.install_ms:.1f} ms{cached}",
                f"jit: prelude unit {self.prelude_ms:.1f} ms (compiled once, then cached)",
                f"jit: compile time per function: {per_fn:.2f} ms",
                f"jit: time compiling {compile_ms:.1f} ms, time running {total_ms:.1f} ms",
            ]
        if self.image_ms:
            lines.append(f"jit: program image {self.image_ms:.1f} ms (the whole program)")
            if not self.functions:
                lines.append(
                    f"jit: time compiling {self.image_ms:.1f} ms, time running {total_ms:.1f} ms"
                )
        lines += [
            f"jit: VM->native calls {self.crossings}, of which on-stack replacements {self.osr}",
            f"jit: on-stack replacements at self tail calls {self.osr - self.osr_loops}, "
            f"at while loops {self.osr_loops}",
            f"jit: time in native code {native_ms:.1f} ms, "
            f"time in VM {max(0.0, total_ms - native_ms):.1f} ms",
        ]
        if self.fallbacks:
            kept = "; ".join(f"{why} x{n}" for why, n in sorted(self.fallbacks.items()))
            lines.append(f"jit: calls kept in the VM: {kept}")
        if self.units:
            lines.append(
                f"jit: units loaded {self.units}, units unloaded {self.evicted} "
                f"({self.evicted_bytes / 1024:.0f} KiB), native code loaded at exit "
                f"{self.code_bytes / 1024:.0f} KiB, native code loaded at most "
                f"{self.code_peak / 1024:.0f} KiB"
            )
        if self.functions and self.tier2 is not None:
            lines += self.tier2.report_lines()
        return "\n".join(lines)


_compile_threads: list[threading.Thread] = []


def compile_thread_alive() -> bool:
    """Whether a JIT compile thread may still be inside LLVM."""
    return any(t.is_alive() for t in _compile_threads)


def _codes(top: Code) -> Iterator[Code]:
    """Every Code reachable from a top-level Code through closure templates."""
    seen: set[int] = set()
    stack = [top]
    while stack:
        code = stack.pop()
        if id(code) in seen:
            continue
        seen.add(id(code))
        yield code
        for k in code.consts:
            if isinstance(k, FnTemplate):
                stack.append(k.code)


def _ctor_infos(values: Any, out: dict[str, CtorInfo], fns: dict[str, Any], depth: int = 0) -> None:
    """Constructors (and the VM's function values of constructors and operations, whose
    identity `=` sees) among a Code's constants."""
    for k in values:
        if isinstance(k, CtorInfo):
            out.setdefault(k.name, k)
        elif isinstance(k, Constructor):
            out.setdefault(k.ctor.name, k.ctor)
            fns.setdefault(k.ctor.name, k)
        elif isinstance(k, EffectFn):
            fns.setdefault(k.op, k)
        elif isinstance(k, Adt):
            out.setdefault(k.ctor.name, k.ctor)
        elif isinstance(k, tuple) and depth < 8:
            _ctor_infos(k, out, fns, depth + 1)


def _worth_crossing(code: Code) -> bool:
    """Whether a VM call of `code` should run its native twin: not for a leaf (no calls, no
    loops), whose work is less than the cost of converting its arguments (DESIGN.md §7.2)."""
    ops = code.code
    for pc in range(0, len(ops), 2):
        op = ops[pc]
        if op == 3 or op == 6 or (op == 15 and ops[pc + 1] <= pc):
            return True
    return False


class Jit:
    """One program's JIT: profile hook, compile thread, installation, and VM->native calls."""

    def __init__(
        self,
        vm: Any,
        src: SourceFile,
        thresholds: Thresholds,
        argv: list[str],
        top: Code,
        log: TextIO | None = None,
    ) -> None:
        self.vm = vm
        self.src = src
        self.thresholds = thresholds
        self.argv = argv
        self.top = top
        self.logfile = log
        self.stats = JitStats()
        self.state = IDLE
        self._image = False  # this run also compiles the program's image (fluentai/image.py)
        self._restart = False  # the image comes first, for a restart (`restart`)
        self._restart_rt: Any = None
        self._awaiting_process = False  # the image compiler process makes the image (imageproc)
        self._awaiting_unit = False  # ... or the unit first (a run that did something visible)
        # inline caches for the unit and the image: the call sites where the VM saw one or two
        # program functions called, as the program got hot (tier 2 takes its own later)
        self._targets: dict[str, list[list[Any]]] = {}
        self._waited_s = 0.0  # time the VM has waited for an image for a restart
        # the shared variables (`_box_to_native`), by their native box
        self._cell_twins: dict[int, weakref.ref[Box]] = {}
        self._yields = 0  # sleeps of the VM for a compile thread (`yield_to_compiler`)
        self.tail = False  # the VM is making a tail call (set around `call`)
        self.in_native = False  # the program thread is inside a native call
        self._ready: Any = None
        self._thread: threading.Thread | None = None
        self.rt: Any = None
        self.codec: Any = None
        # why the unit's native code may not run: the VM keeps the state store (jit/state.py)
        self._state_refused: str | None = None
        self.unit: Any = None
        self.unit_meta: dict[str, Any] = {}
        self._attached = False
        self._read_line_hook: Any = None  # native io:read-line through the world (_share_stdin)
        # installed state
        self._argv: Any = None
        self._call: Any = None
        self._cells: Any = None
        self._globals: list[tuple[int, int]] = []  # (VM index, native cell index)
        self._synced: dict[int, tuple[Any, int]] = {}  # native cell -> (VM value, word)
        self._sites: list[tuple[Span | None, str]] = []
        self._desc_codes: dict[int, Code] = {}
        self._fn_values: dict[str, Any] = {}  # constructor or operation name -> VM value
        self._ctors: dict[str, CtorInfo] = {}
        self._code_desc: dict[int, int] = {}  # id(Code) -> descriptor, for every mapped Code
        self._refused: dict[int, int] = {}  # id(Code) -> calls that had to stay in the VM
        # the units loaded, oldest first: the last is the installed one (or the one whose
        # install failed), the others were replaced and are unloaded beyond the code budget
        self._loaded: list[Loaded] = []
        self._twins: dict[int, tuple[Any, int, int]] = {}  # id(VM value) -> (it, slot, word)
        self._twin_owner: list[int | None] = [None] * TWIN_SLOTS
        self._twin_next = 0
        self._twin_roots: Any = None
        # FLUENTAI_DEOPT_STRESS=SEED (tests): half the calls that could run natively stay in
        # the VM, at random, so VM and native frames interleave everywhere
        stress = count(os.environ, "FLUENTAI_DEOPT_STRESS", -1)
        self._stress: Any = None
        if stress >= 0:
            import random

            self._stress = random.Random(stress)
        # tier 2 (jit/tier2.py): a compiled tier-2 unit waiting for a safepoint, and the codes
        # the installed unit gave slots to (a new unit takes them back)
        self.tier2 = Tier2(self)
        self.stats.tier2 = self.tier2
        self._tier2_ready: tuple[float, bool] | None = None
        self._tier2_thread: threading.Thread | None = None
        self._slotted: list[Code] = []
        self._osr_codes: list[Code] = []  # codes whose loops have OSR entries (jit/osr.py)

    # ------------------------------------------------------------ logging

    def log(self, text: str) -> None:
        self.stats.log.append(text)
        if self.logfile is not None:
            at = (time.perf_counter() - fluentai.STARTED) * 1000
            self.logfile.write(f"jit: {text} [at {at:.1f} ms]\n")
            self.logfile.flush()

    # ------------------------------------------------------------ profile hook (program thread)

    def hot(self, code: Code, why: str) -> None:
        """A function crossed a threshold: compile the program (once)."""
        if self.state != IDLE:
            if self.state == READY:
                self.install()
            return
        self.stats.first_hot = f"{code.name} ({why})"
        self.log(f"hot: {code.name}: {why}")
        self.state = COMPILING
        self.stats.state = "compiling"
        self.vm.world.flush()  # the program's output so far comes first
        self._start_compiling()
        # only now: the code cache's module costs 7 ms of imports (pathlib, json), which would
        # delay the "go" to the image compiler process, a first run's critical path
        from fluentai import codecache

        codecache.warn_unwritable(self.vm.world.stderr)

    def _start_compiling(self) -> None:
        """Install a unit from the code cache, or start compiling: the image in the image
        compiler process (then restart natively), or a unit there or on a thread."""
        from fluentai.jit import unit as unit_mod

        self._targets = self._call_targets()

        cached = unit_mod.load_cached(self.src, self.stats, self.log)
        if cached is not None:  # a second run: no compiling, install now
            self._ready = cached
            self.state = READY
            self.install()
            self._start_image_thread()
            return
        if self.thresholds.sync:
            self._compile()
            self.install()
            return
        from fluentai import image

        self._image = image.enabled()  # never with FLUENTAI_JIT_SYNC, which is JIT tuning
        # nothing visible done yet: compile the image first and restart natively (`restart`)
        self._restart = self._image and not self.vm.world.touched
        if self._restart and _image_process_go(self._targets):
            self._awaiting_process = True  # polled at safepoints (`yield_to_compiler`)
            image.track(None, self.src, self.log)
            self.log("program image: compiling in the image compiler process")
            return
        if not self._restart and self._image and _image_process_unit(self._targets):
            # the unit is compiled by the process that makes the image, where it does not share
            # this run's GIL: the VM runs on at full speed meanwhile
            self._awaiting_unit = True  # polled at safepoints (`yield_to_compiler`)
            image.track(None, self.src, self.log)
            self.log("compiling in the image compiler process (the unit, then the image)")
            return
        self._start_compile_thread()

    def _call_targets(self) -> dict[str, list[list[Any]]]:
        """The inline caches the VM's profile gives so far (jit/tier2.py `call_targets`)."""
        from fluentai.jit.tier2 import call_targets, inline_caches_on

        profiler = self.vm.profiler
        if profiler is None or not inline_caches_on():
            return {}
        return call_targets(list(profiler.codes.values()))

    def _start_compile_thread(self) -> None:
        from fluentai import image

        self._thread = threading.Thread(target=self._compile, name="fluentai-jit", daemon=True)
        _compile_threads.append(self._thread)
        if self._image:
            image.track(self._thread, self.src, self.log)
        self._thread.start()

    def restart(self) -> None:
        """At a safepoint, with the program's image compiled first (state RESTART): when the run
        has still done nothing another process could see (no output, no input, no files, no
        sleeping), run the program again from its start as native code and end with its exit
        status. What the VM computed so far is dropped; being invisible, it could as well never
        have run. Otherwise the unit is compiled after all. `exit` semantics end the VM's
        frames: no `finally` clause runs, as none would have run natively."""
        from fluentai import image

        self._restart = False
        loaded = None
        if not self.vm.world.touched:
            loaded = image.load(image.key(self.src.name, self.src.text), init_runtime=False)
        if loaded is None:
            self.log("no restart: the program has already done something visible")
            self.state = COMPILING
            self._start_compile_thread()
            return
        self.state = RESTARTED
        self._restart_rt = loaded.rt
        self.stats.state = "restarted: the whole program ran again from its start as native code"
        self.log("restart: nothing visible done yet, the program runs natively from its start")
        world = self.vm.world
        world.flush()
        for i, word in enumerate(world.prng_start):  # the random sequence starts again too
            world.prng.state[i] = word
        self.in_native = True
        t0 = time.perf_counter()
        try:
            status, _ = image.call_main(loaded, self.argv)
        finally:
            self.in_native = False
            self.stats.native_ns += int((time.perf_counter() - t0) * 1e9)
        raise ProgramExit(status)

    def yield_to_compiler(self) -> None:
        """Called by the VM about every half millisecond while a compile runs (vm/profile.py).
        The VM thread holds the GIL almost always, so the compile thread, which is mostly
        Python (the lowering), would otherwise get half of it at best: it ran 3 times slower
        than alone. A short sleep gives the compiler most of the GIL until its code is ready,
        which pays back as soon as hot code runs natively."""
        if self._awaiting_process:
            self._poll_image_process()
        elif self._awaiting_unit:
            self._poll_unit_process()
        elif self._thread is not None:
            if self._restart and self._waited_s < RESTART_WAIT_TOTAL_S:
                # before a restart the VM's progress is likely to be dropped: it yields more,
                # but no longer in all than it waits for an image compiler process (a big
                # program's image takes many seconds, which the VM then ran at a sixth of its
                # speed)
                time.sleep(COMPILE_YIELD_S * RESTART_YIELD_FACTOR)
                self._waited_s += COMPILE_YIELD_S * RESTART_YIELD_FACTOR
                return
            # (the compile thread may be importing the engine: a partial module has no count)
            engine = sys.modules.get("fluentai.llvm.engine")
            if not getattr(engine, "in_llvm", 0) and (
                self._yields * COMPILE_YIELD_S < YIELD_TOTAL_S
            ):
                # LLVM itself runs without the GIL, on another core: no need to yield then
                self._yields += 1
                time.sleep(COMPILE_YIELD_S)

    def _poll_image_process(self) -> None:
        """The VM runs at full speed while the other process compiles: at a safepoint, see
        whether the image is there (restart next) or will not be (compile in-process)."""
        from fluentai import imageproc

        proc = imageproc.current
        if proc is None:
            return
        # While a restart is still possible the VM's progress is likely to be dropped, and the
        # two processes slow each other down even on two cores (shared caches): the VM waits on
        # the child's answer up to RESTART_WAIT_S at each sampled safepoint and runs on in
        # between, so the child has the machine, and the answer is seen when it comes, not at
        # the next sample (4096 calls and back edges: 40 ms of mandelbrot in the VM). A child
        # that needs more than RESTART_WAIT_TOTAL_S (a huge program) has the VM at full speed.
        wait = RESTART_WAIT_S
        if (
            self.vm.world.touched
            or self._waited_s >= RESTART_WAIT_TOTAL_S
            or imageproc.is_big(self.src.text)  # its image takes seconds
        ):
            wait = 0.0
        t0 = time.perf_counter()
        stored = proc.poll(wait)
        self._waited_s += time.perf_counter() - t0
        if stored is None:
            return
        self._awaiting_process = False
        self.stats.image_ms += proc.ms
        if stored:
            account = proc.account()
            self.log(
                f"program image stored by the image compiler process ({proc.ms:.0f} ms after "
                f"go{'; ' + account if account else ''})"
            )
            self.state = RESTART
            self.restart()  # a sampled safepoint, as where the state is otherwise acted on
            return
        self._image = False
        self._restart = False
        self._compile_here("program image not stored by the image compiler process")

    def _compile_here(self, why: str) -> None:
        """The image compiler process did not compile the program: compile it on a thread,
        unless the program is big (its compile would slow the VM for seconds: decision
        "Start-up" 11), which then stays in the VM."""
        from fluentai import imageproc

        if imageproc.is_big(self.src.text):
            self.state = FAILED
            self.stats.state = f"not compiled ({why}; too big to compile beside the VM)"
            self.log(f"{why}: the program stays in the VM (too big to compile beside it)")
            return
        self.log(f"{why}: compiling here")
        self._start_compile_thread()

    def _poll_unit_process(self) -> None:
        """At a safepoint: whether the image compiler process has stored the unit; installed at
        once when it has, and the image asked for next. Without it, the unit is compiled here."""
        from fluentai import imageproc
        from fluentai.jit import unit as unit_mod

        proc = imageproc.current
        answer = proc.poll_unit() if proc is not None else (imageproc.UNIT_FAILED, "no process")
        if answer is None:
            return
        self._awaiting_unit = False
        status, detail = answer
        loaded = None
        if status == imageproc.UNIT_BUILT:
            try:
                loaded = unit_mod.load_cached(self.src, self.stats, self.log)
            except Exception as exc:  # noqa: BLE001 - compiled here instead
                self.log(f"unit of the image compiler process not usable: {exc}")
            self.stats.cached = False
            assert proc is not None
            self.stats.lower_ms = proc.unit_ms.get("lower", 0.0)
            self.stats.compile_ms = proc.unit_ms.get("llvm", 0.0)
        if loaded is None:
            self._compile_here(f"unit not compiled by the image compiler process ({detail})")
            return
        self.log(
            f"compiled by the image compiler process: {len(loaded[1]['lambdas'])} functions in "
            f"{self.stats.lower_ms + self.stats.compile_ms:.0f} ms"
        )
        self._ready = loaded
        self.state = READY
        self.install()
        self._image_for_next_run()

    def preload(self) -> None:
        """Before the program starts (program thread): a unit in the code cache means an earlier
        run of this very program got hot, so it is installed now and even the first calls run
        natively. Costs a key computation and a failed lookup when there is none."""
        from fluentai.jit import unit as unit_mod

        try:
            cached = unit_mod.load_cached(self.src, self.stats, self.log)
        except Exception as exc:  # noqa: BLE001 - the VM runs the program anyway
            self.log(f"code cache not usable: {type(exc).__name__}: {exc}")
            return
        if cached is None:
            return
        self.stats.first_hot = "none needed: an earlier run's code was in the cache"
        remembered = None
        try:
            remembered = unit_mod.load_remembered_tier2(self.src, JitStats(), self.log)
        except Exception as exc:  # noqa: BLE001 - tier 1 is there
            self.log(f"tier 2 unit not usable: {type(exc).__name__}: {exc}")
        if remembered is not None:  # an earlier run went to tier 2: start there
            lib, meta, seeds, spans = remembered
            self.log("installed at start: this program's unit is in the code cache (tier 2)")
            self.state = READY
            self._ready = cached
            self.install()  # tier 1 first: the stats and the runtime set up as usual
            if self.state == INSTALLED:
                self.tier2.preloaded(seeds, spans)
                self._ready = (lib, meta)
                self._tier2_ready = (0.0, True)
                self.state = READY
                self.install()
            self._start_image_thread()
            return
        self.log("installed at start: this program's unit is in the code cache")
        self._ready = cached
        self.state = READY
        self.install()
        self._start_image_thread()

    # ------------------------------------------------------------ compile thread

    def _compile(self) -> None:
        # The VM thread holds the GIL almost always; each time the compiler releases it (every
        # LLVM or file call) it would wait a whole switch interval (5 ms) to get it back, which
        # made lowering 7x slower than in place. A short interval while compiling fixes that.
        background = threading.current_thread() is self._thread
        interval = sys.getswitchinterval()
        if background:
            sys.setswitchinterval(COMPILE_SWITCH_INTERVAL_S)
        try:
            if self._restart and self._build_image():
                self.state = RESTART
                self._trim_cache()
                return
            self._restart = False
            self._ready = self._build()
            self.state = READY
            self._image_for_next_run()
        except Exception as exc:  # noqa: BLE001 - the VM keeps running the program
            self.state = FAILED
            self.stats.state = f"not compiled ({type(exc).__name__}: {exc})"
            self.log(f"not compiled: {type(exc).__name__}: {exc}")
        finally:
            if background:
                sys.setswitchinterval(interval)

    def _image_for_next_run(self) -> None:
        """After the unit: the program's image for the next run, from the image compiler
        process if there is one, else made here; then the cache's trim, if due."""
        if self._image and _image_process_go(self._targets):
            self.log("program image: compiling in the image compiler process")
        elif self._image:
            self._build_image()
        self._trim_cache()

    @staticmethod
    def _trim_cache() -> None:
        """Trim the code cache after the unit is installable: a trim scans every file of the
        cache, which on the compile thread beside a running VM took up to a second."""
        from fluentai import codecache

        codecache.trim_if_due()

    def _start_image_thread(self) -> None:
        """The unit came from the cache but the image did not exist: make it in the background."""
        from fluentai import codecache, image

        if (
            self.thresholds.sync
            or not image.enabled()
            or codecache.exists(image.key(self.src.name, self.src.text))
            or _image_process_go(self._targets)
        ):
            return
        thread = threading.Thread(target=self._image_only, name="fluentai-image", daemon=True)
        _compile_threads.append(thread)
        image.track(thread, self.src, self.log)
        thread.start()

    def _image_only(self) -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(COMPILE_SWITCH_INTERVAL_S)
        try:
            self._build_image()
            self._trim_cache()
        finally:
            sys.setswitchinterval(interval)

    def _build_image(self) -> bool:
        """The whole program for a restart or the next run (fluentai/image.py); whether it is
        stored. A failure costs only that."""
        from fluentai import image

        t0 = time.perf_counter()
        try:
            return image.build(self.src, self.log, self._targets)
        except Exception as exc:  # noqa: BLE001 - the VM keeps running the program
            self.log(f"program image not stored: {type(exc).__name__}: {exc}")
            return False
        finally:
            self.stats.image_ms += (time.perf_counter() - t0) * 1000

    def _build(self) -> Any:
        from fluentai.jit import unit as unit_mod

        return unit_mod.build_unit(self.src, self.stats, self.log, targets=self._targets)

    # ------------------------------------------------------------ installation (program thread)

    # ------------------------------------------------------------ tier 2

    def start_tier2(
        self,
        seeds: dict[str, Any],
        spans: dict[str, tuple[int, int]],
        targets: dict[str, list[list[Any]]] | None = None,
    ) -> None:
        """Compile a tier-2 unit (jit/tier2.py calls this): in place with FLUENTAI_JIT_SYNC=1,
        installed at once (a VM->native call is a safepoint), else on a compile thread while
        tier 1 keeps running, installed at the next safepoint."""
        self.log(
            f"tier 2 compiling: {len(seeds)} functions to specialize, "
            f"{len(targets or {})} call sites to give inline caches"
        )
        if self.thresholds.sync:
            self._compile_tier2(seeds, spans, targets)
            self.install()
            return
        from fluentai import codecache, image

        self._tier2_thread = threading.Thread(
            target=self._compile_tier2,
            args=(seeds, spans, targets),
            name="fluentai-jit2",
            daemon=True,
        )
        _compile_threads.append(self._tier2_thread)
        if codecache.enabled():  # at exit the run waits for it, so the next run starts in tier 2
            image.track(self._tier2_thread, self.src, self.log)
        self._tier2_thread.start()

    def _compile_tier2(
        self,
        seeds: dict[str, Any],
        spans: dict[str, tuple[int, int]],
        targets: dict[str, list[list[Any]]] | None = None,
    ) -> None:
        from fluentai.jit import unit as unit_mod

        background = threading.current_thread() is self._tier2_thread
        if background:
            # llvmlite parses into LLVM's one global context: compiles must not overlap, so an
            # image still compiling on another thread finishes first
            for other in _compile_threads:
                if other is not self._tier2_thread and other.is_alive():
                    other.join()
        interval = sys.getswitchinterval()
        if background:
            sys.setswitchinterval(COMPILE_SWITCH_INTERVAL_S)
        scratch = JitStats()
        t0 = time.perf_counter()
        try:
            built = unit_mod.build_unit(self.src, scratch, self.log, seeds, spans, targets)
        except Exception as exc:  # noqa: BLE001 - tier 1 keeps running the program
            self.tier2.failed(f"{type(exc).__name__}: {exc}")
            return
        finally:
            if background:
                sys.setswitchinterval(interval)
        ms = (time.perf_counter() - t0) * 1000
        try:
            unit_mod.remember_tier2(self.src, seeds, spans, targets)
        except Exception as exc:  # noqa: BLE001 - only the next run's start is at stake
            self.log(f"tier 2 unit not remembered: {type(exc).__name__}: {exc}")
        self._ready = built
        self._tier2_ready = (ms, scratch.cached)
        self.state = READY

    # ------------------------------------------------------------ installation (program thread)

    def install(self) -> None:
        if self.state != READY:
            return
        if self._state_refused is not None:  # native code stopped for good (_hand_back_state)
            self.state = FAILED
            self._ready = self._tier2_ready = None
            return
        tier2 = self._tier2_ready
        self._tier2_ready = None
        t0 = time.perf_counter()
        try:
            self._install(self._ready)
        except Exception as exc:  # noqa: BLE001 - the VM keeps running the program
            self.state = FAILED
            self.stats.state = f"not installed ({type(exc).__name__}: {exc})"
            self.log(f"not installed: {type(exc).__name__}: {exc}")
            return
        if self._state_refused is not None:  # the store cannot go to native code
            self.state = FAILED
            self.stats.state = f"not installed ({self._state_refused})"
            return
        self.state = INSTALLED
        self._ready = None
        if tier2 is not None:
            self.stats.state = "program compiled, hot functions in tier 2"
            self.tier2.installed(self.unit_meta, tier2[0], tier2[1])
            return
        self.stats.install_ms = (time.perf_counter() - t0) * 1000
        self.stats.state = "program compiled, hot calls run natively"
        caches = int(self.unit_meta.get("inline_caches", 0)) if self.unit_meta else 0
        self.log(
            f"installed: {self.stats.slots} VM functions have native code"
            + (f", {caches} call sites with inline caches" if caches else "")
        )

    def _setup_runtime(self) -> None:
        """The runtime, once per run: this thread attached, the C entry points typed, the
        argument buffer and the ring of big values' native copies rooted."""
        from fluentai.runtime import ffi

        rt = self.rt = ffi.runtime()
        rt.thread_attach()
        self._attached = True
        lib_rt = rt.lib
        lib_rt.fl_jit_call.restype = ctypes.c_uint64
        lib_rt.fl_jit_call.argtypes = [
            ctypes.c_uint64,
            ctypes.c_int64,
            ctypes.c_uint64,
            ctypes.c_uint64,
            ctypes.c_int64,
            ctypes.POINTER(ctypes.c_uint64),
            ctypes.c_int64,
        ]
        lib_rt.fl_alloc_roots.restype = ctypes.c_void_p
        lib_rt.fl_alloc_roots.argtypes = [ctypes.c_int64]
        lib_rt.fl_jit_take_interrupt.restype = ctypes.c_int64
        lib_rt.fl_jit_take_interrupt.argtypes = []
        lib_rt.fl_out_flush.restype = None
        lib_rt.fl_out_flush.argtypes = []
        self._call = lib_rt.fl_jit_call
        self._osr_call = osr_mod.entry_function(lib_rt)
        self._poll = ctypes.c_int64.in_dll(lib_rt, "fl_rt_poll")
        self._share_stdin(rt)
        buf = ctypes.cast(lib_rt.fl_alloc_roots(ARGV_WORDS), ctypes.POINTER(ctypes.c_uint64))
        self._argv = buf
        self._twin_roots = ctypes.cast(
            lib_rt.fl_alloc_roots(TWIN_SLOTS), ctypes.POINTER(ctypes.c_uint64)
        )

    def _uninstall(self) -> None:
        """Forget the installed unit before another replaces it (tier 2), at a safepoint: no
        native frame is live and no VM value refers to the unit's code (native closures come
        back as VM closures), so only the JIT's own tables do. Big values' native copies may
        hold the old unit's closures: they are dropped too. The old unit stays loaded. The
        state store comes back to the VM first; the next unit gets it again."""
        self._take_state()
        self._untwin()
        if self.codec is not None:
            self.codec.pairs.clear()
        for code in self._slotted:
            code.native = None
        self._slotted = []
        for code in self._osr_codes:
            code.osr = None
        self._osr_codes = []
        self._desc_codes = {}
        self._code_desc = {}
        self._globals = []
        self._synced = {}
        self._sites = []
        self._refused = {}
        self._twins = {}
        self._twin_owner = [None] * TWIN_SLOTS
        for i in range(TWIN_SLOTS):
            self._twin_roots[i] = 0
        self._twin_next = 0

    def _install(self, built: Any) -> None:
        from fluentai.jit.bridge import Codec

        lib, meta = built
        if self.rt is None:
            self._setup_runtime()
        else:
            self._uninstall()
        rt = self.rt
        self.unit_meta = meta
        init = ctypes.CFUNCTYPE(
            ctypes.c_void_p, ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64
        )(lib.address("fl_jit_init"))
        args = (ctypes.c_char_p * (len(self.argv) + 1))(
            *[a.encode("utf-8", "surrogateescape") for a in self.argv], None
        )
        lib_rt = rt.lib
        lib_rt.fl_jit_roots_begin()
        try:
            cells = init(len(self.argv), args, self.vm.max_depth)
        finally:
            roots = lib_rt.fl_jit_roots_end()
        size = max(0, lib_rt.fl_jit_code_size(lib.address("fl_jit_init")))
        self._loaded.append(Loaded(lib, args, roots, size, 2 if "tier2_seeds" in meta else 1))
        self.stats.loaded(size)
        if not cells:
            raise RuntimeError("the prelude's native initialization failed")
        self._cells = ctypes.cast(cells, ctypes.POINTER(ctypes.c_uint64))
        # sites -> spans (traces of native errors)
        for site, span in zip(meta["sites"], meta["site_spans"], strict=True):
            where_fn = site[1]
            self._sites.append(
                (Span(self.src, span[0], span[1]) if span is not None else None, where_fn)
            )
        # VM codes -> native descriptors
        # A source lambda may have several native copies (one inside a named let compiled as
        # a loop, one on its own): each comes back as the VM's Code when its captures are the
        # same. Two VM Codes with one span and name are ambiguous and stay unmapped.
        by_key: dict[tuple[bool, int, int, str], list[tuple[int, list[str]]]] = {}
        for is_prelude, rows in ((False, meta["lambdas"]), (True, meta["prelude_lambdas"])):
            for desc_symbol, start, end, name, free in rows:
                key = (is_prelude, start, end, name)
                by_key.setdefault(key, []).append((lib.address(desc_symbol), list(free)))
        prelude_tops = [
            v.code
            for name, v in zip(self.vm.globals.names, self.vm.globals.values, strict=True)
            if name.startswith("%prelude:") and isinstance(v, Closure)
        ]
        slots = 0
        seen: set[int] = set()
        vm_codes: list[Code] = []
        for top in (self.top, *prelude_tops):
            for code in _codes(top):
                if code.span is None or code is self.top or id(code) in seen:
                    continue
                seen.add(id(code))
                vm_codes.append(code)
        vm_keys = [(c.is_prelude, c.span.start, c.span.end, c.name) for c in vm_codes if c.span]
        counts: dict[tuple[bool, int, int, str], int] = {}
        for k in vm_keys:
            counts[k] = counts.get(k, 0) + 1
        ambiguous = {k for k, n in counts.items() if n > 1}
        for code, key in zip(vm_codes, vm_keys, strict=True):
            copies = by_key.get(key)
            if not copies:
                continue
            if key in ambiguous:
                # one source lambda the VM compiled twice (a `finally` body is): a native
                # closure of it still comes back as a VM one, of the first copy (both run the
                # same code), but no VM copy calls native code
                if all(free == list(code.free_names) for _, free in copies):
                    for d, _ in copies:
                        self._desc_codes.setdefault(d, code)
                continue
            if any(free != list(code.free_names) for _, free in copies):
                continue  # a copy captures differently: it stays in the VM
            for d, _ in copies:
                self._desc_codes[d] = code  # native closures of it come back as VM ones
            desc = copies[0][0]
            self._code_desc[id(code)] = desc
            if _worth_crossing(code):
                code.native = desc
                self._slotted.append(code)
                slots += 1
        self.stats.slots = slots
        self._osr_codes = osr_mod.map_loops(
            list(_codes(self.top)), meta.get("osr", []), lib.address
        )
        # constructors, builtin closures, globals
        ctors: dict[str, CtorInfo] = {}
        fns = self._fn_values
        for code in _codes(self.top):
            _ctor_infos(code.consts, ctors, fns)
        for value in self.vm.globals.values:
            if isinstance(value, Closure):
                for code in _codes(value.code):
                    _ctor_infos(code.consts, ctors, fns)
            elif isinstance(value, (Constructor, EffectFn)):
                _ctor_infos((value,), ctors, fns)
        self._ctors = ctors
        ctor_ids: dict[str, int] = meta["ctor_ids"]
        self._builtins = {
            key: lib.address(symbol)
            for table in (meta["prelude_builtins"], meta["builtin_closures"])
            for key, symbol in table.items()
        }
        self.codec = Codec(
            rt,
            ctor_ids={n: i for n, i in ctor_ids.items() if n in ctors},
            ctors={i: ctors[n] for n, i in ctor_ids.items() if n in ctors},
            fn_to_native=self._fn_to_native,
            fn_to_vm=self._fn_to_vm,
            box_to_native=self._box_to_native,
            box_of=self._box_of,
        )
        vm_index = self.vm.globals.index
        for name, cell in meta["globals_index"].items():
            if name.startswith("%prelude:"):
                continue
            vi = vm_index.get(name)
            if vi is not None:
                self._globals.append((vi, cell))
        if meta.get("uses_state") and self._state_refused is None:
            self._give_state()
        self._evict()

    def _evict(self) -> None:
        """Unload replaced units, oldest first, while the units loaded exceed the code budget.
        Called right after an install, at a safepoint: no native frame is live (native code
        never calls the VM), and `_uninstall` dropped every reference to a replaced unit's
        code. A unit's root arrays (its globals and literal pools) are freed with it."""
        if self.in_native:  # a safepoint is never inside a native call; should one be, wait
            return
        budget = self.thresholds.code_budget
        loaded = self._loaded
        total = sum(x.size for x in loaded)
        while len(loaded) > 1 and total > budget:
            old = loaded.pop(0)
            # its root arrays are no one's now: a later initialization of the same library
            # (the same unit installed again) made its own
            self.rt.lib.fl_jit_roots_free(old.roots)
            if all(x.unit is not old.unit for x in loaded):
                old.unit.unload()
            total -= old.size
            self.stats.unloaded(old.size)
            self.log(
                f"unloaded a replaced tier-{old.tier} unit ({_kib(old.size)}): "
                f"{_kib(total + old.size)} loaded > budget {_kib(budget)}"
            )

    # ------------------------------------------------------------ the state store

    def _give_state(self) -> None:
        """Hand the world's state store to the unit's runtime (jit/state.py); if it holds a
        value native code cannot take, it stays in the VM and native code does not run."""
        from fluentai.jit import state

        world = self.vm.world
        given = state.give(self.rt.lib, self.codec, world.store, self._hand_back_state)
        if isinstance(given, str):
            # the unit just installed must not run: `install` leaves the JIT failed
            self._state_refused = given
            self.log(f"native code does not run: {given}, and the VM keeps the state store")
            self._uninstall()
            return
        world.store = given
        self.log("the state store is handed to native code")

    def _take_state(self) -> Any:
        """The state store back in the VM, if native code holds it; the VM's store."""
        from fluentai.jit import state

        world = self.vm.world
        if isinstance(world.store, state.NativeStore):
            world.store = state.take(world.store)
        return world.store

    def _hand_back_state(self, reason: str) -> Any:
        """A value cannot be in both stores (jit/state.py): the store stays in the VM for good,
        and native code does not run from now on (none is running: the VM is). The unit is
        uninstalled, and none is installed again."""
        self._state_refused = reason
        self.log(f"native code does not run from now on: {reason}")
        store = self._take_state()
        self._uninstall()
        self.state = FAILED
        self.stats.state = f"native code stopped ({reason})"
        return store

    # ------------------------------------------------------------ function values

    def _fn_to_native(self, v: Any) -> tuple[int, list[Any]]:
        from fluentai.jit.bridge import Unconvertible

        t = type(v)
        if t is Closure:
            desc = self._code_desc.get(id(v.code))
            if desc is None:
                raise Unconvertible(f"`{v.code.name}` has no native code")
            free = list(v.free)
            assigned = v.code.free_assigned
            for i, x in enumerate(free):
                if type(x) is Box and not assigned[i]:
                    if x.value is v:  # a loop's reference to itself
                        free[i] = _SELF
                    elif assigned[i]:
                        pass  # shared with native code: the bridge makes it a TwinBox
                    elif x.value is UNBOUND:
                        raise Unconvertible("captures a variable not bound yet")
                    else:  # a binding group's variable: boxed, set once
                        free[i] = Boxed(x.value)
            return desc, free
        if t is Builtin:
            addr = self._builtins.get("b:" + v.prim.name)
        elif t is EffectFn:
            addr = self._builtins.get("e:" + v.op)
        elif t is Constructor:
            addr = self._builtins.get("c:" + v.ctor.name)
        else:
            addr = None
        if addr is None:
            raise Unconvertible("a function value the native unit does not have")
        desc = ctypes.c_uint64.from_address(addr + 8).value
        return desc, []

    def _box_to_native(self, box: Box) -> int:
        """The native box of a variable the VM and native code share (a Box a closure or a
        loop takes across): made at its first crossing, when the Box becomes a TwinBox whose
        value lives there (decision "Tiered JIT" 26). Raises Unconvertible (the Box unchanged)
        when native code cannot hold its value."""
        from fluentai.jit.bridge import Boxed, TwinBox

        if type(box) is TwinBox:
            return int(box.twin.cell)
        codec = self.codec
        root = codec.roots(2)  # the cell, and its value (Twin)
        value = box.value
        # streams of their own, in the middle of the one being encoded: the box first (holding
        # nil), shared at once, then its value, which may refer to the box itself (a closure
        # over the variable it is assigned to)
        boxed, fresh = codec.boxed, codec._fresh
        codec._fresh = []
        try:
            codec.to_native([Boxed(None)], root)
            cell = int(root[0])
            self._share(box, cell, root, None)
            try:
                box.twin.write(value)
            except BaseException:
                self._unshare(box, value)
                raise
        finally:
            codec.boxed, codec._fresh = boxed, fresh
        return cell

    def _share(self, box: Box, cell: int, root: Any, value: Any) -> None:
        from fluentai.jit.bridge import Twin, TwinBox

        box.twin = Twin(cell, root, self, value)
        box.__class__ = TwinBox
        self._cell_twins[cell] = weakref.ref(box)
        weakref.finalize(box, self._forget, cell, root)

    def _forget(self, cell: int, root: Any) -> None:
        """A shared variable's Box is gone: its entry (unless the address has a new one), and
        its native box may go too."""
        ref = self._cell_twins.get(cell)
        if ref is not None and ref() is None:
            del self._cell_twins[cell]
        root[0] = root[1] = 0

    def _unshare(self, box: Any, value: Any) -> None:
        """`box` a plain Box again, holding `value`."""
        self._cell_twins.pop(int(box.twin.cell), None)
        box.twin.root[0] = box.twin.root[1] = 0
        box.__class__ = Box
        box.twin = None
        box.value = value

    def _box_of(self, cell: int) -> Box | None:
        ref = self._cell_twins.get(cell)
        return ref() if ref is not None else None

    def _adopt(self, box: Box) -> None:
        """A box of native code's came to the VM in a closure over an assigned variable
        (decoded with its native word in `twin`): the VM's copy shares it."""
        cell = int(box.twin)
        root = self.codec.roots(2)  # the cell, and its value (Twin)
        root[0] = cell
        self._share(box, cell, root, box.value)
        box.twin.word = -1  # converted again at its first read (its value may be unfinished)

    def _untwin(self) -> None:
        """Every shared variable back in its Box alone (its value read from the cell first):
        the unit goes, and the next one shares them again at their next crossing."""
        from fluentai.jit.bridge import TwinBox

        for ref in list(self._cell_twins.values()):
            box: Any = ref()
            if box is not None and type(box) is TwinBox:
                self._unshare(box, box.twin.read())
        self._cell_twins = {}

    def give_up_twins(self, reason: str) -> None:
        """The VM assigned a shared variable a value native code cannot hold: native code
        stops for good (as when the state store is handed back) and every variable is the VM's
        alone again."""
        self._hand_back_state(reason)

    def _fn_to_vm(self, desc: int, kind: int, name: str, free: list[Any]) -> Any:
        code = self._desc_codes.get(desc)
        if code is not None:
            assigned = code.free_assigned
            for i, x in enumerate(free):
                if type(x) is Box and assigned[i]:
                    self._adopt(x)  # one variable with native code's (TwinBox)
            clo = Closure(code, tuple(free), code.name)
            # a self reference comes back as a box holding the closure
            fixed = tuple(Box(clo) if type(x) is Box and x.value is _SELF else x for x in free)
            clo.free = fixed
            return clo
        if kind == abi.FN_BUILTIN:
            builtin = self.vm.builtin_values.get(name)
            if builtin is not None:
                return builtin
        known = self._fn_values.get(name)
        if known is not None:
            return known
        if kind == abi.FN_CONSTRUCTOR and name in self._ctors:
            value: Any = Constructor(self._ctors[name])
        elif kind == abi.FN_EFFECT:
            value = EffectFn(name)
        else:
            raise RuntimeError(f"native function `{name}` has no VM counterpart")
        self._fn_values[name] = value
        return value

    # ------------------------------------------------------------ calls (program thread)

    def ok_to_call(self) -> str | None:
        """Why native code must not run now, or None."""
        node = self.vm.handlers
        while node is not None:
            if node.clauses is not None:
                return "a handler is installed in the VM"
            node = node.parent
        return None

    def call(self, fn: Closure, args: list[Any], depth: int) -> Any:
        """Run `fn` natively with `depth` active calls (FALLBACK: run it in the VM). A VM call
        is a safepoint: a unit compiled meanwhile is installed first. A function specialized in
        tier 2 checks its guard first; a failure is a deopt (the VM runs the call)."""
        from fluentai.jit.bridge import Unconvertible

        if self.state != INSTALLED:
            if self.state == READY and self._tier2_ready is not None:
                self.install()
            if self.state != INSTALLED:
                return FALLBACK
        code = fn.code
        ft = code.tier
        if ft is None:
            ft = self.tier2.track(code)
        if ft.guard is not None:
            i = check(ft.guard, args)
            if i >= 0 or (self._stress is not None and self._stress.random() < STRESS_DEOPT):
                return self.tier2.deopt(ft, args, i)
        if self._stress is not None and self._stress.random() < 0.5:
            self.stats.fallback("FLUENTAI_DEOPT_STRESS")
            return FALLBACK
        if not ft.crossings & 7:
            self.tier2.sample(ft, args)
        if self.vm.handlers is not None:
            why = self.ok_to_call()
            if why is not None:
                self.stats.fallback(why)
                return FALLBACK
        try:
            self._sync_globals()
            desc, free = self._fn_to_native(fn)
        except Unconvertible as exc:
            return self._refuse(fn.code, str(exc))
        n = len(args)
        if 2 + n + len(free) > ARGV_WORDS:
            self.stats.fallback("too many arguments")
            return FALLBACK
        buf = self._argv
        selfmask = boxmask = 0
        if free:
            plain: list[Any] = []
            for i, x in enumerate(free):
                if x is _SELF:
                    selfmask |= 1 << i
                    plain.append(None)
                elif type(x) is Boxed:
                    boxmask |= 1 << i
                    plain.append(x.value)
                else:
                    plain.append(x)
            if (selfmask | boxmask) >> 64:  # the masks are 64 bits wide (fl_jit_call)
                self.stats.fallback("too many captured variables")
                return FALLBACK
            values = [*args, *plain]
        else:
            values = args
        twins = self._twins
        big: list[int] = []
        for i, x in enumerate(values):
            t = type(x)
            if (t is Cons and x.length >= TWIN_MIN) or (t is FlMap and len(x) >= TWIN_MIN):
                twin = twins.get(id(x))
                if twin is not None and twin[0] is x:
                    values[i] = NativeWord(twin[2])
                else:
                    big.append(i)
        try:
            self.codec.to_native(values, buf)
        except Unconvertible as exc:
            return self._refuse(fn.code, str(exc))
        for i in big:
            self._twin(values[i], buf[i])
        if self._refused:
            self._refused.pop(id(fn.code), None)
        self.vm.world.flush()
        self.stats.crossings += 1
        t0 = time.perf_counter_ns()
        self.in_native = True
        try:
            result = self._call(desc, len(free), selfmask, boxmask, n, buf, depth)
        finally:
            self.in_native = False
        dt = time.perf_counter_ns() - t0
        self.stats.native_ns += dt
        ft.crossings += 1
        ft.native_ns += dt
        self.rt.lib.fl_out_flush()
        if result == 0:
            self._raise_pending()
        if self._poll.value and self.rt.lib.fl_jit_take_interrupt():
            # Ctrl-C arrived as the native call returned: the VM unwinds from here
            self._sync_back()
            raise KeyboardInterrupt
        value = self.codec.to_vm(result)
        t = type(value)
        if (t is Cons and value.length >= TWIN_MIN) or (t is FlMap and len(value) >= TWIN_MIN):
            self._twin(value, result)
        self._sync_back()
        if ft.tier == 1 and not ft.wanted:
            t2 = self.tier2
            if ft.crossings > t2.calls or ft.native_ns > t2.native_ns:
                t2.request(
                    ft,
                    decide_tier2(self.thresholds, crossings=ft.crossings, native_ns=ft.native_ns)
                    or "hot",
                )
        return value

    def osr(self, loop: Any, locals_: list[Any], free: tuple[Any, ...], depth: int) -> bool:
        """At a back edge of a hot `while` with an OSR entry: finish the loop natively
        (whether it did; jit/osr.py)."""
        if self.state != INSTALLED:
            return False
        return osr_mod.enter(self, loop, locals_, free, depth)

    def _twin(self, v: Any, word: int) -> None:
        """Remember that `v` (a big list or map) has the native copy `word`, rooted in a ring of
        slots: passing it again costs nothing (DESIGN.md §3.4; values are immutable)."""
        slot = self._twin_next
        self._twin_next = (slot + 1) % TWIN_SLOTS
        old = self._twin_owner[slot]
        if old is not None:
            self._twins.pop(old, None)
        self._twin_roots[slot] = word
        self._twin_owner[slot] = id(v)
        self._twins[id(v)] = (v, slot, word)

    def _refuse(self, code: Code, why: str) -> Any:
        """A call that must run in the VM; a function refused REFUSALS times in a row loses its
        code slot (the reason is logged)."""
        self.stats.fallback(why)
        n = self._refused.get(id(code), 0) + 1
        self._refused[id(code)] = n
        if n >= REFUSALS:
            code.native = None
            self.log(f"not native any more: {code.name}: {why}")
        return FALLBACK

    def _raise_pending(self) -> None:
        kind = self.rt.pending_kind()
        self._sync_back()
        if kind == 2:  # interrupt
            self.rt.lib.fl_bridge_clear_pending()
            raise KeyboardInterrupt
        if kind == 3:  # exit
            code = self.rt.lib.fl_bridge_exit_code()
            self.rt.lib.fl_bridge_clear_pending()
            raise ProgramExit(code)
        err = self.codec.take_error()
        if isinstance(err, str):
            if "out of memory" in err:
                raise MemoryError
            raise RuntimeError(err)
        entries = []
        for site in reversed(err.trace):  # innermost first -> outermost first
            span, name = self._sites[site] if 0 <= site < len(self._sites) else (None, "")
            if span is not None:
                entries.append(TraceEntry(span, name))
        omitted = max(0, err.count - len(err.trace))
        exc = NativeRaised(err.kind, err.message, err.data, err.value, entries, omitted)
        exc.tail = self.tail
        raise exc

    # ------------------------------------------------------------ globals

    def _sync_globals(self) -> None:
        """Copy VM globals that changed since the last call into the unit's cells."""
        values = self.vm.globals.values
        synced = self._synced
        cells = self._cells
        convert: list[tuple[int, Any]] = []
        for vi, cell in self._globals:
            v = values[vi]
            old = synced.get(cell)
            if old is not None and old[0] is v:
                continue
            if v is UNBOUND:
                cells[cell] = _FL_UNBOUND
                synced[cell] = (v, _FL_UNBOUND)
            elif old is None or type(v) is not Cons or not self._cons_onto(cell, v, old):
                convert.append((cell, v))
        if convert:
            buf = self._argv
            for start in range(0, len(convert), ARGV_WORDS):
                chunk = convert[start : start + ARGV_WORDS]
                self.codec.to_native([v for _, v in chunk], buf)
                for i, (cell, v) in enumerate(chunk):
                    cells[cell] = buf[i]
                    synced[cell] = (v, buf[i])

    def _cons_onto(self, cell: int, v: Cons, old: tuple[Any, int]) -> bool:
        """When `v` is the list synced last time with a few cells consed in front (a global
        list the VM grows between native calls), build only those cells, in front of the native
        copy: copying the whole list at every call made such a program quadratic. Whether it
        did (False: convert `v` whole)."""
        from fluentai.jit.bridge import Unconvertible

        target, tail = old
        heads: list[Any] = []
        x: Any = v
        while x is not target:
            if type(x) is not Cons or len(heads) == ONTO_MAX:
                return False
            heads.append(x.head)
            x = x.tail
        buf = self._argv
        n = len(heads)
        try:
            self.codec.to_native(heads, buf)  # buf[0..n): the heads, rooted
        except Unconvertible:
            return False
        pair = ctypes.cast(ctypes.addressof(buf.contents) + 8 * n, ctypes.POINTER(ctypes.c_uint64))
        cons = self.rt.lib.fl_b_cons
        pair[1] = tail  # the old copy, rooted by the cell too
        for i in range(n - 1, -1, -1):
            pair[0] = buf[i]
            pair[1] = cons(2, pair)  # rooted before the next allocation
        self._cells[cell] = pair[1]
        self._synced[cell] = (v, pair[1])
        return True

    def _sync_back(self) -> None:
        """Globals that native code assigned with set!: back into the VM."""
        cells = self._cells
        values = self.vm.globals.values
        for vi, cell in self._globals:
            word = cells[cell]
            old = self._synced.get(cell)
            if old is not None and old[1] != word:
                v = self.codec.to_vm(word)
                values[vi] = v
                self._synced[cell] = (v, word)

    # ------------------------------------------------------------ end

    def interrupt(self) -> bool:
        """Ctrl-C (main thread): native code stops at its next safepoint and the call raises
        KeyboardInterrupt in the VM; False when the VM thread must be interrupted itself."""
        if self.state == INSTALLED and self.rt is not None:
            self.rt.interrupt()
            return self.in_native
        if self.state == RESTARTED and self._restart_rt is not None:
            self._restart_rt.fl_rt_interrupt()  # the image unwinds and reports `interrupted`
            return True
        return False

    def rescue_output(self) -> None:
        """A second Ctrl-C: write what native code's output buffer holds without waiting (the
        restarted image's runtime is the same library, whose buffer is written once)."""
        if self.rt is not None:
            self.rt.rescue()
        elif self._restart_rt is not None:
            self._restart_rt.fl_out_rescue()

    def _share_stdin(self, rt: Any) -> None:
        """Native `io:read-line` reads through the VM's world, which owns standard input's
        buffer (a line the VM read ahead is not lost, nor read twice) and flushes the VM's
        output first. An error (input that is not UTF-8) is raised natively with the VM's
        report; Ctrl-C during the wait interrupts the native code."""
        from fluentai.runtime.ffi import READ_LINE_HOOK

        lib = rt.lib
        lib.fl_string_from_utf8.restype = ctypes.c_uint64
        lib.fl_string_from_utf8.argtypes = [ctypes.c_char_p, ctypes.c_int64]
        lib.fl_raise.restype = ctypes.c_uint64
        lib.fl_raise.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.fl_poll_slow.restype = ctypes.c_uint64
        lib.fl_poll_slow.argtypes = []
        world = self.vm.world

        def read_line() -> int:
            try:
                line = world.read_line()
            except FlError as err:
                return int(lib.fl_raise(err.kind.encode(), err.message.encode()))
            except BaseException:  # noqa: BLE001 - Ctrl-C during the wait: unwind natively
                lib.fl_rt_interrupt()
                return int(lib.fl_poll_slow())
            if line is None:
                return abi.FL_NIL
            data = line.encode("utf-8")
            return int(lib.fl_string_from_utf8(data, len(data)))

        self._read_line_hook = READ_LINE_HOOK(read_line)
        rt.set_read_line_hook(self._read_line_hook)

    def close(self) -> None:
        # (a thread that never started, after a failure in between, cannot be joined)
        if self._thread is not None and self.state == COMPILING and self._thread.ident:
            self._thread.join(timeout=0)
        if self.rt is not None and self._read_line_hook is not None:
            self.rt.set_read_line_hook(None)  # back to fd 0 (this world is gone)
            self._read_line_hook = None
        if self._attached and self.rt is not None:
            self.rt.thread_detach()
            self._attached = False


def _image_process() -> Any:
    """This run's image compiler process (fluentai/imageproc.py), or None."""
    module = sys.modules.get("fluentai.imageproc")
    return module.current if module is not None else None


def _image_process_unit(targets: dict[str, list[list[Any]]]) -> bool:
    """Ask this run's image compiler process, if it has one, for the JIT unit first, with
    these inline caches (and then the image)."""
    proc = _image_process()
    return proc is not None and proc.unit(targets)


def _image_process_go(targets: dict[str, list[list[Any]]] | None = None) -> bool:
    """Ask this run's image compiler process, if it has one, for the program image (with these
    inline caches, else those it was given with the unit); whether it is making it (or has made
    it)."""
    proc = _image_process()
    return proc is not None and proc.go(targets)


class _Self:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SELF"


_SELF: Any = _Self()
