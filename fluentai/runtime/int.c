/* int.c: Ints (63-bit fixnums and GMP bignums), exact Int/Float comparison, number hashing, and
 * the arithmetic slow paths generated code calls (DESIGN.md §3.2, LANGUAGE.md §6).
 *
 * Every Int is canonical: one that fits a fixnum is never a bignum. Bignums are read through
 * mpz_roinit_n views (no copy); results are computed into a temporary mpz_t (GMP's own malloc,
 * cleared at once) and copied into a GC-allocated atomic object, except `+ - *`, whose mpn
 * functions write into the result's own memory. mp_set_memory_functions is never called: it is
 * process-wide.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fl_num.h"

#define FIXNUM_MAG_MIN ((uint64_t)1 << 62) /* |FL_FIXNUM_MIN| */

static inline bool fits_fixnum(int64_t i) { return i >= FL_FIXNUM_MIN && i <= FL_FIXNUM_MAX; }

bool fl_is_int(fl_value v) { return fl_is_fixnum(v) || fl_is_bignum(v); }

bool fl_is_number(fl_value v) { return fl_is_fixnum(v) || fl_is_float(v) || fl_is_bignum(v); }

/* ---- construction ------------------------------------------------------------------------- */

static fl_bignum *bignum_alloc(size_t nlimbs, bool negative) {
    fl_bignum *b = fl_alloc_atomic((int64_t)(sizeof(fl_bignum) + nlimbs * sizeof(uint64_t)));
    b->hdr = fl_hdr_make(FL_T_BIGNUM, 0, nlimbs);
    b->size = negative ? -(int64_t)nlimbs : (int64_t)nlimbs;
    return b;
}

/* The Int of a sign and a one-limb magnitude. */
static fl_value int_from_mag(bool negative, uint64_t mag) {
    if (!negative) {
        if (mag <= (uint64_t)FL_FIXNUM_MAX) return fl_fixnum((int64_t)mag);
    } else if (mag <= FIXNUM_MAG_MIN) {
        return fl_fixnum(-(int64_t)(mag - 1) - 1);
    }
    fl_bignum *b = bignum_alloc(1, negative);
    b->limbs[0] = mag;
    return fl_from_ptr(b);
}

fl_value fl_int_from_i64(int64_t i) {
    if (fits_fixnum(i)) return fl_fixnum(i);
    return int_from_mag(i < 0, i < 0 ? -(uint64_t)i : (uint64_t)i);
}

fl_value fl_int_from_u64(uint64_t u) { return int_from_mag(false, u); }

fl_value fl_int_from_i128(__int128 i) {
    if (i >= INT64_MIN && i <= INT64_MAX) return fl_int_from_i64((int64_t)i);
    bool negative = i < 0;
    unsigned __int128 mag = negative ? -(unsigned __int128)i : (unsigned __int128)i;
    if ((uint64_t)(mag >> 64) == 0) return int_from_mag(negative, (uint64_t)mag);
    fl_bignum *b = bignum_alloc(2, negative);
    b->limbs[0] = (uint64_t)mag;
    b->limbs[1] = (uint64_t)(mag >> 64);
    return fl_from_ptr(b);
}

fl_value fl_int_from_mpz(mpz_srcptr z) {
    size_t n = mpz_size(z);
    int sign = mpz_sgn(z);
    if (n <= 1) return int_from_mag(sign < 0, n ? mpz_getlimbn(z, 0) : 0);
    fl_bignum *b = bignum_alloc(n, sign < 0);
    memcpy(b->limbs, mpz_limbs_read(z), n * sizeof(uint64_t));
    return fl_from_ptr(b);
}

/* An Int's magnitude as limbs (a fixnum's in *limb) and its sign. */
typedef struct mag {
    const mp_limb_t *limbs;
    mp_size_t n;
    bool negative;
} mag;

static mag int_mag(fl_value v, mp_limb_t *limb) {
    if (fl_is_fixnum(v)) {
        int64_t i = fl_fixnum_value(v);
        *limb = i < 0 ? -(uint64_t)i : (uint64_t)i;
        return (mag){limb, i != 0, i < 0};
    }
    const fl_bignum *b = fl_bignum_ptr(v);
    return (mag){(const mp_limb_t *)b->limbs, b->size < 0 ? -b->size : b->size, b->size < 0};
}

