"""The on-disk code cache (DESIGN.md §7.8): compiled units as shared libraries, loaded with ctypes,
so that a warm run never imports llvmlite.

    k = key(src.name, src.text, "O2", "native")     # compiler, CPU and salt are mixed in
    unit = load(k)                                   # a hit: dlopen <k>.so; None on a miss
    if unit is None:
        unit = store(k, [program_obj, prelude_obj], {"symbols": [...]})  # link, commit, load
    main = unit.address("fl_program_main")

An entry is `<key>.so` (the objects linked with `cc -shared -Wl,-Bsymbolic`; they are
position-independent and leave the runtime's symbols undefined, resolved at `dlopen` against the
runtime, which `fluentai.runtime.ffi` loads with RTLD_GLOBAL) and `<key>.json` (the caller's
metadata and the key). Each is written to `tmp.<random>...` and `os.replace`d; the `.json` goes
last and is the commit mark, so a missing, unreadable or mismatched `.json` is a miss. Loading an
entry touches it; `store` trims the cache to 512 MiB, least recently used first.

Keys and the cache's place come from fluentai/cachekey.py (importable on its own, for warm
starts). The cache lives in $FLUENTAI_CACHE_DIR, else $XDG_CACHE_HOME/fluentai, else ~/.cache/fluentai.
FLUENTAI_CACHE=0 (`fluentai run --no-cache`) disables it: `store` then links into a temporary
directory and loads from there, and `load` always misses. FLUENTAI_CACHE_SALT is mixed into every
key. This module imports neither llvmlite nor `fluentai.llvm`.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import time
from typing import TYPE_CHECKING, Any

from fluentai import cachekey

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_LIMIT",
    "Unit",
    "cache_dir",
    "clear",
    "compiler_digest",
    "cpu_id",
    "enabled",
    "info",
    "key",
    "load",
    "store",
    "trim",
    "trim_if_due",
]

DEFAULT_LIMIT = 512 << 20  # bytes (DESIGN.md §7.8)
_STALE_TMP_SECONDS = 3600  # a tmp file this old belongs to a writer that died


def cache_dir() -> Path:
    """Where compiled code is cached: $FLUENTAI_CACHE_DIR, else $XDG_CACHE_HOME/fluentai, else
    ~/.cache/fluentai (DESIGN.md §7.8)."""
    from pathlib import Path

    return Path(cachekey.cache_dir())


enabled = cachekey.enabled
key = cachekey.key
compiler_digest = cachekey.compiler_digest
cpu_id = cachekey.cpu_id


class Unit:
    """A loaded entry: its code's addresses and its metadata. The library stays mapped until
    `unload` (ctypes itself never unloads a CDLL)."""

    def __init__(self, lib: ctypes.CDLL, path: Path, meta: dict[str, Any], *, cached: bool):
        self.lib: ctypes.CDLL | None = lib
        self.path = path  # where it was loaded from (gone already for a temporary unit)
        self.meta = meta
        self.cached = cached  # loaded from an existing entry (not stored in this process)

    def address(self, symbol: str) -> int:
        """The address of `symbol` (names may contain dots, e.g. `fl.prelude.fn.map`)."""
        if self.lib is None:
            raise KeyError(f"{symbol} (the unit is unloaded)")
        try:
            return ctypes.addressof(ctypes.c_char.in_dll(self.lib, symbol))
        except ValueError:
            raise KeyError(symbol) from None

    def unload(self) -> None:
        """Close this load of the library (`dlclose`): its mapping goes when no other load of
        the same file holds it. The caller guarantees that none of its code can run again and
        that nothing reads its memory (the JIT's `_evict`)."""
        import _ctypes

        lib = self.lib
        if lib is None:
            return
        self.lib = None
        if self in _units:
            _units.remove(self)
        _ctypes.dlclose(lib._handle)

    def __repr__(self) -> str:
        return f"Unit({self.path.name!r}, cached={self.cached})"


_units: list[Unit] = []  # every unit loaded and not unloaded


def _paths(k: str) -> tuple[str, str]:
    d = cachekey.cache_dir()
    return os.path.join(d, f"{k}.so"), os.path.join(d, f"{k}.json")


def _is_key(k: str) -> bool:
    return bool(k) and all(c in "0123456789abcdef" for c in k)


def exists(k: str) -> bool:
    """Whether the cache holds a committed entry for key `k` (cheap: one stat, nothing loaded)."""
    return enabled() and _is_key(k) and os.path.isfile(_paths(k)[1])


def load(k: str) -> Unit | None:
    """The entry for key `k`, dlopened; None on a miss (no entry, an uncommitted or damaged one,
    the cache disabled)."""
    if not enabled() or not _is_key(k):
        return None
    from pathlib import Path

    so_path, json_path = _paths(k)
    try:
        with open(json_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("key") != k:
        return None
    try:
        lib = ctypes.CDLL(so_path)
    except OSError:
        return None
    now = time.time()
    for path in (so_path, json_path):
        try:
            os.utime(path, (now, now))
        except OSError:
            pass
    unit = Unit(lib, Path(so_path), meta, cached=True)
    _units.append(unit)
    return unit


def _tmp_name(suffix: str) -> str:
    return f"tmp.{os.getpid()}.{os.urandom(6).hex()}{suffix}"


def _link(objects: list[bytes], output: str) -> None:
    """Link `objects` into the shared object `output`: with the system linker directly when the
    runtime build found it (fluentai/runtime/layout.py, `unit_linker`), else (or should that
    fail) `cc -shared -Wl,-Bsymbolic`. The objects are written beside `output` for the link.
    Raises OSError when linking fails.

    A first run's image is linked on its critical path, by a process that imports little else:
    this takes no `pathlib`, `subprocess`, `tempfile` or `shutil` (about 19 ms of imports in
    the image compiler process) unless the C compiler's driver must link."""
    from fluentai.runtime.layout import UNIT_LINK_FLAGS, unit_linker

    workdir = os.path.dirname(output)
    names = []
    try:
        for obj in objects:
            names.append(os.path.join(workdir, _tmp_name(".o")))
            with open(names[-1], "wb") as f:
                f.write(obj)
        direct = unit_linker()
        if direct is not None:
            ld, libgcc = direct
            cmd = [ld, *UNIT_LINK_FLAGS, "-o", output, *names, libgcc]
            if _run_linker(cmd, workdir) is None:
                return
        from fluentai.runtime.build import BuildError, compiler

        try:
            cc = compiler()
        except BuildError as err:
            raise OSError(str(err)) from err
        cmd = [cc, "-shared", "-Wl,-Bsymbolic", "-o", output, *names]
        message = _run_linker(cmd, workdir)
    finally:
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                pass
    if message is not None:
        raise OSError(f"linking failed: {' '.join(cmd)}\n{message}")


def prepare_link() -> None:
    """Do now what the first link would (finding the linker): the image compiler process calls
    this while it waits, so its link after LLVM is only `ld`."""
    from fluentai.runtime.layout import unit_linker

    unit_linker()


def _run_linker(cmd: list[str], workdir: str) -> str | None:
    """Run a link (`posix_spawnp`, its standard output discarded, its standard error kept in a
    file in `workdir`); None when it succeeded, else its error output (or why it could not
    start)."""
    errors = os.path.join(workdir, _tmp_name(".err"))
    try:
        # one blocking wait: on the JIT's compile thread this releases the GIL once
        pid = os.posix_spawnp(
            cmd[0],
            cmd,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            ],
        )
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])  # retried through signals
        with open(errors, "rb") as f:
            message = f.read().decode("utf-8", "replace")
    except OSError as err:
        return str(err)
    finally:
        try:
            os.unlink(errors)
        except OSError:
            pass
    if status == 0:
        return None
    return message or f"`{cmd[0]}` ended with status {status if status > 0 else 128 - status}"


