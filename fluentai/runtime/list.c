/* list.c: CONS cells, argument vectors and the list builtins (LANGUAGE.md §7, §17 "Lists").
 *
 * A CONS is {hdr (aux = length), head, tail}: `length` is O(1) and so is checking that a value is
 * a List (`[]` is the immediate FL_EMPTY). Every builtin walks lists with loops, never recursion.
 * Semantics and messages follow fluentai/vm/builtins_lists.py.
 */
#include <gc.h>
#include <gmp.h>
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

/* ---- construction ------------------------------------------------------------------------------- */

fl_value fl_cons_new(fl_value head, fl_value tail) {
    fl_cons *c = fl_alloc_small();
    c->hdr = fl_hdr_make(FL_T_CONS, 0, (uint64_t)(fl_list_length(tail) + 1));
    c->head = head;
    c->tail = tail;
    return fl_from_ptr(c);
}

/* Cells for a list being built back to front: many at once (GC_malloc_many, a batch linked
 * through word 0) when it is long, else one by one. */
typedef struct cells {
    void *spare;
    bool batch;
} cells;

static inline void cells_init(cells *cs, int64_t n) {
    cs->spare = NULL;
    cs->batch = n >= 32;
}

static inline fl_value cell(cells *cs, fl_value head, fl_value tail) {
    fl_cons *c;
    if (cs->batch) {
        if (cs->spare == NULL) {
            cs->spare = GC_malloc_many(sizeof(fl_cons));
            if (cs->spare == NULL) fl_out_of_memory();
        }
        c = cs->spare;
        cs->spare = GC_NEXT(c);
    } else {
        c = fl_alloc_small();
    }
    c->hdr = fl_hdr_make(FL_T_CONS, 0, (uint64_t)(fl_list_length(tail) + 1));
    c->head = head;
    c->tail = tail;
    return fl_from_ptr(c);
}

fl_value fl_list_onto(int64_t n, const fl_value *items, fl_value tail) {
    cells cs;
    cells_init(&cs, n);
    fl_value result = tail;
    for (int64_t i = n - 1; i >= 0; i--) result = cell(&cs, items[i], result);
    return result;
}

fl_value fl_list_from(int64_t n, const fl_value *items) { return fl_list_onto(n, items, FL_EMPTY); }

fl_vector *fl_vector_new(int64_t n) {
    fl_vector *v = fl_alloc((int64_t)sizeof(fl_vector) + n * (int64_t)sizeof(fl_value));
    v->hdr = fl_hdr_make(FL_T_VECTOR, 0, (uint64_t)n);
    return v;
}

fl_value fl_rest_list(int64_t argc, int64_t start, fl_value a0, fl_value a1, fl_value a2,
                      fl_value a3, const fl_vector *rest) {
    fl_value regs[4] = {a0, a1, a2, a3};
    cells cs;
    cells_init(&cs, argc - start);
    fl_value result = FL_EMPTY;
    for (int64_t i = argc - 1; i >= start; i--) result = cell(&cs, i < 4 ? regs[i] : rest->items[i - 4], result);
    return result;
}

void fl_valvec_grow(fl_valvec *v) {
    int64_t cap = v->cap < 16 ? 16 : v->cap * 2;
    fl_value *items = fl_alloc(cap * (int64_t)sizeof(fl_value));
    if (v->n > 0) memcpy(items, v->items, (size_t)v->n * sizeof(fl_value));
    v->items = items;
    v->cap = cap;
}

/* The elements of a List into a fresh array (GC memory). */
static fl_value *list_items(fl_value lst) {
    int64_t n = fl_list_length(lst);
    fl_value *items = fl_alloc(n * (int64_t)sizeof(fl_value));
    for (int64_t i = 0; i < n; i++, lst = fl_cdr(lst)) items[i] = fl_car(lst);
    return items;
}

/* ---- checks --------------------------------------------------------------------------------------- */

#define CHECK_LIST(name, v)                                                                       \
    do {                                                                                          \
        if (!fl_is_list(v)) return fl_raise_type(name, "a List", v);                             \
    } while (0)

static fl_value empty_list_error(const char *name) {
    return fl_raisef("empty-list", "`%s` expects a non-empty list, got []", name);
}

/* A count argument of take/drop: 1 when *count is set (INT64_MAX for a bignum), else the raise's
 * result (0 or a handler's value) in *err. */