void fl_int_view(fl_value v, mpz_ptr z, mp_limb_t *limb) {
    mag m = int_mag(v, limb);
    mpz_roinit_n(z, m.limbs, m.negative ? -m.n : m.n);
}

fl_value fl_int_from_decimal(const char *text) {
    const char *p = text;
    bool negative = false;
    if (*p == '-' || *p == '+') negative = *p++ == '-';
    size_t n = strlen(p);
    if (n <= 18) {
        int64_t i = 0;
        for (size_t k = 0; k < n; k++) i = i * 10 + (p[k] - '0');
        return fl_fixnum(negative ? -i : i);
    }
    mpz_t z;
    mpz_init(z);
    mpz_set_str(z, p, 10);
    if (negative) mpz_neg(z, z);
    fl_value r = fl_int_from_mpz(z);
    mpz_clear(z);
    return r;
}

/* The Int of a finite double, truncated toward zero. */
fl_value fl_int_from_double(double d) {
    double t = trunc(d);
    if (fabs(t) < 4611686018427387904.0) return fl_fixnum((int64_t)t); /* 2^62 */
    mpz_t z;
    mpz_init_set_d(z, t);
    fl_value r = fl_int_from_mpz(z);
    mpz_clear(z);
    return r;
}

/* ---- reading ------------------------------------------------------------------------------ */

int fl_int_sign(fl_value v) {
    if (fl_is_fixnum(v)) {
        int64_t i = fl_fixnum_value(v);
        return (i > 0) - (i < 0);
    }
    return fl_bignum_ptr(v)->size < 0 ? -1 : 1;
}

bool fl_int_to_i64(fl_value v, int64_t *out) {
    if (fl_is_fixnum(v)) {
        *out = fl_fixnum_value(v);
        return true;
    }
    const fl_bignum *b = fl_bignum_ptr(v);
    if (b->size == 1 && b->limbs[0] <= (uint64_t)INT64_MAX) {
        *out = (int64_t)b->limbs[0];
        return true;
    }
    if (b->size == -1 && b->limbs[0] <= (uint64_t)1 << 63) {
        *out = (int64_t)(0 - b->limbs[0]);
        return true;
    }
    return false;
}

uint64_t fl_int_low_u64(fl_value v) {
    if (fl_is_fixnum(v)) return (uint64_t)fl_fixnum_value(v);
    const fl_bignum *b = fl_bignum_ptr(v);
    return b->size < 0 ? 0 - b->limbs[0] : b->limbs[0];
}

char *fl_int_to_cstring(fl_value v) {
    if (fl_is_fixnum(v)) {
        char *buf = fl_alloc_atomic(24);
        snprintf(buf, 24, "%lld", (long long)fl_fixnum_value(v));
        return buf;
    }
    mpz_t z;
    mp_limb_t limb;
    fl_int_view(v, z, &limb);
    size_t n = mpz_sizeinbase(z, 10) + 2;
    char *buf = fl_alloc_atomic((int64_t)n);
    mpz_get_str(buf, 10, z);
    return buf;
}

int fl_int_compare(fl_value a, fl_value b) {
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
        int64_t x = fl_fixnum_value(a), y = fl_fixnum_value(b);
        return (x > y) - (x < y);
    }
    /* A bignum's magnitude exceeds every fixnum's. */
    if (fl_is_fixnum(a)) return -fl_int_sign(b);
    if (fl_is_fixnum(b)) return fl_int_sign(a);
    mpz_t za, zb;
    mp_limb_t la, lb;
    fl_int_view(a, za, &la);
    fl_int_view(b, zb, &lb);
    int c = mpz_cmp(za, zb);
    return (c > 0) - (c < 0);
}

/* ---- Int -> Float ------------------------------------------------------------------------- */

bool fl_int_to_double(fl_value v, double *out) {
    if (fl_is_fixnum(v)) {
        *out = (double)fl_fixnum_value(v); /* correctly rounded by the conversion */
        return true;
    }
    const fl_bignum *b = fl_bignum_ptr(v);
    size_t n = (size_t)(b->size < 0 ? -b->size : b->size);
    const uint64_t *l = b->limbs;
    double d;
    if (n == 1) {
        d = (double)l[0];
    } else {
        /* The top 64 bits, with a sticky bit for everything below: one correctly rounded
         * conversion, then an exact scaling. */
        uint64_t bits = 64 * (uint64_t)n - (uint64_t)__builtin_clzll(l[n - 1]);
        uint64_t shift = bits - 64;
        size_t k = (size_t)(shift / 64);
        unsigned off = (unsigned)(shift % 64);
        uint64_t hi = off ? (l[k] >> off) | (l[k + 1] << (64 - off)) : l[k];
        bool sticky = off ? (l[k] & (((uint64_t)1 << off) - 1)) != 0 : false;
        for (size_t j = 0; j < k && !sticky; j++) sticky = l[j] != 0;
        hi |= sticky;
        if (shift > 2000) return false;
        d = ldexp((double)hi, (int)shift);
        if (isinf(d)) return false;
    }
    *out = b->size < 0 ? -d : d;
    return true;
}

