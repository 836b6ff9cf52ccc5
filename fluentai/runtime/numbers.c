/* numbers.c: the number builtins of fluentai/vm/builtins_numbers.py (LANGUAGE.md §6), with the
 * same results and error messages. Aliases (`==`, `not=`, `expt`) share the canonical name's
 * function; `pi` is a constant, not a function.
 *
 * Arity is checked by the caller. Errors follow the status convention of fl_num.h: a raise's
 * return value (a handler's value, or 0) is returned at once as the value of the whole call.
 */
#include <math.h>
#include <string.h>

#include "fl_num.h"

#define NUM_PI 3.141592653589793

static inline fl_value ret_float(double d) { return fl_box_float(d); }

static fl_value raise_not_number(const char *name, fl_value v) {
    return fl_raise_type(name, "a Number", v);
}

/* The type-error for the first of a, b that is not a Number. */
static fl_value raise_not_numbers(const char *name, fl_value a, fl_value b) {
    return raise_not_number(name, fl_is_number(a) ? b : a);
}

static fl_value raise_division_by_zero(void) { return fl_raise("division-by-zero", "division by zero"); }

static bool num_is_zero(fl_value v) {
    if (fl_is_fixnum(v)) return v == fl_fixnum(0);
    if (fl_is_float(v)) return fl_float_value(v) == 0.0;
    return false; /* a bignum is never zero */
}

static bool num_is_negative(fl_value v) {
    if (fl_is_float(v)) return fl_float_value(v) < 0.0;
    return fl_int_sign(v) < 0;
}

/* `-x` of an Int. */
static fl_value int_negate(fl_value v) {
    if (fl_is_fixnum(v)) return fl_int_from_i64(-fl_fixnum_value(v));
    mpz_t z, r;
    mp_limb_t limb;
    fl_int_view(v, z, &limb);
    mpz_init(r);
    mpz_neg(r, z);
    fl_value out = fl_int_from_mpz(r);
    mpz_clear(r);
    return out;
}

/* ---- + - * ------------------------------------------------------------------------------- */

/* A left fold of op over argv[0..argc) after checking argv[0] is a Number. */
static fl_value fold(char op, const char *name, int64_t argc, const fl_value *argv) {
    fl_value acc = argv[0];
    if (!fl_is_number(acc)) return raise_not_number(name, acc);
    for (int64_t i = 1; i < argc; i++) {
        if (!fl_num_arith(op, name, acc, argv[i], &acc)) return acc;
    }
    return acc;
}

fl_value fl_b_Z2b_(int64_t argc, const fl_value *argv) {
    if (argc == 2) {
        fl_value a = argv[0], b = argv[1];
        if (fl_is_fixnum(a) && fl_is_fixnum(b))
            return fl_int_from_i64(fl_fixnum_value(a) + fl_fixnum_value(b));
        return fl_add2(a, b);
    }
    if (argc == 0) return fl_fixnum(0);
    /* all fixnums (the usual case): one int64 sum, unless it overflows */
    int64_t sum = 0;
    int64_t i = 0;
    for (; i < argc && fl_is_fixnum(argv[i]); i++)
        if (__builtin_add_overflow(sum, fl_fixnum_value(argv[i]), &sum)) break;
    if (i == argc) return fl_int_from_i64(sum);
    return fold('+', "+", argc, argv);
}

fl_value fl_b__(int64_t argc, const fl_value *argv) {
    if (argc == 2) {
        fl_value a = argv[0], b = argv[1];
        if (fl_is_fixnum(a) && fl_is_fixnum(b))
            return fl_int_from_i64(fl_fixnum_value(a) - fl_fixnum_value(b));
        return fl_sub2(a, b);
    }
    if (argc == 1) {
        fl_value x = argv[0];
        if (fl_is_float(x)) return ret_float(-fl_float_value(x));
        if (fl_is_int(x)) return int_negate(x);
        return raise_not_number("-", x);
    }
    return fold('-', "-", argc, argv);
}

fl_value fl_b_Z2a_(int64_t argc, const fl_value *argv) {
    if (argc == 2) return fl_mul2(argv[0], argv[1]);
    if (argc == 0) return fl_fixnum(1);
    return fold('*', "*", argc, argv);
}

/* ---- / mod quot rem ------------------------------------------------------------------------ */

enum { DIV_FLOOR, DIV_MOD, DIV_QUOT, DIV_REM };
static const char *const DIV_NAMES[] = {"/", "mod", "quot", "rem"};

