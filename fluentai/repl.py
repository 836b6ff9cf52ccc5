"""The REPL: `fluentai repl`, and `fluentai` alone on a terminal (LANGUAGE.md §16).

Every entry runs in one Runtime (api.py), so definitions persist from entry to entry. Each
non-nil value that is not a definition is written in written form, as `run -p` does; errors are
reported exactly as `fluentai run` reports them (FILE `<repl>`) and the session goes on. On a
terminal, prompt_toolkit gives line editing, a persistent history, entries spanning several lines
until their brackets balance, highlighting (highlight.py) and Tab completion; otherwise entries
are read from standard input, which scripts and tests use.

    fl> (define (sq x) (* x x))
    fl> (map sq [1 2 3])
    [1 4 9]
    fl> :type (sq 2)
    Int    ; inferred statically
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO, TypeVar, cast

from fluentai import __version__, primitives
from fluentai.api import FluentAIError, FluentAIExit, Runtime
from fluentai.bigstack import STACK_SIZES
from fluentai.diagnostics import Diagnostic, DiagnosticSink, render_compile
from fluentai.driver import (
    EXIT_OK,
    UsageError,
    internal_error,
    load_source,
    source_from_bytes,
)
from fluentai.frontend import PassTimes
from fluentai.reader.lexer import BadToken, Scanner, TokenKind
from fluentai.source import SourceFile
from fluentai.syntax.expand import SPECIAL_FORMS
from fluentai.vm.builtins_types import type_name
from fluentai.vm.disasm import disassemble
from fluentai.vm.values import Builtin, Closure, Constructor, EffectFn

__all__ = ["Repl", "history_path", "is_complete", "main"]

PROMPT: Final = "fl> "
CONTINUATION: Final = "... "
REPL_FILE: Final = "<repl>"
HISTORY_ENV: Final = "FLUENTAI_HISTORY"
_OPENERS: Final = (TokenKind.LPAREN, TokenKind.LBRACKET, TokenKind.LBRACE)
_CLOSERS: Final = (TokenKind.RPAREN, TokenKind.RBRACKET, TokenKind.RBRACE)

T = TypeVar("T")


# ---------------------------------------------------------------- entries


def _open_at_end(text: str) -> tuple[int, bool] | None:
    """How many brackets are open at the end of `text` (negative: too many closed) and whether
    its last token is a quote; None inside an unterminated string. The reader's own scanner
    decides, so strings, comments and escapes count exactly as they do for the reader."""
    depth = 0
    kind: object = None
    for kind, _, _, _ in Scanner(SourceFile(REPL_FILE, text), DiagnosticSink()):
        if kind is BadToken.UNTERMINATED_STRING:
            return None
        if kind in _OPENERS:
            depth += 1
        elif kind in _CLOSERS:
            depth -= 1
    return depth, kind is TokenKind.QUOTE


def bracket_depth(text: str) -> int | None:
    """How many brackets are open at the end of `text`; None inside an unterminated string."""
    state = _open_at_end(text)
    return None if state is None else state[0]


def is_complete(text: str) -> bool:
    """Whether an entry is ready to run: no bracket or string left open, no quote waiting for
    its datum. Too many closing brackets count as complete (the error is then reported)."""
    state = _open_at_end(text)
    return state is not None and state[0] <= 0 and not state[1]


def history_path() -> Path:
    """$FLUENTAI_HISTORY, else $XDG_DATA_HOME/fluentai/history, else
    ~/.local/share/fluentai/history."""
    explicit = os.environ.get(HISTORY_ENV)
    if explicit:
        return Path(explicit)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "fluentai" / "history"


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    """A REPL command `:name ARGUMENT`; `run` returns an exit status to end the session."""

    names: tuple[str, ...]
    argument: str
    help: str
    run: Callable[[Repl, str], int | None]


def _cmd_help(repl: Repl, _: str) -> None:
    lines = ["Enter FluentAI forms; each non-nil value is written back. Commands:"]
    for cmd in COMMANDS:
        usage = " ".join(f":{n}" for n in cmd.names[:1]) + (
            f" {cmd.argument}" if cmd.argument else ""
        )
        lines.append(f"  {usage:<14} {cmd.help}")
    lines.append("An entry ends when its brackets balance. Tab completes names; Ctrl-C cancels the")
    lines.append("entry or interrupts a running one; Ctrl-D or :quit leaves.")
    repl.say("\n".join(lines))


def _cmd_quit(repl: Repl, _: str) -> int:
    return EXIT_OK


def _cmd_load(repl: Repl, argument: str) -> None:
    path = argument.strip()
    if len(path) >= 2 and path[0] == path[-1] == '"':
        path = path[1:-1]
    if not path:
        repl.complain("`:load` expects a file name")
        return
    try:
        src = load_source(path)
    except UsageError as err:
        repl.complain(str(err))
        return
    if not isinstance(src, SourceFile):
        repl.report(render_compile(src))
        return
    if repl.evaluate(src, print_values=False) is not _FAILED:
        repl.say(f"loaded {path}")


def _cmd_type(repl: Repl, argument: str) -> None:
    """The inferred static type of EXPR (fluentai/types/), in the context of the session's
    globals; when inference says Any, EXPR is evaluated and its runtime type shown."""
    static = static_type(repl, argument)
    if static is not None:
        repl.say(f"{static}    ; inferred statically")
        return
    value = repl.evaluate(repl.entry(argument), print_values=False)
    if value is not _FAILED:
        note = "the value's runtime type (type-of): static types are not inferred yet"
        repl.say(f"{type_name(value)}    ; {note}")


def static_type(repl: Repl, argument: str) -> str | None:
    """The inferred type of the entry's last form, described (`Int (constant 3)`); None when
    inference gives Any or Never, or the entry does not compile (evaluation then reports it)."""
    from fluentai.passes.pipeline import PASSES
    from fluentai.reader.read import read_program
    from fluentai.syntax.expand import expand_program
    from fluentai.types import describe, infer_program
    from fluentai.types.dump import prelude_core
    from fluentai.types.lattice import runtime_type

    try:
        sink = DiagnosticSink()
        program = expand_program(read_program(repl.entry(argument)), sink)
        if sink.items or not program.forms:
            return None
        runtime = repl.runtime
        resolved = runtime.scope.resolve(program, runtime.session.vm.globals, sink)
        if sink.items or not resolved.forms:
            return None
        for row in PASSES:
            resolved = row.run(resolved)
        outside = {}
        for name in runtime.global_names():
            value = runtime.lookup(name)
            if value is not None:
                outside[name] = runtime_type(type_name(value))
        result = infer_program(prelude_core(), resolved, global_types=outside)
        inferred = result.type_of(resolved.forms[-1][0])
    except Exception:  # noqa: BLE001 - no static type: the runtime type is shown instead
        return None
    if inferred.is_any or inferred.is_never:
        return None
    return describe(inferred)


def _cmd_dis(repl: Repl, argument: str) -> None:
    name = argument.strip()
    if not name:
        repl.complain("`:dis` expects a name or an expression")
        return
    if is_plain_symbol(name):
        value = repl.runtime.lookup(name)
        if value is None:
            repl.complain(f"`{name}` is not defined")
            return
    else:
        value = repl.evaluate(repl.entry(name), print_values=False)
        if value is _FAILED:
            return
    for tier, text in disassemblies(repl.runtime, name, value):
        repl.say(f"; {tier}\n{text.rstrip()}")


def _cmd_time(repl: Repl, argument: str) -> None:
    times = PassTimes()
    if repl.evaluate(repl.entry(argument), times=times) is _FAILED:
        return
    run = sum(seconds for stage, seconds in times.rows if stage == "run")
    compiled = sum(seconds for stage, seconds in times.rows if stage != "run")
    repl.say(
        f"time: {(run + compiled) * 1000:.3f} ms "
        f"(compile {compiled * 1000:.3f} ms, run {run * 1000:.3f} ms)"
    )


COMMANDS: Final[tuple[Command, ...]] = (
    Command(("help", "h", "?"), "", "show this help", _cmd_help),
    Command(("load", "l"), "FILE", "run a program file in this session", _cmd_load),
    Command(("type", "t"), "EXPR", "evaluate EXPR and show the type of its value", _cmd_type),
    Command(("dis", "d"), "NAME", "disassemble a function (a name or an expression)", _cmd_dis),
    Command(("time",), "EXPR", "evaluate EXPR and show how long it took", _cmd_time),
    Command(("quit", "q", "exit"), "", "leave the REPL (also Ctrl-D)", _cmd_quit),
)
_BY_NAME: Final = {name: cmd for cmd in COMMANDS for name in cmd.names}


def is_plain_symbol(text: str) -> bool:
    """Whether `text` is one symbol token (a name to look up, not an expression)."""
    tokens = list(Scanner(SourceFile(REPL_FILE, text), DiagnosticSink()))
    return len(tokens) == 1 and tokens[0][0] is TokenKind.SYMBOL


def disassemblies(runtime: Runtime, name: str, value: Any) -> list[tuple[str, str]]:
    """The code of a function value in each form that exists, as (title, text) pairs: bytecode
    now; the native tiers add their LLVM IR and assembly here."""
    if isinstance(value, Closure):
        names = runtime.session.vm.globals.names
        return [("bytecode", disassemble(value.code, names))]
    if isinstance(value, Builtin):
        return [("builtin", f"`{value.name}` is a builtin written in Python: it has no bytecode")]
    if isinstance(value, Constructor | EffectFn):
        return [
            ("function", f"`{value.name}` is a constructor or an effect operation: no bytecode")
        ]
    kind = type_name(value)
    article = "an" if kind[:1] in "AEIOU" else "a"
    return [("value", f"`{name}` is {article} {kind}, not a function")]


# ---------------------------------------------------------------- the session


class _Failed:
    """What `Repl.evaluate` returns when the entry failed (its report is already written)."""


_FAILED: Final = _Failed()


class Repl:
    """One REPL session: runs entries and commands against a Runtime."""

    def __init__(self, runtime: Runtime, stderr: TextIO) -> None:
        self.runtime = runtime
        self.stderr = stderr
        if sys.getrecursionlimit() < 200_000:
            sys.setrecursionlimit(200_000)  # deeply nested entries compile on the big stack

    def handle(self, text: str) -> int | None:
        """Run one entry or command; an exit status when the session should end."""
        stripped = text.strip()
        if not stripped:
            return None
        if stripped.startswith(":") and len(stripped) > 1:
            head, *rest = stripped[1:].split(maxsplit=1)
            command = _BY_NAME.get(head)
            # any other entry that starts with `:` is a program: a keyword (`:kw`) is a form
            if command is not None:
                return self._guard(lambda: command.run(self, rest[0] if rest else ""))
        return self._guard(lambda: self._evaluate_entry(text))

    def _evaluate_entry(self, text: str) -> None:
        self.evaluate(self.entry(text))

    def entry(self, text: str) -> SourceFile:
        return SourceFile(REPL_FILE, text.replace("\r\n", "\n"))

    def evaluate(
        self, src: SourceFile, *, print_values: bool = True, times: PassTimes | None = None
    ) -> Any:
        """Run an entry, writing its values; its raw value, or _FAILED after a report."""
        try:
            return run_interruptible(
                lambda: self.runtime.run_entry(src, print_values=print_values, times=times),
                self.runtime.world.interrupt,
            )
        except FluentAIError as err:
            self.report(err.report)
        except KeyboardInterrupt:
            self.report("interrupted")
        finally:
            self.runtime.world.interrupt.clear()
            self.runtime.world.interrupt_taken = False
            self._end_line()
        return _FAILED

    def names(self) -> list[str]:
        """What Tab completes: special forms, builtins and the globals defined so far."""
        builtins = (n for n, p in primitives.table().items() if not p.internal)
        return sorted({*SPECIAL_FORMS, *builtins, *self.runtime.global_names()})

    def say(self, text: str) -> None:
        """Write the REPL's own output on standard output, after the program's."""
        world = self.runtime.world
        self._end_line()
        world.write(text + "\n")
        world.flush()

    def report(self, text: str) -> None:
        """Write an error report on standard error, after the program's output."""
        self._end_line()
        self.runtime.world.write_err(text + "\n")

    def complain(self, message: str) -> None:
        self.report(f"fluentai: error: {message}")

    def _end_line(self) -> None:
        world = self.runtime.world
        if not world.at_line_start():
            world.write("\n")
        world.flush()

    def _guard(self, action: Callable[[], int | None]) -> int | None:
        """Run an entry or command; `(exit n)` ends the session, an internal error does not."""
        try:
            return action()
        except FluentAIExit as ex:
            return ex.code
        except MemoryError:
            self.complain("out of memory")
        except Exception as exc:  # noqa: BLE001 - an implementation bug: one line, session goes on
            self._end_line()
            internal_error(exc, self.stderr)
        return None


