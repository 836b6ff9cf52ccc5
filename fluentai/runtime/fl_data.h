/* fl_data.h: private helpers shared by the data files of the runtime (alloc.c, string.c, list.c,
 * map.c, adt.c, print.c, equal.c, types.c). Not part of the contract with generated code. */
#ifndef FL_DATA_H
#define FL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fl_internal.h"

/* ---- alloc.c ------------------------------------------------------------------------------- */

_Noreturn void fl_out_of_memory(void);
void *fl_alloc_uncollectable(int64_t nbytes); /* scanned, never collected */
void *fl_xmalloc(size_t n);                   /* malloc or out of memory */
void *fl_xrealloc(void *p, size_t n);
void fl_buf_reserve(fl_buf *b, int64_t extra); /* room for `extra` more bytes and a NUL */
const char *fl_buf_cstr(fl_buf *b);
/* Zeroed scanned memory of at most FL_SMALL_BYTES (alloc.c): a free-list pop on the program
 * thread. */
#define FL_SMALL_BYTES 24
#define FL_ATOMIC_CACHE 256
#define FL_ATOMIC_CLASSES 3 /* pointer-free blocks of 16, 32 and 64 bytes */
#define FL_ATOMIC_SMALL (16 << (FL_ATOMIC_CLASSES - 1)) /* smaller requests use them */
typedef struct fl_atom_cache {
    int64_t n;
    void *items[FL_ATOMIC_CACHE];
} fl_atom_cache;
typedef struct fl_small_heap_t {
    void *list;         /* free objects, linked through word 0 (a GC root) */
    const void *owner;  /* fl_thread_self() of the owner thread, NULL for none */
    /* free pointer-free objects of 16 bytes (boxed floats), 32 bytes (short strings) and 64
     * bytes (two-limb bignums): arrays, since links through their words would not be
     * scanned; n of them, the rest zero */
    fl_atom_cache atoms[FL_ATOMIC_CLASSES];
} fl_small_heap_t;
extern fl_small_heap_t fl_small_heap;
/* This thread's identity, in one instruction: its thread pointer (unique among live threads),
 * not a _Thread_local variable, whose address costs a __tls_get_addr call in the shared
 * runtime the JIT loads. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
static inline const void *fl_thread_self(void) { return __builtin_thread_pointer(); }
#else
extern _Thread_local char fl_thread_tag;
static inline const void *fl_thread_self(void) { return &fl_thread_tag; }
#endif
void *fl_alloc_small_slow(void);
void fl_small_heap_init(void);    /* fl_rt_init */
void fl_small_heap_own(void);     /* fl_rt_thread_attach: this thread owns the list */
void fl_small_heap_release(void); /* fl_rt_thread_detach */
static inline void *fl_alloc_small(void) {
    void *p = fl_small_heap.list;
    if (__builtin_expect(p != NULL && fl_small_heap.owner == fl_thread_self(), 1)) {
        fl_small_heap.list = *(void **)p;
        *(void **)p = NULL;
        return p;
    }
    return fl_alloc_small_slow();
}

/* Pointer-free memory (strings, floats, bignums; not zeroed): requests of 1 to 15 bytes (one
 * 16-byte block with Boehm's extra byte: boxed floats), 16 to 31 bytes (one 32-byte block:
 * strings of 1 to 14 bytes) and 32 to 63 bytes (one 64-byte block) are popped from the owner
 * thread's caches, refilled a heap block at a time. */
void *fl_alloc_atomic_small_slow(int size_class);
static inline void *fl_alloc_atomic_fast(int64_t nbytes) {
    if (nbytes > 0 && nbytes < FL_ATOMIC_SMALL) {
        int size_class = nbytes < 16 ? 0 : (nbytes < 32 ? 1 : 2);
        fl_atom_cache *cache = &fl_small_heap.atoms[size_class];
        int64_t n = cache->n;
        if (__builtin_expect(n > 0 && fl_small_heap.owner == fl_thread_self(), 1)) {
            void *p = cache->items[n - 1];
            cache->items[n - 1] = NULL;
            cache->n = n - 1;
            return p;
        }
        return fl_alloc_atomic_small_slow(size_class);
    }
    return fl_alloc_atomic(nbytes);
}

/* ---- hashing (equal.c) ---------------------------------------------------------------------- */

static inline uint64_t fl_mix64(uint64_t x) { /* splitmix64's finalizer */
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}
static inline uint64_t fl_hash_combine(uint64_t acc, uint64_t h) {
    acc ^= h + UINT64_C(0x9e3779b97f4a7c15) + (acc << 6) + (acc >> 2);
    return acc * UINT64_C(0xff51afd7ed558ccd);
}
uint64_t fl_hash_bytes(const char *bytes, int64_t n);

/* ---- strings (string.c) --------------------------------------------------------------------- */

