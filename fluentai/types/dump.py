"""The text of `--dump types` (DESIGN.md §6.1, §7.9): one line per function of the program,

    fib : (Int) -> Int
    loop/next : (Int[0,..], Int[0,..]) -> Int
    show : (Any) -> Str
      why x is Any: a parameter of a lambda that escapes (...) at prog.fl:3:1

a lambda named by the functions that enclose it, then one indented line per parameter (or the
result) that is Any, with the constraint that made it Any and where, and one listing the
allocations of its body that native code makes in its frame (escape analysis,
fluentai/types/escape.py):

      in frame: cons at prog.fl:20:45, P at prog.fl:2:35
"""

from __future__ import annotations

import functools

from fluentai.passes import rcore as r
from fluentai.types.escape import ARITH
from fluentai.types.infer import TypeResult, infer_program
from fluentai.types.lattice import format_type


def format_signature(result: TypeResult, fn: r.Fn) -> str:
    params, ret = result.signature(fn)
    shown = [format_type(p) for p in params]
    if fn.rest is not None:
        shown.append(". List")
    return f"({', '.join(shown)}) -> {format_type(ret)}"


def dump_types(
    result: TypeResult, program: r.RProgram, in_frame: frozenset[int] = frozenset()
) -> str:
    """One line per lambda of `program`, in source order, plus `why` lines for each Any and
    an `in frame` line for the allocations among `in_frame` (ids of nodes)."""
    lines: list[str] = []
    for form, _ in program.forms:
        _dump_form(result, form, lines, in_frame)
    return "\n".join(lines) + ("\n" if lines else "")


def _frame_line(result: TypeResult, fn: r.Fn, in_frame: frozenset[int]) -> str | None:
    """The allocations of fn's own body (not of the lambdas in it) among `in_frame`."""
    found: list[str] = []
    # (node, whether it is an operand of `+ - * /`: a tree's inner operations box nothing)
    stack: list[tuple[object, bool]] = [(fn.body, False)]
    while stack:
        node, operand = stack.pop()
        if isinstance(node, r.Fn):
            if id(node) in in_frame:
                found.append(f"lambda at {node.span}")
            continue
        arith = isinstance(node, r.PrimApp) and node.name in ARITH
        if id(node) in in_frame and isinstance(node, r.PrimApp | r.CtorApp):
            if not arith:
                found.append(f"{node.name} at {node.span}")
            elif not operand and result.type_of(node).has("Float"):  # the box of its Float
                found.append(f"Float of {node.name} at {node.span}")
        stack.extend((child, arith) for child in reversed(r.children(node)))
    return f"  in frame: {', '.join(found)}" if found else None


def _dump_form(
    result: TypeResult, form: object, lines: list[str], in_frame: frozenset[int]
) -> None:
    # qualified names: the enclosing lambdas' names joined with `/`
    stack: list[tuple[object, str]] = [(form, "")]
    while stack:
        node, prefix = stack.pop()
        name = prefix
        if isinstance(node, r.Fn):
            name = f"{prefix}/{node.name}" if prefix else node.name
            lines.append(f"{name} : {format_signature(result, node)}")
            for why in result.reasons(node):
                lines.append(f"  why {why}")
            frame = _frame_line(result, node, in_frame)
            if frame is not None:
                lines.append(frame)
        stack.extend((k, name) for k in reversed(r.children(node)))


@functools.lru_cache(maxsize=1)
def prelude_core() -> r.RProgram:
    """The prelude's resolved Core (once per process; from the code cache's pickle when it is
    there, fluentai/prelude_cache.py)."""
    from fluentai import prelude_cache

    return prelude_cache.load()


def dump_program(program: r.RProgram) -> str:
    """`--dump types` for a program: closed-world inference with the prelude, and the
    allocations native code keeps in their frames."""
    from fluentai.llvm.lower import frame_allocations

    return dump_types(infer_program(prelude_core(), program), program, frame_allocations(program))


__all__ = ["dump_program", "dump_types", "format_signature", "prelude_core"]
