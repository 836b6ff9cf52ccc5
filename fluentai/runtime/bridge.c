/* bridge.c: the value bridge between the VM and native code (DESIGN.md §3.4), used by
 * fluentai/jit/bridge.py. Values cross as one word stream per direction, one C call each:
 *
 *     fl_bridge_decode(code, n, out, nout)   VM -> native: build nout values into out (roots)
 *     fl_bridge_encode(v, &n)                native -> VM: serialize one value (no collection)
 *
 * Stream format: a pre-order sequence of items, each starting with a tag word.
 *      0 FIXNUM    [i64]                  an Int in fixnum range (decode also accepts any i64)
 *      1 BIGNUM    [size, limbs[|size|]]  GMP convention: size = signed limb count, limbs
 *                                         little-endian 64-bit (canonical: decode makes a
 *                                         fixnum when the value fits one)
 *      2 FLOAT     [IEEE bits]
 *      3 IMMEDIATE [word]                 FL_TRUE, FL_FALSE, FL_NIL, FL_EMPTY, FL_UNBOUND
 *      4 STRING    [nbytes, bytes]        UTF-8 packed 8 bytes a word, little-endian, zero-padded
 *      5 SYMBOL    [nbytes, bytes]        the name, packed alike
 *      6 LIST      [n, items[n]]          n > 0 (the empty list is IMMEDIATE FL_EMPTY)
 *      7 MAP       [npairs, k0, v0, ...]  insertion order (decode builds it with map.c's batch
 *                                         assoc, which keeps that order, as FlMap.from_pairs)
 *      8 ADT       [ctor_id, nfields, fields]  ids of fl_ctor_register; nfields must be the
 *                                         constructor's arity; fields are stored unchecked
 *      9 ERROR     [kind, message, data]  three items; kind and message are STRING items
 *     10 FUNCTION  [desc, nfree, free[nfree]]  a CLOSURE over the fl_fndesc at address desc;
 *                                         encode writes [desc, closure, nfree, free[nfree]]: the
 *                                         closure's own word, by which the JIT keeps a function's
 *                                         identity across crossings (jit/bridge.py, FnPairs)
 *     11 BOX       [value]                a BOX (decode makes a fresh one); encode writes
 *                                         [box, value]: the box's own word, by which the JIT
 *                                         keeps a shared variable one (jit/bridge.py, TwinBox)
 *     12 REF       [index]                the same object as compound item number `index`
 *     13 WORD      [word]                 a native value the caller keeps rooted (decode only)
 *     14 INTLIST   [n, i64[n]]            a LIST of n > 0 fixnums, flat
 *     15 STRLIST   [n, nbytes, sep, (lens[n] when sep == 256), bytes]
 *                                         a LIST of n > 0 strings, flat: their bytes joined by
 *                                         the byte sep (< 0x20, in none of them), packed as a
 *                                         STRING's; sep 256: no separator, the lengths first
 *
 * INTLIST and STRLIST are LIST items in another form (numbered as compound items alike), for
 * long lists: encode writes them for every list of FLAT_MIN or more fixnums or strings, so the
 * VM builds a list of a million strings with one `decode` and one `split` (bridge.py).
 *
 * Compound items (LIST, MAP, ADT with fields, ERROR, FUNCTION, BOX) are numbered from 0 in the
 * order their tags appear in the stream; REF repeats an earlier one, so shared (DAG-shaped)
 * data stays linear and keeps its identity. Encode emits a REF for every repeated object; a
 * REF may name an item not finished yet only through a BOX (a cycle: a letrec closure whose
 * box holds that closure): the reader creates the box first and patches it. Decode rejects a
 * REF to an unfinished item (values made from the VM never have cycles).
 *
 * GC safety (§3.5): decode keeps every value it has built in a GC-allocated stack referenced
 * from its C frame and writes results into the caller's scanned `out`. Encode never lets a
 * collection happen, so the caller may pass a word that only a Python int holds (a native
 * call's result, read at once): its buffers are malloc'ed, and the one GC allocation it may
 * cause, a map's insertion-order cache (fl_map_ordered), runs with collection disabled.
 * Deep data never recurses on the C stack: both directions use explicit stacks, and lists are
 * walked along their tails.
 */
