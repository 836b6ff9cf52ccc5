"""Program images: warm runs of `fluentai run` that need neither the VM nor the compiler.

When a run of a program gets hot, the JIT compiles the program's functions for the VM to call
(jit/unit.py). Right after that, still in the background, it compiles the whole program the way
`--tier native` does. That second unit is the program's *image*, kept in the code cache under its
own key. If the program ends first, the run waits for the image before it exits
(`finish_pending`). The next run of the same text finds the image before the front end, the VM or
llvmlite is imported. It runs the image directly: start-up is the interpreter, the cache lookup
and the C runtime (docs/jit.md, "Program images"; docs/decisions.md, "Tiered JIT" 11).

The image is the native tier's code, and the corpus checks that the native tier prints what the
VM prints for every program. Images are neither made nor used:
- when `FLUENTAI_IMAGE=0`, `FLUENTAI_JIT=0` or `--no-cache` is given;
- when the JIT is tuned (`--jit-threshold`, `FLUENTAI_JIT_*`, `FLUENTAI_DEOPT_STRESS`): those
  settings ask for the JIT itself;
- when a run prints values (`-p`), dumps or times stages, or its standard output is not fd 1;
- for programs the JIT does not compile (`state:*`, `random:*`, `io:read-line`).
"""

from __future__ import annotations

import os
import stat
import sys
import time

from fluentai import cachekey, settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

    from fluentai.source import SourceFile

IMAGE_OPT = 2
# The image a first run restarts on is compiled at -O1 first (stored, then replaced by the
# -O2 image by the image compiler process: fluentai/imageproc.py), decision "Tiered JIT" 27.
FIRST_IMAGE_OPT = 1
_TUNING = (
    "FLUENTAI_JIT_THRESHOLD",
    "FLUENTAI_JIT_LOOP_THRESHOLD",
    "FLUENTAI_JIT_TIME_MS",
    "FLUENTAI_JIT_SYNC",
    "FLUENTAI_JIT_OPT",
    "FLUENTAI_JIT_TIER2_THRESHOLD",
    "FLUENTAI_JIT_TIER2_TIME_MS",
    "FLUENTAI_JIT_TIER2_OPT",
    "FLUENTAI_JIT_DEOPT_LIMIT",
    "FLUENTAI_JIT_RECOMPILE_LIMIT",
    "FLUENTAI_DEOPT_STRESS",
)


def enabled() -> bool:
    """Whether this process may use or make program images (environment only)."""
    if os.environ.get("FLUENTAI_JIT") == "0" or os.environ.get("FLUENTAI_IMAGE") == "0":
        return False
    if any(os.environ.get(name) for name in _TUNING):
        return False
    return cachekey.enabled()


def key(name: str, text: str) -> str:
    """The code cache key of the image of the program `text` read from `name` (reports show
    the name)."""
    return cachekey.key(name, text, f"O{IMAGE_OPT}", "image")


def native_opt_level() -> int:
    """LLVM optimization level of `--tier native` (FLUENTAI_NATIVE_OPT, default 2)."""
    text = os.environ.get("FLUENTAI_NATIVE_OPT", "2")
    return int(text) if text in ("0", "1", "2", "3") else 2


def native_key(name: str, text: str, opt: int, print_values: bool, print_result: bool) -> str:
    """The code cache key of a whole program compiled by `--tier native` (fluentai/native.py):
    the same kind of entry as an image, made by another command line."""
    flags = f"p{int(print_values)} r{int(print_result)}"
    return cachekey.key(name, text, f"O{opt}", flags, "native")


def try_run(
    path: str,
    argv: list[str],
    jit_stats: bool,
    stdout: TextIO,
    stderr: TextIO,
    *,
    native_tier: bool = False,
) -> int | None:
    """Run the image of the program at `path` if the code cache has one (with `native_tier`,
    the entry `--tier native` made); None otherwise (the caller then runs the program the usual
    way, which reports any problem with the file). Imports only the image runner extension
    (or ctypes) and the program thread's module besides this one's."""
    try:
        if stdout.fileno() != 1:
            return None
        # only a regular file: a pipe or FIFO (`run /dev/stdin`) can be read once, and the
        # usual path, which runs the program when there is no image, must be the one to read it
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as f:
            # as SourceFile.from_bytes: strict UTF-8, no byte order mark, CRLF line ends as LF
            text = f.read().decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    except (OSError, ValueError, AttributeError):
        return None  # unreadable or undecodable: the usual path reports it
    t0 = time.perf_counter()
    k = native_key(path, text, native_opt_level(), False, False) if native_tier else key(path, text)
    loaded = load(k, init_runtime=True)
    if loaded is None:
        if not native_tier:
            _fork_compiler(path, text)
        return None
    load_ms = (time.perf_counter() - t0) * 1000
    timing: list[float] = []

    def body() -> int:
        status, run_ms = call_main(loaded, argv)
        timing.append(run_ms)
        return status

    from fluentai.bigstack import run_in_big_thread

    stdout.flush()
    status = run_in_big_thread(body, on_interrupt=loaded.interrupt, on_abandon=loaded.rescue)
    if jit_stats:
        _report(loaded.base, load_ms, timing[0] if timing else 0.0, stderr, native_tier)
    return status


