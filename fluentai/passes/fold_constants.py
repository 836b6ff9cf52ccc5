"""Fold applications of pure builtins to constants, with the builtin's own VM implementation.

Input: resolved Core.  Output: resolved Core where such applications are literals.
Invariant: nothing observable changes: only builtins without effects are folded, never an
application that raises, never one whose result is not a plain constant (Int, Float, String,
Bool, nil), and never one too big to be worth it.

    (define (area r) (* r (/ 22.0 7)))   ->   (/ 22.0 7) becomes 3.142857142857143
"""

from __future__ import annotations

from typing import Any

from fluentai import primitives, records
from fluentai.errors import FlError
from fluentai.passes import rcore as r
from fluentai.primitives import PrimKind
from fluentai.syntax import core as c

_CONSTANT_TYPES = (int, float, str, bool, type(None))
_MAX_BITS = 256
_MAX_CHARS = 256
# never computed here: `pow` makes huge numbers, `range` huge lists (a list is not folded
# anyway: `(range 30000000)` took 16 s to build and drop), `list` and `%map-literal` build
# collections, `exit`, `error` and `args` belong to the run, `%native?` to the tier
_NEVER = frozenset(
    {"pow", "expt", "exit", "error", "args", "list", "range", "%map-literal", "%native?"}
)


def fold_constants(prog: r.RProgram) -> r.RProgram:
    forms = tuple((_fold(form), is_def) for form, is_def in prog.forms)
    return records.replace(prog, forms=forms)


def _small(v: Any) -> bool:
    if type(v) is int:
        return v.bit_length() <= _MAX_BITS
    if type(v) is str:
        return len(v) <= _MAX_CHARS
    return type(v) in _CONSTANT_TYPES


def _fold(e: Any) -> Any:
    """Fold bottom-up; nodes are rebuilt only where something changed."""
    return r.rebuild(e, lambda node: _fold_app(node) if isinstance(node, r.PrimApp) else node)


def _fold_app(e: r.PrimApp) -> Any:
    if e.name in _NEVER or not all(isinstance(a, c.Lit) for a in e.args):
        return e
    prim = primitives.lookup(e.name)
    if prim is None or prim.kind is not PrimKind.FUNCTION or prim.needs_world or prim.vm is None:
        return e
    values = [a.value for a in e.args if isinstance(a, c.Lit)]
    if not all(type(v) in _CONSTANT_TYPES and _small(v) for v in values):
        return e
    try:
        result = prim.vm(*values)
    except FlError:
        return e  # raises at run time, where it is reported
    if not isinstance(result, int | float | str | bool | None) or not _small(result):
        return e
    return c.Lit(result, span=e.span)