#include <gc.h>
#include <stdlib.h>
#include <string.h>

#include "fl_ctl.h"
#include "fl_data.h"

enum {
    BR_FIXNUM = 0,
    BR_BIGNUM = 1,
    BR_FLOAT = 2,
    BR_IMMEDIATE = 3,
    BR_STRING = 4,
    BR_SYMBOL = 5,
    BR_LIST = 6,
    BR_MAP = 7,
    BR_ADT = 8,
    BR_ERROR = 9,
    BR_FUNCTION = 10,
    BR_BOX = 11,
    BR_REF = 12,
    BR_WORD = 13, /* [word]: a native value the caller keeps rooted (the JIT's twin cache) */
    BR_INTLIST = 14,
    BR_STRLIST = 15,
};

enum { FLAT_MIN = 8, NO_SEP = 256 };

/* ---- small helpers --------------------------------------------------------------------------- */

static fl_value make_closure(const void *desc, int64_t nfree, const fl_value *free) {
    fl_closure *c = fl_alloc((int64_t)sizeof(fl_closure) + nfree * (int64_t)sizeof(fl_value));
    c->hdr = fl_hdr_make(FL_T_CLOSURE, 0, (uint64_t)nfree);
    c->desc = desc;
    if (nfree > 0) memcpy(c->free, free, (size_t)nfree * sizeof(fl_value));
    return fl_from_ptr(c);
}

fl_value fl_bridge_closure(const void *desc, int64_t nfree, const fl_value *free) {
    return make_closure(desc, nfree, free);
}

static fl_value make_box(fl_value v) {
    fl_box *b = fl_alloc((int64_t)sizeof(fl_box));
    b->hdr = fl_hdr_make(FL_T_BOX, 0, 0);
    b->value = v;
    return fl_from_ptr(b);
}

/* The canonical Int of a GMP-convention (size, limbs). */
static fl_value make_int(int64_t size, const uint64_t *limbs) {
    int64_t n = size < 0 ? -size : size;
    while (n > 0 && limbs[n - 1] == 0) n--;
    if (n == 0) return fl_fixnum(0);
    if (n == 1) {
        uint64_t mag = limbs[0];
        if (size > 0 && mag <= (uint64_t)FL_FIXNUM_MAX) return fl_fixnum((int64_t)mag);
        if (size < 0 && mag <= ((uint64_t)1 << 62)) return fl_fixnum(-(int64_t)(mag - 1) - 1);
    }
    fl_bignum *b = fl_alloc_atomic((int64_t)sizeof(fl_bignum) + n * (int64_t)sizeof(uint64_t));
    b->hdr = fl_hdr_make(FL_T_BIGNUM, 0, (uint64_t)n);
    b->size = size < 0 ? -n : n;
    memcpy(b->limbs, limbs, (size_t)n * sizeof(uint64_t));
    return fl_from_ptr(b);
}

static bool ctor_known(int64_t id) {
    return id >= 0 && strcmp(fl_ctor_name(id), "?") != 0;
}

/* ---- decode ---------------------------------------------------------------------------------- */

typedef struct dframe {
    int64_t tag;
    int64_t need; /* values this item needs on the value stack */
    int64_t base; /* where they start */
    int64_t memo; /* its compound item number */
    uint64_t extra; /* ADT: constructor id; FUNCTION: descriptor address */
} dframe;

typedef struct dstate {
    fl_value *vals; /* GC memory: values built and not yet used */
    int64_t nvals, vals_cap;
    fl_value *memo; /* GC memory: compound items by number (0 while unfinished) */
    int64_t nmemo, memo_cap;
    dframe *frames; /* malloc */
    int64_t nframes, frames_cap;
} dstate;