bool fl_num_to_double(const char *name, fl_value v, double *d, fl_value *out) {
    if (fl_is_float(v)) {
        *d = fl_float_value(v);
        return true;
    }
    if (fl_int_to_double(v, d)) return true;
    *out = fl_raisef("value-error", "`%s`: Int too large to convert to Float", name);
    return false;
}

/* ---- comparison and hashing --------------------------------------------------------------- */

/* An Int against a double, exactly: -1, 0, 1, or 2 for NaN. */
static int int_double_compare(fl_value i, double d) {
    if (isnan(d)) return 2;
    if (fl_is_fixnum(i)) {
        int64_t x = fl_fixnum_value(i);
        if (x >= -(INT64_C(1) << 53) && x <= (INT64_C(1) << 53)) {
            double xd = (double)x; /* exact */
            return (xd > d) - (xd < d);
        }
    }
    mpz_t z;
    mp_limb_t limb;
    fl_int_view(i, z, &limb);
    int c = mpz_cmp_d(z, d); /* exact, and defined for infinities */
    return (c > 0) - (c < 0);
}

int fl_num_compare(fl_value a, fl_value b) {
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
        int64_t x = (int64_t)a, y = (int64_t)b; /* tagged words order like their values */
        return (x > y) - (x < y);
    }
    if (fl_is_float(a)) {
        double x = fl_float_value(a);
        if (fl_is_float(b)) {
            double y = fl_float_value(b);
            if (x < y) return -1;
            if (x > y) return 1;
            return x == y ? 0 : 2;
        }
        int c = int_double_compare(b, x);
        return c == 2 ? 2 : -c;
    }
    if (fl_is_float(b)) return int_double_compare(a, fl_float_value(b));
    return fl_int_compare(a, b);
}

/* Python's numeric hash (modulus 2^61 - 1), so equal Ints and Floats hash alike. */
#define HASH_BITS 61
#define HASH_MODULUS (((uint64_t)1 << HASH_BITS) - 1)

static uint64_t hash_finish(int64_t h) { return (uint64_t)(h == -1 ? -2 : h); }

uint64_t fl_num_hash(fl_value v) {
    if (fl_is_fixnum(v)) {
        int64_t i = fl_fixnum_value(v);
        uint64_t mag = i < 0 ? -(uint64_t)i : (uint64_t)i;
        int64_t h = (int64_t)(mag % HASH_MODULUS);
        return hash_finish(i < 0 ? -h : h);
    }
    if (fl_is_bignum(v)) {
        mpz_t z;
        mp_limb_t limb;
        fl_int_view(v, z, &limb);
        int64_t h = (int64_t)mpz_tdiv_ui(z, HASH_MODULUS);
        return hash_finish(mpz_sgn(z) < 0 ? -h : h);
    }
    double d = fl_float_value(v);
    if (isnan(d)) return 0;
    if (isinf(d)) return hash_finish(d > 0 ? 314159 : -314159);
    int e;
    double m = frexp(d, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m != 0.0) {
        x = ((x << 28) & HASH_MODULUS) | x >> (HASH_BITS - 28);
        m *= 268435456.0; /* 2**28 */
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MODULUS) x -= HASH_MODULUS;
    }
    e = e >= 0 ? e % HASH_BITS : HASH_BITS - 1 - ((-1 - e) % HASH_BITS);
    x = ((x << e) & HASH_MODULUS) | x >> (HASH_BITS - e);
    return hash_finish((int64_t)x * sign);
}

/* ---- arithmetic --------------------------------------------------------------------------- */

/* The type-error for the first of a, b that is not a Number. */
static fl_value not_a_number(const char *name, fl_value a, fl_value b) {
    return fl_raise_type(name, "a Number", fl_is_number(a) ? b : a);
}

