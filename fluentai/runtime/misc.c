/* misc.c: start-up and program runs, interrupts and safepoints, calls from C into FluentAI code,
 * and the builtins of vm/builtins_misc.py (Error values, `error`, `args`, `exit`, error:raise's
 * argument rules; DESIGN.md §3.5, §4.3-§4.4; LANGUAGE.md §13.2, §16).
 *
 *     (raise 'k 42 [1])  -> error kind "k", message "42", data [1]
 *     (raise "oops")     -> kind "user";   (raise e) with an error value raises e again
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fl_ctl.h"
#include "fl_data.h"

#define FL_INITIAL_HEAP ((size_t)4 << 20)
#define FL_FREE_SPACE_DIVISOR 1

#define DEFAULT_MAX_DEPTH 200000
/* The largest limit FLUENTAI_MAX_DEPTH may set: deeper native recursion would not fit the
 * program thread's stack (fluentai/bigstack.py) with big frames, and would end sooner. */
#define MAX_MAX_DEPTH 1000000
/* The call depth is checked against fl_rt_depth_limit inline; the limit is raised DEPTH_STEP
 * calls at a time, and each time fl_depth_slow looks at the stack pointer: deep recursion of a
 * function with a big frame must end in stack-overflow, not overrun the stack (LANGUAGE.md §12).
 * STACK_RESERVE bytes (an eighth of a smaller stack) stay free for the C code that runs below
 * the deepest frame. */
#define DEPTH_STEP 256
#define STACK_RESERVE ((uintptr_t)64 << 20)

int64_t fl_rt_depth;
int64_t fl_rt_depth_limit = DEFAULT_MAX_DEPTH;
volatile int64_t fl_rt_poll;
int64_t fl_rt_site = -1;

fl_ctl_roots fl_ctl = {.pending = {.target = -1}, .max_depth = DEFAULT_MAX_DEPTH};

static volatile sig_atomic_t interrupt_requested;

/* ---- helpers shared by the control files ----------------------------------------------------- */

fl_value fl_ctl_string(const char *s) { return fl_string_from_cstr(s); }

fl_value fl_ctl_message_text(fl_value v) {
    if (fl_is_string(v)) return v;
    fl_buf b;
    fl_buf_init(&b);
    fl_display_to(&b, v);
    return fl_string_from_buf(&b);
}

const char *fl_ctl_written(fl_value v) {
    fl_buf b;
    fl_buf_init(&b);
    fl_written_to(&b, v);
    fl_buf_putc(&b, '\0');
    return b.data;
}

/* ---- start-up and runs ----------------------------------------------------------------------- */

/* The collector's static roots: the writable data of the object that holds the runtime's own
 * statics (the runtime library, or the executable it is linked into) and of the collector's own
 * library (its thread table points into its heap), and nothing else. Boehm scans the data of
 * every loaded object by default; in a `fluentai run` process that is libpython's 1.7 MB (and
 * LLVM's 2.8 MB once llvmlite is loaded), where no FluentAI value lives: compiled code keeps its
 * globals and literals in fl_alloc_roots memory, fl_ctl and the small-object free lists are added
 * below, and Python holds native values only through those. Scanning them cost every collection
 * time and, as the collector lets the heap grow with the roots' size, fresh pages: a warm run of
 * lists at its quick size touched 5600 pages, 3400 without them. */
static const char *root_objects[2]; /* dl_iterate_phdr names ("" the executable) */

struct object_search {
    uintptr_t address;
    const char *name; /* dl_iterate_phdr's, valid while the object is loaded */
    int64_t size;     /* the bytes its loadable segments map */
};

static int find_object(struct dl_phdr_info *info, size_t size, void *data) {
    struct object_search *search = data;
    int64_t total = 0;
    bool found = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (search->address >= lo && search->address - lo < ph->p_memsz) found = true;
        total += (int64_t)ph->p_memsz;
    }
    if (!found) return 0;
    search->name = info->dlpi_name;
    search->size = total;
    return 1;
}

/* The loaded object that contains address (name NULL and size -1 when none does). */
static struct object_search search_object(const void *address) {
    struct object_search search = {(uintptr_t)address, NULL, -1};
    if (address != NULL) dl_iterate_phdr(find_object, &search);
    return search;
}

