"""Tiers that run on part of the corpus (`tiers.SAMPLED_TIERS`): every k-th program from an offset,
sorted by name, so every area is represented while the suite stays fast; rows with the same k and
different offsets split the corpus between them (auto-jit0/auto-stress, aot/native)."""

from __future__ import annotations

from pathlib import Path

import pytest

import corpus
from tiers import SAMPLED_TIERS, Tier


def _cases() -> list[object]:
    programs = corpus.corpus_programs()
    cases: list[object] = []
    for tier, every, offset in SAMPLED_TIERS:
        for path in programs[offset::every]:
            name = f"{corpus.relative_name(path)}[{tier.id}]"
            cases.append(pytest.param(path, tier, id=name))
    return cases


@pytest.mark.parametrize(("path", "tier"), _cases())
def test_sampled_program(path: Path, tier: Tier) -> None:
    expectation = corpus.load_expectation(path)
    if tier.cli_tier == "aot":
        result = corpus.run_executable(path, tier.env, expectation)
    else:
        result = corpus.run_program(path, tier.cli_tier, tier.env, expectation)
    problems = corpus.check(expectation, result)
    if not problems and expectation.error_kind is not None:
        # every tier gives the VM's whole report line, message included (§13.4)
        want = corpus.vm_report_line(path, expectation)
        got = corpus.report_line(result.stderr)
        if want != got:
            problems.append(f"report line differs from the VM's:\n  vm:   {want}\n  here: {got}")
    assert not problems, "\n".join(problems)