static inline fl_string *fl_str(fl_value v) { return (fl_string *)fl_ptr(v); }
static inline bool fl_string_is_ascii(fl_value s) { return (fl_hdr_flags(fl_ptr(s)) & FL_FLAG_ASCII) != 0; }
static inline int64_t fl_string_length(fl_value s) { return fl_str(s)->ncodepoints; }
/* A STRING of nbytes uninitialized bytes (NUL-terminated): fill, then fl_string_seal. */
fl_value fl_string_alloc(int64_t nbytes);
/* Count the code points and set the ASCII flag of a STRING filled after fl_string_alloc. */
fl_value fl_string_seal(fl_value s);
/* A STRING from bytes whose code point count is known. */
fl_value fl_string_make(const char *bytes, int64_t nbytes, int64_t ncodepoints);
fl_value fl_string_from_cstr(const char *s);
/* An uncollectable STRING (type names, kinds, the 1-character ASCII strings). */
fl_value fl_string_permanent(const char *s);
/* The written form of a STRING: quoted, with escapes (print.c). */
void fl_write_string(fl_buf *b, fl_value s);
/* The written form as a NUL-terminated C string (GC memory; print.c). */
const char *fl_written_cstr(fl_value v);
static inline const char *fl_symbol_name_bytes(fl_value sym) {
    return fl_string_bytes(((const fl_symbol *)fl_ptr(sym))->name);
}
/* UTF-8 of one code point into out (4 bytes); returns the byte count. */
int fl_utf8_encode(uint32_t cp, char *out);
/* Decode the code point at p (valid UTF-8); *len receives its byte count. */
uint32_t fl_utf8_decode(const unsigned char *p, int *len);

/* ---- lists (list.c) ------------------------------------------------------------------------- */

static inline fl_cons *fl_cell(fl_value v) { return (fl_cons *)fl_ptr(v); }
/* head, rest-of-list; caller checked non-empty */
static inline fl_value fl_car(fl_value v) { return fl_cell(v)->head; }
static inline fl_value fl_cdr(fl_value v) { return fl_cell(v)->tail; }
/* The list of items[0..n-1] in front of tail (a List). */
fl_value fl_list_onto(int64_t n, const fl_value *items, fl_value tail);
/* A growable array of values in scanned GC memory. */
typedef struct fl_valvec {
    fl_value *items;
    int64_t n;
    int64_t cap;
} fl_valvec;
static inline void fl_valvec_init(fl_valvec *v) {
    v->items = NULL;
    v->n = 0;
    v->cap = 0;
}
void fl_valvec_grow(fl_valvec *v);
static inline void fl_valvec_push(fl_valvec *v, fl_value x) {
    if (v->n == v->cap) fl_valvec_grow(v);
    v->items[v->n++] = x;
}
static inline fl_value fl_valvec_list(const fl_valvec *v) { return fl_list_from(v->n, v->items); }

/* ---- maps (map.c) --------------------------------------------------------------------------- */

static inline bool fl_is_map(fl_value v) { return fl_has_type(v, FL_T_MAP); }
/* Look a key up given its fl_hash. */
fl_value fl_map_lookup_hashed(fl_value map, fl_value key, uint64_t hash, bool *found);
/* The entries in storage order (no order cost): key hashes and values; returns the count. */
int64_t fl_map_raw_entries(fl_value map, uint64_t *hashes, fl_value *keys, fl_value *values);
/* Entries in insertion order as [k0 v0 k1 v1 ...] (cached in the map; do not modify). */
const fl_value *fl_map_ordered(fl_value map);

/* ---- ADTs (adt.c) --------------------------------------------------------------------------- */

static inline bool fl_is_adt(fl_value v) { return fl_has_type(v, FL_T_ADT); }
static inline int64_t fl_adt_ctor(fl_value v) { return (int64_t)fl_hdr_aux(fl_ptr(v)); }
fl_value fl_ctor_type_string(int64_t id); /* the type name as an uncollectable STRING */

/* ---- types (types.c) ------------------------------------------------------------------------ */

/* The outermost type of a type text, parsed once (cached by text). */
enum fl_tcat {
    FL_TC_ANY = 0, /* Any and type variables */
    FL_TC_INT,
    FL_TC_FLOAT,
    FL_TC_NUMBER,
    FL_TC_STRING,
    FL_TC_BOOL,
    FL_TC_SYMBOL,
    FL_TC_NIL,
    FL_TC_ERROR,
    FL_TC_LIST,
    FL_TC_MAP,
    FL_TC_FUNCTION,
    FL_TC_ADT,     /* any other uppercase name: an ADT's type name */
    FL_TC_NOCHECK, /* constructor fields: "_" */
};
typedef struct fl_tspec {
    int cat;
    const char *name; /* outermost name (ADT type name) */
    const char *text; /* normalized text for messages: "(List Int)" */
} fl_tspec;
const fl_tspec *fl_tspec_parse(const char *type_text);
bool fl_tspec_check(const fl_tspec *t, fl_value v);
/* Constructor fields check only the builtin types (LANGUAGE.md §10.1). */
bool fl_tspec_field_check(const fl_tspec *t, fl_value v);

/* ---- numbers, small helpers ----------------------------------------------------------------- */

/* Decimal text of an Int (fixnum fast path, else fl_int_to_cstring). buf: 32 bytes. */
const char *fl_int_text(fl_value v, char *buf);
/* Decimal text of v into buf (24 bytes, NUL-terminated); returns its length (print.c). */
int fl_i64_text(int64_t v, char *buf);
/* Write v's decimal text (no NUL) so that it ends just before `end` (at most 20 bytes before);
 * returns where it starts. Two digits at a time from the right. */
extern const char fl_digit_pairs[201];
static inline char *fl_i64_text_at(char *end, int64_t v) {
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = end;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, fl_digit_pairs + 2 * r, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, fl_digit_pairs + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0) *--p = '-';
    return p;
}

#endif
