/* error.c: raising errors, the pending condition, traces and the final report (DESIGN.md §5.1,
 * §5.3; LANGUAGE.md §13.4).
 *
 * A raise is a perform of error:raise: the handler stack is searched from the innermost frame for
 * a handler with an `error:raise` (or `error`) clause, whose value resumes the failing operation,
 * or a try frame whose catch patterns accept the error, which becomes the error's target. Nothing
 * unwinds here: the raise returns 0 and generated code unwinds, appending trace entries.
 *
 *     fl_rt_site = 7; fl_raise("division-by-zero", "division by zero")
 *       -> pending ERROR, target -1, trace [7]; fl_trace_add(3); fl_trace_add(0)
 *       -> fl_rt_finish(0) writes the report with entries 0, 3, 7 (innermost last), returns 70
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fl_ctl.h"

static const char MSG_STACK_OVERFLOW[] = "maximum recursion depth exceeded";

fl_value fl_ctl_make_error(fl_value kind, fl_value message, fl_value data) {
    fl_error *e = fl_alloc((int64_t)sizeof(fl_error));
    e->hdr = fl_hdr_make(FL_T_ERROR, 0, 0);
    e->kind = kind;
    e->message = message;
    e->data = data;
    return fl_from_ptr(e);
}

/* ---- pending state --------------------------------------------------------------------------- */

/* A fresh pending record of `kind` (aimed at no try frame, with an empty trace). */
static void pending_fresh(int64_t kind) {
    memset(&fl_ctl.pending, 0, sizeof fl_ctl.pending);
    fl_ctl.pending.kind = kind;
    fl_ctl.pending.target = -1;
}

void fl_ctl_reset_pending(void) {
    pending_fresh(FL_PENDING_NONE);
    fl_ctl.nstash = 0;
}

static void trace_push(fl_trace *t, int64_t site) {
    if (t->count < FL_TRACE_KEEP) t->inner[t->count] = site;
    t->outer[t->count % FL_TRACE_KEEP] = site;
    t->count++;
}

static void set_error(fl_value error, int64_t target, int64_t site) {
    fl_pending_rec *p = &fl_ctl.pending;
    memset(p, 0, sizeof *p);
    p->kind = FL_PENDING_ERROR;
    p->error = error;
    p->target = target;
    trace_push(&p->trace, site);
    p->trace.fresh = true;
}

void fl_ctl_set_interrupt(void) {
    pending_fresh(FL_PENDING_INTERRUPT);
}

void fl_ctl_set_exit(int64_t code) {
    pending_fresh(FL_PENDING_EXIT);
    fl_ctl.pending.exit_code = code;
}

int64_t fl_pending_kind(void) { return fl_ctl.pending.kind; }

int64_t fl_pending_skips_finally(void) {
    /* a fatal error (internal, out-of-memory) ends the program at once, as `exit` does
     * (docs/decisions.md) */
    const fl_pending_rec *p = &fl_ctl.pending;
    return p->kind == FL_PENDING_EXIT || (p->kind == FL_PENDING_ERROR && p->fatal != NULL);
}

/* A raise written in the prelude (a builtin's own check) that an error:raise clause resumes: the
 * clause's value replaces the builtin's whole call (LANGUAGE.md §14.4), so it is not returned to
 * the prelude's code, which would go on with it as if its check had passed. It is made pending
 * (RESUME) instead: the prelude's frames unwind as for an error, and the program's call site of
 * the builtin takes it (fl_take_resumed) as the call's value, as the VM resumes there. */
void fl_ctl_set_resumed(fl_value v) {
    pending_fresh(FL_PENDING_RESUME);
    fl_ctl.pending.error = v;
}

fl_value fl_prelude_raise(int64_t argc, const fl_value *argv) {
    fl_value v = fl_perform("error:raise", NULL, argc, argv);
    if (v != 0) fl_ctl_set_resumed(v);
    return 0;
}

