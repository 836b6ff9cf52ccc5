"""A sample of the corpus on the native tier at LLVM's full pipeline (-O2, the default of
`fluentai run --tier native`); the corpus runner uses -O1 to keep the suite fast. The sample is
every 12th program (sorted by name), so every area is represented."""

from __future__ import annotations

from pathlib import Path

import pytest

import corpus

_SAMPLE = corpus.corpus_programs()[::12]


@pytest.mark.parametrize("path", _SAMPLE, ids=[corpus.relative_name(p) for p in _SAMPLE])
def test_program_at_o2(path: Path) -> None:
    expectation = corpus.load_expectation(path)
    result = corpus.run_program(path, "native", {"FLUENTAI_NATIVE_OPT": "2"}, expectation)
    problems = corpus.check(expectation, result)
    assert not problems, "\n".join(problems)