static void grow_values(fl_value **array, int64_t *cap, int64_t need) {
    if (need <= *cap) return;
    int64_t c = *cap < 64 ? 64 : *cap;
    while (c < need) c *= 2;
    fl_value *a = fl_alloc(c * (int64_t)sizeof(fl_value));
    if (*cap > 0) memcpy(a, *array, (size_t)*cap * sizeof(fl_value));
    *array = a;
    *cap = c;
}

static void push_val(dstate *s, fl_value v) {
    if (s->nvals == s->vals_cap) grow_values(&s->vals, &s->vals_cap, s->nvals + 1);
    s->vals[s->nvals++] = v;
}

static int64_t new_memo(dstate *s) {
    if (s->nmemo == s->memo_cap) grow_values(&s->memo, &s->memo_cap, s->nmemo + 1);
    s->memo[s->nmemo] = 0;
    return s->nmemo++;
}

static void push_frame(dstate *s, int64_t tag, int64_t need, uint64_t extra) {
    if (s->nframes == s->frames_cap) {
        s->frames_cap = s->frames_cap < 64 ? 64 : 2 * s->frames_cap;
        s->frames = fl_xrealloc(s->frames, (size_t)s->frames_cap * sizeof(dframe));
    }
    dframe *f = &s->frames[s->nframes++];
    f->tag = tag;
    f->need = need;
    f->base = s->nvals;
    f->memo = new_memo(s);
    f->extra = extra;
}

/* Build the value of the finished top frame from its values. */
static fl_value finish_frame(const dframe *f, const fl_value *items) {
    switch (f->tag) {
    case BR_LIST:
        return fl_list_from(f->need, items);
    case BR_MAP:
        return f->need == 0 ? fl_map_empty() : fl_b_Z25_map_literal(f->need, items);
    case BR_ADT: {
        fl_adt *v = fl_alloc((int64_t)sizeof(fl_adt) + f->need * (int64_t)sizeof(fl_value));
        v->hdr = fl_hdr_make(FL_T_ADT, 0, f->extra);
        memcpy(v->fields, items, (size_t)f->need * sizeof(fl_value));
        return fl_from_ptr(v);
    }
    case BR_ERROR:
        if (!fl_is_string(items[0]) || !fl_is_string(items[1])) return 0;
        return fl_ctl_make_error(items[0], items[1], items[2]);
    case BR_FUNCTION:
        return make_closure((const void *)(uintptr_t)f->extra, f->need, items);
    case BR_BOX:
        return make_box(items[0]);
    default:
        return 0;
    }
}

static int64_t words_for(uint64_t nbytes) { return (int64_t)((nbytes + 7) / 8); }

/* A STRLIST item at code[*i] (after its tag): a LIST frame and its strings; false when it is
 * malformed. */
static bool decode_strlist(dstate *s, const uint64_t *code, int64_t n, int64_t *i) {
    int64_t at = *i;
    if (at + 3 > n) return false;
    uint64_t count = code[at], nbytes = code[at + 1], sep = code[at + 2];
    at += 3;
    if (count == 0 || nbytes > (uint64_t)INT64_MAX / 2 || (sep >= 0x20 && sep != NO_SEP)) return false;
    const uint64_t *lens = code + at;
    if (sep == NO_SEP) {
        if (count > (uint64_t)(n - at)) return false;
        at += (int64_t)count;
    } else if (count > nbytes + 1) {
        return false;
    }
    if (words_for(nbytes) > n - at) return false;
    const char *bytes = (const char *)(code + at);
    if (!fl_utf8_valid(bytes, (int64_t)nbytes)) return false;
    push_frame(s, BR_LIST, (int64_t)count, 0);
    grow_values(&s->vals, &s->vals_cap, s->nvals + (int64_t)count);
    const char *p = bytes, *end = bytes + nbytes;
    for (uint64_t k = 0; k < count; k++) {
        int64_t len;
        if (sep == NO_SEP) {
            if (lens[k] > (uint64_t)(end - p)) return false;
            len = (int64_t)lens[k];
        } else {
            const char *stop = k + 1 < count ? memchr(p, (int)sep, (size_t)(end - p)) : end;
            if (stop == NULL) return false;
            len = stop - p;
        }
        s->vals[s->nvals++] = fl_string_from_utf8(p, len);
        p += len + (sep != NO_SEP && k + 1 < count);
    }
    if (p != end) return false;
    *i = at + words_for(nbytes);
    return true;
}