/* The name of the loaded object that contains address, or NULL. */
static const char *object_of(const void *address) {
    const char *name = search_object(address).name;
    return name != NULL ? strdup(name) : NULL;
}

/* The bytes mapped for the shared object holding addr (a JIT unit: the code budget), or -1. */
int64_t fl_jit_code_size(const void *addr) { return search_object(addr).size; }

static int is_root_object(const char *name, void *start, size_t size) {
    if (root_objects[0] == NULL || root_objects[1] == NULL) return 1; /* not found: scan all */
    return strcmp(name, root_objects[0]) == 0 || strcmp(name, root_objects[1]) == 0;
}

static void restrict_static_roots(void) {
    root_objects[0] = object_of(&fl_ctl);
    root_objects[1] = object_of(dlsym(RTLD_DEFAULT, "GC_init"));
    GC_register_has_static_roots_callback(is_root_object);
}

void fl_rt_init(void) {
    static bool done;
    if (done) return;
    done = true;
    restrict_static_roots();
    GC_INIT();
    /* The collector's warnings ("Failed to expand heap", "Out of Memory! Returning NULL!") are
     * not reports: running out of memory is the one line `fluentai: error: out of memory`
     * (LANGUAGE.md §13.4), written where the allocation fails. */
    GC_set_warn_proc(GC_ignore_warn_proc);
    /* Start with a heap of some megabytes: the default (a few hundred KiB) makes programs that
     * allocate fast with a small live set collect every ~150 KiB. Not more: every page of the
     * heap is touched before the first collection, and a fresh page costs a fault (the kernel
     * zeroes it): with 32 MiB, lists at its quick size spent 40% of its time in the kernel
     * (7241 page faults; 2454 with 4 MiB). Programs with a big live set grow the heap anyway. */
    GC_expand_hp(FL_INITIAL_HEAP);
    /* Let the heap grow to about twice the live data between collections (divisor 1; Boehm's
     * default 3 collects after a third): programs that build big lists (map over a million
     * elements) otherwise spend most of their time marking the same live cells again. The
     * environment variable GC_FREE_SPACE_DIVISOR still overrides it. */
    if (getenv("GC_FREE_SPACE_DIVISOR") == NULL) GC_set_free_space_divisor(FL_FREE_SPACE_DIVISOR);
    fl_small_heap_init();
    GC_allow_register_threads();
    GC_add_roots(&fl_ctl, (char *)&fl_ctl + sizeof fl_ctl);
    fl_prng_seed_from_environment();
}

/* The program arguments as a List of Strings; bytes that are not UTF-8 become U+FFFD. */
static fl_value make_args(int64_t argc, const char *const *argv) {
    fl_value list = FL_EMPTY;
    for (int64_t i = argc - 1; i >= 0; i--) {
        const char *s = argv[i];
        int64_t n = (int64_t)strlen(s);
        fl_value str;
        if (fl_utf8_valid(s, n)) {
            str = fl_string_from_utf8(s, n);
        } else {
            fl_buf b;
            fl_buf_init(&b);
            for (int64_t k = 0; k < n;) {
                int64_t len = 1;
                while (len <= 4 && k + len <= n && !fl_utf8_valid(s + k, len)) len++;
                if (len > 4 || k + len > n) {
                    fl_buf_puts(&b, "\xEF\xBF\xBD");
                    k++;
                } else {
                    fl_buf_put(&b, s + k, len);
                    k += len;
                }
            }
            str = fl_string_from_buf(&b);
        }
        list = fl_cons_new(str, list);
    }
    return list;
}