static fl_value int_divide(int which, fl_value a, fl_value b) {
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
        /* Fixnums are 63-bit: -2^62 / -1 does not overflow int64. */
        int64_t x = fl_fixnum_value(a), y = fl_fixnum_value(b);
        int64_t q = x / y, r = x % y;
        switch (which) {
        case DIV_FLOOR:
            return fl_int_from_i64(r != 0 && ((r < 0) != (y < 0)) ? q - 1 : q);
        case DIV_MOD:
            return fl_fixnum(r != 0 && ((r < 0) != (y < 0)) ? r + y : r);
        case DIV_QUOT:
            return fl_int_from_i64(q);
        default:
            return fl_fixnum(r);
        }
    }
    mpz_t za, zb, r;
    mp_limb_t la, lb;
    fl_int_view(a, za, &la);
    fl_int_view(b, zb, &lb);
    mpz_init(r);
    switch (which) {
    case DIV_FLOOR:
        mpz_fdiv_q(r, za, zb);
        break;
    case DIV_MOD:
        mpz_fdiv_r(r, za, zb);
        break;
    case DIV_QUOT:
        mpz_tdiv_q(r, za, zb);
        break;
    default:
        mpz_tdiv_r(r, za, zb);
    }
    fl_value out = fl_int_from_mpz(r);
    mpz_clear(r);
    return out;
}

static double float_divide(int which, double x, double y) {
    switch (which) {
    case DIV_FLOOR:
        return x / y;
    case DIV_MOD: { /* Python's float %: fmod moved to the divisor's sign, zero signed as y */
        double m = fmod(x, y);
        if (m != 0.0 || isnan(m)) {
            if ((y < 0) != (m < 0)) m += y;
        } else {
            m = copysign(0.0, y);
        }
        return m;
    }
    case DIV_QUOT:
        return trunc(x / y); /* keeps the sign of a zero, infinities and NaN pass through */
    default:
        return isinf(x) ? NAN : fmod(x, y);
    }
}

static fl_value divide(int which, const fl_value *argv) {
    fl_value a = argv[0], b = argv[1];
    const char *name = DIV_NAMES[which];
    if (fl_is_int(a) && fl_is_int(b)) {
        if (b == fl_fixnum(0)) return raise_division_by_zero();
        return int_divide(which, a, b);
    }
    /* Type check, then the zero divisor, then the conversions. */
    if (!(fl_is_number(a) && fl_is_number(b))) return raise_not_numbers(name, a, b);
    if (num_is_zero(b)) return raise_division_by_zero();
    double x, y;
    fl_value out;
    if (!fl_num_to_double(name, a, &x, &out) || !fl_num_to_double(name, b, &y, &out)) return out;
    return ret_float(float_divide(which, x, y));
}

fl_value fl_b_Z2f_(int64_t argc, const fl_value *argv) {
    fl_value a = argv[0], b = argv[1];
    if (fl_is_fixnum(a) && fl_is_fixnum(b) && b != fl_fixnum(0)) {
        int64_t x = fl_fixnum_value(a), y = fl_fixnum_value(b);
        int64_t q = x / y, r = x % y;
        return fl_int_from_i64(r != 0 && ((r < 0) != (y < 0)) ? q - 1 : q);
    }
    return divide(DIV_FLOOR, argv);
}

fl_value fl_b_mod(int64_t argc, const fl_value *argv) { return divide(DIV_MOD, argv); }
fl_value fl_b_quot(int64_t argc, const fl_value *argv) { return divide(DIV_QUOT, argv); }
fl_value fl_b_rem(int64_t argc, const fl_value *argv) { return divide(DIV_REM, argv); }

/* ---- = != ---------------------------------------------------------------------------------- */

static bool all_equal(int64_t argc, const fl_value *argv) {
    for (int64_t i = 0; i + 1 < argc; i++) {
        fl_value a = argv[i], b = argv[i + 1];
        if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
            if (a != b) return false;
        } else if (!fl_values_equal(a, b)) {
            return false;
        }
    }
    return true;
}

fl_value fl_b_Z3d_(int64_t argc, const fl_value *argv) { return fl_bool(all_equal(argc, argv)); }
fl_value fl_b_Z21_Z3d_(int64_t argc, const fl_value *argv) { return fl_bool(!all_equal(argc, argv)); }

/* ---- < > <= >= min max --------------------------------------------------------------------- */

