"""The REPL (LANGUAGE.md §16): entries, commands, completion, history, and a real terminal session.

Most tests feed entries to `repl.main` through a non-terminal standard input, in-process. One
test drives `fluentai repl` in a pseudo-terminal with pexpect, as a user would: define `fib`, run
it, see an error with a caret, recall an entry with the up arrow, interrupt a loop, complete a
name with Tab, and quit.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fluentai import gen, repl


def _default_sigint() -> None:
    """Ctrl-C as a terminal delivers it, whatever the test worker ignores (see test_cli.py)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


REPO_ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = REPO_ROOT / "docs" / "tutorial.md"
_TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_TIME_LINE = re.compile(r"time: [0-9.]+ ms \(compile [0-9.]+ ms, run [0-9.]+ ms\)")


def session(entries: str, tier: str = "vm") -> tuple[int, str]:
    """Run `entries` through a piped REPL; the exit status and everything it wrote, stdout and
    stderr interleaved as a terminal would show them."""
    out = io.StringIO()
    status = repl.main(tier, io.StringIO(entries), out, out)
    return status, out.getvalue()


# ---------------------------------------------------------------- entries


@pytest.mark.parametrize(
    "text",
    [
        "(+ 1 2)",
        "42",
        "(define (f x)\n  (* x 2))",
        '"a ( string"',
        "(print 1) ; a comment with (",
        "(+ 1 2))",  # too many closers: complete, and reported as an error
        "[1 {:a (2)}]",
        ":help",
        "",
    ],
)
def test_entry_with_balanced_brackets_is_complete(text: str) -> None:
    assert repl.is_complete(text)


@pytest.mark.parametrize(
    "text",
    ["(+ 1", "(define (f x)\n", '(print "unclosed', "[1 2", "{:a", "'", "(list 1 '"],
)
def test_entry_with_an_open_bracket_string_or_quote_is_incomplete(text: str) -> None:
    assert not repl.is_complete(text)


def test_bracket_depth_counts_open_brackets_for_the_indentation() -> None:
    assert repl.bracket_depth("(define (f x)\n  (if") == 2
    assert repl.bracket_depth('("(((")') == 0
    assert repl.bracket_depth('(print "') is None