static bool check_count(const char *name, fl_value n, int64_t *count, fl_value *err) {
    if (!fl_is_int(n)) {
        *err = fl_raise_type(name, "an Int", n);
        return false;
    }
    if (fl_is_fixnum(n) ? fl_fixnum_value(n) < 0 : fl_num_compare(n, fl_fixnum(0)) < 0) {
        char buf[32];
        *err = fl_raisef("value-error", "`%s` expects a non-negative count, got %s", name,
                         fl_int_text(n, buf));
        return false;
    }
    *count = fl_is_fixnum(n) ? fl_fixnum_value(n) : INT64_MAX;
    return true;
}

/* ---- builtins ------------------------------------------------------------------------------------- */

fl_value fl_b_list(int64_t argc, const fl_value *argv) { return fl_list_from(argc, argv); }

fl_value fl_b_cons(int64_t argc, const fl_value *argv) {
    fl_value tail = argv[1];
    uint64_t length;
    if (tail == FL_EMPTY) length = 1;
    else if (fl_has_type(tail, FL_T_CONS)) length = fl_hdr_aux(fl_ptr(tail)) + 1;
    else return fl_raise_type("cons", "a List", tail);
    fl_cons *c = fl_alloc_small();
    c->hdr = fl_hdr_make(FL_T_CONS, 0, length);
    c->head = argv[0];
    c->tail = tail;
    return fl_from_ptr(c);
}

fl_value fl_b_head(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0];
    if (fl_has_type(l, FL_T_CONS)) return fl_car(l);
    if (l == FL_EMPTY) return empty_list_error("head");
    return fl_raise_type("head", "a List", l);
}

fl_value fl_b_tail(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0];
    if (fl_has_type(l, FL_T_CONS)) return fl_cdr(l);
    if (l == FL_EMPTY) return empty_list_error("tail");
    return fl_raise_type("tail", "a List", l);
}

fl_value fl_b_last(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0];
    if (!fl_has_type(l, FL_T_CONS)) {
        if (l == FL_EMPTY) return empty_list_error("last");
        return fl_raise_type("last", "a List", l);
    }
    while (fl_cdr(l) != FL_EMPTY) l = fl_cdr(l);
    return fl_car(l);
}

fl_value fl_b_emptyZ3f_(int64_t argc, const fl_value *argv) {
    fl_value v = argv[0];
    if (v == FL_EMPTY) return FL_TRUE;
    if (fl_has_type(v, FL_T_CONS)) return FL_FALSE;
    if (fl_is_string(v)) return fl_bool(fl_string_nbytes(v) == 0);
    if (fl_is_map(v)) return fl_bool(fl_map_count(v) == 0);
    return fl_raise_type("empty?", "a List, String or Map", v);
}

fl_value fl_b_length(int64_t argc, const fl_value *argv) {
    fl_value v = argv[0];
    if (fl_is_list(v)) return fl_fixnum(fl_list_length(v));
    if (fl_is_string(v)) return fl_fixnum(fl_string_length(v));
    if (fl_is_map(v)) return fl_fixnum(fl_map_count(v));
    return fl_raise_type("length", "a List, String or Map", v);
}

/* Lists used as vectors: `nth` walks the list, so a loop indexing one long list is quadratic
 * (a dynamic-programming loop over two lists was cubic). The elements of the last NTH_INDEXES
 * lists indexed past NTH_WALK twice are kept in arrays (lists are immutable, so an array stays
 * right while its list is alive, and holding the list keeps the pointer from being reused); a
 * later `nth` of such a list is one load. These statics are collector roots (the runtime's own
 * data, misc.c restrict_static_roots): each holds its list and array until replaced. */
#define NTH_WALK 32
#define NTH_INDEXES 2
static struct {
    fl_value list;   /* the list indexed, or 0 */
    fl_value *items; /* its elements, or NULL while it has been walked only once */
} nth_index[NTH_INDEXES];
static int64_t nth_next; /* the entry to replace next */

static fl_value *nth_items(fl_value l, int64_t len) {
    for (int64_t k = 0; k < NTH_INDEXES; k++) {
        if (nth_index[k].list != l) continue;
        if (nth_index[k].items == NULL) { /* walked past NTH_WALK before: index it now */
            fl_value *items = GC_MALLOC((size_t)len * sizeof(fl_value));
            if (items == NULL) return NULL; /* no memory for the index: walk */
            fl_value cell = l;
            for (int64_t i = 0; i < len; i++, cell = fl_cdr(cell)) items[i] = fl_car(cell);
            nth_index[k].items = items;
        }
        return nth_index[k].items;
    }
    nth_index[nth_next].list = l; /* walked once: indexed if it is indexed that far again */
    nth_index[nth_next].items = NULL;
    nth_next = (nth_next + 1) % NTH_INDEXES;
    return NULL;
}