static const char *const ORDER_NAMES[] = {"<", ">", "<=", ">="};

static fl_value chain(int which, int64_t argc, const fl_value *argv) {
    if (argc == 2) {
        fl_value a = argv[0], b = argv[1];
        if (fl_is_fixnum(a) && fl_is_fixnum(b)) {
            int64_t x = (int64_t)a, y = (int64_t)b;
            return fl_bool(fl_order_test(which, (x > y) - (x < y)));
        }
    }
    fl_value out;
    if (!fl_check_comparable(ORDER_NAMES[which], argc, argv, &out)) return out;
    for (int64_t i = 1; i < argc; i++) {
        if (!fl_order_test(which, fl_order_compare(argv[i - 1], argv[i]))) return FL_FALSE;
    }
    return FL_TRUE;
}

fl_value fl_b_Z3c_(int64_t argc, const fl_value *argv) { return chain(FL_ORD_LT, argc, argv); }
fl_value fl_b_Z3e_(int64_t argc, const fl_value *argv) { return chain(FL_ORD_GT, argc, argv); }
fl_value fl_b_Z3c_Z3d_(int64_t argc, const fl_value *argv) { return chain(FL_ORD_LE, argc, argv); }
fl_value fl_b_Z3e_Z3d_(int64_t argc, const fl_value *argv) { return chain(FL_ORD_GE, argc, argv); }

/* Scan left to right, replacing the result by a strictly better argument (returned as is). */
static fl_value extremum(const char *name, int better, int64_t argc, const fl_value *argv) {
    fl_value out;
    if (!fl_check_comparable(name, argc, argv, &out)) return out;
    fl_value best = argv[0];
    for (int64_t i = 1; i < argc; i++) {
        if (fl_order_compare(argv[i], best) == better) best = argv[i];
    }
    return best;
}

fl_value fl_b_min(int64_t argc, const fl_value *argv) { return extremum("min", -1, argc, argv); }
fl_value fl_b_max(int64_t argc, const fl_value *argv) { return extremum("max", 1, argc, argv); }

/* ---- abs, rounding ------------------------------------------------------------------------- */

fl_value fl_b_abs(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (fl_is_fixnum(x)) {
        int64_t i = fl_fixnum_value(x);
        return i < 0 ? fl_int_from_i64(-i) : x;
    }
    if (fl_is_float(x)) return ret_float(fabs(fl_float_value(x)));
    if (fl_is_bignum(x)) return fl_int_sign(x) < 0 ? int_negate(x) : x;
    return raise_not_number("abs", x);
}

enum { ROUND_FLOOR, ROUND_CEIL, ROUND_NEAREST, ROUND_TRUNC };

static fl_value rounding(const char *name, int mode, fl_value x) {
    if (fl_is_int(x)) return x;
    if (!fl_is_float(x)) return raise_not_number(name, x);
    double d = fl_float_value(x);
    if (!isfinite(d)) {
        return fl_raisef("value-error", "`%s` expects a finite number, got %s", name,
                         fl_num_written(x));
    }
    switch (mode) {
    case ROUND_FLOOR:
        d = floor(d);
        break;
    case ROUND_CEIL:
        d = ceil(d);
        break;
    case ROUND_NEAREST:
        d = nearbyint(d); /* ties to even in the default rounding mode, as Python's round */
        break;
    default:
        break; /* fl_int_from_double truncates */
    }
    return fl_int_from_double(d);
}

fl_value fl_b_floor(int64_t argc, const fl_value *argv) { return rounding("floor", ROUND_FLOOR, argv[0]); }
fl_value fl_b_ceil(int64_t argc, const fl_value *argv) { return rounding("ceil", ROUND_CEIL, argv[0]); }
fl_value fl_b_round(int64_t argc, const fl_value *argv) { return rounding("round", ROUND_NEAREST, argv[0]); }

/* ---- math functions ------------------------------------------------------------------------ */

/* A Number as a Float for the math functions: type-error for a non-number, value-error for an
 * Int too large (status convention). */
static bool to_float(const char *name, fl_value x, double *d, fl_value *out) {
    if (fl_is_float(x)) {
        *d = fl_float_value(x);
        return true;
    }
    if (!fl_is_int(x)) {
        *out = raise_not_number(name, x);
        return false;
    }
    return fl_num_to_double(name, x, d, out);
}

