"""The image compiler process: a first run's program image compiled on the spare core.

A first run of a program (no image in the code cache, fluentai/image.py) that gets hot waits for
its image before it can restart natively (jit/jit.py, "restart"). Compiled on a thread of the
run's own process, the image's critical path holds the imports of llvmlite and the lowering,
the prelude's resolution, the lowering and LLVM, all started only once the program is hot and all
sharing one GIL with the VM.

So, on a machine with an idle core, `fluentai run` forks right after its failed image lookup.
The child prepares what does not depend on the program being hot (imports, the prelude, the
program's resolution and lowering) while the parent starts the VM; if the program is not hot by
then, it also runs LLVM (on the idle core: nothing is stored yet), then waits. When the VM
reports the program hot, the parent sends "go": the child runs LLVM if it has not, links and
stores the image in the code cache and answers whether it did. A big program's child waits for
"go" before LLVM, which takes it seconds. The parent keeps running the program in the VM meanwhile and
looks for the answer at its safepoints (waiting on it a while there when a restart is still
possible, jit/jit.py `_poll_image_process`). A run that has done something visible cannot
restart: it sends "unit" first, and the child compiles and stores the program's JIT unit, which
the parent loads from the cache (`_poll_unit_process`), before the image. A run that never gets hot kills the child at
exit: nothing is compiled for a program that is not hot (docs/decisions.md, "Start-up" 6).

The child never writes to the parent's terminal or pipes (its standard streams are /dev/null), and
ignores Ctrl-C: the parent kills it when the run is interrupted.

FLUENTAI_IMAGE_PROCESS=1 always forks, =0 never does; by default the process is used when the
program has code that may get hot (`may_get_hot`), this process may run on at least two CPUs and
no other thread of the machine wants a CPU right now (the kernel's count of runnable threads,
looked at up to three times a millisecond apart), so that one of them is idle.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # not `signal`, whose enums cost ms
import functools
import gc
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

GO = b"g"  # compile and store the image, answer, exit
UNIT = b"u"  # compile and store the JIT unit (jit/unit.py), answer, wait for the next request
# Each request is its letter, then the inline caches the units get (jit/tier2.py
# `call_targets`, as JSON), then a newline, written at once: at most PIPE_BUF bytes, so that the
# write neither blocks nor interleaves (the hottest sites are kept when there are more).
REQUEST_MAX = 4096
STORED, NOT_STORED = b"1", b"0"
# Each answer is one line written at once: the image's is STORED or NOT_STORED then
# "stage=time" items; a unit's is UNIT then UNIT_BUILT ("lower=ms llvm=ms" items follow) or
# UNIT_FAILED (the reason follows).
UNIT_BUILT, UNIT_FAILED = b"1", b"0"
ANSWER_MAX = 512


class ImageProcess:
    """The parent's handle on its image compiler child."""

    def __init__(self, pid: int, go_fd: int, done_fd: int, mark: str = "") -> None:
        self.pid = pid
        self.mark = mark  # the child's Claim mark (removed if the child is killed)
        self.go_fd = go_fd
        self.done_fd = done_fd
        self.sent_at = 0.0  # perf_counter() when "go" was sent; 0 before
        self.result: bool | None = None  # the child's answer: image stored or not
        self.ms = 0.0  # from "go" to the answer
        self.forked_at = time.perf_counter()
        # the child's own account (monotonic clock, shared by both processes): when it was
        # prepared, got "go", finished LLVM and stored the image
        self.stages: dict[str, float] = {}
        self.finished = False  # reaped (or never to be waited for again)
        self.unit_asked = False  # the JIT unit was asked for (`unit`)
        self.unit_answer: tuple[bytes, str] | None = None  # (UNIT_*, what followed)
        self.unit_ms: dict[str, float] = {}  # UNIT_BUILT: "lower" and "llvm" times
        self._buf = b""  # answers read but not yet complete
        self.targets: dict[str, list[list[Any]]] | None = None  # sent with the unit's request

    def go(self, targets: dict[str, list[list[Any]]] | None = None) -> bool:
        """Ask the child to compile and store the image, with these inline caches (else those
        sent with the unit); False if it cannot (already asked, or the child is gone)."""
        if self.finished:
            return self.result is True
        if self.sent_at:
            return True
        if not self._request(GO, targets if targets is not None else self.targets):
            return False
        self.sent_at = time.perf_counter()
        return True

    def unit(self, targets: dict[str, list[list[Any]]] | None = None) -> bool:
        """Ask the child for the program's JIT unit (stored in the code cache, where the parent
        loads it from), with these inline caches; False if it cannot be asked."""
        if self.finished or self.unit_asked or self.sent_at:
            return False
        if not self._request(UNIT, targets):
            return False
        self.targets = targets
        self.unit_asked = True
        return True

    def _request(self, kind: bytes, targets: dict[str, list[list[Any]]] | None) -> bool:
        try:
            os.write(self.go_fd, request(kind, targets))
        except OSError:
            self._reap(kill=True)
            return False
        return True

    def poll_unit(self, wait_s: float = 0.0) -> tuple[bytes, str] | None:
        """The child's answer about the unit once it has given it, else None; waits up to
        `wait_s` seconds for it."""
        self._await(lambda: self.unit_answer is not None, wait_s)
        return self.unit_answer

    def poll(self, wait_s: float = 0.0) -> bool | None:
        """The child's answer about the image once it has given it (True: the image is
        stored), else None; waits up to `wait_s` seconds for it."""
        self._await(lambda: self.result is not None, wait_s)
        return self.result

    def _await(self, answered: Callable[[], bool], wait_s: float) -> None:
        deadline = time.perf_counter() + wait_s
        while not answered() and not self.finished:
            self._read(max(0.0, deadline - time.perf_counter()))
            if time.perf_counter() >= deadline:
                break
        if self.finished:  # gone without a word (`_read` answers for it at the pipe's end)
            self._gone()

    def _read(self, wait_s: float) -> None:
        """Read what the child has written, waiting up to `wait_s` seconds for something, and
        take in its complete answers. At the end of the pipe (the child is gone) whatever is
        still unanswered is not made."""
        import select

        try:
            ready, _, _ = select.select([self.done_fd], [], [], wait_s)
        except (OSError, ValueError):
            ready = [self.done_fd]
        if not ready:
            return
        try:
            data = os.read(self.done_fd, ANSWER_MAX)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._gone()
            return
        self._buf += data
        while b"\n" in self._buf:
            line, _, self._buf = self._buf.partition(b"\n")
            if line[:1] == UNIT:
                detail = line[2:].decode("utf-8", "replace").strip()
                self.unit_answer = (line[1:2], detail)
                if line[1:2] == UNIT_BUILT:
                    self.unit_ms = _items(detail)
            else:
                self._answered(line)

    def _gone(self) -> None:
        """The child is gone: what it has not answered is not made."""
        if self.unit_answer is None:
            self.unit_answer = (UNIT_FAILED, "the image compiler process is gone")
        if self.result is None:
            self._answered(NOT_STORED)

    def _answered(self, data: bytes) -> None:
        self.result = data[:1] == STORED
        self.ms = (time.perf_counter() - self.sent_at) * 1000 if self.sent_at else 0.0
        self.stages.update(_items(data[1:].decode("ascii", "replace")))

    def account(self) -> str:
        """Where the child's time went, in ms from the fork, in the order it happened:
        "imported at 9, llvmlite ready at 19, lowered at 54, prepared at 62, LLVM done at 88, go
        at 92, stored at 101 ms after the fork (at 60 ms)" (empty if it said nothing; "go" is
        when the child read it, after it was prepared, and LLVM comes before it when the program
        got hot only after that; the fork's own time counts from the start, as the JIT's log
        does)."""
        names = {
            "imported": "imported",
            "llvm-ready": "llvmlite ready",
            "lowered": "lowered",
            "prepared": "prepared",
            "go": "go",
            "llvm": "LLVM done",
            "stored": "stored",
        }
        order = sorted((at, i, name) for i, (name, at) in enumerate(self.stages.items()))
        parts = [
            f"{names[name]} at {(at - self.forked_at) * 1000:.0f}"
            for at, _, name in order
            if name in names
        ]
        if not parts:
            return ""
        import fluentai

        opt = self.stages.get("opt")
        first = f"; an -O{opt:.0f} image, the -O2 one to follow" if opt is not None else ""
        forked = (self.forked_at - fluentai.STARTED) * 1000
        return ", ".join(parts) + f" ms after the fork (at {forked:.0f} ms)" + first

    def detach(self) -> None:
        """The run ends without the answer: leave the child to store the image on its own (it
        is not killed nor waited for; its answer goes nowhere)."""
        if not self.finished:
            self._close()

    def _close(self) -> None:
        self.finished = True
        for fd in (self.go_fd, self.done_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def discard(self) -> None:
        """The run ends (or is interrupted) without waiting: stop the child."""
        if not self.finished:
            self._reap(kill=True)

    def _reap(self, *, kill: bool) -> None:
        self._close()
        try:
            if kill:
                os.kill(self.pid, _signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass
        if kill and self.mark:
            _remove_mark(self.mark, self.pid)


current: ImageProcess | None = None  # this run's child, if it has one


def request(kind: bytes, targets: dict[str, list[list[Any]]] | None) -> bytes:
    """A request line (REQUEST_MAX bytes at most): `kind`, the inline caches, a newline. The
    sites come hottest first (`call_targets`); those past the limit are left out."""
    import json

    sites = list((targets or {}).items())
    while True:
        line = kind + json.dumps(dict(sites), separators=(",", ":")).encode() + b"\n"
        if len(line) <= REQUEST_MAX:
            return line
        sites = sites[: len(sites) * 3 // 4]


_unread = b""  # the child's: what it read of the parent's requests past the one it took


def _read_request(fd: int) -> tuple[bytes, dict[str, list[list[Any]]]]:
    """The next request from the parent: its kind (b"" when the parent is gone) and its inline
    caches. The parent may have written the next request already (the image's after the
    unit's): what is read past this one's newline is kept for the next call."""
    import json

    global _unread
    while b"\n" not in _unread:
        data = os.read(fd, REQUEST_MAX)
        if not data:
            return b"", {}
        _unread += data
    line, _, _unread = _unread.partition(b"\n")
    try:
        targets = json.loads(line[1:])
    except ValueError:
        targets = {}
    return line[:1], targets if isinstance(targets, dict) else {}


# A program this big takes seconds to lower and compile. On a thread of the run, sharing the
# GIL with the VM, that made the VM 3 to 4 times slower for as long (a program of 3000 functions:
# 38 s against 10 s in the VM alone); a process of its own, at a lower priority, costs the VM
# much less even on a busy machine or a single CPU (docs/decisions.md, "Start-up" 11).
BIG_PROGRAM_CHARS = 50_000


def is_big(text: str) -> bool:
    """Whether the program `text` is big enough that its compile takes seconds."""
    return len(text) >= BIG_PROGRAM_CHARS


def wanted(text: str) -> bool:
    """Whether to fork an image compiler child for the program `text`: FLUENTAI_IMAGE_PROCESS,
    else code that may get hot and either an idle core or a big program."""
    setting = os.environ.get("FLUENTAI_IMAGE_PROCESS", "")
    if setting in ("0", "1"):
        return setting == "1"
    if not may_get_hot(text):
        return False
    if is_big(text):
        return True
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return False
    if cpus < 2:
        return False
    # a kernel thread or a process just exiting can be runnable for an instant: a busy
    # machine is one that stays busy over three looks a millisecond apart
    for look in range(3):
        if _runnable() < cpus:
            return True
        if look < 2:
            time.sleep(0.001)
    return False


# a form that makes a function or a loop, or a module or import that may hold some
_CALLS_OR_LOOPS = (
    r"\(\s*(?:lambda|fn|defun|define|def|letrec|let\*?|while|handler|module|import)"
    r"(?![^\s()\[\]])"
)


def may_get_hot(text: str) -> bool:
    """Whether the program has code that can be called or loop often enough to get hot: a
    lambda, a function definition, a let that may be named, a while loop, a handler, or a
    module or import that may hold them. A program without any (hello world) gets no image
    compiler process beside it, which would only slow its start down; should it still get hot
    (a long builtin call at top level), the JIT compiles on a thread, as without a spare core."""
    import re

    return re.search(_CALLS_OR_LOOPS, text) is not None


def _runnable() -> float:
    """How many threads want a CPU now, this one included: the kernel's count of runnable
    threads (/proc/loadavg), else the 1-minute load average plus this one."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0] + 1
    except OSError:
        return float("inf")


def start(path: str, text: str) -> ImageProcess | None:
    """Fork the image compiler for the program `text` read from `path` (the parent's image
    lookup just missed). Must be called before the run starts any thread."""
    global current
    if current is not None or not hasattr(os, "fork"):
        return current
    try:
        go_r, go_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: never returns
        os.close(go_w)
        os.close(done_r)
        _child(path, text, go_r, done_w)
    os.close(go_r)
    os.close(done_w)
    os.set_blocking(done_r, False)
    current = ImageProcess(pid, go_w, done_r, Claim.mark_path(path, text))
    return current


def discard() -> None:
    """At the end of a run that did not ask for an image: stop the child if there is one."""
    if current is not None and not current.sent_at:
        current.discard()


def _child(path: str, text: str, go_fd: int, done_fd: int) -> None:
    status = NOT_STORED
    stages: dict[str, float] = {}
    claim = None
    final: Callable[[], bool] | None = None
    try:
        _detach(go_fd, done_fd)
        # the objects the fork brought are never garbage here: no collection scans them (the
        # command's thresholds, launch.py, keep collections rare: 2 to 5 ms of a small
        # program's lowering went to them at the default ones)
        gc.freeze()
        claim = Claim(path, text)
        # another process compiling the same image (an earlier run's child, left to finish in
        # the background): wait for its image instead of compiling it again beside it
        images = _prepare(path, text, stages) if claim.other is None else None
        stages["prepared"] = time.perf_counter()
        if images is not None and not is_big(text) and not _asked(go_fd):
            # LLVM now, while the program is not hot yet: "go" then only links and stores it
            # (a big program's compile takes seconds, which it spends only once it is hot)
            images.compile(stages)
        kind, targets = _read_request(go_fd)
        if kind == UNIT:
            _answer(done_fd, _unit(path, text, targets))
            kind, later = _read_request(go_fd)
            targets = later or targets
        if kind == GO:
            stages["go"] = time.perf_counter()
            if images is not None:
                done = images.store(stages)
                final = functools.partial(images.final, targets)
                from fluentai.image import FIRST_IMAGE_OPT

                stages["opt"] = float(FIRST_IMAGE_OPT)
            else:
                done = claim.wait_for_other()
            status = STORED if done else NOT_STORED
            stages["stored"] = time.perf_counter()
    except BaseException:  # noqa: BLE001 - the parent compiles in-process instead
        status = NOT_STORED
    _answer(done_fd, status + "".join(f" {name}={at:.6f}" for name, at in stages.items()).encode())
    # The run restarts on the quick image now; the -O2 image replaces it for the next runs.
    # The run does not wait for this (it may end first: the process is left to finish).
    if status == STORED and final is not None:
        try:
            final()
        except BaseException:  # noqa: BLE001 - the quick image stays: slower, as correct
            pass
    if claim is not None:
        claim.release()
    if status == STORED:
        _trim()
    os._exit(0)


class Claim:
    """A mark in the code cache that this process compiles the image of a program
    (`KEY.building`, holding its pid): a run started while an earlier run's image compiler
    still works on the same program (a big one, left to finish after its run) waits for that
    image instead of compiling it a second time beside it. A mark whose process is gone, or
    older than STALE_S, is taken over (docs/decisions.md, "Start-up" 11)."""

    STALE_S = 600.0
    WAIT_S = 600.0  # the longest wait for the other process's image

    def __init__(self, path: str, text: str) -> None:
        from fluentai import image

        self.key = image.key(path, text)
        self.mark = self.mark_of(self.key)
        self.other: int | None = None  # the live process that compiles it, if another does
        self.owned = False  # the mark is this process's (removed by `release`)
        for _ in range(2):
            try:
                fd = os.open(self.mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self.other = self._owner()
                if self.other is not None:
                    return
                try:
                    os.unlink(self.mark)  # stale
                except OSError:
                    pass
                continue
            except OSError:
                break  # no cache to mark: compile unmarked
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(str(os.getpid()))
            self.owned = True
            break

    @staticmethod
    def mark_path(path: str, text: str) -> str:
        from fluentai import image

        return Claim.mark_of(image.key(path, text))

    @staticmethod
    def mark_of(key: str) -> str:
        from fluentai import cachekey

        return os.path.join(cachekey.cache_dir(), key + ".building")

    def _owner(self) -> int | None:
        """The pid of the live process the mark names, if it is recent; else None."""
        try:
            if time.time() - os.stat(self.mark).st_mtime > self.STALE_S:
                return None
            with open(self.mark, encoding="ascii") as f:
                pid = int(f.read().strip() or "0")
        except (OSError, ValueError):
            return None
        return pid if pid > 0 and pid != os.getpid() and _alive(pid) else None

    def wait_for_other(self) -> bool:
        """Wait for the other process to finish; whether the image is stored now."""
        from fluentai import codecache

        deadline = time.monotonic() + self.WAIT_S
        while time.monotonic() < deadline:
            if codecache.exists(self.key):
                return True
            if self.other is None or not _alive(self.other):
                break
            time.sleep(0.02)
        return codecache.exists(self.key)

    def release(self) -> None:
        if self.owned:
            self.owned = False
            _remove_mark(self.mark, os.getpid())


def _remove_mark(mark: str, pid: int) -> None:
    """Remove a Claim mark if it is `pid`'s."""
    try:
        with open(mark, encoding="ascii") as f:
            if f.read().strip() != str(pid):
                return
        os.unlink(mark)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by another user
    return True


def _items(text: str) -> dict[str, float]:
    """The "name=number" items of an answer."""
    out: dict[str, float] = {}
    for item in text.split():
        name, _, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def _answer(done_fd: int, line: bytes) -> None:
    try:
        os.write(done_fd, line[: ANSWER_MAX - 1] + b"\n")
    except OSError:
        pass


def _unit(path: str, text: str, targets: dict[str, list[list[Any]]]) -> bytes:
    """The JIT unit of a run that has done something visible before it got hot (no restart):
    compiled here, where it does not share the run's GIL, and stored in the code cache, where
    the run loads it (jit/jit.py, `_poll_unit_process`)."""
    from fluentai.jit import unit as unit_mod
    from fluentai.jit.jit import JitStats
    from fluentai.source import SourceFile

    stats = JitStats()
    try:
        unit_mod.build_unit(SourceFile(path, text), stats, lambda _text: None, targets=targets)
    except Exception as exc:  # noqa: BLE001 - the run compiles it itself
        return UNIT + UNIT_FAILED + b" " + f"{type(exc).__name__}: {exc}".encode()
    return UNIT + UNIT_BUILT + f" lower={stats.lower_ms:.1f} llvm={stats.compile_ms:.1f}".encode()


def _detach(go_fd: int, done_fd: int) -> None:
    """Let go of everything the parent owns: standard streams (a reader of the parent's output
    pipe must see its end when the parent exits), other descriptors, Ctrl-C."""
    _in_background()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    keep = {0, 1, 2, go_fd, done_fd}
    for fd in range(3, max(keep) + 64):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _in_background() -> None:
    """A compiler process of its own: Ctrl-C is the run's business, and it gives way to
    anything interactive should the machine get busy."""
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    try:
        os.nice(5)
    except OSError:
        pass


class _Images:
    """The images the child makes: the quick one the run restarts on (-O1, lowered `quick`:
    nothing unrolled), compiled (`compile`) and stored (`store`), then the -O2 one that replaces
    it (`final`: lowered again, in full)."""

    def __init__(self, path: str, text: str, lowered: Any, ir_text: str) -> None:
        from fluentai import image

        self.path = path
        self.text = text
        self.key = image.key(path, text)
        self.lowered = lowered
        self.ir_text = ir_text
        self.object: bytes | None = None  # the quick image's object code, once compiled

    def compile(self, stages: dict[str, float]) -> None:
        """LLVM for the quick image (`stages["llvm"]`: when it was done)."""
        from fluentai import image, native

        if self.object is None:
            self.object = native.image_object(
                self.lowered, image.FIRST_IMAGE_OPT, stages, self.ir_text
            )

    def store(self, stages: dict[str, float]) -> bool:
        """The quick image in the code cache (compiled first if it is not yet)."""
        from fluentai import image, native

        self.compile(stages)
        assert self.object is not None
        return native.put_image(self.lowered, self.key, image.FIRST_IMAGE_OPT, self.object)

    def final(self, targets: dict[str, list[list[Any]]] | None = None) -> bool:
        """The -O2 image, with these inline caches (what the VM saw when the program got hot:
        the quick image, lowered before, has none)."""
        from fluentai import image, native
        from fluentai.source import SourceFile

        lowered = native.lower_image(SourceFile(self.path, self.text), call_targets=targets)
        return native.finish_image(lowered, self.key, image.IMAGE_OPT)


def _prepare(path: str, text: str, stages: dict[str, float]) -> _Images:
    """Everything before LLVM. Raises when the program does not even compile (the parent
    reports that). Records when the imports, LLVM's initialization and the lowering were done
    in `stages`."""
    from fluentai import codecache, native
    from fluentai.llvm.engine import compiler
    from fluentai.source import SourceFile

    stages["imported"] = time.perf_counter()
    compiler()  # LLVM's initialization, done before the program is hot
    stages["llvm-ready"] = time.perf_counter()
    lowered = native.lower_image(SourceFile(path, text), quick=True)
    stages["lowered"] = time.perf_counter()
    ir_text = str(lowered.module)  # Python's part of the compile: 7 to 30 ms
    codecache.prepare_link()
    return _Images(path, text, lowered, ir_text)


def _asked(go_fd: int) -> bool:
    """Whether the parent has written a request (or is gone) already."""
    import select

    try:
        return bool(select.select([go_fd], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _trim() -> None:
    from fluentai import codecache

    codecache.trim_if_due()


def build_in_background(name: str, text: str) -> bool:
    """Start a process that compiles and stores the image of the program `text` read from
    `name`, in a session of its own and with none of this run's standard streams, which ends
    without waiting for it (fluentai/image.py, `finish_pending`). Whether it started."""
    import subprocess
    import sys

    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fluentai.imageproc", name],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(text.encode("utf-8", "surrogateescape"))
        proc.stdin.close()
    except OSError:
        return False
    return True


def _background_main(argv: list[str]) -> int:
    """`python -m fluentai.imageproc NAME` with the program's text on standard input: compile
    and store its image (`build_in_background`)."""
    import sys

    _in_background()
    text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    from fluentai import image
    from fluentai.source import SourceFile

    claim = Claim(argv[0], text)
    if claim.other is not None:
        return 0  # another process compiles it
    try:
        stored = image.build(SourceFile(argv[0], text), lambda _text: None)
    except Exception:  # noqa: BLE001 - nobody to tell: the next run compiles it itself
        return 1
    finally:
        claim.release()
    if stored:
        _trim()
    return 0 if stored else 1


if __name__ == "__main__":
    import sys

    sys.exit(_background_main(sys.argv[1:]))
