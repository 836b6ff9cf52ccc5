"""The engine: LLVM IR text -> machine code (DESIGN.md §1.2, §9). The only importer of
`llvmlite.binding`, imported at the first compile, never at start-up.

    engine = Engine()
    obj = engine.object_code(ir_text, opt=2)                        # PIC object bytes
    lib = engine.link_objects([obj], ["fl_program_main"])           # LLJIT library
    addr = lib.address("fl_program_main")
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from fluentai.records import field, record

_lock = threading.Lock()
_initialized = False
_counter = itertools.count(1)
# compiles inside LLVM right now (object_code): llvmlite's calls release the GIL, so a VM that
# yields its GIL to a compile thread (jit/jit.py) need not while the thread is in there
in_llvm = 0
# A module with a function of more IR text than this gets its machine code at -O0 (after the
# usual IR optimizations): the greedy register allocator grows faster than linearly with the
# size of one function (an expression of 5000 nested calls: 30 s at -O2, 3 s at -O0), and
# functions this big are straight-line code such as a program's top level, run once.
# docs/decisions.md, "Native back end" 28.
HUGE_FUNCTION_CHARS = 2_000_000
# A JIT unit or program image (`bounded`) of more IR text than this is optimized at most with the
# function-only pipeline of -O1 and gets its machine code at -O0: at -O2, LLVM takes about 1.5 s
# per MB of IR text, and a program of 3000 small functions (23 MB) took 35 s at -O2 against 9 s,
# while the VM waited for it. `fluentai build` and the prelude keep the level asked for.
# docs/decisions.md, "Tiered JIT" 25.
BIG_UNIT_CHARS = 4_000_000
# -O1's pipeline (`optimize`): cheap. The entries marked `alwaysinline` (thin entries of quick
# exits, which recursive code calls most) are inlined, then three function passes run on every
# function. A sixth of -O2's optimization time, and code as fast on the numeric kernels
# (decision "Tiered JIT" 27). Names of llvmlite's `add_NAME_pass` methods.
QUICK_MODULE_PASSES = ("always_inliner",)
QUICK_FUNCTION_PASSES = ("sroa", "instruction_combine", "simplify_cfg")
# -O2 and -O3: LLVM's default pipeline at that level, with these of llvmlite's pipeline tuning
# options turned on.
PIPELINE_OPTIONS = ("loop_vectorization", "slp_vectorization", "loop_unrolling")


def _llvm() -> Any:
    global _initialized
    try:
        import llvmlite.binding as llvm
    except OSError as err:
        from fluentai.errors import ResourceError

        # it maps about 180 MB: under an address-space limit this is what fails first
        first = str(err).split(". ", 1)[0]  # llvmlite goes on with guesses at the cause
        raise ResourceError(f"cannot load LLVM (llvmlite): {first}") from None

    with _lock:
        if not _initialized:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            _initialized = True
    return llvm


class EngineError(Exception):
    """LLVM rejected the module (a compiler bug: reported as an internal error)."""


@record(frozen=False, slots=False)
class CompileTimes:
    """Milliseconds per compile stage, for --jit-stats and the benchmark harness."""

    parse_ms: float = 0.0
    optimize_ms: float = 0.0
    codegen_ms: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)


@record(frozen=False, slots=False)
class JitLibrary:
    """A linked LLJIT library: keep it alive while its code may run."""

    tracker: Any
    jit: Any

    def address(self, name: str) -> int:
        return int(self.tracker[name])


class Engine:
    """Owns the target machines and the LLJIT instance."""

    def __init__(self) -> None:
        self.llvm = _llvm()
        self._jit: Any = None
        self.times = CompileTimes()

    def target_machine(self, opt: int, *, jit: bool, host_cpu: bool = True) -> Any:
        llvm = self.llvm
        target = llvm.Target.from_default_triple()
        if jit:
            return target.create_target_machine(
                cpu=llvm.get_host_cpu_name(),
                features=llvm.get_host_cpu_features().flatten(),
                opt=opt,
                jit=True,
            )
        cpu = llvm.get_host_cpu_name() if host_cpu else ""
        features = llvm.get_host_cpu_features().flatten() if host_cpu else ""
        return target.create_target_machine(
            cpu=cpu, features=features, opt=opt, reloc="pic", codemodel="default"
        )

    def parse(self, ir_text: str, tm: Any) -> Any:
        llvm = self.llvm
        t0 = time.perf_counter()
        try:
            mod = llvm.parse_assembly(ir_text)
            mod.verify()
        except RuntimeError as err:
            raise EngineError(f"invalid LLVM IR: {err}") from err
        mod.triple = tm.triple
        mod.data_layout = str(tm.target_data)
        self.times.parse_ms += (time.perf_counter() - t0) * 1000
        return mod

    def optimize(self, mod: Any, tm: Any, opt: int) -> None:
        llvm = self.llvm
        t0 = time.perf_counter()
        if opt <= 0:
            return
        if opt == 1:
            pto = llvm.create_pipeline_tuning_options(speed_level=1)
            pb = llvm.create_pass_builder(tm, pto)
            mpm = llvm.create_new_module_pass_manager()
            for name in QUICK_MODULE_PASSES:
                getattr(mpm, f"add_{name}_pass")()
            mpm.run(mod, pb)
            fpm = llvm.create_new_function_pass_manager()
            for name in QUICK_FUNCTION_PASSES:
                getattr(fpm, f"add_{name}_pass")()
            for f in mod.functions:
                if not f.is_declaration:
                    fpm.run(f, pb)
        else:
            pto = llvm.create_pipeline_tuning_options(speed_level=min(opt, 3))
            for name in PIPELINE_OPTIONS:
                setattr(pto, name, True)
            pb = llvm.create_pass_builder(tm, pto)
            pb.getModulePassManager().run(mod, pb)
        self.times.optimize_ms += (time.perf_counter() - t0) * 1000

    def link_objects(self, objects: list[bytes], exports: list[str]) -> JitLibrary:
        """Load object files (from `object_code` or the cache) into one LLJIT library."""
        llvm = self.llvm
        t0 = time.perf_counter()
        if self._jit is None:
            self._jit = llvm.create_lljit_compiler(self.target_machine(0, jit=True))
        builder = llvm.JITLibraryBuilder()
        for obj in objects:
            builder = builder.add_object_img(obj)
        builder = builder.add_current_process()
        for name in exports:
            builder = builder.export_symbol(name)
        tracker = builder.link(self._jit, f"fl{next(_counter)}")
        self.times.codegen_ms += (time.perf_counter() - t0) * 1000
        return JitLibrary(tracker, self._jit)

    def optimized_ir(self, ir_text: str, opt: int) -> str:
        tm = self.target_machine(opt, jit=False)
        mod = self.parse(ir_text, tm)
        self.optimize(mod, tm, opt)
        return str(mod)

    def object_code(
        self, ir_text: str, opt: int, *, host_cpu: bool = False, bounded: bool = False
    ) -> bytes:
        """`bounded`: a JIT unit or program image, compiled more cheaply when big
        (`BIG_UNIT_CHARS`)."""
        global in_llvm
        in_llvm += 1
        try:
            pipeline, codegen = plan(ir_text, opt, bounded=bounded)
            tm = self.target_machine(opt, jit=False, host_cpu=host_cpu)
            mod = self.parse(ir_text, tm)
            self.optimize(mod, tm, pipeline)
            if codegen != opt:
                tm = self.target_machine(codegen, jit=False, host_cpu=host_cpu)
            t0 = time.perf_counter()
            obj = bytes(tm.emit_object(mod))
            self.times.codegen_ms += (time.perf_counter() - t0) * 1000
        finally:
            in_llvm -= 1
        return obj

    def assembly(self, ir_text: str, opt: int, *, host_cpu: bool = False) -> str:
        tm = self.target_machine(opt, jit=False, host_cpu=host_cpu)
        mod = self.parse(ir_text, tm)
        self.optimize(mod, tm, opt)
        if opt > 0 and has_huge_function(ir_text):
            tm = self.target_machine(0, jit=False, host_cpu=host_cpu)
        return str(tm.emit_assembly(mod))

    def load_library(self, path: str) -> None:
        self.llvm.load_library_permanently(path)


def plan(ir_text: str, opt: int, *, bounded: bool) -> tuple[int, int]:
    """(the optimization pipeline's level, the code generator's) for a module compiled at
    `opt`: a `bounded` module bigger than BIG_UNIT_CHARS gets -O1's pipeline, and it or one
    with a huge function (HUGE_FUNCTION_CHARS) gets its machine code at -O0."""
    big = bounded and opt > 0 and len(ir_text) > BIG_UNIT_CHARS
    pipeline = 1 if big else opt
    codegen = 0 if opt > 0 and (big or has_huge_function(ir_text)) else opt
    return pipeline, codegen


def host_features(reported: str) -> str:
    """The host CPU's features as a target machine takes them: LLVM's report ("+avx2,-sse4a,
    ...") sorted by name, as llvmlite's `get_host_cpu_features().flatten()` gives them (the
    direct path, direct.py, must make the same code)."""
    flags = {}
    for item in reported.split(","):
        if item:
            flags[item[1:]] = item[0] == "+"
    return ",".join(("+" if on else "-") + name for name, on in sorted(flags.items()))


def compiler() -> Engine | Any:
    """What compiles LLVM IR to object code (`object_code`, `times`): the direct path to
    llvmlite's library (direct.py), which spares a process the import of `llvmlite.binding`
    (25 to 40 ms), when it can be taken; else an Engine."""
    from fluentai.llvm import direct

    if direct.available():
        return direct.DirectEngine()
    return Engine()


def has_huge_function(ir_text: str) -> bool:
    """Whether one function of the module's text has more than HUGE_FUNCTION_CHARS of it."""
    if len(ir_text) <= HUGE_FUNCTION_CHARS:
        return False
    start = ir_text.find("\ndefine ")
    while start >= 0:
        end = ir_text.find("\n}\n", start)
        if end < 0:
            end = len(ir_text)
        if end - start > HUGE_FUNCTION_CHARS:
            return True
        start = ir_text.find("\ndefine ", end)
    return False
