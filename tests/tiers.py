"""The execution tiers every corpus program runs under (DESIGN.md §2, STYLE.md §7).

Each row is one configuration: an id (used in test ids and in `tier_skips.SKIPS`), the value given
to `fluentai run --tier` (`aot`: build an executable and run it), and extra environment
variables. New tiers (native, auto with various JIT
thresholds, AOT) are added by appending rows; the VM row comes first because it is the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple


class Tier(NamedTuple):
    """One way of running a program: `fluentai run --tier CLI_TIER` with ENV added."""

    id: str
    cli_tier: str
    env: Mapping[str, str]


_JIT_NOW: Final = {
    "FLUENTAI_JIT_THRESHOLD": "0",
    "FLUENTAI_JIT_SYNC": "1",
    "FLUENTAI_JIT_OPT": "0",
}
# tier 2 at once as well: a function goes to tier 2 at its first VM->native call, specialized on
# the kinds seen so far, so guards fail whenever a later call passes other kinds; a deopt limit
# of 2 makes recompilation and blacklisting happen too
_TIER2_NOW: Final = {
    **_JIT_NOW,
    "FLUENTAI_JIT_TIER2_THRESHOLD": "0",
    "FLUENTAI_JIT_TIER2_OPT": "0",
    "FLUENTAI_JIT_DEOPT_LIMIT": "2",
}

# the tier-1 unit, and each tier-2 unit a newer one replaces, unloaded as soon as it is replaced
_UNLOAD: Final = {"FLUENTAI_JIT_CODE_BUDGET": "0"}

TIERS: Final[list[Tier]] = [
    Tier("vm", "vm", {}),
    # the default tier at its default thresholds: the VM, profiling; hot code compiled by the JIT
    Tier("auto", "auto", {}),
]

# Tiers run on part of the corpus (tests/test_tier_samples.py), to keep the suite fast: (tier,
# every k-th program, starting at offset). Rows that split the corpus between them cover every
# program together: auto-jit0 and auto-stress (every threshold 0), aot and native.
SAMPLED_TIERS: Final[list[tuple[Tier, int, int]]] = [
    # every threshold 0 and compilation in place: the first call of any function compiles the
    # program, and from then on calls run natively wherever they can (-O0 keeps it fast)
    (Tier("auto-jit0", "auto", _JIT_NOW), 2, 0),
    # the same with tier 2 at once too, and half the calls that could go native stay in the
    # VM, at random, while a quarter of the guarded calls fail their guard (a deopt), so VM
    # and native frames interleave everywhere and deopts, recompilations and blacklisting
    # happen in every program (FLUENTAI_DEOPT_STRESS); each unit replaced is unloaded at once
    # (a code budget of 0)
    (Tier("auto-stress", "auto", {**_TIER2_NOW, **_UNLOAD, "FLUENTAI_DEOPT_STRESS": "7"}), 2, 1),
    # tier 2 at once without stress: guards fail only when a function gets other kinds
    (Tier("auto-tier2", "auto", {**_TIER2_NOW, **_UNLOAD}), 6, 2),
    # tier 2's optimizing pipeline
    (Tier("auto-tier2-O2", "auto", {**_TIER2_NOW, "FLUENTAI_JIT_TIER2_OPT": "2"}), 24, 9),
    # a threshold of 2: functions tier up after a few calls, with VM frames still live below
    (Tier("auto-jit2", "auto", {**_JIT_NOW, "FLUENTAI_JIT_THRESHOLD": "2"}), 7, 3),
    # the JIT's optimizing pipeline
    (Tier("auto-jit0-O2", "auto", {**_JIT_NOW, "FLUENTAI_JIT_OPT": "2"}), 12, 5),
    # `fluentai build` (built in the test process at -O1, then the executable is run)
    (Tier("aot", "aot", {}), 2, 0),
    # the whole program compiled before it runs, at -O0 and -O2
    (Tier("native", "native", {"FLUENTAI_NATIVE_OPT": "0"}), 2, 1),
    (Tier("native-O2", "native", {"FLUENTAI_NATIVE_OPT": "2"}), 12, 7),
]