/* The compound items of the last successful decode, by number: what fl_bridge_decoded reads (a
 * static, so the collector sees them until the next decode). */
static fl_value *last_memo;
static int64_t last_nmemo;

int64_t fl_bridge_decode(const uint64_t *code, int64_t n, fl_value *out, int64_t nout) {
    dstate s;
    memset(&s, 0, sizeof s);
    int64_t i = 0, done = 0, status = -1;
    while (done < nout) {
        /* complete every finished frame */
        while (s.nframes > 0 && s.nvals - s.frames[s.nframes - 1].base == s.frames[s.nframes - 1].need) {
            dframe f = s.frames[--s.nframes];
            fl_value v = finish_frame(&f, s.vals + f.base);
            if (v == 0) goto fail;
            s.nvals = f.base;
            s.memo[f.memo] = v;
            push_val(&s, v);
        }
        if (s.nframes == 0 && s.nvals == 1) {
            out[done++] = s.vals[0];
            s.nvals = 0;
            continue;
        }
        if (i >= n) goto fail;
        uint64_t tag = code[i++];
        uint64_t a = i < n ? code[i] : 0;
        switch (tag) {
        case BR_FIXNUM:
            if (i + 1 > n) goto fail;
            push_val(&s, fl_int_from_i64((int64_t)a));
            i += 1;
            break;
        case BR_BIGNUM: {
            int64_t size = (int64_t)a, nl = size < 0 ? -size : size;
            if (size == INT64_MIN || nl > n - i - 1) goto fail;
            push_val(&s, make_int(size, code + i + 1));
            i += 1 + nl;
            break;
        }
        case BR_FLOAT: {
            if (i + 1 > n) goto fail;
            double d;
            memcpy(&d, &a, sizeof d);
            push_val(&s, fl_box_float(d));
            i += 1;
            break;
        }
        case BR_WORD:
            if (i + 1 > n || a == 0) goto fail;
            push_val(&s, a);
            i += 1;
            break;
        case BR_IMMEDIATE:
            if (i + 1 > n) goto fail;
            if (a != FL_TRUE && a != FL_FALSE && a != FL_NIL && a != FL_EMPTY && a != FL_UNBOUND)
                goto fail;
            push_val(&s, a);
            i += 1;
            break;
        case BR_STRING:
        case BR_SYMBOL: {
            if (i + 1 > n || a > (uint64_t)INT64_MAX / 2 || words_for(a) > n - i - 1) goto fail;
            const char *bytes = (const char *)(code + i + 1);
            if (!fl_utf8_valid(bytes, (int64_t)a)) goto fail;
            push_val(&s, tag == BR_STRING ? fl_string_from_utf8(bytes, (int64_t)a)
                                          : fl_symbol_intern(bytes, (int64_t)a));
            i += 1 + words_for(a);
            break;
        }
        case BR_LIST:
            if (i + 1 > n || a == 0 || a > (uint64_t)(n - i)) goto fail;
            push_frame(&s, BR_LIST, (int64_t)a, 0);
            i += 1;
            break;
        case BR_INTLIST:
            if (i + 1 > n || a == 0 || a > (uint64_t)(n - i - 1)) goto fail;
            push_frame(&s, BR_LIST, (int64_t)a, 0);
            grow_values(&s.vals, &s.vals_cap, s.nvals + (int64_t)a);
            for (int64_t k = 0; k < (int64_t)a; k++) s.vals[s.nvals++] = fl_int_from_i64((int64_t)code[i + 1 + k]);
            i += 1 + (int64_t)a;
            break;
        case BR_STRLIST:
            if (!decode_strlist(&s, code, n, &i)) goto fail;
            break;
        case BR_MAP:
            if (i + 1 > n || a > (uint64_t)(n - i)) goto fail;
            push_frame(&s, BR_MAP, 2 * (int64_t)a, 0);
            i += 1;
            break;
        case BR_ADT: {
            if (i + 2 > n) goto fail;
            int64_t id = (int64_t)a, nf = (int64_t)code[i + 1];
            if (!ctor_known(id) || nf != fl_ctor_arity(id)) goto fail;
            i += 2;
            if (nf == 0) {
                push_val(&s, fl_adt_new(id, NULL));
                break;
            }
            push_frame(&s, BR_ADT, nf, (uint64_t)id);
            break;
        }
        case BR_ERROR:
            push_frame(&s, BR_ERROR, 3, 0);
            break;
        case BR_FUNCTION: {
            if (i + 2 > n || a == 0 || code[i + 1] > (uint64_t)(n - i)) goto fail;
            push_frame(&s, BR_FUNCTION, (int64_t)code[i + 1], a);
            i += 2;
            break;
        }
        case BR_BOX:
            push_frame(&s, BR_BOX, 1, 0);
            break;
        case BR_REF:
            if (i + 1 > n || a >= (uint64_t)s.nmemo || s.memo[a] == 0) goto fail;
            push_val(&s, s.memo[a]);
            i += 1;
            break;
        default:
            goto fail;
        }
    }
    status = i == n ? 0 : -1;
fail:
    free(s.frames);
    last_memo = status == 0 ? s.memo : NULL;
    last_nmemo = status == 0 ? s.nmemo : 0;
    return status;
}

