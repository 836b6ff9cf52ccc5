"""The outside world of one program run (LANGUAGE.md §14.2, §14.5, §16; DESIGN.md §5.4).

A `World` owns what the built-in effect operations touch: program arguments, buffered standard
output, standard input, the state store with its transaction stack, and the PRNG.

- Output is buffered and flushed at exit, before `io:read-line`, before an error report, before
  `time:sleep` and before anything is written to standard error (the driver calls `flush()` at
  exit and before reports). Text is written as UTF-8 bytes whatever the locale.
- Input is read as bytes and decoded as UTF-8; invalid UTF-8 raises `io-error`.
- The state store is a persistent `FlMap` in one attribute; a transaction saves the root, so
  begin, commit and rollback are O(1).

    world = World(["a"], stdin, stdout, stderr, seed=None)   # seeds from FLUENTAI_SEED or entropy
    world.write("hi\\n"); world.flush()
"""

from __future__ import annotations

import os
import re
import select
import threading
import time
from collections.abc import Mapping
from typing import Any, Final, TextIO

from fluentai.errors import FlError
from fluentai.vm.maps import FlMap
from fluentai.vm.prng import Prng
from fluentai.vm.values import from_iter

__all__ = ["World", "seed_from_environment"]

# Buffered output is written out once this many pieces are pending, so memory stays bounded.
_MAX_PENDING: Final = 4096
_DECIMAL_INT: Final = re.compile(r"[+-]?[0-9]+")


def seed_from_environment(environ: Mapping[str, str]) -> int | None:
    """The seed in FLUENTAI_SEED (a decimal Int, surrounding whitespace allowed), else None.

    A value that is not a decimal Int is ignored, as if the variable were unset.
    """
    text = environ.get("FLUENTAI_SEED", "").strip(" \t\n\r\v\f")  # ASCII digits and spaces only
    if _DECIMAL_INT.fullmatch(text):
        return int(text)
    return None


def _emit(stream: TextIO, text: str) -> None:
    """Write `text` to `stream` as UTF-8 (through its byte buffer when it has one) and flush."""
    raw = getattr(stream, "buffer", None)
    if raw is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # anything written through the text layer goes first
    raw.write(text.encode("utf-8", "replace"))
    raw.flush()


def program_arg(arg: str) -> str:
    """An `(args)` String: each byte of a command-line argument that is not UTF-8 (which Python
    decodes to a lone surrogate U+DC80..U+DCFF) becomes U+FFFD, as in the runtime's make_args."""
    if arg.isascii() or not any("\udc80" <= c <= "\udcff" for c in arg):
        return arg
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in arg)


def _discard(stream: TextIO) -> None:
    """Point `stream`'s descriptor at /dev/null and drop what its buffers still hold (so that
    Python's own flush at exit does not fail again)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
        stream.flush()
    except (OSError, ValueError, AttributeError):
        pass


def write_without_waiting(fd: int, data: bytes) -> None:
    """Write `data` to `fd` as far as it goes without blocking: in pieces of PIPE_BUF bytes,
    which a pipe that polls writable takes at once, until the descriptor would block or fails."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    view = memoryview(data)
    while view:
        if not poller.poll(0):
            return
        try:
            written = os.write(fd, view[: select.PIPE_BUF])
        except OSError:
            return
        view = view[written:]


NO_TRANSACTION = "`state:{}-transaction`: no open transaction"


class StateStore:
    """The state store of LANGUAGE.md §14.2: a persistent map, and the maps saved by the open
    transactions (innermost last)."""

    def __init__(self, state: FlMap | None = None, saved: list[FlMap] | None = None) -> None:
        self.state = state if state is not None else FlMap.empty()
        self.saved = saved if saved is not None else []

    def get(self, key: object) -> object:
        return self.state.lookup(key, None)

    def set(self, key: object, value: object) -> object:
        previous = self.state.lookup(key, None)
        self.state = self.state.assoc(key, value)
        return previous

    def delete(self, key: object) -> object:
        previous = self.state.lookup(key, None)
        self.state = self.state.dissoc(key)
        return previous

    def begin(self) -> None:
        self.saved.append(self.state)

    def commit(self) -> None:
        if not self.saved:
            raise FlError("value-error", NO_TRANSACTION.format("commit"))
        self.saved.pop()

    def rollback(self) -> None:
        if not self.saved:
            raise FlError("value-error", NO_TRANSACTION.format("rollback"))
        self.state = self.saved.pop()

    def contents(self) -> list[Any]:
        """The store, then the saved maps, outermost first."""
        return [self.state, *self.saved]


