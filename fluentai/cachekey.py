"""Code cache keys and places, importable without the rest of the compiler.

A warm `fluentai run` (fluentai/launch.py) computes a key and finds a program image before
anything else is imported, so this module uses only `os` and `sys`, and a BLAKE2b hash taken
from CPython's `_blake2` module when it exists: `hashlib` loads OpenSSL, which costs milliseconds
at start-up. hashlib's `blake2b` is the same function.

A key hashes the compiler digest, the CPU id, FLUENTAI_CACHE_SALT and the caller's parts (source
name and text, options, tier). The compiler digest hashes the *content* of the compiler's sources
(DESIGN.md §7.8). Rehashing about a megabyte of files at every start costs milliseconds, so the
digest is remembered in the cache directory next to a stamp of those files' stat data: path,
size, inode, mtime and ctime (ctime changes on every write, whatever mtime says). A file whose
stat data are unchanged has its content unchanged, as build tools assume; any change means a
full rehash.
"""

from __future__ import annotations

import os
import sys

try:
    from _blake2 import blake2b as _blake2b
except ImportError:  # another Python implementation
    from hashlib import blake2b as _blake2b

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
RUNTIME_DIR = os.path.join(PACKAGE_DIR, "runtime")
# Parts of the package that no compiled code depends on (directories and top-level files).
_UNRELATED = frozenset({"bench", "__pycache__", "_build"})
_UNRELATED_FILES = frozenset(
    {"__main__.py", "cli.py", "gen.py", "highlight.py", "repl.py", "launch.py"}
)
_SOURCES = (".py", ".fl", ".h")

_memo: dict[str, str] = {}


def cache_dir() -> str:
    """Where compiled code is cached: $FLUENTAI_CACHE_DIR, else $XDG_CACHE_HOME/fluentai, else
    ~/.cache/fluentai (DESIGN.md §7.8)."""
    explicit = os.environ.get("FLUENTAI_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fluentai")


def enabled() -> bool:
    """FLUENTAI_CACHE=0 (or `--no-cache`) turns the code cache off."""
    return os.environ.get("FLUENTAI_CACHE", "1") != "0"


def hexdigest(*parts: bytes | str) -> str:
    """The hash of `parts` (each followed by a NUL byte), in hex."""
    h = _blake2b(digest_size=20)
    for part in parts:
        h.update(part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def key(*parts: str) -> str:
    """The cache key of a unit (40 hex digits)."""
    salt = os.environ.get("FLUENTAI_CACHE_SALT", "")
    return hexdigest(compiler_digest(), cpu_id(), salt, *parts)


def _stamped_digest(name: str, files: list[str], extra: str) -> str:
    """The content hash of `files` (absolute paths) and `extra`, remembered under `name` in the
    cache directory against the files' stat data (see the module docstring)."""
    stamp_parts: list[str] = [extra]
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            stamp_parts.append(f"{path} missing")
            continue
        stamp_parts.append(f"{path} {st.st_size} {st.st_ino} {st.st_mtime_ns} {st.st_ctime_ns}")
    stamp = hexdigest(*stamp_parts)
    memo_path = os.path.join(cache_dir(), f"{name}.digest")
    try:
        with open(memo_path, encoding="utf-8") as f:
            saved_stamp, _, saved = f.read().partition(" ")
        if saved_stamp == stamp and len(saved) == 40:
            return saved
    except (OSError, ValueError):
        pass
    h = _blake2b(digest_size=20)
    for path in files:
        h.update(os.path.relpath(path, PACKAGE_DIR).replace(os.sep, "/").encode())
        h.update(b"\0")
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError:
            h.update(b"missing")
        h.update(b"\0")
    h.update(extra.encode())
    digest = h.hexdigest()
    if enabled():
        tmp = os.path.join(cache_dir(), f"tmp.{os.getpid()}.{name}.digest")
        try:
            os.makedirs(cache_dir(), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(f"{stamp} {digest}")
            os.replace(tmp, memo_path)
        except OSError:
            pass  # a read-only cache costs a rehash per run
    return digest


def write_atomic(path: str, data: bytes) -> None:
    """Write a cache file so readers never see half of it (a `tmp.` name the code cache trims
    if its writer dies, then a rename); a read-only or full cache only costs time."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f"tmp.{os.getpid()}.{os.urandom(6).hex()}.{name}")
    try:
        os.makedirs(directory, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def touch(path: str) -> None:
    """A used cache file is recent for the code cache's least-recently-used trimming."""
    try:
        os.utime(path)
    except OSError:
        pass


def compiler_digest() -> str:
    """Hash of everything that decides the object code besides the program: the compiler's
    sources (the whole package but the command line, REPL, generators and benchmark harness: the
    front end, the passes and the VM's constant folding shape what is lowered), the prelude, the
    runtime's headers, llvmlite's version and the Python/platform ABI."""
    if "compiler" not in _memo:
        files: list[str] = []
        for directory, dirs, names in os.walk(PACKAGE_DIR):
            dirs[:] = sorted(d for d in dirs if d not in _UNRELATED)
            top = directory == PACKAGE_DIR
            files.extend(
                os.path.join(directory, n)
                for n in sorted(names)
                if n.endswith(_SOURCES) and not (top and n in _UNRELATED_FILES)
            )
        version = _llvmlite_version_file()
        if version is not None:
            files.append(version)
        abi = f"{sys.platform} {machine()} {sys.implementation.cache_tag}"
        _memo["compiler"] = _stamped_digest("compiler", files, abi)
    return _memo["compiler"]


def runtime_digest(flags: str) -> str:
    """Hash of the C runtime's sources (its extension's too, runtime/ext) and build flags: the
    name of its build directory."""
    if "runtime" not in _memo:
        files = [
            os.path.join(directory, n)
            for directory in (RUNTIME_DIR, os.path.join(RUNTIME_DIR, "ext"))
            for n in sorted(os.listdir(directory))
            if n.endswith((".c", ".h"))
        ]
        _memo["runtime"] = _stamped_digest("runtime", files, flags)[:16]
    return _memo["runtime"]


def _llvmlite_version_file() -> str | None:
    """llvmlite's generated `_version.py` (its release and revision), found on sys.path without
    importing llvmlite or importlib."""
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "llvmlite", "_version.py")
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def machine() -> str:
    try:
        return os.uname().machine
    except AttributeError:  # not POSIX
        import platform

        return platform.machine()


def cpu_id() -> str:
    """This CPU (the object code is compiled for the host CPU), without llvmlite: on Linux a hash
    of /proc/cpuinfo's first model and feature lines, else the machine and processor names."""
    if "cpu" in _memo:
        return _memo["cpu"]
    wanted = ("model name", "flags", "features", "cpu implementer", "cpu part", "cpu model")
    found: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                name, sep, value = line.partition(":")
                name = name.strip().lower()
                if sep and name in wanted and name not in found:
                    found[name] = value.strip()
                if not line.strip() and found:
                    break  # the first processor's block is enough
    except OSError:
        pass
    text = machine() + "\n" + "\n".join(f"{k}={found[k]}" for k in sorted(found))
    if not found:
        import platform

        text += "\n" + platform.processor()
    _memo["cpu"] = hexdigest(text)[:16]
    return _memo["cpu"]
