"""End-to-end tests of the `fluentai` command, run as a real subprocess.

They check what LANGUAGE.md makes normative about running programs: exit statuses (§2.1, §13.4,
§16), the shape of compile-time and runtime reports on standard error (§13.4), usage errors,
recursion and nesting limits (§12), Ctrl-C, and the options of `run` and `eval` (§16). Every run
is also checked for a Python traceback, which is never an acceptable report.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
REPORT_LINE = re.compile(r"^.+:\d+:\d+: error\[")
USAGE_PREFIX = "fluentai: error: "


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUENTAI_")}
    python_path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = (
        str(REPO_ROOT) if not python_path else os.pathsep.join([str(REPO_ROOT), python_path])
    )
    env.update(extra or {})
    return env


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def fluentai(
    *args: str,
    cwd: Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    merge_stderr: bool = False,
) -> Result:
    """Run `python -m fluentai ARGS` in CWD; assert that no Python traceback reached stderr."""
    completed = subprocess.run(
        [sys.executable, "-m", "fluentai", *args],
        cwd=cwd,
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        env=_environment(env),
        timeout=TIMEOUT,
    )
    result = Result(completed.returncode, _decode(completed.stdout), _decode(completed.stderr))
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    return result


def run_source(
    tmp_path: Path,
    source: str | bytes,
    *extra: str,
    name: str = "prog.fl",
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    merge_stderr: bool = False,
) -> Result:
    """Write SOURCE to NAME in TMP_PATH and `fluentai run EXTRA NAME`."""
    path = tmp_path / name
    if isinstance(source, str):
        path.write_text(source, encoding="utf-8")
    else:
        path.write_bytes(source)
    return fluentai(
        "run", *extra, name, cwd=tmp_path, stdin=stdin, env=env, merge_stderr=merge_stderr
    )


def report_line(stderr: str) -> str | None:
    """The report line: the last stderr line shaped like `FILE:LINE:COL: error[` (§13.4)."""
    lines = [line for line in stderr.splitlines() if REPORT_LINE.match(line)]
    return lines[-1] if lines else None


def assert_usage_error(result: Result) -> None:
    """Exit status 2 and exactly one stderr line `fluentai: error: MESSAGE` (§13.4)."""
    assert result.status == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith(USAGE_PREFIX), result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr


def assert_compile_error(result: Result, prefix: str) -> list[str]:
    """Exit 65, no stdout, and a three-line report whose first line starts with PREFIX."""
    assert result.status == 65, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert lines[0].startswith(prefix), result.stderr
    return lines


def trace_entries(stderr: str) -> list[str]:
    """The `  FILE:LINE:COL in NAME` lines of a runtime report's trace."""
    return [line for line in stderr.splitlines() if re.match(r"^  \S.*:\d+:\d+ in ", line)]


# ---------------------------------------------------------------- bad input


