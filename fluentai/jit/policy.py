"""When the VM hands code to the native tier (DESIGN.md §7.2). Pure: no LLVM, no VM state.

t = Thresholds.from_env(os.environ)          # defaults: 1000 calls, 10 000 loops, 100 ms
decide(t, calls=1200, backedges=0, time_ns=0) -> "calls > 1000"   (None: not hot yet)
"""

from __future__ import annotations

from collections.abc import Mapping

from fluentai.records import record

FALLBACK: object = type("Fallback", (), {"__repr__": lambda self: "FALLBACK"})()
"""`Jit.call`'s answer when the call must run in the VM after all."""

DEFAULT_CALLS = 1000
DEFAULT_LOOPS = 10_000
DEFAULT_TIME_MS = 100.0


def _int_setting(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    return int(text) if text.isdigit() else default


@record
class Thresholds:
    """A function is hot after more than `calls` calls, `loops` loop iterations (back edges
    and self tail calls) or `time_ms` spent in it; `sync` compiles in place instead of on the
    compile thread (tests)."""

    calls: int = DEFAULT_CALLS
    loops: int = DEFAULT_LOOPS
    time_ms: float = DEFAULT_TIME_MS
    sync: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str], calls: int | None = None) -> Thresholds:
        """FLUENTAI_JIT_THRESHOLD (0: every trigger fires at first entry),
        FLUENTAI_JIT_LOOP_THRESHOLD, FLUENTAI_JIT_TIME_MS, FLUENTAI_JIT_SYNC=1; `calls` is the
        `--jit-threshold` flag, which wins over the environment."""
        n = calls if calls is not None else _int_setting(environ, "FLUENTAI_JIT_THRESHOLD", -1)
        if n == 0:
            return cls(0, 0, 0.0, environ.get("FLUENTAI_JIT_SYNC") == "1")
        return cls(
            n if n > 0 else DEFAULT_CALLS,
            _int_setting(environ, "FLUENTAI_JIT_LOOP_THRESHOLD", DEFAULT_LOOPS),
            float(_int_setting(environ, "FLUENTAI_JIT_TIME_MS", int(DEFAULT_TIME_MS))),
            environ.get("FLUENTAI_JIT_SYNC") == "1",
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


def jit_enabled(environ: Mapping[str, str]) -> bool:
    """FLUENTAI_JIT=0 turns the native tiers of `--tier auto` off."""
    return environ.get("FLUENTAI_JIT", "1") != "0"
