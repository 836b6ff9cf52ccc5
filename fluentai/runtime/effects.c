/* effects.c: the handler stack, perform, and the default behaviours of the state and time
 * operations (DESIGN.md §5.2, §5.4; LANGUAGE.md §14.2-§14.3).
 *
 * The handler stack is one array of frames, innermost last: HANDLER frames (clauses) and TRY
 * frames (a matcher for the catch patterns). A clause runs with the stack cut back to the frames
 * below its own: the frames above the cut are copied aside and put back when the clause returns,
 * however it returns, so a clause that performs the same operation reaches the next outer handler.
 *
 *     push HANDLER{io:print -> f}; fl_perform("io:print", fl_e_ioZ3a_print, 1, ["a"])
 *       -> f("a") with height 0 during the call, then height 1 again; its value is the result
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "fl_ctl.h"

void *fl_ctl_grow(void *array, int64_t *cap, int64_t need, size_t size) {
    if (need <= *cap) return array;
    int64_t n = *cap < 8 ? 8 : *cap;
    while (n < need) n *= 2;
    void *grown = GC_MALLOC((size_t)n * size);
    if (grown == NULL) {
        fl_raise("out-of-memory", "out of memory");
        return array; /* callers see *cap < need: out of memory is pending */
    }
    if (array != NULL) memcpy(grown, array, (size_t)*cap * size);
    *cap = n;
    return grown;
}

/* ---- frames ---------------------------------------------------------------------------------- */

void fl_ctl_reset_handlers(void) {
    fl_ctl.top = 0;
    fl_ctl.nsaved = 0;
    if (fl_ctl.frames != NULL)
        memset(fl_ctl.frames, 0, (size_t)fl_ctl.frames_cap * sizeof(fl_hframe));
}

int64_t fl_handler_height(void) { return fl_ctl.top; }

void fl_handler_restore(int64_t height) {
    if (height < 0 || height > fl_ctl.top) return;
    for (int64_t i = height; i < fl_ctl.top; i++) fl_ctl.frames[i].fns = NULL; /* let them go */
    fl_ctl.top = height;
}

static fl_hframe *push_frame(void) {
    int64_t need = fl_ctl.top + 1;
    fl_ctl.frames = fl_ctl_grow(fl_ctl.frames, &fl_ctl.frames_cap, need, sizeof(fl_hframe));
    if (fl_ctl.frames_cap < need) return NULL;
    fl_hframe *f = &fl_ctl.frames[fl_ctl.top++];
    memset(f, 0, sizeof *f);
    return f;
}

fl_value fl_handler_push(int64_t n, const char *const *keys, const fl_value *fns) {
    for (int64_t i = 0; i < n; i++) {
        if (!fl_has_type(fns[i], FL_T_CLOSURE))
            return fl_raisef("type-error", "`handler` expects a function for `%s`, got %s", keys[i],
                             fl_ctl_written(fns[i]));
    }
    fl_value *copy = GC_MALLOC((size_t)(n > 0 ? n : 1) * sizeof(fl_value));
    if (copy == NULL) return fl_raise("out-of-memory", "out of memory");
    memcpy(copy, fns, (size_t)n * sizeof(fl_value));
    fl_hframe *f = push_frame();
    if (f == NULL) return 0;
    f->kind = FL_HFRAME_HANDLER;
    f->n = n;
    f->keys = keys;
    f->fns = copy;
    return FL_NIL;
}

int64_t fl_try_push(fl_matcher_fn matcher) {
    int64_t id = ++fl_ctl.next_try_id;
    fl_hframe *f = push_frame();
    if (f == NULL) return id; /* out of memory is pending: the try is never reached */
    f->kind = FL_HFRAME_TRY;
    f->try_id = id;
    f->matcher = matcher;
    return id;
}

