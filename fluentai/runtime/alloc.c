/* alloc.c: allocation through Boehm GC (DESIGN.md §3.5) and growable byte buffers.
 *
 * fl_alloc: scanned, zeroed memory (GC_malloc); fl_alloc_atomic: pointer-free payloads (strings,
 * floats, bignums; not zeroed); fl_alloc_roots: uncollectable scanned words (globals, literal
 * pools). Running out of memory is fatal: `fluentai: error: out of memory`, exit status 70.
 */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_data.h"
#include "fl_internal.h"

_Noreturn void fl_out_of_memory(void) {
    static const char msg[] = "fluentai: error: out of memory\n";
    static volatile int reporting = 0;
    if (!reporting) {
        reporting = 1;
        fl_out_flush(); /* what the program printed before stays (as the VM's driver does) */
    }
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(70);
}

void *fl_alloc(int64_t nbytes) {
    void *p = GC_MALLOC((size_t)(nbytes > 0 ? nbytes : 1));
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_alloc_atomic(int64_t nbytes) {
    void *p = GC_MALLOC_ATOMIC((size_t)(nbytes > 0 ? nbytes : 1));
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_alloc_uncollectable(int64_t nbytes) {
    void *p = GC_MALLOC_UNCOLLECTABLE((size_t)(nbytes > 0 ? nbytes : 1));
    if (p == NULL) fl_out_of_memory();
    return p;
}

fl_value *fl_alloc_roots(int64_t n) {
    fl_value *roots = fl_alloc_uncollectable(n * (int64_t)sizeof(fl_value));
    for (int64_t i = 0; i < n; i++) roots[i] = FL_UNBOUND;
    return roots;
}

/* Plain malloc for the runtime's own tables (never holding the only reference to GC memory). */
void *fl_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) fl_out_of_memory();
    return q;
}

/* ---- fl_buf ---------------------------------------------------------------------------------- */
/* A buffer may also start on the caller's storage ({local, 0, sizeof local}): growing moves it to
 * GC memory, and nothing is ever freed. */

void fl_buf_init(fl_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void fl_buf_reserve(fl_buf *b, int64_t extra) {
    int64_t need = b->len + extra + 1; /* room for a NUL terminator */
    if (need <= b->cap) return;
    int64_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) cap *= 2;
    char *data = fl_alloc_atomic(cap);
    if (b->len > 0) memcpy(data, b->data, (size_t)b->len);
    b->data = data;
    b->cap = cap;
}

void fl_buf_put(fl_buf *b, const char *bytes, int64_t n) {
    if (n <= 0) return;
    fl_buf_reserve(b, n);
    memcpy(b->data + b->len, bytes, (size_t)n);
    b->len += n;
}

void fl_buf_puts(fl_buf *b, const char *s) { fl_buf_put(b, s, (int64_t)strlen(s)); }

void fl_buf_putc(fl_buf *b, char c) {
    if (b->len + 2 > b->cap) fl_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

/* NUL-terminated contents (GC memory; "" for an empty buffer). */
const char *fl_buf_cstr(fl_buf *b) {
    fl_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}
