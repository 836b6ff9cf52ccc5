"""Lowering: resolved Core -> LLVM IR (`llvmlite.ir` only; DESIGN.md §1.2, §4, §5).

Input: the prelude's and the program's `rcore.RProgram`. Output: one `ir.Module` holding every
lambda as a `tailcc` generic entry, the top levels, the generic-call shim, descriptors, the site
table and `fl_program_main`, the entry point of `--tier native` (through LLJIT) and of
executables (called by the runtime's `main`).

Generic code: every value is a tagged i64 word (fl_runtime.h). A call returning 0 means something
is pending (error, interrupt, exit): the caller restores what it changed (depth, handler stack),
runs `finally` clauses, appends its trace entry, and returns 0 too (DESIGN.md §5.1).

    (define (f n) (if (< n 2) n (+ (f (- n 1)) (f (- n 2)))))
    ->  define tailcc i64 @"fl.fn.1.f"(ptr %clo, i64 %argc, i64 %a0, ..., ptr %rest)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import llvmlite.ir as ir

from fluentai import primitives
from fluentai.diagnostics import report_text, shown_line
from fluentai.llvm import abi, accumulate, bounds, osr, quickexit, rawentry
from fluentai.passes import rcore as r
from fluentai.primitives import PrimKind
from fluentai.records import field, record
from fluentai.runtime.ffi import c_text
from fluentai.source import Span
from fluentai.symbol import Symbol
from fluentai.syntax import core as c

if TYPE_CHECKING:
    from fluentai.types.infer import TypeResult

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
DBL = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()
# (an i1 true when a known function's global holds it, what gives the value to call otherwise)
_KnownCallee = tuple[ir.Value, Callable[[], ir.Value]]

GENERIC_TY = ir.FunctionType(I64, [PTR, I64, I64, I64, I64, I64, PTR])
SHIM_TY = ir.FunctionType(I64, [I64, I64, PTR])
PRIM_TY = ir.FunctionType(I64, [I64, PTR])
MATCHER_TY = ir.FunctionType(I64, [I64])
DESC_TY = ir.LiteralStructType([PTR, I64, I64, PTR, I64])
SITE_TY = ir.LiteralStructType([PTR, PTR, PTR, I64, I64, PTR])
BCLO_TY = ir.LiteralStructType([I64, PTR])

_BINARY_FAST = {"+", "-", "*", "<", ">", "<=", ">=", "="}
_SLOW = {
    "+": "fl_add2",
    "-": "fl_sub2",
    "*": "fl_mul2",
    "<": "fl_lt2",
    ">": "fl_gt2",
    "<=": "fl_le2",
    ">=": "fl_ge2",
    "=": "fl_numeq2",
}
_ICMP = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "=": "=="}

# C runtime functions generated code calls: name -> (return type, argument types).
_RUNTIME: dict[str, tuple[ir.Type, tuple[ir.Type, ...]]] = {
    "fl_alloc": (PTR, (I64,)),
    "fl_alloc_roots": (PTR, (I64,)),
    "fl_box_float": (I64, (DBL,)),
    "fl_int_from_decimal": (I64, (PTR,)),
    "fl_string_from_utf8": (I64, (PTR, I64)),
    "fl_symbol_intern": (I64, (PTR, I64)),
    "fl_cons_new": (I64, (I64, I64)),
    "fl_store_word": (VOID, (PTR, I64)),
    "fl_link_new": (I64, (I64, I64, I64)),
    "fl_vector_new": (PTR, (I64,)),
    "fl_rest_list": (I64, (I64, I64, I64, I64, I64, I64, PTR)),
    "fl_map_empty": (I64, ()),
    "fl_map_assoc": (I64, (I64, I64, I64)),
    "fl_error_new": (I64, (I64, I64, I64)),
    "fl_literals_compound": (VOID, (PTR, I64, PTR)),
    "fl_ctor_register": (VOID, (I64, PTR, PTR, I64, PTR)),
    "fl_adt_new": (I64, (I64, PTR)),
    "fl_adt_init": (I64, (I64, PTR, PTR)),
    "fl_add2": (I64, (I64, I64)),
    "fl_sub2": (I64, (I64, I64)),
    "fl_mul2": (I64, (I64, I64)),
    "fl_lt2": (I64, (I64, I64)),
    "fl_gt2": (I64, (I64, I64)),
    "fl_le2": (I64, (I64, I64)),
    "fl_ge2": (I64, (I64, I64)),
    "fl_numeq2": (I64, (I64, I64)),
    "fl_equal": (I32, (I64, I64)),
    "fl_check_type": (I64, (I64, PTR)),
    "fl_is_error": (I32, (I64,)),
    "fl_raise_arity": (I64, (PTR, I64, I64, I64)),
    "fl_raise_arity_by_twos": (I64, (PTR, I64, I64)),
    "fl_raise_unbound": (I64, (PTR,)),
    "fl_raise_not_function": (I64, (I64,)),
    "fl_raise_match_failure": (I64, (I64,)),
    "fl_trace_add": (VOID, (I64,)),
    "fl_trace_settle": (VOID, ()),
    "fl_pending_kind": (I64, ()),
    "fl_pending_skips_finally": (I64, ()),
    "fl_pending_take_for": (I64, (I64,)),
    "fl_pending_stash": (I64, ()),
    "fl_pending_unstash": (VOID, (I64,)),
    "fl_pending_drop": (VOID, (I64,)),
    "fl_poll_slow": (I64, ()),
    "fl_depth_slow": (I64, ()),
    "fl_depth_slow_prelude": (I64, ()),
    "fl_handler_height": (I64, ()),
    "fl_handler_restore": (VOID, (I64,)),
    "fl_handler_push": (I64, (I64, PTR, PTR)),
    "fl_try_push": (I64, (PTR,)),
    "fl_perform": (I64, (PTR, PTR, I64, PTR)),
    "fl_perform_applied": (I64, (PTR, PTR, I64, PTR)),
    "fl_perform_tail": (I64, (PTR, PTR, I64, PTR)),
    "fl_prelude_raise": (I64, (I64, PTR)),
    "fl_take_resumed": (I64, ()),
    "fl_apply_args": (PTR, (I64, PTR)),
    "fl_rt_begin": (VOID, (PTR, PTR, I64, I64, PTR, I64)),
    "fl_rt_finish": (I64, (I64,)),
    "fl_print_top_value": (I64, (I64,)),
}
# runtime functions called only on slow paths (overflow, other types, errors, interrupts)
_COLD = frozenset(
    {
        *_SLOW.values(),
        "fl_raise_arity",
        "fl_raise_arity_by_twos",
        "fl_raise_unbound",
        "fl_store_word",
        "fl_raise_not_function",
        "fl_raise_match_failure",
        "fl_trace_add",
        "fl_trace_settle",
        "fl_prelude_raise",
        "fl_take_resumed",
        "fl_poll_slow",
        "fl_depth_slow",
        "fl_depth_slow_prelude",
        *(abi.c_symbol(name) for name in ("mod", "quot", "rem")),
    }
)
_RUNTIME_GLOBALS = ("fl_rt_depth", "fl_rt_depth_limit", "fl_rt_poll", "fl_rt_site")


def executable_ir(ir_text: str) -> str:
    """The module text of a program linked into an executable with the runtime (`fluentai
    build`): the runtime's globals are `dso_local` there, so a depth check reads its limit
    with one PC-relative operand instead of an address load first (llvmlite's IR builder
    has no `dso_local`, so the declarations are edited)."""
    for gname in _RUNTIME_GLOBALS:
        decl = f'@"{gname}" = external global'
        if decl in ir_text:
            ir_text = ir_text.replace(decl, f'@"{gname}" = external dso_local global', 1)
    return ir_text


@record
class SiteInfo:
    """One row of the site table: where an operation is, and in which function."""

    where: str
    fn: str
    text: str
    caret_col: int
    caret_width: int


@record(slots=False)
class LambdaInfo:
    """A program lambda as the JIT sees it: its descriptor's symbol (exported in JIT units) and
    what identifies the VM Code compiled from the same source (span and name)."""

    desc_symbol: str
    start: int
    end: int
    name: str
    free: tuple[str, ...]


@record(frozen=False, slots=False)
class LoweredProgram:
    """The module and what the engine and `--jit-stats` need to know about it."""

    module: ir.Module
    functions: list[str]
    sites: list[SiteInfo]
    # JIT units only (Lowerer(jit=True)): how the VM finds its way into the unit
    lambdas: list[LambdaInfo] = field(default_factory=list)
    globals_index: dict[str, int] = field(default_factory=dict)
    ctor_ids: dict[str, int] = field(default_factory=dict)
    builtin_closures: dict[str, str] = field(default_factory=dict)  # builtin -> symbol
    site_spans: list[tuple[int, int] | None] = field(default_factory=list)
    osr: list[Any] = field(default_factory=list)  # OSR entries of `while` loops (llvm/osr.py)
    inline_caches: int = 0  # call sites given an inline cache (units and images, from a profile)


@record(frozen=False, slots=False)
class _Unit:
    """Module-wide state of one lowering."""

    module: ir.Module
    inline_caches: int = 0
    globals_index: dict[str, int] = field(default_factory=dict)
    literals: list[tuple[str, Any]] = field(default_factory=list)
    literal_index: dict[tuple[str, Any], int] = field(default_factory=dict)
    sites: list[SiteInfo] = field(default_factory=list)
    site_index: dict[tuple[int, int, str, str], int] = field(default_factory=dict)
    ctor_ids: dict[str, int] = field(default_factory=dict)
    ctors: list[r.CtorDef] = field(default_factory=list)
    strings: dict[str, ir.GlobalVariable] = field(default_factory=dict)
    fn_counter: int = 0
    functions: list[str] = field(default_factory=list)
    builtin_closures: dict[str, ir.GlobalVariable] = field(default_factory=dict)
    matchers: int = 0
    handler_keys: int = 0  # handlers' key tables made (their globals' names: deterministic)
    templates: int = 0  # constant argument templates made (args_array)
    declared: dict[str, ir.Function] = field(default_factory=dict)
    site_spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    lambdas: list[LambdaInfo] = field(default_factory=list)
    builtin_symbols: dict[str, str] = field(default_factory=dict)
    osr: list[Any] = field(default_factory=list)  # OSR entries (llvm/osr.py)
    osr_done: dict[tuple[int, int], Any] = field(default_factory=dict)  # loop spans seen


def _leave_huge_functions(module: ir.Module) -> None:
    """Functions of more than _HUGE_FUNCTION blocks are not optimized: a top level of deeply
    nested data runs once, and a body nested 10 000 levels deep (`(+ 1 (+ 1 ...))`) took LLVM
    35 s to optimize and compile; unoptimized, its code is still native."""
    for fn in module.functions:
        if not fn.is_declaration and len(fn.blocks) > _HUGE_FUNCTION:
            fn.attributes.add("noinline")
            fn.attributes.add("optnone")


def _runs_once(forms: Sequence[tuple[r.RExpr, bool]]) -> bool:
    """Whether top-level `forms` run each of their nodes at most once: no `while` (a fused
    list pipeline is one too) outside the bodies of lambdas, which are functions of their own
    (a handler's clauses are functions too, and resume once)."""
    stack: list[Any] = [form for form, _ in forms]
    while stack:
        node = stack.pop()
        if isinstance(node, r.RWhile):
            return False
        if not isinstance(node, r.Fn):
            stack.extend(r.children(node))
    return True


_block_ids = itertools.count()
_KNOWN_MAX_ARGS = 6  # known entries pass every argument in a register (x86-64)
# objects in a frame's slots (escape analysis): at most this many bytes each and per frame, so
# deep recursion keeps its frames small (DESIGN.md §4.3)
_STACK_OBJECT_MAX = 256
_STACK_FRAME_MAX = 1024
_SLP_MAX_PARAMS = 16  # a function with more parameters is not SLP-vectorized (`declare_lambda`)
_HUGE_FUNCTION = 4000  # basic blocks: more is not optimized (`_leave_huge_functions`)
_HUGE_LITERAL_POOL = 2000  # literals
_ARGS_TEMPLATE_MIN = 64  # a call with more arguments, half of them constant words, copies them
_COMPOUND_KINDS = {"qlist": 0, "qmap": 1, "error": 2}


def _block(fn: ir.Function, name: str) -> ir.Block:
    """A new basic block with a unique name (llvmlite's renaming of duplicates is linear)."""
    return fn.append_basic_block(f"{name}.{next(_block_ids)}")


def _mangle_fn(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name)


class Lowerer:
    """Builds one module from the prelude and a program."""

    def __init__(
        self, print_values: bool = False, print_result: bool = False, jit: bool = False
    ) -> None:
        self.u = _Unit(ir.Module(name="fluentai"))
        # a JIT unit: the VM calls into it (fl_jit_init instead of fl_program_main; descriptors
        # and builtin closures exported so the value bridge can name them)
        self.jit = jit
        self.print_values = print_values
        self.print_result = print_result
        m = self.u.module
        for gname in _RUNTIME_GLOBALS:
            g = ir.GlobalVariable(m, I64, gname)
            g.linkage = "external"
        self.globals_ptr = ir.GlobalVariable(m, PTR, "fl.globals")
        self.globals_ptr.linkage = "internal"
        self.globals_ptr.initializer = ir.Constant(PTR, None)
        self.lits_ptr = ir.GlobalVariable(m, PTR, "fl.lits")
        self.lits_ptr.linkage = "internal"
        self.lits_ptr.initializer = ir.Constant(PTR, None)
        # known functions: id(Fn) -> global name; name -> (entry, static closure word)
        self.known: dict[int, str] = {}
        self.known_entries: dict[str, tuple[ir.Function, Any, r.Fn]] = {}
        # known program functions of fixed arity: name -> their known entry (`.k`)
        self.kentries: dict[str, ir.Function] = {}
        # known program functions with Float parameters: name -> (raw entry `.r`, the indices
        # of the parameters it takes as doubles) (fluentai/llvm/rawentry.py)
        self.rentries: dict[str, tuple[ir.Function, list[int]]] = {}
        # the program's inferred types (closed world), when inferred: used only to leave out
        # inline paths for kinds a value cannot have; every path stays guarded
        self.types: TypeResult | None = None
        self.seeds: dict[str, tuple[Any, ...]] | None = None  # tier 2: see lower_program
        # code to be compiled quickly rather than run fast: see lower_program
        self.quick = False
        # tier 2's inline caches: a call site's span -> the lambdas the VM saw it call
        self.call_targets_spec: CallTargets | None = None
        self.call_targets: dict[tuple[int, int], list[r.Fn]] = {}
        # each lambda's first declaration (entry, descriptor), which inline caches call
        self.first_decl: dict[int, tuple[ir.Function, ir.GlobalVariable]] = {}
        # lambdas an inline cache declared before their closure was lowered: id -> Fn
        self.ic_pending: dict[int, r.Fn] = {}
        # the ids of the program's allocations that live in their function's frame
        # (fluentai/types/escape.py)
        self.stack_sites: frozenset[int] = frozenset()
        self.unit = "program"
        self.line_texts: dict[tuple[int, int], str] = {}
        self.shim = self._build_shim()
        self.apply_fn = self._build_apply()

    # ------------------------------------------------------------ module-level helpers

    def rt(self, name: str) -> ir.Function:
        fn = self.u.declared.get(name)
        if fn is None:
            if name in _RUNTIME:
                ret, args = _RUNTIME[name]
                fnty = ir.FunctionType(ret, list(args))
            else:  # a builtin or effect default
                fnty = PRIM_TY
            fn = ir.Function(self.u.module, fnty, name)
            if name in _COLD:  # only slow paths call it: LLVM lays those out of the way
                fn.attributes.add("cold")
            self.u.declared[name] = fn
        return fn

    def rt_global(self, name: str) -> ir.GlobalVariable:
        g = self.u.module.get_global(name)
        assert isinstance(g, ir.GlobalVariable)
        return g

    def cstring(self, text: str, raw: bool = False) -> ir.Constant:
        """A pointer to a NUL-terminated UTF-8 constant: a name or a source text as the runtime's
        C strings hold it (`ffi.c_text`: a NUL inside is C0 80); `raw`: the bytes as they are,
        for callers that pass the length too."""
        key = ("raw:" if raw else "name:") + text
        g = self.u.strings.get(key)
        if g is None:
            # surrogateescape: a file name that is not UTF-8 keeps its bytes (sys.argv)
            data = (text.encode("utf-8", "surrogateescape") if raw else c_text(text)) + b"\0"
            ty = ir.ArrayType(I8, len(data))
            g = ir.GlobalVariable(self.u.module, ty, f"fl.str.{len(self.u.strings)}")
            g.linkage = "private"
            g.global_constant = True
            g.unnamed_addr = True
            g.initializer = ir.Constant(ty, bytearray(data))
            self.u.strings[key] = g
        return g.bitcast(PTR) if g.type != PTR else g

    def global_slot(self, name: str) -> int:
        idx = self.u.globals_index.get(name)
        if idx is None:
            idx = len(self.u.globals_index)
            self.u.globals_index[name] = idx
        return idx

    def literal(self, kind: str, value: Any) -> int:
        key = (kind, value.hex() if isinstance(value, float) else value)
        idx = self.u.literal_index.get(key)
        if idx is None:
            idx = len(self.u.literals)
            self.u.literals.append((kind, value))
            self.u.literal_index[key] = idx
        return idx

    def site(self, span: Span | None, fn_name: str) -> int:
        if span is None:
            return 0
        key = (id(span.file), span.start, fn_name, str(span.end))
        idx = self.u.site_index.get(key)
        if idx is None:
            line, col = span.file.line_col(span.start)
            text = self._line_text(span.file, line)
            end_line, end_col = span.file.line_col(max(span.start, span.end))
            width = (end_col - col) if end_line == line else (len(text) - col + 1)
            text, caret_col, width = shown_line(text, col, max(1, width))
            idx = len(self.u.sites)
            self.u.sites.append(
                SiteInfo(f"{span.file.name}:{line}:{col}", fn_name, text, caret_col - 1, width)
            )
            self.u.site_index[key] = idx
            self.u.site_spans[idx] = (span.start, span.end)
        return idx

    def _line_text(self, file: Any, line: int) -> str:
        """A source line as reports show it (control characters replaced), once per line."""
        key = (id(file), line)
        text = self.line_texts.get(key)
        if text is None:
            text = report_text(file.line_text(line))
            self.line_texts[key] = text
        return text

    def _build_shim(self) -> ir.Function:
        """`fl.shim(closure, argc, argv)`: C's way into FluentAI code (effect clauses)."""
        fn = ir.Function(self.u.module, SHIM_TY, "fl.shim")
        fn.linkage = "internal"
        clo, argc, argv = fn.args
        b = ir.IRBuilder(_block(fn, "entry"))
        ok = _block(fn, "ok")
        bad = _block(fn, "bad")
        b.cbranch(self._is_closure(b, clo), ok, bad)
        b.position_at_end(bad)
        b.ret(b.call(self.rt("fl_raise_not_function"), [clo]))
        b.position_at_end(ok)
        regs, rest = self._unpack_argv(b, fn, argc, argv)
        desc = b.load(b.gep(self._ptr(b, clo), [ir.Constant(I64, 8)], source_etype=I8), typ=PTR)
        gen = b.load(desc, typ=PTR)
        res = b.call(
            _Indirect(gen, GENERIC_TY), [self._ptr(b, clo), argc, *regs, rest], cconv="tailcc"
        )
        b.ret(res)
        return fn

    def _unpack_argv(
        self, b: ir.IRBuilder, fn: ir.Function, argc: ir.Value, argv: ir.Value
    ) -> tuple[list[ir.Value], ir.Value]:
        """argc words at argv as a generic entry's a0..a3 (0 when absent) and rest VECTOR."""
        regs = []
        for i in range(abi.REG_ARGS):
            has = b.icmp_signed(">", argc, ir.Constant(I64, i))
            cur = b.block
            then = _block(fn, f"a{i}")
            join = _block(fn, f"j{i}")
            b.cbranch(has, then, join)
            b.position_at_end(then)  # load only when present
            val = b.load(b.gep(argv, [ir.Constant(I64, i)], source_etype=I64), typ=I64)
            b.branch(join)
            b.position_at_end(join)
            phi = b.phi(I64)
            phi.add_incoming(ir.Constant(I64, 0), cur)
            phi.add_incoming(val, then)
            regs.append(phi)
        return regs, self._rest_vector_from_argv(b, fn, argc, argv)

    def _rest_vector_from_argv(
        self, b: ir.IRBuilder, fn: ir.Function, argc: ir.Value, argv: ir.Value
    ) -> ir.Value:
        """A VECTOR of argv[4..argc-1] (NULL when argc <= 4)."""
        many = b.icmp_signed(">", argc, ir.Constant(I64, abi.REG_ARGS))
        cur = b.block
        then = _block(fn, "rest")
        join = _block(fn, "rest.join")
        b.cbranch(many, then, join)
        b.position_at_end(then)
        n = b.sub(argc, ir.Constant(I64, abi.REG_ARGS))
        vec = b.call(self.rt("fl_vector_new"), [n])
        items = b.gep(vec, [ir.Constant(I64, 8)], source_etype=I8)
        src = b.gep(argv, [ir.Constant(I64, abi.REG_ARGS)], source_etype=I64)
        b.call(self._memcpy(), [items, src, b.mul(n, ir.Constant(I64, 8)), ir.Constant(I1, 0)])
        b.branch(join)
        b.position_at_end(join)
        phi = b.phi(PTR)
        phi.add_incoming(ir.Constant(PTR, None), cur)
        phi.add_incoming(vec, then)
        return phi

    def _memcpy(self) -> ir.Function:
        name = "llvm.memcpy.p0.p0.i64"
        fn = self.u.declared.get(name)
        if fn is None:
            fn = ir.Function(self.u.module, ir.FunctionType(VOID, [PTR, PTR, I64, I1]), name)
            self.u.declared[name] = fn
        return fn

    def _build_apply(self) -> ir.Function:
        """`fl.apply(f, vector)`: call f with the vector's items as arguments (non-tail)."""
        fn = ir.Function(self.u.module, ir.FunctionType(I64, [I64, PTR]), "fl.apply")
        fn.linkage = "internal"
        f, vec = fn.args
        b = ir.IRBuilder(_block(fn, "entry"))
        hdr = b.load(vec, typ=I64)
        argc = b.lshr(hdr, ir.Constant(I64, 16))
        argv = b.gep(vec, [ir.Constant(I64, 8)], source_etype=I8)
        b.ret(b.call(self.shim, [f, argc, argv]))
        return fn

    def tail_apply(self, b: ir.IRBuilder, f: ir.Value, vec: ir.Value) -> None:
        """`(apply f ...)` in tail position: f's generic entry with the vector's items as
        arguments, as a tail call; returns."""
        fn = b.function
        ok = _block(fn, "tapply.ok")
        bad = _block(fn, "tapply.bad")
        b.cbranch(self._is_closure(b, f), ok, bad)
        b.position_at_end(bad)
        b.ret(b.call(self.rt("fl_raise_not_function"), [f]))
        b.position_at_end(ok)
        argc = b.lshr(b.load(vec, typ=I64), ir.Constant(I64, 16))
        items = b.gep(vec, [ir.Constant(I64, 8)], source_etype=I8)
        regs, rest = self._unpack_argv(b, fn, argc, items)
        fptr = self._ptr(b, f)
        desc = b.load(b.gep(fptr, [ir.Constant(I64, 8)], source_etype=I8), typ=PTR)
        gen = b.load(desc, typ=PTR)
        poll = b.load_atomic(self.rt_global("fl_rt_poll"), "monotonic", 8, typ=I64)
        slow = _block(fn, "tapply.poll")
        go = _block(fn, "tapply.go")
        b.cbranch(b.icmp_unsigned("!=", poll, ir.Constant(I64, 0)), slow, go)
        b.position_at_end(slow)
        res = b.call(self.rt("fl_poll_slow"), [])
        stop = _block(fn, "tapply.stop")
        b.cbranch(b.icmp_unsigned("==", res, ir.Constant(I64, 0)), stop, go)
        b.position_at_end(stop)
        b.ret(ir.Constant(I64, 0))
        b.position_at_end(go)
        call = b.call(
            _Indirect(gen, GENERIC_TY),
            [fptr, argc, *regs, rest],
            cconv="tailcc",
            tail=_tail_marker(fn, GENERIC_TY),
        )
        b.ret(call)

    @staticmethod
    def _ptr(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
        return b.inttoptr(v, PTR)

    def _is_closure(self, b: ir.IRBuilder, v: ir.Value) -> ir.Value:
        return _has_type(b, v, abi.T_CLOSURE)

    # ------------------------------------------------------------ descriptors and closures

    def descriptor(
        self, entry: ir.Function, lo: int, hi: int | None, name: str, kind: int
    ) -> ir.GlobalVariable:
        if self.jit:  # exported, so unique across the program's and the prelude's units
            g = ir.GlobalVariable(self.u.module, DESC_TY, f"fl.desc.{self.unit}.{entry.name}")
        else:
            g = ir.GlobalVariable(self.u.module, DESC_TY, f"fl.desc.{entry.name}")
            g.linkage = "internal"
        g.global_constant = True
        g.initializer = ir.Constant(
            DESC_TY,
            [
                entry,
                ir.Constant(I64, lo),
                ir.Constant(I64, -1 if hi is None else hi),
                self.cstring(name),
                ir.Constant(I64, kind),
            ],
        )
        return g

    def static_closure(self, key: str, make_entry: Callable[[], tuple[ir.Function, Any]]) -> Any:
        """A closure without free values, as constant data (builtins, constructors, ops)."""
        g = self.u.builtin_closures.get(key)
        if g is None:
            entry, desc = make_entry()
            if self.jit:  # exported (the value bridge passes builtins), unique across units
                g = ir.GlobalVariable(self.u.module, BCLO_TY, f"fl.sclo.{self.unit}.{entry.name}")
                self.u.builtin_symbols[key] = g.name
            else:
                g = ir.GlobalVariable(self.u.module, BCLO_TY, f"fl.sclo.{entry.name}")
                g.linkage = "internal"
            g.global_constant = True
            g.align = 16
            g.initializer = ir.Constant(
                BCLO_TY, [ir.Constant(I64, abi.header(abi.T_CLOSURE)), desc]
            )
            self.u.builtin_closures[key] = g
        return g.ptrtoint(I64)

    def _wrapper(
        self,
        label: str,
        lo: int,
        hi: int | None,
        name: str,
        kind: int,
        body: Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value],
        *,
        by_twos: bool = False,
    ) -> tuple[ir.Function, ir.GlobalVariable]:
        """A generic entry that checks arity, gathers argv and returns body(b, argc, argv).
        `by_twos`: the arity error says lo, lo + 2, ... (`assoc`; body checks the parity)."""
        self.u.fn_counter += 1
        fn = ir.Function(self.u.module, GENERIC_TY, f"fl.w.{self.u.fn_counter}.{_mangle_fn(label)}")
        fn.linkage = "internal"
        fn.calling_convention = "tailcc"
        clo, argc, *regs, rest = fn.args
        b = ir.IRBuilder(_block(fn, "entry"))
        bad = _block(fn, "arity")
        ok = _block(fn, "ok")
        cond = b.icmp_signed("<", argc, ir.Constant(I64, lo))
        if hi is not None:
            cond = b.or_(cond, b.icmp_signed(">", argc, ir.Constant(I64, hi)))
        b.cbranch(cond, bad, ok)
        b.position_at_end(bad)
        if by_twos:
            args = [self.cstring(name), ir.Constant(I64, lo), argc]
            b.ret(b.call(self.rt("fl_raise_arity_by_twos"), args))
        else:
            hi_arg = ir.Constant(I64, -1 if hi is None else hi)
            args = [self.cstring(name), ir.Constant(I64, lo), hi_arg, argc]
            b.ret(b.call(self.rt("fl_raise_arity"), args))
        b.position_at_end(ok)
        size = max(1, hi if hi is not None and hi <= 16 else 0)
        if hi is not None and hi <= 16:
            argv = b.alloca(I64, size=ir.Constant(I64, size))
            for i in range(min(hi, abi.REG_ARGS)):
                b.store(regs[i], b.gep(argv, [ir.Constant(I64, i)], source_etype=I64))
            if hi > abi.REG_ARGS:
                self._copy_rest(b, fn, argc, rest, argv)
        else:
            argv = self._argv_dynamic(b, fn, argc, regs, rest)
        result = body(b, argc, argv)
        if result is not None:  # None: the body ended with its own (tail) call and return
            b.ret(result)
        desc = self.descriptor(fn, lo, hi, name, kind)
        return fn, desc

    def _copy_rest(
        self, b: ir.IRBuilder, fn: ir.Function, argc: ir.Value, rest: ir.Value, argv: ir.Value
    ) -> None:
        many = b.icmp_signed(">", argc, ir.Constant(I64, abi.REG_ARGS))
        then = _block(fn, "copy")
        join = _block(fn, "copied")
        b.cbranch(many, then, join)
        b.position_at_end(then)
        n = b.sub(argc, ir.Constant(I64, abi.REG_ARGS))
        items = b.gep(rest, [ir.Constant(I64, 8)], source_etype=I8)
        dst = b.gep(argv, [ir.Constant(I64, abi.REG_ARGS)], source_etype=I64)
        b.call(self._memcpy(), [dst, items, b.mul(n, ir.Constant(I64, 8)), ir.Constant(I1, 0)])
        b.branch(join)
        b.position_at_end(join)

    def _argv_dynamic(
        self,
        b: ir.IRBuilder,
        fn: ir.Function,
        argc: ir.Value,
        regs: Sequence[ir.Value],
        rest: ir.Value,
    ) -> ir.Value:
        """argv for a variadic wrapper: a stack array for up to four arguments, else a GC
        vector of argc words (contents copied in)."""
        with b.goto_entry_block():
            b.position_at_start(fn.entry_basic_block)
            small_buf = b.alloca(I64, size=ir.Constant(I64, abi.REG_ARGS))
        few = b.icmp_signed("<=", argc, ir.Constant(I64, abi.REG_ARGS))
        cur = b.block
        many = _block(fn, "argv.many")
        join0 = _block(fn, "argv.j")
        b.cbranch(few, join0, many)
        b.position_at_end(many)
        vec = b.call(self.rt("fl_vector_new"), [argc])
        vec_items = b.gep(vec, [ir.Constant(I64, 8)], source_etype=I8)
        b.branch(join0)
        b.position_at_end(join0)
        argv = b.phi(PTR)
        argv.add_incoming(small_buf, cur)
        argv.add_incoming(vec_items, many)
        for i in range(abi.REG_ARGS):
            has = b.icmp_signed(">", argc, ir.Constant(I64, i))
            then = _block(fn, f"st{i}")
            join = _block(fn, f"st{i}.j")
            b.cbranch(has, then, join)
            b.position_at_end(then)
            b.store(regs[i], b.gep(argv, [ir.Constant(I64, i)], source_etype=I64))
            b.branch(join)
            b.position_at_end(join)
        self._copy_rest(b, fn, argc, rest, argv)
        return argv

    def builtin_closure(self, name: str) -> Any:
        prim = primitives.lookup(name)
        assert prim is not None and prim.kind is PrimKind.FUNCTION, name
        lo, hi = prim.arity
        sym = abi.c_symbol(prim.name)

        def make() -> tuple[ir.Function, Any]:
            def body(b: ir.IRBuilder, argc: ir.Value, argv: ir.Value) -> ir.Value:
                return b.call(self.rt(sym), [argc, argv])

            # an extra arity rule (assoc: odd counts) is checked by the C builtin itself
            by_twos = prim.arity_ok is not None
            return self._wrapper(
                prim.name, lo, hi, prim.name, abi.FN_BUILTIN, body, by_twos=by_twos
            )

        return self.static_closure("b:" + prim.name, make)

    def effect_closure(self, op: str) -> Any:
        prim = primitives.lookup(op)

        def make() -> tuple[ir.Function, Any]:
            if prim is not None:
                lo, hi = prim.arity
            else:
                lo, hi = 0, None

            def body(b: ir.IRBuilder, argc: ir.Value, argv: ir.Value) -> ir.Value:
                return self._perform_call(b, op, argc, argv, applied=True)

            return self._wrapper(op, lo, hi, op, abi.FN_EFFECT, body)

        return self.static_closure("e:" + op, make)

    def ctor_closure(self, name: str) -> Any:
        cid = self.u.ctor_ids[name]
        arity = len(self.u.ctors[cid].fields)

        def make() -> tuple[ir.Function, Any]:
            def body(b: ir.IRBuilder, argc: ir.Value, argv: ir.Value) -> ir.Value:
                return b.call(self.rt("fl_adt_new"), [ir.Constant(I64, cid), argv])

            return self._wrapper(name, arity, arity, name, abi.FN_CONSTRUCTOR, body)

        return self.static_closure("c:" + name, make)

    def _perform_call(
        self,
        b: ir.IRBuilder,
        op: str,
        argc: ir.Value,
        argv: ir.Value,
        *,
        applied: bool = False,
        tail: bool = False,
    ) -> ir.Value:
        """`applied`: the operation applied as a function value (its closure's body). `tail`: a
        perform in tail position of program code, whose default behaviour replaces the frame
        (`state:update` calling its function: LANGUAGE.md §12), while a clause of the program
        is a non-tail call all the same."""
        prim = primitives.lookup(op)
        if prim is not None and prim.kind is PrimKind.EFFECT:
            dflt: ir.Value = self.rt(abi.c_symbol(prim.name))
        else:
            dflt = ir.Constant(PTR, None)
        name = "fl_perform_applied" if applied else "fl_perform_tail" if tail else "fl_perform"
        perform = self.rt(name)
        return b.call(perform, [self.cstring(op), dflt, argc, argv])

    # ------------------------------------------------------------ the program

    def lower_prelude(self, prelude: r.RProgram) -> LoweredProgram:
        """The prelude's unit: its functions (known ones exported under stable names) and
        `fl_prelude_init(globals)`, which runs its top level with the shared globals array."""
        self.unit = "prelude"
        self.u.sites.append(SiteInfo("", "", "", 0, 0))
        iface = prelude_interface(prelude)
        self.u.globals_index.update(iface.slots)
        self._find_known_functions(prelude)
        for build in self._declare_known(True, prelude):
            build()
        top = self.top_level(prelude, "fl.top.prelude", is_prelude=True)
        fn = ir.Function(self.u.module, ir.FunctionType(I64, [PTR]), PRELUDE_INIT)
        b = ir.IRBuilder(_block(fn, "entry"))
        b.store(fn.args[0], self.globals_ptr)
        self._init_literals(b)
        b.ret(b.call(top, []))
        if self.jit:  # every builtin as a value, for the value bridge
            for prim in abi.c_functions():
                if prim.kind is PrimKind.FUNCTION:
                    self.builtin_closure(prim.name)
                else:
                    self.effect_closure(prim.name)
        return LoweredProgram(
            self.u.module,
            self.u.functions,
            self.u.sites,
            lambdas=self.u.lambdas,
            builtin_closures=dict(self.u.builtin_symbols),
        )

    def lower_program(self, prelude: r.RProgram, program: r.RProgram) -> LoweredProgram:
        """The program's unit: its functions, top level and `fl_program_main`, calling into the
        prelude's unit (linked beside it) through `fl_prelude_init` and exported entries."""
        self.unit = "program"
        iface = prelude_interface(prelude)
        self.u.globals_index.update(iface.slots)
        for ctor in program.ctors:
            if ctor.name not in self.u.ctor_ids:
                self.u.ctor_ids[ctor.name] = len(self.u.ctors)
                self.u.ctors.append(ctor)
            else:  # the program redefines a predeclared constructor
                self.u.ctors[self.u.ctor_ids[ctor.name]] = ctor
        self.u.sites.append(SiteInfo("", "", "", 0, 0))  # site 0: unknown
        for name, fn in iface.known.items():
            entry = ir.Function(self.u.module, GENERIC_TY, _exported_entry(name))
            entry.calling_convention = "tailcc"
            clo = ir.GlobalVariable(self.u.module, BCLO_TY, _exported_closure(name))
            self.known_entries[name] = (entry, clo.ptrtoint(I64), fn)
        self._find_known_functions(program)
        self.types = _infer_types(prelude, program, self.seeds)
        self.call_targets = _resolve_call_targets(program, self.call_targets_spec)
        if self.types is not None:  # not for a very large program (analysis time)
            self.stack_sites = _stack_sites(program, self.known)
        for build in self._declare_known(False, program):
            build()
        if self.jit:
            # the top level runs in the VM, but its lambdas (descriptors exported) are needed
            self.top_level(program, "fl.top.program", is_prelude=False)
            self._lower_ic_pending()
            self._build_main(None)
            _leave_huge_functions(self.u.module)
            sites = self.u.sites
            return LoweredProgram(
                self.u.module,
                self.u.functions,
                sites,
                lambdas=self.u.lambdas,
                globals_index=dict(self.u.globals_index),
                ctor_ids=dict(self.u.ctor_ids),
                builtin_closures=dict(self.u.builtin_symbols),
                site_spans=[self.u.site_spans.get(i) for i in range(len(sites))],
                osr=self.u.osr,
                inline_caches=self.u.inline_caches,
            )
        program_top = self.top_level(program, "fl.top.program", is_prelude=False)
        self._lower_ic_pending()
        if self.quick and _runs_once(program.forms):
            # its machine code at -O0 (FastISel): it runs once, and was a third of a small
            # program's compile at -O1
            program_top.attributes.add("noinline")
            program_top.attributes.add("optnone")
        self._build_main(program_top)
        _leave_huge_functions(self.u.module)
        return LoweredProgram(
            self.u.module, self.u.functions, self.u.sites, inline_caches=self.u.inline_caches
        )

    def _lower_ic_pending(self) -> None:
        """The bodies of inline caches' targets that no closure creation lowered."""
        while self.ic_pending:
            _, fn = self.ic_pending.popitem()
            entry, _desc = self.first_decl[id(fn)]
            gen = _FnGen(self, entry, fn.name, False, fn)
            gen.frame_objects = False
            gen.lambda_body()

    def _find_known_functions(self, *programs: r.RProgram) -> None:
        """Globals defined once, at top level, by a lambda without free variables, and never
        assigned: their value is one static closure, so calls can be direct (DESIGN.md §4.1).
        The rule is the type inference's, so both see the same known functions."""
        from fluentai.types.infer import find_known_functions

        for name, fn in find_known_functions(*programs).items():
            self.known[id(fn)] = name

    def top_level(self, prog: r.RProgram, name: str, is_prelude: bool) -> ir.Function:
        fn = ir.Function(self.u.module, ir.FunctionType(I64, []), name)
        fn.linkage = "internal"
        gen = _FnGen(self, fn, "<top level>", is_prelude, None)
        gen.top_forms(prog.forms)
        return fn

    def _build_main(self, program_top: ir.Function | None) -> None:
        """`fl_program_main(argc, argv)`; for a JIT unit (program_top None) `fl_jit_init(argc,
        argv)`, which sets the unit up without running the program's top level and returns the
        globals array (NULL when the prelude's initialization failed)."""
        m = self.u.module
        sites_ty = ir.ArrayType(SITE_TY, len(self.u.sites))
        sites = ir.GlobalVariable(m, sites_ty, "fl.sites")
        sites.linkage = "internal"
        sites.global_constant = True
        sites.initializer = ir.Constant(
            sites_ty,
            [
                ir.Constant(
                    SITE_TY,
                    [
                        self.cstring(s.where),
                        self.cstring(s.fn),
                        self.cstring(s.text),
                        ir.Constant(I64, s.caret_col),
                        ir.Constant(I64, s.caret_width),
                        self.cstring(s.where),
                    ],
                )
                for s in self.u.sites
            ],
        )
        if program_top is None:
            fn = ir.Function(m, ir.FunctionType(PTR, [I64, PTR, I64]), "fl_jit_init")
            argc, argv, max_depth = fn.args
        else:
            fn = ir.Function(m, ir.FunctionType(I64, [I64, PTR]), "fl_program_main")
            argc, argv = fn.args
            max_depth = ir.Constant(I64, 0)
        b = ir.IRBuilder(_block(fn, "entry"))
        b.call(
            self.rt("fl_rt_begin"),
            [
                self.shim,
                sites.bitcast(PTR),
                ir.Constant(I64, len(self.u.sites)),
                argc,
                argv,
                max_depth,
            ],
        )
        nglobals = max(1, len(self.u.globals_index))
        roots = b.call(self.rt("fl_alloc_roots"), [ir.Constant(I64, nglobals)])
        b.store(roots, self.globals_ptr)
        self._register_ctors(b)
        prelude_init = ir.Function(m, ir.FunctionType(I64, [PTR]), PRELUDE_INIT)
        res = b.call(prelude_init, [roots])
        self._init_literals(b)
        if program_top is None:
            failed = b.icmp_unsigned("==", res, ir.Constant(I64, 0))
            b.ret(b.select(failed, ir.Constant(PTR, None), roots))
            return
        ok = _block(fn, "program")
        done = _block(fn, "done")
        before = b.block
        b.cbranch(b.icmp_unsigned("==", res, ir.Constant(I64, 0)), done, ok)
        b.position_at_end(ok)
        res2 = b.call(program_top, [])
        b.branch(done)
        b.position_at_end(done)
        phi = b.phi(I64)
        phi.add_incoming(ir.Constant(I64, 0), before)
        phi.add_incoming(res2, ok)
        b.ret(b.call(self.rt("fl_rt_finish"), [phi]))

    def _init_literals(self, caller: ir.IRBuilder) -> None:
        """Build the literal pool (in its own function, called from `caller`)."""
        fn = ir.Function(self.u.module, ir.FunctionType(VOID, []), f"fl.literals.{self.unit}")
        fn.linkage = "internal"
        b = ir.IRBuilder(_block(fn, "entry"))
        n = max(1, len(self.u.literals))
        pool = b.call(self.rt("fl_alloc_roots"), [ir.Constant(I64, n)])
        b.store(pool, self.lits_ptr)
        # atoms first, one call each; then the compound literals from one table, in pool order
        # (their parts are earlier entries): see runtime/literals.c
        table: list[int] = []
        for i, (kind, value) in enumerate(self.u.literals):
            if kind in _COMPOUND_KINDS:
                parts = value if kind != "qmap" else [ref for pair in value for ref in pair]
                count = len(value)
                table += [i, _COMPOUND_KINDS[kind], count, *(self._ref_code(p) for p in parts)]
                continue
            word = self._literal_word(b, kind, value)
            b.store(word, b.gep(pool, [ir.Constant(I64, i)], source_etype=I64))
        if table:
            arr_ty = ir.ArrayType(I64, len(table))
            g = ir.GlobalVariable(self.u.module, arr_ty, f"fl.literal.table.{self.unit}")
            g.linkage = "internal"
            g.global_constant = True
            g.initializer = ir.Constant(arr_ty, [ir.Constant(I64, w) for w in table])
            b.call(
                self.rt("fl_literals_compound"),
                [g.bitcast(PTR), ir.Constant(I64, len(table)), pool],
            )
        b.ret_void()
        if len(self.u.literals) > _HUGE_LITERAL_POOL:  # runs once: not worth optimizing
            fn.attributes.add("noinline")
            fn.attributes.add("optnone")
        caller.call(fn, [])

    @staticmethod
    def _ref_code(ref: tuple[str, int]) -> int:
        """A part of a compound literal in the table: the word itself, or a pool reference
        tagged 100 (runtime/literals.c)."""
        kind, n = ref
        return n if kind == "imm" else (n << 3) | 4

    def _literal_word(self, b: ir.IRBuilder, kind: str, value: Any) -> ir.Value:
        if kind == "float":
            return b.call(self.rt("fl_box_float"), [ir.Constant(DBL, value)])
        if kind == "bigint":
            return b.call(self.rt("fl_int_from_decimal"), [self.cstring(str(value))])
        if kind == "string":
            data = value.encode("utf-8")
            return b.call(
                self.rt("fl_string_from_utf8"),
                [self.cstring(value, raw=True), ir.Constant(I64, len(data))],
            )
        if kind == "symbol":
            data = value.encode("utf-8")
            return b.call(
                self.rt("fl_symbol_intern"),
                [self.cstring(value, raw=True), ir.Constant(I64, len(data))],
            )
        if kind == "qlist":
            acc: ir.Value = ir.Constant(I64, abi.FL_EMPTY)
            for item in reversed(value):
                acc = b.call(self.rt("fl_cons_new"), [self._ref_word(b, item), acc])
            return acc
        if kind == "qmap":
            m: ir.Value = b.call(self.rt("fl_map_empty"), [])
            for k, v in value:
                m = b.call(self.rt("fl_map_assoc"), [m, self._ref_word(b, k), self._ref_word(b, v)])
            return m
        if kind == "error":
            return b.call(self.rt("fl_error_new"), [self._ref_word(b, x) for x in value])
        raise AssertionError(kind)

    def const_word(self, b: ir.IRBuilder, value: Any) -> ir.Value:
        """The word of a literal: immediate, or loaded from the literal pool."""
        word = self.immediate(value)
        if word is not None:
            return ir.Constant(I64, word)
        return self._pool_load(b, self.register_literal(value))

    @staticmethod
    def immediate(value: Any) -> int | None:
        """The word of a literal that needs no object (fixnums, booleans, nil, [])."""
        from fluentai.vm.values import EMPTY

        if value is True:
            return abi.FL_TRUE
        if value is False:
            return abi.FL_FALSE
        if value is None:
            return abi.FL_NIL
        if value is EMPTY or (isinstance(value, c.QList) and not value.items):
            return abi.FL_EMPTY
        if type(value) is int and abi.FIXNUM_MIN <= value <= abi.FIXNUM_MAX:
            return abi.fixnum(value)
        return None

    def register_literal(self, value: Any) -> int:
        """The literal pool index of a value built at start-up; the parts of a compound literal
        are registered first, so they are built before it."""
        from fluentai.vm.maps import FlMap
        from fluentai.vm.values import Cons, ErrorValue

        if isinstance(value, int):
            return self.literal("bigint", value)
        if isinstance(value, float):
            return self.literal("float", value)
        if isinstance(value, str):
            return self.literal("string", value)
        if isinstance(value, Symbol):
            return self.literal("symbol", value.name)
        if isinstance(value, (c.QList, Cons)):
            items = tuple(value.items if isinstance(value, c.QList) else value)
            return self._compound("qlist", [self._ref(x) for x in items])
        if isinstance(value, (c.QMap, FlMap)):
            pairs = tuple(value.pairs if isinstance(value, c.QMap) else value.items())
            return self._compound("qmap", [(self._ref(k), self._ref(v)) for k, v in pairs])
        if isinstance(value, ErrorValue):
            parts = (value.kind, value.message, value.data)
            return self._compound("error", [self._ref(x) for x in parts])
        raise AssertionError(f"literal {value!r}")

    def _ref(self, value: Any) -> tuple[str, int]:
        """A part of a compound literal: ("imm", word) or ("pool", index), registered now."""
        word = self.immediate(value)
        if word is not None:
            return ("imm", word)
        return ("pool", self.register_literal(value))

    def _ref_word(self, b: ir.IRBuilder, ref: tuple[str, int]) -> ir.Value:
        kind, n = ref
        return ir.Constant(I64, n) if kind == "imm" else self._pool_load(b, n)

    def _compound(self, kind: str, parts: Any) -> int:
        idx = len(self.u.literals)
        self.u.literals.append((kind, parts))
        return idx

    def _pool_load(self, b: ir.IRBuilder, idx: int) -> ir.Value:
        pool = b.load(self.lits_ptr, typ=PTR)
        return b.load(b.gep(pool, [ir.Constant(I64, idx)], source_etype=I64), typ=I64)

    def _register_ctors(self, b: ir.IRBuilder) -> None:
        from fluentai.vm.patterns import type_text

        for cid, ctor in enumerate(self.u.ctors):
            n = len(ctor.fields)
            arr_ty = ir.ArrayType(PTR, max(1, n))
            texts = [
                self.cstring("_" if isinstance(t, c.TVar) else type_text(t)) for t in ctor.fields
            ] or [ir.Constant(PTR, None)]
            g = ir.GlobalVariable(self.u.module, arr_ty, f"fl.ctor.fields.{cid}")
            g.linkage = "internal"
            g.global_constant = True
            g.initializer = ir.Constant(arr_ty, texts)
            b.call(
                self.rt("fl_ctor_register"),
                [
                    ir.Constant(I64, cid),
                    self.cstring(ctor.name),
                    self.cstring(ctor.type_name),
                    ir.Constant(I64, n),
                    g.bitcast(PTR),
                ],
            )

    # ------------------------------------------------------------ lambdas

    def _declare_known(self, is_prelude: bool, prog: r.RProgram) -> list[Callable[[], None]]:
        """Descriptors, static closures and entries of the known functions of `prog`; returns
        the builders of their bodies. A known program function of fixed arity gets a known
        entry `.k` (its parameters only, DESIGN.md §4.1) holding the body, which direct calls
        use; its generic entry checks the arity and tail-calls it."""
        pending: list[Callable[[], None]] = []
        for form, _ in prog.forms:
            if isinstance(form, r.GlobalSet) and isinstance(form.value, r.Fn):
                fn = form.value
                name = self.known.get(id(fn))
                if name is None:
                    continue
                exported = self.unit == "prelude"
                entry, desc = self.declare_lambda(fn, _exported_entry(name) if exported else None)
                clo_name = _exported_closure(name) if exported else f"fl.kclo.{entry.name}"
                g = ir.GlobalVariable(self.u.module, BCLO_TY, clo_name)
                if not exported:
                    g.linkage = "internal"
                g.global_constant = True
                g.align = 16
                g.initializer = ir.Constant(
                    BCLO_TY, [ir.Constant(I64, abi.header(abi.T_CLOSURE)), desc]
                )
                self.known_entries[name] = (entry, g.ptrtoint(I64), fn)
                gen = _FnGen(self, entry, fn.name, is_prelude, fn)
                if exported or fn.rest is not None or len(fn.params) > _KNOWN_MAX_ARGS:
                    pending.append(gen.lambda_body)
                    continue
                kty = ir.FunctionType(I64, [I64] * len(fn.params))
                kfn = ir.Function(self.u.module, kty, entry.name + ".k")
                kfn.linkage = "internal"
                kfn.calling_convention = "tailcc"
                self.kentries[name] = kfn
                raw = [] if is_prelude else rawentry.raw_params(fn, name, self.types)
                if raw:
                    rfn = rawentry.declare(self.u.module, kfn, len(fn.params), raw)
                    self.rentries[name] = (rfn, raw)
                    rgen = _FnGen(self, rfn, fn.name, is_prelude, fn)
                    pending.append(functools.partial(rawentry.raw_body, rgen, g, raw))
                kgen = _FnGen(self, kfn, fn.name, is_prelude, fn)
                pending.append(functools.partial(gen.known_wrapper_body, kfn))
                pending.append(functools.partial(kgen.known_body, g))
        return pending

    def known_target(self, name: str) -> tuple[ir.Function, Any, r.Fn] | None:
        return self.known_entries.get(name)

    def declare_lambda(
        self, fn: r.Fn, exported_name: str | None = None
    ) -> tuple[ir.Function, ir.GlobalVariable]:
        self.u.fn_counter += 1
        name = fn.name
        llname = exported_name or f"fl.fn.{self.u.fn_counter}.{_mangle_fn(name)}"
        f = ir.Function(self.u.module, GENERIC_TY, llname)
        if exported_name is None:
            f.linkage = "internal"
        f.calling_convention = "tailcc"
        if len(fn.params) > _SLP_MAX_PARAMS:
            # LLVM's SLP vectorizer takes time cubic in a loop's parameters (a self tail call
            # that rotates 50 of them: 7 s at -O2, 150: minutes); this attribute turns it off
            f.attributes.add("noimplicitfloat")
        self.u.functions.append(name)
        lo, hi = len(fn.params), (None if fn.rest is not None else len(fn.params))
        builtin = _prelude_builtin(name) if exported_name is not None else None
        if builtin is not None:
            lo, hi = builtin.arity
        desc = self.descriptor(f, lo, hi, name, abi.FN_LAMBDA)
        self.first_decl.setdefault(id(fn), (f, desc))
        if self.jit:
            self.u.lambdas.append(
                LambdaInfo(
                    desc.name,
                    fn.span.start,
                    fn.span.end,
                    name,
                    tuple(v.name for v in fn.free),
                )
            )
        return f, desc

    def ic_target(self, fn: r.Fn) -> tuple[ir.Function, ir.GlobalVariable]:
        """The entry and descriptor an inline cache compares with and calls for `fn`: its first
        declaration, made now (and lowered when its closure is, or at the end) if need be."""
        decl = self.first_decl.get(id(fn))
        if decl is None:
            decl = self.declare_lambda(fn)
            self.ic_pending[id(fn)] = fn
        return decl

    def lambda_fn(
        self, fn: r.Fn, is_prelude: bool, frame_objects: bool = True
    ) -> tuple[ir.Function, ir.GlobalVariable]:
        pending = self.ic_pending.pop(id(fn), None)
        f, desc = self.first_decl[id(fn)] if pending is not None else self.declare_lambda(fn)
        gen = _FnGen(self, f, fn.name, is_prelude, fn)
        gen.frame_objects = frame_objects
        gen.lambda_body()
        return f, desc


class _Indirect:
    """A callee for `IRBuilder.call` through a function pointer (llvmlite needs its type)."""

    def __init__(self, ptr: ir.Value, fnty: ir.FunctionType) -> None:
        self.ptr = ptr
        self.function_type = fnty
        self.type = ptr.type

    def get_reference(self) -> str:
        return str(self.ptr.get_reference())

    def __str__(self) -> str:
        return str(self.ptr)


class _Var:
    """Where a variable lives in the function being built."""

    def __init__(self, kind: str, where: Any, boxed: bool, is_group: bool, name: str) -> None:
        self.kind = kind  # "local" (an alloca) or "free" (index into the closure)
        self.where = where
        self.boxed = boxed
        self.is_group = is_group
        self.name = name
        # unboxed Float variables: (flag slot or None, double slot); `where` is then the word
        # slot (None for a loop parameter of a specialized loop, always a double: flag None)
        self.dual: tuple[Any, Any] | None = None
        # a Float variable defined by a tree of `+ - * /`: a use that boxes its raw double may
        # use a slot of that node (its class is the variable's: escape analysis)
        self.box_site: r.PrimApp | None = None
        # a word known to be a fixnum (an Int variable of an Int-specialized loop copy)
        self.fixnum = False

    def known_fixnum(self) -> _Var:
        """This variable, known to hold a fixnum (same slot)."""
        info = _Var(self.kind, self.where, self.boxed, self.is_group, self.name)
        info.fixnum = True
        return info


class _DV:
    """A value that may be a raw double: `flag` (True, False or an i1) says whether `d` (a
    double) holds it, else `w` (a tagged word) does. The other field is a harmless constant."""

    __slots__ = ("flag", "d", "w", "node")

    def __init__(self, flag: Any, d: Any, w: Any) -> None:
        self.flag = flag
        self.d = d
        self.w = w
        # the `+ - * /` node that computed a raw double: boxing it may use the node's slot of
        # the frame (escape analysis, `float_box`)
        self.node: r.PrimApp | None = None


@record(frozen=False, slots=False)
class _Loop:
    """A self-tail-call loop being lowered: a lambda's body (`var` None), or a named let's
    body inlined in the function around it (`var`: the let's variable, whose calls, all in
    tail position, jump back to `head`)."""

    fn: r.Fn
    slots: list[Any]  # the parameters' word slots
    var: r.Var | None = None
    head: ir.Block | None = None
    # while lowering the specialized copy of the body: (parameter indices kept as raw
    # doubles, their double slots, the specialized loop head, parameter indices known to be
    # fixnums)
    spec: tuple[list[int], dict[int, Any], ir.Block, list[int]] | None = None
    # where self tail calls of the generic body (and the copy's when it is left) jump: the
    # generic body itself for a loop specialized on Ints only (specialized_loop), else `head`
    back: ir.Block | None = None
    # while lowering the specialized copy of a loop whose body is pure arithmetic
    # (_pure_loop_body): the generic body, where an overflowing fixnum operation goes to run
    # the iteration again from its start (its parameters are still in their slots)
    restart: ir.Block | None = None


class _FnGen:
    """Builds the body of one function (a lambda or a top level)."""

    def __init__(
        self, low: Lowerer, fn: ir.Function, name: str, is_prelude: bool, lam: r.Fn | None
    ) -> None:
        self.low = low
        self.fn = fn
        self.name = name
        self.is_prelude = is_prelude
        self.lam = lam
        # stack slots go in their own first block, which falls through to "entry" (finish())
        self.slots_block = _block(fn, "slots")
        self.entry = _block(fn, "entry")
        self.alloca_b = ir.IRBuilder(self.slots_block)
        self.b = ir.IRBuilder(self.entry)
        self.vars: dict[r.Var, _Var] = {}
        self.argv_buf: Any = None
        self.argv_size = 0
        self.landing: list[ir.Block] = []
        self.clo: ir.Value | None = None
        # the self-tail-call loop being lowered: the function's own, or an inlined named let's
        self.loop: _Loop | None = None
        self._allocas_done = False
        # values known to be fixnum words (by id; the values kept alive here)
        self.fixvals: dict[int, ir.Value] = {}
        # results of inline arithmetic: an i1 phi saying "is a fixnum" (constant on the fast
        # path, so a later tag test of the result folds there): id -> (word, flag)
        self.fixflags: dict[int, tuple[ir.Value, ir.Value]] = {}
        # the known entry this function's body belongs to, when it is another function
        # (an accumulating loop's, fluentai/llvm/accumulate.py): its calls of that entry are
        # self calls
        self.self_entry: ir.Function | None = None
        # order facts of the branches being lowered (fluentai/llvm/bounds.py)
        self.facts: list[bounds.Fact] = []
        # lowering a path taken only when a specialization's assumption fails (the generic
        # body of a specialized loop, a raw entry's known entry given other kinds): Floats
        # go through the runtime's C operations there, and loops get no specialized copy
        self.cold = False
        self.stack_bytes = 0  # of the objects given a slot of this frame (stack_object)
        self.frame_objects = True  # whether objects may have slots here (stack_object)
        # in a fixnum function of an accumulating loop (fluentai/llvm/accumulate.py): the slot
        # of the frame's depth, which is stored in fl_rt_depth only before the runtime reads it
        # (`sync_depth`), and the function its self calls of fixnums call
        self.fx_depth: ir.Value | None = None
        self.fx_callee: ir.Function | None = None

    # ------------------------------------------------------------ small helpers

    def const(self, v: int) -> ir.Constant:
        return ir.Constant(I64, v)

    def alloca(self, name: str = "") -> ir.Value:
        """A stack slot in the function's first block (mem2reg turns it into SSA)."""
        return self.alloca_b.alloca(I64, name=name)

    def stack_object(self, node: Any, nbytes: int) -> ir.Value | None:
        """A slot of this frame for the object `node` makes, when escape analysis found that
        the object dies before the frame does and before `node` runs again in it
        (fluentai/types/escape.py), and the frame has room; else None (a heap object)."""
        if (
            self.is_prelude
            or not self.frame_objects
            or id(node) not in self.low.stack_sites
            or nbytes > _STACK_OBJECT_MAX
            or self.stack_bytes + nbytes > _STACK_FRAME_MAX
        ):
            return None
        self.stack_bytes += nbytes
        slot = self.alloca_b.alloca(I64, size=self.const(nbytes // 8), name="obj")
        slot.align = 16  # as a heap object's: word tags need the low bits clear
        slot.type = PTR  # an opaque pointer, like fl_alloc's result (the text is the same)
        return slot

    def argv_alloca(self, n: int) -> ir.Value:
        """The function's one argument buffer, at least n words: arguments are all evaluated
        before they are stored, and callees copy what they keep, so calls can share it."""
        if self.argv_buf is None:
            self.argv_buf = self.alloca_b.alloca(I64, size=ir.Constant(I64, 1), name="argv")
        self.argv_size = max(self.argv_size, n)
        return self.argv_buf

    def finish(self) -> None:
        """Close the slots block: it falls through to the code."""
        if self.argv_buf is not None:
            self.argv_buf.operands = [ir.Constant(I64, max(1, self.argv_size))]
        self.alloca_b.branch(self.entry)

    def new_block(self, name: str) -> ir.Block:
        return _block(self.fn, name)

    def check_depth(
        self, d: ir.Value, span: Span | None, name: str, *, set_site: bool = True
    ) -> None:
        """Continue (at a new block) when the depth `d` a call would reach is within
        fl_rt_depth_limit; otherwise `fl_depth_slow` decides, with the site of `span` set for
        its stack-overflow report: it raises the limit (the stack has room) or raises."""
        b = self.b
        limit = b.load(self.low.rt_global("fl_rt_depth_limit"), typ=I64)
        over = self.new_block(f"{name}.over")
        go = self.new_block(f"{name}.ok")
        b.cbranch(b.icmp_signed(">", d, limit), over, go)
        b.position_at_end(over)
        self.sync_depth()
        if set_site:
            self.set_site(span)
        slow = "fl_depth_slow_prelude" if self.is_prelude else "fl_depth_slow"
        res = b.call(self.low.rt(slow), [])
        b.cbranch(b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), go)
        b.position_at_end(go)

    def sync_depth(self) -> None:
        """In a fixnum function (`fx_depth`), before a call of the runtime that reads the depth
        count (`fl_depth_slow`, `fl_poll_slow`, `fl_take_resumed`): store the frame's."""
        if self.fx_depth is not None:
            g = self.low.rt_global("fl_rt_depth")
            self.b.store(self.b.load(self.fx_depth, typ=I64), g)

    def set_site(self, span: Span | None) -> None:
        if self.is_prelude or span is None:
            return
        self.b.store(self.const(self.low.site(span, self.name)), self.low.rt_global("fl_rt_site"))

    def perform_check(self, v: ir.Value) -> None:
        """After a perform: on failure, a program frame settles the trace (fl_trace_settle)."""
        if self.is_prelude:
            self.pending_check(v)
            return
        ok = self.new_block("perform.ok")
        fail = self.new_block("perform.fail")
        self.b.cbranch(self.b.icmp_unsigned("==", v, self.const(0)), fail, ok)
        self.b.position_at_end(fail)
        self.b.call(self.low.rt("fl_trace_settle"), [])
        self.b.branch(self.current_landing())
        self.b.position_at_end(ok)

    def take_resumed(self, span: Span | None) -> ir.Value:
        """In program code, on the failure path of a call of what may be a builtin written in
        FluentAI: the value an error:raise clause resumed the builtin's own raise with, which is
        the call's (fl_prelude_raise, LANGUAGE.md §14.4). Unwinds when another condition is
        pending, with the trace entry of `span`. Leaves the builder where that value goes on."""
        b = self.b
        self.sync_depth()
        resumed = b.call(self.low.rt("fl_take_resumed"), [])
        failed = self.new_block("resume.failed")
        ok = self.new_block("resume.ok")
        b.cbranch(b.icmp_unsigned("==", resumed, self.const(0)), failed, ok)
        b.position_at_end(failed)
        if span is not None:
            b.call(self.low.rt("fl_trace_add"), [self.const(self.low.site(span, self.name))])
        b.branch(self.current_landing())
        b.position_at_end(ok)
        return resumed

    def or_resumed(self, res: ir.Value, span: Span | None) -> ir.Value:
        """The result of a call of program code: `res`, or when the call failed (0) the value
        an error:raise clause resumed with (take_resumed)."""
        b = self.b
        fail = self.new_block("call.fail")
        ok = self.new_block("call.ok")
        b.cbranch(b.icmp_unsigned("==", res, self.const(0)), fail, ok)
        done = b.block
        b.position_at_end(fail)
        resumed = self.take_resumed(span)
        resumed_end = b.block
        b.branch(ok)
        b.position_at_end(ok)
        phi = b.phi(I64)
        phi.add_incoming(res, done)
        phi.add_incoming(resumed, resumed_end)
        return phi

    def pending_check(self, v: ir.Value) -> None:
        """Continue only when v != 0; otherwise go to the current landing."""
        ok = self.new_block("ok")
        self.b.cbranch(self.b.icmp_unsigned("==", v, self.const(0)), self.current_landing(), ok)
        self.b.position_at_end(ok)

    def current_landing(self) -> ir.Block:
        if self.landing:
            return self.landing[-1]
        blk = getattr(self, "_ret0", None)
        if blk is None:
            blk = self.new_block("unwind")
            ib = ir.IRBuilder(blk)
            ib.ret(self.const(0))
            self._ret0 = blk
        return blk

    def bool_word(self, v: ir.Value) -> ir.Value:
        """The Bool word of an i1."""
        return self.b.select(v, self.const(abi.FL_TRUE), self.const(abi.FL_FALSE))

    def truthy(self, v: ir.Value) -> ir.Value:
        return self.b.icmp_unsigned(
            "!=", self.b.and_(v, self.const(abi.TRUTH_MASK)), self.const(abi.FL_FALSE)
        )

    def dead(self) -> ir.Value:
        """After a terminator: continue in an unreachable block (removed by LLVM)."""
        blk = self.new_block("dead")
        self.b.position_at_end(blk)
        return self.const(abi.FL_NIL)

    def poll(self) -> None:
        flag = self.b.load_atomic(self.low.rt_global("fl_rt_poll"), "monotonic", 8, typ=I64)
        flag_any = self.b.icmp_unsigned("!=", flag, self.const(0))
        slow = self.new_block("poll.slow")
        cont = self.new_block("poll.ok")
        self.b.cbranch(flag_any, slow, cont)
        self.b.position_at_end(slow)
        self.sync_depth()
        res = self.b.call(self.low.rt("fl_poll_slow"), [])
        self.b.cbranch(self.b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), cont)
        self.b.position_at_end(cont)

    # ------------------------------------------------------------ unboxed Floats

    def is_fixnum_word(self, w: ir.Value) -> ir.Value:
        if self.is_known_fixnum(w):
            return ir.Constant(I1, 1)
        flag = self.fix_flag(w)
        return flag if flag is not None else self.tag_is_fixnum(w)

    def is_float_word(self, w: ir.Value) -> ir.Value:
        return self.b.icmp_unsigned("==", self.b.and_(w, self.const(7)), self.const(2))

    def unbox(self, w: ir.Value) -> ir.Value:
        """The double of a word known to be a boxed Float."""
        return self.b.load(self.b.inttoptr(self.b.sub(w, self.const(2)), PTR), typ=DBL)

    def dv_ok(self, dv: _DV) -> ir.Value:
        """i1: the value is a Float (raw or boxed)."""
        if dv.flag is True:
            return ir.Constant(I1, 1)
        if dv.flag is False:
            return self.is_float_word(dv.w)
        return self.b.or_(dv.flag, self.is_float_word(dv.w))

    def _dv_split(
        self, dv: _DV, on_raw: Callable[[], ir.Value], on_word: Callable[[], ir.Value], ty: ir.Type
    ) -> ir.Value:
        if dv.flag is True:
            return on_raw()
        if dv.flag is False:
            return on_word()
        raw = self.new_block("dv.raw")
        word = self.new_block("dv.word")
        join = self.new_block("dv.j")
        self.b.cbranch(dv.flag, raw, word)
        self.b.position_at_end(raw)
        rv = on_raw()
        raw_end = self.b.block
        self.b.branch(join)
        self.b.position_at_end(word)
        wv = on_word()
        word_end = self.b.block
        self.b.branch(join)
        self.b.position_at_end(join)
        phi = self.b.phi(ty)
        phi.add_incoming(rv, raw_end)
        phi.add_incoming(wv, word_end)
        return phi

    def as_word(self, dv: _DV) -> ir.Value:
        """The tagged word of a value: a raw double is boxed here (it escapes)."""
        if dv.flag is True and not (isinstance(dv.w, ir.Constant) and dv.w.constant == 0):
            return dv.w  # a Float literal's preallocated word
        return self._dv_split(dv, lambda: self.float_box(dv.d, dv.node), lambda: dv.w, I64)

    def float_box(self, d: ir.Value, node: r.PrimApp | None) -> ir.Value:
        """A boxed Float of the double `d` computed by `node`: in the node's slot of this frame
        when escape analysis found that the box dies with the frame and before the node runs
        again (stack_object), else on the heap."""
        slot = self.stack_object(node, 16) if node is not None else None
        if slot is None:
            return self.b.call(self.low.rt("fl_box_float"), [d])
        self.b.store(d, slot)
        return self.b.add(self.b.ptrtoint(slot, I64), self.const(2))

    def as_double(self, dv: _DV) -> ir.Value:
        """The double of a value `dv_ok` said is a Float."""
        return self._dv_split(dv, lambda: dv.d, lambda: self.unbox(dv.w), DBL)

    def word_dv(self, w: ir.Value) -> _DV:
        return _DV(False, ir.Constant(DBL, 0.0), w)

    def may_be(self, e: r.RExpr, kind: str) -> bool:
        """The inferred type of `e` does not rule out `kind` (always, without types)."""
        types = self.low.types
        if types is None or self.is_prelude:
            return True
        return types.type_of(e).has(kind)

    def floaty(self, e: r.RExpr) -> bool:
        """Likely a Float computed as a double (a heuristic: every use is guarded)."""
        if self.cold or not self.may_be(e, "Float"):
            return False
        if isinstance(e, c.Lit):
            return type(e.value) is float
        if isinstance(e, r.LocalRef):
            info = self.vars.get(e.var)
            return info is not None and info.dual is not None
        if _is_arith(e):
            leaves = _arith_leaves(e)
            if any(isinstance(x, c.Lit) and type(x.value) is not float for x in leaves):
                return False
            return any(self.floaty(x) for x in leaves)
        return False

    def has_dual_leaf(self, e: r.RExpr) -> bool:
        for x in _arith_leaves(e):
            if isinstance(x, r.LocalRef):
                info = self.vars.get(x.var)
                if info is not None and info.dual is not None:
                    return True
        return False

    def load_dv(self, var: r.Var, span: Span) -> _DV:
        info = self.var_info(var)
        assert info.dual is not None
        fslot, dslot = info.dual
        d = self.b.load(dslot, typ=DBL)
        if fslot is None:
            return _DV(True, d, self.const(0))
        flag = self.b.load(fslot, typ=I1)
        w = self.b.load(info.where, typ=I64)
        if info.is_group:
            w = self.check_bound(w, var.name, span)
        return _DV(flag, d, w)

    def store_dv(self, info: _Var, dv: _DV) -> None:
        assert info.dual is not None
        fslot, dslot = info.dual
        assert fslot is not None
        flag = dv.flag if not isinstance(dv.flag, bool) else ir.Constant(I1, int(dv.flag))
        self.b.store(flag, fslot)
        if dv.flag is not False:
            self.b.store(dv.d, dslot)
        self.b.store(dv.w if dv.flag is not True else self.const(0), info.where)

    def dexpr(self, e: r.RExpr) -> _DV:
        """Lower `e` keeping a Float result as a raw double where the lowering can."""
        if isinstance(e, c.Lit) and type(e.value) is float:
            return _DV(True, ir.Constant(DBL, e.value), self.low.const_word(self.b, e.value))
        if isinstance(e, r.LocalRef):
            info = self.vars.get(e.var)
            if info is not None and info.dual is not None:
                return self.load_dv(e.var, e.span)
        if isinstance(e, r.PrimApp) and _is_arith(e) and (self.floaty(e) or self.has_dual_leaf(e)):
            return self.dtree(e)
        return self.word_dv(self.value(e))

    def dtree(self, e: r.PrimApp) -> _DV:
        dv = self._dtree(e)
        dv.node = e
        return dv

    def _dtree(self, e: r.PrimApp) -> _DV:
        """A tree of two-argument `+ - * /`: the leaves are evaluated in order, then, when all
        are Floats, the tree is computed in doubles (the result stays a raw double); otherwise
        operation by operation as usual (same results, errors and sites: the operations
        themselves have no effects, so a zero divisor met in doubles starts them over). Leaves
        known to be fixnums convert to doubles when every operation has a Float operand (Int
        with Float is Float of the converted Int, as in the VM; Int with Int stays exact)."""
        if not _tree_in_order(e, self.quiet_leaf):
            return self.arith_in_order(e)
        leaves = [self.dexpr(x) for x in _arith_leaves(e)]
        b = self.b
        fixleaf = [lf.flag is False and self.is_known_fixnum(lf.w) for lf in leaves]
        if any(fixleaf):
            fpos = iter(fixleaf)

            def floaty_node(node: r.RExpr) -> tuple[bool, bool]:
                """(the node is a Float on the fast path, every operation below has one)"""
                if _is_arith(node):
                    assert isinstance(node, r.PrimApp)
                    (fx, okx), (fy, oky) = floaty_node(node.args[0]), floaty_node(node.args[1])
                    return fx or fy, okx and oky and (fx or fy)
                return not next(fpos), True

            if not floaty_node(e)[1]:
                fixleaf = [False] * len(leaves)
        all_float: ir.Value = ir.Constant(I1, 1)
        for leaf, fixed in zip(leaves, fixleaf, strict=True):
            if leaf.flag is not True and not fixed:
                all_float = b.and_(all_float, self.dv_ok(leaf))
        slow: ir.Block | None = None
        if not (isinstance(all_float, ir.Constant) and not _has_division(e)):
            # else every leaf is a raw double or a converted fixnum, and no division can send
            # the tree the generic way: there is no generic tree at all
            fast = self.new_block("ftree")
            slow = self.new_block("gtree")
            b.cbranch(all_float, fast, slow)
            b.position_at_end(fast)
        pos = iter(zip(leaves, fixleaf, strict=True))

        def doubles(node: r.RExpr) -> ir.Value:
            if _is_arith(node):
                assert isinstance(node, r.PrimApp)
                x, y = doubles(node.args[0]), doubles(node.args[1])
                op = primitives.lookup(node.name)
                assert op is not None
                if op.name == "/":  # a zero divisor (either sign) raises: the generic way
                    assert slow is not None
                    nonzero = self.b.fcmp_unordered("!=", y, ir.Constant(DBL, 0.0))
                    go = self.new_block("fdiv")
                    self.b.cbranch(nonzero, go, slow)
                    self.b.position_at_end(go)
                    return self.b.fdiv(x, y)
                return {"+": self.b.fadd, "-": self.b.fsub, "*": self.b.fmul}[op.name](x, y)
            leaf, fixed = next(pos)
            if fixed:
                return self.b.sitofp(self.b.ashr(leaf.w, self.const(1)), DBL)
            return self.as_double(leaf)

        if slow is None:
            return _DV(True, doubles(e), self.const(0))
        fast_v = doubles(e)
        fast_end = self.b.block
        join = self.new_block("tree.j")
        self.b.branch(join)
        self.b.position_at_end(slow)
        gpos = iter(leaves)
        # every leaf a double (and every operation with a Float operand): only a zero divisor
        # comes this way, which raises, so it is cold and the tree stays a raw double
        all_raw = isinstance(all_float, ir.Constant)
        was_cold = self.cold
        self.cold = was_cold or all_raw

        def generic(node: r.RExpr) -> ir.Value:
            if _is_arith(node):
                assert isinstance(node, r.PrimApp)
                x, y = generic(node.args[0]), generic(node.args[1])
                op = primitives.lookup(node.name)
                assert op is not None
                if op.name == "/":
                    return self.builtin_call(op.name, [x, y], node.span)
                return self.binary(op.name, x, y, node.span, node=node)
            return self.as_word(next(gpos))

        slow_v = generic(e)
        self.cold = was_cold
        slow_d = self.unbox(slow_v) if all_raw else ir.Constant(DBL, 0.0)
        slow_end = self.b.block
        self.b.branch(join)
        self.b.position_at_end(join)
        d = self.b.phi(DBL)
        d.add_incoming(fast_v, fast_end)
        d.add_incoming(slow_d, slow_end)
        if all_raw:
            return _DV(True, d, self.const(0))
        flag = self.b.phi(I1)
        flag.add_incoming(ir.Constant(I1, 1), fast_end)
        flag.add_incoming(ir.Constant(I1, 0), slow_end)
        w = self.b.phi(I64)
        w.add_incoming(self.const(0), fast_end)
        w.add_incoming(slow_v, slow_end)
        return _DV(flag, d, w)

    def is_dcompare(self, e: r.RExpr) -> bool:
        if not isinstance(e, r.PrimApp) or len(e.args) != 2:
            return False
        prim = primitives.lookup(e.name)
        if prim is None or prim.kind is not PrimKind.FUNCTION or prim.name not in _ICMP:
            return False
        return any(self.floaty(a) or (_is_arith(a) and self.has_dual_leaf(a)) for a in e.args)

    def dcompare(self, e: r.PrimApp, word: bool = False) -> ir.Value:
        """A comparison with a Float operand computed as a double: an i1 (its truth), or with
        `word` its value (a Bool, or the value an error:raise clause resumed its error with)."""
        prim = primitives.lookup(e.name)
        assert prim is not None
        x = self.dexpr(e.args[0])
        y = self.dexpr(e.args[1])
        b = self.b

        def result(v: ir.Value) -> ir.Value:
            return self.bool_word(v) if word else v

        if x.flag is True and y.flag is True:  # two raw doubles: no generic comparison
            return result(b.fcmp_ordered(_ICMP[prim.name], x.d, y.d))
        ok = b.and_(self.dv_ok(x), self.dv_ok(y))
        flt = self.new_block("fcmp")
        gen = self.new_block("gcmp")
        join = self.new_block("cmp.j")
        b.cbranch(ok, flt, gen)
        b.position_at_end(flt)
        fv = result(self.b.fcmp_ordered(_ICMP[prim.name], self.as_double(x), self.as_double(y)))
        flt_end = self.b.block
        self.b.branch(join)
        self.b.position_at_end(gen)
        wx = self.as_word(x)
        wy = self.as_word(y)
        gv = self.binary(prim.name, wx, wy, e.span)
        if not word:
            gv = self.truthy(gv)
        gen_end = self.b.block
        self.b.branch(join)
        self.b.position_at_end(join)
        phi = self.b.phi(I64 if word else I1)
        phi.add_incoming(fv, flt_end)
        phi.add_incoming(gv, gen_end)
        return phi

    def test(self, e: r.RExpr) -> ir.Value:
        """The truth of a branch test as an i1 (a Float comparison never makes a boolean)."""
        if self.is_dcompare(e):
            assert isinstance(e, r.PrimApp)
            return self.dcompare(e)
        if isinstance(e, r.PrimApp):
            prim = primitives.lookup(e.name)
            if prim is not None and prim.kind is PrimKind.FUNCTION:
                if prim.name in _ICMP and len(e.args) == 2:
                    x = self.value(e.args[0])
                    y = self.value(e.args[1])
                    return self.compare(prim.name, x, y, e.span, self.floats(e.args))
                if prim.name == "not" and len(e.args) == 1:
                    return self.b.not_(self.test(e.args[0]))
        if isinstance(e, r.Scope):
            split = _and_or(e)
            if split is not None:
                return self.and_or_test(*split)
        return self.truthy(self.value(e))

    def and_or_test(self, first: r.RExpr, then: r.RExpr | None, else_: r.RExpr | None) -> ir.Value:
        """The truth of `(and first then)` or `(or first else_)` (`_and_or`) as an i1, each
        operand a test of its own: no boolean word is made for `(if (or (= a b) (< c d)) ...)`.
        A missing operand is `first` itself, whose truth its branch knows."""
        b = self.b
        t = self.test(first)
        then_b = self.new_block("test.then")
        else_b = self.new_block("test.else")
        join = self.new_block("test.join")
        b.cbranch(t, then_b, else_b)
        then_facts, else_facts = bounds.branch_facts(first)
        incoming: list[tuple[ir.Value, ir.Block]] = []
        for blk, branch, facts, known in (
            (then_b, then, then_facts, 1),
            (else_b, else_, else_facts, 0),
        ):
            b.position_at_end(blk)
            if branch is None:
                v: ir.Value = ir.Constant(I1, known)
            else:
                with bounds.facts(self, facts):
                    v = self.test(branch)
            incoming.append((v, b.block))
            b.branch(join)
        b.position_at_end(join)
        phi = b.phi(I1)
        for v, blk in incoming:
            phi.add_incoming(v, blk)
        return phi

    # ------------------------------------------------------------ function shapes

    def top_forms(self, forms: Sequence[tuple[r.RExpr, bool]]) -> None:
        value: ir.Value = self.const(abi.FL_NIL)
        for form, is_definition in forms:
            value = self.expr(form, False)
            if self.low.print_values and not is_definition and not self.is_prelude:
                self._print_written(value)
        if self.low.print_result and not self.is_prelude:
            self._print_written(value)
        self.b.ret(self.const(abi.FL_NIL))
        self.finish()

    def _print_written(self, value: ir.Value) -> None:
        """A top-level value under -p or eval: on a line of its own, nothing for nil (§16)."""
        self.b.call(self.low.rt("fl_print_top_value"), [value])

    def lambda_body(self) -> None:
        lam = self.lam
        assert lam is not None
        clo, argc, *regs, rest = self.fn.args
        self.clo = clo
        self.check_arity(argc)
        rest_list = None
        if lam.rest is not None:
            rest_list = self.b.call(
                self.low.rt("fl_rest_list"), [argc, self.const(len(lam.params)), *regs, rest]
            )
        self.params_and_body(self.generic_params(regs, rest), rest_list)

    def known_wrapper_body(self, kfn: ir.Function) -> None:
        """The generic entry of a function with a known entry: checks the arity, then calls the
        known entry as a tail call."""
        lam = self.lam
        assert lam is not None
        _clo, argc, *regs, rest = self.fn.args
        self.check_arity(argc)
        args = self.generic_params(regs, rest)
        self.b.ret(self.b.call(kfn, args, cconv="tailcc", tail="tail"))
        self.finish()

    def known_body(self, clo: ir.GlobalVariable) -> None:
        """The known entry `.k` of a known function: its parameters, no closure (the static
        one), no argument count."""
        self.clo = clo.bitcast(PTR) if clo.type != PTR else clo
        lam = self.lam
        assert lam is not None
        plan = None
        gname = self.low.known.get(id(lam))
        if not self.is_prelude and gname is not None:
            plan = accumulate.plan_accumulation(lam, gname, self.low.types)
            raw_entry = self.low.rentries.get(gname)
            if raw_entry is not None:
                rawentry.dispatch(self, *raw_entry)

        def body(gen: _FnGen) -> None:
            if plan is not None:
                accumulate.lower_accumulating(gen, plan, list(gen.fn.args))
            else:
                gen.params_and_body(list(gen.fn.args), None)

        if not quickexit.quick_exit_entry(self, body):
            body(self)

    def check_arity(self, argc: ir.Value) -> None:
        """Return the arity error unless argc suits the lambda (and, for a builtin written in
        FluentAI, its table arity, §1.3)."""
        lam = self.lam
        assert lam is not None
        b = self.b
        lo = len(lam.params)
        bad = self.new_block("arity")
        ok = self.new_block("args")
        if lam.rest is None:
            cond = b.icmp_unsigned("!=", argc, self.const(lo))
        else:
            cond = b.icmp_signed("<", argc, self.const(lo))
        shown_lo, shown_hi = lo, (None if lam.rest is not None else lo)
        builtin = _prelude_builtin(lam.name) if self.is_prelude else None
        if builtin is not None:  # a builtin written in FluentAI: its table arity (§1.3)
            shown_lo, shown_hi = builtin.arity
            cond = b.or_(cond, b.icmp_signed("<", argc, self.const(shown_lo)))
            if shown_hi is not None:
                cond = b.or_(cond, b.icmp_signed(">", argc, self.const(shown_hi)))
        b.cbranch(cond, bad, ok)
        b.position_at_end(bad)
        b.ret(
            b.call(
                self.low.rt("fl_raise_arity"),
                [
                    self.low.cstring(lam.name),
                    self.const(shown_lo),
                    self.const(-1 if shown_hi is None else shown_hi),
                    argc,
                ],
            )
        )
        b.position_at_end(ok)

    def generic_params(self, regs: Sequence[ir.Value], rest: ir.Value) -> list[ir.Value]:
        """The lambda's fixed parameters as passed to a generic entry (after the arity check)."""
        lam = self.lam
        assert lam is not None
        values: list[ir.Value] = []
        for i in range(len(lam.params)):
            if i < abi.REG_ARGS:
                values.append(regs[i])
            else:
                item = self.b.gep(rest, [self.const(8 + 8 * (i - abi.REG_ARGS))], source_etype=I8)
                values.append(self.b.load(item, typ=I64))
        return values

    def bind_params(self, values: Sequence[ir.Value], fn: r.Fn | None = None) -> list[ir.Value]:
        """Store `values` in a stack slot per parameter of `fn` (default: the lambda being
        built) and bind the parameters to them; the slots, in order."""
        lam = fn if fn is not None else self.lam
        assert lam is not None
        slots = []
        for p, val in zip(lam.params, values, strict=True):
            slot = self.alloca(p.name)
            slots.append(slot)
            self.b.store(val, slot)
            self.vars[p] = _Var("local", slot, False, False, p.name)
        return slots

    def params_and_body(self, values: Sequence[ir.Value], rest_list: ir.Value | None) -> None:
        """Bind the parameters to `values` (and the rest parameter), then the body, whose self
        tail calls jump back to its head."""
        lam = self.lam
        assert lam is not None
        b = self.b
        for i, var in enumerate(lam.free):
            self.vars[var] = _Var("free", i, var.boxed, var.is_group, var.name)
        slots = self.bind_params(values)
        if lam.rest is not None:
            assert rest_list is not None
            slot = self.alloca(lam.rest.name)
            b.store(rest_list, slot)
            self.vars[lam.rest] = _Var("local", slot, False, False, lam.rest.name)
        self.loop = _Loop(lam, slots)
        self.loop_body(self.loop, True)
        self.finish()

    def loop_body(self, loop: _Loop, tail: bool) -> ir.Value | None:
        """The body of a self-tail-call loop after its parameters' slots are filled: its head,
        then (for Float loops) the specialized copy, then the generic body. In tail position
        the body returns; otherwise its value (None when no path leaves the loop)."""
        b = self.b
        lam = loop.fn
        head = self.new_block("body")
        b.branch(head)
        b.position_at_end(head)
        loop.head = head
        # box captured-and-assigned parameters (afresh on every self-tail iteration)
        for p in (*lam.params, *([lam.rest] if lam.rest else [])):
            if p.boxed:
                info = self.vars[p]
                raw = b.load(info.where, typ=I64)
                box_slot = self.alloca(p.name + ".box")
                b.store(self.make_box(raw), box_slot)
                self.vars[p] = _Var("local", box_slot, True, False, p.name)
        incoming: list[tuple[ir.Value, ir.Block]] = []
        self_ref = self._loop_self_ref(loop)
        cands = [] if self.is_prelude else _float_loop_params(lam, self_ref)
        types = self.low.types
        if cands and types is not None:  # not the parameters inferred to be no Float
            params, _result = types.signature(lam)
            cands = [i for i in cands if params[i].has("Float")]
        int_cands: list[int] = []
        invariants: list[tuple[r.Var, str]] = []
        if types is not None and not self.is_prelude and _spec_loop_ok(lam, self_ref):
            params, _result = types.signature(lam)
            int_cands = [
                i
                for i, p in enumerate(lam.params)
                if i not in cands
                and not (p.captured or p.assigned)
                and params[i].only("Int")
                and not params[i].is_never
            ]
            invariants = self.loop_invariants(lam)
        was_cold = self.cold
        if (cands or int_cands) and not was_cold:
            out = self.specialized_loop(loop, cands, tail, int_cands, invariants)
            if out is not None:
                incoming.append(out)
            self.cold = True
        value = self.expr(lam.body, tail)
        self.cold = was_cold
        if value is not None:
            if tail:
                self.b.ret(value)
            else:
                incoming.append((value, self.b.block))
        if tail:
            return None
        if len(incoming) <= 1:
            return incoming[0][0] if incoming else None
        return self._merge(incoming, self.new_block("loop.exit"))

    def _loop_self_ref(self, loop: _Loop) -> Callable[[r.Fn, Any], bool]:
        if loop.var is not None:
            var = loop.var
            return lambda _lam, e: isinstance(e, r.LocalRef) and e.var is var
        return self._is_self_ref

    def _is_self_ref(self, lam: r.Fn, e: r.RExpr) -> bool:
        """`e` may name this lambda (a self tail call; checked at run time anyway)."""
        if isinstance(e, r.LocalRef):
            return e.var in lam.free and e.var.is_group
        if isinstance(e, r.GlobalRef):
            if self.low.kentries.get(e.name) is self.fn:
                return True
            known = self.low.known_target(e.name)
            return known is not None and known[0] is self.fn
        return False

    def loop_invariants(self, lam: r.Fn) -> list[tuple[r.Var, str]]:
        """Variables from outside a loop body that it reads but never sets, whose every read
        there is inferred a Float (kind "Float") or an Int ("Int"): the specialized copy
        checks them once on entry and knows them from then on."""
        types = self.low.types
        assert types is not None
        params = set(lam.params)
        if lam.rest is not None:
            params.add(lam.rest)
        set_here: set[r.Var] = set()
        refs: dict[r.Var, list[r.LocalRef]] = {}
        for n in r.walk(lam.body):
            if isinstance(n, r.LocalSet):
                set_here.add(n.var)
            elif isinstance(n, r.LocalRef) and n.var not in params:
                refs.setdefault(n.var, []).append(n)
        out: list[tuple[r.Var, str]] = []
        for v, uses in refs.items():
            info = self.vars.get(v)
            if (
                v in set_here
                or v.assigned
                or v.boxed
                or v.is_group
                or info is None
                or info.boxed
                or info.dual is not None
                or info.fixnum
                or info.where is None
            ):
                continue
            kinds = [types.type_of(u) for u in uses]
            for kind in ("Float", "Int"):
                if all(t.only(kind) and not t.is_never for t in kinds):
                    out.append((v, kind))
        return out

    def specialized_loop(
        self,
        loop: _Loop,
        cands: list[int],
        tail: bool,
        int_cands: Sequence[int] = (),
        invariants: Sequence[tuple[r.Var, str]] = (),
    ) -> tuple[ir.Value, ir.Block] | None:
        """A self-tail-call loop whose Float parameters `cands` live as raw doubles and whose
        Int parameters `int_cands` are fixnums: when they all are at the loop head (and the
        `invariants` from outside the loop are of their kinds), run a second copy of the body
        where they are doubles (boxed only where they escape) and known fixnums (no tag tests);
        its self tail calls come back to it when the new values are of those kinds, else to
        the generic loop head. Leaves the builder at the generic body; returns the copy's value
        and block when not in tail position."""
        lam = loop.fn
        assert loop.head is not None
        b = self.b
        ok: ir.Value = ir.Constant(I1, 1)
        for i in cands:
            ok = b.and_(ok, self.is_float_word(b.load(loop.slots[i], typ=I64)))
        for i in int_cands:
            ok = b.and_(ok, self.is_fixnum_word(b.load(loop.slots[i], typ=I64)))
        inv_words: list[ir.Value] = []
        for v, kind in invariants:
            w = b.load(self._var_cell(self.vars[v]), typ=I64)
            inv_words.append(w)
            ok = b.and_(ok, self.is_float_word(w) if kind == "Float" else self.is_fixnum_word(w))
        spec_entry = self.new_block("spec.entry")
        generic = self.new_block("generic.body")
        b.cbranch(ok, spec_entry, generic)
        restart = None
        if not cands and not any(p.boxed for p in (*lam.params, *([lam.rest] if lam.rest else []))):
            # specialized on Ints only: once left (an Int needed a bignum), the loop stays
            # generic, so the copy is not nested in a loop through the generic body, and LLVM
            # sees its induction variables start where the loop starts
            loop.back = generic
            if _pure_loop_body(lam, self._loop_self_ref(loop)):
                # nothing an iteration does is seen before its self tail call: an overflow
                # runs it again, generically, instead of joining a bignum into the copy
                restart = generic
        b.position_at_end(spec_entry)
        dslots: dict[int, ir.Value] = {}
        for i in cands:
            p = lam.params[i]
            dslots[i] = self.alloca_b.alloca(DBL, name=p.name + ".d")
            b.store(self.unbox(b.load(loop.slots[i], typ=I64)), dslots[i])
        saved = {p: self.vars[p] for p in lam.params}
        saved.update({v: self.vars[v] for v, _kind in invariants})
        for (v, kind), w in zip(invariants, inv_words, strict=True):
            if kind == "Float":
                dslot = self.alloca_b.alloca(DBL, name=v.name + ".d")
                b.store(self.unbox(w), dslot)
                info = _Var("local", None, False, False, v.name)
                info.dual = (None, dslot)
                self.vars[v] = info
            else:
                self.vars[v] = self.vars[v].known_fixnum()
        spec_head = self.new_block("spec.body")
        b.branch(spec_head)
        b.position_at_end(spec_head)
        for i in cands:
            p = lam.params[i]
            info = _Var("local", None, False, False, p.name)
            info.dual = (None, dslots[i])
            self.vars[p] = info
        for i in int_cands:
            p = lam.params[i]
            self.vars[p] = self.vars[p].known_fixnum()
        loop.spec = (cands, dslots, spec_head, list(int_cands))
        loop.restart = restart
        value = self.expr(lam.body, tail)
        out = None
        if value is not None:
            if tail:
                self.b.ret(value)
            else:
                out = (value, self.b.block)
        loop.spec = None
        loop.restart = None
        self.vars.update(saved)
        self.b.position_at_end(generic)
        return out

    def self_loop(self, args: list[ir.Value] | None, dargs: list[_DV] | None) -> None:
        """A self tail call: store the new parameter values and jump back to the loop head."""
        loop = self.loop
        assert loop is not None and loop.head is not None
        if loop.spec is None or dargs is None:
            words = args if args is not None else [self.as_word(d) for d in (dargs or [])]
            for slot, v in zip(loop.slots, words, strict=True):
                self.b.store(v, slot)
            self.poll()
            self.b.branch(loop.back or loop.head)
            return
        cands, dslots, spec_head, int_cands = loop.spec
        ok: ir.Value = ir.Constant(I1, 1)
        for i in cands:
            if dargs[i].flag is not True:
                ok = self.b.and_(ok, self.dv_ok(dargs[i]))
        for i in int_cands:
            dv = dargs[i]
            if dv.flag is False and not self.is_known_fixnum(dv.w):
                ok = self.b.and_(ok, self.is_fixnum_word(dv.w))
            elif dv.flag is not False:
                ok = ir.Constant(I1, 0)  # maybe a raw double: not a fixnum here
        stay = self.new_block("spec.loop")
        leave = self.new_block("spec.leave")
        self.b.cbranch(ok, stay, leave)
        self.b.position_at_end(stay)
        for i, dv in enumerate(dargs):
            if i in dslots:
                self.b.store(self.as_double(dv), dslots[i])
            else:
                self.b.store(self.as_word(dv), loop.slots[i])
        self.poll()
        self.b.branch(spec_head)
        self.b.position_at_end(leave)
        words = [self.as_word(dv) for dv in dargs]
        for slot, v in zip(loop.slots, words, strict=True):
            self.b.store(v, slot)
        self.poll()
        self.b.branch(loop.back or loop.head)

    def own_loop(self, nargs: int) -> bool:
        """A self tail call of the function with nargs arguments can jump to its loop head
        (not from inside an inlined named let, whose loop is another, nor in a raw entry, whose
        raw parameters have no word slot: fluentai/llvm/rawentry.py)."""
        loop = self.loop
        return (
            loop is not None
            and loop.var is None
            and loop.head is not None
            and loop.fn.rest is None
            and nargs == len(loop.fn.params)
            and all(slot is not None for slot in loop.slots)
        )

    # ------------------------------------------------------------ variables

    def make_box(self, value: ir.Value) -> ir.Value:
        obj = self.b.call(self.low.rt("fl_alloc"), [self.const(16)])
        self.b.store(self.const(abi.header(abi.T_BOX)), obj)
        self.b.store(value, self.b.gep(obj, [self.const(8)], source_etype=I8))
        return self.b.ptrtoint(obj, I64)

    def _free_addr(self, index: int) -> ir.Value:
        assert self.clo is not None
        return self.b.gep(self.clo, [self.const(16 + 8 * index)], source_etype=I8)

    def _var_cell(self, info: _Var) -> ir.Value:
        """Address holding the variable's value (inside its box when boxed)."""
        if info.kind == "local":
            addr: ir.Value = info.where
        else:
            addr = self._free_addr(info.where)
        if info.boxed:
            box = self.b.load(addr, typ=I64)
            addr = self.b.gep(self.b.inttoptr(box, PTR), [self.const(8)], source_etype=I8)
        return addr

    def var_info(self, var: r.Var) -> _Var:
        info = self.vars.get(var)
        if info is None:
            # a variable of this function not declared yet (pattern or temp): allocate
            slot = self.alloca(var.name)
            info = _Var("local", slot, False, var.is_group, var.name)
            self.vars[var] = info
        return info

    def load_var(self, var: r.Var, span: Span) -> ir.Value:
        info = self.var_info(var)
        if info.dual is not None:  # a raw double escapes: box it
            dv = self.load_dv(var, span)
            dv.node = info.box_site
            return self.as_word(dv)
        value = self.b.load(self._var_cell(info), typ=I64)
        if info.is_group:
            value = self.check_bound(value, var.name, span)
        if info.fixnum:
            self.fixvals[id(value)] = value
        return value

    def is_known_fixnum(self, v: ir.Value) -> bool:
        """`v` is a fixnum word: a fixnum constant, or a value lowering proved one."""
        if isinstance(v, ir.Constant):
            return isinstance(v.constant, int) and v.constant & 1 == 1
        return self.fixvals.get(id(v)) is v

    def fix_flag(self, v: ir.Value) -> ir.Value | None:
        """The "is a fixnum" i1 recorded with an arithmetic result, if any."""
        got = self.fixflags.get(id(v))
        return got[1] if got is not None and got[0] is v else None

    def fixnums(self, x: ir.Value, y: ir.Value) -> ir.Value:
        """i1: both words are fixnums (no test for a word known to be one; the recorded flag
        of an arithmetic result)."""
        tests = [v for v in (x, y) if not self.is_known_fixnum(v)]
        if not tests:
            return ir.Constant(I1, 1)
        flags = [self.fix_flag(v) for v in tests]
        if len(tests) == 2 and flags[0] is None and flags[1] is None:
            both = self.b.and_(self.b.and_(x, y), self.const(1))
            return self.b.icmp_unsigned("!=", both, self.const(0))
        out: ir.Value | None = None
        for v, f in zip(tests, flags, strict=True):
            t = f if f is not None else self.tag_is_fixnum(v)
            out = t if out is None else self.b.and_(out, t)
        assert out is not None
        return out

    def tag_is_fixnum(self, w: ir.Value) -> ir.Value:
        return self.b.icmp_unsigned("!=", self.b.and_(w, self.const(1)), self.const(0))

    def record_fix_flag(self, phi: ir.Value, incoming: list[tuple[ir.Value, ir.Block]]) -> None:
        """Give `phi` (a join of the blocks of `incoming`, the builder at its block) an i1 phi
        "is a fixnum": true where the incoming value is known to be one, tested elsewhere (in
        the incoming block, before its terminator)."""
        flags: list[tuple[ir.Value, ir.Block]] = []
        for v, blk in incoming:
            if self.is_known_fixnum(v):
                flags.append((ir.Constant(I1, 1), blk))
                continue
            ib = ir.IRBuilder(blk)
            term = blk.terminator
            assert term is not None
            ib.position_before(term)
            test = ib.icmp_unsigned("!=", ib.and_(v, self.const(1)), self.const(0))
            flags.append((test, blk))
        fphi = self.b.phi(I1)
        for f, blk in flags:
            fphi.add_incoming(f, blk)
        self.fixflags[id(phi)] = (phi, fphi)

    def check_bound(self, value: ir.Value, name: str, span: Span) -> ir.Value:
        unbound = self.b.icmp_unsigned("==", value, self.const(abi.FL_UNBOUND))
        bad = self.new_block("unbound")
        join = self.new_block("bound")
        cur = self.b.block
        self.b.cbranch(unbound, bad, join)
        self.b.position_at_end(bad)
        self.set_site(span)
        res = self.b.call(self.low.rt("fl_raise_unbound"), [self.low.cstring(name)])
        bad_end = self.b.block
        self.b.cbranch(self.b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), join)
        self.b.position_at_end(join)
        phi = self.b.phi(I64)
        phi.add_incoming(value, cur)
        phi.add_incoming(res, bad_end)
        return phi

    def store_var(self, var: r.Var, value: ir.Value) -> None:
        info = self.var_info(var)
        if info.dual is not None:
            self.store_dv(info, self.word_dv(value))
            return
        self.b.store(value, self._var_cell(info))

    # ------------------------------------------------------------ expressions

    def expr(self, e: r.RExpr, tail: bool) -> ir.Value | None:  # noqa: C901
        """Lower `e`; in tail position the result may be returned here (then None)."""
        b = self.b
        match e:
            case c.Lit(value=value):
                return self.low.const_word(b, value)
            case r.LocalRef(var=var, span=span):
                return self.load_var(var, span)
            case r.GlobalRef():
                return self.global_ref(e)
            case r.BuiltinRef(name=name):
                return self.builtin_value(name)
            case r.CtorRef(name=name):
                cid = self.low.u.ctor_ids[name]
                if not self.low.u.ctors[cid].fields:
                    res = b.call(
                        self.low.rt("fl_adt_new"), [self.const(cid), ir.Constant(PTR, None)]
                    )
                    return res
                return self.low.ctor_closure(name)
            case r.EffectRef(op=op):
                return self.low.effect_closure(op)
            case r.LocalSet(var=var, value=value):
                info = self.vars.get(var)
                if info is not None and info.dual is not None and info.dual[0] is not None:
                    self.store_dv(info, self.dexpr(value))
                    return self.const(abi.FL_NIL)
                v = self.value(value)
                self.store_var(var, v)
                return self.const(abi.FL_NIL)
            case r.GlobalSet():
                return self.global_set(e)
            case r.Scope(vars=vars_, body=body):
                defs = _scope_defs(vars_, body)
                for var in vars_:
                    slot = self.alloca(var.name)
                    if var.boxed:
                        b.store(self.make_box(self.const(abi.FL_UNBOUND)), slot)
                    else:
                        b.store(self.const(abi.FL_UNBOUND), slot)
                    info = _Var("local", slot, var.boxed, True, var.name)
                    value = defs.get(var)
                    if value is not None and self.floaty(value):
                        # a Float variable: its definition may leave it a raw double
                        fslot = self.alloca_b.alloca(I1, name=var.name + ".isd")
                        dslot = self.alloca_b.alloca(DBL, name=var.name + ".d")
                        b.store(ir.Constant(I1, 0), fslot)
                        info.dual = (fslot, dslot)
                        if _is_arith(value):
                            assert isinstance(value, r.PrimApp)
                            info.box_site = value
                    self.vars[var] = info
                return self.scope_body(defs, body, tail)
            case r.Fn():
                return self.closure(e)
            case r.RCall():
                return self.call(e, tail)
            case r.PrimApp():
                return self.prim_app(e, tail)
            case r.CtorApp(name=name, args=args, span=span):
                argv = self.args_array(args)
                self.set_site(span)
                cid = self.low.u.ctor_ids[name]
                arity = len(self.low.u.ctors[cid].fields)
                mem = self.stack_object(e, 8 + 8 * arity) if arity == len(args) > 0 else None
                if mem is None:
                    res = b.call(self.low.rt("fl_adt_new"), [self.const(cid), argv])
                else:
                    res = b.call(self.low.rt("fl_adt_init"), [self.const(cid), argv, mem])
                self.pending_check(res)
                return res
            case r.RIf():
                return self.if_(e, tail)
            case r.RSeq(exprs=exprs):
                return self.body(exprs, tail)
            case r.RWhile():
                return self.while_(e)
            case r.RMatch():
                return self.match(e, tail)
            case r.RHandle():
                return self.handle(e)
            case r.RPerform(op=op, args=args, span=span):
                argv = self.args_array(args)
                self.set_site(span)
                if self.is_prelude and op == "error:raise":  # a builtin's check: §14.4
                    res = b.call(self.low.rt("fl_prelude_raise"), [self.const(len(args)), argv])
                    self.pending_check(res)
                    return res
                res = self.low._perform_call(
                    b, op, self.const(len(args)), argv, tail=tail and not self.is_prelude
                )
                self.perform_check(res)
                return res
            case r.RTry():
                return self.try_(e)
            case r.RAscribe(expr=inner, type=ty, span=span):
                from fluentai.vm.patterns import type_text

                v = self.value(inner)
                if isinstance(ty, c.TVar) or ty.name == "Any":
                    return v
                self.set_site(span)
                res = b.call(self.low.rt("fl_check_type"), [v, self.low.cstring(type_text(ty))])
                self.pending_check(res)
                return res
        raise AssertionError(f"unexpected resolved node {e!r}")

    def value(self, e: r.RExpr) -> ir.Value:
        """Lower `e` in non-tail position: always a value (possibly in a dead block)."""
        v = self.expr(e, False)
        return v if v is not None else self.dead()

    def scope_body(
        self, defs: dict[r.Var, Any], exprs: Sequence[r.RExpr], tail: bool
    ) -> ir.Value | None:
        """A Scope's body. Past the definition of one of `defs` (defined once at the top of the
        body, never assigned or captured), the variable is bound: its uses check nothing, and a
        Float definition computed as a raw double leaves it one for good (no flag to test)."""
        for x in exprs[:-1]:
            if not (isinstance(x, r.LocalSet) and x.define and x.var in defs):
                self.value(x)
                continue
            info = self.vars.get(x.var)
            if info is None:
                self.value(x)
                continue
            if info.dual is not None and info.dual[0] is not None:
                dv = self.dexpr(x.value)
                self.store_dv(info, dv)
                if dv.flag is True:
                    info.dual = (None, info.dual[1])
            else:
                self.store_var(x.var, self.value(x.value))
            info.is_group = False
        return self.expr(exprs[-1], tail)

    def body(self, exprs: Sequence[r.RExpr], tail: bool) -> ir.Value | None:
        for x in exprs[:-1]:
            self.value(x)
        return self.expr(exprs[-1], tail)

    def builtin_value(self, name: str) -> ir.Value:
        prim = primitives.lookup(name)
        assert prim is not None, name
        if prim.kind is PrimKind.CONSTANT:
            return self.low.const_word(self.b, prim.value)
        if prim.kind is PrimKind.PRELUDE:
            slot = self.low.global_slot("%prelude:" + prim.name)
            return self.b.load(self._global_addr(slot), typ=I64)
        if prim.kind is PrimKind.EFFECT:
            return self.low.effect_closure(prim.name)
        if prim.kind is PrimKind.INTRINSIC:
            return self.low.static_closure("i:apply", self._apply_wrapper)
        return self.low.builtin_closure(prim.name)

    def _apply_wrapper(self) -> tuple[ir.Function, Any]:
        def body(b: ir.IRBuilder, argc: ir.Value, argv: ir.Value) -> ir.Value | None:
            vec = b.call(
                self.low.rt("fl_apply_args"),
                [b.sub(argc, self.const(1)), b.gep(argv, [self.const(1)], source_etype=I64)],
            )
            fn = b.function
            ok = _block(fn, "apply.ok")
            bad = _block(fn, "apply.bad")
            b.cbranch(b.icmp_unsigned("==", b.ptrtoint(vec, I64), self.const(0)), bad, ok)
            b.position_at_end(bad)
            b.ret(b.call(self.low.rt("fl_take_resumed"), []))  # a clause's value, else 0
            b.position_at_end(ok)
            f = b.load(argv, typ=I64)
            self.low.tail_apply(b, f, vec)
            return None

        return self.low._wrapper("apply", 2, None, "apply", abi.FN_BUILTIN, body)

    def _global_addr(self, slot: int) -> ir.Value:
        base = self.b.load(self.low.globals_ptr, typ=PTR)
        return self.b.gep(base, [self.const(slot)], source_etype=I64)

    def global_ref(self, e: r.GlobalRef) -> ir.Value:
        return self._checked_global(e, "g")[0]

    def _checked_global(self, ref: r.GlobalRef, tag: str) -> tuple[ir.Value, ir.Value]:
        """A global's value, raising `unbound-variable` (or taking the builtin of the same name,
        `fallback`) when it has none yet; and an i1, true when it was bound."""
        slot = self.low.global_slot(ref.name)
        value = self.b.load(self._global_addr(slot), typ=I64)
        unbound = self.b.icmp_unsigned("==", value, self.const(abi.FL_UNBOUND))
        bad = self.new_block(f"{tag}unbound")
        join = self.new_block(f"{tag}bound")
        cur = self.b.block
        self.b.cbranch(unbound, bad, join)
        self.b.position_at_end(bad)
        if ref.fallback is not None:  # a builtin of the same name serves until the define
            res = self.builtin_value(ref.fallback)
            bad_end = self.b.block
            self.b.branch(join)
        else:
            self.set_site(ref.span)
            shown = ref.name.removeprefix("%prelude:")
            res = self.b.call(self.low.rt("fl_raise_unbound"), [self.low.cstring(shown)])
            bad_end = self.b.block
            self.b.cbranch(
                self.b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), join
            )
        self.b.position_at_end(join)
        phi = self.b.phi(I64)
        phi.add_incoming(value, cur)
        phi.add_incoming(res, bad_end)
        flag = self.b.phi(I1)
        flag.add_incoming(ir.Constant(I1, 1), cur)
        flag.add_incoming(ir.Constant(I1, 0), bad_end)
        return phi, flag

    def global_set(self, e: r.GlobalSet) -> ir.Value:
        v = self.value(e.value)
        addr = self._global_addr(self.low.global_slot(e.name))
        if e.define:
            self.b.store(v, addr)
            return self.const(abi.FL_NIL)
        old = self.b.load(addr, typ=I64)
        unbound = self.b.icmp_unsigned("==", old, self.const(abi.FL_UNBOUND))
        bad = self.new_block("setunbound")
        good = self.new_block("setok")
        join = self.new_block("setjoin")
        self.b.cbranch(unbound, bad, good)
        self.b.position_at_end(good)
        self.b.store(v, addr)
        self.b.branch(join)
        self.b.position_at_end(bad)
        self.set_site(e.span)
        res = self.b.call(
            self.low.rt("fl_raise_unbound"), [self.low.cstring(e.name.removeprefix("%prelude:"))]
        )
        bad_end = self.b.block
        self.b.cbranch(self.b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), join)
        self.b.position_at_end(join)
        phi = self.b.phi(I64)
        phi.add_incoming(self.const(abi.FL_NIL), good)
        phi.add_incoming(res, bad_end)
        return phi

    def closure(self, fn: r.Fn) -> ir.Value:
        name = self.low.known.get(id(fn))
        if name is not None:
            return self.low.known_entries[name][1]
        entry, desc = self.low.lambda_fn(fn, self.is_prelude)
        n = len(fn.free)
        obj = self.stack_object(fn, 16 + 8 * n)
        if obj is None:
            obj = self.b.call(self.low.rt("fl_alloc"), [self.const(16 + 8 * n)])
        self.b.store(self.const(abi.header(abi.T_CLOSURE, 0, n)), obj)
        self.b.store(desc, self.b.gep(obj, [self.const(8)], source_etype=I8))
        for i, var in enumerate(fn.free):
            info = self.var_info(var)
            # boxed variables pass their box; others their value (a raw double boxed)
            if info.dual is not None:
                word = self.as_word(self.load_dv(var, fn.span))
            elif info.kind == "local":
                word = self.b.load(info.where, typ=I64)
            else:
                word = self.b.load(self._free_addr(info.where), typ=I64)
            self.b.store(word, self.b.gep(obj, [self.const(16 + 8 * i)], source_etype=I8))
        return self.b.ptrtoint(obj, I64)

    def args_array(self, args: Sequence[r.RExpr]) -> ir.Value:
        values = [self.value(a) for a in args]
        argv = self.argv_alloca(len(values))
        fixed = [isinstance(v, ir.Constant) and isinstance(v.constant, int) for v in values]
        templated = len(values) > _ARGS_TEMPLATE_MIN and sum(fixed) * 2 >= len(values)
        if templated:
            # a big literal ({0 0 1 1 ...}): its constant words are copied from a constant
            # template at once; thousands of stores into one stack array made LLVM's memory
            # passes take minutes (a 20 000-pair map literal: 231 s)
            self.low.u.templates += 1
            ty = ir.ArrayType(I64, len(values))
            template = ir.GlobalVariable(self.low.u.module, ty, f"fl.args.{self.low.u.templates}")
            template.linkage = "private"
            template.global_constant = True
            template.initializer = ir.Constant(
                ty, [v.constant if f else 0 for v, f in zip(values, fixed, strict=True)]
            )
            size = ir.Constant(I64, 8 * len(values))
            self.b.call(self.low._memcpy(), [argv, template, size, ir.Constant(I1, 0)])
        for i, v in enumerate(values):
            if not (templated and fixed[i]):
                self.b.store(v, self.b.gep(argv, [self.const(i)], source_etype=I64))
        return argv

    # ------------------------------------------------------------ calls

    def call(self, e: r.RCall, tail: bool) -> ir.Value | None:
        loop = self.loop
        if (
            loop is not None
            and loop.var is not None
            and isinstance(e.fn, r.LocalRef)
            and e.fn.var is loop.var
        ):  # a call of an inlined named let in its own body: all are in tail position
            args, dargs = self.call_args(e, True)
            self.self_loop(args, dargs)
            return None
        named = None if self.is_prelude else _inlinable_named_let(e, tail)
        if named is not None:
            return self.inline_named_let(e, named, tail)
        if isinstance(e.fn, r.GlobalRef):
            kfn = self.low.kentries.get(e.fn.name)
            if kfn is not None and len(e.args) == len(kfn.args):
                return self.call_known_entry(e, e.fn, kfn, tail)
        callee = self.value(e.fn)
        args, dargs = self.call_args(e, tail)
        known = None
        if isinstance(e.fn, r.GlobalRef):
            known = self.low.known_target(e.fn.name)
        # in prelude code, a function that is not one of its own (a parameter such as `f`) is the
        # program's: replacing a prelude frame by it in a tail call makes a counted frame
        program_callee = self.is_prelude and isinstance(e.fn, r.LocalRef) and not e.fn.var.is_group
        return self.call_values(callee, args, e.span, tail, known, program_callee, dargs)

    def inline_named_let(self, e: r.RCall, fn: r.Fn, tail: bool) -> ir.Value | None:
        """`(let name ((p init) ...) body)` whose `name` is only called in tail position of its
        body: a loop in this function instead of a closure and calls. Not in tail position, the
        call it replaces still counts one level of depth while the loop runs, and an error
        leaving it gets that call's trace entry (its body's calls in tail position are then
        loop jumps only: `_inlinable_named_let`)."""
        scope = e.fn
        assert isinstance(scope, r.Scope)
        var = scope.vars[0]
        if self.low.jit:  # the VM may create the closure and call it: its native code too
            # (a frame of its own, which escape analysis, seeing a loop of this one, does not
            # know: its objects go on the heap)
            self.low.lambda_fn(fn, self.is_prelude, frame_objects=False)
        slots = self.bind_params([self.value(a) for a in e.args], fn)
        depth_g = self.low.rt_global("fl_rt_depth")
        saved_depth: ir.Value | None = None
        land: ir.Block | None = None
        if not tail:  # the call it replaces counts (DESIGN.md §4.3)
            b = self.b
            saved_depth = b.load(depth_g, typ=I64)
            d = b.add(saved_depth, self.const(1))
            self.check_depth(d, e.span, "nlet.depth")
            b.store(d, depth_g)
            land = self.new_block("nlet.unwind")
            ib = ir.IRBuilder(land)
            ib.store(saved_depth, depth_g)
            ib.call(self.low.rt("fl_trace_add"), [self.const(self.low.site(e.span, self.name))])
            ib.branch(self.current_landing())
        saved_loop, saved_name = self.loop, self.name
        self.loop = _Loop(fn, slots, var)
        self.name = fn.name
        try:
            if land is not None:
                with self.landing_at(land):
                    value = self.loop_body(self.loop, tail)
            else:
                value = self.loop_body(self.loop, tail)
        finally:
            self.loop, self.name = saved_loop, saved_name
        if tail or value is None:  # returned, or no way out of the loop but errors
            return None
        assert saved_depth is not None
        self.b.store(saved_depth, depth_g)
        return value

    def call_args(self, e: r.RCall, tail: bool) -> tuple[list[ir.Value] | None, list[_DV] | None]:
        """The arguments of a call, in order: words, or (for a self tail call of the
        Float-specialized loop) values that may be raw doubles."""
        loop = self.loop
        if (
            loop is not None
            and loop.spec is not None
            and tail
            and len(e.args) == len(loop.fn.params)
        ):
            # maybe a self tail call of the specialized loop: its Floats stay raw doubles
            cands = loop.spec[0]
            dargs = [
                self.dexpr(a) if i in cands else self.word_dv(self.value(a))
                for i, a in enumerate(e.args)
            ]
            return None, dargs
        return [self.value(a) for a in e.args], None

    def call_known_entry(
        self, e: r.RCall, ref: r.GlobalRef, kfn: ir.Function, tail: bool
    ) -> ir.Value | None:
        """A call of a known program function through its known entry. The global holds the
        function once its `define` ran (it is never assigned), so only an unbound global takes
        the generic way (its error, or a handler's value called generically); a function's call
        of itself reads no global at all (it runs, so it was defined)."""
        is_self = kfn is self.fn or kfn is self.self_entry
        if is_self and not tail and self.fx_callee is not None:
            return accumulate.fx_call(self, e, kfn)
        recheck: Callable[[], _KnownCallee] | None = None
        if not is_self:
            recheck = self.known_global(ref)
            raw_entry = self.low.rentries.get(ref.name)
            if raw_entry is not None and not self.cold:  # cold: `.k` tests the kinds itself
                return self.call_raw_entry(e, raw_entry, kfn, recheck, tail)
        args, dargs = self.call_args(e, tail)
        generic_end: ir.Block | None = None
        res_generic: ir.Value | None = None
        if recheck is not None:
            res_generic, generic_end = self.unless_bound(recheck(), args, dargs, e.span, tail)
        if tail and is_self and self.own_loop(len(e.args)):
            self.self_loop(args, dargs)
            return None
        if args is None:
            args = [self.as_word(d) for d in (dargs or [])]
        if tail:
            self.poll()
            marker = _tail_marker(self.fn, kfn.function_type)
            self.b.ret(self.b.call(kfn, args, cconv="tailcc", tail=marker))
            return None
        call_args = args
        res = self.counted_call(
            lambda: self.b.call(kfn, call_args, cconv="tailcc"), e.span, site_early=False
        )
        if generic_end is None or res_generic is None:
            return res
        incoming = [(res, self.b.block), (res_generic, generic_end)]
        return self._merge(incoming, self.new_block("known.join"))

    def unless_bound(
        self,
        known: _KnownCallee,
        args: list[ir.Value] | None,
        dargs: list[_DV] | None,
        span: Span,
        tail: bool,
    ) -> tuple[ir.Value | None, ir.Block]:
        """Before a direct call of a known function: when its global does not hold it (it was
        unbound and a handler gave a value), call that value the generic way. Returns that
        call's value and block; the builder is left where the direct call goes."""
        bound, callee = known
        direct = self.new_block("direct")
        generic = self.new_block("generic")
        self.b.cbranch(bound, direct, generic)
        self.b.position_at_end(generic)
        res_generic = self.call_values(callee(), args, span, tail, dargs=dargs)
        generic_end = self.b.block
        self.b.position_at_end(direct)
        return res_generic, generic_end

    def call_raw_entry(
        self,
        e: r.RCall,
        raw_entry: tuple[ir.Function, list[int]],
        kfn: ir.Function,
        recheck: Callable[[], _KnownCallee],
        tail: bool,
    ) -> ir.Value | None:
        """`call_known_entry` for a function with a raw entry (fluentai/llvm/rawentry.py): its
        Float arguments go to it as doubles."""
        rfn, raw = raw_entry
        dargs = rawentry.arguments(self, iter(e.args), raw)
        res_generic, generic_end = self.unless_bound(recheck(), None, dargs, e.span, tail)

        def make(fn: ir.Function, args: list[ir.Value]) -> ir.Value | None:
            if tail:
                self.poll()
                marker = _tail_marker(self.fn, fn.function_type)
                self.b.ret(self.b.call(fn, args, cconv="tailcc", tail=marker))
                return None
            return self.counted_call(
                lambda: self.b.call(fn, args, cconv="tailcc"), e.span, site_early=False
            )

        res = rawentry.call(self, rfn, kfn, raw, dargs, make)
        if res is None or res_generic is None:
            return None
        incoming = [(res, self.b.block), (res_generic, generic_end)]
        return self._merge(incoming, self.new_block("known.join"))

    def known_global(self, ref: r.GlobalRef) -> Callable[[], _KnownCallee]:
        """Check a known function's global where the call evaluates its head, before the
        arguments: an unbound global raises `unbound-variable` there (or, for a builtin's name,
        gives that builtin, LANGUAGE.md §2.2). Returns what reads the global again after the
        arguments: an i1, true when it holds the function (a JIT unit's cells are the VM's,
        which may hold the builtin until the definition runs), and what gives the value to call
        otherwise. The global cannot change in between (only its `define`, a top-level form,
        assigns it), and reading it again keeps no value live across the arguments' calls: with
        one per call, nested calls `(f (f (f ... x)))` made register allocation quadratic (1200
        deep: 11 s of code generation). A value a handler gave for the unbound global waits in
        a stack slot, stored through the runtime so that LLVM keeps it in memory."""
        b = self.b
        addr_slot = self.low.global_slot(ref.name)
        value = b.load(self._global_addr(addr_slot), typ=I64)
        bad = self.new_block("kunbound")
        join = self.new_block("kbound")
        b.cbranch(b.icmp_unsigned("==", value, self.const(abi.FL_UNBOUND)), bad, join)
        b.position_at_end(bad)
        if ref.fallback is not None:  # a builtin of the same name serves until the define
            res = self.builtin_value(ref.fallback)
        else:
            self.set_site(ref.span)
            shown = ref.name.removeprefix("%prelude:")
            res = b.call(self.low.rt("fl_raise_unbound"), [self.low.cstring(shown)])
            kept = self.new_block("kresumed")
            b.cbranch(b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), kept)
            b.position_at_end(kept)
        spill = self.alloca_b.alloca(I64, name="resumed.callee")
        b.call(self.low.rt("fl_store_word"), [spill, res])
        b.branch(join)
        b.position_at_end(join)
        word = self.low.known_entries[ref.name][1]

        def recheck() -> _KnownCallee:
            now = self.b.load(self._global_addr(addr_slot), typ=I64)

            def callee() -> ir.Value:
                unbound = self.b.icmp_unsigned("==", now, self.const(abi.FL_UNBOUND))
                return self.b.select(unbound, self.b.load(spill, typ=I64), now)

            return self.b.icmp_unsigned("==", now, word), callee

        return recheck

    def call_values(
        self,
        callee: ir.Value,
        args: list[ir.Value] | None,
        span: Span,
        tail: bool,
        known: tuple[ir.Function, Any, r.Fn] | None = None,
        program_callee: bool = False,
        dargs: list[_DV] | None = None,
    ) -> ir.Value | None:
        """`dargs` (instead of `args`): arguments that may be raw doubles, boxed here on every
        path but a self tail call of the Float-specialized loop."""
        b = self.b
        self.set_site(span)
        if known is not None:
            return self.known_call(callee, args, span, tail, known, dargs)
        nargs = len(args) if args is not None else len(dargs or [])
        # self tail call: a loop
        if tail and self.own_loop(nargs):
            assert self.clo is not None
            is_self = b.icmp_unsigned("==", callee, b.ptrtoint(self.clo, I64))
            loop = self.new_block("selfloop")
            other = self.new_block("othercall")
            b.cbranch(is_self, loop, other)
            b.position_at_end(loop)
            self.self_loop(args, dargs)
            self.b.position_at_end(other)
        if args is None:
            args = [self.as_word(d) for d in (dargs or [])]
        b = self.b
        ok = self.new_block("callee.ok")
        bad = self.new_block("callee.bad")
        b.cbranch(self.low._is_closure(b, callee), ok, bad)
        b.position_at_end(bad)
        res_bad = b.call(self.low.rt("fl_raise_not_function"), [callee])
        bad_end = b.block
        b.position_at_end(ok)
        cptr = b.inttoptr(callee, PTR)
        desc = b.load(b.gep(cptr, [self.const(8)], source_etype=I8), typ=PTR)
        call_args = self.generic_args(cptr, args)
        # an inline cache: a direct call (which LLVM may inline) of each function the VM
        # saw called here, chosen by the closure's descriptor; others take the indirect call
        arms: list[tuple[ir.Block, Any]] = []
        for target in [] if self.is_prelude else self.low.call_targets.get(_span_key(span), []):
            entry, tdesc = self.low.ic_target(target)
            hit = self.new_block("ic.hit")
            miss = self.new_block("ic.miss")
            same = b.icmp_unsigned("==", b.ptrtoint(desc, I64), tdesc.ptrtoint(I64))
            b.cbranch(same, hit, miss)
            arms.append((hit, entry))
            b.position_at_end(miss)
        if arms:
            self.low.u.inline_caches += 1
        arms.append((b.block, _Indirect(b.load(desc, typ=PTR), GENERIC_TY)))
        results: list[tuple[ir.Value, ir.Block]] = []
        for block, target_fn in arms:
            self.b.position_at_end(block)
            if tail:
                self.poll()
                if program_callee:  # a prelude frame replaced by a program function's
                    self.adjust_depth(+1)
                res = self.b.call(
                    target_fn, call_args, cconv="tailcc", tail=_tail_marker(self.fn, GENERIC_TY)
                )
                self.b.ret(res)
                continue
            # prelude code counts its calls of unknown functions: those are the program's
            res = self.counted_call(
                functools.partial(self.b.call, target_fn, call_args, cconv="tailcc"),
                span,
                count=True,
            )
            results.append((res, self.b.block))
        if tail:
            self.b.position_at_end(bad_end)
            self.b.ret(res_bad)
            return None
        join = self.new_block("call.join")
        for _, end in results:
            self.b.position_at_end(end)
            self.b.branch(join)
        self.b.position_at_end(bad_end)
        self.b.cbranch(
            self.b.icmp_unsigned("==", res_bad, self.const(0)), self.current_landing(), join
        )
        self.b.position_at_end(join)
        phi = self.b.phi(I64)
        for res, end in results:
            phi.add_incoming(res, end)
        phi.add_incoming(res_bad, bad_end)
        return phi

    def generic_args(self, clo: ir.Value, args: list[ir.Value]) -> list[ir.Value]:
        """The arguments of a generic entry: closure, argc, a0..a3, then the rest in a VECTOR."""
        regs = [args[i] if i < len(args) else self.const(0) for i in range(abi.REG_ARGS)]
        rest: ir.Value = ir.Constant(PTR, None)
        if len(args) > abi.REG_ARGS:
            n = len(args) - abi.REG_ARGS
            rest = self.b.call(self.low.rt("fl_vector_new"), [self.const(n)])
            for i, v in enumerate(args[abi.REG_ARGS :]):
                self.b.store(v, self.b.gep(rest, [self.const(8 + 8 * i)], source_etype=I8))
        return [clo, self.const(len(args)), *regs, rest]

    def known_call(
        self,
        callee: ir.Value,
        args: list[ir.Value] | None,
        span: Span,
        tail: bool,
        known: tuple[ir.Function, Any, r.Fn],
        dargs: list[_DV] | None = None,
    ) -> ir.Value | None:
        """A call of a known function: direct when the global still holds its closure."""
        entry, word, _fn = known
        b = self.b
        same = b.icmp_unsigned("==", callee, word)
        direct = self.new_block("direct")
        generic = self.new_block("generic")
        b.cbranch(same, direct, generic)
        b.position_at_end(generic)
        res_generic = self.call_values(callee, args, span, tail, dargs=dargs)
        generic_end = self.b.block
        self.b.position_at_end(direct)
        nargs = len(args) if args is not None else len(dargs or [])
        if tail and self.fn is entry and self.own_loop(nargs):
            self.self_loop(args, dargs)
            return None
        if args is None:
            args = [self.as_word(d) for d in (dargs or [])]
        call_args = self.generic_args(self.b.inttoptr(word, PTR), args)
        if tail:
            # a builtin written in FluentAI that replaces a program frame keeps its count (the
            # VM keeps that frame: fluentai/vm/machine.py `_trace`), so its calls of program
            # functions nest one level deeper and endless recursion through it overflows
            self.poll()
            if not self.is_prelude and entry.name.startswith("fl.prelude."):
                # so this frame stays too: a clause's value for the builtin's own raise is
                # this call's (fl_take_resumed; no trace entry: the frame is the builtin's)
                res = self.counted_call(
                    lambda: self.b.call(entry, call_args, cconv="tailcc"), None, depth=False
                )
                self.b.ret(res)
                return None
            res = self.b.call(
                entry, call_args, cconv="tailcc", tail=_tail_marker(self.fn, GENERIC_TY)
            )
            self.b.ret(res)
            return None
        # a builtin written in FluentAI is not a frame of the program: its call does not count
        res = self.counted_call(
            lambda: self.b.call(entry, call_args, cconv="tailcc"),
            span,
            depth=not entry.name.startswith("fl.prelude."),
        )
        direct_end = self.b.block
        join = self.new_block("known.join")
        self.b.branch(join)
        if res_generic is None:
            self.b.position_at_end(join)
            return res
        self.b.position_at_end(generic_end)
        self.b.branch(join)
        self.b.position_at_end(join)
        phi = self.b.phi(I64)
        phi.add_incoming(res, direct_end)
        phi.add_incoming(res_generic, generic_end)
        return phi

    def adjust_depth(self, delta: int) -> None:
        """Before a tail call that changes whether the frame counts toward the depth limit:
        the caller's call site restores its own count when the call returns (§4.3)."""
        g = self.low.rt_global("fl_rt_depth")
        self.b.store(self.b.add(self.b.load(g, typ=I64), self.const(delta)), g)

    def counted_call(
        self,
        make_call: Callable[[], ir.Value],
        span: Span | None,
        count: bool = False,
        depth: bool = True,
        site_early: bool = True,
    ) -> ir.Value:
        """A non-tail call of FluentAI code: depth check, call, trace entry on failure.
        Prelude code counts only calls of unknown functions (`count`): prelude frames do not
        count toward the depth limit, the program's functions it calls do (LANGUAGE.md §12)."""
        b = self.b
        depth_g = self.low.rt_global("fl_rt_depth")
        if (not self.is_prelude or count) and depth:
            d = b.add(b.load(depth_g, typ=I64), self.const(1))
            # the call's site, for the stack-overflow report, unless set already
            self.check_depth(d, span, "depth", set_site=not site_early)
            b.store(d, depth_g)
            res = make_call()
            b.store(b.sub(d, self.const(1)), depth_g)
        else:
            res = make_call()
        if self.is_prelude:
            self.pending_check(res)
            return res
        return self.or_resumed(res, span)

    # ------------------------------------------------------------ primitives

    def prim_app(self, e: r.PrimApp, tail: bool) -> ir.Value | None:
        prim = primitives.lookup(e.name)
        assert prim is not None, e.name
        b = self.b
        if prim.name == "list" and e.args:
            const = _constant_list(e)
            if const is not None:  # `[1 [2 "x"]]`: built once at start-up (lists are values)
                return self.low.const_word(b, const)
            mem = self.stack_object(e, 24 * len(e.args))
            if mem is not None:
                return self.stack_list(mem, [self.value(a) for a in e.args])
        if prim.kind is PrimKind.FUNCTION:
            if (
                not self.cold
                and _is_arith(e)
                and (any(_is_arith(a) for a in e.args) or self.has_dual_leaf(e))
                and self.may_be(e, "Float")
            ):
                return self.arith_tree(e)
            if self.is_dcompare(e):
                return self.dcompare(e, word=True)
            step = bounds.bounded_step(self, e)
            if step is not None:
                return step
            if prim.name in _BINARY_FAST and len(e.args) == 2:
                x = self.value(e.args[0])
                y = self.value(e.args[1])
                return self.binary(prim.name, x, y, e.span, self.floats(e.args), e)
            if prim.name in ("mod", "quot", "rem"):
                x = self.value(e.args[0])
                y = self.value(e.args[1])
                return self.fixnum_division(prim.name, x, y, e.span, self.nonneg_division(e))
            if prim.name in ("head", "tail"):
                return self.list_field(prim.name, self.value(e.args[0]), e.span)
            if prim.name == "%native?":
                return self.const(abi.FL_TRUE)
            if prim.name == "%link!":  # the prelude's map, whose arguments are always right
                args = [self.value(a) for a in e.args]
                return b.call(self.low.rt("fl_link_new"), args)
            if prim.name == "cons":
                return self.cons(self.value(e.args[0]), self.value(e.args[1]), e.span, e)
            if prim.name == "not":
                v = self.value(e.args[0])
                return b.select(self.truthy(v), self.const(abi.FL_FALSE), self.const(abi.FL_TRUE))
            if prim.name == "null?":
                v = self.value(e.args[0])
                null = b.or_(
                    b.icmp_unsigned("==", v, self.const(abi.FL_EMPTY)),
                    b.icmp_unsigned("==", v, self.const(abi.FL_NIL)),
                )
                return self.bool_word(null)
            if prim.name in ("+", "-", "*") and len(e.args) > 2 and not self.cold:
                return self.nary_fixnums(prim.name, e)
            argv = self.args_array(e.args)
            self.set_site(e.span)
            res = b.call(self.low.rt(abi.c_symbol(prim.name)), [self.const(len(e.args)), argv])
            self.pending_check(res)
            return res
        if prim.kind is PrimKind.EFFECT:
            argv = self.args_array(e.args)
            self.set_site(e.span)
            res = self.low._perform_call(
                b, prim.name, self.const(len(e.args)), argv, tail=tail and not self.is_prelude
            )
            self.perform_check(res)
            return res
        if prim.kind is PrimKind.CONSTANT:
            return self.low.const_word(b, prim.value)
        if prim.kind is PrimKind.INTRINSIC:  # apply
            argv = self.args_array(e.args)
            self.set_site(e.span)
            vec = b.call(
                self.low.rt("fl_apply_args"),
                [self.const(len(e.args) - 1), b.gep(argv, [self.const(1)], source_etype=I64)],
            )
            resumed: tuple[ir.Value, ir.Block] | None = None
            if self.is_prelude:
                self.pending_check(b.ptrtoint(vec, I64))
            else:  # a clause's value for a last argument that is not a List is apply's value
                bad = self.new_block("apply.bad")
                ok = self.new_block("apply.ok")
                b.cbranch(b.icmp_unsigned("==", b.ptrtoint(vec, I64), self.const(0)), bad, ok)
                b.position_at_end(bad)
                value = self.take_resumed(None)
                if tail and self.lam is not None:
                    self.b.ret(value)
                else:
                    resumed = (value, self.b.block)
                b.position_at_end(ok)
            f = b.load(argv, typ=I64)
            if tail and self.lam is not None:
                if self.is_prelude:
                    self.adjust_depth(+1)
                self.low.tail_apply(self.b, f, vec)
                return None
            res = self.counted_call(
                lambda: self.b.call(self.low.apply_fn, [f, vec]), e.span, count=True
            )
            if resumed is None:
                return res
            end = self.b.block
            join = self.new_block("apply.join")
            self.b.branch(join)
            self.b.position_at_end(resumed[1])
            self.b.branch(join)
            self.b.position_at_end(join)
            phi = self.b.phi(I64)
            phi.add_incoming(res, end)
            phi.add_incoming(resumed[0], resumed[1])
            return phi
        # prelude function: call its closure
        callee = self.builtin_value(prim.name)
        args = [self.value(a) for a in e.args]
        known = self.low.known_target("%prelude:" + prim.name)
        return self.call_values(callee, args, e.span, tail, known)

    def nary_fixnums(self, op: str, e: r.PrimApp) -> ir.Value:
        """`(+ a b c ...)`, `-` or `*` of three or more arguments: a left fold of the binary
        operation (LANGUAGE.md §6), inline while every operand is a fixnum and nothing
        overflows; otherwise the builtin's C function on all the values. Arithmetic is pure, so
        starting over on the same values shows nothing, and the builtin's errors, sites and
        `error:raise` resumptions (the clause's value is the whole call's) stay its own."""
        b = self.b
        values = [self.value(a) for a in e.args]
        fast = self.new_block(f"nary{op}.fix")
        generic = self.new_block(f"nary{op}.generic")
        join = self.new_block(f"nary{op}.join")
        all_fix: ir.Value = ir.Constant(I1, 1)
        for v in values:
            if not self.is_known_fixnum(v):
                flag = self.fix_flag(v)
                all_fix = b.and_(all_fix, flag if flag is not None else self.tag_is_fixnum(v))
        b.cbranch(all_fix, fast, generic)
        b.position_at_end(fast)
        acc = values[0]
        for v in values[1:]:
            acc, overflow = self.fixnum_arith(op, acc, v)
            more = self.new_block(f"nary{op}.more")
            b.cbranch(overflow, generic, more)
            b.position_at_end(more)
        incoming = [(acc, b.block)]
        b.position_at_end(generic)
        incoming.append((self.builtin_call(op, values, e.span), b.block))
        return self._merge(incoming, join)

    def builtin_call(self, name: str, values: Sequence[ir.Value], span: Span) -> ir.Value:
        """The C function of builtin `name` on these words (it may raise)."""
        argv = self.argv_alloca(len(values))
        for i, v in enumerate(values):
            self.b.store(v, self.b.gep(argv, [self.const(i)], source_etype=I64))
        self.set_site(span)
        res = self.b.call(self.low.rt(abi.c_symbol(name)), [self.const(len(values)), argv])
        self.pending_check(res)
        return res

    def nonneg_division(self, e: r.PrimApp) -> bool:
        """A division whose dividend is inferred >= 0 by a positive literal divisor (fixnum
        dividends then divide unsigned, with no floor fix-up: same results)."""
        types = self.low.types
        if types is None or self.is_prelude or len(e.args) != 2:
            return False
        y = e.args[1]
        if not (isinstance(y, c.Lit) and type(y.value) is int and 0 < y.value < abi.FIXNUM_MAX):
            return False
        lo = types.type_of(e.args[0]).value_range
        return lo is not None and lo[0] is not None and lo[0] >= 0

    def floats(self, args: Sequence[r.RExpr]) -> bool:
        """Two Floats are possible operands: worth an inline Float path."""
        return not self.cold and all(self.may_be(a, "Float") for a in args)

    def slow_op(self, op: str, x: ir.Value, y: ir.Value, span: Span) -> ir.Value:
        """The runtime's C operation `op` of two words (any kinds), unwinding when it raised:
        how cold paths do arithmetic and comparisons (`cold`)."""
        self.set_site(span)
        res = self.b.call(self.low.rt(_SLOW[op]), [x, y])
        self.pending_check(res)
        return res

    def compare(
        self, op: str, x: ir.Value, y: ir.Value, span: Span, floats: bool = True
    ) -> ir.Value:
        """A numeric comparison as an i1: fixnums (signed compare of the words) and, when
        `floats`, two Floats inline; the C slow path otherwise (which may raise)."""
        return self._compare(op, x, y, span, floats, False)

    def compare_value(
        self, op: str, x: ir.Value, y: ir.Value, span: Span, floats: bool = True
    ) -> ir.Value:
        """`compare` as a value (a Bool word): the C slow path's word as it is, which is the
        value an error:raise clause resumed an error with, not a Bool (LANGUAGE.md §14.4)."""
        return self._compare(op, x, y, span, floats, True)

    def _compare(
        self, op: str, x: ir.Value, y: ir.Value, span: Span, floats: bool, word: bool
    ) -> ir.Value:
        b = self.b

        def result(v: ir.Value) -> ir.Value:
            return self.bool_word(v) if word else v

        is_fix = self.fixnums(x, y)
        if isinstance(is_fix, ir.Constant):
            return result(b.icmp_signed(_ICMP[op], x, y))
        if self.cold:
            slow = self.slow_op(op, x, y, span)
            return slow if word else self.truthy(slow)
        fast = self.new_block(f"fix{op}")
        slow = self.new_block(f"slow{op}")
        join = self.new_block(f"join{op}")
        b.cbranch(is_fix, fast, slow)
        b.position_at_end(fast)
        fast_v = result(b.icmp_signed(_ICMP[op], x, y))
        b.branch(join)
        b.position_at_end(slow)
        generic = self.new_block(f"generic{op}")
        flt_v: ir.Value | None = None
        flt = self.new_block(f"flt{op}") if floats else None
        if flt is not None:
            both_float = b.and_(
                b.icmp_unsigned("==", b.and_(x, self.const(7)), self.const(2)),
                b.icmp_unsigned("==", b.and_(y, self.const(7)), self.const(2)),
            )
            b.cbranch(both_float, flt, generic)
            b.position_at_end(flt)
            dx = b.load(b.inttoptr(b.sub(x, self.const(2)), PTR), typ=DBL)
            dy = b.load(b.inttoptr(b.sub(y, self.const(2)), PTR), typ=DBL)
            flt_v = result(b.fcmp_ordered(_ICMP[op], dx, dy))
            b.branch(join)
        else:
            b.branch(generic)
        b.position_at_end(generic)
        self.set_site(span)
        slow_w = b.call(self.low.rt(_SLOW[op]), [x, y])
        got = self.new_block(f"got{op}")
        b.cbranch(b.icmp_unsigned("==", slow_w, self.const(0)), self.current_landing(), got)
        b.position_at_end(got)
        slow_v = slow_w if word else self.truthy(slow_w)
        b.branch(join)
        b.position_at_end(join)
        phi = b.phi(I64 if word else I1)
        phi.add_incoming(fast_v, fast)
        if flt is not None and flt_v is not None:
            phi.add_incoming(flt_v, flt)
        phi.add_incoming(slow_v, got)
        return phi

    def binary(
        self,
        op: str,
        x: ir.Value,
        y: ir.Value,
        span: Span,
        floats: bool = True,
        node: r.PrimApp | None = None,
    ) -> ir.Value:
        """Fixnum fast path inline, two Floats inline when `floats`, the C slow path otherwise
        (DESIGN.md §3.2). `node`: the operation's node, whose frame slot an inline Float result
        may be boxed in (`float_box`)."""
        b = self.b
        if op in _ICMP:
            return self.compare_value(op, x, y, span, floats)
        loop = self.loop
        if (
            loop is not None
            and loop.restart is not None
            and self.is_known_fixnum(x)
            and self.is_known_fixnum(y)
        ):
            return self.restarting_op(op, x, y, loop.restart)
        if self.cold and not (self.is_known_fixnum(x) and self.is_known_fixnum(y)):
            return self.slow_op(op, x, y, span)
        is_fix = self.fixnums(x, y)
        fast = self.new_block(f"fix{op}")
        slow = self.new_block(f"slow{op}")
        join = self.new_block(f"join{op}")
        b.cbranch(is_fix, fast, slow)
        b.position_at_end(fast)
        val, ovf = self.fixnum_arith(op, x, y)
        fast_end = b.block
        b.cbranch(ovf, slow, join)
        b.position_at_end(slow)
        incoming = [(val, fast_end)]
        generic = self.new_block(f"generic{op}")
        if floats:  # two Floats: inline, boxing the result
            both_float = b.and_(
                b.icmp_unsigned("==", b.and_(x, self.const(7)), self.const(2)),
                b.icmp_unsigned("==", b.and_(y, self.const(7)), self.const(2)),
            )
            flt = self.new_block(f"flt{op}")
            b.cbranch(both_float, flt, generic)
            b.position_at_end(flt)
            dx = b.load(b.inttoptr(b.sub(x, self.const(2)), PTR), typ=DBL)
            dy = b.load(b.inttoptr(b.sub(y, self.const(2)), PTR), typ=DBL)
            d = {"+": b.fadd, "-": b.fsub, "*": b.fmul}[op](dx, dy)
            incoming.append((self.float_box(d, node), b.block))
            b.branch(join)
        else:
            b.branch(generic)
        b.position_at_end(generic)
        self.set_site(span)
        slow_v = b.call(self.low.rt(_SLOW[op]), [x, y])
        incoming.append((slow_v, b.block))
        b.cbranch(b.icmp_unsigned("==", slow_v, self.const(0)), self.current_landing(), join)
        b.position_at_end(join)
        phi = b.phi(I64)
        for v, blk in incoming:
            phi.add_incoming(v, blk)
        self.fixvals[id(val)] = val
        self.record_fix_flag(phi, incoming)
        return phi

    def fixnum_arith(self, op: str, x: ir.Value, y: ir.Value) -> tuple[ir.Value, ir.Value]:
        """`+ - *` of two fixnum words: the tagged result and the i1 "it overflowed"."""
        b = self.b
        if op == "+":
            res = b.sadd_with_overflow(x, b.sub(y, self.const(1)))
            if self.fx_depth is not None:
                return b.or_(b.extract_value(res, 0), self.const(1)), b.extract_value(res, 1)
            return b.extract_value(res, 0), b.extract_value(res, 1)
        if op == "-":
            res = b.ssub_with_overflow(x, y)
        else:
            res = b.smul_with_overflow(b.ashr(x, self.const(1)), b.sub(y, self.const(1)))
        return b.or_(b.extract_value(res, 0), self.const(1)), b.extract_value(res, 1)

    def restarting_op(self, op: str, x: ir.Value, y: ir.Value, restart: ir.Block) -> ir.Value:
        """`+ - *` of two fixnums in the specialized copy of a pure loop: an overflow goes to
        `restart` (the generic body, which runs the iteration again with bignums), so the
        result is a fixnum and nothing joins a slow path's value into the copy."""
        val, ovf = self.fixnum_arith(op, x, y)
        fits = self.new_block(f"fits{op}")
        self.b.cbranch(ovf, restart, fits)
        self.b.position_at_end(fits)
        self.fixvals[id(val)] = val
        return val

    def quiet_leaf(self, e: r.RExpr) -> bool:
        """A literal, or a reference of a local variable that cannot be unbound here (not of a
        binding group's before its value is stored): evaluating it shows, raises and changes
        nothing."""
        if isinstance(e, c.Lit):
            return True
        if not isinstance(e, r.LocalRef):
            return False
        info = self.vars.get(e.var)
        return not (info.is_group if info is not None else e.var.is_group)

    def arith_in_order(self, e: r.PrimApp) -> _DV:
        """One operation of a tree that cannot be computed leaves first (`_tree_in_order`): its
        operands (trees of their own), then the operation, as the VM does (LANGUAGE.md §2.3)."""
        x = self.as_word(self.dexpr(e.args[0]))
        y = self.as_word(self.dexpr(e.args[1]))
        op = primitives.lookup(e.name)
        assert op is not None
        if op.name == "/":
            return self.word_dv(self.builtin_call(op.name, [x, y], e.span))
        return self.word_dv(self.binary(op.name, x, y, e.span, self.floats(e.args), e))

    def arith_tree(self, e: r.PrimApp) -> ir.Value:
        """A tree of two-argument `+ - *` as a word: computed in doubles when all the leaves are
        Floats and boxed once (dtree); a raw double leaves it only here."""
        return self.as_word(self.dtree(e))

    def fixnum_division(
        self, op: str, x: ir.Value, y: ir.Value, span: Span, nonneg: bool = False
    ) -> ir.Value:
        """`mod`, `quot`, `rem` of two fixnums with a divisor other than 0 and -1 inline
        (floored `mod`, truncated `quot`/`rem`); everything else in C. `nonneg`: the dividend
        is known to be >= 0 and the divisor is a positive constant (unsigned, no floor fix)."""
        b = self.b
        ok = b.and_(
            self.fixnums(x, y),
            b.and_(
                b.icmp_unsigned("!=", y, self.const(abi.fixnum(0))),
                b.icmp_unsigned("!=", y, self.const(abi.fixnum(-1))),
            ),
        )
        fast = self.new_block(f"fix{op}")
        slow = self.new_block(f"slow{op}")
        join = self.new_block(f"join{op}")
        b.cbranch(ok, fast, slow)
        b.position_at_end(fast)
        # a dividend known >= 0 untagged with a logical shift: its top bit known clear lets
        # LLVM divide by a constant with a cheaper multiplier (no 65-bit fix-up for 7)
        a = b.lshr(x, self.const(1)) if nonneg else b.ashr(x, self.const(1))
        d = b.ashr(y, self.const(1))
        if nonneg:
            raw = b.udiv(a, d) if op == "quot" else b.urem(a, d)
        elif op == "quot":
            raw = b.sdiv(a, d)
        else:
            raw = b.srem(a, d)
            if op == "mod":  # floor: a nonzero remainder takes the divisor's sign
                fix = b.and_(
                    b.icmp_signed("!=", raw, self.const(0)),
                    b.icmp_signed("<", b.xor(raw, d), self.const(0)),
                )
                raw = b.select(fix, b.add(raw, d), raw)
        fast_v = b.or_(b.shl(raw, self.const(1)), self.const(1))
        fast_end = b.block
        b.branch(join)
        b.position_at_end(slow)
        phi = self.builtin_fallback(op, [x, y], span, fast_v, fast_end, join)
        self.fixvals[id(fast_v)] = fast_v
        self.record_fix_flag(phi, list(phi.incomings))
        return phi

    def cons(self, x: ir.Value, lst: ir.Value, span: Span, site: r.PrimApp) -> ir.Value:
        """`cons` onto a List by a direct call, or built in a slot of the frame when escape
        analysis allows it; anything else raises its type-error in C."""
        b = self.b
        fast = self.new_block("cons.list")
        slow = self.new_block("cons.other")
        join = self.new_block("cons.j")
        is_list = b.or_(
            b.icmp_unsigned("==", lst, self.const(abi.FL_EMPTY)), self._has_type(lst, abi.T_CONS)
        )
        b.cbranch(is_list, fast, slow)
        b.position_at_end(fast)
        mem = self.stack_object(site, 24)
        if mem is None:
            fast_v = b.call(self.low.rt("fl_cons_new"), [x, lst])
        else:
            fast_v = self.stack_cons(mem, x, lst)
        fast_end = b.block
        b.branch(join)
        b.position_at_end(slow)
        return self.builtin_fallback("cons", [x, lst], span, fast_v, fast_end, join)

    def stack_cons(self, mem: ir.Value, x: ir.Value, lst: ir.Value) -> ir.Value:
        """A CONS cell of `x` onto the List `lst` in `mem`, as fl_cons_new makes one: its
        header holds the list's length, one more than the tail's."""
        b = self.b
        empty = b.icmp_unsigned("==", lst, self.const(abi.FL_EMPTY))
        obj = b.ptrtoint(mem, I64)
        # the tail's header, or (for []) any readable word, whose length is then not used
        hdr = b.load(b.inttoptr(b.select(empty, obj, lst), PTR), typ=I64)
        length = b.select(empty, self.const(0), b.lshr(hdr, self.const(16)))
        length = b.add(length, self.const(1))
        b.store(b.or_(b.shl(length, self.const(16)), self.const(abi.T_CONS)), mem)
        b.store(x, b.gep(mem, [self.const(8)], source_etype=I8))
        b.store(lst, b.gep(mem, [self.const(16)], source_etype=I8))
        return obj

    def stack_list(self, mem: ir.Value, values: list[ir.Value]) -> ir.Value:
        """A List of `values` in `mem`, one 24-byte CONS cell after another, built back to
        front; each header holds the length of the list from that cell on."""
        b = self.b
        n = len(values)
        rest: ir.Value = self.const(abi.FL_EMPTY)
        for i in reversed(range(n)):
            cell = b.gep(mem, [self.const(24 * i)], source_etype=I8)
            b.store(self.const(abi.header(abi.T_CONS, 0, n - i)), cell)
            b.store(values[i], b.gep(cell, [self.const(8)], source_etype=I8))
            b.store(rest, b.gep(cell, [self.const(16)], source_etype=I8))
            rest = b.ptrtoint(cell, I64)
        return rest

    def builtin_fallback(
        self,
        name: str,
        args: list[ir.Value],
        span: Span,
        fast_v: ir.Value,
        fast_end: ir.Block,
        join: ir.Block,
    ) -> ir.PhiInstr:
        """The slow path of a builtin lowered inline, from the block the builder is in: the C
        builtin through the argument array (its error goes to the landing), then at `join` the
        phi of its value and the fast path's."""
        b = self.b
        argv = self.argv_alloca(len(args))
        for i, v in enumerate(args):
            b.store(v, b.gep(argv, [self.const(i)], source_etype=I64) if i else argv)
        self.set_site(span)
        slow_v = b.call(self.low.rt(abi.c_symbol(name)), [self.const(len(args)), argv])
        slow_end = b.block
        b.cbranch(b.icmp_unsigned("==", slow_v, self.const(0)), self.current_landing(), join)
        b.position_at_end(join)
        phi = b.phi(I64)
        phi.add_incoming(fast_v, fast_end)
        phi.add_incoming(slow_v, slow_end)
        return phi

    def list_field(self, name: str, v: ir.Value, span: Span) -> ir.Value:
        """`head`/`tail` (and aliases) of a cons cell inline; anything else in C."""
        b = self.b
        prim = primitives.lookup(name)
        assert prim is not None
        fast = self.new_block("cell")
        slow = self.new_block("notcell")
        join = self.new_block("cell.j")
        b.cbranch(self._has_type(v, abi.T_CONS), fast, slow)
        b.position_at_end(fast)
        offset = 8 if prim.name == "head" else 16
        fast_v = b.load(b.gep(b.inttoptr(v, PTR), [self.const(offset)], source_etype=I8), typ=I64)
        fast_end = b.block
        b.branch(join)
        b.position_at_end(slow)
        return self.builtin_fallback(prim.name, [v], span, fast_v, fast_end, join)

    # ------------------------------------------------------------ control

    def if_(self, e: r.RIf, tail: bool) -> ir.Value | None:
        test = self.test(e.test)
        then_b = self.new_block("then")
        else_b = self.new_block("else")
        self.b.cbranch(test, then_b, else_b)
        incoming: list[tuple[ir.Value, ir.Block]] = []
        then_facts, else_facts = bounds.branch_facts(e.test)
        for blk, branch, facts in ((then_b, e.then, then_facts), (else_b, e.else_, else_facts)):
            self.b.position_at_end(blk)
            with bounds.facts(self, facts):
                v = self.expr(branch, tail)
            if v is None:
                continue
            if tail:
                self.b.ret(v)
            else:
                incoming.append((v, self.b.block))
        if tail:
            return None
        join = self.new_block("endif")
        if not incoming:
            self.b.position_at_end(join)
            self.b.unreachable()
            return self.dead()
        return self._merge(incoming, join)

    def while_(self, e: r.RWhile) -> ir.Value:
        if self.low.jit and not self.is_prelude:  # the VM may enter it at a back edge
            osr.entry(self, e)
        head = self.new_block("while")
        body = self.new_block("do")
        end = self.new_block("endwhile")
        self.b.branch(head)
        self.b.position_at_end(head)
        test = self.value(e.test)
        self.b.cbranch(self.truthy(test), body, end)
        self.b.position_at_end(body)
        self.value(e.body)
        self.poll()
        self.b.branch(head)
        self.b.position_at_end(end)
        return self.const(abi.FL_NIL)

    def match(self, m: r.RMatch, tail: bool) -> ir.Value | None:
        subject = self.value(m.subject)
        incoming: list[tuple[ir.Value, ir.Block]] = []
        for clause in m.clauses:
            fail = self.new_block("nomatch")
            self.pattern(clause.pattern, subject, fail, bind=True)
            if clause.guard is not None:
                g = self.value(clause.guard)
                go = self.new_block("guarded")
                self.b.cbranch(self.truthy(g), go, fail)
                self.b.position_at_end(go)
            v = self.expr(clause.body, tail)
            if v is not None:
                if tail:
                    self.b.ret(v)
                else:
                    incoming.append((v, self.b.block))
            self.b.position_at_end(fail)
        self.set_site(m.span)
        res = self.b.call(self.low.rt("fl_raise_match_failure"), [subject])
        if tail:
            self.b.cbranch(
                self.b.icmp_unsigned("==", res, self.const(0)),
                self.current_landing(),
                self._ret_block(res),
            )
            return None
        fail_end = self.b.block
        join = self.new_block("endmatch")
        self.b.cbranch(self.b.icmp_unsigned("==", res, self.const(0)), self.current_landing(), join)
        phi = self._merge(incoming, join)
        phi.add_incoming(res, fail_end)
        return phi

    def _merge(self, incoming: list[tuple[ir.Value, ir.Block]], join: ir.Block) -> ir.PhiInstr:
        """Branch from each incoming block to `join` and return the phi of their values there."""
        for _v, blk in incoming:
            self.b.position_at_end(blk)
            self.b.branch(join)
        self.b.position_at_end(join)
        phi = self.b.phi(I64)
        for v, blk in incoming:
            phi.add_incoming(v, blk)
        return phi

    def _ret_block(self, v: ir.Value) -> ir.Block:
        blk = self.new_block("retv")
        ir.IRBuilder(blk).ret(v)
        return blk

    def pattern(self, p: r.RPattern, v: ir.Value, fail: ir.Block, bind: bool) -> None:  # noqa: C901
        """Test `v` against `p`, branching to `fail` on a mismatch; bind variables when asked."""
        b = self.b
        match p:
            case c.PWild():
                return
            case r.PBind(var=var):
                if bind:
                    slot = self.alloca(var.name)
                    if var.boxed:
                        b.store(self.make_box(v), slot)
                    else:
                        b.store(v, slot)
                    self.vars[var] = _Var("local", slot, var.boxed, False, var.name)
                return
            case c.PLit(value=value):
                lit = self.low.const_word(b, value)
                if value is True or value is False or value is None:
                    ok = b.icmp_unsigned("==", v, lit)
                else:
                    eq = b.call(self.low.rt("fl_equal"), [lit, v])
                    ok = b.icmp_unsigned("!=", eq, ir.Constant(I32, 0))
                self._guard(ok, fail)
            case r.RPCons(head=head, tail=tail_p):
                self._guard(self._has_type(v, abi.T_CONS), fail)
                ptr = b.inttoptr(v, PTR)
                h = b.load(b.gep(ptr, [self.const(8)], source_etype=I8), typ=I64)
                t = b.load(b.gep(ptr, [self.const(16)], source_etype=I8), typ=I64)
                self.pattern(head, h, fail, bind)
                self.pattern(tail_p, t, fail, bind)
            case r.RPList(items=items, rest=rest):
                n = len(items)
                is_empty = b.icmp_unsigned("==", v, self.const(abi.FL_EMPTY))
                if n == 0:
                    if rest is None:
                        self._guard(is_empty, fail)
                        return
                    is_cons = self._has_type(v, abi.T_CONS)
                    self._guard(b.or_(is_empty, is_cons), fail)
                    self.pattern(rest, v, fail, bind)
                    return
                self._guard(self._has_type(v, abi.T_CONS), fail)
                ptr = b.inttoptr(v, PTR)
                length = b.lshr(b.load(ptr, typ=I64), self.const(16))
                if rest is None:
                    self._guard(b.icmp_unsigned("==", length, self.const(n)), fail)
                else:
                    self._guard(b.icmp_unsigned(">=", length, self.const(n)), fail)
                cur = v
                for item in items:
                    cptr = b.inttoptr(cur, PTR)
                    h = b.load(b.gep(cptr, [self.const(8)], source_etype=I8), typ=I64)
                    cur = b.load(b.gep(cptr, [self.const(16)], source_etype=I8), typ=I64)
                    self.pattern(item, h, fail, bind)
                if rest is not None:
                    self.pattern(rest, cur, fail, bind)
            case r.RPCtor(name=name, args=args):
                cid = self.low.u.ctor_ids.get(name)
                if cid is None:
                    b.branch(fail)
                    self.dead()
                    return
                self._guard(self._has_type(v, abi.T_ADT), fail)
                ptr = b.inttoptr(v, PTR)
                aux = b.lshr(b.load(ptr, typ=I64), self.const(16))
                self._guard(b.icmp_unsigned("==", aux, self.const(cid)), fail)
                for i, sub in enumerate(args):
                    f = b.load(b.gep(ptr, [self.const(8 + 8 * i)], source_etype=I8), typ=I64)
                    self.pattern(sub, f, fail, bind)
            case r.RPError(kind=k, message=msg, data=d):
                self._guard(self._has_type(v, abi.T_ERROR), fail)
                ptr = b.inttoptr(v, PTR)
                for i, sub in enumerate((k, msg, d)):
                    f = b.load(b.gep(ptr, [self.const(8 + 8 * i)], source_etype=I8), typ=I64)
                    self.pattern(sub, f, fail, bind)
            case _:
                raise AssertionError(f"pattern {p!r}")

    def _guard(self, ok: ir.Value, fail: ir.Block) -> None:
        go = self.new_block("pat")
        self.b.cbranch(ok, go, fail)
        self.b.position_at_end(go)

    def _has_type(self, v: ir.Value, t: int) -> ir.Value:
        return _has_type(self.b, v, t)

    # ------------------------------------------------------------ handlers and try

    @contextmanager
    def landing_at(self, block: ir.Block) -> Iterator[None]:
        self.landing.append(block)
        try:
            yield
        finally:
            self.landing.pop()

    def handle(self, e: r.RHandle) -> ir.Value:
        b = self.b
        fns = [self.value(f) for f in e.fns]
        n = len(fns)
        argv = self.argv_alloca(n)
        for i, v in enumerate(fns):
            b.store(v, b.gep(argv, [self.const(i)], source_etype=I64))
        keys_ty = ir.ArrayType(PTR, max(1, n))
        self.low.u.handler_keys += 1
        keys = ir.GlobalVariable(self.low.u.module, keys_ty, f"fl.keys.{self.low.u.handler_keys}")
        keys.linkage = "internal"
        keys.global_constant = True
        keys.initializer = ir.Constant(
            keys_ty, [self.low.cstring(k) for k in e.keys] or [ir.Constant(PTR, None)]
        )
        height = b.call(self.low.rt("fl_handler_height"), [])
        self.set_site(e.span)
        pushed = b.call(self.low.rt("fl_handler_push"), [self.const(n), keys.bitcast(PTR), argv])
        # not pushed (a clause is not a function): the error's resumed value, or pending
        grown = b.icmp_signed(">", b.call(self.low.rt("fl_handler_height"), []), height)
        refused = self.new_block("handler.refused")
        go = self.new_block("handler.body")
        b.cbranch(grown, go, refused)
        b.position_at_end(refused)
        refused_end = b.block
        end = self.new_block("handler.end")
        b.cbranch(b.icmp_unsigned("==", pushed, self.const(0)), self.current_landing(), end)
        b.position_at_end(go)
        land = self.new_block("handler.unwind")
        with self.landing_at(land):
            v = self.value(e.body)
        self.b.call(self.low.rt("fl_handler_restore"), [height])
        after = self.b.block
        self.b.branch(end)
        self.b.position_at_end(land)
        self.b.call(self.low.rt("fl_handler_restore"), [height])
        self.b.branch(self.current_landing())
        self.b.position_at_end(end)
        phi = self.b.phi(I64)
        phi.add_incoming(v, after)
        phi.add_incoming(pushed, refused_end)
        return phi

    def matcher(self, catches: Sequence[r.RClause]) -> ir.Function:
        """A function testing the catch patterns of a try against an error value."""
        self.low.u.matchers += 1
        fn = ir.Function(self.low.u.module, MATCHER_TY, f"fl.matcher.{self.low.u.matchers}")
        fn.linkage = "internal"
        gen = _FnGen(self.low, fn, self.name, True, None)
        err = fn.args[0]
        for clause in catches:
            fail = gen.new_block("next")
            gen.pattern(clause.pattern, err, fail, bind=False)
            gen.b.ret(ir.Constant(I64, 1))
            gen.b.position_at_end(fail)
        gen.b.ret(ir.Constant(I64, 0))
        gen.finish()
        return fn

    def try_(self, t: r.RTry) -> ir.Value:
        b = self.b
        height = b.call(self.low.rt("fl_handler_height"), [])
        try_id: ir.Value | None = None
        if t.catches:
            try_id = b.call(self.low.rt("fl_try_push"), [self.matcher(t.catches)])
        body_land = self.new_block("try.unwind")
        with self.landing_at(body_land):
            body_v = self.value(t.body)
        b = self.b
        b.call(self.low.rt("fl_handler_restore"), [height])
        results: list[tuple[ir.Value, ir.Block]] = []
        if t.finally_ is not None:
            self.value(t.finally_)
        results.append((body_v, self.b.block))
        end = self.new_block("try.end")
        self.b.branch(end)
        # a pending condition left the body
        self.b.position_at_end(body_land)
        self.b.call(self.low.rt("fl_handler_restore"), [height])
        propagate = self.new_block("try.propagate")
        if t.catches:
            assert try_id is not None
            err = self.b.call(self.low.rt("fl_pending_take_for"), [try_id])
            caught = self.new_block("try.caught")
            self.b.cbranch(self.b.icmp_unsigned("==", err, self.const(0)), propagate, caught)
            self.b.position_at_end(caught)
            catch_land = self.new_block("catch.unwind")
            for clause in t.catches:
                nxt = self.new_block("catch.next")
                self.pattern(clause.pattern, err, nxt, bind=True)
                with self.landing_at(catch_land):
                    v = self.value(clause.body)
                if t.finally_ is not None:
                    self.value(t.finally_)
                results.append((v, self.b.block))
                self.b.branch(end)
                self.b.position_at_end(nxt)
            self.b.branch(propagate)  # cannot happen: the matcher accepted the error
            self.b.position_at_end(catch_land)
            self.b.branch(propagate)
        else:
            self.b.branch(propagate)
        self.b.position_at_end(propagate)
        if t.finally_ is not None:
            skips = self.b.call(self.low.rt("fl_pending_skips_finally"), [])
            run_fin = self.new_block("finally.run")
            self.b.cbranch(
                self.b.icmp_unsigned("!=", skips, self.const(0)), self.current_landing(), run_fin
            )
            self.b.position_at_end(run_fin)
            token = self.b.call(self.low.rt("fl_pending_stash"), [])
            fin_land = self.new_block("finally.unwind")
            with self.landing_at(fin_land):
                self.value(t.finally_)
            self.b.call(self.low.rt("fl_pending_unstash"), [token])
            self.b.branch(self.current_landing())
            self.b.position_at_end(fin_land)
            self.b.call(self.low.rt("fl_pending_drop"), [token])
            self.b.branch(self.current_landing())
        else:
            self.b.branch(self.current_landing())
        self.b.position_at_end(end)
        phi = self.b.phi(I64)
        for v, blk in results:
            phi.add_incoming(v, blk)
        return phi