fl_value fl_ctl_frame_clause(const fl_hframe *f, const char *op, size_t nslen, bool *by_ns) {
    if (f->kind != FL_HFRAME_HANDLER) return 0;
    for (int64_t i = 0; i < f->n; i++) { /* the first clause for a key wins, as in the VM */
        if (strcmp(f->keys[i], op) == 0) {
            *by_ns = false;
            return f->fns[i];
        }
    }
    for (int64_t i = 0; i < f->n; i++) {
        const char *key = f->keys[i];
        if (strncmp(key, op, nslen) == 0 && key[nslen] == '\0') {
            *by_ns = true;
            return f->fns[i];
        }
    }
    return 0;
}

fl_value fl_ctl_call_clause(int64_t index, fl_value fn, int64_t argc, const fl_value *argv) {
    int64_t top = fl_ctl.top, above = top - index, base = fl_ctl.nsaved;
    fl_ctl.saved = fl_ctl_grow(fl_ctl.saved, &fl_ctl.saved_cap, base + above, sizeof(fl_hframe));
    if (fl_ctl.saved_cap < base + above) return 0;
    memcpy(&fl_ctl.saved[base], &fl_ctl.frames[index], (size_t)above * sizeof(fl_hframe));
    fl_ctl.nsaved = base + above;
    fl_ctl.top = index;
    fl_value result = fl_call_value(fn, argc, argv);
    /* Invariant: frames_cap >= top still (capacity never shrinks), so the frames fit back. */
    memcpy(&fl_ctl.frames[index], &fl_ctl.saved[base], (size_t)above * sizeof(fl_hframe));
    memset(&fl_ctl.saved[base], 0, (size_t)above * sizeof(fl_hframe));
    fl_ctl.nsaved = base;
    fl_ctl.top = top;
    return result;
}

/* ---- perform --------------------------------------------------------------------------------- */

static fl_value state_update(const fl_value *argv, bool replacing);

/* `replacing`: the perform replaces its caller's frame (a tail call, or an operation applied as a
 * value), so a default behaviour that calls back (state:update) appends no trace entry for it. A
 * clause of the program is always a non-tail call (LANGUAGE.md §12). */
static fl_value perform(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv,
                        bool replacing) {
    /* error:raise searches handlers and try frames together (DESIGN.md §5.3) */
    if (strcmp(op, "error:raise") == 0) return fl_e_errorZ3a_raise(argc, argv);
    const char *colon = strchr(op, ':');
    size_t nslen = colon != NULL ? (size_t)(colon - op) : strlen(op);
    for (int64_t i = fl_ctl.top - 1; i >= 0; i--) {
        bool by_ns = false;
        fl_value fn = fl_ctl_frame_clause(&fl_ctl.frames[i], op, nslen, &by_ns);
        if (fn == 0) continue;
        if (!by_ns) return fl_ctl_call_clause(i, fn, argc, argv);
        /* an `ns` clause gets the operation's name first */
        fl_value *args = GC_MALLOC((size_t)(argc + 1) * sizeof(fl_value));
        if (args == NULL) return fl_raise("out-of-memory", "out of memory");
        args[0] = fl_ctl_string(colon != NULL ? colon + 1 : "");
        if (argc > 0) memcpy(args + 1, argv, (size_t)argc * sizeof(fl_value));
        return fl_ctl_call_clause(i, fn, argc + 1, args);
    }
    if (dflt == fl_e_stateZ3a_update) return state_update(argv, replacing);
    if (dflt != NULL) return dflt(argc, argv);
    return fl_raisef("unhandled-effect", "no handler for `%s`", op);
}

fl_value fl_perform(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv) {
    return perform(op, dflt, argc, argv, false);
}

/* A perform in tail position of a program function: its default behaviour replaces the frame,
 * like a builtin written in FluentAI that the function tail-calls. The frame stays on the C stack
 * until the perform returns (keeping its depth count, as for `map`), but has no trace entry
 * while a program function that the default calls runs (LANGUAGE.md §12, §13.4). */
fl_value fl_perform_tail(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv) {
    return perform(op, dflt, argc, argv, true);
}

/* An operation applied as a function value (`(map app:x xs)`, `(f 1)` with f = app:x): the
 * application is the perform, a non-tail call whose entry, should the clause fail, fl_call_value
 * appended for the calling frame's site. The calling frame then appends its entry for that same
 * call site (a call of a value), which would repeat it: it is marked to be dropped once. A default
 * behaviour appends none: the calling frame appends its own if the application is not a tail
 * call, and has been replaced if it is. */
