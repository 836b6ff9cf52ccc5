/* stubs_numbers.c: minimal stand-ins for the data and control parts of the runtime, so the
 * numbers part (int.c, float.c, numbers.c) can be compiled and tested alone:
 *
 *   gcc -shared -fPIC -DGC_THREADS -D_GNU_SOURCE -I fluentai/runtime \
 *       fluentai/runtime/{int,float,numbers}.c tests/runtime/stubs_numbers.c \
 *       -lgc -lgmp -lm -o /tmp/libnum.so
 *
 * Only what tests/runtime/test_numbers.py uses: allocation, strings, a raise that records the
 * error as pending for one catch-all try frame, written forms of atoms, equality of atoms.
 * Temporary: the real library replaces all of it.
 */
#include <gc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_internal.h"

void *fl_alloc(int64_t nbytes) { return GC_MALLOC((size_t)nbytes); }
void *fl_alloc_atomic(int64_t nbytes) { return GC_MALLOC_ATOMIC((size_t)nbytes); }
fl_value *fl_alloc_roots(int64_t n) {
    fl_value *r = GC_MALLOC_UNCOLLECTABLE((size_t)n * sizeof(fl_value));
    for (int64_t i = 0; i < n; i++) r[i] = FL_UNBOUND;
    return r;
}

void fl_rt_init(void) { GC_INIT(); }
void fl_rt_begin(fl_call_fn shim, const fl_site *sites, int64_t nsites, int64_t argc,
                 const char *const *argv, int64_t max_depth) {}

fl_value fl_string_from_utf8(const char *bytes, int64_t nbytes) {
    fl_string *s = GC_MALLOC_ATOMIC(sizeof(fl_string) + (size_t)nbytes + 1);
    s->hdr = fl_hdr_make(FL_T_STRING, 0, (uint64_t)nbytes);
    int64_t ncp = 0;
    for (int64_t i = 0; i < nbytes; i++) ncp += (bytes[i] & 0xC0) != 0x80;
    s->ncodepoints = ncp;
    memcpy(s->bytes, bytes, (size_t)nbytes);
    s->bytes[nbytes] = '\0';
    return fl_from_ptr(s);
}

/* ---- buffers and written forms -------------------------------------------------------------- */

void fl_buf_init(fl_buf *b) {
    b->cap = 64;
    b->len = 0;
    b->data = GC_MALLOC_ATOMIC((size_t)b->cap);
}
void fl_buf_put(fl_buf *b, const char *bytes, int64_t n) {
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap *= 2;
        char *d = GC_MALLOC_ATOMIC((size_t)b->cap);
        memcpy(d, b->data, (size_t)b->len);
        b->data = d;
    }
    memcpy(b->data + b->len, bytes, (size_t)n);
    b->len += n;
    b->data[b->len] = '\0';
}
void fl_buf_puts(fl_buf *b, const char *s) { fl_buf_put(b, s, (int64_t)strlen(s)); }
void fl_buf_putc(fl_buf *b, char c) { fl_buf_put(b, &c, 1); }

void fl_written_to(fl_buf *b, fl_value v) {
    if (fl_is_number(v)) {
        if (fl_is_float(v)) {
            char buf[32];
            fl_float_repr(fl_float_value(v), buf);
            fl_buf_puts(b, buf);
        } else {
            fl_buf_puts(b, fl_int_to_cstring(v));
        }
    } else if (v == FL_TRUE) {
        fl_buf_puts(b, "#t");
    } else if (v == FL_FALSE) {
        fl_buf_puts(b, "#f");
    } else if (v == FL_NIL) {
        fl_buf_puts(b, "nil");
    } else if (v == FL_EMPTY) {
        fl_buf_puts(b, "[]");
    } else if (fl_is_string(v)) {
        const unsigned char *s = (const unsigned char *)fl_string_bytes(v);
        int64_t n = fl_string_nbytes(v);
        fl_buf_putc(b, '"');
        for (int64_t i = 0; i < n; i++) {
            unsigned c = s[i];
            char esc[16];
            if (c == '\\') fl_buf_puts(b, "\\\\");
            else if (c == '"') fl_buf_puts(b, "\\\"");
            else if (c == '\n') fl_buf_puts(b, "\\n");
            else if (c == '\t') fl_buf_puts(b, "\\t");
            else if (c == '\r') fl_buf_puts(b, "\\r");
            else if (c < 0x20 || c == 0x7F) {
                snprintf(esc, sizeof esc, "\\u{%x}", c);
                fl_buf_puts(b, esc);
            } else {
                fl_buf_putc(b, (char)c);
            }
        }
        fl_buf_putc(b, '"');
    } else {
        fl_buf_puts(b, "#<stub>");
    }
}

