"""The JIT's compilation unit: the whole program lowered in JIT mode, its object code cached on
disk with what the VM needs to enter it (DESIGN.md §7.3, §7.8).

    lib, meta = build_unit(src, stats, log)     # on the compile thread
    lib.address("fl_jit_init")

`meta` holds the descriptors of the program's lambdas with their spans and names (how VM codes
find their native twins), the globals' cells, constructor ids, exported builtin closures and the
site table with spans (native traces). A cache hit needs no lowering.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from fluentai import cachekey
from fluentai.source import SourceFile


def jit_opt() -> int:
    """LLVM optimization level of tier-1 units (FLUENTAI_JIT_OPT, default 1: a cheap pipeline;
    tests use 0)."""
    text = os.environ.get("FLUENTAI_JIT_OPT", "1")
    return int(text) if text in ("0", "1", "2", "3") else 1


def tier2_opt() -> int:
    """LLVM optimization level of tier-2 units (FLUENTAI_JIT_TIER2_OPT, default 2)."""
    text = os.environ.get("FLUENTAI_JIT_TIER2_OPT", "2")
    return int(text) if text in ("0", "1", "2", "3") else 2


Seeds = dict[str, tuple[tuple[str, ...] | None, ...]]
"""Tier 2: known function -> the kinds each parameter is specialized on (None: any kind)."""

Targets = dict[str, list[list[Any]]]
"""Tier 2's inline caches: a call site's span `"START:END"` -> the functions the VM saw it call,
most called first, each `[START, END, NAME]` (llvm/lower.py `CallTargets`)."""


def _seeds_json(seeds: Seeds) -> dict[str, list[list[str] | None]]:
    """`seeds` as JSON data (the cache key, the tier-2 record, the unit's meta)."""
    return {n: [list(k) if k else None for k in g] for n, g in seeds.items()}


def seed_types(seeds: Seeds) -> dict[str, tuple[Any, ...]]:
    """The inference's seeds (types/infer.py) for `seeds`."""
    from fluentai.types.lattice import ANY, join, kind

    out: dict[str, tuple[Any, ...]] = {}
    for name, params in seeds.items():
        types = []
        for kinds in params:
            t = ANY
            if kinds is not None:
                t = kind(kinds[0])
                for k in kinds[1:]:
                    t = join(t, kind(k))
            types.append(t)
        out[name] = tuple(types)
    return out


def _meta(lowered: Any) -> dict[str, Any]:
    return {
        "sites": [[s.where, s.fn] for s in lowered.sites],
        "site_spans": [list(x) if x is not None else None for x in lowered.site_spans],
        "lambdas": _lambda_rows(lowered),
        "globals_index": lowered.globals_index,
        "ctor_ids": lowered.ctor_ids,
        "builtin_closures": lowered.builtin_closures,
        "osr": osr_rows(lowered.osr),
    }


def osr_rows(infos: list[Any]) -> list[list[Any]]:
    """The meta's `osr` table: the OSR entries of `while` loops (fluentai/llvm/osr.py)."""
    return [[x.symbol, x.start, x.end, x.fn, list(x.names)] for x in infos]


def _lambda_rows(lowered: Any) -> list[list[Any]]:
    return [[x.desc_symbol, x.start, x.end, x.name, list(x.free)] for x in lowered.lambdas]


def jit_prelude() -> tuple[bytes, dict[str, Any]]:
    """The prelude's unit for JIT units (its lambdas' descriptors exported) and its lambda
    table: compiled once per compiler, then read from the code cache."""
    import json  # here and below, not at import time: most runs find no unit

    from fluentai import codecache, native

    k = codecache.key("prelude", "jit", "O2", "generic")
    obj_path = codecache.cache_dir() / f"prelude-jit-{k}.o"
    json_path = codecache.cache_dir() / f"prelude-jit-{k}.json"
    if codecache.enabled():
        try:
            info = json.loads(json_path.read_text(encoding="utf-8"))
            return obj_path.read_bytes(), info
        except (OSError, ValueError):
            pass
    from fluentai.llvm.engine import compiler
    from fluentai.llvm.lower import lower_prelude

    lowered = native._on_big_stack(lambda: lower_prelude(native._prelude(), jit=True))
    obj = compiler().object_code(str(lowered.module), 2)
    info = {"lambdas": _lambda_rows(lowered), "builtins": lowered.builtin_closures}
    if codecache.enabled():
        cachekey.write_atomic(str(obj_path), obj)
        cachekey.write_atomic(str(json_path), json.dumps(info).encode("utf-8"))
    return obj, info


def _key(src: SourceFile, seeds: Seeds | None = None, targets: Targets | None = None) -> str:

    if seeds is None:
        return cachekey.key(src.name, src.text, "jit", f"O{jit_opt()}")
    import json

    text = json.dumps(sorted(_seeds_json(seeds).items()))
    if targets:
        text += json.dumps(sorted(targets.items()))
    return cachekey.key(src.name, src.text, "jit", f"O{tier2_opt()}", "tier2", text)


def _load(key: str, stats: Any, log: Callable[[str], None]) -> Any:
    # a miss (every run of a program not hot before) costs one stat: not even the code cache's
    # module is imported (codecache.exists, without the import)
    if not (
        cachekey.enabled() and os.path.isfile(os.path.join(cachekey.cache_dir(), key + ".json"))
    ):
        return None
    from fluentai import codecache
    from fluentai.runtime import ffi

    ffi.runtime()  # the unit's references to the runtime resolve against the loaded library
    t0 = time.perf_counter()
    unit = codecache.load(key)
    if unit is not None:
        stats.cached = True
        stats.link_ms = (time.perf_counter() - t0) * 1000
        stats.functions = len(unit.meta["lambdas"])
        log("object code from the cache")
    return unit


def _record_path(src: SourceFile) -> Any:
    from fluentai import codecache

    return codecache.cache_dir() / f"tier2-{_key(src)}.json"


def remember_tier2(
    src: SourceFile,
    seeds: Seeds,
    spans: dict[str, tuple[int, int]],
    targets: Targets | None = None,
) -> None:
    """Note in the code cache which tier-2 unit this run installed last: the next run of the
    program installs it before it starts (`load_remembered_tier2`)."""
    import json

    from fluentai import codecache

    if not codecache.enabled():
        return
    record: dict[str, Any] = {
        "seeds": _seeds_json(seeds),
        "spans": {n: list(v) for n, v in spans.items()},
        "targets": targets or {},
    }
    try:
        cachekey.write_atomic(str(_record_path(src)), json.dumps(record).encode("utf-8"))
    except OSError:
        pass


def load_remembered_tier2(
    src: SourceFile, stats: Any, log: Callable[[str], None]
) -> tuple[Any, dict[str, Any], Seeds, dict[str, tuple[int, int]]] | None:
    """The tier-2 unit an earlier run of this program installed last, from the code cache, with
    its seeds and their spans; None when there is none."""
    if not cachekey.enabled():
        return None
    path = os.path.join(cachekey.cache_dir(), f"tier2-{_key(src)}.json")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        import json

        record = json.loads(text)
        seeds: Seeds = {
            n: tuple(tuple(k) if k else None for k in g) for n, g in record["seeds"].items()
        }
        spans = {n: (int(v[0]), int(v[1])) for n, v in record["spans"].items()}
        targets: Targets = record.get("targets") or {}
        if not isinstance(targets, dict):
            return None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    unit = _load(_key(src, seeds, targets), stats, log)
    if unit is None:
        return None
    return unit, unit.meta, seeds, spans


def load_cached(
    src: SourceFile, stats: Any, log: Callable[[str], None], seeds: Seeds | None = None
) -> tuple[Any, dict[str, Any]] | None:
    """The unit from the code cache, or None (compile it with build_unit)."""
    unit = _load(_key(src, seeds), stats, log)
    return (unit, unit.meta) if unit is not None else None


def _applied(prelude: Any, program: Any, seeds: Seeds, spans: dict[str, tuple[int, int]]) -> Seeds:
    """The seeds the inference applies: known functions of fixed arity (by global name) that
    are the VM's functions of that name (same span)."""
    from fluentai.types.infer import find_known_functions

    known = find_known_functions(prelude, program)
    out: Seeds = {}
    for name, guard in seeds.items():
        fn = known.get(name)
        if fn is None or fn.rest is not None or len(fn.params) != len(guard):
            continue
        if spans.get(name) != (fn.span.start, fn.span.end):
            continue
        out[name] = guard
    return out


def build_unit(
    src: SourceFile,
    stats: Any,
    log: Callable[[str], None],
    seeds: Seeds | None = None,
    spans: dict[str, tuple[int, int]] | None = None,
    targets: Targets | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Load the program's JIT unit from the code cache, or compile, store and load it. A hit
    imports neither llvmlite nor the lowering. `seeds` (with the functions' `spans`): a tier-2
    unit, those known functions specialized on the argument kinds the VM saw, compiled at
    `tier2_opt()`; `meta["tier2_seeds"]` holds the seeds it applied. `targets`: the call sites
    the unit gives inline caches (`meta["inline_caches"]`: how many it made); they are not part
    of a tier-1 unit's key (any of them is correct, and the next run's profile may differ)."""
    from fluentai import codecache

    key = _key(src, seeds, targets)
    t0 = time.perf_counter()
    unit = _load(key, stats, log)
    if unit is None:
        from fluentai import native
        from fluentai.jit.policy import uses_state
        from fluentai.llvm.engine import compiler
        from fluentai.llvm.lower import lower_program

        prelude = native._prelude()
        program = native._on_big_stack(lambda: native.resolve(src, is_prelude=False))
        applied = _applied(prelude, program, seeds, spans or {}) if seeds is not None else {}
        typed = seed_types(applied) if applied else None
        lowered = native._on_big_stack(
            lambda: lower_program(prelude, program, jit=True, seeds=typed, call_targets=targets)
        )
        stats.lower_ms = (time.perf_counter() - t0) * 1000
        meta = _meta(lowered)
        meta["uses_state"] = uses_state(program)
        meta["inline_caches"] = lowered.inline_caches
        if seeds is not None:
            meta["tier2_seeds"] = _seeds_json(applied)
        engine = compiler()
        opt = jit_opt() if seeds is None else tier2_opt()
        obj = engine.object_code(str(lowered.module), opt, host_cpu=True, bounded=True)
        times = engine.times
        stats.compile_ms = times.parse_ms + times.optimize_ms + times.codegen_ms
        t_prelude = time.perf_counter()
        prelude_obj, prelude_info = jit_prelude()
        stats.prelude_ms = (time.perf_counter() - t_prelude) * 1000
        meta["prelude_lambdas"] = prelude_info["lambdas"]
        meta["prelude_builtins"] = prelude_info["builtins"]
        from fluentai.runtime import ffi

        ffi.runtime()  # loaded (RTLD_GLOBAL) before the unit, which refers to it
        t1 = time.perf_counter()
        unit = codecache.store(key, [obj, prelude_obj], meta, trim_now=False)  # Jit trims
        if unit is None:
            raise RuntimeError("no C compiler to link the unit")
        stats.link_ms = (time.perf_counter() - t1) * 1000
        log(
            f"compiled{'' if seeds is None else ' tier 2'}: {len(meta['lambdas'])} functions "
            f"in {stats.lower_ms + stats.compile_ms:.0f} ms (O{opt})"
        )
    stats.functions = len(unit.meta["lambdas"])
    return unit, unit.meta