static bool is_blank(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool fl_ctl_setting_int(const char *text, bool *positive) {
    while (is_blank(*text)) text++;
    bool negative = *text == '-';
    if (*text == '-' || *text == '+') text++;
    if (*text < '0' || *text > '9') return false;
    bool nonzero = false;
    while (*text >= '0' && *text <= '9') nonzero |= *text++ != '0';
    while (is_blank(*text)) text++;
    *positive = nonzero && !negative;
    return *text == '\0';
}

/* FLUENTAI_MAX_DEPTH as vm/machine.py's depth_from_environment reads it: a decimal Int (blanks
 * around it allowed), else 0 (the default applies). */
static int64_t depth_from_environment(void) {
    const char *text = getenv("FLUENTAI_MAX_DEPTH");
    bool positive;
    if (text == NULL || !fl_ctl_setting_int(text, &positive)) return 0;
    errno = 0;
    long long n = strtoll(text, NULL, 10); /* skips the blanks and takes the sign itself */
    return errno != 0 ? (positive ? MAX_MAX_DEPTH : 0) : (int64_t)n;
}

static int64_t next_depth_limit(int64_t depth) {
    return depth + DEPTH_STEP < fl_ctl.max_depth ? depth + DEPTH_STEP : fl_ctl.max_depth;
}

/* LANGUAGE.md §12: at least this many nested calls work, however big their frames (up to what
 * the stack holds: 8 GiB, fluentai/bigstack.py). Deeper, frames may use SOFT_STACK bytes of the
 * stack at most, so that a runaway recursion of big frames ends as it did with a 1 GiB stack
 * instead of touching gigabytes first. */
#define GUARANTEED_DEPTH 100000
#define SOFT_STACK ((uintptr_t)1 << 30)

static _Thread_local bool stack_floor_known;
static _Thread_local uintptr_t stack_floor;     /* lowest address frames may reach; 0: unknown */
static _Thread_local uintptr_t soft_floor;      /* the same beyond GUARANTEED_DEPTH */
static _Thread_local int64_t mark_depth = -1;   /* the depth and stack pointer at the last look */
static _Thread_local uintptr_t mark_sp;

static uintptr_t stack_floor_here(void) {
    if (!stack_floor_known) {
        stack_floor_known = true;
        pthread_attr_t attr;
        void *addr;
        size_t size;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0) { /* a smaller stack: 1/8 */
                stack_floor = (uintptr_t)addr + (size / 8 < STACK_RESERVE ? size / 8 : STACK_RESERVE);
                uintptr_t top = (uintptr_t)addr + size;
                soft_floor = size > SOFT_STACK && top - SOFT_STACK > stack_floor ? top - SOFT_STACK
                                                                                 : stack_floor;
            }
            pthread_attr_destroy(&attr);
        }
    }
    return stack_floor;
}

/* Whether DEPTH_STEP more frames like those since the last look might not fit the stack. */
static bool stack_nearly_full(int64_t depth) {
    volatile char here;
    uintptr_t sp = (uintptr_t)&here;
    uintptr_t floor = stack_floor_here();
    if (floor == 0) return false;
    if (depth >= GUARANTEED_DEPTH) floor = soft_floor;
    if (sp <= floor) return true;
    uintptr_t need = 0;
    if (mark_depth >= 0 && depth > mark_depth && mark_sp > sp)
        need = (mark_sp - sp) / (uintptr_t)(depth - mark_depth) * DEPTH_STEP;
    mark_depth = depth;
    mark_sp = sp;
    return sp - floor < need;
}

void fl_rt_begin(fl_call_fn shim, const fl_site *sites, int64_t nsites, int64_t argc,
                 const char *const *argv, int64_t max_depth) {
    fl_ctl.shim = shim;
    fl_ctl.sites = sites;
    fl_ctl.nsites = nsites;
    if (max_depth <= 0) max_depth = depth_from_environment(); /* as the driver */
    if (max_depth > MAX_MAX_DEPTH) max_depth = MAX_MAX_DEPTH;
    fl_ctl.max_depth = max_depth > 0 ? max_depth : DEFAULT_MAX_DEPTH;
    fl_ctl_reset_pending();
    fl_ctl_reset_handlers();
    fl_ctl_reset_state();
    fl_ctl.args = make_args(argc, argv);
    interrupt_requested = 0;
    fl_rt_poll = 0;
    fl_rt_depth = 0;
    fl_rt_depth_limit = next_depth_limit(0);
    fl_rt_site = -1;
}

static _Thread_local bool attached_here;

void fl_rt_thread_attach(void) {
    if (GC_thread_is_registered()) {
        fl_small_heap_own();
        return;
    }
    struct GC_stack_base base;
    if (GC_get_stack_base(&base) != GC_SUCCESS) return;
    attached_here = GC_register_my_thread(&base) == GC_SUCCESS;
    if (attached_here) fl_small_heap_own();
}

void fl_rt_thread_detach(void) {
    fl_small_heap_release();
    if (!attached_here) return;
    attached_here = false;
    GC_unregister_my_thread();
}

/* ---- interrupts and safepoints (DESIGN.md §4.4) ---------------------------------------------- */

