"""The LLVM back end: ABI facts (abi.py), lowering to LLVM IR (lower.py), the engine (engine.py)."""