fl_value fl_b_nth(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0], index = argv[1];
    CHECK_LIST("nth", l);
    if (!fl_is_int(index)) return fl_raise_type("nth", "an Int", index);
    int64_t len = fl_list_length(l);
    if (!fl_is_fixnum(index) || fl_fixnum_value(index) < 0 || fl_fixnum_value(index) >= len) {
        char buf[32];
        return fl_raisef("index-out-of-range", "`nth`: index %s out of range for length %lld",
                         fl_int_text(index, buf), (long long)len);
    }
    int64_t at = fl_fixnum_value(index);
    if (at >= NTH_WALK) {
        fl_value *items = nth_items(l, len);
        if (items != NULL) return items[at];
    }
    for (int64_t i = at; i > 0; i--) l = fl_cdr(l);
    return fl_car(l);
}

fl_value fl_b_append(int64_t argc, const fl_value *argv) {
    for (int64_t i = 0; i < argc; i++) CHECK_LIST("append", argv[i]);
    if (argc == 0) return FL_EMPTY;
    fl_value result = argv[argc - 1];
    for (int64_t i = argc - 2; i >= 0; i--) {
        if (argv[i] == FL_EMPTY) continue;
        result = fl_list_onto(fl_list_length(argv[i]), list_items(argv[i]), result);
    }
    return result;
}

fl_value fl_b_reverse(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0];
    CHECK_LIST("reverse", l);
    cells cs;
    cells_init(&cs, fl_list_length(l));
    fl_value result = FL_EMPTY;
    for (; l != FL_EMPTY; l = fl_cdr(l)) result = cell(&cs, fl_car(l), result);
    return result;
}

/* `(%nreverse acc)`, `(%nreverse acc tail)`: acc's elements in reverse order in front of tail,
 * made by re-linking acc's own cells (each one's length is rewritten). The prelude calls it only
 * on an accumulator it has just built and never shared (map, filter, ...), so no program can see
 * the cells change; it halves the cells those builtins allocate (builtins_lists._nreverse). */
fl_value fl_b_Z25_nreverse(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0];
    fl_value result = argc > 1 ? argv[1] : FL_EMPTY;
    uint64_t n = (uint64_t)fl_list_length(result);
    while (l != FL_EMPTY) {
        fl_cons *c = fl_cell(l);
        fl_value following = c->tail;
        c->hdr = fl_hdr_make(FL_T_CONS, 0, ++n);
        c->tail = result;
        result = l;
        l = following;
    }
    return result;
}

/* `(%link! prev x like)`: a new last cell holding x and counting as many cells as the non-empty
 * list like (or like cells, a fixnum), linked after prev unless prev is []; returns the cell. The
 * prelude's map builds its result front to back with it, each cell getting the length of the
 * argument's cell at its position (`%map-range`: the count of elements left), so no reversal
 * walks the list again; nothing sees the cells before the list is finished
 * (builtins_lists._link). */
fl_value fl_link_new(fl_value prev, fl_value x, fl_value like) {
    fl_cons *c = fl_alloc_small();
    int64_t length = fl_is_fixnum(like) ? fl_fixnum_value(like) : fl_list_length(like);
    c->hdr = fl_hdr_make(FL_T_CONS, 0, (uint64_t)length);
    c->head = x;
    c->tail = FL_EMPTY;
    fl_value cell = fl_from_ptr(c);
    if (prev != FL_EMPTY) fl_cell(prev)->tail = cell;
    return cell;
}

fl_value fl_b_Z25_linkZ21_(int64_t argc, const fl_value *argv) { return fl_link_new(argv[0], argv[1], argv[2]); }

/* `(%native?)`: native code is native (lower.py makes the call a constant; this serves calls
 * through a function value, which the prelude never makes). */
fl_value fl_b_Z25_nativeZ3f_(int64_t argc, const fl_value *argv) { return FL_TRUE; }