PRELUDE_INIT = "fl_prelude_init"


# A `musttail` call whose arguments do not all fit in registers loses the ones passed on the
# stack: LLVM lowers it as a sibling call, which forwards the caller's own stack arguments
# (llvm/llvm-project#199224, fixed after the LLVM of llvmlite 0.50). The generic entry's seventh
# parameter (the array of arguments after the fourth) is one of those on x86-64.
MUSTTAIL_MAX_PARAMS = 6


def _span_key(span: Span | None) -> tuple[int, int]:
    return (span.start, span.end) if span is not None else (-1, -1)


CallTargets = dict[str, list[list[Any]]]
"""Tier 2's inline caches as the JIT gives them: a call site's span (`"START:END"`) -> the
functions the VM saw called there, most called first (`[START, END, NAME]` of each lambda)."""


def _resolve_call_targets(
    program: r.RProgram, spec: CallTargets | None
) -> dict[tuple[int, int], list[r.Fn]]:
    """The lambdas of `program` each call site of `spec` calls (sites and lambdas not found in
    it are left out)."""
    if not spec:
        return {}
    fns: dict[tuple[int, int, str], r.Fn] = {}
    for form, _ in program.forms:
        for node in r.walk(form):
            if isinstance(node, r.Fn):
                fns.setdefault((node.span.start, node.span.end, node.name), node)
    out: dict[tuple[int, int], list[r.Fn]] = {}
    for site, rows in spec.items():
        start, _, end = site.partition(":")
        found = [fns[key] for key in ((int(a), int(z), str(n)) for a, z, n in rows) if key in fns]
        if found:
            out[(int(start), int(end))] = found
    return out


