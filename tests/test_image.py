"""Program images (fluentai/image.py): a run that got hot leaves the whole program compiled in the
code cache, and the next run of the same text runs it without starting the VM, the compiler or
llvmlite. The output, reports and exit statuses must be the VM's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_jit import Result, _env, interrupt_when

# hot at the default thresholds (1000 calls), then a runtime error with a trace
HOT = """
(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))
(print (count 3000))
(print (args))
"""
HOT_ERROR = HOT + '(define (bad x) (+ x "s"))\n(bad (count 2000))\n'
HOT_EXIT = HOT + "(exit (count 3))\n"
IMAGE_LINE = "program image from the code cache"


def _run(tmp_path: Path, source: str, *flags: str, env: dict[str, str] | None = None) -> Result:
    (tmp_path / "prog.fl").write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fluentai", "run", *flags, "prog.fl", "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        env=_env(tmp_path / "cache", env),
        timeout=120,
    )
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), err)


def _program_stderr(result: Result) -> str:
    return "".join(
        line for line in result.stderr.splitlines(keepends=True) if "import time:" not in line
    )


def _imported(result: Result) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_second_run_starts_from_the_image_without_vm_or_compiler(tmp_path: Path) -> None:
    vm = _run(tmp_path, HOT, "--tier", "vm")
    first = _run(tmp_path, HOT, "--jit-stats")
    second = _run(tmp_path, HOT, "--jit-stats")
    assert vm.stdout == first.stdout == second.stdout == '3000\n["a" "b"]\n'
    assert IMAGE_LINE not in first.stderr
    assert IMAGE_LINE in second.stderr
    modules = _imported(second)
    assert not {m for m in modules if m.startswith(("llvmlite", "fluentai.vm", "fluentai.llvm"))}
    assert "fluentai.pipeline" not in modules and "fluentai.jit.jit" not in modules
    # nor the standard library's heavier modules (typing alone pulls in `re`; --jit-stats
    # reads the image's metadata with json)
    third = _run(tmp_path, HOT)
    assert third.stdout == vm.stdout
    assert not {"typing", "re", "enum", "json", "pathlib", "subprocess"} & _imported(third)


def _python_headers() -> bool:
    import sysconfig

    return os.path.isfile(os.path.join(sysconfig.get_paths().get("include") or "", "Python.h"))


@pytest.mark.skipif(
    not _python_headers(),
    reason="CPython's headers (python3-dev) are missing, so the image runner extension is "
    "not built and images start through ctypes",
)
def test_warm_runs_start_images_through_the_runner_extension(tmp_path: Path) -> None:
    from fluentai.runtime import layout

    assert os.path.exists(layout.image_runner())  # built with the runtime
    _run(tmp_path, HOT)
    warm = _run(tmp_path, HOT, "--jit-stats")
    assert IMAGE_LINE in warm.stderr and warm.stdout == '3000\n["a" "b"]\n'
    modules = _imported(warm)
    assert layout.IMAGE_RUNNER in modules and "ctypes" not in modules


def test_without_the_runner_extension_images_start_through_ctypes(tmp_path: Path) -> None:
    # what a machine without CPython's headers does: the same runs, through ctypes
    start = (
        "import sys; from fluentai.runtime import layout; "
        "layout.image_runner = lambda: '/nonexistent/runner.so'; "
        "from fluentai.launch import main; sys.exit(main())"
    )
    (tmp_path / "prog.fl").write_text(HOT_ERROR, encoding="utf-8")
    vm = _run(tmp_path, HOT_ERROR, "--tier", "vm")
    _run(tmp_path, HOT_ERROR)  # makes the image
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            start,
            "run",
            "--jit-stats",
            "prog.fl",
            "a",
            "b",
        ],
        cwd=tmp_path,
        capture_output=True,
        env=_env(tmp_path / "cache"),
        timeout=120,
    )
    warm = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert IMAGE_LINE in warm.stderr
    assert (warm.status, warm.stdout) == (vm.status, vm.stdout) == (70, vm.stdout)
    report = [line for line in _program_stderr(warm).splitlines() if "jit:" not in line]
    assert report == _program_stderr(vm).splitlines()
    modules = _imported(warm)
    assert "ctypes" in modules and "_fluentai_image" not in modules


@pytest.mark.parametrize("again", [False, True])
def test_ctrl_c_interrupts_a_warm_image(tmp_path: Path, again: bool) -> None:
    # the first run finds go.txt and ends, leaving the whole program in the code cache; the
    # second starts from it (through the runner extension when built) and is interrupted; a
    # second Ctrl-C while `finally` loops ends it at once, with the output written before
    from tests.test_cli import _assert_interrupted, _interrupt

    wait = '(while (not (io:file-exists? "go.txt")) 1)'
    source = (
        f'(print "start")\n(io:write-file "ready.txt" "")\n(try {wait}\n'
        f'  (finally (print "cleanup") (io:write-file "unwinding.txt" ""){wait if again else ""}))\n'
    )
    (tmp_path / "go.txt").write_text("")
    env = {"FLUENTAI_CACHE_DIR": str(tmp_path / "cache")}
    for flags in ((), ("--jit-stats",)):
        done = _run(tmp_path, source, "--tier", "native", *flags, env=env)
        assert (done.status, done.stdout) == (0, "start\ncleanup\n")
    assert "tier native: the whole program from the code cache" in done.stderr
    for name in ("go.txt", "ready.txt", "unwinding.txt"):
        (tmp_path / name).unlink()
    result = _interrupt(
        tmp_path, source, "native", again_when="unwinding.txt" if again else "", env=env
    )
    _assert_interrupted(result, "start\ncleanup\n")
    assert result.stderr == "interrupted\n"


def test_a_run_that_never_gets_hot_imports_only_what_the_vm_needs(tmp_path: Path) -> None:
    # hello world runs in the VM: no program image, no unit, no compiler; the modules only a
    # build, a unit or the stress switch use are not imported (tempfile brings shutil,
    # bz2 and lzma: 8 ms of every start)
    r = _run(tmp_path, '(print "hello world")\n')
    assert (r.status, r.stdout) == (0, "hello world\n")
    modules = _imported(r)
    assert "fluentai.vm.machine" in modules
    assert (
        not {"argparse", "tempfile", "shutil", "json", "random", "signal", "subprocess"} & modules
    )
    assert not {m for m in modules if m.startswith("llvmlite")}
    assert not {"fluentai.llvm.lower", "fluentai.llvm.engine"} & modules


def test_errors_and_exit_statuses_from_an_image_are_the_vms(tmp_path: Path) -> None:
    for source, status in ((HOT_ERROR, 70), (HOT_EXIT, 3)):
        vm = _run(tmp_path, source, "--tier", "vm")
        _run(tmp_path, source)  # makes the image
        warm = _run(tmp_path, source, "--jit-stats")
        assert IMAGE_LINE in warm.stderr
        assert (warm.status, warm.stdout) == (vm.status, vm.stdout) == (status, vm.stdout)
        report = [line for line in _program_stderr(warm).splitlines() if "jit:" not in line]
        assert report == _program_stderr(vm).splitlines()


def test_a_big_image_is_compiled_cheaply_and_runs_as_the_vm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program image over BIG_UNIT_CHARS of IR gets the function-only pipeline and -O0
    machine code (docs/decisions.md, "Tiered JIT" 25); it runs as any image does."""
    from fluentai import image
    from fluentai.llvm import engine
    from fluentai.source import SourceFile

    levels: list[tuple[int, int]] = []  # (the pipeline's level, the code generator's)
    plan = engine.plan

    def spy(ir_text: str, opt: int, *, bounded: bool) -> tuple[int, int]:
        levels.append(plan(ir_text, opt, bounded=bounded))
        return levels[-1]

    monkeypatch.setattr(engine, "BIG_UNIT_CHARS", 0)
    monkeypatch.setattr(engine, "plan", spy)
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.fl").write_text(HOT_ERROR, encoding="utf-8")
    assert image.build(SourceFile("prog.fl", HOT_ERROR), lambda _text: None)
    assert levels[-1] == (1, 0)  # the program's (the prelude's object, made first, is not bounded)
    vm = _run(tmp_path, HOT_ERROR, "--tier", "vm")
    warm = _run(tmp_path, HOT_ERROR, "--jit-stats")
    assert IMAGE_LINE in warm.stderr
    assert (warm.status, warm.stdout) == (vm.status, vm.stdout) == (70, vm.stdout)
    report = [line for line in _program_stderr(warm).splitlines() if "jit:" not in line]
    assert report == _program_stderr(vm).splitlines()


