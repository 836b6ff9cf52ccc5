"""The prelude resolved (front end and passes done), kept in the code cache as a pickle.

Every run needs the prelude: the VM compiles it to bytecode at start-up, the native back end
lowers it. Reading, expanding, resolving and optimizing its source takes about 20 ms; loading the
pickle of the result (about 30 KB, keyed by the compiler's digest) takes about 3 ms. This module
imports only what that needs, so that a VM start pays for no more.

    program = load()        # a fresh RProgram each call (callers may annotate it)
"""

from __future__ import annotations

import os
import pickle
import sys

from fluentai import cachekey
from fluentai.passes import rcore as r


def path() -> str:
    return os.path.join(
        cachekey.cache_dir(), f"prelude-core-{cachekey.key('prelude', 'core')}.pickle"
    )


def load() -> r.RProgram:
    """The resolved prelude: from the code cache when it is there (and enabled), else resolved
    from its source and stored for the next run."""
    where = path() if cachekey.enabled() else None
    if where is not None:
        try:
            with open(where, "rb") as f:
                cached = pickle.load(f)
        except Exception:  # noqa: BLE001 - missing, partial or from another Python: resolve again
            pass
        else:
            if isinstance(cached, r.RProgram):
                cachekey.touch(where)
                return cached
    from fluentai.frontend import prelude_source, resolve_source

    program = resolve_source(prelude_source(), is_prelude=True)
    if where is not None:
        _store(where, program)
    return program


def _store(where: str, program: r.RProgram) -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        data = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
    except RecursionError:
        return
    finally:
        sys.setrecursionlimit(limit)
    cachekey.write_atomic(where, data)
