/* stubs_control.c: temporary stand-ins for the "data" and "numbers" parts of the runtime, so that
 * the control files (error.c, effects.c, io.c, random.c, misc.c) build and run alone while those
 * parts are being written. Only what the control files and tests/runtime/test_control.py use,
 * simply: Ints within +-2^127, maps as association lists, an approximate Float repr.
 * Used only when FL_TEST_CONTROL_STUBS=1; the real library replaces all of it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_ctl.h"

void *fl_alloc(int64_t nbytes) { return GC_MALLOC((size_t)nbytes); }
void *fl_alloc_atomic(int64_t nbytes) { return GC_MALLOC_ATOMIC((size_t)nbytes); }

/* ---- buffers --------------------------------------------------------------------------------- */

void fl_buf_init(fl_buf *b) {
    b->cap = 64;
    b->len = 0;
    b->data = GC_MALLOC_ATOMIC((size_t)b->cap);
}

void fl_buf_put(fl_buf *b, const char *bytes, int64_t n) {
    if (b->len + n + 1 > b->cap) {
        int64_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
        char *grown = GC_MALLOC_ATOMIC((size_t)cap);
        memcpy(grown, b->data, (size_t)b->len);
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, (size_t)n);
    b->len += n;
    b->data[b->len] = '\0';
}

void fl_buf_puts(fl_buf *b, const char *s) { fl_buf_put(b, s, (int64_t)strlen(s)); }
void fl_buf_putc(fl_buf *b, char c) { fl_buf_put(b, &c, 1); }

/* ---- values ---------------------------------------------------------------------------------- */

fl_value fl_string_from_utf8(const char *bytes, int64_t nbytes) {
    fl_string *s = GC_MALLOC_ATOMIC(sizeof(fl_string) + (size_t)nbytes + 1);
    int64_t cps = 0;
    for (int64_t i = 0; i < nbytes; i++) cps += ((unsigned char)bytes[i] & 0xC0) != 0x80;
    s->hdr = fl_hdr_make(FL_T_STRING, 0, (uint64_t)nbytes);
    s->ncodepoints = cps;
    memcpy(s->bytes, bytes, (size_t)nbytes);
    s->bytes[nbytes] = '\0';
    return fl_from_ptr(s);
}

fl_value fl_string_from_buf(const fl_buf *b) { return fl_string_from_utf8(b->data, b->len); }

fl_value fl_symbol_intern(const char *bytes, int64_t nbytes) {
    fl_symbol *s = GC_MALLOC_UNCOLLECTABLE(sizeof(fl_symbol));
    s->hdr = fl_hdr_make(FL_T_SYMBOL, 0, 0);
    s->name = fl_string_from_utf8(bytes, nbytes);
    s->hash = 0;
    return fl_from_ptr(s);
}

fl_value fl_cons_new(fl_value head, fl_value tail) {
    fl_cons *c = GC_MALLOC(sizeof(fl_cons));
    c->hdr = fl_hdr_make(FL_T_CONS, 0, (uint64_t)(fl_list_length(tail) + 1));
    c->head = head;
    c->tail = tail;
    return fl_from_ptr(c);
}

fl_value fl_list_from(int64_t n, const fl_value *items) {
    fl_value list = FL_EMPTY;
    for (int64_t i = n - 1; i >= 0; i--) list = fl_cons_new(items[i], list);
    return list;
}

fl_vector *fl_vector_new(int64_t n) {
    fl_vector *v = GC_MALLOC(sizeof(fl_vector) + (size_t)n * sizeof(fl_value));
    v->hdr = fl_hdr_make(FL_T_VECTOR, 0, (uint64_t)n);
    return v;
}

fl_value fl_box_float(double d) {
    double *cell = GC_MALLOC_ATOMIC(sizeof(double));
    *cell = d;
    return fl_from_ptr(cell) + 2;
}

/* ---- Ints within +-2^127 --------------------------------------------------------------------- */

typedef __int128 i128;

bool fl_is_int(fl_value v) { return fl_is_fixnum(v) || fl_has_type(v, FL_T_BIGNUM); }
bool fl_is_number(fl_value v) { return fl_is_int(v) || fl_is_float(v); }

