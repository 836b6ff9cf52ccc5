/* map.c: persistent maps that remember insertion order (LANGUAGE.md §9, DESIGN.md §3.3).
 *
 * A MAP is {hdr (aux = count), next stamp, root, order cache}. The root is a CHAMP trie (a HAMT
 * whose nodes keep entries inline before child pointers) over the 64-bit fl_hash of the keys,
 * 5 bits per level; below 64 bits, collision nodes list the entries. Each entry is four words:
 * key, value, stamp (a fixnum word), hash. A new key takes the next stamp; re-assoc keeps the
 * key, its stamp and so its position; dissoc then assoc moves a key to the end. Iteration sorts
 * entries by stamp once per map and caches the result in the map (values are immutable).
 *
 * get/assoc/dissoc are O(log32 n) node visits, each copying at most one node per level. Batch
 * updates (map literals, merge, multi-pair assoc) run as transients: nodes made by the batch
 * carry its edit token and are updated in place. Keys compare with fl_equal (1 and 1.0 are the
 * same key; a NaN key is never found). Semantics and messages follow fluentai/vm/maps.py and
 * fluentai/vm/builtins_maps.py.
 */
#include <gc.h>
#include <stdlib.h>
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

enum { EW = 4 };          /* words per entry: key, value, stamp, hash */
enum { BITS = 5, MAX_SHIFT = 64 };

typedef struct hnode {
    uint32_t datamap; /* entries present (bit per 5-bit chunk); the entry count in a collision node */
    uint32_t nodemap; /* children present */
    uint64_t edit;    /* transient owner (0: shared, never modified) */
    fl_value slots[]; /* EW words per entry, then one word per child */
} hnode;

typedef struct fl_mapobj {
    uint64_t hdr; /* aux = count */
    int64_t next_stamp;
    hnode *root; /* NULL when empty */
    fl_value *order; /* [k0 v0 k1 v1 ...] in insertion order, made on first use */
} fl_mapobj;

static inline fl_mapobj *M(fl_value m) { return (fl_mapobj *)fl_ptr(m); }
static inline int pop(uint32_t x) { /* no -mpopcnt: __builtin_popcount would call libgcc */
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (int)((x * 0x01010101u) >> 24);
}
static inline uint32_t bitpos(uint64_t h, int shift) { return UINT32_C(1) << ((h >> shift) & 31); }
static inline int ndata(const hnode *n, int shift) { return shift >= MAX_SHIFT ? (int)n->datamap : pop(n->datamap); }
static inline int nchild(const hnode *n, int shift) { return shift >= MAX_SHIFT ? 0 : pop(n->nodemap); }
static inline hnode *child_at(const hnode *n, int nd, int i) { return (hnode *)fl_ptr(n->slots[EW * nd + i]); }

static hnode *node_new(int nd, int nc, uint64_t edit) {
    hnode *n = fl_alloc((int64_t)sizeof(hnode) + (int64_t)(EW * nd + nc) * (int64_t)sizeof(fl_value));
    n->edit = edit;
    return n;
}

static hnode *node_copy(const hnode *n, int shift, uint64_t edit) {
    int nd = ndata(n, shift), nc = nchild(n, shift);
    hnode *c = node_new(nd, nc, edit);
    c->datamap = n->datamap;
    c->nodemap = n->nodemap;
    memcpy(c->slots, n->slots, (size_t)(EW * nd + nc) * sizeof(fl_value));
    return c;
}

static inline bool same_key(const fl_value *e, fl_value key, uint64_t h) {
    return (uint64_t)e[3] == h && fl_equal(e[0], key);
}

static fl_mapobj *map_new(int64_t count, int64_t next_stamp, hnode *root) {
    fl_mapobj *m = fl_alloc(sizeof(fl_mapobj));
    m->hdr = fl_hdr_make(FL_T_MAP, 0, (uint64_t)count);
    m->next_stamp = next_stamp;
    m->root = root;
    m->order = NULL;
    return m;
}

