/* equal.c: structural equality `=` and the hash consistent with it (LANGUAGE.md §4 Equality).
 *
 * fl_equal: Int and Float by exact value (fl_num_compare: 1 = 1.0, 0.0 = -0.0, NaN equals
 * nothing); Strings by code points (bytes), Symbols by identity (interned); Lists, ADT values,
 * error values and Maps structurally (maps in any order); a lambda closure equals only itself, a
 * builtin, constructor or effect operation any function value of the same kind and name (`car`
 * is `head`). No identity shortcut for compound values: a List holding NaN is not `=` to itself.
 * fl_hash: equal values hash alike (numbers through fl_num_hash; maps by an order-independent
 * sum). Both walk data with explicit stacks, so long and deeply nested values are fine.
 * Reference: fluentai/vm/equality.py and fluentai/vm/maps.py (normalize_key).
 */
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

static inline bool is_compound(fl_value v) {
    if (!fl_is_ptr(v)) return false;
    unsigned t = fl_hdr_type(fl_ptr(v));
    return t == FL_T_CONS || t == FL_T_MAP || t == FL_T_ADT || t == FL_T_ERROR;
}

static inline bool is_numeric(fl_value v) {
    return fl_is_fixnum(v) || fl_is_float(v) || fl_has_type(v, FL_T_BIGNUM);
}

static bool function_equal(fl_value a, fl_value b) {
    const fl_fndesc *da = ((const fl_closure *)fl_ptr(a))->desc;
    const fl_fndesc *db = ((const fl_closure *)fl_ptr(b))->desc;
    if (da == NULL || db == NULL || da->kind == FL_FN_LAMBDA || db->kind == FL_FN_LAMBDA) return false;
    if (da == db) return true;
    return da->kind == db->kind && da->name != NULL && db->name != NULL && strcmp(da->name, db->name) == 0;
}

/* Equality of two values that are not both compound. */
static bool scalar_equal(fl_value a, fl_value b) {
    if (a == b && !fl_is_float(a)) return true;
    if (is_numeric(a)) {
        if (!is_numeric(b)) return false;
        if (fl_is_fixnum(a) && fl_is_fixnum(b)) return false; /* a != b */
        return fl_num_compare(a, b) == 0;
    }
    if (!fl_is_ptr(a) || !fl_is_ptr(b)) return false; /* distinct immediates */
    unsigned t = fl_hdr_type(fl_ptr(a));
    if (t != fl_hdr_type(fl_ptr(b))) return false;
    switch (t) {
    case FL_T_STRING: {
        int64_t n = fl_string_nbytes(a);
        return n == fl_string_nbytes(b) && memcmp(fl_string_bytes(a), fl_string_bytes(b), (size_t)n) == 0;
    }
    case FL_T_CLOSURE:
        return function_equal(a, b);
    default: /* symbols (interned), boxes, vectors: identity */
        return false;
    }
}

typedef struct pair {
    fl_value a, b;
} pair;

typedef struct pairstack {
    pair *items;
    int64_t n, cap;
} pairstack;

static void push(pairstack *s, fl_value a, fl_value b) {
    if (s->n == s->cap) {
        int64_t cap = s->cap * 2;
        pair *items = fl_alloc(cap * (int64_t)sizeof(pair));
        memcpy(items, s->items, (size_t)s->n * sizeof(pair));
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n].a = a;
    s->items[s->n].b = b;
    s->n++;
}

int fl_equal(fl_value a, fl_value b) {
    if (!is_compound(a) || !is_compound(b)) return scalar_equal(a, b);
    pair local[32];
    pairstack s = {local, 0, 32};
    push(&s, a, b);
    while (s.n > 0) {
        s.n--;
        a = s.items[s.n].a;
        b = s.items[s.n].b;
        if (!is_compound(a) || !is_compound(b)) {
            if (!scalar_equal(a, b)) return 0;
            continue;
        }
        unsigned t = fl_hdr_type(fl_ptr(a));
        if (t != fl_hdr_type(fl_ptr(b))) return 0;
        switch (t) {
        case FL_T_CONS:
            if (fl_list_length(a) != fl_list_length(b)) return 0;
            for (; a != FL_EMPTY; a = fl_cdr(a), b = fl_cdr(b)) {
                fl_value x = fl_car(a), y = fl_car(b);
                if (is_compound(x) && is_compound(y)) push(&s, x, y);
                else if (!scalar_equal(x, y)) return 0;
            }
            break;
        case FL_T_ADT: {
            int64_t id = fl_adt_ctor(a);
            if (id != fl_adt_ctor(b)) return 0;
            const fl_adt *x = fl_ptr(a), *y = fl_ptr(b);
            for (int64_t i = fl_ctor_arity(id) - 1; i >= 0; i--) push(&s, x->fields[i], y->fields[i]);
            break;
        }
        case FL_T_ERROR: {
            const fl_error *x = fl_ptr(a), *y = fl_ptr(b);
            push(&s, x->data, y->data);
            push(&s, x->message, y->message);
            push(&s, x->kind, y->kind);
            break;
        }
        case FL_T_MAP: {
            int64_t n = fl_map_count(a);
            if (n != fl_map_count(b)) return 0;
            if (n == 0) break;
            uint64_t *hashes = fl_alloc_atomic(n * (int64_t)sizeof(uint64_t));
            fl_value *keys = fl_alloc(2 * n * (int64_t)sizeof(fl_value));
            fl_value *values = keys + n;
            fl_map_raw_entries(a, hashes, keys, values);
            for (int64_t i = 0; i < n; i++) {
                bool found;
                fl_value other = fl_map_lookup_hashed(b, keys[i], hashes[i], &found);
                if (!found) return 0;
                push(&s, values[i], other);
            }
            break;
        }
        }
    }
    return 1;
}