static i128 int_value(fl_value v) {
    if (fl_is_fixnum(v)) return fl_fixnum_value(v);
    const fl_bignum *b = fl_ptr(v);
    int64_t n = b->size < 0 ? -b->size : b->size;
    unsigned __int128 m = b->limbs[0];
    if (n > 1) m |= (unsigned __int128)b->limbs[1] << 64;
    return b->size < 0 ? -(i128)m : (i128)m;
}

static fl_value make_int(i128 x) {
    if (x >= FL_FIXNUM_MIN && x <= FL_FIXNUM_MAX) return fl_fixnum((int64_t)x);
    unsigned __int128 m = x < 0 ? (unsigned __int128)(-x) : (unsigned __int128)x;
    int64_t n = (m >> 64) != 0 ? 2 : 1;
    fl_bignum *b = GC_MALLOC_ATOMIC(sizeof(fl_bignum) + (size_t)n * 8);
    b->hdr = fl_hdr_make(FL_T_BIGNUM, 0, (uint64_t)n);
    b->size = x < 0 ? -n : n;
    b->limbs[0] = (uint64_t)m;
    if (n > 1) b->limbs[1] = (uint64_t)(m >> 64);
    return fl_from_ptr(b);
}

fl_value fl_int_from_i64(int64_t i) { return make_int(i); }
fl_value fl_int_from_u64(uint64_t u) { return make_int((i128)u); }
uint64_t fl_int_low_u64(fl_value v) { return (uint64_t)int_value(v); }

fl_value fl_int_from_decimal(const char *text) {
    bool negative = *text == '-';
    if (*text == '-' || *text == '+') text++;
    i128 x = 0;
    while (*text >= '0' && *text <= '9') x = x * 10 + (*text++ - '0');
    return make_int(negative ? -x : x);
}

fl_value fl_add2(fl_value a, fl_value b) { return make_int(int_value(a) + int_value(b)); }
fl_value fl_sub2(fl_value a, fl_value b) { return make_int(int_value(a) - int_value(b)); }

static void put_int(fl_buf *b, i128 x) {
    char digits[48];
    int n = 0;
    unsigned __int128 m = x < 0 ? (unsigned __int128)(-x) : (unsigned __int128)x;
    do {
        digits[n++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m != 0);
    if (x < 0) fl_buf_putc(b, '-');
    while (n > 0) fl_buf_putc(b, digits[--n]);
}

/* ---- printing -------------------------------------------------------------------------------- */

static void put_float(fl_buf *b, double d) {
    if (isnan(d)) return fl_buf_puts(b, "nan");
    if (isinf(d)) return fl_buf_puts(b, d < 0 ? "-inf" : "inf");
    char text[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(text, sizeof text, "%.*g", p, d);
        if (strtod(text, NULL) == d) break;
    }
    fl_buf_puts(b, text);
    if (strpbrk(text, ".e") == NULL) fl_buf_puts(b, ".0");
}

static void put_string_written(fl_buf *b, fl_value s) {
    const unsigned char *p = (const unsigned char *)fl_string_bytes(s);
    int64_t n = fl_string_nbytes(s);
    fl_buf_putc(b, '"');
    for (int64_t i = 0; i < n; i++) {
        unsigned c = p[i];
        char esc[16];
        if (c == '\\') fl_buf_puts(b, "\\\\");
        else if (c == '"') fl_buf_puts(b, "\\\"");
        else if (c == '\n') fl_buf_puts(b, "\\n");
        else if (c == '\t') fl_buf_puts(b, "\\t");
        else if (c == '\r') fl_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof esc, "\\u{%x}", c);
            fl_buf_puts(b, esc);
        } else fl_buf_putc(b, (char)c);
    }
    fl_buf_putc(b, '"');
}