def _tail_marker(caller: ir.Function, callee_ty: ir.FunctionType) -> str:
    """`musttail` between entries of one prototype whose arguments all travel in registers;
    `tail` otherwise, which `tailcc` also guarantees to be a real tail call (DESIGN.md §4.2)."""
    same = caller.function_type == callee_ty
    return "musttail" if same and len(callee_ty.args) <= MUSTTAIL_MAX_PARAMS else "tail"


def _prelude_builtin(name: str) -> primitives.Prim | None:
    """The table row of a prelude function that is a builtin (map, sort, ...), else None."""
    prim = primitives.lookup(name)
    if prim is not None and prim.kind is PrimKind.PRELUDE and prim.name == name:
        return prim
    return None


def _exported_entry(name: str) -> str:
    return "fl.prelude.fn." + name.removeprefix("%prelude:")


def _exported_closure(name: str) -> str:
    return "fl.prelude.clo." + name.removeprefix("%prelude:")


@record(slots=False)
class PreludeInterface:
    """What a program's unit must know of the prelude's: global slots and known functions."""

    slots: dict[str, int]
    known: dict[str, r.Fn]


def prelude_interface(prelude: r.RProgram) -> PreludeInterface:
    slots = {name: i for i, name in enumerate(prelude.globals)}
    probe = Lowerer.__new__(Lowerer)
    probe.known = {}
    probe._find_known_functions(prelude)
    by_id = {
        id(form.value): form.value
        for form, _ in prelude.forms
        if isinstance(form, r.GlobalSet) and isinstance(form.value, r.Fn)
    }
    known = {name: by_id[fid] for fid, name in probe.known.items()}
    return PreludeInterface(slots, known)


