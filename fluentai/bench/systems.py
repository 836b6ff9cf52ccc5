"""The systems a benchmark program can run on, and which of them exist on this machine.

    FluentAI tiers  vm, auto, native (`fluentai run --tier T`), aot (`fluentai build`, then run)
    reference       cpython (the interpreter running this harness)
    peers           pypy, c (gcc -O2), clang (the same C, clang -O2), chez (Chez Scheme), luajit

A tier exists when it runs a hello-world program: one that is not there yet exits 2 saying so
("... is not available yet"), and is then reported as absent with that message, so new tiers
light up by themselves. Whether `auto` really compiles is probed too (`probe_compiles`). A peer
exists when its program is on PATH.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple, final

from fluentai import __version__
from fluentai.bench.jitstats import compiles_code, parse_jit_stats
from fluentai.bench.measure import run_process

REFERENCE: Final = "cpython"
TIER_IDS: Final = ("vm", "auto", "native", "aot")
PEER_IDS: Final = ("pypy", "c", "clang", "chez", "luajit")
JIT_TIERS: Final = frozenset({"auto", "native"})  # the tiers that accept --jit-stats

_PROBE_SOURCE: Final = '(print "hello world")\n'
_HOT_SOURCE: Final = "(define (down n) (if (= n 0) 'done (down (- n 1))))\n(print (down 1000))\n"
_EAGER_JIT: Final = {"FLUENTAI_JIT_THRESHOLD": "0", "FLUENTAI_JIT_SYNC": "1"}
_PROBE_TIMEOUT_S: Final = 120.0


@final
@dataclass(frozen=True, slots=True)
class System:
    """One way of running a program.

    An interpreter runs `command + [program] + args`. A compiled system first runs `build`, with
    `{src}` and `{out}` replaced, once per benchmark, then runs the executable `{out}` with args.
    """

    id: str
    label: str
    ext: str
    command: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    stats_options: tuple[str, ...] = ()  # make it print JIT statistics on stderr
    is_tier: bool = False

    @property
    def is_compiled(self) -> bool:
        return bool(self.build)

    def run_argv(self, program: Path, args: Sequence[str], *, stats: bool = False) -> list[str]:
        """The command that runs `program` (the executable, for a compiled system) with `args`."""
        options = list(self.stats_options) if stats else []
        return [*self.command, *options, str(program), *args]

    def build_argv(self, source: Path, output: Path) -> list[str]:
        """The command that compiles `source` to the executable `output`."""
        fields = {"{src}": str(source), "{out}": str(output)}
        return [fields.get(part, part) for part in self.build]


@final
@dataclass(frozen=True, slots=True)
class Absent:
    """A system that is not measured, and why (one line)."""

    id: str
    reason: str


def fluentai_command() -> tuple[str, ...]:
    """How to start FluentAI: the `fluentai` script beside this interpreter, as users do."""
    script = Path(sys.executable).with_name("fluentai")
    if script.is_file() and os.access(script, os.X_OK):
        return (str(script),)
    return (sys.executable, "-m", "fluentai")


def tier_candidates(fluentai: tuple[str, ...]) -> list[System]:
    """The four FluentAI tiers, whether or not they exist yet."""
    version = f"FluentAI {__version__}"
    run = (*fluentai, "run", "--tier")
    return [
        System("vm", f"{version}, `run --tier vm` (bytecode VM)", "fl", (*run, "vm"), is_tier=True),
        System(
            "auto",
            f"{version}, `run` (tiered JIT)",
            "fl",
            (*run, "auto"),
            stats_options=("--jit-stats",),
            is_tier=True,
        ),
        System(
            "native",
            f"{version}, `run --tier native`",
            "fl",
            (*run, "native"),
            stats_options=("--jit-stats",),
            is_tier=True,
        ),
        System(
            "aot",
            f"{version}, `build` then the executable",
            "fl",
            build=(*fluentai, "build", "{src}", "-o", "{out}"),
            is_tier=True,
        ),
    ]


def probe_tier(system: System, workdir: Path) -> str | None:
    """None if the tier runs hello world, otherwise why it is absent (exit status 2 only).

    Any other failure leaves the tier in, so that every benchmark reports it as a failure.
    """
    source = workdir / "probe.fl"
    source.write_text(_PROBE_SOURCE, encoding="utf-8")
    if system.is_compiled:
        executable = workdir / f"probe-{system.id}"
        built = run_process(system.build_argv(source, executable), timeout_s=_PROBE_TIMEOUT_S)
        if built.status == 2:
            return built.failure()
        return None
    ran = run_process(system.run_argv(source, []), timeout_s=_PROBE_TIMEOUT_S)
    return ran.failure() if ran.status == 2 else None


def probe_compiles(system: System, workdir: Path) -> bool:
    """Whether a JIT tier compiles a hot function when told to compile at once.

    Until the tiered JIT lands, `auto` runs everything on the VM and its `--jit-stats` show no
    compilation; such a tier is as slow as the VM and runs at the --quick sizes.
    """
    source = workdir / "hot.fl"
    source.write_text(_HOT_SOURCE, encoding="utf-8")
    env = {**os.environ, **_EAGER_JIT}
    ran = run_process(system.run_argv(source, [], stats=True), timeout_s=_PROBE_TIMEOUT_S, env=env)
    return ran.ok and compiles_code(parse_jit_stats(ran.stderr.splitlines()))


def cpython_system() -> System:
    """The reference: this very interpreter (a venv's python, not a version-manager shim)."""
    label = f"CPython {platform.python_version()} ({sys.executable})"
    return System(REFERENCE, label, "py", (sys.executable,))


class _Peer(NamedTuple):
    id: str
    name: str
    ext: str
    binaries: tuple[str, ...]  # the first one found on PATH is used
    version_flag: str
    command: tuple[str, ...]  # after the binary
    build: tuple[str, ...]  # after the binary; empty for an interpreter


_PEERS: Final = (
    _Peer("pypy", "PyPy", "py", ("pypy3",), "--version", (), ()),
    _Peer(
        "c",
        "C, gcc -O2",
        "c",
        ("gcc", "cc"),
        "--version",
        (),
        ("-O2", "-o", "{out}", "{src}", "-lm"),
    ),
    # the same C programs through clang, whose back end (LLVM) is the native tiers' own: the
    # ratio to it is the cost of the language, apart from what gcc's optimizer does that LLVM's
    # does not (docs/decisions.md, "Native back end" 36)
    _Peer(
        "clang",
        "C, clang -O2",
        "c",
        ("clang", *(f"clang-{v}" for v in range(21, 13, -1))),
        "--version",
        (),
        ("-O2", "-o", "{out}", "{src}", "-lm"),
    ),
    _Peer("chez", "Chez Scheme", "ss", ("scheme", "chezscheme"), "--version", ("--program",), ()),
    _Peer("luajit", "LuaJIT", "lua", ("luajit",), "-v", (), ()),
)


def find_peers(wanted: Sequence[str]) -> tuple[list[System], list[Absent]]:
    """The peers among `wanted` that are installed, and those that are not."""
    found: list[System] = []
    absent: list[Absent] = []
    for peer in _PEERS:
        if peer.id not in wanted:
            continue
        binary = next((b for b in map(shutil.which, peer.binaries) if b), None)
        if binary is None:
            names = " or ".join(peer.binaries)
            absent.append(Absent(peer.id, f"{names} not found on PATH (`make bench-peers`)"))
            continue
        label = f"{peer.name}: {_version(binary, peer.version_flag)}"
        if peer.build:
            found.append(System(peer.id, label, peer.ext, build=(binary, *peer.build)))
        else:
            found.append(System(peer.id, label, peer.ext, (binary, *peer.command)))
    return found, absent


def _version(binary: str, flag: str) -> str:
    """The first line `binary flag` prints (on stdout or stderr), or the binary's path."""
    ran = run_process([binary, flag], timeout_s=30.0)
    lines = [line.strip() for line in (ran.stdout + ran.stderr).splitlines() if line.strip()]
    return lines[0].split(" -- ")[0] if lines else binary  # LuaJIT adds " -- Copyright ..."