fl_value fl_perform_applied(const char *op, fl_prim_fn dflt, int64_t argc, const fl_value *argv) {
    int64_t site = fl_rt_site;
    fl_value result = perform(op, dflt, argc, argv, true);
    fl_pending_rec *p = &fl_ctl.pending;
    if (result == 0 && p->kind == FL_PENDING_ERROR && p->trace.count > 1 && !p->trace.fresh) {
        int64_t last = p->trace.outer[(p->trace.count - 1) % FL_TRACE_KEEP];
        if (last == site) p->trace.standin = site + 1;
    }
    return result;
}

/* ---- the state store (DESIGN.md §5.4) -------------------------------------------------------- */

void fl_ctl_reset_state(void) {
    fl_ctl.state = fl_map_empty();
    for (int64_t i = 0; i < fl_ctl.ntxn; i++) fl_ctl.txn[i] = 0;
    fl_ctl.ntxn = 0;
}

static fl_value state_get(fl_value key) {
    bool found = false;
    fl_value v = fl_map_get(fl_ctl.state, key, &found);
    return found ? v : FL_NIL;
}

static fl_value state_set(fl_value key, fl_value value) {
    fl_value previous = state_get(key);
    fl_value next = fl_map_assoc(fl_ctl.state, key, value);
    if (next == 0) return 0;
    fl_ctl.state = next;
    return previous;
}

fl_value fl_e_stateZ3a_get(int64_t argc, const fl_value *argv) {
    (void)argc;
    return state_get(argv[0]);
}

fl_value fl_e_stateZ3a_set(int64_t argc, const fl_value *argv) {
    (void)argc;
    return state_set(argv[0], argv[1]);
}

fl_value fl_b_Z25_state_get(int64_t argc, const fl_value *argv) {
    (void)argc;
    return state_get(argv[0]);
}

fl_value fl_b_Z25_state_set(int64_t argc, const fl_value *argv) {
    (void)argc;
    return state_set(argv[0], argv[1]);
}

fl_value fl_e_stateZ3a_delete(int64_t argc, const fl_value *argv) {
    (void)argc;
    fl_value previous = state_get(argv[0]);
    fl_value next = fl_map_dissoc(fl_ctl.state, argv[0]);
    if (next == 0) return 0;
    fl_ctl.state = next;
    return previous;
}

/* prelude.fl's %state-update: (let ((new (f (%state-get k)))) (%state-set k new) new). The call
 * of f is made for the frame that performed, which appends its trace entry unless the perform
 * replaced that frame (`replacing`, see fl_perform_tail). */
static fl_value state_update(const fl_value *argv, bool replacing) {
    /* checked first, as prelude.fl's `map` checks its function: a value an error:raise clause
       resumes with is the value of the whole call, and nothing is stored */
    if (!fl_has_type(argv[1], FL_T_CLOSURE)) return fl_raise_type("state:update", "a function", argv[1]);
    fl_value old = state_get(argv[0]);
    fl_value new_value = replacing ? fl_call_value_replacing(argv[1], 1, &old)
                                   : fl_call_value(argv[1], 1, &old);
    if (new_value == 0) return 0;
    if (state_set(argv[0], new_value) == 0) return 0;
    return new_value;
}

fl_value fl_e_stateZ3a_update(int64_t argc, const fl_value *argv) {
    (void)argc;
    return state_update(argv, false);
}

fl_value fl_e_stateZ3a_begin_transaction(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    fl_ctl.txn = fl_ctl_grow(fl_ctl.txn, &fl_ctl.txn_cap, fl_ctl.ntxn + 1, sizeof(fl_value));
    if (fl_ctl.txn_cap < fl_ctl.ntxn + 1) return 0;
    fl_ctl.txn[fl_ctl.ntxn++] = fl_ctl.state;
    return FL_NIL;
}

