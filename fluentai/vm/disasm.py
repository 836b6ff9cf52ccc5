"""Disassembler, derived from the opcode table (`fluentai run --dump bytecode`)."""

from __future__ import annotations

from fluentai.vm.code import Code, FnTemplate
from fluentai.vm.opcodes import SPEC, Op


def _operand_text(code: Code, op: Op, arg: int, global_names: list[str]) -> str:
    kind = SPEC[op].operand
    if op in (Op.JUMP_UNLESS_LC, Op.JUMP_UNLESS_LT_LC, Op.JUMP_UNLESS_EQ_LC):
        _, _, name, slot, k, target, stub = code.consts[arg]
        local = code.slot_names[slot].strip()
        return f"{arg} ({name} {local} {k}) else -> {target}, resume {stub}"
    if op is Op.EVAL:
        return f"{arg} (fused expression, fallback {code.consts[arg][1]})"
    if op in (Op.PRIM1, Op.PRIM2):
        from fluentai import primitives

        fn = code.consts[arg]
        names = {id(p.vm): p.name for p in primitives.table().values() if p.vm is not None}
        return f"{arg} ({names.get(id(fn), '?')})"
    if op is Op.JUMP_UNLESS:
        _, _, name, target, stub = code.consts[arg]
        return f"{arg} ({name}) else -> {target}, resume {stub}"
    if kind == "const":
        value = code.consts[arg]
        if isinstance(value, FnTemplate):
            return f"{arg} <fn {value.code.name}>"
        if isinstance(value, tuple) and value and hasattr(value[0], "name"):
            return f"{arg} ({value[0].name}/{value[1]})"
        text = repr(value)
        return f"{arg} {text if len(text) < 40 else text[:37] + '...'}"
    if kind == "slot" and arg < len(code.slot_names):
        return f"{arg} ({code.slot_names[arg].strip()})"
    if kind == "global":
        return f"{arg} ({global_names[arg]})" if arg < len(global_names) else str(arg)
    return str(arg) if kind else ""


def disassemble(code: Code, global_names: list[str] | None = None) -> str:
    """All functions reachable from `code`, each as `pc  OPNAME operand  ; line:col`."""
    lines: list[str] = []
    todo = [code]
    seen: set[int] = set()
    while todo:
        c = todo.pop(0)
        if id(c) in seen:
            continue
        seen.add(id(c))
        rest = " . rest" if c.has_rest else ""
        lines.append(f"== {c.name} (params {c.nparams}{rest}, slots {c.nslots}) ==")
        for i in range(0, len(c.code), 2):
            op = Op(c.code[i])
            operand = _operand_text(c, op, c.code[i + 1], global_names or [])
            span = c.spans[i // 2]
            where = f"  ; {span.line}:{span.col}" if span is not None else ""
            lines.append(f"{i:5d}  {op.name:<15} {operand}{where}".rstrip())
        for k in c.consts:
            if isinstance(k, FnTemplate):
                todo.append(k.code)
        lines.append("")
    return "\n".join(lines)
