"""Bad and unusual inputs on every tier: what `fluentai` does with source, arguments and output
paths that are not what a program normally gets (LANGUAGE.md §1, §13.4, §16).

Each case runs as a real subprocess (tests/test_cli.py's helpers, which also fail on any Python
traceback) under `--tier vm`, `--tier native` and `--tier auto` with every threshold at 0, so the
native tier is compared with the reference VM, not only the default tier.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from prelude_seed import seed

from tests.test_cli import (
    REPO_ROOT,
    TIMEOUT,
    _environment,
    assert_usage_error,
    fluentai,
    report_line,
    run_source,
    tier_command,
)

_JIT_NOW = {"FLUENTAI_JIT_THRESHOLD": "0", "FLUENTAI_JIT_SYNC": "1"}
# (id, extra `run`/`eval` options, environment)
TIERS = [
    ("vm", ["--tier", "vm"], {}),
    ("native", ["--tier", "native"], {}),
    ("auto-jit0", ["--tier", "auto"], _JIT_NOW),
]
TIER_IDS = [tier[0] for tier in TIERS]


def _cache(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    seed(tmp_path / "cache")  # the prelude's units, compiled once per test process
    return {**env, "FLUENTAI_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_print_values_skips_nil_and_starts_a_line_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # native -p wrote `nil` for nil values and wrote a value right after `io:write` output
    source = (
        '(define x 20)\n(+ x 1)\n"hi"\n(print "side effect")\n(io:write "no newline")\nnil\n'
        '(if #f 1)\n(data Q R)\n[nil]\n(io:write "tail")\n'
    )
    result = run_source(tmp_path, source, *options, "-p", env=_cache(tmp_path, env))
    assert (result.status, result.stderr) == (0, "")
    assert result.stdout == '21\n"hi"\nside effect\nno newline\n[nil]\ntail'


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_print_values_writes_a_top_level_dos_value_not_each_of_its_forms(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # §16: the value of each top-level form; the forms inside a top-level `do` were each written
    source = (
        '(begin (print "a") 5 (define z 1))\n(do 1 2 nil)\n(begin "x" (begin "y" "z"))\n'
        "(do (define q 4) q)\n7\n"
    )
    result = run_source(tmp_path, source, *options, "-p", env=_cache(tmp_path, env))
    assert (result.status, result.stderr, result.stdout) == (0, "", 'a\n"z"\n4\n7\n')


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize(
    ("source", "stdout"),
    [
        ("(print 1)", "1\n"),
        ("(define x 1)", ""),
        ("(if #f 1)", ""),
        ('(io:write "x") 5', "x\n5\n"),
        ('(str "a" 1)', '"a1"\n'),
    ],
    ids=["print", "definition", "nil", "after-write", "string"],
)
def test_eval_writes_a_non_nil_value_on_its_own_line_on_every_tier(
    tmp_path: Path,
    tier: str,
    options: list[str],
    env: dict[str, str],
    source: str,
    stdout: str,
) -> None:
    result = fluentai("eval", *options, source, cwd=tmp_path, env=_cache(tmp_path, env))
    assert (result.status, result.stdout, result.stderr) == (0, stdout, "")


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_eval_source_that_is_not_utf8_is_a_syntax_error(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # the VM printed a lone surrogate as `?` and the native tier failed with an internal error
    source = '(print 1)\n(print "\udcff")'  # the byte 0xFF, as Python decodes a bad argv byte
    result = fluentai("eval", *options, source, cwd=tmp_path, env=_cache(tmp_path, env))
    assert (result.status, result.stdout) == (65, "")
    assert report_line(result.stderr) == "<eval>:2:9: error[syntax-error]: invalid UTF-8 byte 0xff"


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_arguments_that_are_not_utf8_get_one_replacement_character_per_bad_byte(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # the VM kept Python's lone surrogates; the runtime (native, build) gives U+FFFD per byte
    (tmp_path / "a.fl").write_text(
        "(print (map (lambda (s) (map char->int (string->list s))) (args)))\n"
    )
    bad = ["a\udcffb", "\udce2\udc82a", "λ"]  # b"a\xffb", b"\xe2\x82a" (cut short), "λ"
    result = fluentai("run", *options, "a.fl", *bad, cwd=tmp_path, env=_cache(tmp_path, env))
    assert (result.status, result.stderr) == (0, "")
    assert result.stdout == "[[97 65533 98] [65533 65533 97] [955]]\n"


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize(
    ("data", "line", "kind"),
    [
        (b'(print "a")\n(print "\xff\xfe")\n', "prog.fl:2:9: error[syntax-error]", 65),
        (b'(print "a")\n(print \xc3)\n', "prog.fl:2:8: error[syntax-error]", 65),
        (b'(print "a\xed\xa0\x80")\n', "prog.fl:1:10: error[syntax-error]", 65),
    ],
    ids=["bad-byte", "cut-short", "surrogate"],
)
def test_source_that_is_not_utf8_is_a_syntax_error_on_every_tier(
    tmp_path: Path,
    tier: str,
    options: list[str],
    env: dict[str, str],
    data: bytes,
    line: str,
    kind: int,
) -> None:
    result = run_source(tmp_path, data, *options, env=_cache(tmp_path, env))
    assert (result.status, result.stdout) == (kind, "")
    found = report_line(result.stderr)
    assert found is not None and found.startswith(line), result.stderr


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_a_nul_byte_is_an_ordinary_character_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    source = b'(print (string-length "x\x00y") ["\x00"])\n(print \x00)\n'
    result = run_source(tmp_path, source, *options, env=_cache(tmp_path, env))
    assert (result.status, result.stdout) == (65, "")  # the bare NUL is an unbound symbol
    found = report_line(result.stderr)
    assert found is not None and found.startswith("prog.fl:2:8: error[unbound-variable]")
    result = run_source(tmp_path, source.split(b"\n")[0], *options, env=_cache(tmp_path, env))
    assert (result.status, result.stdout) == (0, '3 ["\\u{0}"]\n')


@pytest.mark.parametrize(
    "output",
    ["missing-dir/prog", "prog.fl/prog", ".", "/proc/prog"],
    ids=["missing-directory", "file-as-directory", "directory", "unwritable-filesystem"],
)
@pytest.mark.parametrize("emit", [[], ["--emit", "llvm"]], ids=["executable", "emit-llvm"])
def test_build_to_an_output_that_cannot_be_written_is_a_one_line_usage_error(
    tmp_path: Path, output: str, emit: list[str]
) -> None:
    # it linked anyway and printed the linker's command and messages, with status 70
    (tmp_path / "prog.fl").write_text('(print "x")\n')
    result = fluentai("build", "prog.fl", "-o", output, *emit, cwd=tmp_path)
    assert_usage_error(result)
    assert f"cannot write `{output}`" in result.stderr


def test_repl_entry_that_is_not_utf8_is_reported_and_the_session_goes_on(tmp_path: Path) -> None:
    # the piped REPL ended with a usage error (status 2) at the first line that was not UTF-8
    entries = b'(define x 1)\n(print "\xff")\n(print "a\n\xfe")\n(+ x 1)\n'
    result = fluentai("repl", cwd=tmp_path, stdin=entries)
    assert (result.status, result.stdout) == (0, "2\n")
    reports = [line for line in result.stderr.splitlines() if "error[" in line]
    assert reports == [
        "<repl>:1:9: error[syntax-error]: invalid UTF-8 byte 0xff",
        "<repl>:2:1: error[syntax-error]: invalid UTF-8 byte 0xfe",
    ]


def _run_with_streams(
    tmp_path: Path, options: list[str], env: dict[str, str], **streams: object
) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "p.fl").write_text(
        '(print "hello" (read-line))\n(io:print-err "to stderr")\n(print "bye")\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "fluentai", "run", *options, "p.fl"],
        cwd=tmp_path,
        env=_environment(_cache(tmp_path, env)),
        timeout=TIMEOUT,
        check=False,
        **streams,  # type: ignore[call-overload]
    )


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize("fd", [0, 1, 2], ids=["stdin", "stdout", "stderr"])
def test_a_closed_standard_stream_is_discarded_or_empty_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str], fd: int
) -> None:
    # with fd 1 or 2 closed (`>&-`) Python's stream is None: an internal error, status 70
    completed = _run_with_streams(
        tmp_path,
        options,
        env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(fd),
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (b"" if fd == 1 else b"hello nil\nbye\n")
    assert completed.stderr == (b"" if fd == 2 else b"to stderr\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_a_standard_output_that_cannot_be_written_is_discarded_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # the VM failed with an internal error (status 70); the runtime discards the rest
    with open("/dev/full", "wb") as full:
        completed = _run_with_streams(
            tmp_path, options, env, stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE
        )
    assert (completed.returncode, completed.stderr) == (0, b"to stderr\n")


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_a_standard_input_that_cannot_be_read_is_at_its_end_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # opened write-only (`0>file`): the VM's read failed with an internal error (status 70),
    # the runtime's read-line gives nil
    with open(tmp_path / "out.txt", "wb") as write_only:
        completed = _run_with_streams(
            tmp_path, options, env, stdin=write_only, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    assert (completed.returncode, completed.stdout, completed.stderr) == (
        0,
        b"hello nil\nbye\n",
        b"to stderr\n",
    )


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_a_directory_as_standard_input_is_at_its_end_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # Python cannot start with a directory on fd 0 ("Fatal Python error: init_sys_streams"):
    # the `fluentai` command (bin/fluentai, whose shell part finds `python3` on PATH here)
    # starts it with /dev/null and puts the directory back; reading it is the end of the input
    (tmp_path / "p.fl").write_text(
        '(print "hello" (read-line))\n(io:print-err "to stderr")\n(print "bye")\n'
    )
    environment = _environment(_cache(tmp_path, env))
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    directory = os.open(tmp_path, os.O_RDONLY)
    try:
        completed = subprocess.run(
            ["/bin/sh", str(REPO_ROOT / "bin" / "fluentai"), "run", *options, "p.fl"],
            cwd=tmp_path,
            env=environment,
            timeout=TIMEOUT,
            check=False,
            stdin=directory,
            capture_output=True,
        )
    finally:
        os.close(directory)
    assert (completed.returncode, completed.stdout, completed.stderr) == (
        0,
        b"hello nil\nbye\n",
        b"to stderr\n",
    )


def _broken_pipe() -> int:
    """The writing end of a pipe whose reading end is closed (the caller closes it)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize("stderr", ["full", "broken-pipe"])