fl_value fl_e_stateZ3a_commit_transaction(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    if (fl_ctl.ntxn == 0)
        return fl_raise("value-error", "`state:commit-transaction`: no open transaction");
    fl_ctl.txn[--fl_ctl.ntxn] = 0;
    return FL_NIL;
}

fl_value fl_e_stateZ3a_rollback_transaction(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    if (fl_ctl.ntxn == 0)
        return fl_raise("value-error", "`state:rollback-transaction`: no open transaction");
    fl_ctl.state = fl_ctl.txn[--fl_ctl.ntxn];
    fl_ctl.txn[fl_ctl.ntxn] = 0;
    return FL_NIL;
}

/* The JIT's VM (jit/state.py) hands its store here when it installs a unit, so that native code
 * and the VM share one store: words[0] is the store, words[1..n-1] the saved stores of the open
 * transactions, outermost first (returns -1 when out of memory). It takes the store back with
 * fl_rt_state_export (which returns how many words there are, writing them when `cap` allows)
 * before another unit replaces this one, or when a value cannot be in both. */
int64_t fl_rt_state_install(const fl_value *words, int64_t n) {
    fl_ctl_reset_state();
    fl_ctl.state = words[0];
    for (int64_t i = 1; i < n; i++) {
        fl_ctl.txn = fl_ctl_grow(fl_ctl.txn, &fl_ctl.txn_cap, fl_ctl.ntxn + 1, sizeof(fl_value));
        if (fl_ctl.txn_cap < fl_ctl.ntxn + 1) return -1; /* out of memory is pending */
        fl_ctl.txn[fl_ctl.ntxn++] = words[i];
    }
    return 0;
}

int64_t fl_rt_state_export(fl_value *out, int64_t cap) {
    int64_t n = 1 + fl_ctl.ntxn;
    if (cap >= n) {
        out[0] = fl_ctl.state;
        for (int64_t i = 0; i < fl_ctl.ntxn; i++) out[1 + i] = fl_ctl.txn[i];
    }
    return n;
}

/* ---- time ------------------------------------------------------------------------------------ */

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

fl_value fl_e_timeZ3a_now(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    return fl_box_float(clock_seconds(CLOCK_REALTIME));
}

fl_value fl_e_timeZ3a_monotonic(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    return fl_box_float(clock_seconds(CLOCK_MONOTONIC));
}

/* Python's threading.TIMEOUT_MAX: a longer wait raises OverflowError in the VM. */
static const double SLEEP_MAX = 9223372036.0;

fl_value fl_e_timeZ3a_sleep(int64_t argc, const fl_value *argv) {
    (void)argc;
    const char *name = "time:sleep";
    fl_value v = argv[0];
    if (!fl_is_number(v)) return fl_raise_type(name, "a Number", v);
    double seconds;
    if (fl_is_fixnum(v)) seconds = (double)fl_fixnum_value(v);
    else if (fl_is_float(v)) seconds = fl_float_value(v);
    else seconds = ((const fl_bignum *)fl_ptr(v))->size < 0 ? -INFINITY : INFINITY;
    if (!(seconds >= 0))
        return fl_raisef("value-error", "`%s` expects a non-negative number, got %s", name,
                         fl_ctl_written(v));
    if (fl_is_float(v) && isinf(seconds))
        return fl_raisef("value-error", "`%s` expects a finite number, got inf", name);
    if (seconds > SLEEP_MAX)
        return fl_raisef("value-error", "`%s`: %s seconds is too long", name, fl_ctl_written(v));
    fl_out_flush();
    /* wait in short slices so that an interrupt ends the wait at once */
    double deadline = clock_seconds(CLOCK_MONOTONIC) + seconds;
    for (;;) {
        if (fl_ctl_interrupt_requested()) return fl_ctl_take_interrupt();
        double left = deadline - clock_seconds(CLOCK_MONOTONIC);
        if (left <= 0) break;
        double slice = left < 0.01 ? left : 0.01;
        struct timespec ts = {(time_t)slice, (long)((slice - (double)(time_t)slice) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            if (fl_ctl_interrupt_requested()) break;
        }
    }
    return FL_NIL;
}
