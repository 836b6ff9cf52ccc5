/* fl_ctl.h: private declarations of the control files (error.c, effects.c, io.c, random.c,
 * misc.c, main.c): the runtime's own GC roots, the handler stack's frames, the pending record.
 *
 * All mutable control state lives in the one struct `fl_ctl` below, registered with GC_add_roots
 * at fl_rt_init (DESIGN.md §3.5 item 6); arrays it points to are GC_MALLOC'd, hence scanned.
 */
#ifndef FL_CTL_H
#define FL_CTL_H

#include <gc.h>

#include "fl_internal.h"

/* ---- pending condition and its trace (error.c) ----------------------------------------------- */

#define FL_TRACE_KEEP 10 /* entries kept at each end of a trace (LANGUAGE.md §13.4) */

/* Site ids of one unwinding error, in append order: [0] is the raise site (innermost). The first
 * FL_TRACE_KEEP entries are kept in `inner`; `outer` is a ring holding the last ones. */
typedef struct fl_trace {
    int64_t count;
    int64_t inner[FL_TRACE_KEEP];
    int64_t outer[FL_TRACE_KEEP];
    bool fresh; /* no entry appended since the raise recorded inner[0] */
    /* site + 1 of the last entry when a clause's failure appended it on behalf of the frame
     * that applied an operation as a value (fl_perform_applied): that frame's own append of
     * the same site is a repeat; 0 otherwise */
    int64_t standin;
} fl_trace;

typedef struct fl_pending_rec {
    int64_t kind;       /* enum fl_pending_kind */
    fl_value error;     /* ERROR value (0 for a fatal error) */
    int64_t target;     /* id of the try frame that catches it, or -1 */
    int64_t exit_code;  /* FL_PENDING_EXIT */
    const char *fatal;  /* non-NULL: a fatal error's message (kinds internal, out-of-memory) */
    fl_trace trace;
} fl_pending_rec;

/* ---- handler stack (effects.c) --------------------------------------------------------------- */

enum fl_hframe_kind { FL_HFRAME_HANDLER = 0, FL_HFRAME_TRY = 1 };

typedef struct fl_hframe {
    int64_t kind;
    int64_t n;                /* HANDLER: number of clauses */
    const char *const *keys;  /* HANDLER: "ns:op" or "ns" (the generated code's constant data) */
    fl_value *fns;            /* HANDLER: clause functions (a GC copy) */
    int64_t try_id;           /* TRY */
    fl_matcher_fn matcher;    /* TRY */
} fl_hframe;

/* ---- the roots ------------------------------------------------------------------------------- */

typedef struct fl_ctl_roots {
    fl_pending_rec pending;
    fl_pending_rec *stash; /* finally bodies' set-aside conditions (a LIFO) */
    int64_t nstash, stash_cap;
    fl_hframe *frames; /* the handler stack; frames[top - 1] is innermost */
    int64_t top, frames_cap;
    fl_hframe *saved; /* frames set aside while a clause runs under its handler's parent */
    int64_t nsaved, saved_cap;
    fl_value state; /* the state store: a persistent map */
    fl_value *txn;  /* saved stores of open transactions */
    int64_t ntxn, txn_cap;
    fl_value args; /* the List `(args)` returns */
    fl_call_fn shim;
    const fl_site *sites;
    int64_t nsites;
    int64_t max_depth;
    int64_t next_try_id;
    fl_value (*read_line_hook)(void);
} fl_ctl_roots;

extern fl_ctl_roots fl_ctl;

/* ---- shared helpers -------------------------------------------------------------------------- */

/* Grow a GC array of `size`-byte elements so that index `need - 1` fits. */
void *fl_ctl_grow(void *array, int64_t *cap, int64_t need, size_t size);
/* A String value from a NUL-terminated UTF-8 C string. */
fl_value fl_ctl_string(const char *s);
/* A String as it is, any other value in its display form (error messages, LANGUAGE.md §13.2). */
fl_value fl_ctl_message_text(fl_value v);
/* An ERROR value (no checks). */
fl_value fl_ctl_make_error(fl_value kind, fl_value message, fl_value data);
/* The written form of v as a NUL-terminated GC string. */
const char *fl_ctl_written(fl_value v);
/* Whether bytes[0..n) is valid UTF-8 as Python's decoder accepts it (no surrogates, no
 * overlongs, nothing above U+10FFFF). */
bool fl_utf8_valid(const char *bytes, int64_t n);

/* error.c: raise an ERROR value: the lookup of DESIGN.md §5.3 (handler clauses are skipped for
 * kind stack-overflow). Returns a handler clause's value, or 0 with the error pending. */
fl_value fl_ctl_raise_error(fl_value error);
void fl_ctl_set_interrupt(void); /* make INTERRUPT pending */
void fl_ctl_set_exit(int64_t code);
/* Make RESUME pending with a clause's value v (fl_prelude_raise; `apply`, whose result type
 * cannot carry a value): the caller returns 0, and the program's call site takes v. */
void fl_ctl_set_resumed(fl_value v);
void fl_ctl_reset_pending(void);

/* effects.c */
void fl_ctl_reset_handlers(void);
void fl_ctl_reset_state(void);
int64_t fl_rt_state_install(const fl_value *words, int64_t n);
int64_t fl_rt_state_export(fl_value *out, int64_t cap);
/* The clause of handler frame `f` for `op` (exact key first, else its namespace, nslen bytes):
 * the function, or 0; *by_ns tells which matched. */
fl_value fl_ctl_frame_clause(const fl_hframe *f, const char *op, size_t nslen, bool *by_ns);
/* Call the clause `fn` of frame `index` with the handler stack cut to the frames below it. */
fl_value fl_ctl_call_clause(int64_t index, fl_value fn, int64_t argc, const fl_value *argv);

/* misc.c: a FLUENTAI_* setting's decimal Int (fluentai/settings.py `integer`): ASCII digits,
 * a sign and blanks around allowed; *positive: whether it is above 0. */
bool fl_ctl_setting_int(const char *text, bool *positive);

/* misc.c: interrupts. */
bool fl_ctl_interrupt_requested(void);
fl_value fl_ctl_take_interrupt(void); /* acknowledge the request, make INTERRUPT pending; 0 */

/* io.c */
void fl_ctl_write_stderr(const char *bytes, int64_t n); /* after flushing standard output */
/* The JIT host's reader (DESIGN.md §5.4): returns a String, FL_NIL at end of input, or 0 with a
 * condition pending. NULL: read standard input here. */
void fl_rt_set_read_line_hook(fl_value (*hook)(void));
/* Whether standard output is at the start of a line (nothing written counts): `--print-values`. */
bool fl_out_at_line_start(void);
fl_value fl_print_top_value(fl_value v); /* -p and eval: a value on its own line, not nil */

/* random.c: xoshiro256** state, shared with the VM's Prng through a memoryview (§3.4). */
extern uint64_t fl_prng_state[4];
void fl_prng_seed(uint64_t n);
uint64_t fl_prng_next(void);
void fl_prng_seed_from_environment(void); /* FLUENTAI_SEED, else OS entropy */

#endif
