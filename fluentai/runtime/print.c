/* print.c: display and written forms (LANGUAGE.md §15), exactly as fluentai/vm/printer.py.
 *
 * The written form quotes Strings (escaping \\ \" \n \t \r and \u{h} for the other code points
 * below U+0020 and U+007F), prints Lists as `[1 2]`, Maps as `{"a" 1}` in insertion order, ADT
 * values as `Name` or `(Name field ...)`, functions as `#<function NAME>`, error values as
 * `#<error KIND: MESSAGE>`; the display form differs only for a String at top level (its raw
 * characters). Compound values are written with an explicit stack of frames, so a List of 10^6
 * elements and data nested 10^4 deep print without C recursion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

/* ---- numbers -------------------------------------------------------------------------------------- */

const char fl_digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                 "34353637383940414243444546474849505152535455565758596061626364656667"
                                 "6869707172737475767778798081828384858687888990919293949596979899";

int fl_i64_text(int64_t v, char *buf) {
    char tmp[24];
    char *p = fl_i64_text_at(tmp + sizeof tmp, v);
    int k = (int)(tmp + sizeof tmp - p);
    memcpy(buf, p, (size_t)k);
    buf[k] = '\0';
    return k;
}

static int i64_text(int64_t v, char *buf) { return fl_i64_text(v, buf); }

const char *fl_int_text(fl_value v, char *buf) {
    if (fl_is_fixnum(v)) {
        i64_text(fl_fixnum_value(v), buf);
        return buf;
    }
    return fl_int_to_cstring(v);
}

void fl_write_int(fl_buf *b, fl_value v) {
    if (fl_is_fixnum(v)) {
        char buf[24];
        int n = i64_text(fl_fixnum_value(v), buf);
        fl_buf_put(b, buf, n);
        return;
    }
    fl_buf_puts(b, fl_int_to_cstring(v));
}

/* ---- strings ---------------------------------------------------------------------------------------- */

static inline bool needs_escape(unsigned char c) { return c < 0x20 || c == 0x7F || c == '"' || c == '\\'; }

void fl_write_string(fl_buf *b, fl_value s) {
    const unsigned char *p = (const unsigned char *)fl_string_bytes(s);
    int64_t n = fl_string_nbytes(s);
    fl_buf_reserve(b, n + 2);
    fl_buf_putc(b, '"');
    int64_t start = 0;
    for (int64_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (!needs_escape(c)) continue;
        fl_buf_put(b, (const char *)p + start, i - start);
        start = i + 1;
        switch (c) {
        case '\\':
            fl_buf_put(b, "\\\\", 2);
            break;
        case '"':
            fl_buf_put(b, "\\\"", 2);
            break;
        case '\n':
            fl_buf_put(b, "\\n", 2);
            break;
        case '\t':
            fl_buf_put(b, "\\t", 2);
            break;
        case '\r':
            fl_buf_put(b, "\\r", 2);
            break;
        default: {
            char esc[12];
            int k = snprintf(esc, sizeof esc, "\\u{%x}", c);
            fl_buf_put(b, esc, k);
        }
        }
    }
    fl_buf_put(b, (const char *)p + start, n - start);
    fl_buf_putc(b, '"');
}

/* ---- atoms ------------------------------------------------------------------------------------------ */

static void write_text(fl_buf *b, fl_value v) { /* a String's raw text, else the display form */
    if (fl_is_string(v)) fl_buf_put(b, fl_string_bytes(v), fl_string_nbytes(v));
    else fl_display_to(b, v);
}

/* Write v if it has no parts and return true; false for Lists, Maps and ADT values with fields. */
static bool write_atom(fl_buf *b, fl_value v) {
    if (fl_is_fixnum(v)) {
        fl_write_int(b, v);
        return true;
    }
    if (fl_is_float(v)) {
        char buf[40];
        fl_float_repr(fl_float_value(v), buf);
        fl_buf_puts(b, buf);
        return true;
    }
    if (!fl_is_ptr(v)) {
        switch (v) {
        case FL_FALSE:
            fl_buf_put(b, "#f", 2);
            break;
        case FL_TRUE:
            fl_buf_put(b, "#t", 2);
            break;
        case FL_NIL:
            fl_buf_put(b, "nil", 3);
            break;
        case FL_EMPTY:
            fl_buf_put(b, "[]", 2);
            break;
        case FL_UNBOUND:
            fl_buf_puts(b, "#<unbound>");
            break;
        default:
            fl_buf_puts(b, "#<invalid>");
        }
        return true;
    }
    switch (fl_hdr_type(fl_ptr(v))) {
    case FL_T_STRING:
        fl_write_string(b, v);
        return true;
    case FL_T_SYMBOL: {
        fl_value name = ((const fl_symbol *)fl_ptr(v))->name;
        fl_buf_put(b, fl_string_bytes(name), fl_string_nbytes(name));
        return true;
    }
    case FL_T_BIGNUM:
        fl_write_int(b, v);
        return true;
    case FL_T_CLOSURE: {
        const fl_fndesc *d = ((const fl_closure *)fl_ptr(v))->desc;
        fl_buf_puts(b, "#<function ");
        fl_buf_puts(b, d != NULL && d->name != NULL ? d->name : "lambda");
        fl_buf_putc(b, '>');
        return true;
    }
    case FL_T_ERROR: {
        const fl_error *e = fl_ptr(v);
        fl_buf_puts(b, "#<error ");
        write_text(b, e->kind);
        fl_buf_put(b, ": ", 2);
        write_text(b, e->message);
        fl_buf_putc(b, '>');
        return true;
    }
    case FL_T_ADT:
        if (fl_ctor_arity(fl_adt_ctor(v)) == 0) {
            fl_buf_puts(b, fl_ctor_name(fl_adt_ctor(v)));
            return true;
        }
        return false;
    case FL_T_CONS:
    case FL_T_MAP:
        return false;
    case FL_T_BOX:
        fl_buf_puts(b, "#<box>");
        return true;
    default:
        fl_buf_puts(b, "#<vector>");
        return true;
    }
}