class Loaded:
    """An image loaded for a run: how to run it, interrupt it and rescue its output, and its
    path. `rt` is the runtime library through ctypes (None when the image runner extension
    loaded it)."""

    def __init__(
        self,
        base: str,
        run: Callable[[list[bytes]], int],
        interrupt: Callable[[], object],
        rescue: Callable[[], object],
        rt: Any = None,
    ) -> None:
        self.base = base
        self.run = run
        self.interrupt = interrupt
        self.rescue = rescue
        self.rt = rt


def load(k: str, *, init_runtime: bool) -> Loaded | None:
    """The image `k` from the code cache, loaded beside the runtime library (initialized first
    when `init_runtime`: a process that has not loaded it yet, which loads it with the image
    runner extension if it was built, else with ctypes); None when there is none."""
    base = os.path.join(cachekey.cache_dir(), k)
    library = _runtime_library()
    if library is None or not _committed(base, k):
        return None
    runner = _runner() if init_runtime else None
    if runner is not None:
        if not runner.load(os.fsencode(library), os.fsencode(base + ".so")):
            return None  # a damaged entry: the usual path recompiles
        runner.init()
        _touch(base)
        return Loaded(base, runner.run, runner.interrupt, runner.rescue)
    import ctypes

    try:
        rt = ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
        unit = ctypes.CDLL(base + ".so")
        main_address = ctypes.cast(unit.fl_program_main, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None  # a damaged entry: the usual path recompiles
    if main_address is None:
        return None
    if init_runtime:
        rt.fl_rt_init()
    _touch(base)
    main = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p))(
        main_address
    )

    def run(argv: list[bytes]) -> int:
        args = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
        rt.fl_rt_thread_attach()
        try:
            return int(main(len(argv), args))
        finally:
            rt.fl_rt_thread_detach()

    return Loaded(base, run, rt.fl_rt_interrupt, rt.fl_out_rescue, rt)


def _runner() -> Any:
    """The image runner extension (fluentai/runtime/ext/imagerun.c) if it was built with the
    runtime (it needs CPython's headers), else None: ctypes does its work then, at 3 to 4 ms
    more per start (its import)."""
    from fluentai.runtime import layout

    path = layout.image_runner()
    if not os.path.exists(path):
        return None
    directory = os.path.dirname(path)
    sys.path.insert(0, directory)
    try:
        return __import__(layout.IMAGE_RUNNER)
    except ImportError:
        return None
    finally:
        sys.path.remove(directory)


def call_main(loaded: Loaded, argv: list[str]) -> tuple[int, float]:
    """Run the image on this thread (a program thread, with its big stack): its exit status and
    the milliseconds it ran."""
    args = [a.encode("utf-8", "surrogateescape") for a in argv]
    t1 = time.perf_counter()
    status = loaded.run(args)
    return status, (time.perf_counter() - t1) * 1000


def _committed(base: str, k: str) -> bool:
    """The entry's `.json` (its commit mark, fluentai/codecache.py) names its key."""
    try:
        with open(base + ".json", encoding="utf-8") as f:
            return f'"key": "{k}"' in f.read()
    except (OSError, ValueError):
        return False


def _runtime_library() -> str | None:
    from fluentai.runtime import layout

    path = layout.shared_library()
    return path if os.path.exists(path) else None


def _touch(base: str) -> None:
    """A used entry is recent for the cache's least-recently-used trimming."""
    for suffix in (".so", ".json"):
        cachekey.touch(base + suffix)


def _report(base: str, load_ms: float, run_ms: float, stderr: TextIO, native_tier: bool) -> None:
    import json

    try:
        with open(base + ".json", encoding="utf-8") as f:
            functions = len(json.load(f).get("functions", []))
    except (OSError, ValueError, AttributeError):
        functions = 0
    what = (
        "tier native: the whole program from the code cache"
        if native_tier
        else "tier auto: program image from the code cache (an earlier run compiled the "
        "whole program)"
    )
    stderr.write(
        f"jit: {what}\n"
        f"jit: functions compiled: 0, functions in the image: {functions}\n"
        f"jit: load {load_ms:.1f} ms, time compiling 0.0 ms, time running {run_ms:.1f} ms\n"
        "jit: time in VM 0.0 ms (no VM was started)\n"
    )


# ---------------------------------------------------------------- making images (JIT side)

pending: list[Any] = []  # threads compiling an image (the JIT's compile threads)
_exit_log: Any = None  # the JIT's log, for what the end of the run does with them
_image_source: SourceFile | None = None  # the program those threads compile

