"""Corpus runner helpers: parse the test markers of a `.fl` program, run it, check the result.

A corpus program (`tests/programs/<area>/<case>.fl`) carries its own expectations as comments,
with the markers of LANGUAGE.md §0 plus two that only the corpus uses:

    (print (/ 7 2))          ; expect: 3
    (print (head []))        ; expect-error: empty-list
    ; stdin: first line of standard input
    ; args: a b c

`parse_expectation` turns the markers into an `Expectation`, `run_program` runs the program through
the `fluentai` command in a fresh empty directory, and `check` lists every way the `Result` differs
from the `Expectation` (an empty list means the program passed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
PROGRAMS_DIR: Final = Path(__file__).resolve().parent / "programs"
TIMEOUT_SECONDS: Final = 60

# Exit statuses of LANGUAGE.md §16.
EXIT_OK: Final = 0
EXIT_COMPILE_ERROR: Final = 65
EXIT_RUNTIME_ERROR: Final = 70

# The error kinds of LANGUAGE.md §13.1 that a program can observe (not `internal`, `out-of-memory`).
OBSERVABLE_ERROR_KINDS: Final = (
    "syntax-error",
    "type-error",
    "arity-error",
    "unbound-variable",
    "division-by-zero",
    "empty-list",
    "index-out-of-range",
    "key-error",
    "match-failure",
    "stack-overflow",
    "value-error",
    "io-error",
    "unhandled-effect",
    "user",
)

_MARKER = re.compile(
    r"^;+\s*(expect-compile-error|expect-error|expect-exit|expect|stdin|args):(.*)$"
)
_REPORT_LINE = re.compile(r"^.+:\d+:\d+: error\[([^\]]+)\]")


class MarkerError(ValueError):
    """A program whose markers contradict each other or are malformed."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a corpus program must do: its stdout lines, how it ends, and its stdin and args."""

    stdout_lines: tuple[str, ...] = ()
    error_kind: str | None = None  # `; expect-error: KIND` (exit 70)
    compile_error_kind: str | None = None  # `; expect-compile-error: KIND` (exit 65)
    exit_code: int | None = None  # `; expect-exit: N`
    stdin_lines: tuple[str, ...] = ()
    args: tuple[str, ...] = ()

    @property
    def expected_status(self) -> int:
        if self.compile_error_kind is not None:
            return EXIT_COMPILE_ERROR
        if self.error_kind is not None:
            return EXIT_RUNTIME_ERROR
        if self.exit_code is not None:
            return self.exit_code
        return EXIT_OK

    @property
    def expected_kind(self) -> str | None:
        return self.compile_error_kind or self.error_kind

    @property
    def stdin_text(self) -> str:
        return "".join(line + "\n" for line in self.stdin_lines)


@dataclass(frozen=True, slots=True)
class Result:
    """What a run of the `fluentai` command did. `status` is None when it timed out."""

    stdout: str
    stderr: str
    status: int | None


@dataclass(slots=True)
class _Markers:
    stdout_lines: list[str] = field(default_factory=list)
    stdin_lines: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    endings: list[tuple[str, str]] = field(default_factory=list)


def comment_of(line: str) -> str | None:
    """The comment of one source line (from its first `;` outside a string), or None.

    Strings are followed within the line only: a marker never stands inside a multi-line string in
    the corpus, and a string left open at the end of a line (an unterminated-string test) must not
    hide the markers on the lines after it.
    """
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == ";":
            return line[index:]
    return None


def _marker_text(raw: str) -> str:
    """`; expect: TEXT` gives TEXT: the one space after the colon is not part of it."""
    return raw[1:] if raw.startswith(" ") else raw


def parse_expectation(source: str) -> Expectation:
    """Read the markers of a program's source text (see the module docstring)."""
    markers = _Markers()
    for line in source.replace("\r\n", "\n").split("\n"):
        comment = comment_of(line)
        if comment is None:
            continue
        match = _MARKER.match(comment.rstrip("\r"))
        if match is None:
            continue
        name, raw = match.group(1), match.group(2)
        text = _marker_text(raw)
        if name == "expect":
            markers.stdout_lines.append(text)
        elif name == "stdin":
            markers.stdin_lines.append(text)
        elif name == "args":
            markers.args.extend(text.split())
        else:
            markers.endings.append((name, text.strip()))
    return _build(markers)


