"""Inlining of known functions called from one place (issue 6).

LLVM's inliner weighs a known entry `.k` by its size, and every `.k` has two callers at least
(its generic entry tail-calls it), so a sizeable function called once in a loop, such as
mandelbrot's `stays-bounded?` per point, stays a call with a full prologue (saved registers,
the Float parameters' tag tests) per iteration. A known entry with exactly one direct call in
the program, made from the body of another known function, is marked `alwaysinline`: the code
grows by one copy of it. Chains are cut (a function with an inlined call in its body is not
inlined itself: optimizing the nested loops of a whole chain as one function cost several
times the compile time), and nothing is inlined into a top level (it runs once, and a huge one
is not optimized at all).
"""

from __future__ import annotations

from collections import Counter

from fluentai.passes import rcore as r


def called_once(program: r.RProgram, known: dict[int, str]) -> set[str]:
    """Names of the program's known functions (`known`: Fn id -> global name) to inline: one
    direct call (a call of the global by name) in all, inside another known function's body,
    none of whose own direct calls is inlined."""
    from fluentai.llvm.lower import _walk

    names = set(known.values())
    in_bodies: Counter[str] = Counter()
    elsewhere: Counter[str] = Counter()
    callees: dict[str, set[str]] = {}
    for form, _ in program.forms:
        own = None
        if isinstance(form, r.GlobalSet) and isinstance(form.value, r.Fn):
            own = known.get(id(form.value))
        for node in _walk(form):
            if not (
                isinstance(node, r.RCall)
                and isinstance(node.fn, r.GlobalRef)
                and node.fn.name in names
            ):
                continue
            callee = node.fn.name
            if own is None:
                elsewhere[callee] += 1
            elif callee != own:
                in_bodies[callee] += 1
                callees.setdefault(own, set()).add(callee)
    once = {name for name, n in in_bodies.items() if n == 1 and elsewhere[name] == 0}
    return {name for name in once if not (callees.get(name, set()) & once)}