fl_value fl_take_resumed(void) {
    if (fl_ctl.pending.kind != FL_PENDING_RESUME) return 0;
    fl_value v = fl_ctl.pending.error;
    pending_fresh(FL_PENDING_NONE);
    return v;
}

fl_value fl_pending_take_for(int64_t try_id) {
    fl_pending_rec *p = &fl_ctl.pending;
    if (p->kind != FL_PENDING_ERROR || p->target != try_id || p->error == 0) return 0;
    fl_value error = p->error;
    memset(p, 0, sizeof *p);
    p->target = -1;
    return error;
}

int64_t fl_pending_stash(void) {
    int64_t token = fl_ctl.nstash;
    fl_ctl.stash = fl_ctl_grow(fl_ctl.stash, &fl_ctl.stash_cap, token + 1, sizeof(fl_pending_rec));
    if (fl_ctl.stash_cap < token + 1) return -1; /* out of memory is pending instead */
    fl_ctl.stash[token] = fl_ctl.pending;
    fl_ctl.nstash = token + 1;
    pending_fresh(FL_PENDING_NONE);
    return token;
}

void fl_pending_unstash(int64_t token) {
    if (token < 0 || token >= fl_ctl.nstash) return;
    fl_ctl.pending = fl_ctl.stash[token];
    fl_pending_drop(token);
}

void fl_pending_drop(int64_t token) {
    if (token < 0 || token >= fl_ctl.nstash) return;
    for (int64_t i = token; i < fl_ctl.nstash; i++) fl_ctl.stash[i].error = 0; /* let it go */
    fl_ctl.nstash = token;
}

/* ---- traces ---------------------------------------------------------------------------------- */

void fl_trace_add(int64_t site) {
    fl_pending_rec *p = &fl_ctl.pending;
    if (p->kind != FL_PENDING_ERROR) return;
    fl_trace *t = &p->trace;
    if (t->standin != 0) {
        int64_t stood_for = t->standin - 1;
        t->standin = 0;
        if (stood_for == site) return;
    }
    if (t->fresh) {
        t->fresh = false;
        /* the call site of the frame that raised: inner[0] already stands for that frame */
        if (t->count == 1 && t->inner[0] == site) return;
    }
    trace_push(t, site);
}

/* A program frame's perform failed: the raise's entry, or the entry fl_call_value appended for
 * the clause it called, stands for this frame, which adds none (generated code). The next entry
 * is an outer frame's, even at the same site (a clause that calls the performing function
 * again), so it is not taken for a repeat of the raise's own. */
void fl_trace_settle(void) {
    if (fl_ctl.pending.kind == FL_PENDING_ERROR) fl_ctl.pending.trace.fresh = false;
}

/* ---- raising --------------------------------------------------------------------------------- */

static bool string_is(fl_value s, const char *text) {
    return fl_is_string(s) && strcmp(fl_string_bytes(s), text) == 0;
}

fl_value fl_ctl_raise_error(fl_value error) {
    int64_t site = fl_rt_site;
    const fl_error *e = fl_ptr(error);
    bool skip_clauses = string_is(e->kind, "stack-overflow"); /* LANGUAGE.md §12 */
    for (int64_t i = fl_ctl.top - 1; i >= 0; i--) {
        const fl_hframe *f = &fl_ctl.frames[i];
        if (f->kind == FL_HFRAME_TRY) {
            if (f->matcher != NULL && f->matcher(error) != 0) {
                set_error(error, f->try_id, site);
                return 0;
            }
            continue;
        }
        if (skip_clauses) continue;
        bool by_ns = false;
        fl_value fn = fl_ctl_frame_clause(f, "error:raise", strlen("error"), &by_ns);
        if (fn == 0) continue;
        fl_value args[4] = {0, e->kind, e->message, e->data};
        if (!by_ns) return fl_ctl_call_clause(i, fn, 3, args + 1);
        args[0] = fl_ctl_string("raise"); /* an `error` clause gets the operation's name first */
        return fl_ctl_call_clause(i, fn, 4, args);
    }
    set_error(error, -1, site);
    return 0;
}

