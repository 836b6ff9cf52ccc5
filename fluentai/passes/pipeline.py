"""The passes in order, as data (STYLE.md §3): the driver loops over PASSES.

Each row names a pass (its `--dump` stage) and runs it on the resolved program.
"""

from __future__ import annotations

from collections.abc import Callable

from fluentai.passes import rcore as r
from fluentai.passes.fold_constants import fold_constants
from fluentai.passes.fuse_lists import fuse_lists
from fluentai.records import record


@record
class Pass:
    name: str
    run: Callable[[r.RProgram], r.RProgram]
    doc: str


# resolve_names runs before these (it turns Core into resolved Core and reports errors)
PASSES: tuple[Pass, ...] = (
    Pass("fold_constants", fold_constants, "pure builtins applied to constants become constants"),
    Pass(
        "fuse_lists", fuse_lists, "map/filter pipelines into fold, sum, product or length: one loop"
    ),
)
