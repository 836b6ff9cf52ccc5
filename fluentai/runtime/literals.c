/* literals.c: the compound literals of a compiled unit, built at start-up from one table.
 *
 * The compiler (llvm/lower.py) puts every quoted list, map and folded error value of a unit in
 * its literal pool and describes them in one array of words, in pool order:
 *     pool_index, kind (0 list, 1 map, 2 error), n, ref[n]        (a map has 2n refs: k, v)
 * A ref is either a value word that needs no object (fixnum, immediate) or a reference to an
 * earlier pool entry, tagged 100 (a tag no value uses): (index << 3) | 4. Building from a table
 * keeps the unit's code small whatever the data (10 000-deep nested lists are 10 000 entries). */
#include "fl_internal.h"

#define FL_LIT_LIST 0
#define FL_LIT_MAP 1
#define FL_LIT_ERROR 2

static fl_value lit_ref(uint64_t ref, const fl_value *pool) {
    return (ref & 7) == 4 ? pool[ref >> 3] : (fl_value)ref;
}

void fl_literals_compound(const uint64_t *code, int64_t ncode, fl_value *pool) {
    int64_t i = 0;
    while (i + 3 <= ncode) {
        uint64_t index = code[i], kind = code[i + 1], n = code[i + 2];
        const uint64_t *refs = &code[i + 3];
        fl_value v = FL_NIL;
        if (kind == FL_LIT_LIST) {
            v = FL_EMPTY;
            for (uint64_t k = n; k > 0; k--) v = fl_cons_new(lit_ref(refs[k - 1], pool), v);
            i += 3 + (int64_t)n;
        } else if (kind == FL_LIT_MAP) {
            v = fl_map_empty();
            for (uint64_t k = 0; k < n; k++)
                v = fl_map_assoc(v, lit_ref(refs[2 * k], pool), lit_ref(refs[2 * k + 1], pool));
            i += 3 + 2 * (int64_t)n;
        } else {
            v = fl_error_new(lit_ref(refs[0], pool), lit_ref(refs[1], pool), lit_ref(refs[2], pool));
            i += 3 + (int64_t)n;
        }
        pool[index] = v;
    }
}
