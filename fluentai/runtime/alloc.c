/* alloc.c: allocation through Boehm GC (DESIGN.md §3.5) and growable byte buffers.
 *
 * fl_alloc: scanned, zeroed memory (GC_malloc); fl_alloc_atomic: pointer-free payloads (strings,
 * floats, bignums; not zeroed); fl_alloc_roots: uncollectable scanned words (globals, literal
 * pools). Running out of memory is fatal: `fluentai: error: out of memory`, exit status 70.
 */
#include <gc.h>
#include <gc/gc_inline.h>
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

/* ---- the program thread's free list of small scanned objects ------------------------------------ */
/* Objects of at most FL_SMALL_BYTES (cons cells, 2-field ADT values, boxes, small closures: one
 * 32-byte block each) are popped from a free list that GC_generic_malloc_many refills a heap block
 * at a time, instead of a GC_malloc call per object (its thread-local lookup goes through
 * __tls_get_addr from the shared libgc). The list head is in fl_small_heap, a registered root, so
 * the objects waiting on it stay reachable (linked through word 0; all other words are zero).
 * Only the owner thread (the last one that called fl_rt_thread_attach) uses it: fl_thread_self()
 * tells it apart cheaply (a thread that ended without detaching leaves its list to whichever
 * new thread gets the same thread pointer, which is then the only one using it); other threads
 * take GC_MALLOC. */

fl_small_heap_t fl_small_heap;
#if !(defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__)))
_Thread_local char fl_thread_tag;
#endif

void fl_small_heap_init(void) { GC_add_roots(&fl_small_heap, (char *)&fl_small_heap + sizeof fl_small_heap); }

static void drop_atoms(void) {
    for (int k = 0; k < FL_ATOMIC_CLASSES; k++) {
        fl_atom_cache *cache = &fl_small_heap.atoms[k];
        for (int64_t i = 0; i < cache->n; i++) cache->items[i] = NULL;
        cache->n = 0;
    }
}

void fl_small_heap_own(void) {
    fl_small_heap.list = NULL;
    drop_atoms();
    fl_small_heap.owner = fl_thread_self();
}

void fl_small_heap_release(void) {
    if (fl_small_heap.owner == fl_thread_self()) {
        fl_small_heap.owner = NULL;
        fl_small_heap.list = NULL;
        drop_atoms();
    }
}

static bool owner_thread(void) { return fl_small_heap.owner == fl_thread_self(); }

void *fl_alloc_small_slow(void) {
    if (owner_thread()) {
        /* the size is that of whole blocks (GC_malloc_many adds Boehm's extra byte and rounds up
         * to granules before calling it): 24 bytes + 1 -> 32 */
        GC_generic_malloc_many(32, GC_I_NORMAL, &fl_small_heap.list);
        void *p = fl_small_heap.list;
        if (p == NULL) fl_out_of_memory();
        fl_small_heap.list = *(void **)p;
        *(void **)p = NULL;
        return p;
    }
    void *p = GC_MALLOC(FL_SMALL_BYTES);
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_alloc_atomic_small_slow(int size_class) {
    size_t block = (size_t)16 << size_class;
    if (owner_thread()) {
        /* a heap block's worth, moved into the rooted array at once (no allocation meanwhile,
         * so no collection sees them linked through unscanned words); a surplus is dropped */
        fl_atom_cache *cache = &fl_small_heap.atoms[size_class];
        void *list = NULL;
        GC_generic_malloc_many(block, GC_I_PTRFREE, &list);
        if (list == NULL) fl_out_of_memory();
        int64_t n = 0;
        while (list != NULL && n < FL_ATOMIC_CACHE) {
            cache->items[n++] = list;
            list = *(void **)list;
        }
        cache->n = n - 1;
        void *p = cache->items[n - 1];
        cache->items[n - 1] = NULL;
        return p;
    }
    void *p = GC_MALLOC_ATOMIC(block - 1);
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_alloc(int64_t nbytes) {
    if (nbytes <= FL_SMALL_BYTES) return fl_alloc_small();
    void *p = GC_MALLOC((size_t)nbytes);
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_alloc_atomic(int64_t nbytes) {
    if (nbytes > 0 && nbytes < FL_ATOMIC_SMALL) return fl_alloc_atomic_fast(nbytes);
    void *p = GC_MALLOC_ATOMIC((size_t)(nbytes > 0 ? nbytes : 1));
    if (p == NULL) fl_out_of_memory();
    return p;
}

void *fl_alloc_uncollectable(int64_t nbytes) {
    void *p = GC_MALLOC_UNCOLLECTABLE((size_t)(nbytes > 0 ? nbytes : 1));
    if (p == NULL) fl_out_of_memory();
    return p;
}

/* The root arrays a JIT unit's initialization makes (its globals and its literal pools), recorded
 * between fl_jit_roots_begin and fl_jit_roots_end so that fl_jit_roots_free can free them when the
 * unit is unloaded (jit/jit.py `_evict`). Units are initialized on the program thread only. */
typedef struct roots_set {
    fl_value **arrays;
    int64_t n, cap;
} roots_set;

static roots_set *recording;

fl_value *fl_alloc_roots(int64_t n) {
    fl_value *roots = fl_alloc_uncollectable(n * (int64_t)sizeof(fl_value));
    for (int64_t i = 0; i < n; i++) roots[i] = FL_UNBOUND;
    if (recording != NULL) {
        if (recording->n == recording->cap) {
            recording->cap = recording->cap ? 2 * recording->cap : 8;
            recording->arrays =
                fl_xrealloc(recording->arrays, (size_t)recording->cap * sizeof(fl_value *));
        }
        recording->arrays[recording->n++] = roots;
    }
    return roots;
}

void fl_jit_roots_begin(void) {
    if (recording != NULL) { /* an earlier recording left open: its arrays stay, unrecorded */
        free(recording->arrays);
        free(recording);
    }
    recording = fl_xmalloc(sizeof *recording);
    memset(recording, 0, sizeof *recording);
}

void *fl_jit_roots_end(void) {
    roots_set *set = recording;
    recording = NULL;
    return set;
}

void fl_jit_roots_free(void *set) {
    roots_set *r = set;
    if (r == NULL) return;
    for (int64_t i = 0; i < r->n; i++) GC_FREE(r->arrays[i]);
    free(r->arrays);
    free(r);
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

/* C0 80, never valid UTF-8, stands for a NUL inside the names and source texts compiled code
   passes as C strings (fluentai/llvm/lower.py `cstring`): written as the NUL it is. */
void fl_buf_puts(fl_buf *b, const char *s) {
    const char *mark;
    while ((mark = strstr(s, "\xC0\x80")) != NULL) {
        fl_buf_put(b, s, (int64_t)(mark - s));
        fl_buf_putc(b, '\0');
        s = mark + 2;
    }
    fl_buf_put(b, s, (int64_t)strlen(s));
}

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
