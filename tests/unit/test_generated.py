"""The generated files are current, and the VM's dispatch comments match the opcode table."""

from __future__ import annotations

import re
from pathlib import Path

from fluentai import gen
from fluentai.vm.opcodes import Op


def test_generated_docs_are_up_to_date() -> None:
    for rel, make in gen.GENERATED.items():
        path = gen.ROOT / rel
        assert path.read_text(encoding="utf-8") == make(), f"{rel} is stale: python -m fluentai.gen"


def test_every_opcode_has_a_vm_handler_with_its_name() -> None:
    source = (Path(gen.__file__).parent / "vm" / "machine.py").read_text(encoding="utf-8")
    handled: dict[int, str] = {}
    for m in re.finditer(
        r"op == (\d+)(?: or op == (\d+))?:  # ([A-Z_0-9]+)(?: / ([A-Z_0-9]+))?", source
    ):
        handled[int(m[1])] = m[3]
        if m[2]:
            handled[int(m[2])] = m[4]
    for op in Op:
        assert handled.get(int(op)) == op.name, f"{op.name} ({int(op)}) has no matching handler"
