"""The tiered JIT: profiles, compilation of hot functions, and the VM/native value bridge."""