def _is_arith(e: Any) -> bool:
    """A two-argument `+`, `-`, `*` or `/` (aliases included)."""
    if not isinstance(e, r.PrimApp) or len(e.args) != 2:
        return False
    prim = primitives.lookup(e.name)
    return prim is not None and prim.name in ("+", "-", "*", "/")


def _tree_in_order(e: Any, quiet: Callable[[Any], bool]) -> bool:
    """Whether the tree of `_is_arith` operations `e` may be computed leaves first (`dtree`):
    every leaf that comes after an operation, which the VM applies (and which may raise) before
    it evaluates the leaf, is `quiet` (shows, raises and changes nothing)."""
    stack: list[tuple[Any, bool]] = [(e, False)]
    applied = False
    while stack:
        n, operands_done = stack.pop()
        if operands_done:
            applied = True
        elif _is_arith(n):
            stack.extend(((n, True), (n.args[1], False), (n.args[0], False)))
        elif applied and not quiet(n):
            return False
    return True


def _has_division(e: Any) -> bool:
    """A tree of `_is_arith` operations with a `/` in it (a zero divisor needs the generic way)."""
    if not _is_arith(e):
        return False
    prim = primitives.lookup(e.name)
    return (prim is not None and prim.name == "/") or any(_has_division(a) for a in e.args)


