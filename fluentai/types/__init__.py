"""Type inference over resolved Core (DESIGN.md §6): the lattice, the solver, `--dump types`."""

from fluentai.types.infer import TypeResult, find_known_functions, infer_program
from fluentai.types.lattice import ANY, NEVER, InferredType, describe, format_type, join, widen

__all__ = [
    "ANY",
    "NEVER",
    "InferredType",
    "TypeResult",
    "describe",
    "find_known_functions",
    "format_type",
    "infer_program",
    "join",
    "widen",
]