# At exit, a run waits this long at most for an image still being compiled (FLUENTAI_IMAGE_WAIT_MS
# overrides). A small program's image takes 50 to 300 ms, and waiting for it makes the next run
# warm; a big program's can take many seconds, which its own run must not pay: past the wait the
# image is finished in the background (docs/jit.md, "Program images").
EXIT_WAIT_S = 2.0


def track(thread: Any, src: SourceFile, log: Any) -> None:
    """A JIT thread that compiles the image of `src` (or a unit the next run starts from);
    None: the image compiler process compiles it."""
    global _exit_log, _image_source
    if thread is not None:
        pending.append(thread)
    _exit_log = log
    _image_source = src


def exit_wait_s() -> float:
    """FLUENTAI_IMAGE_WAIT_MS, else EXIT_WAIT_S; no wait by default for a big program, whose
    image takes many seconds (the next run waits for it instead: imageproc.Claim)."""
    from fluentai.imageproc import is_big

    ms = settings.milliseconds(os.environ, "FLUENTAI_IMAGE_WAIT_MS")
    if ms is not None:
        return ms / 1000
    if _image_source is not None and is_big(_image_source.text):
        return 0.0
    return EXIT_WAIT_S


def build(src: SourceFile, log: Any, targets: dict[str, Any] | None = None) -> bool:
    """Compile and store the image of `src` (on the JIT's compile thread), with the inline
    caches `targets` (jit/tier2.py `call_targets`); whether it exists now."""
    from fluentai import codecache

    k = key(src.name, src.text)
    if codecache.exists(k):
        return True
    from fluentai.native import store_image

    t0 = time.perf_counter()
    stored = store_image(src, k, IMAGE_OPT, targets)
    ms = (time.perf_counter() - t0) * 1000
    log(f"program image {'stored' if stored else 'not stored'} ({ms:.0f} ms)")
    return stored


def _fork_compiler(path: str, text: str) -> None:
    """A first run: the image compiler process (fluentai/imageproc.py), if there is a core to
    spare for it and the program has code that calls or loops."""
    from fluentai import imageproc

    if imageproc.wanted(text):
        # what both processes need (the front end, the builtin table) is imported before the
        # fork, once: imported by both at once, each ran a third slower beside the other
        from fluentai import frontend, prelude_cache, primitives  # noqa: F401

        primitives.table()
        imageproc.start(path, text)


def finish_pending(*, wait: bool = True) -> None:
    """At exit: wait a while (`exit_wait_s`) for an image still being compiled, so that the next
    run starts warm. With an image compiler process (fluentai/imageproc.py), a JIT compile
    thread still running was to ask it for the image: it is asked now, and the thread (whose
    unit is of no use any more) is not waited for. Past the wait, the process is left to finish
    and store the image on its own, and an image a thread was compiling is handed to a new
    background process (`imageproc.build_in_background`): the run ends now either way. The
    process is stopped instead when no image was wanted or `wait` is false (an interrupted
    run)."""
    alive = [thread for thread in pending if thread.is_alive()]
    proc_mod = sys.modules.get("fluentai.imageproc")
    proc = proc_mod.current if proc_mod is not None else None
    if proc is not None:
        if wait and (proc.sent_at or proc.unit_asked or alive) and proc.go():
            deadline = time.perf_counter() + exit_wait_s()
            try:
                # a unit still being compiled is of no use now, and the image would only come
                # after it: past the wait, a process of its own makes the image alone
                if proc.unit_asked and proc.poll_unit(exit_wait_s()) is None:
                    proc.discard()
                    _hand_over()
                    return
                if proc.poll(max(0.0, deadline - time.perf_counter())) is None:
                    proc.detach()
                    _log_exit(
                        "program image not ready at exit: the image compiler process "
                        "finishes it in the background"
                    )
            except KeyboardInterrupt:
                proc.discard()
                sys.stderr.flush()
        else:
            proc.discard()
        return
    if not wait or not alive:
        return
    deadline = time.perf_counter() + exit_wait_s()
    for thread in alive:
        try:
            thread.join(max(0.0, deadline - time.perf_counter()))
        except KeyboardInterrupt:
            sys.stderr.flush()
            return
    if any(thread.is_alive() for thread in alive):
        _hand_over()


def _hand_over() -> None:
    """The JIT's threads are still compiling at exit (they die with the process): the image, if
    it is not stored yet, is compiled by a background process of its own."""
    from fluentai import codecache, imageproc

    src = _image_source
    if src is None or codecache.exists(key(src.name, src.text)):
        return
    started = imageproc.build_in_background(src.name, src.text)
    _log_exit(
        "program image not ready at exit: "
        + ("a background process compiles it" if started else "not made (no process started)")
    )


def _log_exit(text: str) -> None:
    if _exit_log is not None:
        try:
            _exit_log(text)
        except (OSError, ValueError):
            pass