/* ---- compound values ----------------------------------------------------------------------------- */

typedef struct pframe {
    fl_value v;            /* the value being written */
    fl_value cur;          /* CONS: the next cell */
    const fl_value *parts; /* MAP: [k0 v0 ...]; ADT: its fields */
    int64_t i, n;
    char close;
    bool sep; /* the next part needs a space first */
} pframe;

/* Write the opening of a List, Map or ADT value with fields and set up its frame. */
static void open_frame(fl_buf *b, pframe *f, fl_value v) {
    f->v = v;
    f->i = 0;
    switch (fl_hdr_type(fl_ptr(v))) {
    case FL_T_CONS:
        fl_buf_putc(b, '[');
        f->cur = v;
        f->parts = NULL;
        f->n = 0;
        f->close = ']';
        f->sep = false;
        break;
    case FL_T_MAP:
        fl_buf_putc(b, '{');
        f->parts = fl_map_ordered(v);
        f->n = 2 * fl_map_count(v);
        f->close = '}';
        f->sep = false;
        break;
    default: { /* ADT with fields */
        int64_t id = fl_adt_ctor(v);
        fl_buf_putc(b, '(');
        fl_buf_puts(b, fl_ctor_name(id));
        f->parts = ((const fl_adt *)fl_ptr(v))->fields;
        f->n = fl_ctor_arity(id);
        f->close = ')';
        f->sep = true;
    }
    }
}

static inline bool next_part(pframe *f, fl_value *part) {
    if (f->close == ']') {
        if (f->cur == FL_EMPTY) return false;
        *part = fl_car(f->cur);
        f->cur = fl_cdr(f->cur);
        return true;
    }
    if (f->i >= f->n) return false;
    *part = f->parts[f->i++];
    return true;
}

void fl_written_to(fl_buf *b, fl_value v) {
    if (write_atom(b, v)) return;
    pframe local[16];
    pframe *stack = local;
    int64_t cap = 16, top = 0;
    open_frame(b, &stack[0], v);
    while (top >= 0) {
        pframe *f = &stack[top];
        fl_value part;
        if (!next_part(f, &part)) {
            fl_buf_putc(b, f->close);
            top--;
            continue;
        }
        if (f->sep) fl_buf_putc(b, ' ');
        else f->sep = true;
        if (write_atom(b, part)) continue;
        if (top + 1 == cap) {
            pframe *bigger = fl_alloc(2 * cap * (int64_t)sizeof(pframe));
            memcpy(bigger, stack, (size_t)cap * sizeof(pframe));
            stack = bigger;
            cap *= 2;
        }
        open_frame(b, &stack[++top], part);
    }
}

void fl_display_to(fl_buf *b, fl_value v) {
    if (fl_is_string(v)) fl_buf_put(b, fl_string_bytes(v), fl_string_nbytes(v));
    else fl_written_to(b, v);
}

const char *fl_written_cstr(fl_value v) {
    fl_buf b;
    fl_buf_init(&b);
    fl_written_to(&b, v);
    return fl_buf_cstr(&b);
}

/* `%written`: the written form as a String (prelude error messages). */
fl_value fl_b_Z25_written(int64_t argc, const fl_value *argv) {
    char local[256];
    fl_buf b = {local, 0, sizeof local};
    fl_written_to(&b, argv[0]);
    return fl_string_from_buf(&b);
}

/* ---- error messages ------------------------------------------------------------------------------ */

fl_value fl_raise_msg(const char *kind, const char *fmt, ...) {
    fl_buf b;
    fl_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%' || p[1] == '\0') {
            fl_buf_putc(&b, *p);
            continue;
        }
        switch (*++p) {
        case 's':
            fl_buf_puts(&b, va_arg(ap, const char *));
            break;
        case 'w':
            fl_written_to(&b, va_arg(ap, fl_value));
            break;
        case 'i':
            fl_write_int(&b, va_arg(ap, fl_value));
            break;
        case 'd': {
            char buf[24];
            i64_text(va_arg(ap, int64_t), buf);
            fl_buf_puts(&b, buf);
            break;
        }
        default:
            fl_buf_putc(&b, *p);
        }
    }
    va_end(ap);
    const char *text = fl_buf_cstr(&b);
    if (memchr(text, '\0', (size_t)b.len) == NULL) return fl_raise(kind, text);
    /* A NUL inside (a written Symbol or error message can hold one): raise the value itself. */
    return fl_raise_value(fl_error_new(fl_string_from_cstr(kind), fl_string_from_buf(&b), FL_NIL));
}
