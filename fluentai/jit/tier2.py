"""Tier 2 of the JIT (DESIGN.md §7, docs/jit.md "Tier 2"): functions hot in tier 1 specialized on
the argument kinds the VM saw, behind guards; deopts, recompilation and blacklisting.

    t2 = Tier2(jit)                       # one per Jit
    t2.track(code)                        # a VM Code's record (Code.tier), made at its first call
    check(guard, args)                    # the entry guard: index of the first failing argument
    t2.request(ft, why)                   # ft crossed a tier-2 threshold: compile (maybe later)
    t2.deopt(ft, args, i)                 # a guard failed: the VM runs the call (FALLBACK)
    t2.installed(meta)                    # a tier-2 unit was installed: its guards apply

A tier-2 unit is the whole program again, lowered with the closed-world types of tier 1 except
that each specialized known function takes the kinds the VM saw as its parameters' types,
whatever its call sites pass (types/infer.py), and compiled at FLUENTAI_JIT_TIER2_OPT. The VM's
calls of a specialized function check those kinds first (the guard, `check`); a call that fails
it runs in the VM instead (a deopt: the activation is the VM's from its start to its end). Native
code never calls back into the VM, so native callers are not guarded: the lowering uses types
only to leave out fast paths, never to drop a check, so a native call with other kinds takes the
generic slow paths of the same code. It is not counted as a deopt.

After `deopt_limit` failed guards a function is recompiled with its guard widened by the kinds
that failed it, and the limit doubles (backoff); after `recompile_limit` recompilations it is
blacklisted: the next unit compiles it unspecialized, as in tier 1, and it is never specialized
again. The reason is recorded (`--jit-stats`, FLUENTAI_JIT_LOG).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from fluentai.jit.policy import FALLBACK
from fluentai.vm.code import Code
from fluentai.vm.profile import _KIND, MEGAMORPHIC, _bump, kinds_of

# argument kinds a guard checks (one type test each); other kinds leave a parameter unguarded
GUARDED_KINDS = frozenset({"Int", "Float", "Bool", "Nil", "Str", "Sym"})
MAX_GUARD_KINDS = 3  # the lattice's MAX_KINDS: more kinds would be Any to the inference
MAX_UNITS = 8  # tier-2 units compiled in one run at most
STRESS_DEOPT = 0.25  # FLUENTAI_DEOPT_STRESS: share of guarded calls whose guard fails anyway
LOGGED_DEOPTS = 3  # deopts logged per function and reason (all are counted)

Guard = tuple[tuple[str, ...] | None, ...]
"""The kinds each parameter is specialized on (None: not checked)."""


def guard_of(per_param: list[set[str]]) -> Guard | None:
    """A guard from the kinds seen at each parameter, or None when none is worth checking."""
    out: list[tuple[str, ...] | None] = []
    for kinds in per_param:
        ok = kinds and kinds <= GUARDED_KINDS and len(kinds) <= MAX_GUARD_KINDS
        out.append(tuple(sorted(kinds)) if ok else None)
    return tuple(out) if any(k is not None for k in out) else None


def observed_guard(histogram: dict[tuple[str, ...], int], nparams: int) -> tuple[Guard | None, str]:
    """The guard to specialize on from the VM profile's histogram of argument kinds, or None
    and why not."""
    if nparams == 0:
        return None, "no parameters"
    if MEGAMORPHIC in histogram:
        return None, "megamorphic arguments"
    per: list[set[str]] = [set() for _ in range(nparams)]
    for kinds in histogram:
        if len(kinds) == nparams:
            for i, k in enumerate(kinds):
                per[i].add(k)
    if not any(per):
        return None, "no argument kinds observed"
    guard = guard_of(per)
    if guard is None:
        return None, "no argument of a kind a guard checks"
    return guard, ""


def widen(guard: Guard, index: int, kind: str) -> Guard | None:
    """`guard` with `kind` allowed at parameter `index` (that parameter unchecked when it would
    take too many kinds or one a guard cannot check)."""
    per = [set(k) if k is not None else set() for k in guard]
    if guard[index] is not None:
        per[index].add(kind)
    return guard_of(per)


def check(guard: Guard, args: list[Any]) -> int:
    """The entry guard: the index of the first argument whose kind is not expected, or -1."""
    for i, kinds in enumerate(guard):
        if kinds is not None and _KIND.get(type(args[i]), "Any") not in kinds:
            return i
    return -1


def format_guard(guard: Guard | None, names: list[str]) -> str:
    if guard is None:
        return "no guard"
    return ", ".join(
        f"{name}: {'|'.join(k)}" for name, k in zip(names, guard, strict=False) if k is not None
    )


def inline_caches_on() -> bool:
    """Whether units and images get inline caches (FLUENTAI_JIT_INLINE_CACHES=0 turns them
    off)."""
    return os.environ.get("FLUENTAI_JIT_INLINE_CACHES", "1") != "0"


def call_targets(codes: list[Code]) -> dict[str, list[list[Any]]]:
    """The inline caches of the next unit (jit/unit.py `Targets`): each call site of these
    functions where the VM saw one or two program functions called, and never a third; the
    sites the VM saw most calls at first."""
    found: list[tuple[int, str, list[list[Any]]]] = []
    for code in codes:
        if code.is_prelude:
            continue
        for pc, seen in code.site_targets.items():
            span = code.spans[(pc - 2) // 2] if 2 <= pc <= 2 * len(code.spans) else None
            if span is None or None in seen:
                continue
            rows = [
                [callee.span.start, callee.span.end, callee.name]
                for callee, _ in sorted(seen.items(), key=lambda kv: -kv[1])
                if callee.span is not None
            ]
            if rows:
                found.append((-sum(seen.values()), f"{span.start}:{span.end}", rows))
    found.sort(key=lambda site: site[0])
    return {site: rows for _, site, rows in found}


class FnTier:
    """The JIT's record of one VM Code with native code (`Code.tier`)."""

    __slots__ = (
        "code",
        "tier",
        "crossings",
        "native_ns",
        "wanted",
        "guard",
        "next_guard",
        "not_specialized",
        "deopts",
        "deopt_total",
        "limit",
        "recompiles",
        "recompiling",
        "reasons",
        "logged",
        "blacklisted",
    )

    def __init__(self, code: Code, limit: int) -> None:
        self.code = code
        self.tier = 1
        self.crossings = 0
        self.native_ns = 0
        self.wanted = False  # crossed a tier-2 threshold
        self.guard: Guard | None = None  # the installed unit's specialization of it
        self.next_guard: Guard | None = None  # what the next unit specializes it on
        self.not_specialized = ""  # why a tier-2 function is not specialized
        self.deopts = 0  # failed guards since the last unit
        self.deopt_total = 0
        self.limit = limit
        self.recompiles = 0
        self.recompiling = False
        self.reasons: dict[str, int] = {}
        self.logged: dict[str, int] = {}
        self.blacklisted = ""

    @property
    def params(self) -> list[str]:
        return self.code.slot_names[: self.code.nparams]


