"""The environment variables that tune a run (docs/cli.md, "Environment"): the forms each one
takes, and a warning for a value that is none of them.

    count(os.environ, "FLUENTAI_JIT_THRESHOLD", -1)  # a decimal count, else the default
    warn_invalid(os.environ, sys.stderr)             # once, when a command starts

Each reader falls back to its default on a value it does not understand; `warn_invalid` says so
when the command starts, so that `FLUENTAI_JIT=off` (only `0` turns the JIT off) or
`FLUENTAI_JIT_THRESHOLD=1e3` does not go unnoticed. Paths (FLUENTAI_CACHE_DIR,
FLUENTAI_JIT_LOG, FLUENTAI_HISTORY) take any value.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: typing imports `re`, on every start
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO

_SPACE = " \t\n\v\f\r"


def _is_count(text: str) -> bool:
    """Decimal ASCII digits (`str.isdigit` alone also takes `²`, which `int` refuses)."""
    return text.isascii() and text.isdigit()


def integer(text: str) -> int | None:
    """A decimal Int, with a sign and spaces around allowed, else None."""
    text = text.strip(_SPACE)
    digits = text[1:] if text[:1] in ("+", "-") else text
    return int(text) if _is_count(digits) else None


def count(environ: Mapping[str, str], name: str, default: int) -> int:
    """The variable as a count (decimal ASCII digits, spaces around allowed), else `default`."""
    text = environ.get(name, "").strip(_SPACE)
    return int(text) if _is_count(text) else default


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def byte_size(text: str) -> int | None:
    """A size in bytes: a count with an optional binary unit, `K`, `M` or `G` (`64M`, `512k`,
    `1GiB`, `100`), else None."""
    text = text.strip(_SPACE).upper()
    for ending in ("IB", "B"):
        if text.endswith(ending) and len(text) > len(ending):
            text = text[: -len(ending)]
            break
    unit = text[-1:] if text[-1:] in ("K", "M", "G") else ""
    digits = text[: len(text) - len(unit)]
    return int(digits) * _SIZE_UNITS[unit] if _is_count(digits) else None


def size(environ: Mapping[str, str], name: str, default: int) -> int:
    """The variable as a size in bytes (`byte_size`), else `default`."""
    n = byte_size(environ.get(name, ""))
    return default if n is None else n


def milliseconds(environ: Mapping[str, str], name: str) -> float | None:
    """The variable as a finite number of milliseconds >= 0, else None."""
    return _milliseconds(environ.get(name, ""))


def _milliseconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value < float("inf") else None


def _positive(text: str) -> bool:
    n = integer(text)
    return n is not None and n > 0


# name -> (what the value must be, whether a text is one)
_FORMS: dict[str, tuple[str, Callable[[str], object]]] = {}
for _name in (
    "FLUENTAI_JIT",
    "FLUENTAI_JIT_SYNC",
    "FLUENTAI_JIT_INLINE_CACHES",
    "FLUENTAI_IMAGE",
    "FLUENTAI_IMAGE_PROCESS",
    "FLUENTAI_CACHE",
    "FLUENTAI_TRACEBACK",
    "FLUENTAI_VM_PROFILE",
):
    _FORMS[_name] = ("0 or 1", lambda t: t in ("0", "1"))
for _name in (
    "FLUENTAI_JIT_THRESHOLD",
    "FLUENTAI_JIT_LOOP_THRESHOLD",
    "FLUENTAI_JIT_TIME_MS",
    "FLUENTAI_JIT_TIER2_THRESHOLD",
    "FLUENTAI_JIT_TIER2_TIME_MS",
    "FLUENTAI_JIT_DEOPT_LIMIT",
    "FLUENTAI_JIT_RECOMPILE_LIMIT",
    "FLUENTAI_DEOPT_STRESS",
):
    _FORMS[_name] = ("a count (0, 1, 2, ...)", lambda t: _is_count(t.strip(_SPACE)))
for _name in ("FLUENTAI_JIT_OPT", "FLUENTAI_JIT_TIER2_OPT", "FLUENTAI_NATIVE_OPT"):
    _FORMS[_name] = ("an optimization level 0 to 3", lambda t: t in ("0", "1", "2", "3"))
_FORMS["FLUENTAI_IMAGE_WAIT_MS"] = (
    "a number of milliseconds",
    lambda t: _milliseconds(t) is not None,
)
_FORMS["FLUENTAI_JIT_CODE_BUDGET"] = (
    "a size in bytes (a count, or with K, M or G)",
    lambda t: byte_size(t) is not None,
)
_FORMS["FLUENTAI_MAX_DEPTH"] = ("a positive count", _positive)
_FORMS["FLUENTAI_SEED"] = ("an integer", lambda t: integer(t) is not None)


def invalid(environ: Mapping[str, str]) -> list[str]:
    """One warning per variable set to a value that is not of its form."""
    found = []
    for name, (form, ok) in _FORMS.items():
        text = environ.get(name)
        if text is not None and text != "" and not ok(text):
            found.append(f"{name}={text!r} is not {form}; using the default")
    return found


def warn_invalid(environ: Mapping[str, str], stderr: TextIO) -> None:
    for line in invalid(environ):
        stderr.write(f"fluentai: warning: {line}\n")


__all__ = ["byte_size", "count", "integer", "invalid", "milliseconds", "size", "warn_invalid"]