def test_images_are_not_used_when_disabled_tuned_or_stale(tmp_path: Path) -> None:
    _run(tmp_path, HOT)
    assert IMAGE_LINE in _run(tmp_path, HOT, "--jit-stats").stderr
    for env in ({"FLUENTAI_IMAGE": "0"}, {"FLUENTAI_JIT_THRESHOLD": "5"}, {"FLUENTAI_JIT": "0"}):
        assert IMAGE_LINE not in _run(tmp_path, HOT, "--jit-stats", env=env).stderr
    for flags in (("--no-cache",), ("--jit-threshold", "5"), ("--tier", "vm"), ("-p",)):
        assert IMAGE_LINE not in _run(tmp_path, HOT, "--jit-stats", *flags).stderr
    changed = _run(tmp_path, HOT + "(print 1)\n", "--jit-stats")  # other text: no image yet
    assert IMAGE_LINE not in changed.stderr and changed.stdout.endswith("1\n")


# the state store: the JIT keeps such programs in the VM (no unit), but their image runs alone
STATE = """
(define (bump! k) (state:update k (lambda (v) (if (nil? v) 1 (+ v 1)))))
(define (go n) (when (> n 0) (bump! (if (even? n) 'even 'odd)) (go (- n 1))))
(go 3000)
(state:begin-transaction)
(state:set 'even 0)
(state:rollback-transaction)
(print (state:get 'even) (state:get 'odd) (args))
"""
STATE_OUT = '1500 1500 ["a" "b"]\n'


