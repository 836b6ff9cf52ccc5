"""Golden dumps of the compiler stages: tests/passes/<stage>.test.

Each file holds cases: `[case NAME]`, the FluentAI input, then `[out]` and the expected dump of
that one stage. `pytest --update-goldens` rewrites the expected output; review the diff.
Stages: any `--dump` stage; the file name is the stage (`core.test`, `resolve_names.test`, ...).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from fluentai.driver import Session
from fluentai.pipeline import compile_source
from fluentai.source import SourceFile
from fluentai.vm.world import World

_DIR = Path(__file__).parent / "passes"
_CASE = re.compile(
    r"^\[case (?P<name>[^\]]+)\]\n(?P<src>.*?)\[out\]\n(?P<out>.*?)(?=^\[case |\Z)", re.S | re.M
)


def _cases() -> list[tuple[Path, str]]:
    found = []
    for path in sorted(_DIR.glob("*.test")):
        for m in _CASE.finditer(path.read_text(encoding="utf-8")):
            found.append((path, m["name"]))
    return found


def _dump(stage: str, text: str) -> str:
    """The dump of one stage, exactly as `fluentai run --dump STAGE` writes it."""
    # a fresh session per case: global slot numbers must not depend on which cases ran before
    session = Session(World([], io.StringIO(), io.StringIO(), io.StringIO(), 0))
    out = io.StringIO()
    compile_source(
        SourceFile("<golden>", text),
        session.vm.globals,
        session.vm.builtin_values.__getitem__,
        dump=frozenset({stage}),
        dump_to=out,
    )
    return out.getvalue()


@pytest.mark.parametrize(
    ("path", "name"), _cases(), ids=lambda v: v if isinstance(v, str) else v.stem
)
def test_golden(path: Path, name: str, update_goldens: bool) -> None:
    text = path.read_text(encoding="utf-8")
    match = next(m for m in _CASE.finditer(text) if m["name"] == name)
    actual = _dump(path.stem, match["src"]).rstrip("\n") + "\n\n"
    if update_goldens:
        start, end = match.span("out")
        path.write_text(text[:start] + actual + text[end:], encoding="utf-8")
        return
    assert match["out"] == actual, f"{path.name} [{name}] changed; run pytest --update-goldens"
