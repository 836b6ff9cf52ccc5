"""FluentAI: a Lisp-like language with a bytecode VM, effects and (later) native tiers.

Embedding from Python (docs/embedding.md):

    import fluentai
    rt = fluentai.Runtime()
    rt.eval("(+ 1 2)")  -> 3

The embedding API is imported on first use, so `import fluentai` (and the CLI) stays quick.
"""

from __future__ import annotations

__version__ = "0.1.0"

import time as _time  # a built-in module: free to import

STARTED = _time.perf_counter()  # when this process imported fluentai (logs count from here)

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

    from fluentai.api import (
        FluentAIError,
        FluentAIExit,
        Function,
        Runtime,
        Symbol,
        TraceFrame,
        Variant,
    )

__all__ = [
    "FluentAIError",
    "FluentAIExit",
    "Function",
    "Runtime",
    "Symbol",
    "TraceFrame",
    "Variant",
    "__version__",
]

_API_NAMES = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from fluentai import api

        return getattr(api, name)
    raise AttributeError(f"module 'fluentai' has no attribute {name!r}")