fl_value fl_b_take(int64_t argc, const fl_value *argv) {
    int64_t count;
    fl_value err;
    if (!check_count("take", argv[0], &count, &err)) return err;
    fl_value l = argv[1];
    CHECK_LIST("take", l);
    if (count >= fl_list_length(l)) return l;
    fl_value *items = fl_alloc(count * (int64_t)sizeof(fl_value));
    for (int64_t i = 0; i < count; i++, l = fl_cdr(l)) items[i] = fl_car(l);
    return fl_list_from(count, items);
}

fl_value fl_b_drop(int64_t argc, const fl_value *argv) {
    int64_t count;
    fl_value err;
    if (!check_count("drop", argv[0], &count, &err)) return err;
    fl_value l = argv[1];
    CHECK_LIST("drop", l);
    if (count >= fl_list_length(l)) return FL_EMPTY;
    for (; count > 0; count--) l = fl_cdr(l);
    return l;
}

/* More elements than any memory holds (2^48 cells are 8 PiB): `range` reports out-of-memory at
 * once instead of allocating until the system stops it (builtins_lists._range). */
#define RANGE_MAX ((int64_t)1 << 48)

fl_value fl_b_range(int64_t argc, const fl_value *argv) {
    for (int64_t i = 0; i < argc; i++)
        if (!fl_is_int(argv[i])) return fl_raise_type("range", "an Int", argv[i]);
    fl_value start = fl_fixnum(0), end, step = fl_fixnum(1);
    if (argc == 1) {
        end = argv[0];
    } else {
        start = argv[0];
        end = argv[1];
        if (argc == 3) {
            step = argv[2];
            if (step == fl_fixnum(0)) return fl_raise("value-error", "`range` expects a non-zero step, got 0");
        }
    }
    if (fl_is_fixnum(start) && fl_is_fixnum(end) && fl_is_fixnum(step)) {
        int64_t a = fl_fixnum_value(start), b = fl_fixnum_value(end), s = fl_fixnum_value(step);
        int64_t n = 0;
        if (s > 0 && a < b) n = (b - a - 1) / s + 1;
        else if (s < 0 && a > b) n = (a - b - 1) / (-s) + 1;
        if (n > RANGE_MAX) fl_out_of_memory();
        cells cs;
        cells_init(&cs, n);
        fl_value result = FL_EMPTY;
        /* from the last element down: a + (n-1)*s stays between a and b */
        for (int64_t i = n - 1; i >= 0; i--) result = cell(&cs, fl_fixnum(a + i * s), result);
        return result;
    }
    /* Bignum bounds or step: generic arithmetic. */
    bool up = fl_num_compare(step, fl_fixnum(0)) > 0;
    fl_value span = fl_sub2(end, start), most = fl_mul2(step, fl_fixnum(RANGE_MAX));
    if (span == 0 || most == 0) return 0;
    if (up ? fl_num_compare(span, most) > 0 : fl_num_compare(span, most) < 0) fl_out_of_memory();
    fl_valvec items;
    fl_valvec_init(&items);
    fl_value x = start;
    while (up ? fl_num_compare(x, end) < 0 : fl_num_compare(x, end) > 0) {
        fl_valvec_push(&items, x);
        x = fl_add2(x, step);
        if (x == 0) return 0;
    }
    return fl_valvec_list(&items);
}

fl_value fl_b_zip(int64_t argc, const fl_value *argv) {
    for (int64_t i = 0; i < argc; i++) CHECK_LIST("zip", argv[i]);
    int64_t n = INT64_MAX;
    for (int64_t i = 0; i < argc; i++)
        if (fl_list_length(argv[i]) < n) n = fl_list_length(argv[i]);
    fl_value *cursors = fl_alloc(argc * (int64_t)sizeof(fl_value));
    fl_value *row = fl_alloc(argc * (int64_t)sizeof(fl_value));
    fl_value *rows = fl_alloc(n * (int64_t)sizeof(fl_value));
    memcpy(cursors, argv, (size_t)argc * sizeof(fl_value));
    for (int64_t r = 0; r < n; r++) {
        for (int64_t j = 0; j < argc; j++) {
            row[j] = fl_car(cursors[j]);
            cursors[j] = fl_cdr(cursors[j]);
        }
        rows[r] = fl_list_from(argc, row);
    }
    return fl_list_from(n, rows);
}