fl_value fl_bridge_decoded(int64_t index) {
    return index >= 0 && index < last_nmemo ? last_memo[index] : 0;
}

fl_value *fl_bridge_pin_page(int64_t n) {
    GC_disable();
    fl_value *page = fl_alloc_roots(n);
    GC_enable();
    return page;
}

/* ---- encode ---------------------------------------------------------------------------------- */

typedef struct ebuf {
    uint64_t *w;
    int64_t n, cap;
} ebuf;

static _Thread_local ebuf out_buf;
static _Thread_local ebuf work; /* values to emit (a LIFO); list cursors are tagged 100 */

static void ebuf_reserve(ebuf *b, int64_t extra) {
    if (b->n + extra <= b->cap) return;
    int64_t c = b->cap < 256 ? 256 : b->cap;
    while (c < b->n + extra) c *= 2;
    b->w = fl_xrealloc(b->w, (size_t)c * sizeof(uint64_t));
    b->cap = c;
}

static inline void put1(uint64_t x) {
    if (out_buf.n == out_buf.cap) ebuf_reserve(&out_buf, 1);
    out_buf.w[out_buf.n++] = x;
}

static inline void put2(uint64_t x, uint64_t y) {
    ebuf_reserve(&out_buf, 2);
    out_buf.w[out_buf.n++] = x;
    out_buf.w[out_buf.n++] = y;
}

static void put_bytes(uint64_t tag, const char *bytes, int64_t nbytes) {
    int64_t nw = words_for((uint64_t)nbytes);
    ebuf_reserve(&out_buf, 2 + nw);
    out_buf.w[out_buf.n++] = tag;
    out_buf.w[out_buf.n++] = (uint64_t)nbytes;
    if (nw > 0) {
        out_buf.w[out_buf.n + nw - 1] = 0; /* zero padding */
        memcpy(out_buf.w + out_buf.n, bytes, (size_t)nbytes);
        out_buf.n += nw;
    }
}