static double double_op(char op, double x, double y) {
    switch (op) {
    case '+':
        return x + y;
    case '-':
        return x - y;
    default:
        return x * y;
    }
}

/* The Int of the n limbs of `b` (allocated for at least n, high zero limbs allowed) with a sign:
 * the bignum itself, its size fixed, or a fixnum. */
static fl_value int_result(fl_bignum *b, mp_size_t n, bool negative) {
    const mp_limb_t *limbs = (const mp_limb_t *)b->limbs;
    while (n > 0 && limbs[n - 1] == 0) n--;
    if (n <= 1) return int_from_mag(negative, n ? limbs[0] : 0);
    b->hdr = fl_hdr_make(FL_T_BIGNUM, 0, (uint64_t)n);
    b->size = negative ? -(int64_t)n : (int64_t)n;
    return fl_from_ptr(b);
}

/* a + b, a - b or a * b of two Ints, at least one a bignum: GMP's mpn functions write straight
 * into the result's GC memory (no temporary mpz_t, no copy). */
static fl_value int_arith(char op, fl_value a, fl_value b) {
    mp_limb_t la, lb;
    mag x = int_mag(a, &la), y = int_mag(b, &lb);
    if (op == '*') {
        if (x.n == 0 || y.n == 0) return fl_fixnum(0);
        if (x.n < y.n) {
            mag t = x;
            x = y;
            y = t;
        }
        fl_bignum *r = bignum_alloc((size_t)(x.n + y.n), false);
        mpn_mul((mp_limb_t *)r->limbs, x.limbs, x.n, y.limbs, y.n);
        return int_result(r, x.n + y.n, x.negative != y.negative);
    }
    if (op == '-') y.negative = !y.negative;
    if (y.n == 0) return a;
    if (x.n == 0) { /* 0 + b, 0 - b: b's magnitude, y's sign */
        fl_bignum *r = bignum_alloc((size_t)y.n, false);
        memcpy(r->limbs, y.limbs, (size_t)y.n * sizeof(mp_limb_t));
        return int_result(r, y.n, y.negative);
    }
    bool x_larger = x.n != y.n ? x.n > y.n : mpn_cmp(x.limbs, y.limbs, x.n) >= 0;
    if (!x_larger) {
        mag t = x;
        x = y;
        y = t;
    }
    if (x.negative == y.negative) {
        fl_bignum *r = bignum_alloc((size_t)x.n + 1, false);
        mp_limb_t carry = mpn_add((mp_limb_t *)r->limbs, x.limbs, x.n, y.limbs, y.n);
        r->limbs[x.n] = carry;
        return int_result(r, x.n + 1, x.negative);
    }
    fl_bignum *r = bignum_alloc((size_t)x.n, false);
    mpn_sub((mp_limb_t *)r->limbs, x.limbs, x.n, y.limbs, y.n);
    return int_result(r, x.n, x.negative);
}

bool fl_num_arith(char op, const char *name, fl_value a, fl_value b, fl_value *out) {
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
        int64_t x = fl_fixnum_value(a), y = fl_fixnum_value(b);
        switch (op) {
        case '+':
            *out = fl_int_from_i64(x + y);
            break;
        case '-':
            *out = fl_int_from_i64(x - y);
            break;
        default: {
            int64_t r;
            *out = __builtin_mul_overflow(x, y, &r) ? fl_int_from_i128((__int128)x * y)
                                                     : fl_int_from_i64(r);
        }
        }
        return true;
    }
    if (fl_is_float(a) && fl_is_float(b)) {
        *out = fl_box_float(double_op(op, fl_float_value(a), fl_float_value(b)));
        return true;
    }
    bool ai = fl_is_int(a), bi = fl_is_int(b);
    if (ai && bi) {
        *out = int_arith(op, a, b);
        return true;
    }
    if ((ai && fl_is_float(b)) || (fl_is_float(a) && bi)) {
        double x, y;
        if (!fl_num_to_double(name, a, &x, out) || !fl_num_to_double(name, b, &y, out)) return false;
        *out = fl_box_float(double_op(op, x, y));
        return true;
    }
    *out = not_a_number(name, a, b);
    return false;
}

fl_value fl_add2(fl_value a, fl_value b) {
    fl_value r;
    fl_num_arith('+', "+", a, b, &r);
    return r;
}

fl_value fl_sub2(fl_value a, fl_value b) {
    fl_value r;
    fl_num_arith('-', "-", a, b, &r);
    return r;
}

