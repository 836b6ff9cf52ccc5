/* fl_runtime.h: the FluentAI runtime's contract with generated code (DESIGN.md §3-§5).
 *
 * Native code (JIT units and AOT executables) and this library share:
 *   - the value word (§3.1) and heap layouts (§3.3) below, read and written by both sides;
 *   - the global variables `fl_rt_*` that generated code loads and stores directly;
 *   - the functions declared here, all `ccc`, that generated code calls.
 *
 * Status rule (§5.1): every function returning fl_value returns 0 when an error, an interrupt or
 * an `exit` is pending (details in the runtime's pending state); generated code then unwinds.
 * A builtin whose error a handler resumes returns the handler's value instead (LANGUAGE.md §14.4).
 *
 * Builtins: the builtin named NAME in the primitives table is
 *     fl_value fl_b_<mangle(NAME)>(int64_t argc, const fl_value *argv);
 * with its arity already checked by the caller (fl_prims_gen.h lists every prototype).
 * Default behaviours of built-in effect operations have the same shape, named fl_e_<mangle(op)>.
 */
#ifndef FL_RUNTIME_H
#define FL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t fl_value;

/* ---- value words (§3.1) ---------------------------------------------------------------- */

#define FL_FALSE ((fl_value)0x06)
#define FL_TRUE ((fl_value)0x0E)
#define FL_EMPTY ((fl_value)0x16)   /* [] */
#define FL_UNBOUND ((fl_value)0x1E) /* uninitialized global or group variable; never visible */
#define FL_NIL ((fl_value)0x26)

#define FL_FIXNUM_MIN (-(INT64_C(1) << 62))
#define FL_FIXNUM_MAX ((INT64_C(1) << 62) - 1)

static inline int fl_is_fixnum(fl_value v) { return (v & 1) != 0; }
static inline int64_t fl_fixnum_value(fl_value v) { return (int64_t)v >> 1; }
static inline fl_value fl_fixnum(int64_t i) { return ((fl_value)i << 1) | 1; }
static inline int fl_is_float(fl_value v) { return (v & 7) == 2; }
static inline double fl_float_value(fl_value v) { return *(const double *)(uintptr_t)(v - 2); }
static inline int fl_is_ptr(fl_value v) { return (v & 7) == 0 && v != 0; }
static inline int fl_is_truthy(fl_value v) { return (v & ~(fl_value)0x20) != 0x06; }
static inline fl_value fl_bool(int b) { return b ? FL_TRUE : FL_FALSE; }

/* ---- heap objects (§3.3) ----------------------------------------------------------------- */
/* Header word: bits 0-7 type, 8-15 flags, 16-63 aux. */

enum fl_type {
    FL_T_CONS = 1,    /* aux = length; fields: head, tail */
    FL_T_STRING = 2,  /* aux = nbytes; fields: int64 ncodepoints, char bytes[nbytes + 1] */
    FL_T_SYMBOL = 3,  /* fields: name (a STRING value), uint64 hash; interned */
    FL_T_BIGNUM = 4,  /* fields: int64 size (signed, GMP convention), mp_limb_t limbs[|size|] */
    FL_T_CLOSURE = 5, /* aux = number of free values; fields: const fl_fndesc *desc, free[aux] */
    FL_T_BOX = 6,     /* fields: value */
    FL_T_MAP = 7,     /* fields: implementation-defined (map.c) */
    FL_T_ADT = 8,     /* aux = constructor id; fields: fields[arity] */
    FL_T_ERROR = 9,   /* fields: kind (STRING), message (STRING), data */
    FL_T_VECTOR = 10, /* aux = n; fields: items[n] (internal: surplus arguments) */
};

#define FL_FLAG_ASCII 0x01 /* STRING: every code point is ASCII */

typedef struct fl_header {
    uint64_t word;
} fl_header;

