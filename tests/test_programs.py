"""The program corpus: every `tests/programs/**/*.fl` under every tier of `tiers.TIERS`.

Each program carries its expectations as markers (LANGUAGE.md §0, see `corpus.py`). Known tier gaps
come from `tier_skips.SKIPS` and run as strict xfails.

    pytest tests/test_programs.py                     # the whole corpus
    pytest tests/test_programs.py -k 'bignum'         # one area
    pytest tests/test_programs.py -k 'floor_division.fl[vm]'
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import corpus
import extract_spec_examples
from tier_skips import SKIPS
from tiers import TIERS, Tier

_PROGRAMS = corpus.corpus_programs()


def _cases() -> list[object]:
    cases: list[object] = []
    for path in _PROGRAMS:
        name = corpus.relative_name(path)
        for tier in TIERS:
            reason = SKIPS.get(name, {}).get(tier.id)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(path, tier, id=f"{name}[{tier.id}]", marks=marks))
    return cases


@pytest.mark.parametrize(("path", "tier"), _cases())
def test_program(path: Path, tier: Tier) -> None:
    expectation = corpus.load_expectation(path)
    if tier.cli_tier == "aot":
        result = corpus.run_executable(path, tier.env, expectation)
    else:
        result = corpus.run_program(path, tier.cli_tier, tier.env, expectation)
    problems = corpus.check(expectation, result)
    if not problems and expectation.error_kind is not None and tier.id not in ("vm", "auto"):
        # native tiers must give the VM's whole report line, message included (§13.4)
        want = corpus.vm_report_line(path, expectation)
        got = corpus.report_line(result.stderr)
        if want != got:
            problems.append(f"report line differs from the VM's:\n  vm:   {want}\n  here: {got}")
    assert not problems, "\n".join(problems)


def test_every_program_has_valid_markers() -> None:
    bad = []
    for path in _PROGRAMS:
        try:
            corpus.load_expectation(path)
        except corpus.MarkerError as error:
            bad.append(f"{corpus.relative_name(path)}: {error}")
    assert not bad, "\n".join(bad)


def test_tier_skips_name_existing_programs_and_tiers() -> None:
    names = {corpus.relative_name(path) for path in _PROGRAMS}
    tier_ids = {tier.id for tier in TIERS}
    unknown = [
        f"{name}[{tier_id}]"
        for name, by_tier in SKIPS.items()
        for tier_id in by_tier
        if name not in names or tier_id not in tier_ids
    ]
    assert not unknown, f"tier_skips.SKIPS names unknown programs or tiers: {unknown}"


def _observed_kinds() -> set[str]:
    """Kinds that some program expects as its ending, or prints (caught with `error-kind`)."""
    kinds: set[str] = set()
    words: set[str] = set()
    for path in _PROGRAMS:
        expectation = corpus.load_expectation(path)
        if expectation.expected_kind is not None:
            kinds.add(expectation.expected_kind)
        for line in expectation.stdout_lines:
            words.update(re.findall(r"[a-z][a-z-]*", line))
    return kinds | (words & set(corpus.OBSERVABLE_ERROR_KINDS))


def test_every_error_kind_is_exercised() -> None:
    missing = [kind for kind in corpus.OBSERVABLE_ERROR_KINDS if kind not in _observed_kinds()]
    assert not missing, f"no corpus program raises or catches: {missing}"


def test_error_kind_list_matches_language_md() -> None:
    spec = extract_spec_examples.default_language_md()
    if not spec.is_file():
        pytest.skip("LANGUAGE.md not found beside the repository")
    text = spec.read_text(encoding="utf-8")
    table = text[text.index("### 13.1") : text.index("### 13.2")]
    kinds = re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.MULTILINE)
    assert sorted(kinds) == sorted(corpus.OBSERVABLE_ERROR_KINDS)


def test_every_error_kind_is_uncaught_somewhere() -> None:
    enders = {corpus.load_expectation(path).expected_kind for path in _PROGRAMS}
    runtime_only = [kind for kind in corpus.OBSERVABLE_ERROR_KINDS if kind != "syntax-error"]
    missing = [kind for kind in ["syntax-error", *runtime_only] if kind not in enders]
    assert not missing, f"no corpus program ends with: {missing}"


def test_spec_examples_are_up_to_date() -> None:
    spec = extract_spec_examples.default_language_md()
    if not spec.is_file():
        pytest.skip("LANGUAGE.md not found beside the repository")
    problems = extract_spec_examples.stale_or_missing(spec)
    assert not problems, (
        "tests/programs/spec is out of date with LANGUAGE.md; run "
        "`python tests/extract_spec_examples.py`:\n" + "\n".join(problems)
    )
