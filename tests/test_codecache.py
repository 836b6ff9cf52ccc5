"""The on-disk code cache (DESIGN.md §7.8; fluentai/codecache.py) and `--tier native` on top of it.

A warm `fluentai run --tier native` loads the program (linked with the prelude into `<key>.so`) with
the image runner extension (or ctypes) and never imports llvmlite; output and reports are the same cold and warm; a damaged entry
is a miss; `fluentai cache info|clear|path` and `--no-cache` do what their help says; `trim` drops
the least recently used entries. Runs are real subprocesses with a private FLUENTAI_CACHE_DIR, on a
snapshot of the package: every key covers the compiler's sources, so an edit to the working tree
between a cold and a warm run would (rightly) make the warm run a miss.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fluentai import codecache

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120

PROGRAM = textwrap.dedent(
    """\
    (define (square x) (* x x))
    (define (fact n) (if (<= n 1) 1 (* n (fact (- n 1)))))
    (print (map square [1 2 3 4]))
    (print (fact 25) "done")
    """
)
FAILING = '(define (f x) (/ x 0))\n(print "before")\n(print (f 1))\n'

# Runs `fluentai ARGS...` in this interpreter, then writes on stderr which llvmlite and
# fluentai.llvm modules the run imported.
_PROBE = textwrap.dedent(
    """\
    import sys
    from fluentai.cli import main
    try:
        status = main(sys.argv[1:])
    finally:
        sys.stdout.flush()
        loaded = sorted(
            m for m in sys.modules if m.split(".")[0] == "llvmlite" or m.startswith("fluentai.llvm")
        )
        sys.stderr.write("PROBE-IMPORTED:" + ",".join(loaded) + "\\n")
    sys.exit(status)
    """
)


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str  # without the probe's line
    imported: list[str]  # llvmlite / fluentai.llvm modules the run imported


_snapshot: list[Path] = []  # the package copy the subprocesses run (see `snapshot`)


def _env(cache: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    root = _snapshot[-1] if _snapshot else REPO_ROOT
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    if cache is not None:
        env["FLUENTAI_CACHE_DIR"] = str(cache)
    env.update(extra or {})
    return env


def fluentai(*args: str, cwd: Path, cache: Path | None, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(cache, env),
        timeout=TIMEOUT,
    )
    lines = proc.stderr.splitlines(keepends=True)
    assert lines and lines[-1].startswith("PROBE-IMPORTED:"), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    imported = [m for m in lines[-1].strip().split(":", 1)[1].split(",") if m]
    return Run(proc.returncode, proc.stdout, "".join(lines[:-1]), imported)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the package (with its built runtime) for the subprocesses to run."""
    root = tmp_path_factory.mktemp("snapshot")
    shutil.copytree(
        REPO_ROOT / "fluentai", root / "fluentai", ignore=shutil.ignore_patterns("__pycache__")
    )
    _snapshot.append(root)
    yield root
    _snapshot.remove(root)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, snapshot: Path) -> Path:
    """A cache that holds the compiled prelude (compiled once for the module)."""
    d = tmp_path_factory.mktemp("seed-cache")
    work = tmp_path_factory.mktemp("seed-work")
    (work / "seed.fl").write_text("(print 1)\n")
    run = fluentai("run", "--tier", "native", "seed.fl", cwd=work, cache=d)
    assert (run.status, run.stdout) == (0, "1\n"), run
    return d


@pytest.fixture
def cache(tmp_path: Path, seed: Path) -> Path:
    """An empty cache but for the prelude's object."""
    d = tmp_path / "cache"
    d.mkdir()
    for obj in seed.glob("prelude-*.o"):
        shutil.copy(obj, d / obj.name)
    return d


def entries(cache: Path) -> list[str]:
    return sorted(p.stem for p in cache.glob("*.json") if not p.name.startswith("tmp."))