static fl_value raise_fatal(const char *message) {
    size_t n = strlen(message);
    char *copy = GC_MALLOC_ATOMIC(n + 1);
    if (copy != NULL) memcpy(copy, message, n + 1);
    pending_fresh(FL_PENDING_ERROR);
    fl_ctl.pending.fatal = copy != NULL ? copy : "out of memory";
    return 0;
}

fl_value fl_raise(const char *kind, const char *message) {
    /* internal errors and exhausted memory: no try or handler sees them (LANGUAGE.md §13.4) */
    if (strcmp(kind, "internal") == 0 || strcmp(kind, "out-of-memory") == 0)
        return raise_fatal(message);
    fl_value error = fl_ctl_make_error(fl_ctl_string(kind), fl_ctl_string(message), FL_NIL);
    return fl_ctl_raise_error(error);
}

static char *vformat(const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *out = fl_alloc_atomic(n < 0 ? 1 : (int64_t)n + 1);
    if (n < 0) out[0] = '\0';
    else vsnprintf(out, (size_t)n + 1, fmt, again);
    va_end(again);
    return out;
}

fl_value fl_raisef(const char *kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *message = vformat(fmt, ap);
    va_end(ap);
    return fl_raise(kind, message);
}

fl_value fl_raise_value(fl_value error) {
    if (!fl_has_type(error, FL_T_ERROR)) return fl_raise_type("error:raise", "an Error", error);
    return fl_ctl_raise_error(error);
}

fl_value fl_raise_arity(const char *name, int64_t min, int64_t max, int64_t got) {
    /* errors.arity_message: `1 argument`, `at least 1 argument`, `1 to 3 arguments` */
    const char *unit = (max < 0 ? min : max) == 1 ? "" : "s";
    if (max < 0)
        return fl_raisef("arity-error", "`%s` expects at least %lld argument%s, got %lld", name,
                         (long long)min, unit, (long long)got);
    if (min == max)
        return fl_raisef("arity-error", "`%s` expects %lld argument%s, got %lld", name,
                         (long long)min, unit, (long long)got);
    return fl_raisef("arity-error", "`%s` expects %lld to %lld arguments, got %lld", name,
                     (long long)min, (long long)max, (long long)got);
}

fl_value fl_raise_arity_by_twos(const char *name, int64_t min, int64_t got) {
    /* errors.arity_message(..., by_twos=True): `assoc` takes 3, 5, 7, ... arguments */
    return fl_raisef("arity-error", "`%s` expects %lld, %lld, %lld, ... arguments, got %lld", name,
                     (long long)min, (long long)min + 2, (long long)min + 4, (long long)got);
}

fl_value fl_raise_unbound(const char *name) {
    return fl_raisef("unbound-variable", "`%s` is not defined", name);
}

fl_value fl_raise_not_function(fl_value callee) {
    return fl_raise_msg("type-error", "expected a function, got %w", callee);
}

fl_value fl_raise_match_failure(fl_value subject) {
    return fl_raise_msg("match-failure", "no pattern matches %w", subject);
}

fl_value fl_raise_stack_overflow(void) { return fl_raise("stack-overflow", MSG_STACK_OVERFLOW); }

fl_value fl_raise_type(const char *name, const char *what, fl_value got) {
    return fl_raise_msg("type-error", "`%s` expects %s, got %w", name, what, got);
}

/* ---- the report (diagnostics.render_runtime) ------------------------------------------------- */

static const fl_site *site_at(int64_t id) {
    return id >= 0 && id < fl_ctl.nsites && fl_ctl.sites != NULL ? &fl_ctl.sites[id] : NULL;
}

