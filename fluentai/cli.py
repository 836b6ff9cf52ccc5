"""Command-line interface: argument parsing and subcommands only (LANGUAGE.md §16).

fluentai run [--tier auto|vm|native] [--print-values|-p] [--jit-stats] [--no-cache] FILE [ARGS...]
fluentai eval [--tier auto|vm|native] "SOURCE"
fluentai build FILE -o OUT [--emit llvm|asm|obj] [-O0|-O1|-O2|-O3]
fluentai repl | bench | cache clear|info|path
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, NoReturn, cast

from fluentai import __version__
from fluentai.driver import (
    EXIT_USAGE,
    RunOptions,
    UsageError,
    execute,
    internal_error,
    load_source,
    source_from_bytes,
)
from fluentai.stages import DUMP_STAGES, NATIVE_DUMP_STAGES

if TYPE_CHECKING:
    import argparse  # imported where a command line is parsed: a plain `run` needs none

DUMP_CHOICES = DUMP_STAGES + NATIVE_DUMP_STAGES


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            sys.stderr.write(f"fluentai: error: {message}\n")
            raise SystemExit(EXIT_USAGE)

    return _Parser


def _dump_stages(text: str) -> frozenset[str]:
    stages = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(stages - set(DUMP_CHOICES))
    if unknown:
        import argparse

        raise argparse.ArgumentTypeError(
            f"unknown stage {', '.join(unknown)} (stages: {', '.join(DUMP_CHOICES)})"
        )
    return stages


_NATIVE_DUMPS = ("llvm", "llvm-opt", "asm")


def _check_dump_tier(stages: frozenset[str], tier: str) -> None:
    """The back ends' stages exist on their tiers only: LLVM's with `--tier native` (the JIT's
    code is compiled in the background, when and if it gets hot), bytecode without it."""
    llvm = sorted(s for s in stages if s in _NATIVE_DUMPS)
    if llvm and tier != "native":
        raise UsageError(f"`--dump {','.join(llvm)}` needs `--tier native`")
    if "bytecode" in stages and tier == "native":
        raise UsageError("`--dump bytecode` needs a tier with the VM (`--tier vm` or `auto`)")


def _natural(text: str) -> int:
    if not text.isdigit():
        import argparse

        raise argparse.ArgumentTypeError(f"expected a count (0, 1, 2, ...), got `{text}`")
    return int(text)


def _byte_size(text: str) -> int:
    from fluentai.settings import byte_size

    n = byte_size(text)
    if n is None:
        import argparse

        raise argparse.ArgumentTypeError(
            f"expected a size in bytes (100, 512K, 64M, 1G), got `{text}`"
        )
    return n


def build_parser(only_run: bool = False) -> argparse.ArgumentParser:
    """The command line's parser; `only_run` leaves out the other subcommands (a `run` command
    line parses the same, and start-up is shorter)."""
    parser_class = _parser_class()
    parser = parser_class(
        prog="fluentai",
        description="FluentAI: a Lisp-like language with effects, a bytecode VM and native tiers.",
        epilog="Environment: FLUENTAI_JIT=0 disables native tiers; FLUENTAI_JIT_THRESHOLD, "
        "FLUENTAI_JIT_LOOP_THRESHOLD, FLUENTAI_JIT_TIME_MS, FLUENTAI_JIT_SYNC=1, "
        "FLUENTAI_JIT_OPT, FLUENTAI_JIT_TIER2_THRESHOLD, FLUENTAI_JIT_TIER2_TIME_MS, "
        "FLUENTAI_JIT_TIER2_OPT, FLUENTAI_JIT_DEOPT_LIMIT, FLUENTAI_JIT_RECOMPILE_LIMIT, "
        "FLUENTAI_JIT_CODE_BUDGET, FLUENTAI_JIT_INLINE_CACHES=0 and FLUENTAI_JIT_LOG=PATH tune "
        "and trace the JIT "
        "(docs/jit.md); FLUENTAI_IMAGE=0 "
        "disables program images (warm runs of hot programs without the VM, docs/jit.md) and "
        "FLUENTAI_IMAGE_WAIT_MS (default 2000) bounds a run's wait at exit for its image; "
        "FLUENTAI_CACHE=0 disables the code cache; FLUENTAI_SEED=n seeds the "
        "random generator; FLUENTAI_MAX_DEPTH=n sets the recursion limit (default 200000); "
        "FLUENTAI_TRACEBACK=1 shows Python tracebacks for internal errors. A value of none "
        "of these forms is ignored, with a warning.",
    )
    parser.add_argument("--version", action="version", version=f"fluentai {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=parser_class)

    def tier_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--tier",
            choices=("auto", "vm", "native"),
            default="auto",
            help="auto: tiered JIT (the VM profiles; hot code is compiled in the background and "
            "then runs natively, see docs/jit.md); vm: bytecode VM only; native: compile the "
            "whole program to machine code first",
        )

    run = sub.add_parser("run", help="run a program file")
    tier_option(run)
    run.add_argument("-p", "--print-values", action="store_true", help="write each top-level value")
    run.add_argument("--jit-stats", action="store_true", help="write JIT statistics at exit")
    run.add_argument(
        "--jit-threshold",
        type=_natural,
        metavar="N",
        help="calls after which a function is hot (default 1000; 0: every function is hot at "
        "its first call, loops at their first iteration); same as FLUENTAI_JIT_THRESHOLD",
    )
    run.add_argument(
        "--jit-loop-threshold",
        type=_natural,
        metavar="N",
        help="loop iterations (back edges, self tail calls) in one function after which it is "
        "hot (default 10000); same as FLUENTAI_JIT_LOOP_THRESHOLD",
    )
    run.add_argument(
        "--jit-time-ms",
        type=_natural,
        metavar="MS",
        help="milliseconds spent in one function after which it is hot (default 100); same "
        "as FLUENTAI_JIT_TIME_MS",
    )
    run.add_argument(
        "--jit-code-budget",
        type=_byte_size,
        metavar="SIZE",
        help="bytes of native code kept loaded (default 32M): units replaced by newer ones are "
        "unloaded, oldest first, beyond it (0: as soon as they are replaced); same as "
        "FLUENTAI_JIT_CODE_BUDGET",
    )
    run.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the compiled-code cache (same as FLUENTAI_CACHE=0)",
    )
    run.add_argument(
        "--time-passes",
        action="store_true",
        help="write the time each compiler stage took to stderr at exit",
    )
    run.add_argument(
        "--dump",
        type=_dump_stages,
        default=frozenset(),
        metavar="STAGE[,STAGE...]",
        help=f"write compiler stages to stderr: {', '.join(DUMP_CHOICES)} (llvm, llvm-opt and "
        "asm with --tier native only, bytecode without it)",
    )
    run.add_argument("file", metavar="FILE", help="the program (UTF-8 source)")
    run.add_argument(
        "args", nargs="*", default=[], metavar="ARGS", help="program arguments, given as (args)"
    )
    if only_run:
        return parser

    ev = sub.add_parser("eval", help="run SOURCE as a program and write its value")
    tier_option(ev)
    ev.add_argument("source", metavar="SOURCE")

    build = sub.add_parser(
        "build",
        help="compile a program to a standalone executable (ahead of time)",
        description="Compile FILE with the prelude into one native executable linked with the "
        "runtime, Boehm GC and GMP. The executable takes program arguments and behaves like "
        "`fluentai run` (output, reports, exit statuses).",
    )
    build.add_argument("file", metavar="FILE", help="the program (UTF-8 source)")
    build.add_argument(
        "-o", dest="output", metavar="OUT", help="output path (default: FILE without .fl)"
    )
    build.add_argument(
        "--emit",
        choices=("llvm", "asm", "obj"),
        help="write optimized LLVM IR, assembly or an unlinked object instead of an executable",
    )
    build.add_argument(
        "-O", dest="opt", choices=("0", "1", "2", "3"), default="2", help="LLVM optimization level"
    )
    build.add_argument(
        "--march-native",
        action="store_true",
        help="optimize for this machine's CPU (the executable may not run elsewhere)",
    )
    build.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="write each stage's time to stderr (on a terminal a status line shows the stage)",
    )

    repl = sub.add_parser(
        "repl",
        help="interactive read-eval-print loop (also `fluentai` alone on a terminal)",
        description="Read FluentAI forms, write each non-nil value, keep definitions between "
        "entries. Commands: :help, :load FILE, :type EXPR, :dis NAME, :time EXPR, :quit. "
        "When standard input is not a terminal, entries are read from it line by line. "
        "History: $FLUENTAI_HISTORY, else $XDG_DATA_HOME/fluentai/history, else "
        "~/.local/share/fluentai/history.",
    )
    repl.add_argument(
        "--tier",
        choices=("auto", "vm"),
        default="auto",
        help="both run each entry on the bytecode VM: the JIT and the native tier compile whole "
        "programs (docs/jit.md, 'Not done yet'); auto is kept so that a command line of `run` "
        "works here too",
    )
    bench = sub.add_parser(
        "bench",
        help="run the benchmark suite against CPython and peers (needs a source checkout)",
        description="Run benchmarks/ on every FluentAI tier that exists and every peer installed, "
        "check each output against the Python program's, and write docs/benchmarks.md, "
        ".json and .png.",
    )
    from fluentai.bench.options import add_bench_arguments  # argparse only: keeps `run` light

    add_bench_arguments(bench)
    cache = sub.add_parser(
        "cache",
        help="show or empty the compiled-code cache",
        description="The code cache keeps machine code: the program images and JIT units of "
        "`fluentai run`, programs run with --tier native and the compiled prelude, so that a "
        "later run of the same program on the same compiler and CPU loads it instead of "
        "compiling. It lives in $FLUENTAI_CACHE_DIR, else "
        "$XDG_CACHE_HOME/fluentai, else ~/.cache/fluentai, and is trimmed to 512 MiB, least "
        "recently used first. FLUENTAI_CACHE=0 or `run --no-cache` bypasses it; "
        "FLUENTAI_CACHE_SALT is mixed into every key.",
    )
    cache.add_argument(
        "action",
        choices=("clear", "info", "path", "prelude"),
        help="clear: delete every entry; info: location, number of entries and total size; "
        "path: the cache directory; prelude: compile the prelude (the builtins written in "
        "FluentAI) for native code and the JIT now, which the first hot program would do",
    )
    return parser


def _repl(tier: str) -> int:
    from fluentai import repl

    return repl.main(tier, sys.stdin, sys.stdout, sys.stderr)


def _build(args: argparse.Namespace) -> int:
    """`fluentai build FILE [-o OUT] [--emit llvm|asm|obj] [-O N]`."""
    from fluentai.diagnostics import CompileError, Diagnostic, render_compile
    from fluentai.native import build_executable

    src = load_source(args.file)
    if isinstance(src, Diagnostic):
        sys.stderr.write(render_compile(src) + "\n")
        return 65
    output = args.output
    if output is None:
        stem = args.file[:-3] if args.file.endswith(".fl") else args.file + ".out"
        suffix = {"llvm": ".ll", "asm": ".s", "obj": ".o"}.get(args.emit or "", "")
        output = stem + suffix
    _check_writable(output, args.file)
    try:
        return build_executable(
            src,
            output,
            opt=int(args.opt),
            emit=args.emit,
            stderr=sys.stderr,
            host_cpu=args.march_native,
            verbose=args.verbose,
        )
    except CompileError as err:
        sys.stderr.write(render_compile(err.diagnostics[0]) + "\n")
        return 65
    except OSError as err:
        if err.filename is None or os.path.abspath(err.filename) != os.path.abspath(output):
            raise  # not OUT's: the last line of defence reports it
        reason = (err.strerror or str(err)).lower()  # writing OUT (--emit) failed
        raise UsageError(f"cannot write `{output}`: {reason}") from None


def _check_writable(output: str, source: str) -> None:
    """A build output that cannot be written, or is the source itself, is a usage error, found
    before compiling."""
    if not output:
        raise UsageError("the output path (`-o`) is empty")
    parent = os.path.dirname(output) or "."
    try:
        same = os.path.samefile(output, source)
    except OSError:
        same = False  # OUT does not exist yet (or FILE is standard input's)
    if same:
        raise UsageError(f"cannot write `{output}`: it is the source file")
    if os.path.isdir(output):
        raise UsageError(f"cannot write `{output}`: is a directory")
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write `{output}`: no such directory `{parent}`")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write `{output}`: permission denied")
    if os.path.exists(output) and not os.access(output, os.W_OK):
        raise UsageError(f"cannot write `{output}`: permission denied")
    # Permission bits do not tell everything (a read-only mount, /proc, and root passes every
    # access check): create and remove a file beside OUT.
    import tempfile  # only here: with shutil and random, 8 ms of every start

    try:
        fd, probe = tempfile.mkstemp(prefix=".fluentai-build-", dir=parent)
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise UsageError(f"cannot write `{output}`: {reason}") from None
    os.close(fd)
    os.unlink(probe)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.1f} KiB"


def _cache_prelude() -> int:
    """`fluentai cache prelude`: the prelude's compiled units in the cache (`make run` does
    this once, so that no program's first run pays for them)."""
    import time

    from fluentai import codecache, native
    from fluentai.jit import unit

    if not codecache.enabled():
        sys.stdout.write("nothing stored: the code cache is disabled (FLUENTAI_CACHE=0)\n")
        return 0
    reason = codecache.unwritable()
    if reason:  # it compiled, then stored nothing, and said where it had
        raise UsageError(f"cannot write the code cache `{codecache.cache_dir()}`: {reason}")
    t0 = time.perf_counter()
    native.prelude_object(2)
    t1 = time.perf_counter()
    unit.jit_prelude()
    t2 = time.perf_counter()
    sys.stdout.write(
        f"prelude for native code and program images: {(t1 - t0) * 1000:.0f} ms; "
        f"for JIT units: {(t2 - t1) * 1000:.0f} ms (in {codecache.cache_dir()})\n"
    )
    return 0