def run_interruptible(fn: Callable[[], T], interrupt: threading.Event) -> T:
    """Run `fn` on a thread with a large stack; Ctrl-C in this thread interrupts it.

    Ctrl-C sets `interrupt` (blocking waits in the world watch it) and raises KeyboardInterrupt in
    the evaluation thread, which unwinds through the program's `finally` clauses; this thread
    keeps waiting for it, so the session is always in a consistent state afterwards."""
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def target() -> None:
        try:
            try:
                outcome.append(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                failure.append(exc)
            finally:
                done.set()
        except KeyboardInterrupt:  # an interrupt that arrived as the entry finished
            done.set()

    thread = _start_thread(target)
    while not done.is_set():
        try:
            done.wait(0.05)
        except KeyboardInterrupt:
            interrupt.set()
            if thread.ident is not None and not done.is_set():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
                )
    thread.join()
    if failure:
        raise failure[0]
    if not outcome:
        raise KeyboardInterrupt
    return outcome[0]


def _start_thread(target: Callable[[], None]) -> threading.Thread:
    """Start `target` on a daemon thread with the largest stack that can be reserved."""
    old_size = threading.stack_size()
    for size in STACK_SIZES:  # as for `fluentai run`
        threading.stack_size(size)
        try:
            thread = threading.Thread(target=target, name="fluentai-repl", daemon=True)
            thread.start()
            return thread
        except RuntimeError:
            if size == 0:
                raise MemoryError from None
        finally:
            threading.stack_size(old_size)
    raise MemoryError