static inline void push_work(uint64_t x) {
    if (work.n == work.cap) ebuf_reserve(&work, 1);
    work.w[work.n++] = x;
}

/* Identity memo: object address -> compound item number, valid for the current generation. */
typedef struct mslot {
    uint64_t key;
    uint64_t gen;
    int64_t index;
} mslot;

static _Thread_local mslot *memo_tab;
static _Thread_local int64_t memo_cap, memo_used;
static _Thread_local uint64_t memo_gen;
static _Thread_local int64_t memo_next;

static inline uint64_t addr_hash(uint64_t a) { return fl_mix64(a); }

static void memo_grow(void) {
    int64_t old_cap = memo_cap;
    mslot *old = memo_tab;
    memo_cap = old_cap ? 2 * old_cap : 1024;
    memo_tab = fl_xmalloc((size_t)memo_cap * sizeof(mslot));
    memset(memo_tab, 0, (size_t)memo_cap * sizeof(mslot));
    for (int64_t k = 0; k < old_cap; k++) {
        if (old[k].gen != memo_gen) continue;
        uint64_t j = addr_hash(old[k].key) & (uint64_t)(memo_cap - 1);
        while (memo_tab[j].gen == memo_gen) j = (j + 1) & (uint64_t)(memo_cap - 1);
        memo_tab[j] = old[k];
    }
    free(old);
}

/* The item number of an object seen before in this call, or -1 (then it gets the next one). */
static int64_t memo_find_or_add(uint64_t key) {
    if (2 * (memo_used + 1) > memo_cap) memo_grow();
    uint64_t j = addr_hash(key) & (uint64_t)(memo_cap - 1);
    while (memo_tab[j].gen == memo_gen) {
        if (memo_tab[j].key == key) return memo_tab[j].index;
        j = (j + 1) & (uint64_t)(memo_cap - 1);
    }
    memo_tab[j].key = key;
    memo_tab[j].gen = memo_gen;
    memo_tab[j].index = memo_next++;
    memo_used++;
    return -1;
}

/* Emit a compound object's REF if it was seen; returns true then. */
static bool seen(fl_value v) {
    int64_t k = memo_find_or_add(v);
    if (k < 0) return false;
    put2(BR_REF, (uint64_t)k);
    return true;
}

/* A list of FLAT_MIN or more fixnums or strings as one INTLIST or STRLIST item; false for
 * another list (nothing written). */
static bool emit_flat_list(fl_value v) {
    int64_t n = fl_list_length(v), nbytes = 0;
    bool ints = true, strs = true;
    for (fl_value p = v; p != FL_EMPTY && (ints || strs); p = fl_cdr(p)) {
        fl_value x = fl_car(p);
        ints = ints && fl_is_fixnum(x);
        if (strs && fl_is_string(x)) nbytes += fl_string_nbytes(x);
        else strs = false;
    }
    if (ints) {
        ebuf_reserve(&out_buf, 2 + n);
        uint64_t *w = out_buf.w + out_buf.n;
        *w++ = BR_INTLIST;
        *w++ = (uint64_t)n;
        for (fl_value p = v; p != FL_EMPTY; p = fl_cdr(p)) *w++ = (uint64_t)fl_fixnum_value(fl_car(p));
        out_buf.n += 2 + n;
        return true;
    }
    if (!strs) return false;
    /* the bytes joined by a placeholder, noting which control bytes occur */
    int64_t block = nbytes + n - 1, nw = words_for((uint64_t)block);
    ebuf_reserve(&out_buf, 4 + n + nw);
    uint64_t *head = out_buf.w + out_buf.n;
    head[0] = BR_STRLIST;
    head[1] = (uint64_t)n;
    char *q = (char *)(head + 4), *start = q;
    head[4 + nw - 1] = 0; /* zero padding */
    uint32_t present = 0;
    for (fl_value p = v; p != FL_EMPTY; p = fl_cdr(p)) {
        fl_value x = fl_car(p);
        const unsigned char *b = (const unsigned char *)fl_string_bytes(x);
        int64_t len = fl_string_nbytes(x);
        for (int64_t k = 0; k < len; k++) present |= (uint32_t)(b[k] < 0x20) << (b[k] & 31);
        memcpy(q, b, (size_t)len);
        q += len + 1;
    }
    if (~present != 0) {
        unsigned sep = (unsigned)__builtin_ctz(~present);
        head[2] = (uint64_t)block;
        head[3] = sep;
        q = start;
        for (fl_value p = v; fl_cdr(p) != FL_EMPTY; p = fl_cdr(p)) {
            q += fl_string_nbytes(fl_car(p));
            *q++ = (char)sep;
        }
        out_buf.n += 4 + nw;
        return true;
    }
    /* every control byte occurs: the lengths, then the bytes back to back */
    head[2] = (uint64_t)nbytes;
    head[3] = NO_SEP;
    uint64_t *lens = head + 4;
    q = (char *)(head + 4 + n);
    int64_t k = 0;
    for (fl_value p = v; p != FL_EMPTY; p = fl_cdr(p), k++) {
        fl_value x = fl_car(p);
        lens[k] = (uint64_t)fl_string_nbytes(x);
        memcpy(q, fl_string_bytes(x), (size_t)lens[k]);
        q += lens[k];
    }
    nw = words_for((uint64_t)nbytes);
    if (nw > 0) memset(q, 0, (size_t)(8 * nw - nbytes));
    out_buf.n += 4 + n + nw;
    return true;
}