def _build(markers: _Markers) -> Expectation:
    if len(markers.endings) > 1:
        raise MarkerError(f"more than one of expect-error/compile-error/exit: {markers.endings}")
    error_kind = compile_error_kind = None
    exit_code = None
    if markers.endings:
        name, value = markers.endings[0]
        if not value:
            raise MarkerError(f"`{name}:` needs a value")
        if name == "expect-error":
            error_kind = value
        elif name == "expect-compile-error":
            compile_error_kind = value
            if markers.stdout_lines:
                raise MarkerError("a program expecting a compile error cannot expect output")
        else:
            if not re.fullmatch(r"\d+", value):
                raise MarkerError(f"`expect-exit:` needs a number, got {value!r}")
            exit_code = int(value)
            if exit_code in (EXIT_OK, EXIT_COMPILE_ERROR, EXIT_RUNTIME_ERROR) or exit_code > 255:
                raise MarkerError(f"`expect-exit:` cannot be {exit_code} (LANGUAGE.md §0)")
    return Expectation(
        stdout_lines=tuple(markers.stdout_lines),
        error_kind=error_kind,
        compile_error_kind=compile_error_kind,
        exit_code=exit_code,
        stdin_lines=tuple(markers.stdin_lines),
        args=tuple(markers.args),
    )


def read_source(path: Path) -> str:
    """A program's text; invalid UTF-8 (a lexical test) is replaced so its markers still parse."""
    return path.read_bytes().decode("utf-8", errors="replace")


def load_expectation(path: Path) -> Expectation:
    return parse_expectation(read_source(path))


