"""The compiler stages `--dump` can write (a module of its own: the command line needs the
names without importing the compiler)."""

from __future__ import annotations

DUMP_STAGES = (
    "tokens",
    "ast",
    "core",
    "resolve_names",
    "fold_constants",
    "fuse_lists",
    "types",
    "bytecode",
)
# stages of the native back end (`--tier native`): LLVM IR before and after optimization, and
# the machine code as assembly
NATIVE_DUMP_STAGES = ("llvm", "llvm-opt", "asm")
