"""Quick exits: a known function whose body starts `(if TEST LEAF ...)` gets a thin known entry.

    (define (tak x y z) (if (< y x) (tak (tak ...) (tak ...) (tak ...)) z))

Many calls of a recursive function return at once (the leaves of fib's and tak's call trees
are half of their calls), yet the entry saves and restores every register its body needs
around its calls. When TEST compares Int parameters and literals and LEAF is a parameter, a
literal or `+ - *` of those, all inferred Int (pure: they can neither fail nor change
anything), the known entry `.k` only evaluates TEST and returns LEAF, or tail-calls `.k.body`,
which holds the whole body (evaluating TEST again: unobservable) and is never inlined into the
entry. LLVM then inlines the thin entry into the callers: a leaf call costs a test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import llvmlite.ir as ir

from fluentai.passes import rcore as r
from fluentai.syntax import core as c

if TYPE_CHECKING:
    from fluentai.llvm.lower import _FnGen
    from fluentai.types.infer import TypeResult

_COMPARE = frozenset({"<", ">", "<=", ">=", "="})
_SIMPLE_ARITH = frozenset({"+", "-", "*"})


def simple_int(e: Any, types: TypeResult, params: tuple[r.Var, ...]) -> bool:
    """A literal, a parameter, or `+ - *` of those, inferred Int: pure and unable to fail,
    its lowering the same in tail position and out of it."""
    t = types.type_of(e)
    if not t.only("Int") or t.is_never:
        return False
    if isinstance(e, c.Lit):
        return True
    if isinstance(e, r.LocalRef):
        return e.var in params
    if isinstance(e, r.PrimApp) and e.name in _SIMPLE_ARITH:
        return all(simple_int(a, types, params) for a in e.args)
    return False


def quick_exit(lam: r.Fn, types: TypeResult | None) -> tuple[Any, bool] | None:
    """(TEST, LEAF is its `then`) when the body of `lam` starts with a quick exit (module
    docstring); None otherwise."""
    body = lam.body
    if types is None or lam.rest is not None or lam.free or not isinstance(body, r.RIf):
        return None
    t = body.test
    if not (
        isinstance(t, r.PrimApp)
        and t.name in _COMPARE
        and len(t.args) == 2
        and all(simple_int(a, types, lam.params) and not isinstance(a, r.PrimApp) for a in t.args)
    ):
        return None
    if simple_int(body.then, types, lam.params):
        return t, True
    if simple_int(body.else_, types, lam.params):
        return t, False
    return None


def quick_exit_entry(gen: _FnGen, lower_body: Callable[[_FnGen], None]) -> bool:
    """Build the known entry `gen.fn` as a thin entry when the body starts with a quick exit:
    `lower_body` then builds the whole body in `.k.body`, where calls of the entry are self
    calls. False (nothing built) otherwise."""
    from fluentai.llvm.lower import _FnGen, _Var

    lam = gen.lam
    assert lam is not None
    quick = None if gen.is_prelude else quick_exit(lam, gen.low.types)
    if quick is None:
        return False
    test, leaf_is_then = quick
    body_fn = ir.Function(gen.low.u.module, gen.fn.function_type, gen.fn.name + ".body")
    body_fn.linkage = "internal"
    body_fn.calling_convention = "tailcc"
    body_fn.attributes.add("noinline")
    # the entry is a test, a leaf value and a tail call: inlined into every caller, at every
    # level (-O1's pipeline runs only the always-inliner, llvm/engine.py)
    gen.fn.attributes.add("alwaysinline")
    body_gen = _FnGen(gen.low, body_fn, gen.name, gen.is_prelude, lam)
    body_gen.clo = gen.clo
    body_gen.self_entry = gen.fn
    lower_body(body_gen)
    b = gen.b
    for p, val in zip(lam.params, gen.fn.args, strict=True):
        slot = gen.alloca(p.name)
        b.store(val, slot)
        gen.vars[p] = _Var("local", slot, False, False, p.name)
    _return_leaf(gen, lam.body, test, leaf_is_then)
    from fluentai.llvm.lower import _tail_marker

    marker = _tail_marker(gen.fn, body_fn.function_type)
    res = gen.b.call(body_fn, list(gen.fn.args), cconv="tailcc", tail=marker)
    gen.b.ret(res)
    gen.finish()
    return True


def _return_leaf(gen: _FnGen, body: Any, test: Any, leaf_is_then: bool) -> None:
    """Return the leaf value of `body` (an `if`) when TEST says so; continue at a new block
    otherwise."""
    assert isinstance(body, r.RIf)
    leaf = gen.new_block("quick.exit")
    rest = gen.new_block("quick.body")
    cond = gen.test(test)
    if leaf_is_then:
        gen.b.cbranch(cond, leaf, rest)
    else:
        gen.b.cbranch(cond, rest, leaf)
    gen.b.position_at_end(leaf)
    gen.b.ret(gen.value(body.then if leaf_is_then else body.else_))
    gen.b.position_at_end(rest)


def thin_fixnum_entry(gen: _FnGen, quick: tuple[Any, bool], target: ir.Function) -> None:
    """Build `gen.fn` as the thin entry of a fixnum function `target` of the same type
    (fluentai/llvm/accumulate.py): its parameters, then the depth count, are passed on; the
    parameters are fixnums, so TEST has no tag tests. Returns LEAF or calls `target`."""
    from fluentai.llvm.lower import _Var

    lam = gen.lam
    assert lam is not None
    test, leaf_is_then = quick
    b = gen.b
    for p, val in zip(lam.params, gen.fn.args, strict=False):
        slot = gen.alloca(p.name)
        b.store(val, slot)
        gen.vars[p] = _Var("local", slot, False, False, p.name).known_fixnum()
    _return_leaf(gen, lam.body, test, leaf_is_then)
    gen.b.ret(gen.b.call(target, list(gen.fn.args)))
    gen.finish()