def test_programs_the_jit_keeps_in_the_vm_still_get_an_image(tmp_path: Path) -> None:
    for env in ({"FLUENTAI_IMAGE_PROCESS": "0"}, {"FLUENTAI_IMAGE_PROCESS": "1"}):
        for source, out in (
            (STATE, STATE_OUT),
            ('(print "first")\n' + STATE, "first\n" + STATE_OUT),
        ):
            if (tmp_path / "cache").exists():
                _clear(tmp_path / "cache")
            first = _run(tmp_path, source, "--jit-stats", env=env)
            second = _run(tmp_path, source, "--jit-stats", env=env)
            assert first.stdout == second.stdout == out, (first, env)
            assert IMAGE_LINE not in first.stderr and IMAGE_LINE in second.stderr


def test_a_program_using_the_state_store_restarts_natively(tmp_path: Path) -> None:
    source = STATE.replace("(go 3000)", "(go 300000)")  # about 8 s in the VM
    first = _run(tmp_path, source, "--jit-stats")
    assert RESTART_LINE in first.stderr
    assert first.stdout == '150000 150000 ["a" "b"]\n'


def _clear(cache: Path) -> None:
    for path in cache.iterdir():
        if path.is_file() and not path.name.startswith("prelude"):
            path.unlink()


# ---------------------------------------------------------------- restarts (the first run)

RESTART_LINE = "restarted: the whole program ran again from its start as native code"


def test_a_first_run_that_did_nothing_visible_restarts_natively(tmp_path: Path) -> None:
    source = (  # about 10 s in the VM before anything is printed; a restart takes under 1 s
        "(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))\n"
        "(define (repeat k) (if (= k 1) (count 3000) (begin (count 3000) (repeat (- k 1)))))\n"
        "(define total (repeat 3000))\n"
        '(try (print total) (finally (print "finally once")))\n'
        '(define (bad x) (+ x "s"))\n'
        "(bad total)\n"
    )
    vm = _run(tmp_path, source, "--tier", "native")  # the VM's output (the corpus checks it)
    first = _run(tmp_path, source, "--jit-stats")
    assert RESTART_LINE in first.stderr
    assert (first.status, first.stdout) == (vm.status, vm.stdout) == (70, "3000\nfinally once\n")
    report = [line for line in _program_stderr(first).splitlines() if "jit:" not in line]
    assert report[: len(_program_stderr(vm).splitlines())] == _program_stderr(vm).splitlines()


def test_no_restart_after_output_or_a_file_write(tmp_path: Path) -> None:
    count = "(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))\n"
    printed = count + '(print "first")\n(print (count 3000))\n'
    r = _run(tmp_path, printed, "--jit-stats")
    assert RESTART_LINE not in r.stderr and r.stdout == "first\n3000\n"
    appended = count + '(io:append-file "out.txt" "x")\n(print (count 3000))\n'
    r = _run(tmp_path, appended, "--jit-stats")
    assert RESTART_LINE not in r.stderr and r.stdout == "3000\n"
    assert (tmp_path / "out.txt").read_text() == "x"