def test_warm_native_run_does_not_import_llvmlite_and_prints_the_same(
    tmp_path: Path, cache: Path
) -> None:
    (tmp_path / "prog.fl").write_text(PROGRAM)
    cold = fluentai("run", "--tier", "native", "--jit-stats", "prog.fl", cwd=tmp_path, cache=cache)
    assert cold.status == 0, cold
    assert "llvmlite" in cold.imported  # the probe sees a compile
    assert "jit: code cache: miss, stored" in cold.stderr
    assert len(entries(cache)) == 1
    warm = fluentai("run", "--tier", "native", "--jit-stats", "prog.fl", cwd=tmp_path, cache=cache)
    assert warm.status == 0, warm
    assert warm.imported == []
    assert "jit: code cache: hit" in warm.stderr
    assert "jit: functions compiled: 0" in warm.stderr
    assert warm.stdout == cold.stdout == "[1 4 9 16]\n15511210043330985984000000 done\n"
    vm = fluentai("run", "--tier", "vm", "prog.fl", cwd=tmp_path, cache=cache)
    assert vm.stdout == warm.stdout


def test_reports_and_exit_status_are_the_same_cold_and_warm(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "prog.fl").write_text(FAILING)
    cold = fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    warm = fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    assert warm.imported == []
    assert cold.status == warm.status == 70
    assert (cold.stdout, cold.stderr) == (warm.stdout, warm.stderr)
    assert "prog.fl:" in warm.stderr


def test_options_and_source_are_part_of_the_key(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "prog.fl").write_text("(+ 1 2)\n(print 7)\n")
    plain = fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    printing = fluentai("run", "--tier", "native", "-p", "prog.fl", cwd=tmp_path, cache=cache)
    assert plain.stdout == "7\n"
    assert printing.stdout == "3\n7\n"  # not the cached code of the plain run
    (tmp_path / "prog.fl").write_text("(+ 1 2)\n(print 8)\n")
    changed = fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    assert changed.stdout == "8\n"
    salted = fluentai(
        "run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache,
        env={"FLUENTAI_CACHE_SALT": "x"},
    )  # fmt: skip
    assert salted.stdout == "8\n" and "llvmlite" in salted.imported
    assert len(entries(cache)) == 4


@pytest.mark.parametrize("damage", ["garbage", "wrong-key", "missing", "missing-so", "bad-so"])
def test_a_damaged_entry_is_a_miss_and_is_compiled_again(
    tmp_path: Path, cache: Path, damage: str
) -> None:
    (tmp_path / "prog.fl").write_text(PROGRAM)
    cold = fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    [key] = entries(cache)
    meta = cache / f"{key}.json"
    if damage == "garbage":
        meta.write_bytes(b"\x00{not json")
    elif damage == "wrong-key":
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "key": "0" * 40}))
    elif damage == "missing":
        meta.unlink()
    elif damage == "bad-so":  # the loader refuses it
        (cache / f"{key}.so").write_bytes(b"\x7fELF not really")
    else:
        (cache / f"{key}.so").unlink()
    again = fluentai("run", "--tier", "native", "--jit-stats", "prog.fl", cwd=tmp_path, cache=cache)
    assert again.status == 0 and again.stdout == cold.stdout
    assert "jit: code cache: miss, stored" in again.stderr
    assert "llvmlite" in again.imported
    assert json.loads(meta.read_text())["key"] == key  # the entry is whole again
    warm = fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    assert warm.imported == [] and warm.stdout == cold.stdout


def test_no_cache_leaves_the_cache_directory_empty(tmp_path: Path, snapshot: Path) -> None:
    (tmp_path / "prog.fl").write_text(PROGRAM)
    d = tmp_path / "cache"
    run = fluentai("run", "--no-cache", "--tier", "native", "prog.fl", cwd=tmp_path, cache=d)
    assert run.status == 0 and run.stdout.startswith("[1 4 9 16]\n"), run
    assert not d.exists() or list(d.iterdir()) == []
    env_off = fluentai(
        "run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=d, env={"FLUENTAI_CACHE": "0"}
    )
    assert env_off.stdout == run.stdout
    assert not d.exists() or list(d.iterdir()) == []


