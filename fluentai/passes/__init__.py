"""Passes: Core -> resolved Core (the contract for both back ends)."""