def test_ctrl_c_interrupts_a_restarted_program(tmp_path: Path) -> None:
    source = '(define (spin i) (spin (+ i 1)))\n(try (spin 0) (finally (print "cleanup")))\n'
    (tmp_path / "prog.fl").write_text(source)
    log = tmp_path / "jit.log"
    status, out, err = interrupt_when(
        tmp_path,
        [],
        {"FLUENTAI_JIT_LOG": str(log)},
        lambda: log.exists() and "restart:" in log.read_text(),
        settle=0.3,
    )
    assert status == 130, err.decode()
    assert out.decode() == "cleanup\n"
    assert err.decode().endswith("interrupted\n") and "Traceback" not in err.decode()


def test_a_warm_native_tier_run_starts_as_lean_as_an_image(tmp_path: Path) -> None:
    first = _run(tmp_path, HOT, "--tier", "native")
    second = _run(tmp_path, HOT, "--tier", "native", "--jit-stats")
    assert first.stdout == second.stdout == '3000\n["a" "b"]\n'
    assert "tier native: the whole program from the code cache" in second.stderr
    modules = _imported(second)
    assert "fluentai.pipeline" not in modules and not any(m.startswith("llvmlite") for m in modules)


# ---------------------------------------------------------------- the image compiler process

PROCESS = {"FLUENTAI_IMAGE_PROCESS": "1"}
PROCESS_LINE = "program image: compiling in the image compiler process"


def test_a_restart_can_wait_for_the_image_compiler_process(tmp_path: Path) -> None:
    source = (
        "(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))\n"
        "(define (repeat k) (if (= k 1) (count 3000) (begin (count 3000) (repeat (- k 1)))))\n"
        "(print (repeat 3000))\n"
        '(define (bad x) (+ x "s"))\n'
        "(bad 1)\n"
    )
    log = tmp_path / "jit.log"
    # what the VM prints and exits with (not run here: 9 million calls take the VM 15 s)
    vm = Result(70, "3000\n", "")
    first = _run(tmp_path, source, "--jit-stats", env={**PROCESS, "FLUENTAI_JIT_LOG": str(log)})
    assert PROCESS_LINE in log.read_text()
    assert "program image stored by the image compiler process" in log.read_text()
    # the run restarts on a quick image; the process then replaces it with the -O2 image
    assert "an -O1 image, the -O2 one to follow" in log.read_text()
    assert RESTART_LINE in first.stderr
    assert (first.status, first.stdout) == (vm.status, vm.stdout) == (70, "3000\n")
    second = _run(tmp_path, source, "--jit-stats", env=PROCESS)
    assert IMAGE_LINE in second.stderr and second.stdout == vm.stdout
    (meta,) = [p for p in (tmp_path / "cache").glob("*.json") if '"image"' in p.read_text()]
    deadline = time.monotonic() + 60
    while json.loads(meta.read_text())["opt"] != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(meta.read_text())["opt"] == 2
    third = _run(tmp_path, source, "--jit-stats", env=PROCESS)
    assert IMAGE_LINE in third.stderr and third.stdout == vm.stdout


def test_the_process_compiles_before_the_program_gets_hot(tmp_path: Path) -> None:
    """A child prepared before the program gets hot runs LLVM then: "go" only has the image
    linked and stored (docs/jit.md, "The image compiler process"). The top level here spends
    more than 100 ms in builtins first, so the program gets hot late."""
    source = (
        "(define xs (range 1500000))\n"
        "(define ys (reverse xs))\n"
        "(define (inc x) (+ x 1))\n"
        "(define (spin n acc) (if (= n 0) acc (spin (- n 1) (inc acc))))\n"
        "(print (length ys) (spin 100000 0))\n"
    )
    log = tmp_path / "jit.log"
    first = _run(tmp_path, source, env={**PROCESS, "FLUENTAI_JIT_LOG": str(log)})
    assert (first.status, first.stdout) == (0, "1500000 100000\n")
    text = log.read_text()
    assert "restart: nothing visible done yet" in text
    at = {
        name: int(found.group(1))
        for name in ("prepared", "LLVM done", "go", "stored")
        if (found := re.search(rf"{name} at (\d+)", text)) is not None
    }
    assert at.keys() == {"prepared", "LLVM done", "go", "stored"}, text
    # either LLVM ran before "go" was read, or "go" was there when the child got prepared (a
    # slow machine): a child that waited for "go" before LLVM reads it late and LLVM after it
    assert at["LLVM done"] <= at["go"] or at["go"] - at["prepared"] <= 5, text
    assert at["prepared"] <= at["go"] <= at["stored"]


# a hot call site that calls a closure passed as an argument: what inline caches are for
CLOSURES = (
    "(define (apply-n f n x) (if (= n 0) x (apply-n f (- n 1) (f x))))\n"
    "(define (bench i acc)\n"
    "  (if (= i 0) acc (bench (- i 1) (+ acc (apply-n (lambda (x) (+ x 1)) 3000 i)))))\n"
)