int fl_equal(fl_value a, fl_value b) {
    if (fl_is_number(a) && fl_is_number(b)) return fl_num_compare(a, b) == 0;
    if (fl_is_string(a) && fl_is_string(b)) {
        return fl_string_nbytes(a) == fl_string_nbytes(b) &&
               memcmp(fl_string_bytes(a), fl_string_bytes(b), (size_t)fl_string_nbytes(a)) == 0;
    }
    return a == b && !fl_is_float(a);
}

/* ---- errors: one pending error, taken by the (single) try frame ------------------------------- */

static fl_value *pending; /* a root: pending[0] is the pending ERROR or 0 */

static fl_value make_error(const char *kind, const char *message) {
    if (pending == NULL) pending = GC_MALLOC_UNCOLLECTABLE(sizeof(fl_value));
    fl_error *e = GC_MALLOC(sizeof(fl_error));
    e->hdr = fl_hdr_make(FL_T_ERROR, 0, 0);
    e->kind = fl_string_from_utf8(kind, (int64_t)strlen(kind));
    e->message = fl_string_from_utf8(message, (int64_t)strlen(message));
    e->data = FL_NIL;
    return fl_from_ptr(e);
}

static char *fatal; /* a pending fatal error's message (kinds internal, out-of-memory), malloc'ed */

fl_value fl_raise(const char *kind, const char *message) {
    fl_value e = make_error(kind, message);
    if (strcmp(kind, "internal") == 0 || strcmp(kind, "out-of-memory") == 0) {
        free(fatal);
        fatal = strdup(message);
        pending[0] = 0;
        return 0;
    }
    pending[0] = e;
    return 0;
}

int64_t fl_rt_finish(fl_value result) {
    if (result != 0 || fatal == NULL) return 0;
    fprintf(stderr, "fluentai: error: %s\n", fatal);
    fflush(stderr);
    free(fatal);
    fatal = NULL;
    return 70;
}

fl_value fl_string_from_buf(const fl_buf *b) { return fl_string_from_utf8(b->data, b->len); }

fl_value fl_error_new(fl_value kind, fl_value message, fl_value data) {
    fl_error *e = GC_MALLOC(sizeof(fl_error));
    e->hdr = fl_hdr_make(FL_T_ERROR, 0, 0);
    e->kind = kind;
    e->message = message;
    e->data = data;
    return fl_from_ptr(e);
}

fl_value fl_raise_value(fl_value error) {
    if (pending == NULL) pending = GC_MALLOC_UNCOLLECTABLE(sizeof(fl_value));
    pending[0] = error;
    return 0;
}

fl_value fl_raisef(const char *kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = GC_MALLOC_ATOMIC((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return fl_raise(kind, msg);
}

fl_value fl_raise_type(const char *name, const char *what, fl_value got) {
    fl_buf b;
    fl_buf_init(&b);
    fl_buf_putc(&b, '`');
    fl_buf_puts(&b, name);
    fl_buf_puts(&b, "` expects ");
    fl_buf_puts(&b, what);
    fl_buf_puts(&b, ", got ");
    fl_written_to(&b, got);
    return fl_raise("type-error", b.data);
}

int64_t fl_handler_height(void) { return 0; }
void fl_handler_restore(int64_t height) {}
int64_t fl_try_push(fl_matcher_fn matcher) { return 1; }
int64_t fl_pending_kind(void) {
    return fatal != NULL || (pending != NULL && pending[0] != 0) ? FL_PENDING_ERROR : 0;
}
fl_value fl_pending_take_for(int64_t try_id) {
    if (pending == NULL) return 0;
    fl_value e = pending[0];
    pending[0] = 0;
    return e;
}