def test_cache_path_info_and_clear(tmp_path: Path, cache: Path) -> None:
    path = fluentai("cache", "path", cwd=tmp_path, cache=cache)
    assert (path.status, path.stdout) == (0, f"{cache}\n")
    assert path.imported == []
    (tmp_path / "prog.fl").write_text(PROGRAM)
    fluentai("run", "--tier", "native", "prog.fl", cwd=tmp_path, cache=cache)
    info = fluentai("cache", "info", cwd=tmp_path, cache=cache)
    assert info.status == 0
    lines = info.stdout.splitlines()
    assert lines[0] == f"location: {cache}"
    assert lines[1] == "entries: 1"
    total = sum(p.stat().st_size for p in cache.iterdir())
    assert lines[2].startswith("size: ") and f"({total} bytes;" in lines[2]
    files = len(list(cache.iterdir()))  # the prelude's object and the entry's .so and .json
    cleared = fluentai("cache", "clear", cwd=tmp_path, cache=cache)
    assert cleared.status == 0
    assert cleared.stdout.startswith(f"removed {files} files (")
    assert list(cache.iterdir()) == []
    after = fluentai("cache", "info", cwd=tmp_path, cache=cache)
    assert after.stdout.splitlines()[1:3] == [
        "entries: 0",
        "size: 0.0 KiB (0 bytes; limit 512.0 MiB)",
    ]


def test_clear_leaves_files_that_are_not_the_caches_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path))
    mine = ["notes.txt", "a.so", "a.json", "lib.o", "data.pickle", "x.stamp", "tmp.1.notes.txt"]
    for name in mine:
        (tmp_path / name).write_text("mine")
    (tmp_path / f"{'a' * 40}.so").write_bytes(b"x" * 10)
    (tmp_path / f"{'a' * 40}.json").write_text("{}")
    (tmp_path / "compiler.digest").write_text("1234")
    assert codecache.clear() == (3, 16)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(mine)
    assert codecache.trim(limit_bytes=0) == (0, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(mine)


def _entry(d: Path, key: str, size: int, mtime: float) -> None:
    for suffix, n in ((".so", size), (".json", 10)):
        path = d / f"{key}{suffix}"
        path.write_bytes(b"x" * n)
        os.utime(path, (mtime, mtime))


def test_trim_removes_the_least_recently_used_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path))
    base = 1_700_000_000.0
    a, b, c, d, e = (letter * 40 for letter in "abcde")
    for i, key in enumerate([a, b, c, d]):
        _entry(tmp_path, key, 1000, base + i * 100)
    (tmp_path / "tmp.1.0123456789ab.so").write_bytes(b"x" * 5)  # a dead writer's
    os.utime(tmp_path / "tmp.1.0123456789ab.so", (base, base))
    (tmp_path / f"{e}.building").write_text("1")  # the mark of an image compiler long gone
    os.utime(tmp_path / f"{e}.building", (base, base))
    (tmp_path / f"{d}.building").write_text("2")  # ... and of one at work now
    (tmp_path / "notes.txt").write_text("mine")
    files, size = codecache.trim(limit_bytes=2101)
    assert (files, size) == (6, 2 * 1010 + 5 + 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{c}.json",
        f"{c}.so",
        f"{d}.building",
        f"{d}.json",
        f"{d}.so",
        "notes.txt",
    ]
    assert codecache.trim(limit_bytes=2101) == (0, 0)
    info = codecache.info()
    assert (info["entries"], info["size"]) == (2, 2021)