/* Emit one value: scalars completely, compound ones as their header with children queued. */
static bool emit(fl_value v) {
    if (fl_is_fixnum(v)) {
        put2(BR_FIXNUM, (uint64_t)fl_fixnum_value(v));
        return true;
    }
    if (fl_is_float(v)) {
        double d = fl_float_value(v);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        put2(BR_FLOAT, bits);
        return true;
    }
    if ((v & 7) == 6) {
        put2(BR_IMMEDIATE, v);
        return true;
    }
    if (!fl_is_ptr(v)) return false;
    const void *obj = fl_ptr(v);
    switch (fl_hdr_type(obj)) {
    case FL_T_BIGNUM: {
        const fl_bignum *b = obj;
        int64_t nl = b->size < 0 ? -b->size : b->size;
        ebuf_reserve(&out_buf, 2 + nl);
        out_buf.w[out_buf.n++] = BR_BIGNUM;
        out_buf.w[out_buf.n++] = (uint64_t)b->size;
        memcpy(out_buf.w + out_buf.n, b->limbs, (size_t)nl * sizeof(uint64_t));
        out_buf.n += nl;
        return true;
    }
    case FL_T_STRING:
        put_bytes(BR_STRING, fl_string_bytes(v), fl_string_nbytes(v));
        return true;
    case FL_T_SYMBOL: {
        fl_value name = ((const fl_symbol *)obj)->name;
        put_bytes(BR_SYMBOL, fl_string_bytes(name), fl_string_nbytes(name));
        return true;
    }
    case FL_T_CONS:
        if (seen(v)) return true;
        if (fl_hdr_aux(obj) >= FLAT_MIN && emit_flat_list(v)) return true;
        put2(BR_LIST, fl_hdr_aux(obj));
        push_work(v | 4); /* a cursor: the elements from this cell on */
        return true;
    case FL_T_MAP: {
        if (seen(v)) return true;
        int64_t count = fl_map_count(v);
        put2(BR_MAP, (uint64_t)count);
        if (count == 0) return true;
        GC_disable(); /* the order cache may be made now: no collection meanwhile */
        const fl_value *order = fl_map_ordered(v);
        GC_enable();
        ebuf_reserve(&work, 2 * count);
        for (int64_t k = 2 * count - 1; k >= 0; k--) work.w[work.n++] = order[k];
        return true;
    }
    case FL_T_ADT: {
        int64_t id = fl_adt_ctor(v), arity = fl_ctor_arity(id);
        if (arity > 0 && seen(v)) return true;
        ebuf_reserve(&out_buf, 3);
        out_buf.w[out_buf.n++] = BR_ADT;
        out_buf.w[out_buf.n++] = (uint64_t)id;
        out_buf.w[out_buf.n++] = (uint64_t)arity;
        const fl_adt *a = obj;
        for (int64_t k = arity - 1; k >= 0; k--) push_work(a->fields[k]);
        return true;
    }
    case FL_T_ERROR: {
        if (seen(v)) return true;
        const fl_error *e = obj;
        put1(BR_ERROR);
        push_work(e->data);
        push_work(e->message);
        push_work(e->kind);
        return true;
    }
    case FL_T_CLOSURE: {
        if (seen(v)) return true;
        const fl_closure *c = obj;
        int64_t nfree = (int64_t)fl_hdr_aux(obj);
        ebuf_reserve(&out_buf, 4);
        out_buf.w[out_buf.n++] = BR_FUNCTION;
        out_buf.w[out_buf.n++] = (uint64_t)(uintptr_t)c->desc;
        out_buf.w[out_buf.n++] = v;
        out_buf.w[out_buf.n++] = (uint64_t)nfree;
        for (int64_t k = nfree - 1; k >= 0; k--) push_work(c->free[k]);
        return true;
    }
    case FL_T_BOX:
        if (seen(v)) return true;
        put2(BR_BOX, v);
        push_work(((const fl_box *)obj)->value);
        return true;
    default:
        return false;
    }
}