static inline uint64_t fl_hdr_make(unsigned type, unsigned flags, uint64_t aux) {
    return (uint64_t)type | ((uint64_t)flags << 8) | (aux << 16);
}
static inline unsigned fl_hdr_type(const void *obj) { return (unsigned)(*(const uint64_t *)obj & 0xFF); }
static inline unsigned fl_hdr_flags(const void *obj) {
    return (unsigned)((*(const uint64_t *)obj >> 8) & 0xFF);
}
static inline uint64_t fl_hdr_aux(const void *obj) { return *(const uint64_t *)obj >> 16; }
static inline void *fl_ptr(fl_value v) { return (void *)(uintptr_t)v; }
static inline fl_value fl_from_ptr(const void *p) { return (fl_value)(uintptr_t)p; }
static inline int fl_has_type(fl_value v, unsigned t) { return fl_is_ptr(v) && fl_hdr_type(fl_ptr(v)) == t; }

typedef struct fl_cons {
    uint64_t hdr;
    fl_value head;
    fl_value tail;
} fl_cons;

typedef struct fl_string {
    uint64_t hdr; /* aux = nbytes */
    int64_t ncodepoints;
    char bytes[]; /* UTF-8, NUL-terminated */
} fl_string;

typedef struct fl_symbol {
    uint64_t hdr;
    fl_value name; /* STRING */
    uint64_t hash;
} fl_symbol;

typedef struct fl_bignum {
    uint64_t hdr;
    int64_t size;
    uint64_t limbs[];
} fl_bignum;

/* Kinds of function descriptor. */
enum fl_fn_kind { FL_FN_LAMBDA = 0, FL_FN_BUILTIN = 1, FL_FN_CONSTRUCTOR = 2, FL_FN_EFFECT = 3 };

/* One per lambda (and per builtin, constructor or effect operation used as a value); emitted by
 * the compiler as constant data. `generic` is the entry point
 *     tailcc fl_value (fl_closure *clo, int64_t argc, fl_value a0, a1, a2, a3, fl_vector *rest)
 * where arguments beyond the fourth are in `rest` (a VECTOR; NULL when argc <= 4). */
typedef struct fl_fndesc {
    void *generic;
    int64_t min_arity;
    int64_t max_arity; /* -1: variadic */
    const char *name;  /* "lambda" for anonymous functions; printed as #<function NAME> */
    int64_t kind;      /* enum fl_fn_kind */
} fl_fndesc;

typedef struct fl_closure {
    uint64_t hdr; /* aux = number of free values */
    const fl_fndesc *desc;
    fl_value free[];
} fl_closure;

typedef struct fl_box {
    uint64_t hdr;
    fl_value value;
} fl_box;

typedef struct fl_adt {
    uint64_t hdr; /* aux = constructor id */
    fl_value fields[];
} fl_adt;

typedef struct fl_error {
    uint64_t hdr;
    fl_value kind;    /* STRING */
    fl_value message; /* STRING */
    fl_value data;
} fl_error;

typedef struct fl_vector {
    uint64_t hdr; /* aux = n */
    fl_value items[];
} fl_vector;

/* ---- state shared with generated code ------------------------------------------------------ */

extern int64_t fl_rt_depth;       /* active non-tail FluentAI calls (LANGUAGE.md §12) */
extern int64_t fl_rt_depth_limit; /* max depth; set to 0 by an interrupt so the next call traps */
extern volatile int64_t fl_rt_poll; /* nonzero: an interrupt is requested (checked at back edges) */
extern int64_t fl_rt_site;        /* site id of the operation that may raise next (see sites) */

/* ---- start-up, program run, reports --------------------------------------------------------- */

/* One entry of the compiler's site table: where an operation or call is, for reports and traces.
 * `where` is "FILE:LINE:COL", `fn` the enclosing function's name ("<top level>", "lambda", ...),
 * `text` the source line (without indentation); the caret line under the span is given by
 * its column and width, so long lines with many sites stay small. */
typedef struct fl_site {
    const char *where;
    const char *fn;
    const char *text;
    int64_t caret_col;         /* the caret line: caret_col blanks (a tab under a tab), then caret_width '^' */
    int64_t caret_width;
    const char *report_prefix; /* "FILE:LINE:COL" of the span start, for the report line */
} fl_site;

/* The generic-call shim, generated by the compiler (C cannot call tailcc code):
 *     fl_value shim(fl_value closure, int64_t argc, const fl_value *argv)
 * Used for effect clauses; it checks the callee is a function. */
typedef fl_value (*fl_call_fn)(fl_value clo, int64_t argc, const fl_value *argv);

/* Initialize the runtime once per process on the main thread (GC_INIT, PRNG from FLUENTAI_SEED
 * or entropy, stdout buffer). Idempotent. */