void fl_rt_interrupt(void) {
    interrupt_requested = 1;
    fl_rt_poll = 1;
    fl_rt_depth_limit = 0;
}

bool fl_ctl_interrupt_requested(void) { return interrupt_requested != 0; }

fl_value fl_ctl_take_interrupt(void) {
    interrupt_requested = 0;
    fl_rt_poll = 0;
    fl_rt_depth_limit = next_depth_limit(fl_rt_depth); /* `finally` bodies run normally */
    if (interrupt_requested) { /* another one came meanwhile: keep it requested */
        fl_rt_poll = 1;
        fl_rt_depth_limit = 0;
    }
    fl_ctl_set_interrupt();
    return 0;
}

fl_value fl_poll_slow(void) {
    if (interrupt_requested) return fl_ctl_take_interrupt();
    fl_rt_poll = 0;
    return FL_NIL;
}

static fl_value depth_slow(bool program_site) {
    if (interrupt_requested) return fl_ctl_take_interrupt();
    /* only an interrupt lowers the limit to 0: one requested by storing the globals directly */
    if (fl_rt_depth_limit == 0) return fl_ctl_take_interrupt();
    if (fl_rt_depth + 1 > fl_ctl.max_depth || stack_nearly_full(fl_rt_depth)) {
        fl_value result = fl_raise_stack_overflow();
        /* generated code adds no entry for a call refused here: the next one is the caller's.
         * A prelude call site (map calling the program's function) adds none anyway, so the
         * next one is the program's call of the builtin, the raise's own entry. */
        if (program_site) fl_ctl.pending.trace.fresh = false;
        return result;
    }
    fl_rt_depth_limit = next_depth_limit(fl_rt_depth + 1);
    return FL_NIL;
}

fl_value fl_depth_slow(void) { return depth_slow(true); }

fl_value fl_depth_slow_prelude(void) { return depth_slow(false); }

/* ---- calls from C (effect clauses, state:update) --------------------------------------------- */

static fl_value call_value(fl_value fn, int64_t argc, const fl_value *argv, bool entry) {
    int64_t site = fl_rt_site;
    if (!fl_has_type(fn, FL_T_CLOSURE)) return fl_raise_not_function(fn);
    if (fl_ctl.shim == NULL)
        return fl_raise("internal", "no call shim: fl_rt_begin was not called");
    /* a call of a program function is a non-tail call (LANGUAGE.md §12); builtins never count */
    bool counted = ((const fl_closure *)fl_ptr(fn))->desc->kind == FL_FN_LAMBDA;
    int64_t depth = fl_rt_depth;
    /* as in generated code, a call refused by the depth check adds no trace entry */
    if (counted && depth + 1 > fl_rt_depth_limit && fl_depth_slow() == 0) return 0;
    if (counted) fl_rt_depth = depth + 1;
    fl_value result = fl_ctl.shim(fn, argc, argv);
    fl_rt_depth = depth;
    /* this C caller is a call site of its frame: append its entry like generated code does */
    if (result == 0 && entry) fl_trace_add(site);
    fl_rt_site = site;
    return result;
}

fl_value fl_call_value(fl_value fn, int64_t argc, const fl_value *argv) {
    return call_value(fn, argc, argv, true);
}

/* The same for a builtin that replaced the frame it was called from (a tail call): that frame has
 * no trace entry while the function called runs. */
fl_value fl_call_value_replacing(fl_value fn, int64_t argc, const fl_value *argv) {
    return call_value(fn, argc, argv, false);
}

fl_vector *fl_apply_args(int64_t argc, const fl_value *argv) {
    if (argc < 1) return fl_raise("internal", "`apply` without arguments"), NULL;
    fl_value last = argv[argc - 1];
    if (!fl_is_list(last)) {
        fl_value resumed = fl_raisef("type-error", "`apply` expects a List as its last argument, got %s",
                                     fl_ctl_written(last));
        /* a clause's value is apply's: a fl_vector * cannot carry it, so it is made pending, and
         * the generated code takes it (fl_take_resumed) */
        if (resumed != 0) fl_ctl_set_resumed(resumed);
        return NULL;
    }
    int64_t n = argc - 1 + fl_list_length(last);
    fl_vector *v = fl_vector_new(n);
    if (v == NULL) return NULL;
    for (int64_t i = 0; i < argc - 1; i++) v->items[i] = argv[i];
    fl_value cell = last;
    for (int64_t i = argc - 1; i < n; i++) {
        const fl_cons *c = fl_ptr(cell);
        v->items[i] = c->head;
        cell = c->tail;
    }
    return v;
}

