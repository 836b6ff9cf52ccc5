"""fluentai/cachekey.py (keys and digests without the compiler) and the warm-start command line of
fluentai/launch.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fluentai import cachekey
from fluentai.launch import _image_run


def test_stamped_digest_follows_content_and_reuses_its_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUENTAI_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "a.py"
    src.write_text("x = 1\n")
    first = cachekey._stamped_digest("t", [str(src)], "extra")
    assert (tmp_path / "cache" / "t.digest").exists()
    assert cachekey._stamped_digest("t", [str(src)], "extra") == first
    assert cachekey._stamped_digest("t", [str(src)], "other") != first
    src.write_text("x = 2\n")  # same size, new content: the stat stamp changes (ctime at least)
    second = cachekey._stamped_digest("t", [str(src)], "extra")
    assert second != first
    src.write_text("x = 1\n")
    assert cachekey._stamped_digest("t", [str(src)], "extra") == first
    os.remove(src)
    assert cachekey._stamped_digest("t", [str(src)], "extra") not in (first, second)


def test_keys_mix_in_salt_and_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    k = cachekey.key("a", "b")
    assert len(k) == 40 and k == cachekey.key("a", "b")
    assert k not in (cachekey.key("ab"), cachekey.key("b", "a"))
    monkeypatch.setenv("FLUENTAI_CACHE_SALT", "s")
    assert cachekey.key("a", "b") != k


def test_only_plain_runs_are_candidates_for_an_image(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLUENTAI_IMAGE", "FLUENTAI_JIT", "FLUENTAI_CACHE", "FLUENTAI_JIT_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    assert _image_run(["run", "p.fl", "1", "--x"]) == ("p.fl", ["1", "--x"], False, False)
    assert _image_run(["run", "--jit-stats", "--tier", "auto", "p.fl"]) == ("p.fl", [], True, False)
    assert _image_run(["run", "--tier=native", "p.fl"]) == ("p.fl", [], False, True)
    for args in (
        ["run", "--tier", "vm", "p.fl"],
        ["run", "-p", "p.fl"],
        ["run", "--dump", "ast", "p.fl"],
        ["run", "-"],
        ["build", "p.fl"],
        ["run"],
    ):
        assert _image_run(args) is None, args
    monkeypatch.setenv("FLUENTAI_IMAGE", "0")
    assert _image_run(["run", "p.fl"]) is None