static void put_entry(fl_buf *b, int64_t id, bool innermost) {
    const fl_site *s = site_at(id);
    if (s == NULL) return;
    fl_buf_puts(b, "  ");
    fl_buf_puts(b, s->where);
    fl_buf_puts(b, " in ");
    fl_buf_puts(b, s->fn);
    fl_buf_puts(b, "\n    ");
    fl_buf_puts(b, s->text);
    fl_buf_putc(b, '\n');
    if (innermost) {
        fl_buf_puts(b, "    ");
        /* under a tab, a tab (diagnostics.caret_lines): caret_col counts code points */
        const unsigned char *p = (const unsigned char *)s->text;
        for (int64_t i = 0; i < s->caret_col; i++) {
            fl_buf_putc(b, *p == '\t' ? '\t' : ' ');
            if (*p != '\0') {
                p++;
                while ((*p & 0xC0) == 0x80) p++;
            }
        }
        for (int64_t i = 0; i < s->caret_width; i++) fl_buf_putc(b, '^');
        fl_buf_putc(b, '\n');
    }
}

/* Entry i in append order (0 = innermost); only the kept ones are asked for. */
static int64_t trace_entry(const fl_trace *t, int64_t i) {
    return i < FL_TRACE_KEEP ? t->inner[i] : t->outer[i % FL_TRACE_KEEP];
}

/* A STRING's bytes, NULs included (a kind or message may hold one, as in the VM's report). */
static void put_string(fl_buf *b, fl_value s) { fl_buf_put(b, fl_string_bytes(s), fl_string_nbytes(s)); }

static void render_error(fl_buf *b, const fl_pending_rec *p) {
    const fl_error *e = fl_ptr(p->error);
    const fl_trace *t = &p->trace;
    const fl_site *where = t->count > 0 ? site_at(t->inner[0]) : NULL;
    if (where == NULL) { /* no source location: render_runtime's span-less form */
        fl_buf_puts(b, "fluentai: error: ");
        put_string(b, e->message);
        fl_buf_putc(b, '\n');
        return;
    }
    fl_buf_puts(b, where->report_prefix);
    fl_buf_puts(b, ": error[");
    put_string(b, e->kind);
    fl_buf_puts(b, "]: ");
    put_string(b, e->message);
    fl_buf_puts(b, "\ntrace (innermost last):\n");
    int64_t n = t->count;
    int64_t elided = n > 2 * FL_TRACE_KEEP ? n - 2 * FL_TRACE_KEEP : 0;
    for (int64_t i = n - 1; i >= 0; i--) {
        if (elided > 0 && i == n - FL_TRACE_KEEP - 1) { /* the first entry not kept */
            char line[64];
            snprintf(line, sizeof line, "  ... %lld more ...\n", (long long)elided);
            fl_buf_puts(b, line);
            i = FL_TRACE_KEEP; /* on to the innermost ten */
            continue;
        }
        put_entry(b, trace_entry(t, i), i == 0);
    }
}

static void write_all(int fd, const char *bytes, int64_t n) {
    while (n > 0) {
        ssize_t w = write(fd, bytes, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return;
        bytes += w;
        n -= w;
    }
}

int64_t fl_rt_finish(fl_value result) {
    fl_out_flush();
    fl_pending_rec p = fl_ctl.pending;
    fl_ctl_reset_pending();
    fl_ctl_reset_handlers();
    if (result != 0) return 0;
    fl_buf b;
    fl_buf_init(&b);
    int64_t status = 70;
    switch (p.kind) {
    case FL_PENDING_EXIT:
        return p.exit_code;
    case FL_PENDING_INTERRUPT:
        fl_buf_puts(&b, "interrupted\n");
        status = 130;
        break;
    case FL_PENDING_ERROR:
        if (p.fatal != NULL) {
            fl_buf_puts(&b, "fluentai: error: ");
            fl_buf_puts(&b, p.fatal);
            fl_buf_putc(&b, '\n');
        } else {
            render_error(&b, &p);
        }
        break;
    default:
        fl_buf_puts(&b, "fluentai: error: internal error: the program ended with no value and "
                        "nothing pending\n");
        break;
    }
    write_all(2, b.data, b.len);
    return status;
}

void fl_store_word(fl_value *slot, fl_value v) { *slot = v; }
