"""The opcode table: the single definition of every VM instruction (STYLE.md §4).

Code is a flat list of ints, two per instruction: `op, arg` (arg 0 when unused). Jump targets are
absolute indices into that list. A fused compare-and-branch has a `stub` (JUMP_IF_FALSE target;
JUMP next, placed after the function's code): when its comparison raises and an `error:raise`
clause resumes, the clause's value is tested there, as the unfused code would. The disassembler, the VM's dispatch order and the stack-depth
check are all derived from SPEC.

    LOAD_LOCAL 0; CONST 1; PRIM2 3; RETURN 0     ; (lambda (x) (+ x 1)), roughly
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from fluentai.records import record


class Op(IntEnum):
    # machine.py tests opcodes in order of expected frequency and uses the literal numbers; a
    # test checks that its `# NAME` comments agree with this table.
    LOAD_LOCAL = 0
    CONST = 1
    JUMP_IF_FALSE = 2
    CALL = 3
    RETURN = 4
    LOAD_GLOBAL = 5
    TAIL_CALL = 6
    ADD_LC = 7
    SUB_LC = 8
    JUMP_UNLESS_LC = 9
    JUMP_UNLESS = 10
    ADD = 11
    SUB = 12
    LT = 13
    NUM_EQ = 14
    JUMP = 15
    PRIM = 16
    STORE_LOCAL = 17
    LOAD_FREE = 18
    POP = 19
    LOAD_BOX = 20
    LOAD_FREE_BOX = 21
    STORE_BOX = 22
    STORE_FREE_BOX = 23
    MAKE_BOX = 24
    BOX_PARAM = 25
    STORE_GLOBAL = 26
    DEFINE_GLOBAL = 27
    MAKE_CLOSURE = 28
    CTOR = 29
    PERFORM = 30
    PUSH_HANDLER = 31
    POP_HANDLER = 32
    SETUP_TRY = 33
    POP_TRY = 34
    RERAISE = 35
    MATCH = 36
    MATCH_FAIL = 37
    ASCRIBE = 38
    TOP_VALUE = 39
    GT = 40
    LE = 41
    GE = 42
    MUL = 43
    PRIM1 = 44
    PRIM2 = 45
    EVAL = 46
    JUMP_UNLESS_LT_LC = 47
    JUMP_UNLESS_EQ_LC = 48


@record
class OpSpec:
    operand: str  # what the argument means ("" when unused)
    effect: str  # stack effect, `before -- after`
    doc: str

    @property
    def net(self) -> int | None:
        """Net stack effect when fixed, None when it depends on the argument."""
        before, after = self.effect.split("--")
        if "..." in before or "..." in after:
            return None
        return len(after.split()) - len(before.split())


SPEC: Final[dict[Op, OpSpec]] = {
    Op.LOAD_LOCAL: OpSpec("slot", "-- v", "push local slot"),
    Op.CONST: OpSpec("const", "-- k", "push a constant"),
    Op.JUMP_IF_FALSE: OpSpec("target", "c --", "jump if c is #f or nil"),
    Op.ADD: OpSpec("", "a b -- a+b", "`+` of two values"),
    Op.SUB: OpSpec("", "a b -- a-b", "`-` of two values"),
    Op.LT: OpSpec("", "a b -- a<b", "`<` of two values"),
    Op.NUM_EQ: OpSpec("", "a b -- a=b", "`=` of two values"),
    Op.CALL: OpSpec("argc", "f a1...an -- r", "call f; pushes a frame for a closure"),
    Op.TAIL_CALL: OpSpec("argc", "f a1...an -- r", "call f replacing the current frame"),
    Op.RETURN: OpSpec("", "v --", "return v to the caller"),
    Op.LOAD_GLOBAL: OpSpec("global", "-- v", "push a global (unbound-variable if unset)"),
    Op.PRIM: OpSpec("const", "a1...an -- r", "apply the builtin (const: (prim, argc))"),
    Op.STORE_LOCAL: OpSpec("slot", "v --", "store into a local slot"),
    Op.LOAD_FREE: OpSpec("index", "-- v", "push a captured value"),
    Op.JUMP: OpSpec("target", "--", "jump"),
    Op.POP: OpSpec("", "v --", "discard"),
    Op.LOAD_BOX: OpSpec("slot", "-- v", "push the content of the box in a slot"),
    Op.LOAD_FREE_BOX: OpSpec("index", "-- v", "push the content of a captured box"),
    Op.STORE_BOX: OpSpec("slot", "v --", "store into the box in a slot"),
    Op.STORE_FREE_BOX: OpSpec("index", "v --", "store into a captured box"),
    Op.MAKE_BOX: OpSpec("slot", "--", "put a fresh unbound box in a slot"),
    Op.BOX_PARAM: OpSpec("slot", "--", "wrap a parameter's value in a box"),
    Op.STORE_GLOBAL: OpSpec("global", "v -- nil", "`set!` a global (unbound-variable if unset)"),
    Op.DEFINE_GLOBAL: OpSpec("global", "v --", "define a global"),
    Op.MAKE_CLOSURE: OpSpec("const", "-- f", "make a closure of a function template"),
    Op.CTOR: OpSpec("const", "a1...an -- v", "construct an ADT value (const: ctor)"),
    Op.PERFORM: OpSpec("const", "a1...an -- r", "perform an effect (const: (op, argc))"),
    Op.PUSH_HANDLER: OpSpec(
        "const", "f1...fn -- ", "push a handler frame (const: (keys, pc after the handler form))"
    ),
    Op.POP_HANDLER: OpSpec("", "--", "pop the innermost handler frame"),
    Op.SETUP_TRY: OpSpec("const", "--", "push a try frame (const: TryInfo)"),
    Op.POP_TRY: OpSpec("", "--", "pop the innermost try frame"),
    Op.RERAISE: OpSpec("", "e --", "continue unwinding the pending error after a finally"),
    Op.MATCH: OpSpec("const", "v -- b", "match v against a pattern, binding slots"),
    Op.MATCH_FAIL: OpSpec("slot", "--", "raise match-failure for the value in a slot"),
    Op.ASCRIBE: OpSpec("const", "v -- v", "check v against a type (type-error)"),
    Op.TOP_VALUE: OpSpec("flag", "v --", "record a top-level form's value (flag: print it)"),
    Op.GT: OpSpec("", "a b -- a>b", "`>` of two values"),
    Op.LE: OpSpec("", "a b -- a<=b", "`<=` of two values"),
    Op.GE: OpSpec("", "a b -- a>=b", "`>=` of two values"),
    Op.ADD_LC: OpSpec("const", "-- x+k", "local slot plus an Int constant (const: (slot, k))"),
    Op.SUB_LC: OpSpec("const", "-- x-k", "local slot minus an Int constant (const: (slot, k))"),
    Op.MUL: OpSpec("", "a b -- a*b", "`*` of two values"),
    Op.PRIM1: OpSpec("const", "a -- r", "apply a 1-argument builtin (const: its function)"),
    Op.PRIM2: OpSpec("const", "a b -- r", "apply a 2-argument builtin (const: its function)"),
    Op.EVAL: OpSpec(
        "const", "-- v", "a fused pure expression (const: (function, fallback pc); vm/fuse.py)"
    ),
    Op.JUMP_UNLESS_LT_LC: OpSpec(
        "const", "--", "jump unless local < Int constant (const as JUMP_UNLESS_LC)"
    ),
    Op.JUMP_UNLESS_EQ_LC: OpSpec(
        "const", "--", "jump unless local = Int constant (const as JUMP_UNLESS_LC)"
    ),
    Op.JUMP_UNLESS_LC: OpSpec(
        "const",
        "--",
        "compare a local with an Int constant, jump unless it holds "
        "(const: (fast, generic, name, slot, k, target, stub))",
    ),
    Op.JUMP_UNLESS: OpSpec(
        "const",
        "a b --",
        "compare, jump unless it holds (const: (fast, generic, name, target, stub))",
    ),
}

assert set(SPEC) == set(Op), "every opcode needs a SPEC row"