def test_history_file_follows_fluentai_history_then_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLUENTAI_HISTORY", str(tmp_path / "h"))
    assert repl.history_path() == tmp_path / "h"
    monkeypatch.delenv("FLUENTAI_HISTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert repl.history_path() == tmp_path / "fluentai" / "history"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert repl.history_path() == tmp_path / ".local" / "share" / "fluentai" / "history"


# ---------------------------------------------------------------- a session


def test_definitions_persist_and_values_are_written_in_written_form() -> None:
    status, output = session(
        '(define (sq x) (* x x))\n(sq 12)\n"text"\n[1 "two" (Some 3)]\nnil\n(define y 1)\n'
    )
    assert status == 0
    assert output == '144\n"text"\n[1 "two" (Some 3)]\n'


def test_an_entry_may_span_several_lines() -> None:
    assert session("(+ 1\n   2\n   3)\n(list\n 'a)\n") == (0, "6\n[a]\n")


def test_each_value_of_an_entry_with_several_forms_is_written() -> None:
    assert session("1 (define z 2) z (print 'side)\n") == (0, "1\n2\nside\n")


def test_a_runtime_error_is_reported_with_a_caret_and_the_session_goes_on() -> None:
    status, output = session("(define (ratio a b) (/ a b))\n(ratio 3 0)\n(ratio 6 3)\n")
    assert status == 0
    assert output == (
        "<repl>:1:21: error[division-by-zero]: division by zero\n"
        "trace (innermost last):\n"
        "  <repl>:1:1 in <top level>\n"
        "    (ratio 3 0)\n"
        "  <repl>:1:21 in ratio\n"
        "    (define (ratio a b) (/ a b))\n"
        "                        ^^^^^^^\n"
        "2\n"
    )


def test_a_compile_error_is_reported_with_a_caret_and_nothing_of_the_entry_runs() -> None:
    status, output = session('(print "ran") (cons 1 2 3)\n(+ 1 1)\n')
    assert output == (
        "<repl>:1:15: error[arity-error]: `cons` expects 2 arguments, got 3\n"
        '  1 | (print "ran") (cons 1 2 3)\n'
        "    |               ^^^^^^^^^^^^\n"
        "2\n"
    )


def test_a_name_not_defined_yet_is_reported_when_it_is_evaluated() -> None:
    status, output = session("(define (f) (later 1))\n(f)\n(define (later x) (+ x 41))\n(f)\n")
    assert "error[unbound-variable]: `later` is not defined" in output
    assert output.endswith("\n42\n")


def test_a_data_type_from_one_entry_is_matched_in_the_next() -> None:
    entries = "(data T (A Int) B)\n(define v (A 1))\n(match v ((A n) n) (B 0))\n"
    assert session(entries) == (0, "1\n")


def test_output_without_a_final_newline_is_ended_before_the_next_value() -> None:
    assert session('(io:write "partial")\n5\n') == (0, "partial\n5\n")


def test_an_unclosed_entry_at_end_of_input_is_reported() -> None:
    status, output = session("(+ 1 2\n")
    assert output.startswith("<repl>:1:1: error[syntax-error]: unclosed `(`\n")


def test_exit_ends_the_session_with_its_status() -> None:
    assert session('(print "bye")\n(exit 3)\n(print "not run")\n') == (3, "bye\n")


def test_an_internal_error_is_one_line_and_the_session_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: object, src: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    out = io.StringIO()
    runtime = repl.Runtime("vm", stdin=io.StringIO(""), stdout=out, stderr=out)
    session_ = repl.Repl(runtime, out)
    monkeypatch.setattr(repl.Runtime, "run_entry", broken)
    assert session_.handle("(+ 1 2)") is None
    assert out.getvalue().startswith("fluentai: error: internal error: RuntimeError: boom")
    assert "Traceback" not in out.getvalue()


# ---------------------------------------------------------------- commands


def test_quit_ends_the_session() -> None:
    assert session("1\n:quit\n2\n") == (0, "1\n")


def test_help_lists_every_command() -> None:
    _, output = session(":help\n")
    for command in repl.COMMANDS:
        assert f":{command.names[0]}" in output


def test_an_entry_that_starts_with_a_keyword_is_a_form_unless_it_names_a_command() -> None:
    # keywords evaluate to themselves (LANGUAGE.md §1): only the commands' own names are taken
    assert session(':kw\n:nope 1\n[:help]\n(print "after")\n') == (
        0,
        ":kw\n:nope\n1\n[:help]\nafter\n",
    )


def test_a_constructor_used_before_its_data_entry_is_defined_by_it() -> None:
    status, output = session(
        "(X 1)\n(data U (X Int))\n(X 1)\n"
        "(define (k) (Y 1))\n(data V (Y Int))\n(k)\n"
        "Nope\n(data W Nope)\nNope\n"
        '(data T (A Int))\n(data T (B Int))\n(A 1)\n(data U2 (A String))\n(A "s")\n'
    )
    values = [line for line in output.splitlines() if not line.startswith((" ", "trace"))]
    assert values == [
        "<repl>:1:2: error[unbound-variable]: `X` is not defined",
        "(X 1)",
        "(Y 1)",
        "<repl>:1:1: error[unbound-variable]: `Nope` is not defined",
        "Nope",
        "<repl>:1:2: error[unbound-variable]: `A` is not defined",
        '(A "s")',
    ]


def test_a_builtin_defined_again_is_seen_by_functions_of_earlier_entries() -> None:
    # LANGUAGE.md §2.2: a definition of a builtin's name replaces it from the moment it runs
    status, output = session(
        '(define (g) (length [1 2]))\n(g)\n(define (length x) "mine")\n(g)\n'
        '(define (h) (print "x"))\n(define (print . a) "printed")\n(h)\n'
        "(car 1 2)\n(set! car 1)\n"
    )
    lines = output.splitlines()
    assert lines[:3] == ["2", '"mine"', '"printed"']
    # a builtin no entry has defined is still checked as one (as in a file: by its own name)
    assert lines[3] == "<repl>:1:1: error[arity-error]: `head` expects 1 argument, got 2"
    assert "<repl>:1:1: error[syntax-error]: cannot `set!` the builtin `car`" in lines


def test_set_of_a_global_defined_by_a_later_entry_is_checked_when_it_runs() -> None:
    status, output = session(
        "(define (f) (set! later 1))\n(define later 0)\n(f)\nlater\n(set! never 2)\n"
    )
    lines = output.splitlines()
    assert lines[0] == "1"
    assert lines[1] == "<repl>:1:1: error[unbound-variable]: `never` is not defined"


def test_type_shows_the_runtime_type_and_says_types_are_not_inferred_yet() -> None:
    _, output = session("(define (f) (Some 1))\n:type (f)\n:type 1.5\n")
    lines = output.splitlines()
    assert lines[0].startswith("Option    ; ") and "not inferred yet" in lines[0]
    assert lines[1].startswith("Float")


def test_dis_shows_the_bytecode_of_a_function() -> None:
    _, output = session("(define (add1 x) (+ x 1))\n:dis add1\n")
    assert output.startswith("; bytecode\n== add1 (params 1, slots 1) ==\n")
    assert "RETURN" in output


def test_dis_of_an_expression_a_builtin_and_a_value() -> None:
    _, output = session(":dis (lambda (y) y)\n:dis +\n(define n 1)\n:dis n\n:dis nope\n")
    assert "== lambda (params 1, slots 1) ==" in output
    assert "`+` is a builtin written in Python: it has no bytecode" in output
    assert "`n` is an Int, not a function" in output
    assert "fluentai: error: `nope` is not defined" in output


def test_time_writes_the_value_and_the_time_taken() -> None:
    _, output = session(":time (+ 1 2)\n")
    value, timing = output.splitlines()
    assert value == "3"
    assert _TIME_LINE.fullmatch(timing), timing


def test_load_runs_a_file_in_the_session(tmp_path: Path) -> None:
    program = tmp_path / "lib.fl"
    program.write_text('(define (greet n) (str "hi " n))\n(print "loading")\n')
    _, output = session(f':load {program}\n(greet "ada")\n:load {tmp_path / "missing.fl"}\n')
    lines = output.splitlines()
    assert lines[:3] == ["loading", f"loaded {program}", '"hi ada"']
    assert lines[3].startswith("fluentai: error: cannot read")


def test_load_reports_a_compile_error_in_the_file(tmp_path: Path) -> None:
    program = tmp_path / "bad.fl"
    program.write_text("(define x 1)\n(car)\n")
    _, output = session(f":load {program}\n")
    assert output.startswith(f"{program}:2:1: error[arity-error]")


# ---------------------------------------------------------------- completion


def test_completion_offers_builtins_special_forms_and_defined_globals() -> None:
    out = io.StringIO()
    runtime = repl.Runtime("vm", stdin=io.StringIO(""), stdout=out, stderr=out)
    session_ = repl.Repl(runtime, out)
    session_.handle("(define fibonacci-table [1 1 2])")
    assert list(repl.completions(session_, "(fibo")) == ["fibonacci-table"]
    assert "string-append" in repl.completions(session_, "(map string-ap")
    assert "letrec" in repl.completions(session_, "(let")
    assert list(repl.completions(session_, ":ty")) == [":type"]
    assert list(repl.completions(session_, "(+ 1 ")) == []


# ---------------------------------------------------------------- documentation


def transcripts() -> list[str]:
    """The REPL sessions shown in docs/tutorial.md (```text blocks of `fl>` lines)."""
    blocks = _TEXT_BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))
    return [b for b in blocks if b.startswith(repl.PROMPT)]