void fl_rt_init(void);
/* Per program run: the call shim, site table, program arguments (UTF-8 C strings), depth limit.
 * Resets pending state, handler stack, state store, depth, poll flag. */
void fl_rt_begin(fl_call_fn shim, const fl_site *sites, int64_t nsites, int64_t argc,
                 const char *const *argv, int64_t max_depth);
/* Threads that run native code must be registered with the GC (the JIT's program thread). */
void fl_rt_thread_attach(void);
void fl_rt_thread_detach(void);
/* After the program's top level returned `result` (0 = something pending): flush output, write
 * the report for an uncaught error (LANGUAGE.md §13.4) or `interrupted`, and return the exit
 * status: 0, 70, 130, or the code given to `exit`. */
int64_t fl_rt_finish(fl_value result);
/* Request an interrupt (async-signal-safe: only stores). */
void fl_rt_interrupt(void);
/* A second Ctrl-C: write the buffered standard output as far as it goes without waiting, for a
 * process that ends at once (async-signal-safe; the program thread may still be running). */
void fl_out_rescue(void);

/* ---- allocation (GC) ------------------------------------------------------------------------- */

void *fl_alloc(int64_t nbytes);        /* GC_malloc: may hold pointers */
void *fl_alloc_atomic(int64_t nbytes); /* GC_malloc_atomic: no pointers */
/* An uncollectable, scanned array of n words, each initialized to FL_UNBOUND (globals, literal
 * pools). */
fl_value *fl_alloc_roots(int64_t n);

/* ---- constructors of values ------------------------------------------------------------------ */

fl_value fl_box_float(double d);
fl_value fl_int_from_i64(int64_t i);                  /* fixnum or bignum */
fl_value fl_int_from_decimal(const char *text);       /* literal bignums: "-123..." */
fl_value fl_string_from_utf8(const char *bytes, int64_t nbytes); /* valid UTF-8 */
fl_value fl_symbol_intern(const char *bytes, int64_t nbytes);
fl_value fl_cons_new(fl_value head, fl_value tail);   /* never raises */
/* (%link! prev x like) of the prelude's map (list.c); never raises */
fl_value fl_link_new(fl_value prev, fl_value x, fl_value like);
fl_vector *fl_vector_new(int64_t n);
/* The list of argv[start..argc-1] where the first four words are a0..a3 and the rest in rest. */
fl_value fl_rest_list(int64_t argc, int64_t start, fl_value a0, fl_value a1, fl_value a2,
                      fl_value a3, const fl_vector *rest);
fl_value fl_error_new(fl_value kind, fl_value message, fl_value data); /* type-checks, may raise */
/* Build the compound literals (quoted lists, maps, folded error values) of a unit's literal pool
 * from the compiler's table (format in literals.c). */
void fl_literals_compound(const uint64_t *code, int64_t ncode, fl_value *pool);

/* Constructors of `data` types, registered once per run in id order (ids from 0).
 * `field_types` are the declared field types as text ("Int", "(List a)", ...; "_" for none). */
void fl_ctor_register(int64_t id, const char *name, const char *type_name, int64_t arity,
                      const char *const *field_types);
/* Build an ADT value, checking declared field types (type-error as in the VM). arity 0 returns
 * the preallocated value. */
fl_value fl_adt_new(int64_t ctor_id, const fl_value *fields);
fl_value fl_adt_init(int64_t ctor_id, const fl_value *fields, void *mem);

/* ---- arithmetic slow paths (operands not both fixnums, or overflow) --------------------------- */

fl_value fl_add2(fl_value a, fl_value b);
fl_value fl_sub2(fl_value a, fl_value b);
fl_value fl_mul2(fl_value a, fl_value b);
fl_value fl_lt2(fl_value a, fl_value b); /* FL_TRUE/FL_FALSE, or 0; type-errors name `<` */
fl_value fl_gt2(fl_value a, fl_value b);
fl_value fl_le2(fl_value a, fl_value b);
fl_value fl_ge2(fl_value a, fl_value b);
fl_value fl_numeq2(fl_value a, fl_value b); /* `=` on any two values */

/* ---- equality, printing, type checks ---------------------------------------------------------- */

