"""FluentAI: a Lisp-like language with a bytecode VM, effects and (later) native tiers.

Embedding from Python (docs/embedding.md):

    import fluentai
    rt = fluentai.Runtime()
    rt.eval("(+ 1 2)")  -> 3

The embedding API is imported on first use, so `import fluentai` (and the CLI) stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
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