def test_the_tutorial_has_repl_transcripts() -> None:
    assert len(transcripts()) >= 2


def test_tutorial_transcripts_are_what_the_repl_prints() -> None:
    """The transcripts are one session, continued from block to block."""
    entries: list[str] = []
    expected: list[str] = []
    for line in "".join(transcripts()).splitlines():
        if line.startswith(repl.PROMPT):
            entries.append(line[len(repl.PROMPT) :])
        elif line.startswith(repl.CONTINUATION):
            entries[-1] += "\n" + line[len(repl.CONTINUATION) :]
        else:
            expected.append(line)
    _, output = session("\n".join(entries) + "\n")
    got = [_TIME_LINE.sub("time: …", line) for line in output.splitlines()]
    assert got == [_TIME_LINE.sub("time: …", line) for line in expected]


def test_cli_reference_is_generated_from_the_current_parser() -> None:
    committed = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == gen.cli_md(), "docs/cli.md is stale: run `python -m fluentai.gen`"


# ---------------------------------------------------------------- the command


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


def _piped_repl(tmp_path: Path, entries: bytes) -> subprocess.CompletedProcess[bytes]:
    """`fluentai repl` with `entries` on a piped standard input."""
    return subprocess.run(
        [sys.executable, "-m", "fluentai", "repl"],
        input=entries,
        capture_output=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=60,
    )