@pytest.mark.parametrize(
    ("source", "status"),
    [
        ('(print "before")\n(io:print-err "lost")\n(io:print-err "lost")\n(print "after")\n', 0),
        ('(print "before")\n(car [])\n', 70),
    ],
    ids=["ok", "uncaught-error"],
)
def test_a_standard_error_that_cannot_be_written_changes_no_exit_status_on_every_tier(
    tmp_path: Path,
    tier: str,
    options: list[str],
    env: dict[str, str],
    stderr: str,
    source: str,
    status: int,
) -> None:
    # the VM ended with status 1 (its report of the failed write failed too), or with 0 after
    # an uncaught error when standard error was a closed pipe; the runtime ignores the failure
    (tmp_path / "p.fl").write_text(source)
    target = os.open("/dev/full", os.O_WRONLY) if stderr == "full" else _broken_pipe()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "fluentai", "run", *options, "p.fl"],
            cwd=tmp_path,
            env=_environment(_cache(tmp_path, env)),
            timeout=TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=target,
        )
    finally:
        os.close(target)
    assert completed.returncode == status
    assert completed.stdout == (b"before\nafter\n" if status == 0 else b"before\n")


_DEEP = "(define (d n) (if (= n 0) 0 (+ 1 (d (- n 1)))))\n(print (try (d {n}) (catch e (error-kind e))))\n"


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize(
    ("value", "stdout"),
    [
        ("abc", "1000\n"),
        ("0", "1000\n"),
        ("-5", "1000\n"),
        ("12abc", "1000\n"),
        (" 999 ", "stack-overflow\n"),
    ],
    ids=["word", "zero", "negative", "trailing-junk", "blanks"],
)
def test_max_depth_setting_is_read_alike_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str], value: str, stdout: str
) -> None:
    # the VM failed with an internal error on `abc`, and took 0 and negative values as limits
    env = {**env, "FLUENTAI_MAX_DEPTH": value}
    result = run_source(tmp_path, _DEEP.format(n=1000), *options, env=_cache(tmp_path, env))
    warning = (
        ""
        if stdout == "stack-overflow\n"
        else f"fluentai: warning: FLUENTAI_MAX_DEPTH={value!r} is not a positive count; "
        "using the default\n"
    )
    assert (result.status, result.stdout, result.stderr) == (0, stdout, warning)