/* ---- error values and raise (vm/builtins_misc.py) -------------------------------------------- */

/* An error kind: a String, or a Symbol's name; 0 (type-error raised in *err) otherwise. */
static fl_value kind_name(const char *name, fl_value kind, fl_value *err) {
    if (fl_is_string(kind)) return kind;
    if (fl_has_type(kind, FL_T_SYMBOL)) return ((const fl_symbol *)fl_ptr(kind))->name;
    *err = fl_raise_type(name, "a String or Symbol kind", kind);
    return 0;
}

fl_value fl_error_new(fl_value kind, fl_value message, fl_value data) {
    fl_value err = 0;
    fl_value kind_text = kind_name("Error", kind, &err);
    if (kind_text == 0) return err;
    return fl_ctl_make_error(kind_text, fl_ctl_message_text(message), data);
}

fl_value fl_b_Error(int64_t argc, const fl_value *argv) {
    (void)argc;
    return fl_error_new(argv[0], argv[1], argv[2]);
}

/* The error value in argv[0], or NULL with a type-error raised (its status or resumed value in
 * *result). */
static const fl_error *check_error(const char *name, fl_value e, fl_value *result) {
    if (fl_has_type(e, FL_T_ERROR)) return fl_ptr(e);
    *result = fl_raise_type(name, "an Error", e);
    return NULL;
}

fl_value fl_b_error_kind(int64_t argc, const fl_value *argv) {
    (void)argc;
    fl_value result = 0;
    const fl_error *e = check_error("error-kind", argv[0], &result);
    return e != NULL ? e->kind : result;
}

fl_value fl_b_error_message(int64_t argc, const fl_value *argv) {
    (void)argc;
    fl_value result = 0;
    const fl_error *e = check_error("error-message", argv[0], &result);
    return e != NULL ? e->message : result;
}

fl_value fl_b_error_data(int64_t argc, const fl_value *argv) {
    (void)argc;
    fl_value result = 0;
    const fl_error *e = check_error("error-data", argv[0], &result);
    return e != NULL ? e->data : result;
}

static fl_value raise_new(fl_value kind, fl_value message, fl_value data) {
    return fl_ctl_raise_error(fl_ctl_make_error(kind, fl_ctl_message_text(message), data));
}

fl_value fl_b_error(int64_t argc, const fl_value *argv) {
    return raise_new(fl_ctl_string("user"), argv[0], argc > 1 ? argv[1] : FL_NIL);
}

fl_value fl_e_errorZ3a_raise(int64_t argc, const fl_value *argv) {
    if (argc < 1 || argc > 3) return fl_raise_arity("error:raise", 1, 3, argc);
    if (argc == 1) {
        if (fl_has_type(argv[0], FL_T_ERROR)) return fl_ctl_raise_error(argv[0]); /* again */
        return raise_new(fl_ctl_string("user"), argv[0], FL_NIL);
    }
    fl_value err = 0;
    fl_value kind = kind_name("error:raise", argv[0], &err);
    if (kind == 0) return err;
    return raise_new(kind, argv[1], argc == 3 ? argv[2] : FL_NIL);
}

/* ---- args, exit ------------------------------------------------------------------------------ */

fl_value fl_b_args(int64_t argc, const fl_value *argv) {
    (void)argc; (void)argv;
    return fl_ctl.args != 0 ? fl_ctl.args : FL_EMPTY;
}

fl_value fl_b_exit(int64_t argc, const fl_value *argv) {
    int64_t code = 0;
    if (argc > 0) {
        fl_value v = argv[0];
        if (!fl_is_int(v)) return fl_raise_type("exit", "an Int", v);
        if (!fl_is_fixnum(v) || fl_fixnum_value(v) < 0 || fl_fixnum_value(v) > 255)
            return fl_raisef("value-error", "`exit` expects a code from 0 to 255, got %s",
                             fl_ctl_written(v));
        code = fl_fixnum_value(v);
    }
    fl_out_flush();
    fl_ctl_set_exit(code); /* no `finally` runs: generated code checks the pending kind */
    return 0;
}