fl_value fl_b_sqrt(int64_t argc, const fl_value *argv) {
    double y;
    fl_value out;
    if (!to_float("sqrt", argv[0], &y, &out)) return out;
    if (y < 0) {
        return fl_raisef("value-error", "`sqrt` expects a non-negative number, got %s",
                         fl_num_written(argv[0]));
    }
    return ret_float(sqrt(y));
}

fl_value fl_b_exp(int64_t argc, const fl_value *argv) {
    double y;
    fl_value out;
    if (!to_float("exp", argv[0], &y, &out)) return out;
    return ret_float(exp(y));
}

fl_value fl_b_log(int64_t argc, const fl_value *argv) {
    double y, b = 0.0;
    fl_value out;
    if (!to_float("log", argv[0], &y, &out)) return out;
    if (argc > 1 && !to_float("log", argv[1], &b, &out)) return out;
    if (y <= 0) {
        return fl_raisef("value-error", "`log` expects a positive number, got %s",
                         fl_num_written(argv[0]));
    }
    if (argc == 1) return ret_float(log(y));
    if (b <= 0 || b == 1) {
        return fl_raisef("value-error", "`log` expects a positive base other than 1, got %s",
                         fl_num_written(argv[1]));
    }
    return ret_float(log(y) / log(b));
}

static fl_value trig(const char *name, double (*fn)(double), fl_value x) {
    double y;
    fl_value out;
    if (!to_float(name, x, &y, &out)) return out;
    if (isinf(y)) {
        return fl_raisef("value-error", "`%s` expects a finite number, got %s", name,
                         fl_num_written(x));
    }
    return ret_float(fn(y));
}

fl_value fl_b_sin(int64_t argc, const fl_value *argv) { return trig("sin", sin, argv[0]); }
fl_value fl_b_cos(int64_t argc, const fl_value *argv) { return trig("cos", cos, argv[0]); }
fl_value fl_b_tan(int64_t argc, const fl_value *argv) { return trig("tan", tan, argv[0]); }

fl_value fl_b_atan(int64_t argc, const fl_value *argv) {
    double y;
    fl_value out;
    if (!to_float("atan", argv[0], &y, &out)) return out;
    return ret_float(atan(y));
}

/* CPython's m_atan2: the special values spelled out rather than left to the libm. */
static double py_atan2(double y, double x) {
    if (isnan(x) || isnan(y)) return NAN;
    if (isinf(y)) {
        if (isinf(x)) {
            if (copysign(1., x) == 1.) return copysign(0.25 * NUM_PI, y);
            return copysign(0.75 * NUM_PI, y);
        }
        return copysign(0.5 * NUM_PI, y);
    }
    if (isinf(x) || y == 0.) {
        if (copysign(1., x) == 1.) return copysign(0., y);
        return copysign(NUM_PI, y);
    }
    return atan2(y, x);
}

fl_value fl_b_atan2(int64_t argc, const fl_value *argv) {
    double y, x;
    fl_value out;
    if (!to_float("atan2", argv[0], &y, &out) || !to_float("atan2", argv[1], &x, &out)) return out;
    return ret_float(py_atan2(y, x));
}

/* ---- pow ----------------------------------------------------------------------------------- */

#define MAX_RESULT_BITS ((uint64_t)1 << 33) /* a 1 GiB Int: beyond it memory is exhausted */

static fl_value raise_out_of_memory(void) { return fl_raise("out-of-memory", "out of memory"); }

static uint64_t int_bit_length(fl_value v) {
    if (fl_is_fixnum(v)) {
        int64_t i = fl_fixnum_value(v);
        uint64_t m = i < 0 ? -(uint64_t)i : (uint64_t)i;
        return m == 0 ? 0 : 64 - (uint64_t)__builtin_clzll(m);
    }
    const fl_bignum *b = fl_bignum_ptr(v);
    uint64_t n = (uint64_t)(b->size < 0 ? -b->size : b->size);
    return 64 * n - (uint64_t)__builtin_clzll(b->limbs[n - 1]);
}