def test_fluentai_repl_reads_entries_from_piped_standard_input(tmp_path: Path) -> None:
    completed = _piped_repl(tmp_path, b"(define (sq x) (* x x))\n(sq 7)\n(head [])\n(sq 8)\n")
    assert completed.returncode == 0
    assert completed.stdout.decode() == "49\n64\n"
    assert "error[empty-list]" in completed.stderr.decode()
    assert "Traceback" not in completed.stderr.decode()


def test_repl_with_the_native_tier_is_a_usage_error(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "fluentai", "repl", "--tier", "native"],
        capture_output=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.decode().startswith("fluentai: error: ")


def test_a_user_session_in_a_real_terminal(tmp_path: Path) -> None:
    """Start the REPL in a terminal, define and run fib, see an error with a caret, recall an
    entry with the up arrow, interrupt a loop, cancel an entry being typed, complete a name,
    quit; then check the history survives into a second session started as plain `fluentai`."""
    pexpect = pytest.importorskip("pexpect")
    history = tmp_path / "history"
    env = _environment(FLUENTAI_HISTORY=str(history), PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm")

    def spawn(*args: str) -> object:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "fluentai", *args],
            preexec_fn=_default_sigint,
            cwd=str(tmp_path),
            env=env,
            encoding="utf-8",
            dimensions=(40, 120),
            timeout=20,
        )
        child.expect_exact("Type :help for help")
        child.expect_exact("fl>")
        return child

    child = spawn("repl")
    child.send("(define (fib n)\r")
    child.expect_exact("...")  # the entry continues on a second line
    child.send("(if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\r")
    child.expect_exact("fl>")
    child.send("(fib 20)\r")
    child.expect_exact("6765")
    child.expect_exact("fl>")
    child.send("(fib (/ 1 0))\r")
    child.expect_exact("<repl>:1:6: error[division-by-zero]: division by zero")
    child.expect_exact("(fib (/ 1 0))")
    child.expect_exact("     ^^^^^^^")
    child.expect_exact("fl>")
    child.send("\x1b[A")  # up: the failing entry
    time.sleep(0.2)
    child.send("\x1b[A")  # up: (fib 20)
    time.sleep(0.2)
    child.send("\r")
    child.expect_exact("6765")
    child.expect_exact("fl>")
    child.send("(while #t 1)\r")
    time.sleep(0.5)
    child.sendintr()
    child.expect_exact("interrupted")
    child.expect_exact("fl>")
    child.send("(+ 1 ")
    time.sleep(0.2)
    child.sendintr()  # Ctrl-C while typing drops the entry
    child.expect_exact("fl>")
    child.send("(define fibonacci-limit 9)\r")
    child.expect_exact("fl>")
    child.send("(+ fibo\t")  # Tab completes the only name starting with `fibo`
    time.sleep(0.3)
    child.send(" 1)\r")
    child.expect_exact("10")
    child.expect_exact("fl>")
    child.send("(* 6 7)\r")
    child.expect_exact("42")
    child.expect_exact("fl>")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    entries = history.read_text(encoding="utf-8")
    assert "+(fib 20)" in entries and "+(while #t 1)" in entries
    assert "(+ 1 " not in entries  # the cancelled entry

    second = spawn()  # `fluentai` alone on a terminal
    second.send("\x1b[A")  # the last entry of the first session
    time.sleep(0.2)
    second.send("\r")
    second.expect_exact("42")
    second.send(":quit\r")
    second.expect(pexpect.EOF)
    second.close()
    assert second.exitstatus == 0


def test_the_repl_writes_the_value_of_a_do_entry_not_of_each_form_in_it(tmp_path: Path) -> None:
    # §16: the REPL writes each entry's non-nil value; a `do`'s value is its last form's
    completed = _piped_repl(tmp_path, b'(begin 1 2)\n(do "a" nil)\n(do (define q 4) q)\n')
    assert (completed.returncode, completed.stdout.decode()) == (0, "2\n4\n")