def _entries(cache: Path, tier: str | None) -> list[dict[str, Any]]:
    """The metadata of the code cache's committed entries of one tier (None: the JIT's units):
    `<key>.json`, not a prelude's, nor a writer's temporary file (`tmp.*.json`, which may be
    empty while the image compiler process writes it)."""
    out = []
    for path in cache.glob("*.json"):
        if not re.fullmatch(r"[0-9a-f]{40}\.json", path.name):
            continue
        meta = json.loads(path.read_text())
        if meta.get("tier") == tier:
            out.append(meta)
    return out


def _final_image(cache: Path) -> dict[str, Any]:
    """The program's -O2 image, once stored (the image compiler process may still work on it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        images = _entries(cache, "image")
        if images and images[0]["opt"] == 2:
            return images[0]
        time.sleep(0.05)
    raise AssertionError("no -O2 image")


@pytest.mark.parametrize("process", ["1", "0"])
def test_images_get_the_inline_caches_the_vm_saw(tmp_path: Path, process: str) -> None:
    """The image a first run leaves gets an inline cache at each call site where the VM saw one
    or two program functions called before the program got hot, made by the image compiler
    process ("go" carries them) or on a compile thread; the next run gives the VM's output."""
    source = CLOSURES + "(print (bench 40 0))\n"
    vm = _run(tmp_path, source, "--tier", "vm")
    first = _run(tmp_path, source, env={"FLUENTAI_IMAGE_PROCESS": process})
    assert first.stdout == vm.stdout == "120820\n"
    assert _final_image(tmp_path / "cache")["inline_caches"] == 1
    warm = _run(tmp_path, source, "--jit-stats")
    assert IMAGE_LINE in warm.stderr and warm.stdout == vm.stdout


def test_units_get_the_inline_caches_the_vm_saw(tmp_path: Path) -> None:
    """A run that printed before it got hot asks the image compiler process for its unit: the
    request carries the inline caches, and the image asked for next gets them too."""
    source = '(print "first")\n' + CLOSURES + "(print (bench 40 0))\n"
    log = tmp_path / "jit.log"
    first = _run(tmp_path, source, env={**PROCESS, "FLUENTAI_JIT_LOG": str(log)})
    assert first.stdout == "first\n120820\n"
    assert "1 call sites with inline caches" in log.read_text()
    (unit,) = _entries(tmp_path / "cache", None)
    assert unit["inline_caches"] == 1
    assert _final_image(tmp_path / "cache")["inline_caches"] == 1


def test_the_requests_to_the_process_stay_within_one_atomic_write() -> None:
    """Inline caches beyond REQUEST_MAX bytes are left out, the coldest first; a request the
    parent wrote right after another is read as its own."""
    from fluentai import imageproc

    targets = {f"{i}:{i + 5}": [[1000 + i, 1020 + i, f"f{i}"]] for i in range(2000)}
    line = imageproc.request(imageproc.GO, targets)
    assert len(line) <= imageproc.REQUEST_MAX and line.endswith(b"\n")
    kept = json.loads(line[1:])
    assert 0 < len(kept) < len(targets)
    assert list(kept) == list(targets)[: len(kept)]  # the hottest, which come first
    read_fd, write_fd = os.pipe()
    try:
        small = {"1:2": [[3, 4, "g"]]}
        os.write(write_fd, imageproc.request(imageproc.UNIT, small) + line)
        os.close(write_fd)
        assert imageproc._read_request(read_fd) == (imageproc.UNIT, small)
        assert imageproc._read_request(read_fd) == (imageproc.GO, kept)
        assert imageproc._read_request(read_fd) == (b"", {})  # the parent is gone
    finally:
        os.close(read_fd)


