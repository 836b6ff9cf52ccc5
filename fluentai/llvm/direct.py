"""LLVM IR -> object code through llvmlite's C library, without `llvmlite.binding`.

Importing `llvmlite.binding` costs a process 25 to 40 ms, most of it Python: the package's
modules and what they import (`importlib.resources`, `zipfile`, `tempfile`, ...), against 9 to 12
ms for loading its library (libllvmlite) alone. A first run's image compiler process
(fluentai/imageproc.py) pays that on the run's critical path, and the JIT's compile thread pays it
holding the GIL the VM needs. Both only turn IR text into object code, so they call the same C
functions `llvmlite.binding` calls, declared here, with the same arguments: `DirectEngine`
follows `Engine.object_code` (engine.py) step for step and makes the same bytes
(tests/test_llvm_direct.py compares them).

The functions are llvmlite's own C interface (the `LLVMPY_` functions), which is not public: it
is used only with the llvmlite version it was written against (`LLVMLITE_VERSION`, the one
pyproject.toml pins); with any other, `available()` is false and the Engine is used.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_size_t, c_void_p
from typing import Any

from fluentai.llvm import engine
from fluentai.llvm.engine import (
    PIPELINE_OPTIONS,
    QUICK_FUNCTION_PASSES,
    QUICK_MODULE_PASSES,
    CompileTimes,
    EngineError,
    host_features,
)

LLVMLITE_VERSION = "0.50.0"

# llvmlite's C names of the passes engine.py names by llvmlite's Python methods
_MODULE_PASSES = {"always_inliner": "LLVMPY_module_AddAlwaysInlinerPass"}
_FUNCTION_PASSES = {
    "sroa": "LLVMPY_function_AddSROAPass",
    "instruction_combine": "LLVMPY_function_AddInstCombinePass",
    "simplify_cfg": "LLVMPY_function_AddSimplifyCFGPass",
}
_PIPELINE_OPTIONS = {
    "loop_vectorization": "LLVMPY_PTOSetLoopVectorization",
    "slp_vectorization": "LLVMPY_PTOSetSLPVectorization",
    "loop_unrolling": "LLVMPY_PTOSetLoopUnrolling",
}

_OUT = POINTER(c_void_p)  # a `char **` the library fills with a string it allocated
# name: (argument types, result type); every handle is a c_void_p
_SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    "LLVMPY_InitializeNativeTarget": ([], None),
    "LLVMPY_InitializeNativeAsmPrinter": ([], None),
    "LLVMPY_DisposeString": ([c_void_p], None),
    "LLVMPY_GetDefaultTargetTriple": ([_OUT], None),
    "LLVMPY_GetHostCPUName": ([_OUT], None),
    "LLVMPY_GetHostCPUFeatures": ([_OUT], c_int),
    "LLVMPY_GetTargetFromTriple": ([c_char_p, _OUT], c_void_p),
    "LLVMPY_CreateTargetMachine": (
        [c_void_p, c_char_p, c_char_p, c_char_p, c_int, c_char_p, c_char_p, c_int, c_int]
        + [c_char_p],
        c_void_p,
    ),
    "LLVMPY_DisposeTargetMachine": ([c_void_p], None),
    "LLVMPY_GetTargetMachineTriple": ([c_void_p, _OUT], None),
    "LLVMPY_CreateTargetMachineData": ([c_void_p], c_void_p),
    "LLVMPY_CopyStringRepOfTargetData": ([c_void_p, _OUT], None),
    "LLVMPY_DisposeTargetData": ([c_void_p], None),
    "LLVMPY_ContextCreate": ([], c_void_p),
    "LLVMPY_ContextDispose": ([c_void_p], None),
    "LLVMPY_ParseAssembly": ([c_void_p, c_char_p, _OUT], c_void_p),
    "LLVMPY_DisposeModule": ([c_void_p], None),
    "LLVMPY_VerifyModule": ([c_void_p, _OUT], c_bool),
    "LLVMPY_SetTarget": ([c_void_p, c_char_p], None),
    "LLVMPY_SetDataLayout": ([c_void_p, c_char_p], None),
    "LLVMPY_ModuleFunctionsIter": ([c_void_p], c_void_p),
    "LLVMPY_FunctionsIterNext": ([c_void_p], c_void_p),
    "LLVMPY_DisposeFunctionsIter": ([c_void_p], None),
    "LLVMPY_IsDeclaration": ([c_void_p], c_int),
    "LLVMPY_CreatePipelineTuningOptions": ([], c_void_p),
    "LLVMPY_DisposePipelineTuningOptions": ([c_void_p], None),
    "LLVMPY_CreatePassBuilder": ([c_void_p, c_void_p], c_void_p),
    "LLVMPY_DisposePassBuilder": ([c_void_p], None),
    "LLVMPY_buildPerModuleDefaultPipeline": ([c_void_p, c_int], c_void_p),
    "LLVMPY_CreateNewModulePassManager": ([], c_void_p),
    "LLVMPY_RunNewModulePassManager": ([c_void_p, c_void_p, c_void_p], None),
    "LLVMPY_DisposeNewModulePassManger": ([c_void_p], None),  # sic
    "LLVMPY_CreateNewFunctionPassManager": ([], c_void_p),
    "LLVMPY_RunNewFunctionPassManager": ([c_void_p, c_void_p, c_void_p], None),
    "LLVMPY_DisposeNewFunctionPassManger": ([c_void_p], None),  # sic
    "LLVMPY_TargetMachineEmitToMemory": ([c_void_p, c_void_p, c_int, _OUT], c_void_p),
    "LLVMPY_GetBufferStart": ([c_void_p], c_void_p),
    "LLVMPY_GetBufferSize": ([c_void_p], c_size_t),
    "LLVMPY_DisposeMemoryBuffer": ([c_void_p], None),
}
for _name in _MODULE_PASSES.values():
    _SIGNATURES[_name] = ([c_void_p], None)
for _name in _FUNCTION_PASSES.values():
    _SIGNATURES[_name] = ([c_void_p], None)
for _name in _PIPELINE_OPTIONS.values():
    _SIGNATURES[_name] = ([c_void_p, c_bool], None)

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_failed = False
# the host's triple, CPU name and features (as engine.host_features sorts them), asked once
_host: tuple[bytes, bytes, bytes] | None = None


def library_path() -> str | None:
    """Where llvmlite's library is (the path `llvmlite.binding` loads it from, so that a process
    using both loads it once), or None when this is not the llvmlite version written for."""
    try:
        import llvmlite
    except ImportError:
        return None
    if getattr(llvmlite, "__version__", None) != LLVMLITE_VERSION:
        return None
    if sys.platform == "darwin":
        name = "libllvmlite.dylib"
    elif os.name == "posix":
        name = "libllvmlite.so"
    else:
        return None
    path = os.path.join(os.path.dirname(llvmlite.__file__), "binding", name)
    return path if os.path.isfile(path) else None


def _load() -> ctypes.CDLL | None:
    global _lib, _failed
    with _lock:
        if _lib is None and not _failed:
            path = library_path()
            try:
                if path is None:
                    raise OSError("not the llvmlite this was written for")
                lib = ctypes.CDLL(path)
                for name, (args, result) in _SIGNATURES.items():
                    fn = getattr(lib, name)
                    fn.argtypes = args
                    fn.restype = result
                lib.LLVMPY_InitializeNativeTarget()
                lib.LLVMPY_InitializeNativeAsmPrinter()
                _lib = lib
            except (OSError, AttributeError):
                _failed = True  # engine.compiler() takes the Engine (which reports a failure)
    return _lib


def available() -> bool:
    """Whether this path can be taken: the pinned llvmlite, its library loaded. Loads it (once):
    the image compiler process calls this early, as its LLVM initialization."""
    return _load() is not None


def _take(lib: ctypes.CDLL, out: c_void_p) -> str:
    """The string the library wrote to `out` (empty for none), freed."""
    if not out.value:
        return ""
    try:
        return ctypes.string_at(out.value).decode("utf-8", "replace")
    finally:
        lib.LLVMPY_DisposeString(out)


def _host_facts(lib: ctypes.CDLL) -> tuple[bytes, bytes, bytes]:
    global _host
    if _host is None:
        triple, cpu, features = c_void_p(), c_void_p(), c_void_p()
        lib.LLVMPY_GetDefaultTargetTriple(byref(triple))
        lib.LLVMPY_GetHostCPUName(byref(cpu))
        reported = _take(lib, features) if lib.LLVMPY_GetHostCPUFeatures(byref(features)) else ""
        _host = (
            _take(lib, triple).encode(),
            _take(lib, cpu).encode(),
            host_features(reported).encode(),
        )
    return _host


class DirectEngine:
    """`Engine.object_code` (engine.py) through llvmlite's C library (`available()` must be
    true). Each compile has an LLVM context of its own: nothing is shared with another thread
    or with `llvmlite.binding` in the same process."""

    def __init__(self) -> None:
        lib = _load()
        assert lib is not None, "direct.available() was not checked"
        self.lib = lib
        self.times = CompileTimes()

    def object_code(
        self, ir_text: str, opt: int, *, host_cpu: bool = False, bounded: bool = False
    ) -> bytes:
        lib = self.lib
        pipeline, codegen = engine.plan(ir_text, opt, bounded=bounded)
        engine.in_llvm += 1
        context = lib.LLVMPY_ContextCreate()
        tm = mod = None
        try:
            tm = self._target_machine(opt, host_cpu)
            mod = self._parse(context, ir_text, tm)
            self._optimize(mod, tm, pipeline)
            if codegen != opt:
                lib.LLVMPY_DisposeTargetMachine(tm)
                tm = None
                tm = self._target_machine(codegen, host_cpu)
            t0 = time.perf_counter()
            err = c_void_p()
            buf = lib.LLVMPY_TargetMachineEmitToMemory(tm, mod, 1, byref(err))
            if not buf:
                raise EngineError(f"code generation failed: {_take(lib, err)}")
            try:
                obj = ctypes.string_at(
                    lib.LLVMPY_GetBufferStart(buf), lib.LLVMPY_GetBufferSize(buf)
                )
            finally:
                lib.LLVMPY_DisposeMemoryBuffer(buf)
            self.times.codegen_ms += (time.perf_counter() - t0) * 1000
        finally:
            if mod is not None:
                lib.LLVMPY_DisposeModule(mod)
            if tm is not None:
                lib.LLVMPY_DisposeTargetMachine(tm)
            lib.LLVMPY_ContextDispose(context)
            engine.in_llvm -= 1
        return obj

    def _target_machine(self, opt: int, host_cpu: bool) -> int:
        """As Engine.target_machine(opt, jit=False, host_cpu=host_cpu)."""
        lib = self.lib
        triple, cpu, features = _host_facts(lib)
        err = c_void_p()
        target = lib.LLVMPY_GetTargetFromTriple(triple, byref(err))
        if not target:
            raise EngineError(f"no target for {triple.decode()}: {_take(lib, err)}")
        tm = lib.LLVMPY_CreateTargetMachine(
            target,
            triple,
            cpu if host_cpu else b"",
            features if host_cpu else b"",
            opt,
            b"pic",
            b"default",
            0,
            0,
            b"",
        )
        if not tm:
            raise EngineError("cannot create a target machine")
        return int(tm)

    def _parse(self, context: int, ir_text: str, tm: int) -> int:
        """As Engine.parse: the module, verified, with the target machine's triple and data
        layout."""
        lib = self.lib
        t0 = time.perf_counter()
        err = c_void_p()
        mod = lib.LLVMPY_ParseAssembly(context, ir_text.encode("utf-8"), byref(err))
        message = _take(lib, err)
        if message or not mod:
            if mod:
                lib.LLVMPY_DisposeModule(mod)
            raise EngineError(f"invalid LLVM IR: LLVM IR parsing error\n{message}")
        if lib.LLVMPY_VerifyModule(mod, byref(err)):
            message = _take(lib, err)
            lib.LLVMPY_DisposeModule(mod)
            raise EngineError(f"invalid LLVM IR: {message}")
        _take(lib, err)
        triple = c_void_p()
        lib.LLVMPY_GetTargetMachineTriple(tm, byref(triple))
        lib.LLVMPY_SetTarget(mod, _take(lib, triple).encode())
        data = lib.LLVMPY_CreateTargetMachineData(tm)
        layout = c_void_p()
        lib.LLVMPY_CopyStringRepOfTargetData(data, byref(layout))
        lib.LLVMPY_DisposeTargetData(data)
        lib.LLVMPY_SetDataLayout(mod, _take(lib, layout).encode())
        self.times.parse_ms += (time.perf_counter() - t0) * 1000
        return int(mod)

    def _optimize(self, mod: int, tm: int, opt: int) -> None:
        """As Engine.optimize."""
        if opt <= 0:
            return
        lib = self.lib
        t0 = time.perf_counter()
        pto = lib.LLVMPY_CreatePipelineTuningOptions()
        if opt > 1:
            for name in PIPELINE_OPTIONS:
                getattr(lib, _PIPELINE_OPTIONS[name])(pto, True)
        pb = lib.LLVMPY_CreatePassBuilder(tm, pto)
        try:
            if opt == 1:
                mpm = lib.LLVMPY_CreateNewModulePassManager()
                for name in QUICK_MODULE_PASSES:
                    getattr(lib, _MODULE_PASSES[name])(mpm)
                lib.LLVMPY_RunNewModulePassManager(mpm, mod, pb)
                lib.LLVMPY_DisposeNewModulePassManger(mpm)
                fpm = lib.LLVMPY_CreateNewFunctionPassManager()
                for name in QUICK_FUNCTION_PASSES:
                    getattr(lib, _FUNCTION_PASSES[name])(fpm)
                functions = lib.LLVMPY_ModuleFunctionsIter(mod)
                try:
                    while fn := lib.LLVMPY_FunctionsIterNext(functions):
                        if not lib.LLVMPY_IsDeclaration(fn):
                            lib.LLVMPY_RunNewFunctionPassManager(fpm, fn, pb)
                finally:
                    lib.LLVMPY_DisposeFunctionsIter(functions)
                lib.LLVMPY_DisposeNewFunctionPassManger(fpm)
            else:
                mpm = lib.LLVMPY_buildPerModuleDefaultPipeline(pb, min(opt, 3))
                lib.LLVMPY_RunNewModulePassManager(mpm, mod, pb)
                lib.LLVMPY_DisposeNewModulePassManger(mpm)
        finally:
            lib.LLVMPY_DisposePassBuilder(pb)
            lib.LLVMPY_DisposePipelineTuningOptions(pto)
        self.times.optimize_ms += (time.perf_counter() - t0) * 1000