def _arith_leaves(e: Any) -> list[Any]:
    """The operands of a tree of two-argument `+ - *`, left to right."""
    out: list[Any] = []
    stack = [e]
    while stack:
        n = stack.pop()
        if _is_arith(n):
            stack.extend(reversed(n.args))
        else:
            out.append(n)
    return out


_NO_SPEC = (r.Fn, r.RWhile, r.RMatch, r.RHandle, r.RTry, r.RPerform)


# builtins that neither change nor show anything (they may raise, which an iteration run again
# would do at the same point, nothing having been seen before it)
_PURE_LOOP_PRIMS = frozenset(
    "+ - * < > <= >= = mod quot rem abs min max not zero? even? odd? positive? negative?".split()
)


def _pure_loop_body(lam: r.Fn, is_self_ref: Callable[[r.Fn, Any], bool]) -> bool:
    """Whether an iteration of the self-tail-call loop `lam` can run again from its start at
    any point before its self tail call: its body is only literals, references, `let`, `if`,
    `do`, the builtins of _PURE_LOOP_PRIMS and self tail calls."""
    n_params = len(lam.params)

    def pure(e: Any, tail: bool) -> bool:
        if isinstance(e, c.Lit | r.LocalRef):
            return True
        if isinstance(e, r.PrimApp):
            return e.name in _PURE_LOOP_PRIMS and all(pure(a, False) for a in e.args)
        if isinstance(e, r.RIf):
            return pure(e.test, False) and pure(e.then, tail) and pure(e.else_, tail)
        if isinstance(e, r.RSeq | r.Scope):
            items = e.exprs if isinstance(e, r.RSeq) else e.body
            last = len(items) - 1
            return all(pure(x, tail and i == last) for i, x in enumerate(items))
        if isinstance(e, r.LocalSet):
            return e.define and not e.var.boxed and pure(e.value, False)
        if isinstance(e, r.RCall):
            return (
                tail
                and len(e.args) == n_params
                and is_self_ref(lam, e.fn)
                and all(pure(a, False) for a in e.args)
            )
        return False

    return pure(lam.body, True)