def test_the_quick_image_agrees_with_the_vm(tmp_path: Path) -> None:
    # the image a first run restarts on is lowered for compile time (its fixnum functions not
    # unrolled): results, the depth limit's error and its trace are the VM's
    source = (
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n"
        "(define (down n) (if (= n 0) 0 (+ 1 (down (- n 1)))))\n"
        "(define (probe f n) (try (f n) (catch e (error-kind e))))\n"
        "(define (t n k) (if (= k 0) n (+ (t (+ n n) 0) (t n (- k 1)))))\n"
        "(define warm (fib 22))\n"
        "(print warm (t 3000000000000000000 3) (probe down 300000) (down 5000))\n"
        "(down 300000)\n"
    )
    log = tmp_path / "jit.log"
    vm = _run(tmp_path, source, "--tier", "vm")
    first = _run(tmp_path, source, env={**PROCESS, "FLUENTAI_JIT_LOG": str(log)})
    assert "an -O1 image, the -O2 one to follow" in log.read_text()
    assert "restart: nothing visible done yet" in log.read_text()
    assert vm.stdout == "17711 21000000000000000000 stack-overflow 5000\n"
    assert "error[stack-overflow]" in vm.stderr
    assert (first.status, first.stdout) == (vm.status, vm.stdout)
    assert _report(first.stderr) == _report(vm.stderr)


def test_a_quick_image_compiles_a_top_level_that_runs_once_unoptimized() -> None:
    # a first run's image: a top level without loops runs once, so LLVM leaves it as it is
    # (its compile was a third of a small program's); one with a loop is optimized
    from fluentai.llvm.lower import lower_program
    from fluentai.native import _prelude, resolve
    from fluentai.source import SourceFile

    def top(src: str, quick: bool = True) -> str:
        program = resolve(SourceFile.from_bytes("p.fl", src.encode()), is_prelude=False)
        ir_text = str(lower_program(_prelude(), program, quick=quick).module)
        found = re.search(r'define internal i64 @"?fl\.top\.program"?\(\)[^{]*', ir_text)
        assert found is not None
        return found.group(0)

    once = "(define (f x) (while #f 1) (+ x 1))\n(print (f 1) (map (lambda (x) x) [1 2]))\n"
    assert "optnone" in top(once) and "optnone" not in top(once, quick=False)
    loop = "(define i 0)\n(while (< i 10) (set! i (+ i 1)))\n(print i)\n"
    assert "optnone" not in top(loop)
    fused = "(print (sum (map (lambda (x) (* x x)) (range 100))))\n"
    assert "optnone" not in top(fused)
    handled = "(print (handler ((my:ask (lambda () 2))) (+ (my:ask) 1)))\n"
    assert "optnone" in top(handled)


def _report(stderr: str) -> list[str]:
    """A run's standard error without the lines of `-X importtime`."""
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


def test_the_process_makes_the_image_of_a_program_that_printed_first(tmp_path: Path) -> None:
    source = '(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))\n(print "first")\n'
    source += "(print (count 3000))\n"
    first = _run(tmp_path, source, "--jit-stats", env=PROCESS)
    assert RESTART_LINE not in first.stderr and first.stdout == "first\n3000\n"
    # with a child, only the child makes images: the run asks it for the image after the
    # unit, or at exit if the unit is not there yet (here the child is still building the
    # prelude's unit, in a fresh cache)
    second = _run(tmp_path, source, "--jit-stats", env=PROCESS)
    assert IMAGE_LINE in second.stderr and second.stdout == first.stdout


def test_a_run_that_printed_gets_its_unit_from_the_image_compiler_process(
    tmp_path: Path,
) -> None:
    # a run that has done something visible cannot restart: it needs a JIT unit, which the
    # child compiles (off this run's GIL) before the image
    _run(tmp_path, HOT, env={"FLUENTAI_IMAGE": "0"})  # the prelude's JIT unit, once
    source = (
        '(print "start")\n'
        "(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))\n"
        "(define (rep k acc) (if (= k 0) acc (rep (- k 1) (+ acc (count 1000)))))\n"
        "(print (rep 20000 0))\n"  # about 10 s in the VM, milliseconds natively
    )
    log = tmp_path / "jit.log"
    first = _run(tmp_path, source, "--jit-stats", env={**PROCESS, "FLUENTAI_JIT_LOG": str(log)})
    assert first.stdout == "start\n20000000\n", first.stderr
    text = log.read_text()
    assert "compiling in the image compiler process (the unit, then the image)" in text
    assert "compiled by the image compiler process: " in text
    calls = re.search(r"jit: VM->native calls (\d+)", first.stderr)
    assert calls is not None and int(calls.group(1)) > 0, first.stderr
    second = _run(tmp_path, source, "--jit-stats", env=PROCESS)
    assert IMAGE_LINE in second.stderr and second.stdout == first.stdout


