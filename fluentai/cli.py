"""Command-line interface: argument parsing and subcommands only (LANGUAGE.md §16).

fluentai run [--tier auto|vm|native] [--print-values|-p] [--jit-stats] FILE [ARGS...]
fluentai eval [--tier auto|vm|native] "SOURCE"
fluentai build FILE -o OUT [--emit llvm|asm|obj] [-O0|-O1|-O2|-O3]
fluentai repl | bench | cache clear|info
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from fluentai import __version__
from fluentai.driver import (
    EXIT_USAGE,
    RunOptions,
    UsageError,
    execute,
    internal_error,
    load_source,
)
from fluentai.pipeline import DUMP_STAGES
from fluentai.source import SourceFile

DUMP_CHOICES = DUMP_STAGES


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"fluentai: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _dump_stages(text: str) -> frozenset[str]:
    stages = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(stages - set(DUMP_CHOICES))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown stage {', '.join(unknown)} (stages: {', '.join(DUMP_CHOICES)})"
        )
    return stages


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fluentai",
        description="FluentAI: a Lisp-like language with effects, a bytecode VM and native tiers.",
        epilog="Environment: FLUENTAI_JIT=0 disables native tiers; FLUENTAI_SEED=n seeds the "
        "random generator; FLUENTAI_MAX_DEPTH=n sets the recursion limit (default 200000); "
        "FLUENTAI_TRACEBACK=1 shows Python tracebacks for internal errors.",
    )
    parser.add_argument("--version", action="version", version=f"fluentai {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def tier_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--tier",
            choices=("auto", "vm", "native"),
            default="auto",
            help="auto: tiered JIT (runs on the VM until native tiers land); vm: bytecode VM only; "
            "native: compile everything first (not available yet)",
        )

    run = sub.add_parser("run", help="run a program file")
    tier_option(run)
    run.add_argument("-p", "--print-values", action="store_true", help="write each top-level value")
    run.add_argument("--jit-stats", action="store_true", help="write JIT statistics at exit")
    run.add_argument(
        "--dump",
        type=_dump_stages,
        default=frozenset(),
        metavar="STAGE[,STAGE...]",
        help=f"write compiler stages to stderr: {', '.join(DUMP_CHOICES)}",
    )
    run.add_argument("file", metavar="FILE", help="the program (UTF-8 source)")
    run.add_argument("args", nargs="*", metavar="ARGS", help="program arguments, given as (args)")

    ev = sub.add_parser("eval", help="run SOURCE as a program and write its value")
    tier_option(ev)
    ev.add_argument("source", metavar="SOURCE")

    build = sub.add_parser("build", help="compile a program to an executable (not available yet)")
    build.add_argument("file", metavar="FILE")
    build.add_argument("-o", dest="output", metavar="OUT")
    build.add_argument("--emit", choices=("llvm", "asm", "obj"))
    build.add_argument("-O", dest="opt", choices=("0", "1", "2", "3"), default="2")

    sub.add_parser("repl", help="interactive read-eval-print loop (not available yet)")
    sub.add_parser("bench", help="benchmark harness (not available yet)")
    cache = sub.add_parser("cache", help="manage the compiled-code cache (not available yet)")
    cache.add_argument("action", choices=("clear", "info"))
    return parser


def _not_yet(what: str) -> int:
    sys.stderr.write(f"fluentai: error: {what} is not available yet in this version\n")
    return EXIT_USAGE


_RUN_VALUE_OPTIONS = ("--tier", "--dump")


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    own, program_args = _split_program_args(argv)
    args = parser.parse_args(own)
    if args.command == "run":
        args.args = program_args
    try:
        if args.command == "run":
            if os.environ.get("FLUENTAI_JIT") == "0" and args.tier == "native":
                raise UsageError("`--tier native` needs the native tiers, but FLUENTAI_JIT=0")
            options = RunOptions(
                tier=args.tier,
                print_values=args.print_values,
                jit_stats=args.jit_stats,
                dump=args.dump,
                argv=list(args.args),
            )
            src = load_source(args.file)
            return execute(src, options, sys.stdout, sys.stderr, sys.stdin)
        if args.command == "eval":
            options = RunOptions(tier=args.tier, print_result=True)
            return execute(
                SourceFile("<eval>", args.source.replace("\r\n", "\n")),
                options,
                sys.stdout,
                sys.stderr,
                sys.stdin,
            )
        if args.command == "build":
            return _not_yet("`fluentai build` (ahead-of-time compilation)")
        if args.command == "repl" or args.command is None:
            if args.command is None and not sys.stdin.isatty():
                sys.stderr.write("fluentai: error: no command given (see `fluentai --help`)\n")
                return EXIT_USAGE
            return _not_yet("the REPL")
        if args.command == "bench":
            return _not_yet("`fluentai bench`")
        if args.command == "cache":
            return _not_yet("the code cache")
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