int fl_equal(fl_value a, fl_value b); /* structural equality of LANGUAGE.md §4 */
/* `(: e T)`: returns v when it has type T (given as text, e.g. "(List Int)"), else raises
 * type-error with the VM's message. */
fl_value fl_check_type(fl_value v, const char *type_text);
/* Error value fields for `catch`/`match` patterns: 0 when v is not an ERROR. */
int fl_is_error(fl_value v);

/* ---- errors (§5.3) ------------------------------------------------------------------------------ */

/* Raise an error of KIND with MESSAGE (UTF-8) and data nil, at fl_rt_site: performs error:raise.
 * Returns a handler's value, or 0 (pending). */
fl_value fl_raise(const char *kind, const char *message);
/* Same with a printf-style message. */
fl_value fl_raisef(const char *kind, const char *fmt, ...);
fl_value fl_raise_value(fl_value error); /* raise an ERROR value (its trace restarts here) */
fl_value fl_raise_arity(const char *name, int64_t min, int64_t max, int64_t got);
fl_value fl_raise_arity_by_twos(const char *name, int64_t min, int64_t got);
fl_value fl_raise_unbound(const char *name);      /* `NAME` is not defined */
/* *slot = v, out of LLVM's sight: a stack slot that must stay in memory (lower.known_global) */
void fl_store_word(fl_value *slot, fl_value v);
fl_value fl_raise_not_function(fl_value callee);  /* type-error: calling a non-function */
fl_value fl_raise_match_failure(fl_value subject); /* no pattern matches V */
fl_value fl_raise_stack_overflow(void);           /* uncatchable by handler clauses */

/* Trace entries are appended by generated code at each non-tail call site that sees 0 from a
 * FluentAI call (the raise itself recorded the innermost entry from fl_rt_site). */
void fl_trace_add(int64_t site);
void fl_trace_settle(void);

/* Pending state, as `try` and `finally` see it. */
enum fl_pending_kind { FL_PENDING_NONE = 0, FL_PENDING_ERROR = 1, FL_PENDING_INTERRUPT = 2,
                       FL_PENDING_EXIT = 3, FL_PENDING_RESUME = 4 };
int64_t fl_pending_kind(void);
/* 1 when no `finally` runs for the pending condition: `exit`, or a fatal error (kinds internal
 * and out-of-memory); else 0. */
int64_t fl_pending_skips_finally(void);
/* `(raise ...)` in prelude code: as `(perform error:raise ...)`, but a clause's value is made
 * pending (RESUME) and 0 returned, so the builtin's frames unwind to the program's call of it. */
fl_value fl_prelude_raise(int64_t argc, const fl_value *argv);
/* At a program's call site that got 0: the value a clause resumed a builtin's raise with
 * (clearing the RESUME condition), or 0 when another condition is pending. */
fl_value fl_take_resumed(void);
/* If the pending condition is an error aimed at try frame `id`: clear it and return the error
 * value; else 0. */
fl_value fl_pending_take_for(int64_t try_id);
/* `finally` runs with the pending condition set aside: stash returns a token, unstash restores
 * it (an error raised by the finally body replaces it: then do not unstash). */
int64_t fl_pending_stash(void);
void fl_pending_unstash(int64_t token);
void fl_pending_drop(int64_t token);

/* Safepoints (§4.4): called when fl_rt_poll != 0 (returns 0: interrupt now pending), and when a
 * call would exceed fl_rt_depth_limit (raises stack-overflow, or makes the interrupt pending). */
fl_value fl_poll_slow(void);
fl_value fl_depth_slow(void);
fl_value fl_depth_slow_prelude(void);

/* ---- handlers and perform (§5.2) --------------------------------------------------------------- */

/* Height of the handler stack; restore it when a `handler` or `try` is left (any way). */
int64_t fl_handler_height(void);
void fl_handler_restore(int64_t height);
/* Push a handler frame with clauses: keys[i] is "ns:op" or "ns", fns[i] the clause. Each fns[i]
 * must be a function (else type-error, returns 0 and pushes nothing). Returns FL_NIL. */
fl_value fl_handler_push(int64_t n, const char *const *keys, const fl_value *fns);
/* Push a try frame whose catch patterns are tested by `matcher(error) != 0`; returns its id. */
typedef int64_t (*fl_matcher_fn)(fl_value error);
int64_t fl_try_push(fl_matcher_fn matcher);

