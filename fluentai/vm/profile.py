"""Tier-0 profile: what the JIT will use to find hot code (DESIGN.md §7.1).

Counters live on each Code and are kept only while a Profiler is installed (`--tier auto`): `calls`, `backedges` (loop back edges plus self tail calls),
`time_ns` (sampled: about every millisecond, at most every 4096 calls and back edges, the
running function is charged the time since the last sample), `arg_kinds` (histogram of
argument-kind tuples of every 8th call, at most 8 tuples, then megamorphic) and per call site (`site_kinds`, keyed by the call's pc) the kinds seen there; `site_targets`, per call site of
program code, the program functions called there (at most MAX_SITE_TARGETS, then megamorphic),
which tier 2 turns into inline caches (jit/tier2.py `call_targets`).
"""

from __future__ import annotations

import _thread
import time
from typing import Any

from fluentai.vm.code import Code
from fluentai.vm.maps import FlMap
from fluentai.vm.values import (
    EMPTY,
    Adt,
    Builtin,
    Closure,
    Cons,
    Constructor,
    EffectFn,
    ErrorValue,
    Symbol,
)

MAX_KIND_TUPLES = 8
MEGAMORPHIC = ("*",)
MAX_SITE_TARGETS = 2  # functions an inline cache checks (DESIGN.md §7.4)
SAMPLE_MASK = 511  # with calls sampled 1 in 8: at most every 4096 calls and back edges
# The sampling period adapts to how long the VM's calls take: a sample every 4096 calls is
# 40 ms of mandelbrot in the VM but 100 ms of a `match`-heavy interpreter, whose compile
# thread, given the GIL only at samples (jit/jit.py `yield_to_compiler`), then took 3 s for
# 0.15 s of work. The period halves while samples come more than SAMPLE_SLOW_NS apart and
# doubles (up to SAMPLE_MASK) while they come less than SAMPLE_FAST_NS apart.
SAMPLE_SLOW_NS = 2_000_000
SAMPLE_FAST_NS = 250_000

_KIND: dict[type, str] = {
    int: "Int",
    float: "Float",
    bool: "Bool",
    type(None): "Nil",
    str: "Str",
    Symbol: "Sym",
    Cons: "List",
    type(EMPTY): "List",
    FlMap: "Map",
    Adt: "Adt",
    Closure: "Fn",
    Builtin: "Fn",
    Constructor: "Fn",
    EffectFn: "Fn",
    ErrorValue: "Error",
}


def kinds_of(args: list[Any]) -> tuple[str, ...]:
    return tuple(_KIND.get(type(a), "Any") for a in args)


def _bump(
    histogram: dict[Any, int], key: Any, cap: int = MAX_KIND_TUPLES, other: Any = MEGAMORPHIC
) -> None:
    """Count `key`; past `cap` distinct keys, new ones are counted under `other`."""
    if key in histogram:
        histogram[key] += 1
    elif len(histogram) < cap:
        histogram[key] = 1
    else:
        histogram[other] = histogram.get(other, 0) + 1


class Profiler:
    """Records calls for the VM when profiling is on; `sample` charges time to functions."""

    def __init__(self, jit: Any = None) -> None:
        self.ticks = 0
        self.mask = SAMPLE_MASK  # a sample every mask + 1 ticks (adapted at each sample)
        self.running: Code | None = None  # the function charged at the last sample
        self.last_ns = time.perf_counter_ns()
        self.codes: dict[int, Code] = {}
        # the JIT (jit/jit.py) and its thresholds; the VM reports hot code with `hot`
        self.jit = jit
        t = jit.thresholds if jit is not None else None
        big = 1 << 62
        self.hot_calls = t.calls if t is not None else big
        self.hot_loops = t.loops if t is not None else big
        self.hot_ns = int(t.time_ms * 1e6) if t is not None else big

    def hot(self, code: Code) -> None:
        """`code` crossed a threshold: tell the JIT (once per function)."""
        from fluentai.jit.policy import Thresholds, decide

        code.hot = True
        t = Thresholds(self.hot_calls, self.hot_loops, self.hot_ns / 1e6)
        why = decide(t, calls=code.calls, backedges=code.backedges, time_ns=code.time_ns)
        if self.jit is not None:
            self.jit.hot(code, why or "hot")

    def record_call(self, caller: Code, pc: int, callee: Code, args: list[Any]) -> None:
        kinds = kinds_of(args)
        _bump(callee.arg_kinds, kinds)
        _bump(caller.site_kinds.setdefault(pc, {}), kinds)
        if not callee.is_prelude and not caller.is_prelude:
            _bump(caller.site_targets.setdefault(pc, {}), callee, MAX_SITE_TARGETS, None)
        self.codes[id(callee)] = callee
        jit = self.jit
        if jit is not None and jit.state == 2:  # compiled: install at this safepoint
            jit.install()
        self.tick(caller)

    def tick(self, running: Code) -> None:
        self.ticks += 1
        self.codes[id(running)] = running
        if not self.ticks & self.mask:
            now = time.perf_counter_ns()
            elapsed = now - self.last_ns
            running.time_ns += elapsed
            self.last_ns = now
            if elapsed > SAMPLE_SLOW_NS:
                self.mask >>= 1
            elif elapsed < SAMPLE_FAST_NS and self.mask < SAMPLE_MASK:
                self.mask = self.mask << 1 | 1
            self.running = running
            if running.time_ns > self.hot_ns and not running.hot:
                self.hot(running)
            jit = self.jit
            if jit is not None:
                if jit.state == 2:  # compiled: install at this safepoint
                    jit.install()
                elif jit.state == 1:  # compiling: let the compile thread have the GIL a while
                    jit.yield_to_compiler()
                elif jit.state == 5:  # the image is ready: restart natively if still invisible
                    jit.restart()

    def report(self, limit: int = 8) -> str:
        """The hottest functions, for `--jit-stats`."""
        codes = sorted(self.codes.values(), key=lambda c: (c.time_ns, c.calls), reverse=True)
        lines = [f"vm profile: {len(codes)} functions called"]
        for c in codes[:limit]:
            kinds = max(c.arg_kinds.items(), key=lambda kv: kv[1])[0] if c.arg_kinds else ()
            lines.append(
                f"  {c.name:<24} calls {c.calls:>10}  back edges {c.backedges:>10}  "
                f"~{c.time_ns / 1e6:8.1f} ms  args ({' '.join(kinds)})"
            )
        return "\n".join(lines)


active: Profiler | None = None  # the profiler of the program running now (`activate`)
_active_thread = 0  # the thread running that program (`_thread.get_ident()`)


def activate(profiler: Profiler | None) -> None:
    """The driver: `profiler`'s program runs on this thread from now on (None: it ended)."""
    global active, _active_thread
    active = profiler
    _active_thread = _thread.get_ident() if profiler is not None else 0


def long_builtin_safepoint() -> None:
    """A builtin that runs long (`range` of millions of elements) calls this now and then: the
    function that called it is charged the time, may get hot, and the JIT's safepoint work
    (install, restart) happens as after a call. Without it, a program spending seconds in one
    builtin call showed the profile nothing. Only on the program's thread: the compiler calls
    builtins too (constant folding of `(range 100000)`), and a unit installed from its thread
    attached that thread to the collector instead of the program's, which then crashed."""
    profiler = active
    if (
        profiler is not None
        and profiler.running is not None
        and _thread.get_ident() == _active_thread
    ):
        profiler.ticks |= profiler.mask  # the tick below samples
        profiler.tick(profiler.running)