def _spec_loop_ok(lam: r.Fn, is_self_ref: Callable[[r.Fn, Any], bool]) -> bool:
    """A self-tail-call loop whose body may be lowered twice (see _float_loop_params)."""
    if lam.rest is not None or any(p.boxed for p in lam.params):
        return False
    if any(isinstance(n, _NO_SPEC) for n in r.walk(lam.body)):
        return False
    n_params = len(lam.params)
    return any(
        len(call.args) == n_params and is_self_ref(lam, call.fn) for call in _tail_calls(lam.body)
    )


def _tail_calls(e: Any) -> Iterator[r.RCall]:
    """The calls in tail position of a lambda body."""
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, r.RCall):
            yield n
        elif isinstance(n, r.RIf):
            stack.extend((n.then, n.else_))
        elif isinstance(n, (r.RSeq,)):
            stack.append(n.exprs[-1])
        elif isinstance(n, r.Scope):
            stack.append(n.body[-1])


def _float_loop_params(lam: r.Fn, is_self_ref: Callable[[r.Fn, Any], bool]) -> list[int]:
    """The parameters of a self-tail-call loop worth keeping as raw doubles: every self tail
    call passes them something the lowering computes as a double (a Float literal, a tree of
    `+ - *` over such values, the parameter, or a local defined by one). A heuristic only: the
    specialized loop is entered and re-entered after tag checks."""
    if lam.rest is not None or any(p.boxed for p in lam.params):
        return []
    defs: dict[r.Var, Any] = {}
    twice: set[r.Var] = set()
    for n in r.walk(lam.body):
        if isinstance(n, _NO_SPEC):
            return []  # lowered twice: keep to bodies whose lowering has no side tables
        if isinstance(n, r.LocalSet) and n.define:
            v = n.var
            if v.boxed or v.captured or v.assigned or v in defs:
                twice.add(v)
            defs[v] = n.value
    for v in twice:
        defs.pop(v, None)
    n_params = len(lam.params)
    calls = [
        call
        for call in _tail_calls(lam.body)
        if len(call.args) == n_params and is_self_ref(lam, call.fn)
    ]
    if not calls:
        return []
    cands = {i for i, p in enumerate(lam.params) if not (p.captured or p.assigned)}

    def floaty(e: Any, assumed: set[r.Var], seen: frozenset[r.Var]) -> bool:
        if isinstance(e, c.Lit):
            return type(e.value) is float
        if isinstance(e, r.LocalRef):
            if e.var in assumed:
                return True
            if e.var in defs and e.var not in seen:
                return floaty(defs[e.var], assumed, seen | {e.var})
            return False
        if _is_arith(e):
            leaves = _arith_leaves(e)
            if any(isinstance(x, c.Lit) and type(x.value) is not float for x in leaves):
                return False
            return any(floaty(x, assumed, seen) for x in leaves)
        return False

    changed = True
    while changed and cands:
        changed = False
        assumed = {lam.params[i] for i in cands}
        for i in sorted(cands):
            if not all(floaty(call.args[i], assumed, frozenset()) for call in calls):
                cands.discard(i)
                changed = True
                break
    return sorted(cands)


