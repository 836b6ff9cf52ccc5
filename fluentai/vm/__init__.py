"""Tier 0: the bytecode VM, the reference semantics."""