@pytest.mark.parametrize("process", ["1", "0"], ids=["image-process", "compile-thread"])
def test_an_image_not_ready_at_exit_is_finished_in_the_background(
    tmp_path: Path, process: str
) -> None:
    # a run waits at most FLUENTAI_IMAGE_WAIT_MS for its image (a big program's takes seconds):
    # here not at all, so the run ends first and the image is stored after it
    source = '(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))\n(print "first")\n'
    source += "(print (count 3000))\n"
    _run(tmp_path, HOT)  # the native prelude is built once per installation: here, first
    log = tmp_path / "jit.log"
    env = {"FLUENTAI_IMAGE_PROCESS": process, "FLUENTAI_IMAGE_WAIT_MS": "0"}
    first = _run(tmp_path, source, env={**env, "FLUENTAI_JIT_LOG": str(log)})
    assert first.stdout == "first\n3000\n"
    assert "program image not ready at exit" in log.read_text()
    assert "program image stored" not in log.read_text()
    from fluentai import image

    stored = tmp_path / "cache" / f"{image.key('prog.fl', source)}.so"
    deadline = time.monotonic() + 100  # a hang guard, not a speed test
    while not stored.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stored.exists()
    second = _run(tmp_path, source, "--jit-stats")
    assert IMAGE_LINE in second.stderr
    assert second.stdout == first.stdout


def test_a_run_that_never_gets_hot_compiles_nothing(tmp_path: Path) -> None:
    for _ in range(2):  # the child is stopped at exit; the output pipes end with the parent
        result = _run(tmp_path, "(print (+ 1 2))\n", "--jit-stats", env=PROCESS)
        assert result.stdout == "3\n" and IMAGE_LINE not in result.stderr
    assert not list((tmp_path / "cache").glob("*.so"))
    bad = _run(tmp_path, "(print (+ 1 2)\n", env=PROCESS)
    assert bad.status == 65 and "error[syntax-error]" in bad.stderr


def test_ctrl_c_while_the_process_compiles(tmp_path: Path) -> None:
    source = '(define (spin i) (spin (+ i 1)))\n(try (spin 0) (finally (print "cleanup")))\n'
    (tmp_path / "prog.fl").write_text(source)
    log = tmp_path / "jit.log"
    status, out, err = interrupt_when(
        tmp_path,
        [],
        {**PROCESS, "FLUENTAI_JIT_LOG": str(log)},
        lambda: log.exists() and "image compiler process" in log.read_text(),
        settle=0.0,
    )
    assert status == 130, err.decode()
    assert out.decode() == "cleanup\n" and err.decode().endswith("interrupted\n")


def test_a_restart_inside_a_long_builtin_ends_the_vms_run(tmp_path: Path) -> None:
    # hot by time inside one `range` call (a safepoint every 65 536 elements), restarted there:
    # the restart must end the VM's run, even from inside fused arithmetic (the VM's EVAL)
    _run(tmp_path, HOT)  # the native prelude is built once per installation: here, first
    source = "(define (f n) (let ((xs (range 1 (+ n 1)))) (length xs)))\n(print (f 10000000))\n"
    result = _run(tmp_path, source, "--jit-stats", env=PROCESS)
    assert result.stdout == "10000000\n"
    assert RESTART_LINE in result.stderr


LOOPS = "(define (f n) (if (= n 0) 0 (f (- n 1))))\n(print (f 5))\n"


def test_the_image_process_is_wanted_when_a_core_stays_idle(monkeypatch: Any) -> None:
    from fluentai import imageproc

    monkeypatch.delenv("FLUENTAI_IMAGE_PROCESS", raising=False)
    monkeypatch.setattr(imageproc.os, "sched_getaffinity", lambda _pid: {0, 1})
    looks: list[int] = []

    def counts(*values: int) -> None:
        seq = iter(values)
        looks.clear()
        monkeypatch.setattr(imageproc, "_runnable", lambda: looks.append(1) or next(seq))

    counts(2, 1)  # another thread runnable for an instant, then only this one
    assert imageproc.wanted(LOOPS) and len(looks) == 2
    counts(2, 2, 2)  # busy at every look
    assert not imageproc.wanted(LOOPS) and len(looks) == 3
    # ... unless the program is big: its compile would slow a VM sharing its GIL far more
    big = LOOPS + ";" + "x" * imageproc.BIG_PROGRAM_CHARS + "\n"
    counts(2, 2, 2)
    assert imageproc.wanted(big) and not looks
    monkeypatch.setattr(imageproc.os, "sched_getaffinity", lambda _pid: {0})
    assert imageproc.wanted(big)
    monkeypatch.setattr(imageproc.os, "sched_getaffinity", lambda _pid: {0, 1})
    counts(1)
    assert imageproc.wanted(LOOPS) and len(looks) == 1
    monkeypatch.setattr(imageproc.os, "sched_getaffinity", lambda _pid: {0})
    counts(1)
    assert not imageproc.wanted(LOOPS)
    monkeypatch.setattr(imageproc.os, "sched_getaffinity", lambda _pid: {0, 1})
    counts(1)
    assert not imageproc.wanted('(print "hello world")\n')  # nothing that can get hot
    monkeypatch.setenv("FLUENTAI_IMAGE_PROCESS", "1")
    assert imageproc.wanted(LOOPS) and imageproc.wanted('(print "hello world")\n')


