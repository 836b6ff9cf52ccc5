"""A status line for long work: `fluentai build`, and a `--tier native` run that compiles.

On a terminal, `stage` rewrites one line of standard error ("fluentai build: LLVM, 600
functions (4.2 s)") and `done` erases it, so a build that takes seconds says what it is doing
and a finished one leaves nothing behind. Elsewhere (a pipe, a file, a test) it writes nothing;
`verbose` writes each stage's time on a line of its own instead, wherever stderr goes.
"""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO, label: str, *, verbose: bool = False) -> None:
        self.stream = stream
        self.label = label
        self.verbose = verbose
        try:
            self.live = not verbose and stream.isatty()
        except (AttributeError, ValueError, OSError):
            self.live = False
        self.started = self.last = time.perf_counter()
        self.current = ""

    def stage(self, text: str) -> None:
        """The work moves on to `text` (the previous stage's time goes to a verbose log)."""
        self._finish_stage()
        self.current = text
        if self.live:
            elapsed = time.perf_counter() - self.started
            self._write(f"\r\033[K{self.label}: {text} ({elapsed:.1f} s)")

    def done(self, summary: str | None = None) -> None:
        """The work is over: erase the line; `summary` goes to a verbose log. Only the first
        call writes (an error path ends the work before the caller's own `done`)."""
        self._finish_stage()
        if self.live:
            self._write("\r\033[K")
        if self.verbose and summary:
            total = (time.perf_counter() - self.started) * 1000
            self._write(f"{self.label}: {summary} in {total:.0f} ms\n")
        self.live = self.verbose = False

    def _finish_stage(self) -> None:
        now = time.perf_counter()
        if self.verbose and self.current:
            self._write(f"{self.label}: {self.current}: {(now - self.last) * 1000:.0f} ms\n")
        self.last = now
        self.current = ""

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.live = self.verbose = False