/* Perform OP ("ns:op") with arguments: the innermost handler clause, else `dflt` (the op's
 * default behaviour, an fl_e_* function; NULL for user-defined operations: unhandled-effect). */
typedef fl_value (*fl_prim_fn)(int64_t argc, const fl_value *argv);
fl_value fl_perform(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv);
/* The same in tail position of a program function: a default behaviour replaces the frame. */
fl_value fl_perform_tail(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv);
fl_value fl_perform_applied(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv);

/* `apply`: the arguments as a VECTOR (all but the last, then the elements of the last, a List;
 * type-error otherwise). */
fl_vector *fl_apply_args(int64_t argc, const fl_value *argv);

/* ---- bridge: values between the VM and native code (bridge.c, jit/bridge.py; §3.4) ------------ */

/* Build nout values from a pre-order word stream (format in bridge.c) into out, which must be
 * scanned memory (fl_alloc_roots). Returns 0, or -1 when the stream is malformed. */
int64_t fl_bridge_decode(const uint64_t *code, int64_t n, fl_value *out, int64_t nout);
/* Serialize v into an internal buffer, valid until the next call on this thread; *n receives
 * its length in words (-1 and NULL for a word that is not a value). Never lets a collection
 * run, so v may be a word nothing else roots. */
const uint64_t *fl_bridge_encode(fl_value v, int64_t *n);
/* Compound item number `index` of the last successful decode (0 when there is none): the native
 * closures a decode made, which the JIT pairs with the VM closures they came from. Valid until
 * the next decode. */
fl_value fl_bridge_decoded(int64_t index);
/* n scanned, uncollectable words (as fl_alloc_roots), allocated without letting a collection run:
 * the caller may hold native values that only Python ints refer to. */
fl_value *fl_bridge_pin_page(int64_t n);
/* The pending ERROR value (0 when none, or for a fatal error), its kept trace site ids in append
 * order (innermost first; at most max, the innermost and outermost FL_TRACE_KEEP when the trace
 * is longer) and the total count. */
fl_value fl_bridge_pending_error(int64_t *trace_out, int64_t max, int64_t *count);
const char *fl_bridge_pending_fatal(void); /* a fatal error's message, else NULL */
int64_t fl_bridge_exit_code(void);         /* the code of a pending `exit` */
void fl_bridge_clear_pending(void);        /* reset the pending state and the handler stack */
/* A CLOSURE over the descriptor desc with free values free[0..nfree). */
fl_value fl_bridge_closure(const void *desc, int64_t nfree, const fl_value *free);
void fl_bridge_set_depth(int64_t d); /* fl_rt_depth */
int64_t fl_bridge_get_depth(void);

/* ---- jit: the VM entering native code (jit.c, jit/jit.py; DESIGN.md §7) ----------------------- */

/* Call the lambda of `desc` with argv[0..argc) at call depth `depth`; argv[argc..argc+nfree) are
 * its free values (boxed where boxmask says, the closure itself where selfmask says) and
 * argv[argc+nfree] receives the closure. The result, or 0 with a condition pending. */
fl_value fl_jit_call(const fl_fndesc *desc, int64_t nfree, uint64_t selfmask, uint64_t boxmask,
                     int64_t argc, fl_value *argv, int64_t depth);
/* Run a `while` loop's OSR entry on its outer variables at call depth `depth`: nil, or 0 with a
 * condition pending; `vars` then holds the values of the variables the loop may assign. */
fl_value fl_jit_osr(fl_value (*entry)(fl_value *), fl_value *vars, int64_t depth);
/* Consume an interrupt requested while native code returned (1), else 0. */
int64_t fl_jit_take_interrupt(void);
/* The root arrays a JIT unit's initialization makes are recorded from fl_jit_roots_begin to
 * fl_jit_roots_end (which returns them as a set); fl_jit_roots_free frees a set's arrays, once no
 * code can read them (the unit is being unloaded). */
void fl_jit_roots_begin(void);
void *fl_jit_roots_end(void);
void fl_jit_roots_free(void *set);
/* The bytes mapped for the shared object holding `addr` (its loadable segments), or -1. */
int64_t fl_jit_code_size(const void *addr);

#endif
