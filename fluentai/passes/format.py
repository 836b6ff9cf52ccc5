"""Print resolved Core as S-expressions: `--dump resolve_names` and golden tests.

Variables print as `name#n`, numbered in order of first appearance within the dump (so dumps
do not depend on global counters); globals as `@name`, builtins as `%name`.
"""

from __future__ import annotations

from typing import Any

from fluentai import records
from fluentai.passes import rcore as r
from fluentai.reader.write import write_float, write_string
from fluentai.symbol import Symbol
from fluentai.syntax import core as c


class _Printer:
    def __init__(self) -> None:
        self.numbers: dict[int, int] = {}

    def var(self, v: r.Var) -> str:
        n = self.numbers.setdefault(v.id, len(self.numbers) + 1)
        box = "!" if v.boxed else ""
        return f"{v.name.strip()}#{n}{box}"

    def value(self, x: Any) -> str:
        if isinstance(x, bool):
            return "#t" if x else "#f"
        if x is None:
            return "nil"
        if isinstance(x, int):
            return str(x)
        if isinstance(x, float):
            return write_float(x)
        if isinstance(x, str):
            return write_string(x)
        if isinstance(x, Symbol):
            return "'" + x.name
        if isinstance(x, c.QList):
            return "'[" + " ".join(self.value(i) for i in x.items) + "]"
        if isinstance(x, c.QMap):
            return "'{" + " ".join(f"{self.value(k)} {self.value(v)}" for k, v in x.pairs) + "}"
        if isinstance(x, r.Var):
            return self.var(x)
        if isinstance(x, tuple):
            return "(" + " ".join(self.node(i) for i in x) + ")"
        return self.node(x)

    def node(self, n: Any) -> str:
        if isinstance(n, r.LocalRef):
            return self.var(n.var)
        if isinstance(n, r.GlobalRef):
            return "@" + n.name
        if isinstance(n, r.BuiltinRef):
            return "%" + n.name
        if isinstance(n, c.Lit):
            return self.value(n.value)
        if not records.is_record(n):
            return self.value(n)
        parts = [type(n).__name__]
        for name in records.fields(n):
            if name == "span":
                continue
            parts.append(self.value(getattr(n, name)))
        return "(" + " ".join(parts) + ")"


def format_resolved(prog: r.RProgram) -> str:
    printer = _Printer()
    return "\n".join(printer.node(form) for form, _ in prog.forms) + "\n"