/* a ** b for Ints, b >= 0. */
static fl_value int_pow(fl_value a, fl_value b) {
    if (fl_is_fixnum(a)) {
        int64_t x = fl_fixnum_value(a);
        if (x == 0) return fl_fixnum(b == fl_fixnum(0) ? 1 : 0);
        if (x == 1) return fl_fixnum(1);
        if (x == -1) return fl_fixnum((fl_int_low_u64(b) & 1) ? -1 : 1);
    }
    /* |a| >= 2 */
    if (!fl_is_fixnum(b)) return raise_out_of_memory();
    uint64_t e = (uint64_t)fl_fixnum_value(b);
    if ((unsigned __int128)e * (int_bit_length(a) - 1) > MAX_RESULT_BITS) return raise_out_of_memory();
    if (fl_is_fixnum(a)) {
        int64_t base = fl_fixnum_value(a), acc = 1;
        uint64_t k = e;
        bool overflow = false;
        for (;;) {
            if ((k & 1) && __builtin_mul_overflow(acc, base, &acc)) {
                overflow = true;
                break;
            }
            k >>= 1;
            if (k == 0) break;
            if (__builtin_mul_overflow(base, base, &base)) {
                overflow = true;
                break;
            }
        }
        if (!overflow) return fl_int_from_i64(acc);
    }
    mpz_t z, r;
    mp_limb_t limb;
    fl_int_view(a, z, &limb);
    mpz_init(r);
    mpz_pow_ui(r, z, (unsigned long)e);
    fl_value out = fl_int_from_mpz(r);
    mpz_clear(r);
    return out;
}

static bool is_odd_integer(double y) { return fmod(fabs(y), 2.0) == 1.0; }

/* CPython's float_pow for the cases §6 lets through (no 0 to a negative power, no negative base
 * with a non-integer exponent); overflow gives +-inf as C pow does. */
static double py_float_pow(double iv, double iw) {
    if (iw == 0) return 1.0;
    if (isnan(iv)) return iv;
    if (isnan(iw)) return iv == 1.0 ? 1.0 : iw;
    if (isinf(iw)) {
        iv = fabs(iv);
        if (iv == 1.0) return 1.0;
        if ((iw > 0.0) == (iv > 1.0)) return fabs(iw);
        return 0.0;
    }
    if (isinf(iv)) {
        bool odd = is_odd_integer(iw);
        if (iw > 0.0) return odd ? iv : fabs(iv);
        return odd ? copysign(0.0, iv) : 0.0;
    }
    if (iv == 0.0) return is_odd_integer(iw) ? iv : 0.0;
    bool negate = false;
    if (iv < 0.0) {
        iv = -iv;
        negate = is_odd_integer(iw);
    }
    if (iv == 1.0) return negate ? -1.0 : 1.0;
    double ix = pow(iv, iw);
    return negate ? -ix : ix;
}

fl_value fl_b_pow(int64_t argc, const fl_value *argv) {
    fl_value a = argv[0], b = argv[1];
    if (fl_is_int(a) && fl_is_int(b) && fl_int_sign(b) >= 0) return int_pow(a, b);
    if (!(fl_is_number(a) && fl_is_number(b))) return raise_not_numbers("pow", a, b);
    if (num_is_zero(a) && num_is_negative(b)) return raise_division_by_zero();
    double x, y;
    fl_value out;
    if (!fl_num_to_double("pow", a, &x, &out) || !fl_num_to_double("pow", b, &y, &out)) return out;
    if (x < 0 && isfinite(x) && isfinite(y) && y != floor(y)) {
        return fl_raisef("value-error",
                         "`pow` expects an integer exponent for a negative base, got %s and %s",
                         fl_num_written(a), fl_num_written(b));
    }
    return ret_float(py_float_pow(x, y));
}

/* ---- literals and conversions -------------------------------------------------------------- */

enum { LIT_NONE, LIT_INT, LIT_FLOAT, LIT_SPECIAL };

static size_t digits_at(const char *s, size_t i, size_t n) {
    size_t j = i;
    while (j < n && s[j] >= '0' && s[j] <= '9') j++;
    return j - i;
}

static bool ascii_ieq(const char *s, size_t n, const char *word) {
    size_t k = strlen(word);
    if (n != k) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return false;
    }
    return true;
}

/* Which literal s[0..n) is exactly (LANGUAGE.md §1): `[+-]?[0-9]+` an Int; followed by
 * `.[0-9]+`, `[eE][+-]?[0-9]+` or both, a Float; `[+-]?(inf|infinity|nan)` (any case) special. */
static int classify(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t d = digits_at(s, i, n);
    if (d == 0) {
        const char *w = s + i;
        size_t k = n - i;
        return ascii_ieq(w, k, "inf") || ascii_ieq(w, k, "infinity") || ascii_ieq(w, k, "nan")
                   ? LIT_SPECIAL
                   : LIT_NONE;
    }
    i += d;
    if (i == n) return LIT_INT;
    if (s[i] == '.') {
        i++;
        d = digits_at(s, i, n);
        if (d == 0) return LIT_NONE;
        i += d;
        if (i == n) return LIT_FLOAT;
    }
    if (s[i] != 'e' && s[i] != 'E') return LIT_NONE;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    d = digits_at(s, i, n);
    if (d == 0) return LIT_NONE;
    return i + d == n ? LIT_FLOAT : LIT_NONE;
}

