"""Inlining of known functions called from one place (issue 6).

LLVM's inliner weighs a known entry `.k` by its size, and every `.k` has two callers at least
(its generic entry tail-calls it), so a sizeable function called once in a loop, such as
mandelbrot's `stays-bounded?` per point, stays a call with a full prologue (saved registers,
the Float parameters' tag tests) per iteration. A known entry with exactly one direct call in
the program outside its own body is marked `alwaysinline`: the code grows by one copy of it.
"""

from __future__ import annotations

from collections import Counter

from fluentai.passes import rcore as r


def called_once(program: r.RProgram, known: dict[int, str]) -> set[str]:
    """Names of the program's known functions (`known`: Fn id -> global name) with exactly
    one direct call (a call of the global by name) outside their own body."""
    from fluentai.llvm.lower import _walk

    calls: Counter[str] = Counter()
    names = set(known.values())
    for form, _ in program.forms:
        own = None
        if isinstance(form, r.GlobalSet) and isinstance(form.value, r.Fn):
            own = known.get(id(form.value))
        for node in _walk(form):
            if (
                isinstance(node, r.RCall)
                and isinstance(node.fn, r.GlobalRef)
                and node.fn.name in names
                and node.fn.name != own
            ):
                calls[node.fn.name] += 1
    return {name for name, n in calls.items() if n == 1}