class Tier2:
    """Tier-2 policy and bookkeeping for one Jit; compiling and installing are the Jit's."""

    def __init__(self, jit: Any) -> None:
        self.jit = jit
        t = jit.thresholds
        self.calls = t.tier2_calls
        self.native_ns = int(t.tier2_time_ms * 1e6)
        self.deopt_limit = t.deopt_limit
        self.recompile_limit = t.recompile_limit
        self.fns: list[FnTier] = []
        self.units = 0  # tier-2 units installed
        self.compiling = False
        self.again = False  # something asked for a unit while one was compiling
        self.compile_ms = 0.0
        self.cached = 0
        self.deopts = 0
        self.recompiles: list[str] = []
        self.requests = 0  # functions that crossed a tier-2 threshold
        self.requests_compiled = 0  # ... of which the units so far knew
        self.hot_units = 0  # units compiled for newly hot functions (backoff)
        self.spent_logged = False
        self.inline_caches = 0  # call sites with an inline cache in the installed unit
        self._lock = threading.Lock()

    # ------------------------------------------------------------ program thread

    def track(self, code: Code) -> FnTier:
        ft = FnTier(code, self.deopt_limit)
        code.tier = ft
        self.fns.append(ft)
        return ft

    def sample(self, ft: FnTier, args: list[Any]) -> None:
        """Every 8th VM->native call records its argument kinds, as the VM's profile does."""
        _bump(ft.code.arg_kinds, kinds_of(args))

    def request(self, ft: FnTier, why: str) -> None:
        ft.wanted = True
        self.requests += 1
        self.jit.log(f"tier 2 wanted: {ft.code.name}: {why}")
        self.compile_if_due()

    def deopt(self, ft: FnTier, args: list[Any], index: int) -> Any:
        """A failed guard (index -1: FLUENTAI_DEOPT_STRESS): the VM runs this call."""
        guard = ft.guard
        assert guard is not None
        if index >= 0:
            got = _KIND.get(type(args[index]), "Any")
            names = ft.params
            name = names[index] if index < len(names) else "?"
            expected = "|".join(guard[index] or ())
            why = f"argument {index + 1} `{name}`: expected {expected}, got {got}"
            base = ft.next_guard if ft.next_guard is not None else guard
            ft.next_guard = widen(base, index, got)
            if ft.next_guard is None:
                ft.not_specialized = f"argument kinds widened past what a guard checks ({why})"
        else:
            why = "FLUENTAI_DEOPT_STRESS"
        ft.deopts += 1
        ft.deopt_total += 1
        self.deopts += 1
        ft.reasons[why] = ft.reasons.get(why, 0) + 1
        n = ft.logged.get(why, 0)
        if n < LOGGED_DEOPTS:
            ft.logged[why] = n + 1
            self.jit.log(f"deopt: {ft.code.name}: {why} (the VM runs the call)")
        if ft.deopts >= ft.limit and not ft.recompiling and not ft.blacklisted:
            ft.recompiling = True
            if ft.recompiles >= self.recompile_limit:
                ft.blacklisted = (
                    f"{ft.deopts} failed guards after {ft.recompiles} recompilations (last: {why})"
                )
                ft.next_guard = None
                self.jit.log(f"blacklisted: {ft.code.name}: {ft.blacklisted}")
            else:
                ft.recompiles += 1
                ft.limit *= 2
                if ft.next_guard is None and not ft.not_specialized:
                    ft.next_guard = guard  # stress failures widen nothing
                text = format_guard(ft.next_guard, ft.params)
                self.recompiles.append(f"{ft.code.name} ({text})")
                self.jit.log(
                    f"recompile: {ft.code.name}: {ft.deopts} failed guards, now {text}; "
                    f"next limit {ft.limit}"
                )
            self.compile_if_due(forced=True)
        return FALLBACK

    def compile_if_due(self, forced: bool = False) -> None:
        """Start a tier-2 compile when one is due: for deopts at once; for newly hot functions
        when k of them are waiting after k such units (backoff), at most MAX_UNITS units."""
        if self.compiling:
            self.again = True
            return
        new = self.requests - self.requests_compiled
        if not forced and not any(ft.recompiling for ft in self.fns):
            if new <= 0 or new < self.hot_units:
                return
        if self.units >= MAX_UNITS:
            if not self.spent_logged:
                self.spent_logged = True
                self.jit.log(f"tier 2: no more units in this run ({MAX_UNITS} compiled)")
            return
        seeds, spans = self.seeds()
        if not forced and not any(ft.recompiling for ft in self.fns):
            self.hot_units += 1
        self.requests_compiled = self.requests
        self.compiling = True
        self.again = False
        targets = call_targets(self.jit._slotted) if inline_caches_on() else {}
        self.jit.start_tier2(seeds, spans, targets)

    def seeds(self) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
        """The next unit's seeds: every wanted program function's guard (by its global name,
        the known functions' key in the inference) and its span (to check it is that one)."""
        seeds: dict[str, Any] = {}
        spans: dict[str, tuple[int, int]] = {}
        for ft in self.fns:
            code = ft.code
            if not ft.wanted or ft.blacklisted or code.is_prelude or code.span is None:
                continue
            if ft.next_guard is None and not ft.not_specialized and not ft.recompiles:
                guard, why = observed_guard(code.arg_kinds, code.nparams)
                ft.next_guard = guard
                if guard is None:
                    ft.not_specialized = why
            if ft.next_guard is not None:
                seeds[code.name] = ft.next_guard
                spans[code.name] = (code.span.start, code.span.end)
        return seeds, spans

    def preloaded(self, seeds: dict[str, Any], spans: dict[str, tuple[int, int]]) -> None:
        """Before the program starts, the tier-2 unit an earlier run installed last is about to
        be installed: the functions it specialized (and that have native code) are in tier 2
        from their first call."""
        self.compiling = True  # `installed` ends it
        for code in self.jit._slotted:
            span = code.span
            if code.is_prelude or span is None or code.name not in seeds:
                continue
            if spans.get(code.name) != (span.start, span.end):
                continue
            ft = code.tier if code.tier is not None else self.track(code)
            ft.wanted = True
            self.requests += 1
        self.requests_compiled = self.requests

    def installed(self, meta: dict[str, Any], compile_ms: float, cached: bool) -> None:
        """A tier-2 unit is installed: its specializations become the guards."""
        applied: dict[str, Any] = meta.get("tier2_seeds", {})
        self.units += 1
        self.compile_ms += compile_ms
        self.cached += int(cached)
        specialized = 0
        for ft in self.fns:
            seed = applied.get(ft.code.name) if not ft.code.is_prelude else None
            have = tuple(tuple(k) if k is not None else None for k in seed) if seed else None
            if ft.recompiling and have != (None if ft.blacklisted else ft.next_guard):
                # asked for while this unit compiled: the next one has it
                self.again = True
            else:
                ft.recompiling = False
                ft.deopts = 0
            ft.guard = None
            if not ft.wanted:
                continue
            ft.tier = 2
            if have is not None:  # specialized code is guarded, blacklisted or not
                ft.guard = have
                if not ft.recompiling:
                    ft.next_guard = have
                specialized += 1
            elif not ft.not_specialized and not ft.blacklisted:
                ft.not_specialized = (
                    "a prelude function"
                    if ft.code.is_prelude
                    else "not a known function (a global defined once by a lambda without "
                    "free variables, never assigned)"
                )
        self.inline_caches = int(meta.get("inline_caches", 0))
        self.jit.log(
            f"installed tier 2 unit {self.units}: "
            f"{sum(ft.tier == 2 for ft in self.fns)} functions in tier 2, "
            f"{specialized} specialized, {self.inline_caches} inline caches"
        )
        for ft in self.fns:
            if ft.tier == 2 and ft.guard is None and not ft.blacklisted and ft.not_specialized:
                if ft.logged.get("", 0) == 0:
                    ft.logged[""] = 1
                    self.jit.log(f"not specialized: {ft.code.name}: {ft.not_specialized}")
        self.compiling = False
        if self.again:
            self.again = False
            self.compile_if_due(forced=any(ft.recompiling for ft in self.fns))

    def failed(self, why: str) -> None:
        """A tier-2 compile failed: tier 1 stays installed; no more tier-2 units."""
        self.compiling = False
        self.units = MAX_UNITS
        self.jit.log(f"tier 2 not compiled: {why}")

    # ------------------------------------------------------------ --jit-stats

    def report_lines(self) -> list[str]:
        tier2 = [ft for ft in self.fns if ft.tier == 2]
        specialized = [ft for ft in tier2 if ft.guard is not None]
        lines = [
            f"jit: functions in tier 1 {sum(ft.tier == 1 for ft in self.fns)}, "
            f"in tier 2 {len(tier2)}, of which specialized {len(specialized)}",
        ]
        if self.units:
            cached = f" ({self.cached} from the cache)" if self.cached else ""
            lines.append(
                f"jit: tier 2 units {self.units}, tier 2 compile {self.compile_ms:.1f} ms{cached}"
            )
            lines.append(f"jit: inline caches (call sites) {self.inline_caches}")
        for ft in specialized[:8]:
            lines.append(f"jit: tier 2: {ft.code.name} ({format_guard(ft.guard, ft.params)})")
        if self.deopts:
            lines.append(f"jit: deopts {self.deopts}")
            for ft in sorted(self.fns, key=lambda f: -f.deopt_total):
                if not ft.deopt_total:
                    break
                why = "; ".join(f"{w} x{n}" for w, n in sorted(ft.reasons.items()))
                lines.append(f"jit: deopts of {ft.code.name}: {why}")
        if self.recompiles:
            lines.append(
                f"jit: recompilations {len(self.recompiles)}: {'; '.join(self.recompiles)}"
            )
        for ft in self.fns:
            if ft.blacklisted:
                lines.append(f"jit: blacklisted: {ft.code.name}: {ft.blacklisted}")
        return lines
