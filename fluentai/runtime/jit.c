/* jit.c: entering native code from the VM (DESIGN.md §7; fluentai/jit/jit.py).
 *
 * The VM calls a compiled lambda through one C call: the closure is made here from the lambda's
 * descriptor and its free values (already converted by the value bridge into a rooted buffer),
 * so no native address is ever held only by Python between allocations.
 *
 *     argv = [a0 .. a{argc-1}, free0 .. free{nfree-1}]     (fl_alloc_roots memory)
 *     fl_jit_call(desc, nfree, selfmask, argc, argv, depth) -> result, or 0 with a condition pending
 *
 * A set bit i of `selfmask` marks free value i as the loop's reference to itself: a BOX holding
 * the new closure (named `let` loops capture their own variable, boxed); a set bit of `boxmask`,
 * a variable of a binding group, boxed but never assigned: a BOX around the converted value.
 */
#include "fl_ctl.h"

fl_value fl_jit_call(const fl_fndesc *desc, int64_t nfree, uint64_t selfmask, uint64_t boxmask,
                     int64_t argc, fl_value *argv, int64_t depth) {
    fl_closure *clo = fl_alloc((int64_t)sizeof(fl_closure) + nfree * (int64_t)sizeof(fl_value));
    clo->hdr = fl_hdr_make(FL_T_CLOSURE, 0, (uint64_t)nfree);
    clo->desc = desc;
    for (int64_t i = 0; i < nfree; i++) {
        bool self = i < 64 && (selfmask >> i) & 1;
        if (self || (i < 64 && (boxmask >> i) & 1)) {
            fl_box *box = fl_alloc((int64_t)sizeof(fl_box));
            box->hdr = fl_hdr_make(FL_T_BOX, 0, 0);
            box->value = self ? fl_from_ptr(clo) : argv[argc + i];
            clo->free[i] = fl_from_ptr(box);
        } else {
            clo->free[i] = argv[argc + i];
        }
    }
    argv[argc + nfree] = fl_from_ptr(clo); /* rooted while it runs */
    fl_rt_depth = depth;
    fl_rt_site = -1;
    return fl_ctl.shim(fl_from_ptr(clo), argc, argv);
}

/* Ctrl-C requested while native code was returning to the VM: the VM raises KeyboardInterrupt
 * itself, so the request is consumed here (1) and later native calls run normally. */
int64_t fl_jit_take_interrupt(void) {
    if (!fl_ctl_interrupt_requested()) return 0;
    fl_ctl_take_interrupt();
    fl_ctl_reset_pending();
    return 1;
}

/* On-stack replacement at a `while` back edge (fluentai/jit/osr.py, fluentai/llvm/osr.py): run
 * the loop's OSR entry on its outer variables (`vars`, fl_alloc_roots memory) in the frame of
 * the VM's function at call depth `depth`. Returns nil, or 0 with a condition pending; either
 * way `vars` holds the values of the variables the loop may assign. */
fl_value fl_jit_osr(fl_value (*entry)(fl_value *), fl_value *vars, int64_t depth) {
    fl_rt_depth = depth;
    fl_rt_site = -1;
    return entry(vars);
}
