/* random.c: the random operations' default behaviours: xoshiro256** seeded through splitmix64,
 * exactly as LANGUAGE.md §14.5 (vm/prng.py is the Python twin; both share test vectors).
 *
 *     seed(2024); int(1, 6), int(1, 6), int(1, 6) -> 5 4 6
 *
 * The four state words are the exported array fl_prng_state, so the JIT host's VM can draw from
 * the same generator through a memoryview (DESIGN.md §3.4).
 */
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fl_ctl.h"

uint64_t fl_prng_state[4];

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void fl_prng_seed(uint64_t x) {
    for (int i = 0; i < 4; i++) {
        x += UINT64_C(0x9E3779B97F4A7C15);
        uint64_t z = x;
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        fl_prng_state[i] = z ^ (z >> 31);
    }
}

uint64_t fl_prng_next(void) {
    uint64_t *s = fl_prng_state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* FLUENTAI_SEED: a decimal Int with optional sign and surrounding whitespace (world.py); its value
 * mod 2^64 is computed digit by digit, so any length works. 1 when it is one. */
static int seed_from_text(const char *text, uint64_t *out) {
    while (*text == ' ' || (*text >= '\t' && *text <= '\r')) text++;
    bool negative = *text == '-';
    if (*text == '-' || *text == '+') text++;
    if (*text < '0' || *text > '9') return 0;
    uint64_t x = 0;
    while (*text >= '0' && *text <= '9') x = x * 10 + (uint64_t)(*text++ - '0');
    while (*text == ' ' || (*text >= '\t' && *text <= '\r')) text++;
    if (*text != '\0') return 0;
    *out = negative ? (uint64_t)0 - x : x;
    return 1;
}

void fl_prng_seed_from_environment(void) {
    const char *text = getenv("FLUENTAI_SEED");
    uint64_t seed = 0;
    if (text != NULL && seed_from_text(text, &seed)) {
        fl_prng_seed(seed);
        return;
    }
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        struct timespec ts; /* no entropy source: the clock and the pid will do */
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
    }
    fl_prng_seed(seed);
}

/* ---- operations ------------------------------------------------------------------------------ */

/* A draw in [0, n) without modulo bias; n == 0 stands for 2^64. */
static uint64_t draw_below(uint64_t n) {
    if (n == 0) return fl_prng_next();
    uint64_t rem = ((uint64_t)0 - n) % n; /* 2^64 mod n */
    uint64_t x = fl_prng_next();
    if (rem != 0)
        while (x >= (uint64_t)0 - rem) x = fl_prng_next(); /* x < 2^64 - (2^64 mod n) */
    return x % n;
}

/* The size of [lo, hi] as in draw_below (0 = 2^64); false when it is not 1 to 2^64. */
static bool range_size(fl_value lo, fl_value hi, uint64_t *n) {
    if (fl_is_fixnum(lo) && fl_is_fixnum(hi)) {
        int64_t a = fl_fixnum_value(lo), b = fl_fixnum_value(hi);
        if (b < a) return false;
        *n = (uint64_t)(b - a) + 1; /* at most 2^63 */
        return true;
    }
    fl_value diff = fl_sub2(hi, lo);
    fl_value size = diff == 0 ? 0 : fl_add2(diff, fl_fixnum(1));
    if (size == 0) return false;
    if (fl_is_fixnum(size)) {
        if (fl_fixnum_value(size) < 1) return false;
        *n = (uint64_t)fl_fixnum_value(size);
        return true;
    }
    const fl_bignum *b = fl_ptr(size);
    if (b->size == 1) { /* 2^62 <= size < 2^64 */
        *n = b->limbs[0];
        return true;
    }
    if (b->size == 2 && b->limbs[1] == 1 && b->limbs[0] == 0) { /* exactly 2^64 */
        *n = 0;
        return true;
    }
    return false;
}

/* random:int's draw: an Int in [lo, hi]; 0 with value-error if the range is bad. */
static fl_value random_int(fl_value lo, fl_value hi) {
    uint64_t n;
    if (!range_size(lo, hi, &n)) {
        const char *lo_text = fl_ctl_written(lo);
        return fl_raisef("value-error",
                         "`random:int` expects lo <= hi spanning at most 2^64 values, "
                         "got %s and %s",
                         lo_text, fl_ctl_written(hi));
    }
    uint64_t r = draw_below(n);
    if (fl_is_fixnum(lo) && fl_is_fixnum(hi)) return fl_fixnum(fl_fixnum_value(lo) + (int64_t)r);
    return fl_add2(lo, fl_int_from_u64(r));
}

fl_value fl_e_randomZ3a_float(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    return fl_box_float((double)(fl_prng_next() >> 11) * 0x1.0p-53);
}

fl_value fl_e_randomZ3a_int(int64_t argc, const fl_value *argv) {
    (void)argc;
    if (!fl_is_int(argv[0])) return fl_raise_type("random:int", "an Int", argv[0]);
    if (!fl_is_int(argv[1])) return fl_raise_type("random:int", "an Int", argv[1]);
    return random_int(argv[0], argv[1]);
}

fl_value fl_e_randomZ3a_seed(int64_t argc, const fl_value *argv) {
    (void)argc;
    if (!fl_is_int(argv[0])) return fl_raise_type("random:seed", "an Int", argv[0]);
    fl_prng_seed(fl_int_low_u64(argv[0])); /* n mod 2^64 */
    return FL_NIL;
}

fl_value fl_e_randomZ3a_choice(int64_t argc, const fl_value *argv) {
    (void)argc;
    fl_value list = argv[0];
    if (!fl_is_list(list)) return fl_raise_type("random:choice", "a List", list);
    if (list == FL_EMPTY)
        return fl_raise("empty-list", "`random:choice` expects a non-empty list, got []");
    int64_t index = fl_fixnum_value(random_int(fl_fixnum(0), fl_fixnum(fl_list_length(list) - 1)));
    const fl_cons *cell = fl_ptr(list);
    for (int64_t i = 0; i < index; i++) cell = fl_ptr(cell->tail);
    return cell->head;
}

fl_value fl_e_randomZ3a_shuffle(int64_t argc, const fl_value *argv) {
    (void)argc;
    fl_value list = argv[0];
    if (!fl_is_list(list)) return fl_raise_type("random:shuffle", "a List", list);
    int64_t n = fl_list_length(list);
    if (n == 0) return FL_EMPTY;
    fl_value *items = GC_MALLOC((size_t)n * sizeof(fl_value));
    if (items == NULL) return fl_raise("out-of-memory", "out of memory");
    fl_value cell = list;
    for (int64_t i = 0; i < n; i++) {
        const fl_cons *c = fl_ptr(cell);
        items[i] = c->head;
        cell = c->tail;
    }
    for (int64_t i = n - 1; i >= 1; i--) { /* Fisher-Yates from the last index down */
        int64_t j = (int64_t)draw_below((uint64_t)i + 1);
        fl_value t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
    return fl_list_from(n, items);
}