const uint64_t *fl_bridge_encode(fl_value v, int64_t *n) {
    out_buf.n = 0;
    work.n = 0;
    memo_gen++;
    memo_used = 0;
    memo_next = 0;
    push_work(v);
    while (work.n > 0) {
        uint64_t x = work.w[--work.n];
        if ((x & 7) == 4) { /* list cursor */
            const fl_cons *cell = fl_ptr(x & ~(uint64_t)7);
            if (cell->tail != FL_EMPTY) push_work(cell->tail | 4);
            x = cell->head;
        }
        if (!emit(x)) {
            *n = -1;
            return NULL;
        }
    }
    *n = out_buf.n;
    return out_buf.w != NULL ? out_buf.w : (const uint64_t *)&out_buf;
}

/* ---- pending state --------------------------------------------------------------------------- */

fl_value fl_bridge_pending_error(int64_t *trace_out, int64_t max, int64_t *count) {
    const fl_pending_rec *p = &fl_ctl.pending;
    *count = 0;
    if (p->kind != FL_PENDING_ERROR || p->error == 0) return 0;
    const fl_trace *t = &p->trace;
    int64_t total = t->count, k = 0;
    *count = total;
    for (int64_t i = 0; i < total && k < max; i++) {
        if (total > 2 * FL_TRACE_KEEP && i >= FL_TRACE_KEEP && i < total - FL_TRACE_KEEP) {
            i = total - FL_TRACE_KEEP - 1; /* skip to the outermost kept ones */
            continue;
        }
        trace_out[k++] = i < FL_TRACE_KEEP ? t->inner[i] : t->outer[i % FL_TRACE_KEEP];
    }
    return p->error;
}

const char *fl_bridge_pending_fatal(void) {
    const fl_pending_rec *p = &fl_ctl.pending;
    return p->kind == FL_PENDING_ERROR ? p->fatal : NULL;
}

int64_t fl_bridge_exit_code(void) {
    return fl_ctl.pending.kind == FL_PENDING_EXIT ? fl_ctl.pending.exit_code : 0;
}

void fl_bridge_clear_pending(void) {
    fl_ctl_reset_pending();
    fl_ctl_reset_handlers();
}

void fl_bridge_set_depth(int64_t d) { fl_rt_depth = d; }

int64_t fl_bridge_get_depth(void) { return fl_rt_depth; }
