"""FluentAI: a Lisp-like language with a bytecode VM, effects and (later) native tiers."""

__version__ = "0.1.0"