def test_programs_that_may_get_hot() -> None:
    from fluentai.imageproc import may_get_hot

    hot = [
        "(define (f x) x)",
        "(let loop ((i 0)) i)",
        "( lambda (x) x)",
        "(fn(x) x)",
        "(let* ((a 1)) a)",
        "(while #t 1)",
        "(handler ((k (fn (x) x))) 1)",
        "(defun f (x) x)",
        "(def twice (f x) (f (f x)))",
        '(import "lib")',
    ]
    cold = ['(print "hello world")', "(print (definitely 1))", "(print [1 2] {:a 1})"]
    assert all(may_get_hot(t) for t in hot)
    assert not any(may_get_hot(t) for t in cold)


def test_the_vm_waits_for_the_image_child_only_while_a_restart_is_worth_it(
    monkeypatch: Any,
) -> None:
    from types import SimpleNamespace

    from fluentai import imageproc
    from fluentai.jit import jit as jit_mod

    waits: list[float] = []

    class Child:
        ms = 0.0

        def poll(self, wait_s: float = 0.0) -> bool | None:
            waits.append(wait_s)
            return None  # still compiling

    monkeypatch.setattr(imageproc, "current", Child())
    world = SimpleNamespace(touched=False)
    j = jit_mod.Jit.__new__(jit_mod.Jit)
    j.vm = SimpleNamespace(world=world)
    j.src = SimpleNamespace(text=LOOPS)
    j._awaiting_process = True
    j._waited_s = 0.0
    j._poll_image_process()
    world.touched = True  # the run wrote output: no restart, the VM runs at full speed
    j._poll_image_process()
    world.touched = False
    j._waited_s = jit_mod.RESTART_WAIT_TOTAL_S  # a child slower than that: full speed too
    j._poll_image_process()
    j._waited_s = 0.0
    j.src = SimpleNamespace(text=LOOPS + ";" + "x" * imageproc.BIG_PROGRAM_CHARS)
    j._poll_image_process()  # a big program's image takes seconds: full speed as well
    assert waits == [jit_mod.RESTART_WAIT_S, 0.0, 0.0, 0.0]
    assert j._awaiting_process


def test_an_image_compiled_by_another_process_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """imageproc.Claim: the mark of a live process that compiles the same image makes a second
    compiler wait for it; a mark whose process is gone is taken over, and removed after."""
    from fluentai import codecache, image, imageproc

    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mark = imageproc.Claim.mark_path("prog.fl", HOT)
        Path(mark).write_text(str(other.pid), encoding="ascii")
        claim = imageproc.Claim("prog.fl", HOT)
        assert claim.other == other.pid and not claim.owned
        key = image.key("prog.fl", HOT)
        monkeypatch.setattr(codecache, "exists", lambda k: k == key and other.poll() is not None)
        other.kill()
        other.wait()
        assert claim.wait_for_other()  # the other process ended with the entry stored
        monkeypatch.undo()
        monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "cache"))
        taken = imageproc.Claim("prog.fl", HOT)  # its process is gone: taken over
        assert taken.owned and taken.other is None
        assert Path(mark).read_text(encoding="ascii") == str(os.getpid())
        taken.release()
        assert not Path(mark).exists()
    finally:
        other.kill()
        other.wait()


def test_a_big_program_does_not_wait_for_its_image_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from fluentai import image, imageproc

    monkeypatch.delenv("FLUENTAI_IMAGE_WAIT_MS", raising=False)
    monkeypatch.setattr(image, "_image_source", SimpleNamespace(text=LOOPS))
    assert image.exit_wait_s() == image.EXIT_WAIT_S
    big = SimpleNamespace(text=LOOPS + ";" + "x" * imageproc.BIG_PROGRAM_CHARS)
    monkeypatch.setattr(image, "_image_source", big)
    assert image.exit_wait_s() == 0.0
    monkeypatch.setenv("FLUENTAI_IMAGE_WAIT_MS", "1500")  # asked for: waited for
    assert image.exit_wait_s() == 1.5
