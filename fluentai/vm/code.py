"""Code: the compiled form of one function or of the top level (DESIGN.md §1.2 VM compiler).

`code` is the flat instruction list (op, arg pairs, see opcodes.py); `spans[i]` is the source span
of the instruction at index 2*i. Profile counters live here too (vm/profile.py reads them).
"""

from __future__ import annotations

from typing import Any

from fluentai.records import field, record
from fluentai.source import Span


@record(frozen=False, eq=False, slots=False)
class Code:
    name: str
    nparams: int
    has_rest: bool
    nslots: int
    code: list[int] = field(default_factory=list)
    consts: list[Any] = field(default_factory=list)
    spans: list[Span | None] = field(default_factory=list)
    slot_names: list[str] = field(default_factory=list)
    free_names: list[str] = field(default_factory=list)
    free_assigned: list[bool] = field(default_factory=list)  # captured and changed by set!
    is_prelude: bool = False
    builtin_arity: tuple[int, int | None] | None = None  # set for prelude builtins
    span: Span | None = None
    # profile (tier-0 counters for the JIT): calls, loop back edges, time, argument kinds
    calls: int = 0
    backedges: int = 0
    time_ns: int = 0
    arg_kinds: dict[tuple[str, ...], int] = field(default_factory=dict)
    site_kinds: dict[int, dict[tuple[str, ...], int]] = field(default_factory=dict)
    # per call site (the call's pc): the program functions called there, with counts; None
    # counts the calls of others once more than MAX_SITE_TARGETS were seen (vm/profile.py)
    site_targets: dict[int, dict[Any, int]] = field(default_factory=dict)

    blank: list[Any] = field(default_factory=list)  # initial contents of non-parameter slots

    fast_argc: int = -1  # nparams when a call with exactly that many arguments needs no work
    # the JIT's code slot: the native descriptor of this function once compiled (jit/jit.py)
    native: int | None = None
    hot: bool = False  # reported to the JIT already
    tier: Any = None  # the JIT's record once called natively from the VM (jit/tier2.py FnTier)
    # `while` loops that may switch to native code at their back edge (jit/osr.py): the pc
    # after the back edge -> (span start, span end, outer variable names, their places:
    # (in the closure's free values?, index, boxed?, written by the loop?))
    loops: dict[int, tuple[int, int, tuple[str, ...], tuple[Any, ...]]] | None = None
    osr: dict[int, Any] | None = None  # those with a native entry in the installed unit

    def finish(self) -> None:
        """Called once the code is complete: precompute what calls need."""
        self.blank = [None] * (self.nslots - self.nparams - (1 if self.has_rest else 0))
        self.fast_argc = -1 if self.has_rest else self.nparams


@record(eq=False)
class FnTemplate:
    """A lambda's code plus where each captured variable comes from in the enclosing frame:
    (False, slot) for a local slot of the creator, (True, index) for one of its own captures."""

    code: Code
    sources: tuple[tuple[bool, int], ...]


@record(eq=False)
class TryInfo:
    """Static description of a `try`: catch patterns, clause entry points, error-path finally."""

    patterns: tuple[Any, ...]
    clause_pcs: tuple[int, ...]
    finally_pc: int | None
