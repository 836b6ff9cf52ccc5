"""The C runtime library (DESIGN.md §1.2): sources, build (build.py) and ctypes binding (ffi.py)."""