static void put(fl_buf *b, fl_value v, bool top_display) {
    if (fl_is_fixnum(v) || fl_has_type(v, FL_T_BIGNUM)) return put_int(b, int_value(v));
    if (fl_is_float(v)) return put_float(b, fl_float_value(v));
    switch (v) {
    case FL_TRUE: return fl_buf_puts(b, "#t");
    case FL_FALSE: return fl_buf_puts(b, "#f");
    case FL_NIL: return fl_buf_puts(b, "nil");
    case FL_EMPTY: return fl_buf_puts(b, "[]");
    default: break;
    }
    switch (fl_hdr_type(fl_ptr(v))) {
    case FL_T_STRING:
        if (top_display) fl_buf_put(b, fl_string_bytes(v), fl_string_nbytes(v));
        else put_string_written(b, v);
        return;
    case FL_T_SYMBOL:
        return put(b, ((const fl_symbol *)fl_ptr(v))->name, true);
    case FL_T_CONS:
        fl_buf_putc(b, '[');
        for (fl_value c = v; c != FL_EMPTY; c = ((const fl_cons *)fl_ptr(c))->tail) {
            if (c != v) fl_buf_putc(b, ' ');
            put(b, ((const fl_cons *)fl_ptr(c))->head, false);
        }
        return fl_buf_putc(b, ']');
    case FL_T_ERROR: {
        const fl_error *e = fl_ptr(v);
        fl_buf_puts(b, "#<error ");
        fl_buf_puts(b, fl_string_bytes(e->kind));
        fl_buf_puts(b, ": ");
        fl_buf_puts(b, fl_string_bytes(e->message));
        return fl_buf_putc(b, '>');
    }
    case FL_T_CLOSURE:
        fl_buf_puts(b, "#<function ");
        fl_buf_puts(b, ((const fl_closure *)fl_ptr(v))->desc->name);
        return fl_buf_putc(b, '>');
    default:
        return fl_buf_puts(b, "#<value>");
    }
}

void fl_display_to(fl_buf *b, fl_value v) { put(b, v, true); }
void fl_written_to(fl_buf *b, fl_value v) { put(b, v, false); }

/* ---- maps: a MAP object holding an association list (newest first) --------------------------- */

typedef struct stub_map {
    uint64_t hdr;
    fl_value entries; /* list of 2-item VECTORs: key, value */
} stub_map;

static fl_value pair_new(fl_value key, fl_value value) {
    fl_vector *v = fl_vector_new(2);
    v->items[0] = key;
    v->items[1] = value;
    return fl_from_ptr(v);
}

static const fl_value *pair_items(fl_value pair) {
    return ((const fl_vector *)fl_ptr(pair))->items;
}

static bool key_equal(fl_value a, fl_value b) {
    if (a == b) return true;
    if (fl_is_string(a) && fl_is_string(b))
        return fl_string_nbytes(a) == fl_string_nbytes(b) &&
               memcmp(fl_string_bytes(a), fl_string_bytes(b), (size_t)fl_string_nbytes(a)) == 0;
    if (fl_is_int(a) && fl_is_int(b)) return int_value(a) == int_value(b);
    return false;
}

static fl_value map_new(fl_value entries) {
    stub_map *m = GC_MALLOC(sizeof(stub_map));
    m->hdr = fl_hdr_make(FL_T_MAP, 0, 0);
    m->entries = entries;
    return fl_from_ptr(m);
}

fl_value fl_map_empty(void) { return map_new(FL_EMPTY); }

fl_value fl_map_get(fl_value map, fl_value key, bool *found) {
    for (fl_value c = ((const stub_map *)fl_ptr(map))->entries; c != FL_EMPTY;
         c = ((const fl_cons *)fl_ptr(c))->tail) {
        const fl_value *entry = pair_items(((const fl_cons *)fl_ptr(c))->head);
        if (key_equal(entry[0], key)) {
            *found = true;
            return entry[1];
        }
    }
    *found = false;
    return 0;
}

fl_value fl_map_dissoc(fl_value map, fl_value key) {
    fl_value kept = FL_EMPTY;
    for (fl_value c = ((const stub_map *)fl_ptr(map))->entries; c != FL_EMPTY;
         c = ((const fl_cons *)fl_ptr(c))->tail) {
        fl_value entry = ((const fl_cons *)fl_ptr(c))->head;
        if (!key_equal(pair_items(entry)[0], key)) kept = fl_cons_new(entry, kept);
    }
    fl_value entries = FL_EMPTY; /* restore the order */
    for (fl_value c = kept; c != FL_EMPTY; c = ((const fl_cons *)fl_ptr(c))->tail)
        entries = fl_cons_new(((const fl_cons *)fl_ptr(c))->head, entries);
    return map_new(entries);
}

fl_value fl_map_assoc(fl_value map, fl_value key, fl_value value) {
    fl_value rest = ((const stub_map *)fl_ptr(fl_map_dissoc(map, key)))->entries;
    return map_new(fl_cons_new(pair_new(key, value), rest));
}