fl_value fl_mul2(fl_value a, fl_value b) {
    fl_value r;
    fl_num_arith('*', "*", a, b, &r);
    return r;
}

/* ---- ordering: < > <= >= on Numbers or Strings -------------------------------------------- */

static int string_compare(fl_value a, fl_value b) {
    int64_t na = fl_string_nbytes(a), nb = fl_string_nbytes(b);
    int c = memcmp(fl_string_bytes(a), fl_string_bytes(b), (size_t)(na < nb ? na : nb));
    if (c == 0) return (na > nb) - (na < nb);
    return c < 0 ? -1 : 1; /* UTF-8 byte order is code point order */
}

int fl_order_compare(fl_value a, fl_value b) {
    if (fl_is_string(a)) return string_compare(a, b);
    return fl_num_compare(a, b);
}

bool fl_order_test(int which, int c) {
    switch (which) {
    case FL_ORD_LT:
        return c == -1;
    case FL_ORD_GT:
        return c == 1;
    case FL_ORD_LE:
        return c == -1 || c == 0;
    default:
        return c == 1 || c == 0;
    }
}

fl_value fl_num_raise_buf(const char *kind, const fl_buf *message) {
    fl_value k = fl_string_from_utf8(kind, (int64_t)strlen(kind));
    fl_value e = fl_error_new(k, fl_string_from_buf(message), FL_NIL);
    return fl_has_type(e, FL_T_ERROR) ? fl_raise_value(e) : e;
}

static fl_value raise_mixed(const char *name, fl_value first, fl_value other) {
    fl_buf b;
    fl_buf_init(&b);
    fl_buf_putc(&b, '`');
    fl_buf_puts(&b, name);
    fl_buf_puts(&b, "` expects numbers or strings, got ");
    fl_written_to(&b, first);
    fl_buf_puts(&b, " and ");
    fl_written_to(&b, other);
    return fl_num_raise_buf("type-error", &b);
}

bool fl_check_comparable(const char *name, int64_t argc, const fl_value *argv, fl_value *out) {
    fl_value first = argv[0];
    if (fl_is_number(first)) {
        for (int64_t i = 1; i < argc; i++) {
            if (!fl_is_number(argv[i])) {
                *out = raise_mixed(name, first, argv[i]);
                return false;
            }
        }
    } else if (fl_is_string(first)) {
        for (int64_t i = 1; i < argc; i++) {
            if (!fl_is_string(argv[i])) {
                *out = raise_mixed(name, first, argv[i]);
                return false;
            }
        }
    } else {
        *out = fl_raise_type(name, "numbers or strings", first);
        return false;
    }
    return true;
}

static const char *const ORDER_NAMES[] = {"<", ">", "<=", ">="};

static fl_value order2(int which, fl_value a, fl_value b) {
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
        int64_t x = (int64_t)a, y = (int64_t)b;
        return fl_bool(fl_order_test(which, (x > y) - (x < y)));
    }
    if ((fl_is_number(a) && fl_is_number(b)) || (fl_is_string(a) && fl_is_string(b)))
        return fl_bool(fl_order_test(which, fl_order_compare(a, b)));
    fl_value argv[2] = {a, b}, out;
    fl_check_comparable(ORDER_NAMES[which], 2, argv, &out);
    return out;
}

fl_value fl_lt2(fl_value a, fl_value b) { return order2(FL_ORD_LT, a, b); }
fl_value fl_gt2(fl_value a, fl_value b) { return order2(FL_ORD_GT, a, b); }
fl_value fl_le2(fl_value a, fl_value b) { return order2(FL_ORD_LE, a, b); }
fl_value fl_ge2(fl_value a, fl_value b) { return order2(FL_ORD_GE, a, b); }

/* ---- = ------------------------------------------------------------------------------------- */

bool fl_values_equal(fl_value a, fl_value b) {
    bool an = fl_is_number(a), bn = fl_is_number(b);
    if (an || bn) {
        if (!(an && bn)) return false;
        if (fl_is_fixnum(a) && fl_is_fixnum(b)) return a == b;
        return fl_num_compare(a, b) == 0;
    }
    if (a == b && !fl_is_ptr(a)) return true; /* immediates; no identity shortcut for objects */
    return fl_equal(a, b) != 0;
}

fl_value fl_numeq2(fl_value a, fl_value b) { return fl_bool(fl_values_equal(a, b)); }