# ---------------------------------------------------------------- front ends


def main(tier: str, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """`fluentai repl`: interactive on a terminal, otherwise entries from standard input."""
    runtime = Runtime(tier, stdin=stdin, stdout=stdout, stderr=stderr)
    runtime.scope.late_builtins = True  # a later entry may define a builtin's name (§2.2)
    repl = Repl(runtime, stderr)
    if stdin.isatty() and stdout.isatty():
        return run_terminal(repl)
    return run_piped(repl)


def run_piped(repl: Repl) -> int:
    """Read lines from standard input; run each entry once its brackets balance."""
    pending: list[str] = []
    world = repl.runtime.world
    while True:
        if getattr(world.stdin, "buffer", None) is None:
            line = world.read_line()
        else:
            raw = world.read_bytes_line()
            try:
                line = None if raw is None else raw.decode("utf-8")
            except UnicodeDecodeError:
                # an entry that is not UTF-8 is a syntax-error (§1), reported like any other
                data = "\n".join([*pending, ""]).encode("utf-8") + cast(bytes, raw)
                pending.clear()
                diag = source_from_bytes(REPL_FILE, data)
                if isinstance(diag, Diagnostic):
                    repl.report(render_compile(diag))
                continue
        if line is None:
            break
        pending.append(line)
        text = "\n".join(pending)
        if is_complete(text):
            pending.clear()
            status = repl.handle(text)
            if status is not None:
                return status
    if pending:
        status = repl.handle("\n".join(pending))
        if status is not None:
            return status
    return EXIT_OK


def banner() -> str:
    return f"FluentAI {__version__}. Type :help for help, Ctrl-D to leave."


def completions(repl: Repl, text_before_cursor: str) -> Iterable[str]:
    """Names completing the word before the cursor (commands at the start of an entry)."""
    stripped = text_before_cursor.lstrip()
    if stripped.startswith(":") and " " not in stripped:
        return sorted(
            f":{n}" for cmd in COMMANDS for n in cmd.names[:1] if f":{n}".startswith(stripped)
        )
    word = _word_before(text_before_cursor)
    if not word:
        return []
    return [n for n in repl.names() if n.startswith(word)]


def _word_before(text: str) -> str:
    i = len(text)
    while i > 0 and text[i - 1] not in " \t\n\r\f,;()[]{}\"'":
        i -= 1
    return text[i:]


def run_terminal(repl: Repl) -> int:
    """The interactive loop: prompt_toolkit with history, highlighting and completion."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.lexers import PygmentsLexer

    from fluentai.highlight import FluentAILexer

    session: PromptSession[str] = PromptSession(
        history=_history(repl),
        lexer=PygmentsLexer(FluentAILexer),
        completer=_completer(repl),
        complete_while_typing=False,
        multiline=True,
        key_bindings=_key_bindings(),
        prompt_continuation=lambda width, line, soft: CONTINUATION.rjust(width),
    )
    repl.say(banner())
    while True:
        try:
            text = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue  # Ctrl-C cancels the entry being typed
        except EOFError:
            return EXIT_OK
        status = repl.handle(text)
        if status is not None:
            return status


def _history(repl: Repl) -> Any:
    """The history file (created if need be), or an in-memory history if it cannot be."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError as err:
        repl.complain(f"history is not saved: cannot write `{path}`: {err.strerror or err}")
        return InMemoryHistory()
    return FileHistory(str(path))


def _key_bindings() -> Any:
    """Enter runs the entry once it is complete and otherwise starts an indented new line."""
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None:  # Enter picks the completion shown
            buffer.complete_state = None
            return
        text = buffer.text
        if buffer.document.is_cursor_at_the_end and is_complete(text):
            buffer.validate_and_handle()
            return
        depth = bracket_depth(buffer.document.text_before_cursor) or 0
        buffer.insert_text("\n" + "  " * max(depth, 0))

    return bindings


def _completer(repl: Repl) -> Any:
    """Tab completion of names, of commands, and of file names after `:load`."""
    from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    paths = PathCompleter(expanduser=True)

    class _Completer(Completer):
        def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
            before = document.text_before_cursor
            if before.lstrip().startswith(":load "):
                argument = before.lstrip()[len(":load ") :]
                yield from paths.get_completions(Document(argument, len(argument)), event)
                return
            word = _word_before(before)
            if before.lstrip().startswith(":") and " " not in before.lstrip():
                word = before.lstrip()
            for name in completions(repl, before):
                yield Completion(name, start_position=-len(word))

    return _Completer()