/* ---- hashing ------------------------------------------------------------------------------------ */

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t fl_hash_bytes(const char *p, int64_t n) {
    const uint64_t k = UINT64_C(0x9fb21c651e98df25);
    uint64_t h = UINT64_C(0x243f6a8885a308d3) ^ ((uint64_t)n * k);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = rotl((h ^ w) * k, 29);
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, p + i, (size_t)(n - i));
        h = rotl((h ^ w) * k, 29);
    }
    return fl_mix64(h);
}

enum {
    SEED_LIST = 0x11,
    SEED_ADT = 0x22,
    SEED_ERROR = 0x33,
    SEED_MAP = 0x44,
    SEED_STRING = 0x55,
    SEED_SYMBOL = 0x66,
    SEED_FUNCTION = 0x77,
};

static uint64_t atom_hash(fl_value v) {
    if (is_numeric(v)) return fl_mix64(fl_num_hash(v) ^ UINT64_C(0x6a09e667f3bcc908));
    if (!fl_is_ptr(v)) return fl_mix64(v * UINT64_C(0x9e3779b97f4a7c15));
    switch (fl_hdr_type(fl_ptr(v))) {
    case FL_T_STRING:
        return fl_hash_bytes(fl_string_bytes(v), fl_string_nbytes(v)) ^ SEED_STRING;
    case FL_T_SYMBOL:
        return fl_mix64(((const fl_symbol *)fl_ptr(v))->hash ^ SEED_SYMBOL);
    case FL_T_CLOSURE: {
        const fl_fndesc *d = ((const fl_closure *)fl_ptr(v))->desc;
        if (d != NULL && d->kind != FL_FN_LAMBDA && d->name != NULL)
            return fl_hash_bytes(d->name, (int64_t)strlen(d->name)) ^ (SEED_FUNCTION + (uint64_t)d->kind);
        return fl_mix64(v);
    }
    default:
        return fl_mix64(v);
    }
}

typedef struct hframe {
    fl_value v;   /* the compound value */
    fl_value cur; /* CONS: the next cell */
    int64_t i, n;
    uint64_t acc, pending;
    uint64_t *mh; /* MAP: key hashes */
    fl_value *mv; /* MAP: values */
    unsigned type;
} hframe;

static void hframe_open(hframe *f, fl_value v) {
    f->v = v;
    f->type = fl_hdr_type(fl_ptr(v));
    f->i = 0;
    f->pending = 0;
    switch (f->type) {
    case FL_T_CONS:
        f->cur = v;
        f->n = fl_list_length(v);
        f->acc = SEED_LIST;
        break;
    case FL_T_ADT:
        f->n = fl_ctor_arity(fl_adt_ctor(v));
        f->acc = fl_mix64(SEED_ADT + (uint64_t)fl_adt_ctor(v));
        break;
    case FL_T_ERROR:
        f->n = 3;
        f->acc = SEED_ERROR;
        break;
    default: { /* MAP */
        int64_t n = fl_map_count(v);
        f->n = n;
        f->acc = 0;
        f->mh = fl_alloc_atomic(n * (int64_t)sizeof(uint64_t));
        f->mv = fl_alloc(n * (int64_t)sizeof(fl_value));
        fl_map_raw_entries(v, f->mh, NULL, f->mv);
        break;
    }
    }
}

static bool hframe_next(hframe *f, fl_value *child) {
    switch (f->type) {
    case FL_T_CONS:
        if (f->cur == FL_EMPTY) return false;
        *child = fl_car(f->cur);
        f->cur = fl_cdr(f->cur);
        return true;
    case FL_T_ADT:
        if (f->i >= f->n) return false;
        *child = ((const fl_adt *)fl_ptr(f->v))->fields[f->i++];
        return true;
    case FL_T_ERROR: {
        const fl_error *e = fl_ptr(f->v);
        if (f->i >= 3) return false;
        *child = f->i == 0 ? e->kind : f->i == 1 ? e->message : e->data;
        f->i++;
        return true;
    }
    default:
        if (f->i >= f->n) return false;
        f->pending = f->mh[f->i];
        *child = f->mv[f->i++];
        return true;
    }
}

static inline void hframe_feed(hframe *f, uint64_t h) {
    if (f->type == FL_T_MAP) f->acc += fl_mix64(f->pending * UINT64_C(0x9e3779b97f4a7c15) ^ h);
    else f->acc = fl_hash_combine(f->acc, h);
}

static inline uint64_t hframe_finish(const hframe *f) {
    if (f->type == FL_T_MAP) return fl_mix64(f->acc ^ ((uint64_t)f->n * 0x100000001b3u) ^ SEED_MAP);
    return fl_mix64(f->acc ^ (uint64_t)f->n);
}

uint64_t fl_hash(fl_value v) {
    if (!is_compound(v)) return atom_hash(v);
    hframe local[16];
    hframe *stack = local;
    int64_t cap = 16, top = 0;
    hframe_open(&stack[0], v);
    for (;;) {
        hframe *f = &stack[top];
        fl_value child;
        if (!hframe_next(f, &child)) {
            uint64_t h = hframe_finish(f);
            if (top == 0) return h;
            top--;
            hframe_feed(&stack[top], h);
            continue;
        }
        if (!is_compound(child)) {
            hframe_feed(f, atom_hash(child));
            continue;
        }
        if (top + 1 == cap) {
            hframe *bigger = fl_alloc(2 * cap * (int64_t)sizeof(hframe));
            memcpy(bigger, stack, (size_t)cap * sizeof(hframe));
            stack = bigger;
            cap *= 2;
        }
        hframe_open(&stack[++top], child);
    }
}