/* Would converting this Int to a Float overflow (|n| rounds to 2^1024 or more)? */
static bool int_too_large_for_float(fl_value n) {
    if (fl_is_fixnum(n)) return false;
    const fl_bignum *b = fl_ptr(n);
    mpz_t z;
    mpz_roinit_n(z, (const mp_limb_t *)b->limbs, b->size);
    size_t bits = mpz_sizeinbase(z, 2);
    if (bits < 1024) return false;
    if (bits > 1024) return true;
    /* 2^1023 <= |n| < 2^1024: overflows iff |n| >= 2^1024 - 2^970 (ties go to even, 2^1024) */
    mpz_t top;
    mpz_init(top);
    mpz_abs(top, z);
    mpz_tdiv_q_2exp(top, top, 970);
    bool over = mpz_cmp_ui(top, (unsigned long)((UINT64_C(1) << 54) - 1)) >= 0;
    mpz_clear(top);
    return over;
}

/* `sum` and `product`: `+` / `*` over the elements, left to right (builtins_lists._sum). */
static fl_value fold_numbers(const char *name, fl_value l, bool add) {
    CHECK_LIST(name, l);
    for (fl_value p = l; p != FL_EMPTY; p = fl_cdr(p))
        if (!fl_is_number(fl_car(p))) return fl_raise_type(name, "a Number", fl_car(p));
    if (l == FL_EMPTY) return fl_fixnum(add ? 0 : 1);
    fl_value acc = fl_car(l);
    for (l = fl_cdr(l); l != FL_EMPTY; l = fl_cdr(l)) {
        fl_value x = fl_car(l);
        if (fl_is_fixnum(acc) && fl_is_fixnum(x)) {
            int64_t r;
            if (add ? !__builtin_add_overflow(fl_fixnum_value(acc), fl_fixnum_value(x), &r)
                    : !__builtin_mul_overflow(fl_fixnum_value(acc), fl_fixnum_value(x), &r)) {
                if (r >= FL_FIXNUM_MIN && r <= FL_FIXNUM_MAX) {
                    acc = fl_fixnum(r);
                    continue;
                }
            }
        } else if (fl_is_float(acc) && fl_is_float(x)) {
            double a = fl_float_value(acc), b = fl_float_value(x);
            acc = fl_box_float(add ? a + b : a * b);
            continue;
        } else if (fl_is_float(acc) != fl_is_float(x)) {
            fl_value i = fl_is_float(acc) ? x : acc;
            if (int_too_large_for_float(i))
                return fl_raisef("value-error", "`%s`: Int too large to convert to Float", name);
        }
        acc = add ? fl_add2(acc, x) : fl_mul2(acc, x);
        if (acc == 0) return 0;
    }
    return acc;
}

fl_value fl_b_sum(int64_t argc, const fl_value *argv) { return fold_numbers("sum", argv[0], true); }

fl_value fl_b_product(int64_t argc, const fl_value *argv) {
    return fold_numbers("product", argv[0], false);
}

/* `(sort l)` of numbers or of strings (the prelude checked which): exactly the merge sort of
 * LANGUAGE.md §7 with `<` as less?. */
static bool sort_less(fl_value a, fl_value b) {
    if (fl_is_string(a)) {
        int64_t n = fl_string_nbytes(a), m = fl_string_nbytes(b);
        int c = memcmp(fl_string_bytes(a), fl_string_bytes(b), (size_t)(n < m ? n : m));
        return c < 0 || (c == 0 && n < m);
    }
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) return (int64_t)a < (int64_t)b;
    return fl_num_compare(a, b) == -1;
}

static void merge_sort(fl_value *xs, fl_value *tmp, int64_t n) {
    if (n <= 1) return;
    int64_t k = n / 2;
    merge_sort(xs, tmp, k);
    merge_sort(xs + k, tmp, n - k);
    memcpy(tmp, xs, (size_t)k * sizeof(fl_value));
    fl_value *a = tmp, *b = xs + k;
    int64_t i = 0, j = 0, o = 0, nb = n - k;
    while (i < k && j < nb) {
        if (sort_less(b[j], a[i])) xs[o++] = b[j++];
        else xs[o++] = a[i++];
    }
    while (i < k) xs[o++] = a[i++];
    /* the rest of b is already in place */
}

fl_value fl_b_Z25_sort_default(int64_t argc, const fl_value *argv) {
    fl_value l = argv[0];
    CHECK_LIST("sort", l);
    int64_t n = fl_list_length(l);
    if (n <= 1) return l;
    fl_value *xs = list_items(l);
    fl_value *tmp = fl_alloc((n / 2 + 1) * (int64_t)sizeof(fl_value));
    merge_sort(xs, tmp, n);
    return fl_list_from(n, xs);
}