def _cache(action: str) -> int:
    """`fluentai cache clear|info|path`."""
    from fluentai import codecache

    if action == "path":
        sys.stdout.write(f"{codecache.cache_dir()}\n")
    elif action == "prelude":
        return _cache_prelude()
    elif action == "clear":
        files, size = codecache.clear()
        sys.stdout.write(
            f"removed {files} file{'s' * (files != 1)} ({_size(size)}) "
            f"from {codecache.cache_dir()}\n"
        )
    else:
        info = codecache.info()
        sys.stdout.write(
            f"location: {info['location']}\n"
            f"entries: {info['entries']}\n"
            f"size: {_size(info['size'])} ({info['size']} bytes; limit {_size(info['limit'])})\n"
        )
        if not info["enabled"]:
            sys.stdout.write("disabled: FLUENTAI_CACHE=0\n")
        elif codecache.cache_dir().exists() and (reason := codecache.unwritable()):
            sys.stdout.write(f"not writable: {reason} (runs compile without it)\n")
    return 0


_RUN_VALUE_OPTIONS = (
    "--tier",
    "--dump",
    "--jit-threshold",
    "--jit-loop-threshold",
    "--jit-time-ms",
    "--jit-code-budget",
)
# the JIT's settings given as flags: each is handed to the JIT as its environment variable
_JIT_FLAG_ENVIRONMENT = (
    ("jit_threshold", "FLUENTAI_JIT_THRESHOLD"),
    ("jit_loop_threshold", "FLUENTAI_JIT_LOOP_THRESHOLD"),
    ("jit_time_ms", "FLUENTAI_JIT_TIME_MS"),
    ("jit_code_budget", "FLUENTAI_JIT_CODE_BUDGET"),
)


