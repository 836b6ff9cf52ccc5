/* types.c: `type-of`, the type predicates, `not`, `identity` (fluentai/vm/builtins_types.py) and
 * type ascription `(: e T)` (LANGUAGE.md §11; the VM's ASCRIBE in machine.py, has_type and
 * type_text in vm/patterns.py).
 *
 * The compiler passes a type as its written text ("Int", "(List Int)", "(Function a a)",
 * "Option"). Only the outermost type is checked; the text is parsed once and cached, and the
 * message shows it normalized as the VM's type_text does:
 *     expected a value of type (List Int), got "x"
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

/* ---- type names --------------------------------------------------------------------------------- */

const char *fl_type_name(fl_value v) {
    if (fl_is_fixnum(v)) return "Int";
    if (fl_is_float(v)) return "Float";
    if (!fl_is_ptr(v)) {
        switch (v) {
        case FL_TRUE:
        case FL_FALSE:
            return "Bool";
        case FL_NIL:
            return "Nil";
        case FL_EMPTY:
            return "List";
        default:
            return "Unbound";
        }
    }
    switch (fl_hdr_type(fl_ptr(v))) {
    case FL_T_CONS:
        return "List";
    case FL_T_STRING:
        return "String";
    case FL_T_SYMBOL:
        return "Symbol";
    case FL_T_BIGNUM:
        return "Int";
    case FL_T_CLOSURE:
        return "Function";
    case FL_T_MAP:
        return "Map";
    case FL_T_ADT:
        return fl_ctor_type_name(fl_adt_ctor(v));
    case FL_T_ERROR:
        return "Error";
    case FL_T_BOX:
        return "Box";
    default:
        return "Vector";
    }
}

static const char *const builtin_type_names[] = {"Int", "Float", "Bool", "Nil", "String", "Symbol",
                                                 "List", "Map", "Function", "Error", "Unbound",
                                                 "Box", "Vector"};
enum { NTYPES = sizeof builtin_type_names / sizeof builtin_type_names[0] };
static fl_value type_strings[NTYPES];
static pthread_once_t type_strings_once = PTHREAD_ONCE_INIT;

static void make_type_strings(void) {
    for (int i = 0; i < NTYPES; i++) type_strings[i] = fl_string_permanent(builtin_type_names[i]);
}

fl_value fl_b_type_of(int64_t argc, const fl_value *argv) {
    fl_value v = argv[0];
    if (fl_has_type(v, FL_T_ADT)) return fl_ctor_type_string(fl_adt_ctor(v));
    pthread_once(&type_strings_once, make_type_strings);
    const char *name = fl_type_name(v);
    for (int i = 0; i < NTYPES; i++)
        if (builtin_type_names[i] == name || strcmp(builtin_type_names[i], name) == 0) return type_strings[i];
    return fl_string_from_cstr(name);
}

/* ---- predicates ----------------------------------------------------------------------------------- */

fl_value fl_b_not(int64_t argc, const fl_value *argv) { return fl_bool(!fl_is_truthy(argv[0])); }

fl_value fl_b_identity(int64_t argc, const fl_value *argv) { return argv[0]; }

fl_value fl_b_intZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(fl_is_int(argv[0])); }

fl_value fl_b_floatZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(fl_is_float(argv[0])); }

fl_value fl_b_numberZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(fl_is_number(argv[0])); }

fl_value fl_b_stringZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(fl_is_string(argv[0])); }

fl_value fl_b_boolZ3f_(int64_t argc, const fl_value *argv) {
    return fl_bool(argv[0] == FL_TRUE || argv[0] == FL_FALSE);
}

fl_value fl_b_symbolZ3f_(int64_t argc, const fl_value *argv) {
    return fl_bool(fl_has_type(argv[0], FL_T_SYMBOL));
}

fl_value fl_b_listZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(fl_is_list(argv[0])); }

fl_value fl_b_mapZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(fl_has_type(argv[0], FL_T_MAP)); }

fl_value fl_b_functionZ3f_(int64_t argc, const fl_value *argv) {
    return fl_bool(fl_has_type(argv[0], FL_T_CLOSURE));
}

fl_value fl_b_errorZ3f_(int64_t argc, const fl_value *argv) {
    return fl_bool(fl_has_type(argv[0], FL_T_ERROR));
}

fl_value fl_b_nilZ3f_(int64_t argc, const fl_value *argv) { return fl_bool(argv[0] == FL_NIL); }

fl_value fl_b_nullZ3f_(int64_t argc, const fl_value *argv) {
    return fl_bool(argv[0] == FL_NIL || argv[0] == FL_EMPTY);
}

int fl_is_error(fl_value v) { return fl_has_type(v, FL_T_ERROR); }

