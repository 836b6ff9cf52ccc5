/* adt.c: the constructor table and ADT values (LANGUAGE.md §10.1).
 *
 * An ADT value is {hdr (aux = constructor id), fields[arity]}. The compiler registers the
 * constructors of every `data` type once per run, in id order from 0; a nullary constructor's
 * value is made once (uncollectable) and shared. Fields declared with a builtin type are checked
 * at construction on their outermost type, with the VM's message (machine.py `_construct`):
 *     `Circle` expects Float for field 1, got 1
 */
#include <gc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fl_data.h"
#include "fl_internal.h"

typedef struct ctor_info {
    char *name;
    char *type_name;
    int64_t arity;
    const fl_tspec **fields; /* parsed field types; NULL entries are not checked */
    bool checked;            /* some entry of fields is not NULL */
    char **field_texts;
    fl_value nullary;     /* the value of a nullary constructor */
    fl_value type_string; /* type_name as an uncollectable STRING */
} ctor_info;

static ctor_info *ctors;
static int64_t nctors, ctor_cap;

static char *copy_text(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = fl_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

static bool same_ctor(const ctor_info *c, const char *name, const char *type_name, int64_t arity,
                      const char *const *field_types) {
    if (c->name == NULL || strcmp(c->name, name) != 0 || strcmp(c->type_name, type_name) != 0 ||
        c->arity != arity)
        return false;
    for (int64_t i = 0; i < arity; i++)
        if (strcmp(c->field_texts[i], field_types ? field_types[i] : "_") != 0) return false;
    return true;
}

void fl_ctor_register(int64_t id, const char *name, const char *type_name, int64_t arity,
                      const char *const *field_types) {
    if (id >= ctor_cap) {
        int64_t cap = ctor_cap ? ctor_cap : 16;
        while (cap <= id) cap *= 2;
        ctors = fl_xrealloc(ctors, (size_t)cap * sizeof(ctor_info));
        memset(ctors + ctor_cap, 0, (size_t)(cap - ctor_cap) * sizeof(ctor_info));
        ctor_cap = cap;
    }
    if (id == 0) nctors = 0; /* a new run registers its table from id 0 */
    if (id + 1 > nctors) nctors = id + 1;
    ctor_info *c = &ctors[id];
    if (same_ctor(c, name, type_name, arity, field_types)) return;
    /* Strings of an earlier registration are kept: values made then may still be printed. */
    c->name = copy_text(name);
    c->type_name = copy_text(type_name);
    c->arity = arity;
    c->checked = false;
    c->fields = fl_xmalloc((size_t)(arity > 0 ? arity : 1) * sizeof(fl_tspec *));
    c->field_texts = fl_xmalloc((size_t)(arity > 0 ? arity : 1) * sizeof(char *));
    for (int64_t i = 0; i < arity; i++) {
        const char *text = field_types ? field_types[i] : "_";
        c->field_texts[i] = copy_text(text);
        const fl_tspec *t = fl_tspec_parse(text);
        /* fields that fl_tspec_field_check always accepts are not checked at all */
        c->fields[i] = t->cat == FL_TC_NOCHECK || t->cat == FL_TC_ANY || t->cat == FL_TC_ADT ? NULL : t;
        if (c->fields[i] != NULL) c->checked = true;
    }
    c->type_string = fl_string_permanent(type_name);
    if (arity == 0) {
        fl_adt *v = fl_alloc_uncollectable(sizeof(fl_adt));
        v->hdr = fl_hdr_make(FL_T_ADT, 0, (uint64_t)id);
        c->nullary = fl_from_ptr(v);
    } else {
        c->nullary = 0;
    }
}

const char *fl_ctor_name(int64_t id) { return id < nctors && ctors[id].name ? ctors[id].name : "?"; }

const char *fl_ctor_type_name(int64_t id) {
    return id < nctors && ctors[id].type_name ? ctors[id].type_name : "?";
}

int64_t fl_ctor_arity(int64_t id) { return id < nctors ? ctors[id].arity : 0; }

fl_value fl_ctor_type_string(int64_t id) {
    if (id < nctors && ctors[id].type_string) return ctors[id].type_string;
    return fl_string_from_cstr("?");
}

/* The constructor's field checks: whether they pass; when one fails, *raised is what its
 * type-error gave: 0 (pending), or the value an error:raise clause resumed with, which is then
 * the construction's value (LANGUAGE.md §14.4). */
static bool fields_pass(const ctor_info *c, const fl_value *fields, fl_value *raised) {
    for (int64_t i = 0; c->checked && i < c->arity; i++) {
        const fl_tspec *t = c->fields[i];
        if (t != NULL && !fl_tspec_field_check(t, fields[i])) {
            *raised = fl_raise_msg("type-error", "`%s` expects %s for field %d, got %w", c->name,
                                   t->text, i + 1, fields[i]);
            return false;
        }
    }
    return true;
}

fl_value fl_adt_new(int64_t ctor_id, const fl_value *fields) {
    const ctor_info *c = &ctors[ctor_id];
    if (c->arity == 0) return c->nullary;
    fl_value raised;
    if (!fields_pass(c, fields, &raised)) return raised;
    fl_adt *v;
    if (c->arity <= 2) {
        v = fl_alloc_small();
        v->fields[0] = fields[0];
        if (c->arity == 2) v->fields[1] = fields[1];
    } else {
        v = fl_alloc((int64_t)sizeof(fl_adt) + c->arity * (int64_t)sizeof(fl_value));
        memcpy(v->fields, fields, (size_t)c->arity * sizeof(fl_value));
    }
    v->hdr = fl_hdr_make(FL_T_ADT, 0, (uint64_t)ctor_id);
    return fl_from_ptr(v);
}

fl_value fl_adt_init(int64_t ctor_id, const fl_value *fields, void *mem) {
    /* as fl_adt_new, in memory the caller provides: a slot of its frame (escape analysis) */
    const ctor_info *c = &ctors[ctor_id];
    if (c->arity == 0) return c->nullary;
    fl_value raised;
    if (!fields_pass(c, fields, &raised)) return raised;
    fl_adt *v = mem;
    memcpy(v->fields, fields, (size_t)c->arity * sizeof(fl_value));
    v->hdr = fl_hdr_make(FL_T_ADT, 0, (uint64_t)ctor_id);
    return fl_from_ptr(v);
}
