"""Shared pytest configuration: the `--update-goldens` option and the tests' import path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    # The corpus helpers (`corpus`, `tiers`, `tier_skips`) are imported by plain module name.
    sys.path.insert(0, _TESTS_DIR)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the expected output of golden tests instead of comparing against it",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when pytest runs with `--update-goldens`."""
    return bool(request.config.getoption("update_goldens"))
