/* fl_num.h: private helpers of the numbers part (int.c, float.c, numbers.c).
 *
 * Status convention of the fl_num_* operations below: they store the result in *out and return
 * true; on an error they store what the raise returned (a handler's value, or 0 when the error is
 * pending) in *out and return false. A builtin then returns *out at once: a handler's value
 * replaces the whole builtin call (LANGUAGE.md §14.4), never a step inside it.
 */
#ifndef FL_NUM_H
#define FL_NUM_H

#include <gmp.h>

#include "fl_internal.h"

#if GMP_LIMB_BITS != 64 || GMP_NAIL_BITS != 0
#error "the runtime needs 64-bit GMP limbs without nails"
/* Ordering of < > <= >= (LANGUAGE.md §6). */
enum { FL_ORD_LT = 0, FL_ORD_GT = 1, FL_ORD_LE = 2, FL_ORD_GE = 3 };
/* -1, 0, 1 (2: unordered, NaN) for two Numbers or two Strings. */
int fl_order_compare(fl_value a, fl_value b);
/* Whether comparison result c satisfies the ordering `which`. */
bool fl_order_test(int which, int c);
/* All Numbers or all Strings, else the VM's type-error (status convention). */
bool fl_check_comparable(const char *name, int64_t argc, const fl_value *argv, fl_value *out);
/* `=` on two values. */
bool fl_values_equal(fl_value a, fl_value b);

/* strtod in the C locale (the literal grammar's decimal point is always '.'). */
double fl_strtod_c(const char *text, char **end);

#endif

static inline bool fl_is_bignum(fl_value v) { return fl_has_type(v, FL_T_BIGNUM); }
static inline fl_bignum *fl_bignum_ptr(fl_value v) { return (fl_bignum *)fl_ptr(v); }

/* A read-only mpz view of an Int (fixnum or bignum); `limb` is storage for a fixnum's magnitude
 * and must outlive the view. Never pass the view to a function that writes it. */
void fl_int_view(fl_value v, mpz_ptr z, mp_limb_t *limb);
/* The canonical Int of an mpz (a fixnum when it fits, else a new bignum). */
fl_value fl_int_from_mpz(mpz_srcptr z);
fl_value fl_int_from_i128(__int128 i);
/* Exact comparison of two Ints: -1, 0, 1. */
int fl_int_compare(fl_value a, fl_value b);

/* Raise an error of KIND whose message is the buffer's bytes (which may hold a NUL: a written
 * form shows an error value's message or a symbol's name raw). Returns what fl_raise_value does. */
fl_value fl_num_raise_buf(const char *kind, const fl_buf *message);

/* Written form of a Number (decimal Int, or the Float repr), GC-allocated. */
char *fl_num_written(fl_value v);

/* The Float of a Number, rounding an Int to nearest (ties to even); on overflow raises
 * value-error "`NAME`: Int too large to convert to Float" (status convention). */
bool fl_num_to_double(const char *name, fl_value v, double *d, fl_value *out);

/* Ordering of < > <= >= (LANGUAGE.md §6). */
enum { FL_ORD_LT = 0, FL_ORD_GT = 1, FL_ORD_LE = 2, FL_ORD_GE = 3 };
/* -1, 0, 1 (2: unordered, NaN) for two Numbers or two Strings. */
int fl_order_compare(fl_value a, fl_value b);
/* Whether comparison result c satisfies the ordering `which`. */
bool fl_order_test(int which, int c);
/* All Numbers or all Strings, else the VM's type-error (status convention). */
bool fl_check_comparable(const char *name, int64_t argc, const fl_value *argv, fl_value *out);
/* `=` on two values. */
bool fl_values_equal(fl_value a, fl_value b);

/* strtod in the C locale (the literal grammar's decimal point is always '.'). */
double fl_strtod_c(const char *text, char **end);

#endif