static fl_value empty_map;

fl_value fl_map_empty(void) {
    fl_value m = __atomic_load_n(&empty_map, __ATOMIC_ACQUIRE);
    if (m != 0) return m;
    fl_mapobj *obj = fl_alloc_uncollectable(sizeof(fl_mapobj));
    obj->hdr = fl_hdr_make(FL_T_MAP, 0, 0);
    fl_value expected = 0;
    if (!__atomic_compare_exchange_n(&empty_map, &expected, fl_from_ptr(obj), false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        GC_FREE(obj);
        return expected;
    }
    return fl_from_ptr(obj);
}

int64_t fl_map_count(fl_value map) { return (int64_t)fl_hdr_aux(fl_ptr(map)); }

/* ---- lookup ------------------------------------------------------------------------------------- */

static const fl_value *find(const hnode *n, fl_value key, uint64_t h) {
    for (int shift = 0; n != NULL; shift += BITS) {
        if (shift >= MAX_SHIFT) {
            for (uint32_t i = 0; i < n->datamap; i++)
                if (same_key(&n->slots[EW * i], key, h)) return &n->slots[EW * i];
            return NULL;
        }
        uint32_t bit = bitpos(h, shift);
        if (n->datamap & bit) {
            const fl_value *e = &n->slots[EW * pop(n->datamap & (bit - 1))];
            return same_key(e, key, h) ? e : NULL;
        }
        if (!(n->nodemap & bit)) return NULL;
        n = child_at(n, pop(n->datamap), pop(n->nodemap & (bit - 1)));
    }
    return NULL;
}

fl_value fl_map_lookup_hashed(fl_value map, fl_value key, uint64_t hash, bool *found) {
    const fl_value *e = find(M(map)->root, key, hash);
    *found = e != NULL;
    return e ? e[1] : 0;
}

fl_value fl_map_get(fl_value map, fl_value key, bool *found) {
    return fl_map_lookup_hashed(map, key, fl_hash(key), found);
}

/* ---- assoc -------------------------------------------------------------------------------------- */

enum { ADDED = 1, REPLACED = 2, UNCHANGED = 3 };

/* A node holding two entries whose hashes agree below `shift`. */
static hnode *merge_two(const fl_value *e1, const fl_value *e2, int shift, uint64_t edit) {
    uint64_t h1 = (uint64_t)e1[3], h2 = (uint64_t)e2[3];
    if (shift >= MAX_SHIFT) {
        hnode *n = node_new(2, 0, edit);
        n->datamap = 2;
        n->nodemap = 0;
        memcpy(&n->slots[0], e1, EW * sizeof(fl_value));
        memcpy(&n->slots[EW], e2, EW * sizeof(fl_value));
        return n;
    }
    uint32_t b1 = bitpos(h1, shift), b2 = bitpos(h2, shift);
    if (b1 != b2) {
        hnode *n = node_new(2, 0, edit);
        n->datamap = b1 | b2;
        n->nodemap = 0;
        if (b1 > b2) {
            const fl_value *t = e1;
            e1 = e2;
            e2 = t;
        }
        memcpy(&n->slots[0], e1, EW * sizeof(fl_value));
        memcpy(&n->slots[EW], e2, EW * sizeof(fl_value));
        return n;
    }
    hnode *n = node_new(0, 1, edit);
    n->datamap = 0;
    n->nodemap = b1;
    n->slots[0] = fl_from_ptr(merge_two(e1, e2, shift + BITS, edit));
    return n;
}

/* n with the entry e inserted as data entry number di (bit `bit`). */
static hnode *insert_data(const hnode *n, int shift, uint32_t bit, int di, const fl_value *e, uint64_t edit) {
    int nd = ndata(n, shift), nc = nchild(n, shift);
    hnode *c = node_new(nd + 1, nc, edit);
    c->datamap = shift >= MAX_SHIFT ? n->datamap + 1 : n->datamap | bit;
    c->nodemap = n->nodemap;
    memcpy(c->slots, n->slots, (size_t)(EW * di) * sizeof(fl_value));
    memcpy(&c->slots[EW * di], e, EW * sizeof(fl_value));
    memcpy(&c->slots[EW * (di + 1)], &n->slots[EW * di], (size_t)(EW * (nd - di) + nc) * sizeof(fl_value));
    return c;
}

/* n with data entry di (bit) replaced by a child node (inserted as child number ci). */
static hnode *data_to_child(const hnode *n, uint32_t bit, int di, hnode *child, uint64_t edit) {
    int nd = pop(n->datamap), nc = pop(n->nodemap);
    int ci = pop(n->nodemap & (bit - 1));
    hnode *c = node_new(nd - 1, nc + 1, edit);
    c->datamap = n->datamap & ~bit;
    c->nodemap = n->nodemap | bit;
    fl_value *o = c->slots;
    memcpy(o, n->slots, (size_t)(EW * di) * sizeof(fl_value));
    o += EW * di;
    memcpy(o, &n->slots[EW * (di + 1)], (size_t)(EW * (nd - di - 1)) * sizeof(fl_value));
    o += EW * (nd - di - 1);
    const fl_value *children = &n->slots[EW * nd];
    memcpy(o, children, (size_t)ci * sizeof(fl_value));
    o[ci] = fl_from_ptr(child);
    memcpy(o + ci + 1, children + ci, (size_t)(nc - ci) * sizeof(fl_value));
    return c;
}

/* Assoc entry e (key, value, stamp, hash) below n; *status tells what happened. */
static hnode *node_assoc(hnode *n, int shift, const fl_value *e, uint64_t edit, int *status) {
    uint64_t h = (uint64_t)e[3];
    if (n == NULL) {
        hnode *c = node_new(1, 0, edit);
        c->datamap = bitpos(h, shift);
        c->nodemap = 0;
        memcpy(c->slots, e, EW * sizeof(fl_value));
        *status = ADDED;
        return c;
    }
    bool mine = edit != 0 && n->edit == edit;
    if (shift >= MAX_SHIFT) {
        for (uint32_t i = 0; i < n->datamap; i++) {
            fl_value *old = &n->slots[EW * i];
            if (same_key(old, e[0], h)) {
                if (old[1] == e[1]) {
                    *status = UNCHANGED;
                    return n;
                }
                hnode *c = mine ? n : node_copy(n, shift, edit);
                c->slots[EW * i + 1] = e[1];
                *status = REPLACED;
                return c;
            }
        }
        *status = ADDED;
        return insert_data(n, shift, 0, (int)n->datamap, e, edit);
    }
    uint32_t bit = bitpos(h, shift);
    if (n->datamap & bit) {
        int di = pop(n->datamap & (bit - 1));
        fl_value *old = &n->slots[EW * di];
        if (same_key(old, e[0], h)) {
            if (old[1] == e[1]) {
                *status = UNCHANGED;
                return n;
            }
            hnode *c = mine ? n : node_copy(n, shift, edit);
            c->slots[EW * di + 1] = e[1];
            *status = REPLACED;
            return c;
        }
        *status = ADDED;
        return data_to_child(n, bit, di, merge_two(old, e, shift + BITS, edit), edit);
    }
    if (n->nodemap & bit) {
        int nd = pop(n->datamap), ci = pop(n->nodemap & (bit - 1));
        hnode *child = child_at(n, nd, ci);
        hnode *c2 = node_assoc(child, shift + BITS, e, edit, status);
        if (c2 == child) return n;
        hnode *c = mine ? n : node_copy(n, shift, edit);
        c->slots[EW * nd + ci] = fl_from_ptr(c2);
        return c;
    }
    *status = ADDED;
    return insert_data(n, shift, bit, pop(n->datamap & (bit - 1)), e, edit);
}

/* ---- dissoc ------------------------------------------------------------------------------------- */

/* Does the subtree at n hold exactly one entry (n has one data entry and no children)? */
static bool single_entry(const hnode *n, int shift) { return ndata(n, shift) == 1 && nchild(n, shift) == 0; }

/* n without key; returns n itself when the key is absent, NULL when nothing is left. */
static hnode *node_dissoc(hnode *n, int shift, fl_value key, uint64_t h, bool *found) {
    if (shift >= MAX_SHIFT) {
        for (uint32_t i = 0; i < n->datamap; i++) {
            if (same_key(&n->slots[EW * i], key, h)) {
                *found = true;
                if (n->datamap == 1) return NULL;
                hnode *c = node_new((int)n->datamap - 1, 0, 0);
                c->datamap = n->datamap - 1;
                c->nodemap = 0;
                memcpy(c->slots, n->slots, (size_t)(EW * i) * sizeof(fl_value));
                memcpy(&c->slots[EW * i], &n->slots[EW * (i + 1)],
                       (size_t)(EW * (n->datamap - i - 1)) * sizeof(fl_value));
                return c;
            }
        }
        return n;
    }
    uint32_t bit = bitpos(h, shift);
    int nd = pop(n->datamap), nc = pop(n->nodemap);
    if (n->datamap & bit) {
        int di = pop(n->datamap & (bit - 1));
        if (!same_key(&n->slots[EW * di], key, h)) return n;
        *found = true;
        if (nd == 1 && nc == 0) return NULL;
        hnode *c = node_new(nd - 1, nc, 0);
        c->datamap = n->datamap & ~bit;
        c->nodemap = n->nodemap;
        memcpy(c->slots, n->slots, (size_t)(EW * di) * sizeof(fl_value));
        memcpy(&c->slots[EW * di], &n->slots[EW * (di + 1)],
               (size_t)(EW * (nd - di - 1) + nc) * sizeof(fl_value));
        return c;
    }
    if (!(n->nodemap & bit)) return n;
    int ci = pop(n->nodemap & (bit - 1));
    hnode *child = child_at(n, nd, ci);
    hnode *c2 = node_dissoc(child, shift + BITS, key, h, found);
    if (c2 == child) return n;
    if (c2 == NULL || single_entry(c2, shift + BITS)) {
        /* remove the child; a single remaining entry moves up into this node */
        if (c2 == NULL && nd == 0 && nc == 1) return NULL;
        int newnd = c2 ? nd + 1 : nd;
        hnode *c = node_new(newnd, nc - 1, 0);
        c->nodemap = n->nodemap & ~bit;
        c->datamap = c2 ? n->datamap | bit : n->datamap;
        fl_value *o = c->slots;
        int di = pop(n->datamap & (bit - 1));
        if (c2) {
            memcpy(o, n->slots, (size_t)(EW * di) * sizeof(fl_value));
            memcpy(o + EW * di, c2->slots, EW * sizeof(fl_value));
            memcpy(o + EW * (di + 1), &n->slots[EW * di], (size_t)(EW * (nd - di)) * sizeof(fl_value));
        } else {
            memcpy(o, n->slots, (size_t)(EW * nd) * sizeof(fl_value));
        }
        o += EW * newnd;
        const fl_value *children = &n->slots[EW * nd];
        memcpy(o, children, (size_t)ci * sizeof(fl_value));
        memcpy(o + ci, children + ci + 1, (size_t)(nc - ci - 1) * sizeof(fl_value));
        return c; /* if it is down to one entry, the parent inlines it in turn */
    }
    hnode *c = node_copy(n, shift, 0);
    c->slots[EW * nd + ci] = fl_from_ptr(c2);
    return c;
}

/* ---- public operations -------------------------------------------------------------------------- */

/* The hash a new entry for `key` gets: fl_hash, except for a NaN Float. A NaN key equals nothing,
 * so it is never found and any hash will do: each one gets its own (from its stamp) instead of
 * all of them colliding in one node, which every insertion copied (20 000 NaN keys took 9 s). */
static inline uint64_t entry_hash(fl_value key, int64_t stamp) {
    uint64_t h = fl_hash(key);
    if (fl_is_float(key) && fl_float_value(key) != fl_float_value(key))
        h ^= (uint64_t)stamp * UINT64_C(0x9E3779B97F4A7C15);
    return h;
}

fl_value fl_map_assoc(fl_value map, fl_value key, fl_value value) {
    fl_mapobj *m = M(map);
    fl_value e[EW] = {key, value, fl_fixnum(m->next_stamp), (fl_value)entry_hash(key, m->next_stamp)};
    int status = 0;
    hnode *root = node_assoc(m->root, 0, e, 0, &status);
    if (status == UNCHANGED) return map;
    int64_t count = fl_map_count(map) + (status == ADDED);
    return fl_from_ptr(map_new(count, m->next_stamp + (status == ADDED), root));
}

fl_value fl_map_dissoc(fl_value map, fl_value key) {
    fl_mapobj *m = M(map);
    if (m->root == NULL) return map;
    bool found = false;
    hnode *root = node_dissoc(m->root, 0, key, fl_hash(key), &found);
    if (!found) return map;
    return fl_from_ptr(map_new(fl_map_count(map) - 1, m->next_stamp, root));
}

/* A batch of assocs (a transient): nodes made by it are updated in place. */
typedef struct batch {
    hnode *root;
    int64_t count, next_stamp;
    uint64_t edit;
} batch;

static uint64_t edit_counter;

static void batch_begin(batch *b, fl_value map) {
    b->root = M(map)->root;
    b->count = fl_map_count(map);
    b->next_stamp = M(map)->next_stamp;
    b->edit = __atomic_add_fetch(&edit_counter, 1, __ATOMIC_RELAXED);
}

static void batch_assoc_hashed(batch *b, fl_value key, fl_value value, uint64_t h) {
    fl_value e[EW] = {key, value, fl_fixnum(b->next_stamp), (fl_value)h};
    int status = 0;
    b->root = node_assoc(b->root, 0, e, b->edit, &status);
    if (status == ADDED) {
        b->count++;
        b->next_stamp++;
    }
}

static void batch_assoc(batch *b, fl_value key, fl_value value) {
    batch_assoc_hashed(b, key, value, entry_hash(key, b->next_stamp));
}

static fl_value batch_end(batch *b, fl_value map) {
    if (b->root == M(map)->root) return map;
    return fl_from_ptr(map_new(b->count, b->next_stamp, b->root));
}

/* ---- iteration ---------------------------------------------------------------------------------- */

typedef void (*entry_fn)(const fl_value *e, void *ctx);

static void walk(const hnode *root, entry_fn fn, void *ctx) {
    if (root == NULL) return;
    struct {
        const hnode *n;
        int shift, next;
    } stack[MAX_SHIFT / BITS + 3];
    int top = 0;
    stack[0].n = root;
    stack[0].shift = 0;
    stack[0].next = -1;
    while (top >= 0) {
        const hnode *n = stack[top].n;
        int shift = stack[top].shift;
        int nd = ndata(n, shift), nc = nchild(n, shift);
        if (stack[top].next < 0) {
            for (int i = 0; i < nd; i++) fn(&n->slots[EW * i], ctx);
            stack[top].next = 0;
        }
        if (stack[top].next < nc) {
            const hnode *c = child_at(n, nd, stack[top].next++);
            top++;
            stack[top].n = c;
            stack[top].shift = shift + BITS;
            stack[top].next = -1;
        } else {
            top--;
        }
    }
}

typedef struct raw_ctx {
    uint64_t *hashes;
    fl_value *keys, *values;
    int64_t i;
} raw_ctx;

static void raw_entry(const fl_value *e, void *p) {
    raw_ctx *c = p;
    if (c->hashes) c->hashes[c->i] = (uint64_t)e[3];
    if (c->keys) c->keys[c->i] = e[0];
    if (c->values) c->values[c->i] = e[1];
    c->i++;
}

int64_t fl_map_raw_entries(fl_value map, uint64_t *hashes, fl_value *keys, fl_value *values) {
    raw_ctx c = {hashes, keys, values, 0};
    walk(M(map)->root, raw_entry, &c);
    return c.i;
}

typedef struct order_ctx {
    int64_t *stamps;
    fl_value *kv;
    int64_t i;
} order_ctx;

static void order_entry(const fl_value *e, void *p) {
    order_ctx *c = p;
    c->stamps[c->i] = fl_fixnum_value(e[2]);
    c->kv[2 * c->i] = e[0];
    c->kv[2 * c->i + 1] = e[1];
    c->i++;
}

static int cmp_by_stamp(const void *a, const void *b, void *ctx) {
    const int64_t *stamps = ctx;
    int64_t x = stamps[*(const int64_t *)a], y = stamps[*(const int64_t *)b];
    return (x > y) - (x < y);
}

const fl_value *fl_map_ordered(fl_value map) {
    fl_mapobj *m = M(map);
    fl_value *order = __atomic_load_n(&m->order, __ATOMIC_ACQUIRE);
    if (order != NULL) return order;
    int64_t n = fl_map_count(map);
    order = fl_alloc((2 * n + 1) * (int64_t)sizeof(fl_value));
    if (n > 0) {
        order_ctx c = {fl_alloc_atomic(n * (int64_t)sizeof(int64_t)),
                       fl_alloc(2 * n * (int64_t)sizeof(fl_value)), 0};
        walk(m->root, order_entry, &c);
        int64_t lo = c.stamps[0];
        for (int64_t i = 1; i < n; i++)
            if (c.stamps[i] < lo) lo = c.stamps[i];
        int64_t span = m->next_stamp - lo;
        if (span <= 4 * n + 64) {
            int64_t *pos = fl_alloc_atomic(span * (int64_t)sizeof(int64_t));
            memset(pos, 0xFF, (size_t)span * sizeof(int64_t));
            for (int64_t i = 0; i < n; i++) pos[c.stamps[i] - lo] = i;
            int64_t o = 0;
            for (int64_t s = 0; s < span; s++) {
                if (pos[s] < 0) continue;
                order[o++] = c.kv[2 * pos[s]];
                order[o++] = c.kv[2 * pos[s] + 1];
            }
        } else {
            int64_t *idx = fl_alloc_atomic(n * (int64_t)sizeof(int64_t));
            for (int64_t i = 0; i < n; i++) idx[i] = i;
            qsort_r(idx, (size_t)n, sizeof(int64_t), cmp_by_stamp, c.stamps);
            for (int64_t i = 0; i < n; i++) {
                order[2 * i] = c.kv[2 * idx[i]];
                order[2 * i + 1] = c.kv[2 * idx[i] + 1];
            }
        }
    }
    __atomic_store_n(&m->order, order, __ATOMIC_RELEASE);
    return order;
}

void fl_map_entries(fl_value map, fl_value *keys, fl_value *values) {
    const fl_value *order = fl_map_ordered(map);
    int64_t n = fl_map_count(map);
    for (int64_t i = 0; i < n; i++) {
        if (keys) keys[i] = order[2 * i];
        if (values) values[i] = order[2 * i + 1];
    }
}

/* ---- builtins ----------------------------------------------------------------------------------- */

#define CHECK_MAP(name, v)                                                                        \
    do {                                                                                          \
        if (!fl_is_map(v)) return fl_raise_type(name, "a Map", v);                               \
    } while (0)

fl_value fl_b_get(int64_t argc, const fl_value *argv) {
    CHECK_MAP("get", argv[0]);
    bool found;
    fl_value v = fl_map_get(argv[0], argv[1], &found);
    return found ? v : argc > 2 ? argv[2] : FL_NIL;
}

fl_value fl_b_fetch(int64_t argc, const fl_value *argv) {
    CHECK_MAP("fetch", argv[0]);
    bool found;
    fl_value v = fl_map_get(argv[0], argv[1], &found);
    if (found) return v;
    return fl_raise_msg("key-error", "`fetch`: key %w not found", argv[1]);
}

fl_value fl_b_assoc(int64_t argc, const fl_value *argv) {
    if (argc % 2 == 0) return fl_raise_arity_by_twos("assoc", 3, argc); /* before the kind check */
    CHECK_MAP("assoc", argv[0]);
    if (argc == 3) return fl_map_assoc(argv[0], argv[1], argv[2]);
    batch b;
    batch_begin(&b, argv[0]);
    for (int64_t i = 1; i + 1 < argc; i += 2) batch_assoc(&b, argv[i], argv[i + 1]);
    return batch_end(&b, argv[0]);
}

fl_value fl_b_dissoc(int64_t argc, const fl_value *argv) {
    CHECK_MAP("dissoc", argv[0]);
    fl_value m = argv[0];
    for (int64_t i = 1; i < argc; i++) m = fl_map_dissoc(m, argv[i]);
    return m;
}

fl_value fl_b_hasZ3f_(int64_t argc, const fl_value *argv) {
    CHECK_MAP("has?", argv[0]);
    bool found;
    fl_map_get(argv[0], argv[1], &found);
    return fl_bool(found);
}

static fl_value map_column(fl_value m, int which) {
    int64_t n = fl_map_count(m);
    const fl_value *order = fl_map_ordered(m);
    fl_value *items = fl_alloc(n * (int64_t)sizeof(fl_value));
    for (int64_t i = 0; i < n; i++) items[i] = order[2 * i + which];
    return fl_list_from(n, items);
}

fl_value fl_b_keys(int64_t argc, const fl_value *argv) {
    CHECK_MAP("keys", argv[0]);
    return map_column(argv[0], 0);
}

fl_value fl_b_values(int64_t argc, const fl_value *argv) {
    CHECK_MAP("values", argv[0]);
    return map_column(argv[0], 1);
}

fl_value fl_b_items(int64_t argc, const fl_value *argv) {
    CHECK_MAP("items", argv[0]);
    int64_t n = fl_map_count(argv[0]);
    const fl_value *order = fl_map_ordered(argv[0]);
    fl_value result = FL_EMPTY;
    for (int64_t i = n - 1; i >= 0; i--) {
        fl_value pair = fl_cons_new(order[2 * i], fl_cons_new(order[2 * i + 1], FL_EMPTY));
        result = fl_cons_new(pair, result);
    }
    return result;
}

fl_value fl_b_size(int64_t argc, const fl_value *argv) {
    CHECK_MAP("size", argv[0]);
    return fl_fixnum(fl_map_count(argv[0]));
}

fl_value fl_b_merge(int64_t argc, const fl_value *argv) {
    for (int64_t i = 0; i < argc; i++) CHECK_MAP("merge", argv[i]);
    if (argc == 0) return fl_map_empty();
    fl_value result = argv[0];
    for (int64_t i = 1; i < argc; i++) {
        fl_value other = argv[i];
        int64_t n = fl_map_count(other);
        if (n == 0) continue;
        if (fl_map_count(result) == 0) { /* the same entries in the same order */
            result = other;
            continue;
        }
        const fl_value *order = fl_map_ordered(other);
        batch b;
        batch_begin(&b, result);
        for (int64_t j = 0; j < n; j++)
            batch_assoc(&b, order[2 * j], order[2 * j + 1]);
        result = batch_end(&b, result);
    }
    return result;
}

fl_value fl_b_Z25_map_literal(int64_t argc, const fl_value *argv) {
    fl_value m = fl_map_empty();
    if (argc == 0) return m;
    batch b;
    batch_begin(&b, m);
    for (int64_t i = 0; i + 1 < argc; i += 2) batch_assoc(&b, argv[i], argv[i + 1]);
    return batch_end(&b, m);
}