def _split_program_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """For `run`, everything after FILE belongs to the program, `--` included."""
    if "run" not in argv:
        return argv, []
    i = argv.index("run") + 1
    while i < len(argv):
        token = argv[i]
        if token in _RUN_VALUE_OPTIONS:
            i += 2
        elif token.startswith("-") and token != "-":
            i += 1
        else:
            return argv[: i + 1], argv[i + 1 :]
    return argv, []


def _leave(status: int) -> int:
    """After a run: wait for a program image still being compiled (fluentai/image.py). If a
    JIT compile thread is still inside LLVM, exit at once (after flushing), since LLVM's static
    destructors must not run under a live compile."""
    image = sys.modules.get("fluentai.image")
    if image is not None:
        image.finish_pending(wait=status != 130)
    jit = sys.modules.get("fluentai.jit.jit")
    if jit is not None and jit.compile_thread_alive():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)
    return status


_QUICK_FLAGS = {
    "--jit-stats": "jit_stats",
    "-p": "print_values",
    "--print-values": "print_values",
    "--time-passes": "time_passes",
    "--no-cache": "no_cache",
}


def _quick_run(argv: list[str]) -> argparse.Namespace | None:
    """The arguments of a plain `run [--tier T] [FLAGS] FILE ARGS...` without argparse, whose
    parser (with gettext and shutil) costs about 15 ms of every run's start; None for any other
    command line, which the parser then handles (and reports) in full."""
    if len(argv) < 2 or argv[0] != "run":
        return None
    # the parser's Namespace, without importing argparse (with gettext, 3 ms of every run)
    args = SimpleNamespace(
        command="run",
        tier="auto",
        print_values=False,
        jit_stats=False,
        jit_threshold=None,
        jit_loop_threshold=None,
        jit_time_ms=None,
        jit_code_budget=None,
        no_cache=False,
        time_passes=False,
        dump=frozenset(),
    )
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        token = argv[i]
        if token in _QUICK_FLAGS:
            setattr(args, _QUICK_FLAGS[token], True)
            i += 1
        elif token == "--tier" and argv[i + 1 : i + 2] in (["auto"], ["vm"], ["native"]):
            args.tier = argv[i + 1]
            i += 2
        elif token in ("--tier=auto", "--tier=vm", "--tier=native"):
            args.tier = token.split("=", 1)[1]
            i += 1
        else:
            return None  # `-`, `--`, --help, values to check: the parser's business
    if i >= len(argv):
        return None
    args.file = argv[i]
    args.args = argv[i + 1 :]
    return cast("argparse.Namespace", args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = _quick_run(argv)
    if quick is not None:
        args = quick
        program_args = quick.args
    else:
        parser = build_parser(only_run=argv[:1] == ["run"])
        own, program_args = _split_program_args(argv)
        args = parser.parse_args(own)
    if args.command == "run":
        args.args = program_args
        if args.no_cache:
            os.environ["FLUENTAI_CACHE"] = "0"  # read by fluentai.codecache
        for attr, variable in _JIT_FLAG_ENVIRONMENT:
            value = getattr(args, attr)
            if value is not None:
                os.environ[variable] = str(value)  # read by fluentai.jit.policy
    try:
        if args.command in ("run", "eval"):
            if os.environ.get("FLUENTAI_JIT") == "0" and args.tier == "native":
                raise UsageError("`--tier native` needs the native tiers, but FLUENTAI_JIT=0")
        if args.command == "run":
            _check_dump_tier(args.dump, args.tier)
            options = RunOptions(
                tier=args.tier,
                print_values=args.print_values,
                time_passes=args.time_passes,
                jit_stats=args.jit_stats,
                dump=args.dump,
                argv=list(args.args),
            )
            src = load_source(args.file)
            return _leave(execute(src, options, sys.stdout, sys.stderr, sys.stdin))
        if args.command == "eval":
            options = RunOptions(tier=args.tier, print_result=True)
            # the bytes as given: source that is not UTF-8 is a syntax-error (§1)
            return execute(
                source_from_bytes("<eval>", os.fsencode(args.source)),
                options,
                sys.stdout,
                sys.stderr,
                sys.stdin,
            )
        if args.command == "build":
            return _build(args)
        if args.command == "repl" or args.command is None:
            if args.command is None and not sys.stdin.isatty():
                sys.stderr.write("fluentai: error: no command given (see `fluentai --help`)\n")
                return EXIT_USAGE
            return _repl(getattr(args, "tier", "auto"))
        if args.command == "bench":
            from fluentai.bench.harness import run_bench  # only `bench` loads the harness

            return run_bench(args, sys.stderr)
        if args.command == "cache":
            return _cache(args.action)
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        sys.stderr.write(f"fluentai: error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback reaches users
        return internal_error(exc, sys.stderr)
