/* stubs_data.c: temporary stand-ins for the numbers and control parts of the runtime, so the
 * data files (alloc, string, list, map, adt, print, equal, types) build and test alone:
 *
 *   gcc -shared -fPIC -DGC_THREADS -D_GNU_SOURCE -I fluentai/runtime \
 *       fluentai/runtime/{alloc,string,list,map,adt,print,equal,types}.c tests/runtime/stubs_data.c \
 *       -lgc -lgmp -lm -o /tmp/libdata.so
 *
 * Used by tests/runtime/test_data.py only when FLUENTAI_TEST_DATA_STUBS=1. Errors: fl_raise
 * records the error value and returns 0 (pending); fl_try_push / fl_pending_take_for hand it back.
 */
#include <gc.h>
#include <gmp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

static fl_value *roots;

void fl_rt_init(void) {
    static int done = 0;
    if (done) return;
    done = 1;
    GC_INIT();
    roots = fl_alloc_roots(4);
    roots[0] = 0;
}

void fl_out_flush(void) {}

/* ---- numbers ------------------------------------------------------------------------------- */

static fl_value from_mpz(const mpz_t z) {
    if (mpz_fits_slong_p(z)) {
        long v = mpz_get_si(z);
        if (v >= FL_FIXNUM_MIN && v <= FL_FIXNUM_MAX) return fl_fixnum(v);
    }
    size_t n = mpz_size(z);
    fl_bignum *b = fl_alloc_atomic((int64_t)(sizeof(fl_bignum) + n * sizeof(uint64_t)));
    b->hdr = fl_hdr_make(FL_T_BIGNUM, 0, n);
    b->size = mpz_sgn(z) < 0 ? -(int64_t)n : (int64_t)n;
    memcpy(b->limbs, mpz_limbs_read(z), n * sizeof(uint64_t));
    return fl_from_ptr(b);
}

static void to_mpz(mpz_t z, fl_value v) { /* z initialized */
    if (fl_is_fixnum(v)) {
        mpz_set_si(z, fl_fixnum_value(v));
        return;
    }
    const fl_bignum *b = fl_ptr(v);
    mpz_t view;
    mpz_roinit_n(view, (const mp_limb_t *)b->limbs, b->size);
    mpz_set(z, view);
}

bool fl_is_int(fl_value v) { return fl_is_fixnum(v) || fl_has_type(v, FL_T_BIGNUM); }
bool fl_is_number(fl_value v) { return fl_is_int(v) || fl_is_float(v); }

fl_value fl_int_from_i64(int64_t i) {
    if (i >= FL_FIXNUM_MIN && i <= FL_FIXNUM_MAX) return fl_fixnum(i);
    mpz_t z;
    mpz_init_set_si(z, i);
    fl_value r = from_mpz(z);
    mpz_clear(z);
    return r;
}

fl_value fl_int_from_decimal(const char *text) {
    mpz_t z;
    mpz_init_set_str(z, text, 10);
    fl_value r = from_mpz(z);
    mpz_clear(z);
    return r;
}

char *fl_int_to_cstring(fl_value v) {
    mpz_t z;
    mpz_init(z);
    to_mpz(z, v);
    char *s = mpz_get_str(NULL, 10, z);
    char *r = fl_alloc_atomic((int64_t)strlen(s) + 1);
    strcpy(r, s);
    free(s);
    mpz_clear(z);
    return r;
}

bool fl_int_to_i64(fl_value v, int64_t *out) {
    if (fl_is_fixnum(v)) {
        *out = fl_fixnum_value(v);
        return true;
    }
    return false;
}

fl_value fl_box_float(double d) {
    double *cell = fl_alloc_atomic(8);
    *cell = d;
    return fl_from_ptr(cell) + 2;
}

static double int_to_double(fl_value v) { /* correctly rounded, through strtod */
    if (fl_is_fixnum(v)) return (double)fl_fixnum_value(v);
    return strtod(fl_int_to_cstring(v), NULL);
}