def test_loading_an_entry_makes_it_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`load` touches the entry, so `trim` keeps it over a newer one that is not used."""
    obj = _object(tmp_path, "long fl_marker = 7;\n")
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "c"))
    old = codecache.key("old")
    assert codecache.store(old, [obj], {}) is not None
    # the entry's files (the cache's digest memos are not entries, and trimming skips them)
    size = sum(p.stat().st_size for p in (tmp_path / "c").iterdir() if p.suffix != ".digest")
    for p in (tmp_path / "c").iterdir():
        os.utime(p, (1_000_000_000, 1_000_000_000))
    _entry(tmp_path / "c", "e" * 40, 10, 1_500_000_000)
    assert codecache.load(old) is not None
    codecache.trim(limit_bytes=size)
    assert entries(tmp_path / "c") == [old]


def _object(tmp_path: Path, c_source: str) -> bytes:
    from fluentai.runtime.build import BuildError, compiler

    try:
        cc = compiler()
    except BuildError:
        pytest.skip("no C compiler")
    (tmp_path / "unit.c").write_text(c_source)
    subprocess.run(
        [cc, "-c", "-fPIC", "-O1", "-o", str(tmp_path / "unit.o"), str(tmp_path / "unit.c")],
        check=True,
    )
    return (tmp_path / "unit.o").read_bytes()


_UNIT_C = textwrap.dedent(
    """\
    long fl_answer __asm__("fl.test.answer") = 42;
    long fl_twice(long x) __asm__("fl.test.fn.twice");
    long fl_twice(long x) { return 2 * x; }
    """
)


def test_store_then_load_gives_addresses_of_dotted_symbols_and_the_meta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = _object(tmp_path, _UNIT_C)
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "c"))
    k = codecache.key("unit", "test")
    assert codecache.load(k) is None
    stored = codecache.store(k, [obj], {"symbols": ["fl.test.fn.twice"]})
    assert stored is not None and not stored.cached
    entries = [p.name for p in (tmp_path / "c").iterdir() if p.suffix in (".so", ".json")]
    assert sorted(entries) == [f"{k}.json", f"{k}.so"]  # besides memos (.digest, .stamp)
    loaded = codecache.load(k)
    assert loaded is not None and loaded.cached
    assert loaded.meta == {"symbols": ["fl.test.fn.twice"], "key": k}
    assert ctypes.c_long.from_address(loaded.address("fl.test.answer")).value == 42
    twice = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long)(loaded.address("fl.test.fn.twice"))
    assert twice(21) == 42
    with pytest.raises(KeyError):
        loaded.address("fl.test.absent")


def test_store_with_the_cache_disabled_still_gives_a_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = _object(tmp_path, _UNIT_C)
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("FLUENTAI_CACHE", "0")
    assert not codecache.enabled()
    k = codecache.key("unit", "disabled")
    unit = codecache.store(k, [obj], {})
    assert unit is not None
    assert ctypes.c_long.from_address(unit.address("fl.test.answer")).value == 42
    assert not (tmp_path / "c").exists()
    assert codecache.load(k) is None


def test_store_into_a_read_only_cache_still_gives_a_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = _object(tmp_path, _UNIT_C)
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(blocked / "c"))
    unit = codecache.store(codecache.key("unit", "read-only"), [obj], {})
    assert unit is not None
    assert ctypes.c_long.from_address(unit.address("fl.test.answer")).value == 42


def test_keys_mix_in_every_part_and_the_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLUENTAI_CACHE_SALT", raising=False)
    k = codecache.key("a", "b")
    assert k == codecache.key("a", "b") and len(k) == 40
    assert len({k, codecache.key("ab"), codecache.key("a", "c"), codecache.key("b", "a")}) == 4
    monkeypatch.setenv("FLUENTAI_CACHE_SALT", "1")
    assert codecache.key("a", "b") != k


def test_cache_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLUENTAI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/x/cache")
    assert codecache.cache_dir() == Path("/x/cache/fluentai")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert codecache.cache_dir() == Path.home() / ".cache" / "fluentai"
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", "/y")
    assert codecache.cache_dir() == Path("/y")


def test_computing_a_key_imports_no_llvmlite() -> None:
    code = (
        "import sys; from fluentai import codecache; codecache.key('x'); codecache.cpu_id(); "
        "assert not [m for m in sys.modules if 'llvm' in m], sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(None), timeout=TIMEOUT)
