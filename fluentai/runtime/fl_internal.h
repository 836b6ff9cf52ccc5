/* fl_internal.h: functions the runtime's own files share (not called by generated code).
 *
 * Sections by owner: numbers (int.c, float.c, numbers.c), data (alloc.c, string.c, list.c,
 * map.c, adt.c, print.c, equal.c, types.c), control (error.c, effects.c, io.c, random.c,
 * state.c, misc.c, main.c). Add a declaration to your own section when another file needs it.
 */
#ifndef FL_INTERNAL_H
#define FL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl_prims_gen.h"
#include "fl_runtime.h"

/* ---- numbers ------------------------------------------------------------------------------- */

bool fl_is_int(fl_value v);    /* fixnum or bignum */
bool fl_is_number(fl_value v); /* Int or Float */
/* Decimal text of an Int (GC-allocated, NUL-terminated). */
char *fl_int_to_cstring(fl_value v);
/* The Int as int64_t when it fits (returns true), else false. */
bool fl_int_to_i64(fl_value v, int64_t *out);
/* Shortest round-trip text of a double, exactly as Python's repr(float) ("1.0", "1e+16", "inf",
 * "nan", "-0.0"); buf has room for 32 bytes. */
void fl_float_repr(double d, char *buf);
/* Exact comparison of two Numbers (Int/Float mixed): -1, 0, 1, or 2 when unordered (NaN). */
int fl_num_compare(fl_value a, fl_value b);
/* Hash of a Number, equal for equal values (1 and 1.0 hash alike): Python's hash() of the number
 * as a 64-bit word (NaN gives 0). */
uint64_t fl_num_hash(fl_value v);
fl_value fl_int_from_u64(uint64_t u);
/* v mod 2^64 (the two's complement low word of an Int). */
uint64_t fl_int_low_u64(fl_value v);
int fl_int_sign(fl_value v); /* -1, 0 or 1 */
/* An Int rounded to the nearest double (ties to even); false when that is +-2^1024 or more. */
bool fl_int_to_double(fl_value v, double *out);
/* The Int of a finite double, truncated toward zero. */
fl_value fl_int_from_double(double d);
/* The Int or Float of which bytes[0..n) is exactly a literal (LANGUAGE.md §1, `string->number`),
 * else 0. Never raises. */
fl_value fl_parse_number(const char *bytes, int64_t n);
/* Binary + - * (op '+', '-' or '*') with the §6 rule, NAME naming the builtin in error messages
 * (`sum` and `product` use it). Returns true with *out the result; on an error, false with *out
 * what the raise returned (a handler's value, or 0): return that from the builtin at once. */
bool fl_num_arith(char op, const char *name, fl_value a, fl_value b, fl_value *out);

/* ---- data ------------------------------------------------------------------------------------ */

/* A growable byte buffer (GC-allocated; it may also start on the caller's storage, as
 * {local, 0, sizeof local}, and moves to GC memory when it grows). */
typedef struct fl_buf {
    char *data;
    int64_t len;
    int64_t cap;
} fl_buf;
void fl_buf_init(fl_buf *b);
void fl_buf_put(fl_buf *b, const char *bytes, int64_t n);
void fl_buf_puts(fl_buf *b, const char *s);
void fl_buf_putc(fl_buf *b, char c);

void fl_display_to(fl_buf *b, fl_value v); /* display form (LANGUAGE.md §15) */
void fl_written_to(fl_buf *b, fl_value v); /* written form */
fl_value fl_string_from_buf(const fl_buf *b); /* b holds valid UTF-8 */
/* NUL-terminated UTF-8 bytes of a STRING value. */
static inline const char *fl_string_bytes(fl_value s) { return ((const fl_string *)fl_ptr(s))->bytes; }
static inline int64_t fl_string_nbytes(fl_value s) { return (int64_t)fl_hdr_aux(fl_ptr(s)); }
static inline bool fl_is_string(fl_value v) { return fl_has_type(v, FL_T_STRING); }
static inline bool fl_is_list(fl_value v) { return v == FL_EMPTY || fl_has_type(v, FL_T_CONS); }
static inline int64_t fl_list_length(fl_value v) { return v == FL_EMPTY ? 0 : (int64_t)fl_hdr_aux(fl_ptr(v)); }
/* A list from n values (in order). */
fl_value fl_list_from(int64_t n, const fl_value *items);
/* Equality-consistent hash of any value. */
uint64_t fl_hash(fl_value v);
/* Raise KIND with a message made from fmt: %s a C string, %w a value's written form, %i an Int
 * value, %d an int64_t, %% a percent sign. Unlike printf-style fl_raisef it keeps a NUL that a
 * written form may hold (a Symbol's name, an error value's message): the message is built as a
 * String and raised with fl_raise_value then. Returns what the raise returns. */
fl_value fl_raise_msg(const char *kind, const char *fmt, ...);
/* Type name as `type-of` gives it ("Int", "List", an ADT's type name, ...). */
const char *fl_type_name(fl_value v);
/* Persistent maps (used by the state store too). */
fl_value fl_map_empty(void);
fl_value fl_map_get(fl_value map, fl_value key, bool *found);
fl_value fl_map_assoc(fl_value map, fl_value key, fl_value value);
fl_value fl_map_dissoc(fl_value map, fl_value key);
int64_t fl_map_count(fl_value map);
/* Entries in insertion order: keys[i], values[i] for i < fl_map_count(map). */
void fl_map_entries(fl_value map, fl_value *keys, fl_value *values);
/* The constructor table (adt.c). */
const char *fl_ctor_name(int64_t id);
const char *fl_ctor_type_name(int64_t id);
int64_t fl_ctor_arity(int64_t id);

/* ---- control --------------------------------------------------------------------------------- */

/* Call a FluentAI function value from C (effect clauses, state:update): through the shim. */
fl_value fl_call_value(fl_value fn, int64_t argc, const fl_value *argv);
fl_value fl_call_value_replacing(fl_value fn, int64_t argc, const fl_value *argv);
/* Buffered standard output (flushed at exit, before reading input, before reports). */
void fl_out_write(const char *bytes, int64_t n);
void fl_out_flush(void);
/* A type-error `NAME` expects WHAT, got V (V in written form): the common builtin message. */
fl_value fl_raise_type(const char *name, const char *what, fl_value got);

#endif