void fl_float_repr(double d, char *buf) {
    if (isnan(d)) {
        strcpy(buf, "nan");
        return;
    }
    if (isinf(d)) {
        strcpy(buf, d < 0 ? "-inf" : "inf");
        return;
    }
    char digits[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof digits, "%.*e", prec - 1, d);
        char *e = strchr(digits, 'e');
        int last = (int)(e - digits) - 1;
        if (strtod(digits, NULL) != d) {
            /* printf's nearest string at this length misses; a neighbour may still round-trip */
            char alt[40];
            bool ok = false;
            for (int delta = -1; delta <= 1 && !ok; delta += 2) {
                strcpy(alt, digits);
                if (alt[last] == '.' || (delta > 0 && alt[last] == '9') || (delta < 0 && alt[last] == '0'))
                    continue;
                alt[last] = (char)(alt[last] + delta);
                if (strtod(alt, NULL) == d) ok = true;
            }
            if (!ok) continue;
            strcpy(digits, alt);
            break;
        }
        break;
    }
    /* digits: [-]d.ddde[+-]XX */
    char mant[32];
    int m = 0, neg = digits[0] == '-';
    const char *p = digits + neg;
    while (*p != 'e') {
        if (*p != '.') mant[m++] = *p;
        p++;
    }
    mant[m] = '\0';
    int exp = atoi(p + 1);
    while (m > 1 && mant[m - 1] == '0') mant[--m] = '\0';
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            o += sprintf(o, "0.");
            for (int i = 0; i < -exp - 1; i++) *o++ = '0';
            o += sprintf(o, "%s", mant);
        } else {
            for (int i = 0; i <= exp; i++) *o++ = i < m ? mant[i] : '0';
            *o++ = '.';
            if (m > exp + 1) o += sprintf(o, "%s", mant + exp + 1);
            else *o++ = '0';
            *o = '\0';
        }
    } else {
        *o++ = mant[0];
        if (m > 1) {
            *o++ = '.';
            o += sprintf(o, "%s", mant + 1);
        }
        sprintf(o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
}

int fl_num_compare(fl_value a, fl_value b) {
    if (fl_is_fixnum(a) && fl_is_fixnum(b)) return ((int64_t)a > (int64_t)b) - ((int64_t)a < (int64_t)b);
    if (fl_is_float(a) && fl_is_float(b)) {
        double x = fl_float_value(a), y = fl_float_value(b);
        if (isnan(x) || isnan(y)) return 2;
        return (x > y) - (x < y);
    }
    if (fl_is_float(a) || fl_is_float(b)) {
        bool swap = fl_is_float(a);
        fl_value i = swap ? b : a;
        double f = fl_float_value(swap ? a : b);
        if (isnan(f)) return 2;
        mpz_t z;
        mpz_init(z);
        to_mpz(z, i);
        int c = mpz_cmp_d(z, f);
        mpz_clear(z);
        c = (c > 0) - (c < 0);
        return swap ? -c : c;
    }
    mpz_t x, y;
    mpz_init(x);
    mpz_init(y);
    to_mpz(x, a);
    to_mpz(y, b);
    int c = mpz_cmp(x, y);
    mpz_clear(x);
    mpz_clear(y);
    return (c > 0) - (c < 0);
}

uint64_t fl_num_hash(fl_value v) {
    if (fl_is_fixnum(v)) return (uint64_t)fl_fixnum_value(v);
    mpz_t z;
    mpz_init(z);
    if (fl_is_float(v)) {
        double d = fl_float_value(v);
        if (isnan(d) || isinf(d) || d != floor(d)) {
            uint64_t bits;
            memcpy(&bits, &d, 8);
            mpz_clear(z);
            return bits;
        }
        if (fabs(d) < 4e18) {
            mpz_clear(z);
            return (uint64_t)(int64_t)d;
        }
        mpz_set_d(z, d);
    } else {
        to_mpz(z, v);
    }
    uint64_t h = mpz_fdiv_ui(z, UINT64_C(0x1fffffffffffffff));
    mpz_clear(z);
    return h;
}

static fl_value arith(fl_value a, fl_value b, bool add) {
    if (fl_is_float(a) || fl_is_float(b)) {
        double x = fl_is_float(a) ? fl_float_value(a) : int_to_double(a);
        double y = fl_is_float(b) ? fl_float_value(b) : int_to_double(b);
        return fl_box_float(add ? x + y : x * y);
    }
    mpz_t x, y;
    mpz_init(x);
    mpz_init(y);
    to_mpz(x, a);
    to_mpz(y, b);
    if (add) mpz_add(x, x, y);
    else mpz_mul(x, x, y);
    fl_value r = from_mpz(x);
    mpz_clear(x);
    mpz_clear(y);
    return r;
}

fl_value fl_add2(fl_value a, fl_value b) { return arith(a, b, true); }
fl_value fl_mul2(fl_value a, fl_value b) { return arith(a, b, false); }

/* ---- control --------------------------------------------------------------------------------- */

fl_value fl_error_new(fl_value kind, fl_value message, fl_value data) {
    fl_error *e = fl_alloc(sizeof(fl_error));
    e->hdr = fl_hdr_make(FL_T_ERROR, 0, 0);
    e->kind = kind;
    e->message = message;
    e->data = data;
    return fl_from_ptr(e);
}

fl_value fl_raise(const char *kind, const char *message) {
    roots[0] = fl_error_new(fl_string_from_cstr(kind), fl_string_from_cstr(message), FL_NIL);
    return 0;
}

fl_value fl_raisef(const char *kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0) abort();
    va_end(ap);
    fl_value r = fl_raise(kind, msg);
    free(msg);
    return r;
}

fl_value fl_raise_value(fl_value error) {
    roots[0] = error;
    return 0;
}

fl_value fl_raise_type(const char *name, const char *what, fl_value got) {
    return fl_raise_msg("type-error", "`%s` expects %s, got %w", name, what, got);
}

int64_t fl_pending_kind(void) { return roots[0] ? FL_PENDING_ERROR : FL_PENDING_NONE; }
int64_t fl_handler_height(void) { return 0; }
void fl_handler_restore(int64_t height) { (void)height; }
int64_t fl_try_push(fl_matcher_fn matcher) {
    (void)matcher;
    return 1;
}
fl_value fl_pending_take_for(int64_t try_id) {
    (void)try_id;
    fl_value e = roots[0];
    roots[0] = 0;
    return e;
}
void fl_rt_begin(fl_call_fn shim, const fl_site *sites, int64_t nsites, int64_t argc,
                 const char *const *argv, int64_t max_depth) {
    fl_rt_init();
    roots[0] = 0;
}