def _store_in_cache(k: str, objects: list[bytes], meta: dict[str, Any]) -> Unit:
    from pathlib import Path

    so_path = _commit(k, objects, meta)
    unit = Unit(ctypes.CDLL(so_path), Path(so_path), {**meta, "key": k}, cached=False)
    _units.append(unit)
    return unit


def put(k: str, objects: list[bytes], meta: dict[str, Any]) -> bool:
    """Link `objects` into the entry for key `k` without loading it (an entry for a later run;
    the caller trims the cache); False when the cache is disabled or cannot be written."""
    if not (enabled() and _is_key(k)):
        return False
    try:
        _commit(k, objects, meta)
    except OSError:
        return False
    return True


def _commit(k: str, objects: list[bytes], meta: dict[str, Any]) -> str:
    """Link and commit the entry `k`; returns the path of its shared object."""
    d = cachekey.cache_dir()
    os.makedirs(d, exist_ok=True)
    so_path, json_path = _paths(k)
    so_tmp = os.path.join(d, _tmp_name(".so"))
    json_tmp = os.path.join(d, _tmp_name(".json"))
    try:
        _link(objects, so_tmp)
        os.replace(so_tmp, so_path)
        with open(json_tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps({**meta, "key": k}, sort_keys=True))
        os.replace(json_tmp, json_path)  # the commit mark goes last
    finally:
        for tmp in (so_tmp, json_tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return so_path


def _store_temporary(k: str, objects: list[bytes], meta: dict[str, Any]) -> Unit:
    """Link into a temporary directory, load, delete the file (the mapping stays)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="flunit-") as tmp:
        path = Path(tmp) / f"{k or 'unit'}.so"
        _link(objects, str(path))
        lib = ctypes.CDLL(str(path))
    unit = Unit(lib, path, {**meta, "key": k}, cached=False)
    _units.append(unit)
    return unit


def store(
    k: str, objects: list[bytes], meta: dict[str, Any], *, trim_now: bool = True
) -> Unit | None:
    """Link `objects` (position-independent) into the entry for key `k`, commit it, trim the
    cache (unless the caller trims later: a trim scans every file of the cache) and load the
    entry. With the cache disabled or not writable the unit is linked in a temporary directory
    instead. None when the objects could not be linked or loaded (no C compiler, or a
    resource ran out): `last_failure` says why."""
    global last_failure
    if enabled() and _is_key(k):
        try:
            unit = _store_in_cache(k, objects, meta)
        except OSError:
            pass  # read-only or full cache: costs only time
        else:
            if trim_now:
                trim_if_due()
            return unit
    try:
        return _store_temporary(k if _is_key(k) else "unit", objects, meta)
    except OSError as err:
        last_failure = (err.strerror or str(err) or type(err).__name__).splitlines()[0]
        return None


last_failure = ""  # why the last `store` returned None (its first line)


# The names of the cache's own files, and nothing else: `cache clear` and the trim must never
# delete a file of a user's who pointed FLUENTAI_CACHE_DIR at a shared directory.
_KEY = r"[0-9a-f]{40}"
_OWN_FILE = re.compile(
    rf"(?:(?:prelude|prelude-core|prelude-jit|tier2)-)?{_KEY}\.(?:so|json|o|pickle)"  # entries
    rf"|{_KEY}\.building"  # the mark of an image compiler at work (fluentai/imageproc.py)
    r"|(?:compiler|runtime)\.digest"  # digest memos (fluentai/cachekey.py)
    r"|last-trim\.stamp"
    # a writer's temporary file: codecache._tmp_name, cachekey.write_atomic and the memos
    rf"|tmp\.[0-9]+\.(?:[0-9a-f]{{12}}(?:\.(?:so|json|o|err)|\.(?:(?:prelude|prelude-core|prelude-jit"
    rf"|tier2)-)?{_KEY}\.(?:so|json|o|pickle))|(?:compiler|runtime)\.digest)"
)


def is_own_file(name: str) -> bool:
    """Whether `name` is one the cache writes (an entry, a temporary file, a memo, a mark)."""
    return _OWN_FILE.fullmatch(name) is not None


def _files() -> list[os.DirEntry[str]]:
    """The cache's own files (entries, tmp files, older versions' objects, the digest memos of
    fluentai/cachekey.py, the resolved prelude of fluentai/prelude_cache.py, the trim stamp,
    the marks of image compilers at work), never anything else a shared directory may hold."""
    try:
        with os.scandir(cache_dir()) as it:
            return [e for e in it if e.is_file(follow_symlinks=False) and is_own_file(e.name)]
    except OSError:
        return []


TRIM_EVERY_S = 60.0  # `trim_if_due`: at most one trim a minute
_TRIM_STAMP = "last-trim.stamp"  # in the cache directory (not an entry: never trimmed itself)


def trim_if_due() -> None:
    """Trim the cache unless it was trimmed less than TRIM_EVERY_S ago (by any process): a
    trim scans every file of the cache, 130 ms for a cache of 8000 files, which a run that just
    stored an entry would otherwise pay every time. The budget may be overrun for a minute."""
    stamp = os.path.join(cachekey.cache_dir(), _TRIM_STAMP)
    try:
        if time.time() - os.stat(stamp).st_mtime < TRIM_EVERY_S:
            return
    except OSError:
        pass  # never trimmed here yet
    try:
        with open(stamp, "w", encoding="ascii"):
            pass  # stamped first: concurrent runs do not all trim
        trim()
    except OSError:
        pass


def trim(limit_bytes: int = DEFAULT_LIMIT) -> tuple[int, int]:
    """Delete least recently used entries until the cache holds at most `limit_bytes`; return
    (files, bytes) deleted. A tmp file or image compiler's mark older than an hour is a dead
    writer's and goes too."""
    from pathlib import Path

    now = time.time()
    groups: dict[str, list[tuple[Path, int, float]]] = {}
    removed_files = removed_bytes = 0
    for e in _files():
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        path = Path(e.path)
        if e.name.startswith("tmp.") or e.name.endswith(".building"):
            # a dead writer's file, or the mark of an image compiler gone (imageproc.Claim)
            if now - st.st_mtime > _STALE_TMP_SECONDS:
                _unlink(path)
                removed_files += 1
                removed_bytes += st.st_size
            continue
        if e.name.endswith((".digest", ".stamp")):
            continue  # a digest memo or the trim stamp, not an entry: a few bytes
        stem = e.name.rsplit(".", 1)[0]
        groups.setdefault(stem, []).append((path, st.st_size, st.st_mtime))
    total = sum(size for files in groups.values() for _, size, _ in files)
    for stem in sorted(groups, key=lambda s: max(m for _, _, m in groups[s])):
        if total <= limit_bytes:
            break
        # The commit mark first: a reader never finds a .json without its .so.
        for path, size, _ in sorted(groups[stem], key=lambda f: f[0].suffix != ".json"):
            if _unlink(path):
                removed_files += 1
                removed_bytes += size
            total -= size
    return removed_files, removed_bytes


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False