def test_missing_closing_paren_is_a_syntax_error_at_the_open_paren(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(print "never")\n(print (+ 1 2)\n')
    lines = assert_compile_error(result, "prog.fl:2:1: error[syntax-error]: ")
    assert lines[1] == "  2 | (print (+ 1 2)"
    assert lines[2] == "    | ^"


def test_extra_closing_paren_is_a_syntax_error_at_the_closer(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print 1))\n")
    lines = assert_compile_error(result, "prog.fl:1:10: error[syntax-error]: ")
    assert lines[1] == "  1 | (print 1))"
    assert lines[2] == "    |          ^"


def test_mismatched_closing_bracket_is_a_syntax_error(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print [1 2)]\n")
    assert_compile_error(result, "prog.fl:1:")
    assert "error[syntax-error]" in result.stderr


def test_unterminated_string_is_a_syntax_error_at_its_quote(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(print "ok")\n(print "abc)\n\n')
    lines = assert_compile_error(result, "prog.fl:2:8: error[syntax-error]: ")
    assert lines[1:] == ['  2 | (print "abc)', "    |        ^"]


def test_invalid_utf8_source_is_a_syntax_error_and_nothing_runs(tmp_path: Path) -> None:
    result = run_source(tmp_path, b'(print "first")\n(print "\xff\xfe")\n')
    lines = assert_compile_error(result, "prog.fl:2:9: error[syntax-error]: ")
    assert lines[2] == "    |         ^"


def test_binary_file_is_a_syntax_error_not_a_crash(tmp_path: Path) -> None:
    result = run_source(tmp_path, bytes(range(256)) * 4)
    assert result.status == 65
    assert result.stdout == ""
    line = report_line(result.stderr)
    assert line is not None and re.match(r"^prog\.fl:\d+:\d+: error\[syntax-error\]: ", line)


def test_empty_file_runs_with_no_output(tmp_path: Path) -> None:
    result = run_source(tmp_path, "")
    assert (result.status, result.stdout, result.stderr) == (0, "", "")


def test_file_with_only_comments_runs_with_no_output(tmp_path: Path) -> None:
    result = run_source(tmp_path, "; nothing here\n   ; but comments\n\n;; (print 1)\n")
    assert (result.status, result.stdout, result.stderr) == (0, "", "")


def test_shebang_first_line_is_ignored(tmp_path: Path) -> None:
    result = run_source(tmp_path, '#!/usr/bin/env fluentai\n(print "ok")\n')
    assert (result.status, result.stdout, result.stderr) == (0, "ok\n", "")


def test_missing_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = fluentai("run", "no-such-file.fl", cwd=tmp_path)
    assert_usage_error(result)
    assert "no-such-file.fl" in result.stderr


def test_directory_given_as_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    result = fluentai("run", "adir", cwd=tmp_path)
    assert_usage_error(result)
    assert "adir" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--bogus", "prog.fl"],
        ["--bogus"],
        ["run", "--tier", "bogus", "prog.fl"],
        ["run", "--dump", "bogus", "prog.fl"],
        ["eval", "--bogus", "1"],
    ],
    ids=["run-option", "global-option", "tier-value", "dump-stage", "eval-option"],
)
def test_unknown_option_is_a_one_line_usage_error(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "prog.fl").write_text('(print "never")\n')
    assert_usage_error(fluentai(*argv, cwd=tmp_path))


def test_unknown_subcommand_is_a_one_line_usage_error(tmp_path: Path) -> None:
    assert_usage_error(fluentai("frobnicate", "x.fl", cwd=tmp_path))


def test_run_without_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = fluentai("run", cwd=tmp_path)
    assert_usage_error(result)
    assert result.stderr.endswith("required: FILE\n"), result.stderr  # ARGS may be empty


def test_eval_without_source_is_a_one_line_usage_error(tmp_path: Path) -> None:
    assert_usage_error(fluentai("eval", cwd=tmp_path))


def test_no_subcommand_with_piped_stdin_is_a_one_line_usage_error(tmp_path: Path) -> None:
    # §13.4: a usage error is reported as the single line `fluentai: error: MESSAGE`.
    assert_usage_error(fluentai(cwd=tmp_path))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FLUENTAI_JIT_THRESHOLD", "\u00b2"),  # a digit to str.isdigit, not to int()
        ("FLUENTAI_DEOPT_STRESS", "\u00b2"),
        ("FLUENTAI_JIT", "off"),
        ("FLUENTAI_NATIVE_OPT", "9"),
        ("FLUENTAI_IMAGE_WAIT_MS", "inf"),
        ("FLUENTAI_MAX_DEPTH", "0"),
    ],
)
def test_a_bad_environment_value_is_ignored_with_a_warning(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run_source(tmp_path, "(print (+ 1 2))", env={variable: value})
    assert (result.status, result.stdout) == (0, "3\n"), result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith(f"fluentai: warning: {variable}={value!r} is not "), result
    assert lines[0].endswith("; using the default"), result


def test_good_environment_values_give_no_warning(tmp_path: Path) -> None:
    env = {"FLUENTAI_JIT_THRESHOLD": " 12 ", "FLUENTAI_SEED": "-4", "FLUENTAI_JIT": "1"}
    result = run_source(tmp_path, "(print (+ 1 2))", env=env)
    assert (result.status, result.stdout, result.stderr) == (0, "3\n", ""), result


def test_calling_a_non_function_is_a_runtime_type_error(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(print "before")\n(5 1 2)\n')
    assert result.status == 70
    assert result.stdout == "before\n"
    assert report_line(result.stderr).startswith("prog.fl:2:1: error[type-error]: ")


def test_wrong_arity_to_builtin_is_a_compile_error_as_in_the_spec(tmp_path: Path) -> None:
    result = run_source(tmp_path, '; demo\n(print "a")\n(do\n  (cons 1 2 3))\n', name="demo.fl")
    assert result.status == 65
    assert result.stdout == ""
    assert result.stderr == (
        "demo.fl:4:3: error[arity-error]: `cons` expects 2 arguments, got 3\n"
        "  4 |   (cons 1 2 3))\n"
        "    |   ^^^^^^^^^^^^\n"
    )


def test_wrong_arity_to_a_known_program_function_is_a_compile_error(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(define (pair a b) [a b])\n(print "x")\n(pair 1)\n')
    lines = assert_compile_error(
        result, "prog.fl:3:1: error[arity-error]: `pair` expects 2 arguments, got 1"
    )
    assert lines[1:] == ["  3 | (pair 1)", "    | ^^^^^^^^"]


def test_wrong_arity_through_a_variable_is_a_runtime_error(tmp_path: Path) -> None:
    source = '(define (pair a b) [a b])\n(define g pair)\n(print "x")\n(g 1)\n'
    result = run_source(tmp_path, source)
    assert result.status == 70
    assert result.stdout == "x\n"
    assert report_line(result.stderr) == (
        "prog.fl:4:1: error[arity-error]: `pair` expects 2 arguments, got 1"
    )


def test_unbound_variable_is_a_compile_error_with_normative_message(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(print "never")\n(print (undefined-thing 1))\n')
    lines = assert_compile_error(
        result, "prog.fl:2:9: error[unbound-variable]: `undefined-thing` is not defined"
    )
    assert lines[2] == "    |         ^^^^^^^^^^^^^^^"


def test_a_compile_error_caret_line_keeps_the_tabs_of_the_source_line(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print\t(undefined-thing 1))\n")
    lines = assert_compile_error(
        result, "prog.fl:1:9: error[unbound-variable]: `undefined-thing` is not defined"
    )
    assert lines[1:3] == ["  1 | (print\t(undefined-thing 1))", "    |       \t ^^^^^^^^^^^^^^^"]


def test_head_of_empty_list_is_a_runtime_empty_list_error(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print (head []))\n")
    assert result.status == 70
    assert result.stdout == ""
    assert result.stderr == (
        "prog.fl:1:8: error[empty-list]: `head` expects a non-empty list, got []\n"
        "trace (innermost last):\n"
        "  prog.fl:1:8 in <top level>\n"
        "    (print (head []))\n"
        "           ^^^^^^^^^\n"
    )


def test_division_by_zero_report_matches_the_spec_example(tmp_path: Path) -> None:
    source = ';; ratio\n(define (ratio a b) (/ a b))\n\n(print "hi")\n(print (ratio 3 0))\n'
    result = run_source(tmp_path, source, name="demo.fl")
    assert result.status == 70
    assert result.stdout == "hi\n"
    assert result.stderr == (
        "demo.fl:2:21: error[division-by-zero]: division by zero\n"
        "trace (innermost last):\n"
        "  demo.fl:5:8 in <top level>\n"
        "    (print (ratio 3 0))\n"
        "  demo.fl:2:21 in ratio\n"
        "    (define (ratio a b) (/ a b))\n"
        "                        ^^^^^^^\n"
    )


def test_ten_million_deep_recursion_is_a_stack_overflow_with_elided_trace(
    tmp_path: Path,
) -> None:
    source = (
        "(define (count-up n) (if (= n 0) 0 (+ 1 (count-up (- n 1)))))\n"
        '(print "start")\n'
        "(print (count-up 10000000))\n"
    )
    started = time.monotonic()
    result = run_source(tmp_path, source)
    elapsed = time.monotonic() - started
    assert result.status == 70, result.stderr[-2000:]
    assert result.stdout == "start\n"
    assert report_line(result.stderr) == (
        "prog.fl:1:41: error[stack-overflow]: maximum recursion depth exceeded"
    )
    lines = result.stderr.splitlines()
    assert lines[1] == "trace (innermost last):"
    entries = trace_entries(result.stderr)
    assert len(entries) == 20
    assert entries[0] == "  prog.fl:3:8 in <top level>"
    assert entries[1:] == ["  prog.fl:1:41 in count-up"] * 19
    elided = [line for line in lines if re.fullmatch(r"  \.\.\. \d+ more \.\.\.", line)]
    assert len(elided) == 1
    assert int(elided[0].split()[1]) >= 100_000 - 20
    assert len(result.stderr) < 10_000
    assert elapsed < 45


@pytest.mark.parametrize("opener", ["[", "'"], ids=["brackets", "quotes"])
def test_source_nested_10001_levels_is_nesting_too_deep(tmp_path: Path, opener: str) -> None:
    # `(print` is level 1, so 10 000 more openers reach level 10 001 at column 7 + 10 000.
    closer = "]" * 10_000 if opener == "[" else ""
    inner = "" if opener == "[" else "x"
    result = run_source(tmp_path, f"(print {opener * 10_000}{inner}{closer})\n")
    assert result.status == 65
    assert result.stdout == ""
    assert report_line(result.stderr) == "prog.fl:1:10007: error[syntax-error]: nesting too deep"


def test_source_nested_10000_levels_of_brackets_compiles_and_prints(tmp_path: Path) -> None:
    result = run_source(tmp_path, f"(print {'[' * 9_999}{']' * 9_999})\n")
    assert result.status == 0, result.stderr
    assert result.stdout == "[" * 9_999 + "]" * 9_999 + "\n"


def test_source_nested_10000_levels_of_quotes_compiles_and_prints(tmp_path: Path) -> None:
    # 9 999 quotes: evaluation removes the outermost, leaving 9 998 nested (quote ...) lists.
    result = run_source(tmp_path, f"(print {chr(39) * 9_999}x)\n")
    assert result.status == 0, result.stderr
    assert result.stdout == "[quote " * 9_998 + "x" + "]" * 9_998 + "\n"


def test_one_megabyte_program_of_simple_top_level_forms_runs(tmp_path: Path) -> None:
    filler = "abcdefghij" * 7
    lines: list[str] = []
    size = 0
    while size < 1_000_000:
        i = len(lines)
        line = f'(define v{i} [{i} "{filler}" (+ {i} 1)])\n'
        lines.append(line)
        size += len(line)
    last = len(lines) - 1
    lines.append(f"(print (length v0) v{last})\n")
    result = run_source(tmp_path, "".join(lines))
    assert result.status == 0, result.stderr[-2000:]
    assert result.stdout == f'3 [{last} "{filler}" {last + 1}]\n'


def test_5000_digit_integer_literal_prints_back_exactly(tmp_path: Path) -> None:
    digits = "1234567890" * 500
    nines = "9" * 5000
    forms = [f"(print {digits})", f"(print (- {digits}))", f"(print (+ {nines} 1))"]
    forms.append(f"(print (* {nines} {nines}))")
    source = "\n".join(forms) + "\n"
    result = run_source(tmp_path, source)
    assert result.status == 0, result.stderr
    square = "9" * 4999 + "8" + "0" * 4999 + "1"
    assert result.stdout == f"{digits}\n-{digits}\n1{'0' * 5000}\n{square}\n"


def test_5000_digit_integer_is_written_back_by_eval(tmp_path: Path) -> None:
    digits = "9876543210" * 500
    result = fluentai("eval", f"[{digits}]", cwd=tmp_path)
    assert (result.status, result.stdout) == (0, f"[{digits}]\n")


# ---------------------------------------------------------------- report format


def test_compile_error_gutter_is_as_wide_as_the_line_number(tmp_path: Path) -> None:
    result = run_source(tmp_path, "\n" * 11 + "(cons 1\n  2 3)\n")
    lines = assert_compile_error(
        result, "prog.fl:12:1: error[arity-error]: `cons` expects 2 arguments, got 3"
    )
    # The span runs over two lines, so the carets stop at the end of the first.
    assert lines[1:] == ["  12 | (cons 1", "     | ^^^^^^^"]


def test_compile_error_after_crlf_lines_has_the_right_line_and_column(tmp_path: Path) -> None:
    result = run_source(tmp_path, b"(print 1)\r\n\r\n  (print (nope 1))\r\n")
    lines = assert_compile_error(
        result, "prog.fl:3:11: error[unbound-variable]: `nope` is not defined"
    )
    assert lines[1:] == ["  3 |   (print (nope 1))", "    |           ^^^^"]


@pytest.mark.parametrize(
    "given", ["sub/prog.fl", "./sub/../sub/prog.fl", "ABSOLUTE"], ids=["relative", "dotted", "abs"]
)
def test_report_file_is_the_path_as_given_on_the_command_line(tmp_path: Path, given: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "prog.fl").write_text("(print 1)\n(head [])\n")
    (tmp_path / "sub" / "bad.fl").write_text("(print (cons 1))\n")
    if given == "ABSOLUTE":
        given = str(tmp_path / "sub" / "prog.fl")
    runtime = fluentai("run", given, cwd=tmp_path)
    assert runtime.status == 70
    assert report_line(runtime.stderr).startswith(f"{given}:2:1: error[empty-list]: ")
    assert trace_entries(runtime.stderr) == [f"  {given}:2:1 in <top level>"]
    bad = given.replace("prog.fl", "bad.fl")
    compile_time = fluentai("run", bad, cwd=tmp_path)
    assert compile_time.status == 65
    assert compile_time.stderr.startswith(f"{bad}:1:8: error[arity-error]: ")


def test_eval_runtime_report_uses_eval_as_file(tmp_path: Path) -> None:
    result = fluentai("eval", '(print "x")\n(head [])', cwd=tmp_path)
    assert result.status == 70
    assert result.stdout == "x\n"
    assert result.stderr == (
        "<eval>:2:1: error[empty-list]: `head` expects a non-empty list, got []\n"
        "trace (innermost last):\n"
        "  <eval>:2:1 in <top level>\n"
        "    (head [])\n"
        "    ^^^^^^^^^\n"
    )


def test_eval_compile_report_uses_eval_as_file(tmp_path: Path) -> None:
    result = fluentai("eval", "(print (+ 1", cwd=tmp_path)
    assert_compile_error(result, "<eval>:1:")
    assert "error[syntax-error]" in result.stderr


def test_runtime_trace_omits_frames_replaced_by_tail_calls(tmp_path: Path) -> None:
    source = "(define (g) (head []))\n(define (f) (g))\n(print (f))\n"
    result = run_source(tmp_path, source)
    assert result.status == 70
    assert result.stderr == (
        "prog.fl:1:13: error[empty-list]: `head` expects a non-empty list, got []\n"
        "trace (innermost last):\n"
        "  prog.fl:3:8 in <top level>\n"
        "    (print (f))\n"
        "  prog.fl:1:13 in g\n"
        "    (define (g) (head []))\n"
        "                ^^^^^^^^^\n"
    )


def test_runtime_trace_omits_builtin_frames_and_names_lambdas(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print (map (lambda (x) (head x)) [[1] []]))\n")
    assert result.status == 70
    assert report_line(result.stderr).startswith("prog.fl:1:25: error[empty-list]: ")
    assert trace_entries(result.stderr) == [
        "  prog.fl:1:8 in <top level>",
        "  prog.fl:1:25 in lambda",
    ]


def _deep_error(depth: int) -> str:
    return f"(define (f n)\n  (if (= n 0) (head []) (+ 1 (f (- n 1)))))\n(print (f {depth}))\n"


def test_trace_of_20_entries_is_shown_whole(tmp_path: Path) -> None:
    result = run_source(tmp_path, _deep_error(18))  # top level + 19 frames of f
    assert result.status == 70
    assert len(trace_entries(result.stderr)) == 20
    assert " more ..." not in result.stderr


def test_trace_of_32_entries_shows_outermost_10_and_innermost_10(tmp_path: Path) -> None:
    result = run_source(tmp_path, _deep_error(30))  # top level + 31 frames of f
    assert result.status == 70
    lines = result.stderr.splitlines()
    assert lines[0] == "prog.fl:2:15: error[empty-list]: `head` expects a non-empty list, got []"
    entries = trace_entries(result.stderr)
    assert entries == (
        ["  prog.fl:3:8 in <top level>"] + ["  prog.fl:2:30 in f"] * 18 + ["  prog.fl:2:15 in f"]
    )
    marker = lines.index("  ... 12 more ...")
    assert lines[marker - 2] == "  prog.fl:2:30 in f"
    assert lines[marker + 1] == "  prog.fl:2:30 in f"
    assert lines[-3:] == [
        "  prog.fl:2:15 in f",
        "      (if (= n 0) (head []) (+ 1 (f (- n 1)))))",
        "                  ^^^^^^^^^",
    ]


def test_report_line_is_the_last_matching_stderr_line(tmp_path: Path) -> None:
    source = '(io:print-err "fake.fl:9:9: error[fake]: not me")\n(print (/ 1 0))\n'
    result = run_source(tmp_path, source)
    assert result.status == 70
    assert result.stderr.startswith("fake.fl:9:9: error[fake]: not me\n")
    assert report_line(result.stderr) == "prog.fl:2:8: error[division-by-zero]: division by zero"


# ---------------------------------------------------------------- exit statuses


def test_exit_3_ends_with_status_3_and_runs_no_finally(tmp_path: Path) -> None:
    source = (
        '(io:write "unflushed")\n'
        '(define (f) (try (exit 3) (finally (print "inner cleanup"))))\n'
        '(try (f) (finally (print "cleanup")))\n'
        '(print "never")\n'
    )
    result = run_source(tmp_path, source)
    assert (result.status, result.stdout, result.stderr) == (3, "unflushed", "")


def test_exit_255_is_the_largest_exit_status(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(exit 255)\n")
    assert (result.status, result.stdout, result.stderr) == (255, "", "")


@pytest.mark.parametrize("code", ["256", "-1"])
def test_exit_code_out_of_range_is_a_value_error(tmp_path: Path, code: str) -> None:
    result = run_source(tmp_path, f"(exit {code})\n")
    assert result.status == 70
    assert report_line(result.stderr).startswith("prog.fl:1:1: error[value-error]: ")


def test_eval_exit_status_is_the_exit_code(tmp_path: Path) -> None:
    result = fluentai("eval", '(print "a") (exit 4) (print "b")', cwd=tmp_path)
    assert (result.status, result.stdout) == (4, "a\n")


def test_output_before_a_runtime_error_is_flushed_before_the_report(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(print "line")\n(io:write "partial")\n(head [])\n')
    assert result.status == 70
    assert result.stdout == "line\npartial"
    merged = run_source(
        tmp_path, '(print "line")\n(io:write "partial")\n(head [])\n', merge_stderr=True
    )
    assert merged.stdout.startswith("line\npartialprog.fl:3:1: error[empty-list]: ")


def test_finally_runs_before_the_runtime_report(tmp_path: Path) -> None:
    source = '(try (head []) (finally (print "cleanup")))\n(print "never")\n'
    result = run_source(tmp_path, source, merge_stderr=True)
    assert result.status == 70
    assert result.stdout.startswith("cleanup\nprog.fl:1:6: error[empty-list]: ")


def test_successful_program_exits_0_with_empty_stderr(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(print "ok" (+ 1 2))\n')
    assert (result.status, result.stdout, result.stderr) == (0, "ok 3\n", "")


# ---------------------------------------------------------------- Ctrl-C


_INTERRUPT_TIERS = ["auto", "native", "aot"]


def tier_command(tmp_path: Path, tier: str, name: str = "prog") -> list[str]:
    """The command that runs NAME.fl in TMP_PATH on TIER (`aot`: built first, then the
    executable)."""
    if tier == "aot":
        built = fluentai("build", f"{name}.fl", "-o", name, cwd=tmp_path)
        assert built.status == 0, built.stderr
        return [str(tmp_path / name)]
    return [sys.executable, "-m", "fluentai", "run", "--tier", tier, f"{name}.fl"]


def default_sigint() -> None:
    """In the child: Ctrl-C as a terminal delivers it. A pytest worker may have SIGINT ignored,
    and an ignored SIGINT is inherited through exec: Python then never raises
    KeyboardInterrupt (executables with their own handler are not affected)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _interrupt(
    tmp_path: Path,
    source: str,
    tier: str = "auto",
    signals: int = 1,
    again_when: str = "",
    env: dict[str, str] | None = None,
) -> Result:
    """Run SOURCE on TIER (`aot`: built, then the executable), which creates `ready.txt` when
    it is busy; send SIGINT (`signals` times at once); with `again_when`, send another one once
    the program has created that file, as a second Ctrl-C; collect the result. `env` adds to
    the environment."""
    (tmp_path / "prog.fl").write_text(source)
    ready = tmp_path / "ready.txt"
    command = tier_command(tmp_path, tier)
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(env),
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if proc.poll() is not None:
                pytest.fail(f"program ended before the interrupt: {_decode(proc.stderr.read())}")
            if time.monotonic() > deadline:
                pytest.fail("program never became ready")
            time.sleep(0.02)
        time.sleep(0.5)
        for _ in range(signals):
            proc.send_signal(signal.SIGINT)
        if again_when:
            while not (tmp_path / again_when).exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"program never created {again_when}")
                time.sleep(0.02)
            # the first interrupt was taken before the file was created: past this time a
            # SIGINT is a second Ctrl-C, not the first one delivered twice (runtime/main.c)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
        try:
            status = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("program did not exit within 20 s of SIGINT")
        result = Result(status, _decode(proc.stdout.read()), _decode(proc.stderr.read()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _assert_interrupted(result: Result, stdout: str) -> None:
    assert result.status == 130, result
    assert result.stdout == stdout
    assert result.stderr.endswith("interrupted\n"), result.stderr
    assert "fluentai: error:" not in result.stderr


@pytest.mark.parametrize("tier", _INTERRUPT_TIERS)
def test_sigint_in_a_while_loop_runs_finally_and_exits_130(tmp_path: Path, tier: str) -> None:
    source = '(io:write-file "ready.txt" "")\n(try (while #t 1) (finally (print "cleanup")))\n'
    _assert_interrupted(_interrupt(tmp_path, source, tier), "cleanup\n")


@pytest.mark.parametrize("tier", ["vm", *_INTERRUPT_TIERS])
def test_sigint_delivered_twice_at_once_is_one_interrupt(tmp_path: Path, tier: str) -> None:
    """`timeout -s INT` and a process group's `kill` deliver SIGINT to the process and to its
    group: the two are one interrupt, which unwinds through `finally` and keeps the output
    written before it (the second one used to end the process at once, output lost)."""
    source = (
        '(print "start")\n(io:write-file "ready.txt" "")\n'
        '(try (while #t 1) (finally (print "cleanup")))\n'
    )
    result = _interrupt(tmp_path, source, tier, signals=2)
    _assert_interrupted(result, "start\ncleanup\n")
    assert result.stderr == "interrupted\n"


@pytest.mark.parametrize("tier", ["vm", *_INTERRUPT_TIERS])
def test_a_second_sigint_exits_at_once_with_the_output_written_before(
    tmp_path: Path, tier: str
) -> None:
    """A second Ctrl-C while the first unwinds ends the process at once, but what the program
    printed before it is not lost (it was: the buffered output was dropped)."""
    source = (
        '(print "start")\n(io:write-file "ready.txt" "")\n'
        "(try (while #t 1)\n"
        '  (finally (print "cleanup") (io:write-file "unwinding.txt" "") (while #t 1)))\n'
    )
    result = _interrupt(tmp_path, source, tier, again_when="unwinding.txt")
    _assert_interrupted(result, "start\ncleanup\n")
    assert result.stderr == "interrupted\n"


def _started(
    tmp_path: Path, source: str, tier: str, preexec: Callable[[], None]
) -> subprocess.Popen[bytes]:
    """SOURCE started on TIER (`aot`: built first) with its output on a pipe, once it has
    created `ready.txt`."""
    (tmp_path / "prog.fl").write_text(source)
    proc = subprocess.Popen(
        tier_command(tmp_path, tier),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(),
        preexec_fn=preexec,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "ready.txt").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"program ended or never became ready: {_decode(proc.stderr.read())}")
        time.sleep(0.02)
    return proc


@pytest.mark.parametrize("tier", ["vm", *_INTERRUPT_TIERS])
def test_sigint_while_output_waits_on_a_full_pipe_is_an_interrupt(
    tmp_path: Path, tier: str
) -> None:
    """`fluentai run p.fl | sleep 5` and Ctrl-C: the program's write waits on a pipe nobody
    reads, then the pipe closes. The interrupt came first, so the run is interrupted (status
    130, `finally` runs), as in the VM; native code ended with status 0 at the closed pipe."""
    source = (
        '(io:write-file "ready.txt" "")\n'
        '(define (go i) (print "line" i) (go (+ i 1)))\n'
        '(try (go 0) (finally (io:print-err "finally ran")))\n'
    )
    proc = _started(tmp_path, source, tier, default_sigint)
    try:
        time.sleep(1.0)  # the pipe (64 KiB) is full by now: the program waits on its write
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.stdout is not None
        proc.stdout.close()  # the reader goes away
        status = proc.wait(timeout=20)
        assert proc.stderr is not None
        stderr = _decode(proc.stderr.read())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (status, stderr) == (130, "finally ran\ninterrupted\n")


def _ignore_sigint() -> None:
    """In the child: SIGINT ignored, as `nohup` or a non-interactive shell's `&` leave it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("tier", ["vm", "native", "aot"])
def test_a_sigint_ignored_by_the_parent_stays_ignored(tmp_path: Path, tier: str) -> None:
    """Python leaves an inherited ignored SIGINT alone, and so do executables now (they took
    it over and ended with status 130)."""
    source = (
        '(io:write-file "ready.txt" "")\n'
        "(define (go i) (time:sleep 0.01) (if (< i 80) (go (+ i 1)) i))\n"
        "(print (go 0))\n"
    )
    proc = _started(tmp_path, source, tier, _ignore_sigint)
    try:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, _decode(stdout), _decode(stderr)) == (0, "80\n", "")


# `python -m fluentai ARGS...` run by `python -c SCRIPT MODULE HOW ARGS...`, which sends itself
# SIGINT while the command imports MODULE, when Python looks it up: Ctrl-C during the start-up. With `lost`, the
# interrupt is raised in a destructor, where Python has to drop it, as it does in the import
# system's weak reference callbacks.
_INTERRUPT_WHILE_IMPORTING = """
import os, runpy, signal, sys

MODULE, HOW = sys.argv[1:3]

class Doomed:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(3):  # a back edge: the handler runs here, in the destructor
            pass

class InterruptOnImport:
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            sys.meta_path.remove(self)
            if HOW == "lost":
                Doomed()
            else:
                os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptOnImport())
sys.argv = ["fluentai", *sys.argv[3:]]
runpy.run_module("fluentai", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("tier", ["vm", "auto", "native"])
@pytest.mark.parametrize(
    ("module", "how"),
    [("fluentai.launch", "raised"), ("fluentai.cli", "raised"), ("fluentai.cli", "lost")],
    ids=["launch", "cli", "cli-lost"],
)
def test_sigint_during_the_start_up_is_an_interrupt(
    tmp_path: Path, tier: str, module: str, how: str
) -> None:
    """Ctrl-C in the first tens of milliseconds, while the command imports itself, ended in a
    Python traceback (or, dropped by Python, let the program run); it is an interrupt like any
    other: `interrupted`, status 130, and the program does not run."""
    (tmp_path / "prog.fl").write_text('(print "ran")\n')
    completed = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_WHILE_IMPORTING, module, how]
        + ["run", "--tier", tier, "prog.fl"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=_environment({"FLUENTAI_CACHE_DIR": str(tmp_path / "cache")}),
        preexec_fn=default_sigint,
        timeout=TIMEOUT,
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (
        130,
        b"",
        b"interrupted\n",
    )


@pytest.mark.parametrize("tier", _INTERRUPT_TIERS)
def test_sigint_in_deep_non_tail_recursion_runs_finally_and_exits_130(
    tmp_path: Path, tier: str
) -> None:
    source = (
        "(define (down n)\n"
        '  (if (= n 0) (do (io:write-file "ready.txt" "") (while #t 1)) (+ 1 (down (- n 1)))))\n'
        '(try (down 90000) (finally (print "cleanup")))\n'
    )
    _assert_interrupted(_interrupt(tmp_path, source, tier), "cleanup\n")


@pytest.mark.parametrize("tier", _INTERRUPT_TIERS)
def test_sigint_in_a_tail_call_loop_runs_finally_and_exits_130(tmp_path: Path, tier: str) -> None:
    source = (
        '(io:write-file "ready.txt" "")\n'
        "(define (spin i) (spin (+ i 1)))\n"
        '(try (spin 0) (finally (print "cleanup")))\n'
    )
    _assert_interrupted(_interrupt(tmp_path, source, tier), "cleanup\n")


@pytest.mark.parametrize("tier", _INTERRUPT_TIERS)
def test_sigint_is_not_caught_and_runs_nested_finally_clauses(tmp_path: Path, tier: str) -> None:
    source = (
        '(io:write-file "ready.txt" "")\n'
        '(try (try (while #t 1) (catch e (print "caught")) (finally (print "inner")))\n'
        '  (catch e (print "outer caught"))\n'
        '  (finally (print "outer")))\n'
        '(print "after")\n'
    )
    _assert_interrupted(_interrupt(tmp_path, source, tier), "inner\nouter\n")


@pytest.mark.parametrize("tier", _INTERRUPT_TIERS)
def test_sigint_while_waiting_for_standard_input_exits_130(tmp_path: Path, tier: str) -> None:
    source = '(io:write-file "ready.txt" "")\n(try (read-line) (finally (print "cleanup")))\n'
    _assert_interrupted(_interrupt(tmp_path, source, tier), "cleanup\n")


@pytest.mark.parametrize("tier", _INTERRUPT_TIERS)
def test_sigint_during_time_sleep_exits_130_promptly(tmp_path: Path, tier: str) -> None:
    source = '(io:write-file "ready.txt" "")\n(try (time:sleep 600) (finally (print "cleanup")))\n'
    _assert_interrupted(_interrupt(tmp_path, source, tier), "cleanup\n")


# ---------------------------------------------------------------- CLI features


def test_print_values_matches_the_spec_example(tmp_path: Path) -> None:
    source = '(define x 20)\n(+ x 1)\n"hi"\n(print "side effect")\n'
    result = run_source(tmp_path, source, "-p", name="demo.fl")
    assert (result.status, result.stdout, result.stderr) == (0, '21\n"hi"\nside effect\n', "")


def test_print_values_skips_definitions_and_nil_values(tmp_path: Path) -> None:
    source = (
        '(print "a")\n(defun sq (x) (* x x))\n(def y 3)\n(data Shape (Circle r) Dot)\n'
        '(define (z) 1)\n(sq 4)\n(Circle 1)\nDot\nnil\ny\n[1 "x" :k]\n{"a" 1}\n'
    )
    result = run_source(tmp_path, source, "--print-values")
    assert result.status == 0, result.stderr
    assert result.stdout == 'a\n16\n(Circle 1)\nDot\n3\n[1 "x" :k]\n{"a" 1}\n'


def test_print_values_output_before_an_error_is_kept(tmp_path: Path) -> None:
    result = run_source(tmp_path, '(+ 1 2)\n"s"\n(head [])\n(+ 3 4)\n', "-p")
    assert result.status == 70
    assert result.stdout == '3\n"s"\n'


@pytest.mark.parametrize(
    ("source", "stdout"),
    [
        ("(map (lambda (n) (* n n)) (range 4))", "[0 1 4 9]\n"),
        ('"hi"', '"hi"\n'),
        ('(str "a" "b")', '"ab"\n'),
        ("(print 1)", "1\n"),
        ("(define x 1)", ""),
        ("", ""),
        ('{"k" [1 "v"]}', '{"k" [1 "v"]}\n'),
        ("(print 1) 2", "1\n2\n"),
    ],
    ids=["spec", "string", "str", "nil-value", "definition", "empty", "map", "last-form"],
)
def test_eval_writes_the_program_value_in_written_form_unless_nil(
    tmp_path: Path, source: str, stdout: str
) -> None:
    result = fluentai("eval", source, cwd=tmp_path)
    assert (result.status, result.stdout, result.stderr) == (0, stdout, "")


def test_eval_args_are_empty(tmp_path: Path) -> None:
    result = fluentai("eval", "(args)", cwd=tmp_path)
    assert (result.status, result.stdout) == (0, "[]\n")


def test_args_are_the_strings_after_file(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print (args))\n(print (length (args)))\n")
    assert result.stdout == "[]\n0\n"
    (tmp_path / "a.fl").write_text("(print (args))\n")
    result = fluentai("run", "a.fl", "a", "b c", "", "λ", cwd=tmp_path)
    assert (result.status, result.stdout) == (0, '["a" "b c" "" "λ"]\n')


@pytest.mark.parametrize(
    "extra",
    [["--tier", "vm"], ["-p", "--jit-stats"], ["--help"], ["--", "x"], ["--dump", "ast"]],
    ids=["tier", "flags", "help", "dashdash", "dump"],
)
def test_options_after_file_go_to_the_program(tmp_path: Path, extra: list[str]) -> None:
    (tmp_path / "a.fl").write_text("(print (args))\n")
    result = fluentai("run", "a.fl", *extra, cwd=tmp_path)
    expected = "[" + " ".join(f'"{a}"' for a in extra) + "]\n"
    assert (result.status, result.stdout, result.stderr) == (0, expected, "")


_TIER_PROGRAM = """
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc i))))
(define adders (map (lambda (k) (lambda (x) (+ x k))) (range 3)))
(print (fib 15) (loop 20000 0) (map (lambda (f) (f 10)) adders))
(print (try (/ 1 0) (catch e (error-kind e))) 1.5e300 (* 99999999999 99999999999))
(print {"a" [1 2.5 "s" :k]} (Error "k" "m" nil))
(print (nth [1 2 3] 5))
"""


def test_tier_vm_and_tier_auto_give_identical_results(tmp_path: Path) -> None:
    vm = run_source(tmp_path, _TIER_PROGRAM, "--tier", "vm")
    auto = run_source(tmp_path, _TIER_PROGRAM, "--tier", "auto")
    assert vm.status == 70
    assert vm.stdout.splitlines()[0] == "610 200010000 [10 11 12]"
    assert report_line(vm.stderr).startswith("prog.fl:8:8: error[index-out-of-range]: ")
    assert auto.status == vm.status
    assert auto.stdout == vm.stdout
    assert report_line(auto.stderr) == report_line(vm.stderr)


def test_tier_native_runs_the_program_like_the_vm(tmp_path: Path) -> None:
    vm = run_source(tmp_path, _TIER_PROGRAM, "--tier", "vm")
    native = run_source(tmp_path, _TIER_PROGRAM, "--tier", "native")
    assert native.status == vm.status == 70
    assert native.stdout == vm.stdout
    assert report_line(native.stderr) == report_line(vm.stderr)


def test_tier_native_with_jit_disabled_is_a_usage_error(tmp_path: Path) -> None:
    result = run_source(
        tmp_path, '(print "never")\n', "--tier", "native", env={"FLUENTAI_JIT": "0"}
    )
    assert_usage_error(result)
    assert "native" in result.stderr
    evaluated = fluentai("eval", "--tier", "native", "1", cwd=tmp_path, env={"FLUENTAI_JIT": "0"})
    assert_usage_error(evaluated)
    assert evaluated.stdout == ""


def test_eval_tier_native_writes_the_value(tmp_path: Path) -> None:
    result = fluentai("eval", "--tier", "native", "(+ 1 (* 2 3))", cwd=tmp_path)
    assert result.status == 0
    assert result.stdout == "7\n"


def test_build_makes_an_executable_that_behaves_like_run(tmp_path: Path) -> None:
    source = "(print (args) (+ (pow 2 70) 1))\n(exit 3)\n"
    (tmp_path / "prog.fl").write_text(source)
    built = fluentai("build", "prog.fl", "-o", "prog", cwd=tmp_path)
    assert built.status == 0, built.stderr
    done = subprocess.run(
        [str(tmp_path / "prog"), "a", "b c"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 3
    assert done.stdout == '["a" "b c"] 1180591620717411303425\n'
    assert built.stderr == ""  # not a terminal: no status line


def test_build_verbose_writes_each_stage_and_a_terminal_gets_a_status_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "prog.fl").write_text("(define (sq x) (* x x))\n(print (sq 7))\n")
    built = fluentai("build", "-v", "prog.fl", "-o", "prog", cwd=tmp_path)
    assert built.status == 0, built.stderr
    lines = built.stderr.splitlines()
    stages = [line.split(": ")[1] for line in lines[:-1]]
    assert stages == [
        "front end and lowering",
        "LLVM -O2, 1 function",
        "the prelude and the runtime",
        "linking",
    ], lines
    assert all(re.fullmatch(r"fluentai build: .*: \d+ ms", line) for line in lines[:-1])
    assert re.fullmatch(r"fluentai build: built prog in \d+ ms", lines[-1])
    # on a terminal: one line, rewritten at each stage and erased at the end
    import pexpect

    child = pexpect.spawn(
        sys.executable,
        ["-m", "fluentai", "build", "prog.fl", "-o", "prog2"],
        cwd=str(tmp_path),
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    out = child.read().decode()
    child.close()
    assert child.exitstatus == 0, out
    assert "\r\x1b[Kfluentai build: LLVM -O2, 1 function (" in out
    assert out.endswith("\r\x1b[K")
    assert (tmp_path / "prog2").exists()


def test_build_reports_runtime_errors_like_run(tmp_path: Path) -> None:
    (tmp_path / "prog.fl").write_text(_TIER_PROGRAM)
    vm = run_source(tmp_path, _TIER_PROGRAM, "--tier", "vm")
    built = fluentai("build", "prog.fl", "-o", "prog", cwd=tmp_path)
    assert built.status == 0, built.stderr
    done = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 70
    assert done.stdout == vm.stdout
    assert done.stderr == vm.stderr


def test_build_compile_error_exits_65_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "prog.fl").write_text("(print (undefined-name 1))\n")
    built = fluentai("build", "prog.fl", "-o", "prog", cwd=tmp_path)
    assert built.status == 65
    assert "error[unbound-variable]" in built.stderr
    assert not (tmp_path / "prog").exists()


@pytest.mark.parametrize("extra", [[], ["--emit", "llvm"]])
@pytest.mark.parametrize("out", ["prog.fl", "./prog.fl", "link.fl"])
def test_build_never_overwrites_its_source(tmp_path: Path, extra: list[str], out: str) -> None:
    text = "(print 1)\n"
    (tmp_path / "prog.fl").write_text(text)
    (tmp_path / "link.fl").symlink_to("prog.fl")
    built = fluentai("build", "prog.fl", *extra, "-o", out, cwd=tmp_path)
    assert built.status == 2
    assert built.stderr == f"fluentai: error: cannot write `{out}`: it is the source file\n"
    assert (tmp_path / "prog.fl").read_text() == text


def test_build_with_an_empty_output_path_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "prog.fl").write_text("(print 1)\n")
    built = fluentai("build", "prog.fl", "-o", "", cwd=tmp_path)
    assert (built.status, built.stderr) == (2, "fluentai: error: the output path (`-o`) is empty\n")


@pytest.mark.parametrize("emit", ["llvm", "asm", "obj"])
def test_build_emit_writes_the_requested_stage(tmp_path: Path, emit: str) -> None:
    (tmp_path / "prog.fl").write_text("(define (sq x) (* x x))\n(print (sq 7))\n")
    built = fluentai("build", "prog.fl", "--emit", emit, "-o", "out", cwd=tmp_path)
    assert built.status == 0, built.stderr
    data = (tmp_path / "out").read_bytes()
    if emit == "llvm":
        assert b"define" in data and b"fl_program_main" in data
    elif emit == "asm":
        assert b"fl_program_main" in data
    else:
        assert data[:4] == b"\x7fELF"


def test_o1_inlines_the_thin_entry_of_a_quick_exit(tmp_path: Path) -> None:
    """-O1 (JIT units, a first run's image) inlines what is marked `alwaysinline`: the thin
    entry of a function starting with a quick exit, which its recursive calls go through."""
    (tmp_path / "fib.fl").write_text(
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(print (fib 20))\n"
    )
    built = fluentai("build", "fib.fl", "-O1", "--emit", "llvm", "-o", "fib.ll", cwd=tmp_path)
    assert built.status == 0, built.stderr
    ir = (tmp_path / "fib.ll").read_text()
    assert "@fl.fn.1.fib.k.body(" in ir
    assert "call tailcc i64 @fl.fn.1.fib.k(" not in ir


def test_help_exits_0_and_mentions_run_and_eval(tmp_path: Path) -> None:
    result = fluentai("--help", cwd=tmp_path)
    assert result.status == 0
    assert "run" in result.stdout and "eval" in result.stdout
    run_help = fluentai("run", "--help", cwd=tmp_path)
    assert run_help.status == 0
    assert "--tier" in run_help.stdout and "--print-values" in run_help.stdout


_DUMP_PROGRAM = "(define (sq x) (* x x))\n(print (sq 7))\n"


def test_dump_bytecode_writes_a_disassembly_to_stderr_and_still_runs(tmp_path: Path) -> None:
    result = run_source(tmp_path, _DUMP_PROGRAM, "--dump", "bytecode")
    assert (result.status, result.stdout) == (0, "49\n")
    assert "sq" in result.stderr
    assert len(result.stderr.splitlines()) >= 5
    assert report_line(result.stderr) is None


def test_dump_tokens_ast_core_writes_each_stage_and_still_runs(tmp_path: Path) -> None:
    combined = run_source(tmp_path, _DUMP_PROGRAM, "--dump", "tokens,ast,core")
    assert (combined.status, combined.stdout) == (0, "49\n")
    for stage in ("tokens", "ast", "core"):
        single = run_source(tmp_path, _DUMP_PROGRAM, "--dump", stage)
        assert (single.status, single.stdout) == (0, "49\n")
        assert "sq" in single.stderr, stage
        assert single.stderr in combined.stderr, stage


def test_the_native_tier_dumps_the_front_ends_stages_as_the_vm_does(tmp_path: Path) -> None:
    # they wrote nothing on --tier native, cache or not
    stages = "tokens,ast,core,resolve_names,fold_constants,fuse_lists,types"
    vm = run_source(tmp_path, _DUMP_PROGRAM, "--tier", "vm", "--dump", stages)
    for _ in range(2):  # the second run finds the program in the code cache
        native = run_source(tmp_path, _DUMP_PROGRAM, "--tier", "native", "--dump", stages)
        assert (native.status, native.stdout, native.stderr) == (0, "49\n", vm.stderr)
    assert "SYMBOL sq" in vm.stderr and "sq : (Int" in vm.stderr


@pytest.mark.parametrize(
    ("tier", "stage", "needs"),
    [("native", "bytecode", "a tier with the VM"), ("vm", "llvm", "--tier native")]
    + [("auto", "asm", "--tier native")],
)
def test_a_dump_stage_of_another_tier_is_a_usage_error(
    tmp_path: Path, tier: str, stage: str, needs: str
) -> None:
    result = run_source(tmp_path, _DUMP_PROGRAM, "--tier", tier, "--dump", stage)
    assert_usage_error(result)
    assert needs in result.stderr


def test_time_passes_on_the_native_tier_times_its_stages(tmp_path: Path) -> None:
    first = run_source(tmp_path, _DUMP_PROGRAM, "--tier", "native", "--time-passes", "--no-cache")
    assert (first.status, first.stdout) == (0, "49\n")
    names = [line.split()[0] for line in first.stderr.splitlines()[1:]]
    assert first.stderr.startswith("pass timings (ms):\n")
    assert {"read", "resolve_names", "lower", "llvm", "link", "total"} <= set(names)
    for _ in range(2):  # the second run finds the program in the code cache
        again = run_source(tmp_path, _DUMP_PROGRAM, "--tier", "native", "--time-passes")
    assert "load (code cache)" in again.stderr and "lower" not in again.stderr


@pytest.mark.parametrize("tier", ["auto", "vm"])
def test_jit_stats_writes_to_stderr_and_leaves_stdout_unchanged(tmp_path: Path, tier: str) -> None:
    plain = run_source(tmp_path, _DUMP_PROGRAM, "--tier", tier)
    stats = run_source(tmp_path, _DUMP_PROGRAM, "--tier", tier, "--jit-stats")
    assert (plain.status, plain.stdout, plain.stderr) == (0, "49\n", "")
    assert (stats.status, stats.stdout) == (0, "49\n")
    assert stats.stderr.strip() != ""


def test_fluentai_seed_2024_makes_random_int_print_5(tmp_path: Path) -> None:
    source = "(print (random:int 1 6) (random:int 1 6) (random:int 1 6))\n"
    result = run_source(tmp_path, source, env={"FLUENTAI_SEED": "2024"})
    assert (result.status, result.stdout) == (0, "5 4 6\n")
    again = fluentai("eval", "(random:int 1 6)", cwd=tmp_path, env={"FLUENTAI_SEED": "2024"})
    assert again.stdout == "5\n"


def test_only_an_ascii_decimal_fluentai_seed_seeds(tmp_path: Path) -> None:
    """Other text (here Arabic-Indic digits for 42) is ignored, in every tier alike: two runs
    draw from entropy and differ (one chance in 10^12 of a false failure)."""
    source = "(print (random:int 1 1000000) (random:int 1 1000000))\n"
    for tier in ("vm", "native"):
        seeded = run_source(tmp_path, source, "--tier", tier, env={"FLUENTAI_SEED": " 42 "})
        assert seeded.stdout.split()[0] == "558743"
        runs = [
            run_source(tmp_path, source, "--tier", tier, env={"FLUENTAI_SEED": "\u0664\u0662"})
            for _ in range(2)
        ]
        assert runs[0].stdout != runs[1].stdout


def test_read_line_strips_crlf_and_lf_and_returns_nil_at_eof(tmp_path: Path) -> None:
    source = (
        "(print (read-line))\n"
        "(print [(read-line) (read-line) (read-line) (read-line) (io:read-line)])\n"
    )
    result = run_source(tmp_path, source, stdin="λ one\r\ntwo\n\r\nlast".encode())
    assert (result.status, result.stdout) == (0, 'λ one\n["two" "" "last" nil nil]\n')


def test_read_line_with_empty_stdin_returns_nil(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print (read-line))\n")
    assert (result.status, result.stdout) == (0, "nil\n")


def test_read_line_of_invalid_utf8_is_an_io_error(tmp_path: Path) -> None:
    result = run_source(tmp_path, "(print (read-line))\n", stdin=b"ok\xff\n")
    assert result.status == 70
    assert report_line(result.stderr).startswith("prog.fl:1:8: error[io-error]: ")


def test_read_file_of_invalid_utf8_is_an_io_error(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"fine\n\xc3\x28 broken")
    source = '(print (try (io:read-file "bad.txt") (catch e (error-kind e))))\n'
    source += '(io:read-file "bad.txt")\n'
    result = run_source(tmp_path, source)
    assert result.status == 70
    assert result.stdout == "io-error\n"
    assert report_line(result.stderr).startswith("prog.fl:2:1: error[io-error]: ")


def test_standard_output_is_utf8_whatever_the_locale(tmp_path: Path) -> None:
    source = '(print "λ→x" (read-line))\n'
    for extra in ({"LC_ALL": "C", "LANG": "C"}, {"PYTHONIOENCODING": "latin-1", "LC_ALL": "C"}):
        path = tmp_path / "prog.fl"
        path.write_text(source, encoding="utf-8")
        completed = subprocess.run(
            [sys.executable, "-m", "fluentai", "run", "prog.fl"],
            cwd=tmp_path,
            input="ü\n".encode(),
            capture_output=True,
            env=_environment(extra),
            timeout=TIMEOUT,
        )
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout == "λ→x ü\n".encode()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "p.fl"],
        ["run", "p.fl", "a", "--tier", "vm", "-p"],
        ["run", "-p", "--tier", "vm", "p.fl", "x"],
        ["run", "--tier=native", "--jit-stats", "--no-cache", "p.fl", "--", "y"],
        ["run", "--print-values", "--time-passes", "--tier", "auto", "p.fl"],
    ],
)
def test_plain_run_lines_skip_the_parser_and_mean_what_it_says(argv: list[str]) -> None:
    # `run` command lines without values to check are read without argparse (start-up time):
    # the result must be the parser's
    from fluentai import cli

    quick = cli._quick_run(argv)
    assert quick is not None
    own, program_args = cli._split_program_args(argv)
    parsed = cli.build_parser(only_run=True).parse_args(own)
    parsed.args = program_args
    assert vars(quick) == vars(parsed)


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["run", "--tier", "bogus", "p.fl"],
        ["run", "--dump", "core", "p.fl"],
        ["run", "--jit-threshold", "5", "p.fl"],
        ["run", "-", "x"],
        ["run", "--help"],
        ["run", "--jit-sta", "p.fl"],
        ["eval", "(+ 1 2)"],
    ],
)
def test_other_command_lines_go_to_the_parser(argv: list[str]) -> None:
    from fluentai import cli

    assert cli._quick_run(argv) is None


def test_cache_prelude_compiles_the_prelude_units_once(tmp_path: Path) -> None:
    env = {"FLUENTAI_CACHE_DIR": str(tmp_path / "cache")}
    first = fluentai("cache", "prelude", cwd=tmp_path, env=env)
    assert first.status == 0 and "for JIT units" in first.stdout
    names = sorted(p.name.split("-")[1] for p in (tmp_path / "cache").glob("prelude-*.o"))
    assert len(names) == 2  # the native/image unit and the JIT's (prelude-KEY.o, prelude-jit-KEY.o)
    again = fluentai("cache", "prelude", cwd=tmp_path, env=env)
    assert again.status == 0
    off = fluentai("cache", "prelude", cwd=tmp_path, env={**env, "FLUENTAI_CACHE": "0"})
    assert off.status == 0 and "disabled" in off.stdout


def test_a_cache_directory_that_cannot_be_written_is_reported(tmp_path: Path) -> None:
    # `cache prelude` compiled, stored nothing and reported success "(in /dev/null)"
    (tmp_path / "a-file").write_text("")
    env = {"FLUENTAI_CACHE_DIR": str(tmp_path / "a-file")}
    prelude = fluentai("cache", "prelude", cwd=tmp_path, env=env)
    assert_usage_error(prelude)
    assert "cannot write the code cache" in prelude.stderr and "not a directory" in prelude.stderr
    info = fluentai("cache", "info", cwd=tmp_path, env=env)
    assert info.status == 0 and "not writable: not a directory" in info.stdout
    fine = fluentai("cache", "info", cwd=tmp_path, env={"FLUENTAI_CACHE_DIR": str(tmp_path)})
    assert fine.status == 0 and "not writable" not in fine.stdout


@pytest.mark.parametrize("tier", ["auto", "native"])
def test_a_run_that_compiles_says_once_that_the_cache_cannot_be_written(
    tmp_path: Path, tier: str
) -> None:
    # it compiled without the cache, silently, run after run
    (tmp_path / "a-file").write_text("")
    (tmp_path / "p.fl").write_text(
        '(define (f n) (if (< n 2) n (+ (f (- n 1)) (f (- n 2)))))\n(print "start")\n'
        "(print (f 20))\n"
    )
    env = {"FLUENTAI_CACHE_DIR": str(tmp_path / "a-file" / "cache")}
    result = fluentai("run", "--tier", tier, "p.fl", cwd=tmp_path, env=env)
    assert (result.status, result.stdout) == (0, "start\n6765\n")
    warning = (
        f"fluentai: warning: cannot write the code cache `{tmp_path / 'a-file' / 'cache'}` "
        "(not a directory): compiled code is not kept for the next run"
    )
    assert result.stderr.count(warning) == 1, result.stderr
    # nothing to say when the cache is off, or when nothing is compiled
    off = fluentai("run", "--tier", tier, "p.fl", cwd=tmp_path, env={**env, "FLUENTAI_CACHE": "0"})
    assert (off.status, off.stdout, off.stderr) == (0, "start\n6765\n", "")
    vm = fluentai("run", "--tier", "vm", "p.fl", cwd=tmp_path, env=env)
    assert (vm.status, vm.stdout, vm.stderr) == (0, "start\n6765\n", "")


@pytest.mark.parametrize("tier", ["auto", "native", "vm"])
def test_a_program_file_that_is_a_pipe_is_read_once(tmp_path: Path, tier: str) -> None:
    # the warm-start path looks for a program image by the file's text: it must not be the
    # one to read a pipe, which the usual path then found empty
    result = fluentai("run", "--tier", tier, "/dev/stdin", cwd=tmp_path, stdin=b"(print 5)\n")
    assert (result.status, result.stdout) == (0, "5\n"), result


@pytest.mark.parametrize("tier", ["vm", "native"])
def test_a_file_name_that_is_not_utf8_is_reported_as_given(tmp_path: Path, tier: str) -> None:
    name = os.fsdecode(b"ok\xfe.fl")
    (tmp_path / name).write_bytes(b"(print 1)\n(print (head []))\n")
    result = fluentai("run", "--tier", tier, name, cwd=tmp_path)
    assert (result.status, result.stdout) == (70, "1\n"), result
    # the byte itself (decoded here as U+FFFD), not an escape such as `\udcfe`
    assert result.stderr.startswith("ok\ufffd.fl:2:8: error[empty-list]:"), result.stderr


@pytest.mark.parametrize("tier", ["vm", *_INTERRUPT_TIERS])
def test_waits_in_finally_clauses_run_while_an_interrupt_unwinds(tmp_path: Path, tier: str) -> None:
    # §13.4: the interrupt runs the `finally` clauses on its way out, a sleep in one included
    # (the VM used to cut it short: its waits watched the interrupt flag that was still set)
    source = (
        '(print "start")\n(io:write-file "ready.txt" "")\n'
        '(try (while #t 1) (finally (print "fin") (time:sleep 0.2) (print "fin2")))\n'
    )
    result = _interrupt(tmp_path, source, tier)
    _assert_interrupted(result, "start\nfin\nfin2\n")
