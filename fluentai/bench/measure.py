"""Running one process and measuring it: wall time, peak memory (max RSS), exit status, output.

    run_process(["python3", "fib.py", "27"], timeout_s=60)
        -> Run(seconds=0.097, max_rss_kib=9400, status=0, stdout="196418\n", stderr="")

The harness times whole processes: start-up, compilation and the run itself. Output goes to
temporary files rather than pipes, so nothing has to drain them while the process runs and the
child is reaped with `os.wait4`, whose resource usage gives its peak memory. `hyperfine_round`
times several commands once each with hyperfine, in the order given.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, final


@final
@dataclass(frozen=True, slots=True)
class Run:
    """One finished process. `status` is its exit status, or minus the signal that ended it."""

    seconds: float
    max_rss_kib: int
    status: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.timed_out

    def failure(self) -> str:
        """Why the run failed, in one line: the status and the error line of its stderr."""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        return f"exit status {self.status}: {error_line(self.stderr)}"


_ERROR_LINE: Final = re.compile(r"^(?:.+:\d+:\d+: error\[|fluentai: error: )")
_MAX_LINE: Final = 300


def error_line(stderr: str) -> str:
    """The line of `stderr` that says what went wrong.

    The last FluentAI report line (LANGUAGE.md §13.4: `FILE:LINE:COL: error[KIND]: ...` or
    `fluentai: error: ...`) if there is one, else the last non-empty line.
    """
    lines = [line for line in stderr.splitlines() if line.strip()]
    reports = [line for line in lines if _ERROR_LINE.match(line)]
    chosen = (reports or lines or ["(nothing on stderr)"])[-1].strip()
    return chosen if len(chosen) <= _MAX_LINE else chosen[:_MAX_LINE] + "..."


def run_process(
    argv: Sequence[str],
    *,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `argv` with no standard input; a run past `timeout_s` is killed and marked timed out."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # a process group: a timeout ends its children too
        )
        killed = threading.Event()
        timer = threading.Timer(timeout_s, _kill, (proc.pid, killed))
        timer.start()
        try:
            _, wait_status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: do not leave the children running
            _kill(proc.pid, killed)
            proc.wait()
            raise
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here, not by Popen
        return Run(
            seconds=seconds,
            max_rss_kib=_kib(usage.ru_maxrss),
            status=proc.returncode,
            stdout=_read(out),
            stderr=_read(err),
            timed_out=killed.is_set(),
        )


def _kill(pid: int, killed: threading.Event) -> None:
    """End the process group that `pid` leads (the run and anything it started)."""
    killed.set()
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended just before the timer fired


def _kib(max_rss: int) -> int:
    """ru_maxrss is in KiB on Linux and in bytes on macOS."""
    return max_rss // 1024 if sys.platform == "darwin" else max_rss


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


def hyperfine_round(
    hyperfine: str, commands: Sequence[Sequence[str]], *, timeout_s: float
) -> list[float] | str:
    """Time each command once with hyperfine, in order: the seconds of each, or why it failed.

    The harness's own check run is the warm-up, so hyperfine does none; `-N` runs each command
    without a shell, so no shell start-up is subtracted or added.
    """
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "round.json"
        argv = [hyperfine, "-N", "--runs", "1", "--style", "none", "--export-json", str(export)]
        argv += [shlex.join(command) for command in commands]
        run = run_process(argv, timeout_s=timeout_s * len(commands))
        if not run.ok:
            return f"hyperfine failed, {run.failure()}"
        results = json.loads(export.read_text(encoding="utf-8"))["results"]
        return [float(result["times"][0]) for result in results]