/* ---- type texts ----------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int cat;
} named_types[] = {
    {"Int", FL_TC_INT},       {"Float", FL_TC_FLOAT},   {"Number", FL_TC_NUMBER},
    {"String", FL_TC_STRING}, {"Bool", FL_TC_BOOL},     {"Symbol", FL_TC_SYMBOL},
    {"Nil", FL_TC_NIL},       {"Unit", FL_TC_NIL},      {"Error", FL_TC_ERROR},
    {"List", FL_TC_LIST},     {"Map", FL_TC_MAP},       {"Function", FL_TC_FUNCTION},
    {"Any", FL_TC_ANY},
};

typedef struct tentry {
    fl_tspec spec;
    char *source; /* the text as given */
    uint64_t hash;
    struct tentry *next;
} tentry;

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static tentry *buckets[256];
static tentry *by_pointer[1024]; /* last spec seen for a text pointer (verified by content) */

static inline bool is_delim(char c) { return c == '(' || c == ')' || isspace((unsigned char)c); }

static tentry *parse(const char *text, uint64_t h) {
    size_t len = strlen(text);
    char *norm = fl_xmalloc(len + 1);
    size_t o = 0;
    char *outer = NULL;
    const char *p = text;
    bool want_space = false, first_name = true;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        if (*p == '(') {
            if (want_space) norm[o++] = ' ';
            norm[o++] = '(';
            want_space = false;
            p++;
            continue;
        }
        if (*p == ')') {
            norm[o++] = ')';
            want_space = true;
            p++;
            continue;
        }
        const char *start = p;
        while (*p && !is_delim(*p)) p++;
        if (want_space) norm[o++] = ' ';
        memcpy(norm + o, start, (size_t)(p - start));
        if (first_name) {
            outer = fl_xmalloc((size_t)(p - start) + 1);
            memcpy(outer, start, (size_t)(p - start));
            outer[p - start] = '\0';
            first_name = false;
        }
        o += (size_t)(p - start);
        want_space = true;
    }
    norm[o] = '\0';
    if (outer == NULL) outer = norm;
    int cat;
    if (strcmp(outer, "_") == 0) {
        cat = FL_TC_NOCHECK;
    } else if (!isupper((unsigned char)outer[0])) {
        cat = FL_TC_ANY; /* a type variable */
    } else {
        cat = FL_TC_ADT;
        for (size_t i = 0; i < sizeof named_types / sizeof named_types[0]; i++)
            if (strcmp(outer, named_types[i].name) == 0) cat = named_types[i].cat;
    }
    tentry *e = fl_xmalloc(sizeof *e);
    e->spec.cat = cat;
    e->spec.name = outer;
    e->spec.text = norm;
    e->source = fl_xmalloc(len + 1);
    memcpy(e->source, text, len + 1);
    e->hash = h;
    return e;
}

const fl_tspec *fl_tspec_parse(const char *text) {
    size_t slot = ((uintptr_t)text >> 3) & 1023;
    tentry *e = __atomic_load_n(&by_pointer[slot], __ATOMIC_ACQUIRE);
    if (e != NULL && strcmp(e->source, text) == 0) return &e->spec;
    uint64_t h = fl_hash_bytes(text, (int64_t)strlen(text));
    pthread_mutex_lock(&types_lock);
    for (e = buckets[h & 255]; e != NULL; e = e->next)
        if (e->hash == h && strcmp(e->source, text) == 0) break;
    if (e == NULL) {
        e = parse(text, h);
        e->next = buckets[h & 255];
        buckets[h & 255] = e;
    }
    pthread_mutex_unlock(&types_lock);
    __atomic_store_n(&by_pointer[slot], e, __ATOMIC_RELEASE);
    return &e->spec;
}

bool fl_tspec_check(const fl_tspec *t, fl_value v) {
    switch (t->cat) {
    case FL_TC_INT:
        return fl_is_int(v);
    case FL_TC_FLOAT:
        return fl_is_float(v);
    case FL_TC_NUMBER:
        return fl_is_number(v);
    case FL_TC_STRING:
        return fl_is_string(v);
    case FL_TC_BOOL:
        return v == FL_TRUE || v == FL_FALSE;
    case FL_TC_SYMBOL:
        return fl_has_type(v, FL_T_SYMBOL);
    case FL_TC_NIL:
        return v == FL_NIL;
    case FL_TC_ERROR:
        return fl_has_type(v, FL_T_ERROR);
    case FL_TC_LIST:
        return fl_is_list(v);
    case FL_TC_MAP:
        return fl_has_type(v, FL_T_MAP);
    case FL_TC_FUNCTION:
        return fl_has_type(v, FL_T_CLOSURE);
    case FL_TC_ADT:
        return fl_has_type(v, FL_T_ADT) && strcmp(fl_ctor_type_name(fl_adt_ctor(v)), t->name) == 0;
    default: /* Any, type variables, unchecked fields */
        return true;
    }
}

bool fl_tspec_field_check(const fl_tspec *t, fl_value v) {
    if (t->cat == FL_TC_ANY || t->cat == FL_TC_ADT || t->cat == FL_TC_NOCHECK) return true;
    return fl_tspec_check(t, v);
}

fl_value fl_check_type(fl_value v, const char *type_text) {
    const fl_tspec *t = fl_tspec_parse(type_text);
    if (fl_tspec_check(t, v)) return v;
    return fl_raise_msg("type-error", "expected a value of type %s, got %w", t->text, v);
}
