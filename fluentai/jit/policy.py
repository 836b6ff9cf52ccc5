"""When the VM hands code to the native tiers (DESIGN.md §7.2). Pure: no LLVM, no VM state.

t = Thresholds.from_env(os.environ)          # defaults: 1000 calls, 10 000 loops, 100 ms
decide(t, calls=1200, backedges=0, time_ns=0) -> "calls > 1000"   (None: not hot yet)
decide_tier2(t, crossings=1001, native_ns=0) -> "VM->native calls 1001 > 1000"

Tier 1 is the first native unit (generic code, a cheap pipeline); tier 2 specializes the
functions hot in tier 1 on the argument kinds the VM saw (fluentai/jit/tier2.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fluentai.records import record
from fluentai.settings import count, size

FALLBACK: object = type("Fallback", (), {"__repr__": lambda self: "FALLBACK"})()
"""`Jit.call`'s answer when the call must run in the VM after all."""

DEFAULT_CALLS = 1000
DEFAULT_LOOPS = 10_000
DEFAULT_TIME_MS = 100.0
DEFAULT_TIER2_CALLS = 1000  # VM->native calls of one function in tier 1
DEFAULT_TIER2_TIME_MS = 50.0  # time in one function's native code in tier 1
DEFAULT_DEOPT_LIMIT = 16  # guard failures of one function before it is recompiled
DEFAULT_RECOMPILE_LIMIT = 2  # recompilations of one function before it is blacklisted
DEFAULT_CODE_BUDGET = 32 << 20  # bytes of units kept loaded before replaced ones are unloaded


@record
class Thresholds:
    """A function is hot after more than `calls` calls, `loops` loop iterations (back edges
    and self tail calls) or `time_ms` spent in it; `sync` compiles in place instead of on the
    compile thread (tests). A function with tier-1 code goes to tier 2 after more than
    `tier2_calls` VM->native calls or `tier2_time_ms` in its native code; after `deopt_limit`
    failed guards it is recompiled (the limit doubles each time), and after
    `recompile_limit` recompilations it is blacklisted. Units replaced by a newer one are
    unloaded, oldest first, while the units loaded exceed `code_budget` bytes."""

    calls: int = DEFAULT_CALLS
    loops: int = DEFAULT_LOOPS
    time_ms: float = DEFAULT_TIME_MS
    sync: bool = False
    tier2_calls: int = DEFAULT_TIER2_CALLS
    tier2_time_ms: float = DEFAULT_TIER2_TIME_MS
    deopt_limit: int = DEFAULT_DEOPT_LIMIT
    recompile_limit: int = DEFAULT_RECOMPILE_LIMIT
    code_budget: int = DEFAULT_CODE_BUDGET

    @classmethod
    def from_env(cls, environ: Mapping[str, str], calls: int | None = None) -> Thresholds:
        """FLUENTAI_JIT_THRESHOLD (0: every tier-1 trigger fires at first entry),
        FLUENTAI_JIT_LOOP_THRESHOLD, FLUENTAI_JIT_TIME_MS, FLUENTAI_JIT_SYNC=1,
        FLUENTAI_JIT_TIER2_THRESHOLD (0: a function goes to tier 2 at its first VM->native
        call), FLUENTAI_JIT_TIER2_TIME_MS, FLUENTAI_JIT_DEOPT_LIMIT,
        FLUENTAI_JIT_RECOMPILE_LIMIT, FLUENTAI_JIT_CODE_BUDGET; `calls` is the `--jit-threshold` flag, which wins over
        the environment."""
        n = calls if calls is not None else count(environ, "FLUENTAI_JIT_THRESHOLD", -1)
        sync = environ.get("FLUENTAI_JIT_SYNC") == "1"
        t2 = count(environ, "FLUENTAI_JIT_TIER2_THRESHOLD", -1)
        t2_ms = float(count(environ, "FLUENTAI_JIT_TIER2_TIME_MS", int(DEFAULT_TIER2_TIME_MS)))
        deopts = max(1, count(environ, "FLUENTAI_JIT_DEOPT_LIMIT", DEFAULT_DEOPT_LIMIT))
        recompiles = count(environ, "FLUENTAI_JIT_RECOMPILE_LIMIT", DEFAULT_RECOMPILE_LIMIT)
        if n == 0:
            tier1: tuple[int, int, float] = (0, 0, 0.0)
        else:
            tier1 = (
                n if n > 0 else DEFAULT_CALLS,
                count(environ, "FLUENTAI_JIT_LOOP_THRESHOLD", DEFAULT_LOOPS),
                float(count(environ, "FLUENTAI_JIT_TIME_MS", int(DEFAULT_TIME_MS))),
            )
        return cls(
            *tier1,
            sync,
            t2 if t2 >= 0 else DEFAULT_TIER2_CALLS,
            0.0 if t2 == 0 else t2_ms,
            deopts,
            recompiles,
            size(environ, "FLUENTAI_JIT_CODE_BUDGET", DEFAULT_CODE_BUDGET),
        )


def decide(t: Thresholds, *, calls: int, backedges: int, time_ns: int) -> str | None:
    """Why a function with these counters is hot, or None while it is not."""
    if calls > t.calls:
        return f"calls {calls} > {t.calls}"
    if backedges > t.loops:
        return f"loop iterations {backedges} > {t.loops}"
    if time_ns / 1e6 > t.time_ms:
        return f"time {time_ns / 1e6:.0f} ms > {t.time_ms:.0f} ms"
    return None


def decide_tier2(t: Thresholds, *, crossings: int, native_ns: int) -> str | None:
    """Why a function with tier-1 code goes to tier 2, or None while it stays in tier 1."""
    if crossings > t.tier2_calls:
        return f"VM->native calls {crossings} > {t.tier2_calls}"
    if native_ns / 1e6 > t.tier2_time_ms:
        return f"native time {native_ns / 1e6:.0f} ms > {t.tier2_time_ms:.0f} ms"
    return None


def jit_enabled(environ: Mapping[str, str]) -> bool:
    """FLUENTAI_JIT=0 turns the native tiers of `--tier auto` off."""
    return environ.get("FLUENTAI_JIT", "1") != "0"


def uses_state(program: Any) -> bool:
    """Whether the program uses the state store (`state:*`): a unit of it takes the store over
    from the VM while it is installed (jit/state.py)."""
    from fluentai.passes.rcore import walk

    for form, _ in program.forms:
        for node in walk(form):
            for attr in ("name", "op"):
                text = getattr(node, attr, None)
                if isinstance(text, str) and text.startswith("state:"):
                    return True
    return False
