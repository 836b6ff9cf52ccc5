/* float.c: boxed Floats and their printed form, exactly Python's repr(float) (LANGUAGE.md §15).
 *
 * A boxed Float is an 8-byte atomic cell holding the double, reached through a word equal to the
 * cell's address + 2 (tag 010, DESIGN.md §3.1).
 *
 * repr: the shortest digit string that reads back as the same double (the nearest to the exact
 * value among equally short ones), found with glibc's correctly rounded printf and strtod. When
 * the rounding interval of the double is symmetric, "the nearest p-digit decimal reads back" is
 * monotone in p, so p is found by binary search. A power of two has a lower half-interval half as
 * wide as the upper one; there a p-digit decimal that reads back may be the nearest one's
 * neighbour, so every p is tried with both neighbours.
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_data.h"
#include "fl_num.h"

fl_value fl_box_float(double d) {
    double *cell = fl_alloc_atomic_fast(8);
    *cell = d;
    return fl_from_ptr(cell) + 2;
}

/* ---- C-locale strtod ---------------------------------------------------------------------- */

static locale_t c_locale_obj;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale_obj = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

double fl_strtod_c(const char *text, char **end) {
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale_obj == (locale_t)0) return strtod(text, end);
    return strtod_l(text, end, c_locale_obj);
}

/* ---- shortest round trip ------------------------------------------------------------------ */

/* The p-digit decimal nearest to d (finite, > 0): its p digits as an integer and the decimal
 * exponent of its first digit. */
static void nearest_digits(double d, int p, uint64_t *m, int *e) {
    char buf[48];
    snprintf(buf, sizeof buf, "%.*e", p - 1, d);
    uint64_t v = 0;
    const char *s = buf;
    for (; *s != '\0' && *s != 'e'; s++) {
        if (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s - '0'); /* skips the radix */
    }
    *m = v;
    *e = *s == 'e' ? (int)strtol(s + 1, NULL, 10) : 0;
}

/* Whether m * 10^q reads back as d. */
static bool reads_back(double d, uint64_t m, int q) {
    char buf[48];
    snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)m, q);
    return fl_strtod_c(buf, NULL) == d;
}

/* The shortest decimal m * 10^q (m without trailing zeros) that reads back as d (finite, > 0). */
static void shortest(double d, uint64_t *m_out, int *q_out) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    bool asymmetric = (bits & ((UINT64_C(1) << 52) - 1)) == 0 && ((bits >> 52) & 0x7FF) > 1;
    uint64_t m = 0;
    int e = 0, q = 0;
    if (!asymmetric) {
        int lo = 1, hi = 17;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            nearest_digits(d, mid, &m, &e);
            if (reads_back(d, m, e - mid + 1))
                hi = mid;
            else
                lo = mid + 1;
        }
        nearest_digits(d, lo, &m, &e);
        q = e - lo + 1;
    } else {
        for (int p = 1; p <= 17; p++) {
            nearest_digits(d, p, &m, &e);
            q = e - p + 1;
            if (reads_back(d, m, q)) break;
            if (reads_back(d, m - 1, q)) {
                m -= 1;
                break;
            }
            if (reads_back(d, m + 1, q)) {
                m += 1;
                break;
            }
        }
    }
    while (m != 0 && m % 10 == 0) {
        m /= 10;
        q++;
    }
    *m_out = m;
    *q_out = q;
}

void fl_float_repr(double d, char *buf) {
    if (isnan(d)) {
        strcpy(buf, "nan");
        return;
    }
    char *out = buf;
    if (signbit(d)) *out++ = '-';
    double a = fabs(d);
    if (isinf(a)) {
        strcpy(out, "inf");
        return;
    }
    if (a == 0.0) {
        strcpy(out, "0.0");
        return;
    }
    uint64_t m;
    int q;
    shortest(a, &m, &q);
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)m);
    int exp10 = q + n - 1; /* a = d1.d2...dn * 10^exp10 */
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            if (n <= exp10 + 1) {
                memcpy(out, digits, (size_t)n);
                out += n;
                for (int k = n; k <= exp10; k++) *out++ = '0';
                memcpy(out, ".0", 3);
            } else {
                memcpy(out, digits, (size_t)exp10 + 1);
                out += exp10 + 1;
                *out++ = '.';
                memcpy(out, digits + exp10 + 1, (size_t)(n - exp10 - 1));
                out[n - exp10 - 1] = '\0';
            }
        } else {
            *out++ = '0';
            *out++ = '.';
            for (int k = 0; k < -exp10 - 1; k++) *out++ = '0';
            memcpy(out, digits, (size_t)n + 1);
        }
        return;
    }
    *out++ = digits[0];
    if (n > 1) {
        *out++ = '.';
        memcpy(out, digits + 1, (size_t)n - 1);
        out += n - 1;
    }
    *out++ = 'e';
    *out++ = exp10 < 0 ? '-' : '+';
    int x = exp10 < 0 ? -exp10 : exp10; /* at most 324 */
    if (x >= 100) *out++ = (char)('0' + x / 100);
    *out++ = (char)('0' + x / 10 % 10);
    *out++ = (char)('0' + x % 10);
    *out = '\0';
}

char *fl_num_written(fl_value v) {
    if (fl_is_float(v)) {
        char *buf = fl_alloc_atomic(32);
        fl_float_repr(fl_float_value(v), buf);
        return buf;
    }
    return fl_int_to_cstring(v);
}