_TYPES_MAX_NODES = 20_000  # larger programs are lowered without types (inference time)


def _infer_types(
    prelude: r.RProgram, program: r.RProgram, seeds: dict[str, tuple[Any, ...]] | None = None
) -> TypeResult | None:
    """The program's closed-world types (DESIGN.md §6.2), or None for a very large program;
    `seeds` specialize known functions on the kinds the VM saw (tier 2)."""
    from fluentai.types.infer import infer_program

    nodes = 0
    for form, _ in program.forms:
        for _node in r.walk(form):
            nodes += 1
            if nodes > _TYPES_MAX_NODES:
                return None
    if seeds:
        return infer_program(prelude, program, seeds, closed_world=True)
    return infer_program(prelude, program)


def frame_allocations(program: r.RProgram) -> frozenset[int]:
    """The ids of the allocations of `program` that native code makes in its frames (as
    `lower_program` finds them), for `--dump types`."""
    from fluentai.types.infer import find_known_functions

    known = {id(fn): name for name, fn in find_known_functions(program).items()}
    return _stack_sites(program, known)


def _stack_sites(program: r.RProgram, known: dict[int, str]) -> frozenset[int]:
    """The allocations of `program` that may live in their function's frame; the known
    functions called directly are those given a known entry (`_declare_known`)."""
    from fluentai.types.escape import stack_sites

    direct: dict[str, r.Fn] = {}
    for form, _ in program.forms:
        if isinstance(form, r.GlobalSet) and isinstance(form.value, r.Fn):
            fn = form.value
            name = known.get(id(fn))
            if name is not None and fn.rest is None and len(fn.params) <= _KNOWN_MAX_ARGS:
                direct[name] = fn
    return stack_sites(program, direct, _inlinable_named_let)