static char *copy_cstring(const char *s, size_t n) {
    char *c = fl_alloc_atomic((int64_t)n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static fl_value literal_value(int kind, const char *s, size_t n) {
    char *text = copy_cstring(s, n);
    if (kind == LIT_INT) return fl_int_from_decimal(text);
    return fl_box_float(fl_strtod_c(text, NULL)); /* nearest double; strtod reads inf/nan too */
}

fl_value fl_parse_number(const char *bytes, int64_t n) {
    int kind = classify(bytes, (size_t)n);
    if (kind != LIT_INT && kind != LIT_FLOAT) return 0;
    return literal_value(kind, bytes, (size_t)n);
}

static bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The String's bytes without leading and trailing ASCII whitespace. */
static const char *stripped(fl_value s, size_t *n) {
    const char *p = fl_string_bytes(s);
    size_t len = (size_t)fl_string_nbytes(s);
    while (len > 0 && is_ascii_space(*p)) {
        p++;
        len--;
    }
    while (len > 0 && is_ascii_space(p[len - 1])) len--;
    *n = len;
    return p;
}

static fl_value raise_literal(const char *name, const char *what, fl_value s) {
    fl_buf b;
    fl_buf_init(&b);
    fl_buf_putc(&b, '`');
    fl_buf_puts(&b, name);
    fl_buf_puts(&b, "` expects ");
    fl_buf_puts(&b, what);
    fl_buf_puts(&b, ", got ");
    fl_written_to(&b, s);
    return fl_num_raise_buf("value-error", &b);
}

fl_value fl_b_float(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (fl_is_float(x)) return x;
    if (fl_is_int(x)) {
        double d;
        fl_value out;
        if (!fl_num_to_double("float", x, &d, &out)) return out;
        return ret_float(d);
    }
    if (fl_is_string(x)) {
        size_t n;
        const char *s = stripped(x, &n);
        int kind = classify(s, n);
        if (kind == LIT_NONE) return raise_literal("float", "a number literal", x);
        return fl_box_float(fl_strtod_c(copy_cstring(s, n), NULL));
    }
    return fl_raise_type("float", "a Number or a String", x);
}

fl_value fl_b_int(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (fl_is_fixnum(x) || fl_is_float(x) || fl_is_bignum(x)) return rounding("int", ROUND_TRUNC, x);
    if (fl_is_string(x)) {
        size_t n;
        const char *s = stripped(x, &n);
        if (classify(s, n) != LIT_INT) return raise_literal("int", "an Int literal", x);
        return literal_value(LIT_INT, s, n);
    }
    return fl_raise_type("int", "a Number or a String", x);
}

/* ---- predicates ---------------------------------------------------------------------------- */

static bool int_is_odd(fl_value v) {
    if (fl_is_fixnum(v)) return (fl_fixnum_value(v) & 1) != 0;
    return (fl_bignum_ptr(v)->limbs[0] & 1) != 0;
}

fl_value fl_b_evenZ3f_(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (!fl_is_int(x)) return fl_raise_type("even?", "an Int", x);
    return fl_bool(!int_is_odd(x));
}

fl_value fl_b_oddZ3f_(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (!fl_is_int(x)) return fl_raise_type("odd?", "an Int", x);
    return fl_bool(int_is_odd(x));
}

fl_value fl_b_zeroZ3f_(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (!fl_is_number(x)) return raise_not_number("zero?", x);
    return fl_bool(num_is_zero(x));
}

fl_value fl_b_positiveZ3f_(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (fl_is_float(x)) return fl_bool(fl_float_value(x) > 0.0);
    if (fl_is_int(x)) return fl_bool(fl_int_sign(x) > 0);
    return raise_not_number("positive?", x);
}

fl_value fl_b_negativeZ3f_(int64_t argc, const fl_value *argv) {
    fl_value x = argv[0];
    if (fl_is_float(x)) return fl_bool(fl_float_value(x) < 0.0);
    if (fl_is_int(x)) return fl_bool(fl_int_sign(x) < 0);
    return raise_not_number("negative?", x);
}