def clear() -> tuple[int, int]:
    """Delete every file of the cache; return (files, bytes) deleted."""
    from pathlib import Path

    files = size = 0
    for e in sorted(_files(), key=lambda e: not e.name.endswith(".json")):
        try:
            n = e.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        if _unlink(Path(e.path)):
            files += 1
            size += n
    return files, size


def unwritable() -> str:
    """Why the cache directory cannot take entries ('' when it can): it is made if missing,
    then a file is created in it and removed."""
    d = cache_dir()
    if d.exists() and not d.is_dir():
        return "not a directory"
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / _tmp_name(".json")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        return (err.strerror or str(err)).lower()
    return ""


_warned_unwritable = False


def warn_unwritable(stderr: Any) -> None:
    """Once per process, before code is compiled: when the cache is enabled but cannot take
    entries (a read-only home, a FLUENTAI_CACHE_DIR that is a file), say so on `stderr`: the
    run compiles without it, and nothing it compiles is kept for the next run."""
    global _warned_unwritable
    if _warned_unwritable or not enabled():
        return
    _warned_unwritable = True
    reason = unwritable()
    if reason:
        stderr.write(
            f"fluentai: warning: cannot write the code cache `{cache_dir()}` ({reason}): "
            "compiled code is not kept for the next run (set FLUENTAI_CACHE_DIR, or "
            "FLUENTAI_CACHE=0)\n"
        )
        stderr.flush()


def info() -> dict[str, Any]:
    """The cache's location, number of committed entries, total size in bytes, size limit and
    whether it is enabled."""
    entries = size = 0
    for e in _files():
        try:
            size += e.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        if e.name.endswith(".json") and _is_key(e.name[: -len(".json")]):
            entries += 1  # a committed entry (tmp files and side files of callers not counted)
    return {
        "location": str(cache_dir()),
        "entries": entries,
        "size": size,
        "limit": DEFAULT_LIMIT,
        "enabled": enabled(),
    }