def _and_or(e: r.Scope) -> tuple[Any, Any, Any] | None:
    """`(and a b)` and `(or a b)` as the expander writes them, `(let ((t a)) (if t b t))` and
    `(let ((t a)) (if t t b))`: (a, then, else) with the branch that is `t` itself None, when
    `t` appears nowhere else; None for any other scope."""
    bound = _one_binding(e)
    if bound is None:
        return None
    var, value, branch = bound
    if not (
        isinstance(branch, r.RIf)
        and isinstance(branch.test, r.LocalRef)
        and branch.test.var is var
        and not var.boxed
        and not var.assigned
    ):
        return None

    def itself(x: Any) -> bool:
        return isinstance(x, r.LocalRef) and x.var is var

    then = None if itself(branch.then) else branch.then
    else_ = None if itself(branch.else_) else branch.else_
    if (then is None) == (else_ is None):
        return None
    rest = then if then is not None else else_
    if any(isinstance(n, r.LocalRef | r.LocalSet) and n.var is var for n in r.walk(rest)):
        return None
    return value, then, else_


def _one_binding(e: r.Scope) -> tuple[r.Var, Any, Any] | None:
    """(var, its value, the form after) of a scope that binds one variable and then evaluates
    one form, `(let ((var value)) form)`; None for any other scope."""
    if len(e.vars) != 1 or len(e.body) != 2:
        return None
    var = e.vars[0]
    define, form = e.body
    if not (isinstance(define, r.LocalSet) and define.define and define.var is var):
        return None
    return var, define.value, form


def _tail_positions(body: Any) -> Iterator[Any]:
    """The expressions in tail position of a lambda body (as the lowering passes `tail`)."""
    stack = [body]
    while stack:
        n = stack.pop()
        if isinstance(n, r.RIf):
            stack.extend((n.then, n.else_))
        elif isinstance(n, r.RSeq):
            stack.append(n.exprs[-1])
        elif isinstance(n, r.Scope):
            stack.append(n.body[-1])
        elif isinstance(n, r.RMatch):
            stack.extend(clause.body for clause in n.clauses)
        else:
            yield n


def _inlinable_named_let(e: r.RCall, tail: bool) -> r.Fn | None:
    """The lambda of a named let `((letrec ((v (lambda ...))) v) args...)` that can become a
    loop of the function around it: `v` is only called, with its arity, in tail position of
    the lambda's body, and no parameter needs a box. Not in tail position, its body's tail
    positions must hold no other call (those would replace the let's frame, which the loop
    does not have)."""
    bound = _one_binding(e.fn) if isinstance(e.fn, r.Scope) else None
    if bound is None:
        return None
    var, fn, ref = bound
    if not (isinstance(fn, r.Fn) and isinstance(ref, r.LocalRef) and ref.var is var):
        return None
    n = len(fn.params)
    if fn.rest is not None or len(e.args) != n or any(p.boxed for p in fn.params):
        return None
    self_calls = 0
    for x in _tail_positions(fn.body):
        if isinstance(x, r.RCall):
            if isinstance(x.fn, r.LocalRef) and x.fn.var is var and len(x.args) == n:
                self_calls += 1
            elif not tail:
                return None
        elif not tail and isinstance(x, r.PrimApp):
            prim = primitives.lookup(x.name)
            if prim is None or prim.kind in (PrimKind.PRELUDE, PrimKind.INTRINSIC):
                return None
    refs = 0
    for x in r.walk(fn.body):
        if isinstance(x, r.LocalRef) and x.var is var:
            refs += 1
        elif isinstance(x, r.LocalSet) and x.var is var:
            return None
    return fn if refs == self_calls else None


def _scope_defs(vars_: Sequence[r.Var], body: Sequence[Any]) -> dict[r.Var, Any]:
    """The definitions of a Scope's variables that may live unboxed: defined once at the top
    of the body, never assigned, captured or boxed."""
    found: dict[r.Var, Any] = {}
    twice: set[r.Var] = set()
    wanted = {v for v in vars_ if not (v.boxed or v.captured or v.assigned)}
    for x in body:
        if isinstance(x, r.LocalSet) and x.define and x.var in wanted:
            if x.var in found:
                twice.add(x.var)
            found[x.var] = x.value
    return {v: e for v, e in found.items() if v not in twice}


def _has_type(b: ir.IRBuilder, v: ir.Value, t: int) -> ir.Value:
    """v is a pointer word to an object of type t (loads the header only when a pointer)."""
    is_ptr = b.and_(
        b.icmp_unsigned("==", b.and_(v, ir.Constant(I64, 7)), ir.Constant(I64, 0)),
        b.icmp_unsigned("!=", v, ir.Constant(I64, 0)),
    )
    cur = b.block
    check = _block(b.function, "ty")
    join = _block(b.function, "ty.j")
    b.cbranch(is_ptr, check, join)
    b.position_at_end(check)
    hdr = b.load(b.inttoptr(v, PTR), typ=I64)
    same = b.icmp_unsigned("==", b.and_(hdr, ir.Constant(I64, 0xFF)), ir.Constant(I64, t))
    b.branch(join)
    b.position_at_end(join)
    phi = b.phi(I1)
    phi.add_incoming(ir.Constant(I1, 0), cur)
    phi.add_incoming(same, check)
    return phi


def _constant_list(e: r.PrimApp) -> c.QList | None:
    """`(list ...)` whose elements are all literals or such lists, as a quoted list."""
    items: list[Any] = []
    for arg in e.args:
        if isinstance(arg, c.Lit) and not isinstance(arg.value, c.QMap):
            items.append(arg.value)
        elif isinstance(arg, r.PrimApp) and arg.name == "list":
            inner = _constant_list(arg) if arg.args else c.QList(())
            if inner is None:
                return None
            items.append(inner)
        else:
            return None
    return c.QList(tuple(items))


def lower_program(
    prelude: r.RProgram,
    program: r.RProgram,
    *,
    print_values: bool = False,
    print_result: bool = False,
    jit: bool = False,
    seeds: dict[str, tuple[Any, ...]] | None = None,
    call_targets: CallTargets | None = None,
    quick: bool = False,
) -> LoweredProgram:
    """The program's module (the prelude's unit is linked beside it): see the module docstring.
    `jit`: a unit the VM calls into (`fl_jit_init`), not a program that runs itself; `seeds`:
    known functions' parameter types to specialize on (the JIT's tier 2, fluentai/jit/tier2.py);
    `call_targets`: the call sites given inline caches, with the functions they check for;
    `quick`: code that is compiled once for one run (a first run's image) rather than kept, so
    nothing is unrolled (accumulate.FX_COPIES)."""
    low = Lowerer(print_values, print_result, jit)
    low.seeds = seeds
    low.quick = quick
    low.call_targets_spec = call_targets
    return low.lower_program(prelude, program)


def lower_prelude(prelude: r.RProgram, *, jit: bool = False) -> LoweredProgram:
    """The prelude's module, compiled once and cached (native.py); `jit`: with its lambdas'
    descriptors exported, for the JIT's units."""
    return Lowerer(jit=jit).lower_prelude(prelude)


__all__ = ["LambdaInfo", "LoweredProgram", "SiteInfo", "lower_prelude", "lower_program"]