@pytest.mark.parametrize(("tier", "options", "env"), TIERS[1:], ids=TIER_IDS[1:])
def test_a_huge_max_depth_still_ends_in_stack_overflow_not_a_crash(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # native recursion 20 million deep overran the program thread's stack (a segfault)
    env = {**env, "FLUENTAI_MAX_DEPTH": "1000000000", "FLUENTAI_NATIVE_OPT": "0"}
    result = run_source(tmp_path, _DEEP.format(n=100_000_000), *options, env=_cache(tmp_path, env))
    assert (result.status, result.stdout, result.stderr) == (0, "stack-overflow\n", "")


@pytest.mark.parametrize(("tier", "options", "env"), TIERS[1:], ids=TIER_IDS[1:])
def test_deep_recursion_of_a_function_with_a_big_frame_is_a_stack_overflow(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # 400 values live across the recursive call: native frames of several KiB overran the
    # stack (a segfault) before the depth limit was reached
    binds = " ".join(f"(v{i} (+ n {i}))" for i in range(400))
    uses = " ".join(f"v{i}" for i in range(400))
    source = (
        f"(define (f n) (if (= n 0) 0 (let ({binds}) (+ (f (- n 1)) {uses}))))\n"
        "(print (try (f 100000000) (catch e (error-kind e))))\n"
    )
    env = {**env, "FLUENTAI_NATIVE_OPT": "0"}
    result = run_source(tmp_path, source, *options, env=_cache(tmp_path, env))
    assert (result.status, result.stdout, result.stderr) == (0, "stack-overflow\n", "")


def test_a_hundred_thousand_calls_with_big_frames_fit_in_native_code(tmp_path: Path) -> None:
    # LANGUAGE.md §12's minimum: 100 Float locals live across the recursive call make frames of
    # about 17 KB at -O0, which overflowed the 1 GiB stack at 58 000 calls
    binds = " ".join(f"(v{i} (* n {i}.5))" for i in range(100))
    uses = " ".join(f"v{i}" for i in range(100))
    source = (
        f"(define (f n) (if (= n 0) 0 (let ({binds}) (+ 1 (f (- n 1)) (- (+ {uses}) (+ {uses}))))))\n"
        "(print (f 100000))\n"
    )
    env = {"FLUENTAI_NATIVE_OPT": "0"}
    result = run_source(tmp_path, source, "--tier", "native", env=_cache(tmp_path, env))
    assert (result.status, result.stdout, result.stderr) == (0, "100000.0\n", "")


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize(
    "source",
    [
        "(print (length (range 9223372036854775808)))",  # the VM's len() overflowed
        "(print (try (range 0 (pow 2 64) 1) (catch e 0)))",
        "(print (range (pow 2 49)))",
        # fused into a counter (passes/fuse_lists.py), which leaves such a range to `range`
        "(print (sum (map (lambda (x) (* x 2)) (range 0 (pow 2 60) 3))))",
    ],
)
def test_a_range_no_memory_holds_is_out_of_memory_at_once_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str], source: str
) -> None:
    result = run_source(tmp_path, source, *options, env=_cache(tmp_path, env))
    assert (result.status, result.stdout) == (70, "")
    assert result.stderr == "fluentai: error: out of memory\n"


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
@pytest.mark.parametrize(
    ("source", "report"),
    [
        ('(error (str "a" (int->char 0) "b"))', "prog.fl:1:1: error[user]: a\x00b"),
        ('(raise (str "k" (int->char 0) "x") "m")', "prog.fl:1:1: error[k\x00x]: m"),
        (
            '(match (string->symbol (str "a" (int->char 0) "b")) (1 1))',
            "prog.fl:1:1: error[match-failure]: no pattern matches a\x00b",
        ),
    ],
    ids=["message", "kind", "written-value"],
)
def test_a_nul_in_an_errors_kind_or_message_is_reported_whole_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str], source: str, report: str
) -> None:
    # native reports used to end the kind or the message at the NUL (C strings)
    result = run_source(tmp_path, source, *options, env=_cache(tmp_path, env))
    assert result.status == 70
    assert report_line(result.stderr) == report


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_names_holding_a_nul_print_and_dispatch_whole_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # a Symbol may hold U+0000 (§1); native code kept names as C strings, so they printed cut
    # at the NUL and a clause for `app:o<NUL>p` handled `app:o<NUL>q`
    source = (
        b"(data T\x00x (C\x00y Int) D\x00z)\n"
        b"(define (a\x00b x) x)\n"
        b"(print a\x00b (C\x00y 1) D\x00z (type-of D\x00z) C\x00y app:x\x00y)\n"
        b"(print (try (handler ((app:o\x00p (fn () 1))) (app:o\x00q))"
        b" (catch e (error-kind e))))\n"
        b"(print (handler ((app (fn (op) [op (string-length op)]))) (app:x\x00y)))\n"
        b"(apply a\x00b [])\n"
    )
    result = run_source(tmp_path, source, *options, env=_cache(tmp_path, env))
    assert result.stdout == (
        "#<function a\x00b> (C\x00y 1) D\x00z T\x00x #<function C\x00y> #<function app:x\x00y>\n"
        'unhandled-effect\n["x\\u{0}y" 3]\n'
    )
    assert result.status == 70
    assert report_line(result.stderr) == (
        "prog.fl:6:1: error[arity-error]: `a\x00b` expects 1 argument, got 0"
    )