def _environment(env_extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FLUENTAI_SEED", None)
    python_path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = (
        str(REPO_ROOT) if not python_path else os.pathsep.join([str(REPO_ROOT), python_path])
    )
    env["PYTHONIOENCODING"] = "utf-8"
    # runs wait for their program images however long they take, as the next run of the same
    # program may look for one, and no image compile outlives its test in the background
    env.setdefault("FLUENTAI_IMAGE_WAIT_MS", "600000")
    env.update(env_extra)
    return env


def run_program(
    path: Path,
    tier: str,
    env_extra: Mapping[str, str] | None = None,
    expectation: Expectation | None = None,
) -> Result:
    """Run `fluentai run --tier TIER PATH ARGS` in a fresh empty directory, with the program's stdin."""
    path = Path(path).resolve()
    if expectation is None:
        expectation = load_expectation(path)
    command = [sys.executable, "-m", "fluentai", "run", "--tier", tier, str(path)]
    command.extend(expectation.args)
    with tempfile.TemporaryDirectory(prefix="fluentai-corpus-") as workdir:
        return _run_command(command, Path(workdir), expectation, env_extra)


_VM_REPORTS: dict[Path, str | None] = {}


def vm_report_line(path: Path, expectation: Expectation) -> str | None:
    """The report line the VM gives for the program at `path` (each program run once per test
    process: every other tier is compared with it)."""
    path = Path(path).resolve()
    if path not in _VM_REPORTS:
        _VM_REPORTS[path] = report_line(run_program(path, "vm", {}, expectation).stderr)
    return _VM_REPORTS[path]


def _run_command(
    command: list[str], cwd: Path, expectation: Expectation, env_extra: Mapping[str, str] | None
) -> Result:
    """Run COMMAND in CWD with the program's stdin; a timeout gives status None."""
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            input=expectation.stdin_text.encode("utf-8"),
            capture_output=True,
            env=_environment(env_extra or {}),
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as timeout:
        return Result(
            stdout=_decode(timeout.stdout),
            stderr=_decode(timeout.stderr) + f"\n[timed out after {TIMEOUT_SECONDS} s]",
            status=None,
        )
    return Result(_decode(completed.stdout), _decode(completed.stderr), completed.returncode)


def run_executable(
    path: Path,
    env_extra: Mapping[str, str] | None = None,
    expectation: Expectation | None = None,
    opt: int = 1,
) -> Result:
    """Build PATH ahead of time (in this process, like `fluentai build`) and run the executable
    in a fresh empty directory; a compile error gives the build's report and status."""
    import io

    from fluentai.diagnostics import CompileError, Diagnostic, render_compile
    from fluentai.driver import load_source
    from fluentai.native import build_executable

    path = Path(path).resolve()
    if expectation is None:
        expectation = load_expectation(path)
    src = load_source(str(path))
    with tempfile.TemporaryDirectory(prefix="fluentai-aot-") as workdir:
        exe = str(Path(workdir) / "program")
        if isinstance(src, Diagnostic):
            return Result("", render_compile(src) + "\n", EXIT_COMPILE_ERROR)
        errors = io.StringIO()
        try:
            status = build_executable(src, exe, opt=opt, emit=None, stderr=errors)
        except CompileError as err:
            return Result("", render_compile(err.diagnostics[0]) + "\n", EXIT_COMPILE_ERROR)
        if status != 0:
            return Result("", errors.getvalue(), status)
        rundir = Path(workdir) / "cwd"
        rundir.mkdir()
        return _run_command([exe, *expectation.args], rundir, expectation, env_extra)


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def report_line(stderr: str) -> str | None:
    """The report line: the last stderr line shaped like `FILE:LINE:COL: error[KIND]: ...`."""
    found = None
    for line in stderr.splitlines():
        if _REPORT_LINE.match(line) is not None:
            found = line
    return found


def report_kind(stderr: str) -> str | None:
    """The KIND of the report line: the last stderr line shaped like `FILE:LINE:COL: error[KIND]`."""
    kind = None
    for line in stderr.splitlines():
        match = _REPORT_LINE.match(line)
        if match is not None:
            kind = match.group(1)
    return kind


def _expected_stdout(expectation: Expectation) -> str:
    return "".join(line + "\n" for line in expectation.stdout_lines)


def _stdout_problems(expectation: Expectation, stdout: str) -> list[str]:
    expected = _expected_stdout(expectation)
    if stdout == expected:
        return []
    want = expected.split("\n")
    got = stdout.split("\n")
    for index, (want_line, got_line) in enumerate(zip(want, got, strict=False)):
        if want_line != got_line:
            return [
                f"stdout differs at line {index + 1}: expected {want_line!r}, got {got_line!r}"
                f"\n--- expected stdout ---\n{expected}--- actual stdout ---\n{stdout}"
            ]
    return [
        f"stdout has {len(got) - 1} line(s), expected {len(want) - 1}"
        f"\n--- expected stdout ---\n{expected}--- actual stdout ---\n{stdout}"
    ]


def check(expectation: Expectation, result: Result) -> list[str]:
    """Every way `result` fails `expectation`; empty when the program passed."""
    if result.status is None:
        return [f"timed out after {TIMEOUT_SECONDS} s\n--- stderr ---\n{result.stderr}"]
    problems: list[str] = []
    if expectation.compile_error_kind is not None and result.stdout:
        problems.append(f"a compile error must print nothing, got stdout {result.stdout!r}")
    elif expectation.compile_error_kind is None:
        problems.extend(_stdout_problems(expectation, result.stdout))
    if result.status != expectation.expected_status:
        problems.append(f"exit status {result.status}, expected {expectation.expected_status}")
    kind = report_kind(result.stderr)
    if expectation.expected_kind is not None and kind != expectation.expected_kind:
        problems.append(f"report line kind {kind!r}, expected {expectation.expected_kind!r}")
    if "Traceback" in result.stderr:
        problems.append("stderr contains a Python traceback")
    if problems:
        problems.append(f"--- stderr ---\n{result.stderr}")
    return problems


def corpus_programs(root: Path = PROGRAMS_DIR) -> list[Path]:
    """Every corpus program, sorted by its path relative to `root`."""
    return sorted(root.rglob("*.fl"), key=lambda path: path.relative_to(root).as_posix())


def relative_name(path: Path, root: Path = PROGRAMS_DIR) -> str:
    """`numbers/floor_division.fl`: the key of a program in ids and in `tier_skips.SKIPS`."""
    return path.relative_to(root).as_posix()