class World:
    """Arguments, standard streams, state store and PRNG of one program run."""

    def __init__(
        self,
        argv: list[str],
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        seed: int | None,
    ) -> None:
        self.argv = [program_arg(a) for a in argv]
        self.args: Any = from_iter(self.argv)  # the List that `(args)` returns
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._pending: list[str] = []
        self._stdout_broken = False
        self._last_char = ""  # of what has been flushed
        # the state store; the JIT hands it to native code while a unit that uses it is
        # installed, replacing it with one on the runtime's store (jit/state.py)
        self.store: Any = StateStore()
        self.prng = Prng(seed if seed is not None else seed_from_environment(os.environ))
        # set by the driver on Ctrl-C: blocking waits (read-line, time:sleep) check it
        self.interrupt = threading.Event()
        # the interrupt set in `interrupt` is unwinding (the VM took it): the waits of the
        # `finally` clauses it runs are not cut short by it (LANGUAGE.md §13.4); a second
        # Ctrl-C ends the process at once (bigstack.py)
        self.interrupt_taken = False
        self._inbuf = bytearray()  # read, not yet taken (deleting a prefix is cheap)
        self._scanned = 0  # how much of it is known to hold no newline
        self._eof = False
        # whether the run did something another process could see (output, input, files,
        # sleeping): until then the JIT may restart the program natively (jit/jit.py)
        self.touched = False
        self.prng_start: tuple[int, ...] = tuple(self.prng.state)  # the generator's first state

    # Output

    def write(self, text: str) -> None:
        """Buffer `text` for standard output."""
        self.touched = True
        pending = self._pending
        pending.append(text)
        if len(pending) >= _MAX_PENDING:
            self.flush()

    def at_line_start(self) -> bool:
        """Whether standard output is at the start of a line (nothing written counts)."""
        for text in reversed(self._pending):
            if text:
                return text.endswith("\n")
        return self._last_char in ("", "\n")

    def flush(self) -> None:
        """Write the buffered standard output."""
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            if text:
                self._last_char = text[-1]
            if self._stdout_broken:
                return
            try:
                _emit(self.stdout, text)
            except BrokenPipeError:
                raise  # the driver ends the program with status 0
            except OSError:
                # as in the runtime (out_broken, runtime/io.c): after a failed write (a full
                # disk, say) the rest of standard output is discarded
                self._stdout_broken = True
                _discard(self.stdout)

    def rescue(self) -> None:
        """A second Ctrl-C, on the main thread while the program thread may still run: write
        the buffered output as far as standard output takes it without waiting, for a process
        that ends at once (as fl_out_rescue, runtime/io.c)."""
        pending, self._pending = self._pending, []
        if self._stdout_broken or not pending:
            return
        try:
            fd = self.stdout.fileno()
        except (OSError, ValueError, AttributeError):
            return  # not a descriptor (an embedding program's stream): nothing to do at once
        write_without_waiting(fd, "".join(pending).encode("utf-8", "replace"))

    def write_err(self, text: str) -> None:
        """Write `text` to standard error at once, after the buffered standard output."""
        self.touched = True
        self.flush()
        _emit(self.stderr, text)

    # Input

    def read_line(self) -> str | None:
        """The next line of standard input without its `\\n` or `\\r\\n`; None at end of input."""
        self.touched = True
        self.flush()
        raw_stream = getattr(self.stdin, "buffer", None)
        if raw_stream is None:
            line: str = self.stdin.readline()
            if not line:
                return None
            if line.endswith("\n"):
                line = line[:-2] if line.endswith("\r\n") else line[:-1]
            return line
        raw = self.read_bytes_line()
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FlError("io-error", "`io:read-line`: standard input is not valid UTF-8") from None

    def read_bytes_line(self) -> bytes | None:
        """The next line of standard input's bytes without its `\n` or `\r\n`; None at end."""
        self.flush()
        raw: bytes = self._read_raw_line(self.stdin.buffer)
        if not raw:
            return None
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        return raw

    def _read_raw_line(self, raw_stream: Any) -> bytes:
        """One line of bytes (with its newline), waiting in slices so Ctrl-C can stop it."""
        try:
            fd = raw_stream.fileno()
        except (OSError, ValueError, AttributeError):
            line: bytes = raw_stream.readline()
            return line
        while not self._eof:
            end = self._inbuf.find(b"\n", self._scanned)
            if end >= 0:
                break
            # a line of megabytes: search each chunk once (it was the whole buffer each time,
            # the buffer copied at each append: 15 s for a 50 MB line)
            self._scanned = len(self._inbuf)
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
            except (OSError, ValueError):
                ready = [fd]  # the read below reports what is wrong with the descriptor
            if self.interrupt.is_set() and not self.interrupt_taken:
                raise KeyboardInterrupt
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue  # a non-blocking descriptor with nothing yet: wait again
                except OSError:
                    # standard input that cannot be read (opened write-only, a directory) is
                    # at its end, as in the runtime (fill_input, runtime/io.c)
                    chunk = b""
                if chunk:
                    self._inbuf += chunk
                else:
                    self._eof = True
        end = self._inbuf.find(b"\n", self._scanned)
        self._scanned = 0
        if end < 0:
            line = bytes(self._inbuf)
            self._inbuf.clear()
        else:
            line = bytes(self._inbuf[: end + 1])
            del self._inbuf[: end + 1]
        return line

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`; Ctrl-C ends the wait at once."""
        self.touched = True
        if self.interrupt_taken:
            time.sleep(seconds)
        elif self.interrupt.wait(seconds):
            raise KeyboardInterrupt

    # State store

    def state_get(self, key: object) -> object:
        return self.store.get(key)

    def state_set(self, key: object, value: object) -> object:
        """Store `value` under `key`; the previous value or nil."""
        return self.store.set(key, value)

    def state_delete(self, key: object) -> object:
        """Remove `key`; the removed value or nil."""
        return self.store.delete(key)

    def begin_transaction(self) -> None:
        self.store.begin()

    def commit_transaction(self) -> None:
        self.store.commit()

    def rollback_transaction(self) -> None:
        self.store.rollback()