def _small_file_limit() -> None:
    """In the child: files of at most 10 KiB (`ulimit -f 10`)."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (10240, 10240))


@pytest.mark.parametrize("tier", ["vm", "native", "aot"])
def test_a_write_past_the_file_size_limit_is_an_io_error_on_every_tier(
    tmp_path: Path, tier: str
) -> None:
    # executables died of SIGXFSZ (status 153, their output lost); Python ignores the signal,
    # so the write fails with EFBIG: an io-error
    (tmp_path / "p.fl").write_text(
        '(print "start")\n'
        '(define text (string-join "" (map (lambda (i) "0123456789") (range 6000))))\n'
        '(print (try (io:write-file "big.out" text) (catch e (error-kind e))))\n'
        '(print "end")\n'
    )
    completed = subprocess.run(
        tier_command(tmp_path, tier, "p"),
        cwd=tmp_path,
        env=_environment(_cache(tmp_path, {})),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_small_file_limit,
    )
    assert (completed.returncode, completed.stdout) == (0, b"start\nio-error\nend\n")


def _address_space(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return preexec


def test_a_source_no_memory_holds_is_out_of_memory(tmp_path: Path) -> None:
    # `run /dev/zero` reads until memory runs out: that was an internal error (MemoryError)
    completed = subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "/dev/zero"],
        cwd=tmp_path,
        env=_environment(_cache(tmp_path, {})),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_address_space(1 << 30),
    )
    assert (completed.returncode, completed.stderr) == (70, b"fluentai: error: out of memory\n")


@pytest.mark.parametrize("command", [["build", "p.fl", "-o", "p"], ["run", "--tier", "native"]])
def test_too_little_address_space_for_llvm_is_a_one_line_error(
    tmp_path: Path, command: list[str]
) -> None:
    # llvmlite's library maps about 180 MB: under a tight limit it cannot be loaded, nor can
    # threads be started. That was an internal error, a `cannot write` usage error (status 2)
    # or, for LLVM's in-process linker, an abort
    (tmp_path / "p.fl").write_text(
        "(define (f n) (if (= n 0) 0 (+ 1 (f (- n 1)))))\n(print (f 3000))\n"
    )
    args = command if command[0] == "build" else [*command, "p.fl"]
    for limit in (400 << 20, 600 << 20):
        completed = subprocess.run(
            [sys.executable, "-m", "fluentai", *args],
            cwd=tmp_path,
            env=_environment(_cache(tmp_path, {})),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
            preexec_fn=_address_space(limit),
        )
        lines = completed.stderr.decode().splitlines()
        if completed.returncode == 0:
            continue  # enough after all on this machine
        assert completed.returncode == 70, completed.stderr
        assert len(lines) == 1 and lines[0].startswith("fluentai: error: "), lines
        assert "internal error" not in lines[0]


def _on_tiers(
    tmp_path: Path, tiers: list[str], env: dict[str, str]
) -> list[subprocess.CompletedProcess[bytes]]:
    """p.fl in TMP_PATH run on each of TIERS (`aot`: built, then the executable)."""
    return [
        subprocess.run(
            tier_command(tmp_path, tier, "p"),
            cwd=tmp_path,
            env=_environment(_cache(tmp_path, env)),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        for tier in tiers
    ]


@pytest.mark.parametrize(
    "env",
    [
        {"FLUENTAI_SEED": "abc", "FLUENTAI_MAX_DEPTH": "x1"},
        {"FLUENTAI_SEED": "it's", "FLUENTAI_MAX_DEPTH": "-5"},
        {"FLUENTAI_SEED": " -12 ", "FLUENTAI_MAX_DEPTH": "0"},
        {"FLUENTAI_SEED": "a\tb\x01"},
    ],
    ids=["letters", "quote-negative", "valid-seed-zero-depth", "controls"],
)
def test_an_executable_warns_of_bad_settings_as_fluentai_run_does(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # executables ignored them silently
    (tmp_path / "p.fl").write_text("(print (+ 1 2))\n")
    runs = _on_tiers(tmp_path, ["aot", "vm"], env)
    assert runs[0].stderr.startswith(b"fluentai: warning: ")
    assert [(r.returncode, r.stdout, r.stderr) for r in runs] == [(0, b"3\n", runs[1].stderr)] * 2


def test_a_report_shows_a_long_source_line_in_part_on_every_tier(tmp_path: Path) -> None:
    # a minified program's line of megabytes made every report as long
    line = "(define x 1)" + " " * 300 + "(print (head []))" + " 1" * 100_000
    (tmp_path / "p.fl").write_text(line + "\n")
    runs = _on_tiers(tmp_path, ["vm", "native", "aot"], {})
    stderr = runs[0].stderr.decode()
    assert [(r.returncode, r.stderr) for r in runs] == [(70, runs[0].stderr)] * 3
    lines = stderr.splitlines()
    assert lines[0] == "p.fl:1:320: error[empty-list]: `head` expects a non-empty list, got []"
    assert max(len(x) for x in lines) < 220
    shown, caret = lines[-2], lines[-1]
    assert shown.startswith("    ...") and shown.endswith("...")
    assert shown[caret.index("^") :].startswith("(head [])")
    assert caret.strip() == "^" * len("(head [])")
    # a compile-time report too
    (tmp_path / "q.fl").write_text("(print 1)" + " " * 400 + "(print nope)" + " 2" * 1000 + "\n")
    compiled = subprocess.run(
        [sys.executable, "-m", "fluentai", "run", "--tier", "vm", "q.fl"],
        cwd=tmp_path,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
        env=_environment(_cache(tmp_path, {})),
    )
    report = compiled.stderr.decode().splitlines()
    assert compiled.returncode == 65 and report[0].startswith("q.fl:1:417: error[unbound-variable]")
    assert max(len(x) for x in report) < 220
    assert report[1][report[2].index("^") :].startswith("nope")


@pytest.mark.parametrize(("tier", "options", "env"), TIERS, ids=TIER_IDS)
def test_lines_across_read_chunks_are_read_whole_on_every_tier(
    tmp_path: Path, tier: str, options: list[str], env: dict[str, str]
) -> None:
    # standard input is read in chunks of 64 KiB: a line of several chunks, lines ending in
    # one, a CRLF split between two and a last line without a newline
    first = "x" * 300_000
    short = [f"l{i}" for i in range(40_000)]
    data = (first + "\n" + "\n".join(short) + "\r\n" + "y" * 65535 + "\r\nlast").encode()
    (tmp_path / "p.fl").write_text(
        "(define (count n) (let ((l (read-line))) (if (= (string-length l) 65535) n"
        " (count (+ n 1)))))\n"
        "(print (string-length (read-line)) (count 0) (read-line) (read-line))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-m", "fluentai", "run", *options, "p.fl"],
        cwd=tmp_path,
        input=data,
        env=_environment(_cache(tmp_path, env)),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (completed.returncode, completed.stdout) == (0, b"300000 40000 last nil\n")
