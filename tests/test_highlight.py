"""Syntax highlighting: the Pygments lexer (`pygmentize -l fluentai`) and the VS Code grammar."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename  # type: ignore[import-untyped]
from pygments.token import Token  # type: ignore[import-untyped]

from fluentai import gen, highlight

from corpus import corpus_programs, parse_expectation, read_source

REPO_ROOT = Path(__file__).resolve().parent.parent
VSCODE = REPO_ROOT / "editors" / "vscode"
SAMPLE = """#!/usr/bin/env fluentai
; the classic
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(data Shape (Circle Float))
(print "x\\u{3bb}\\n" 1.5e3 -7 :key io:print app:ask #t nil pi 'sym [1, 2] {:a 1} ...rest)
"""


def tokens(text: str) -> list[tuple[Any, str]]:
    return [(kind, value) for kind, value in highlight.FluentAILexer().get_tokens(text)]


def kind_of(text: str, value: str) -> Any:
    """The token type of the first token of `text` whose text is `value`."""
    for kind, token_text in tokens(text):
        if token_text == value:
            return kind
    raise AssertionError(f"no token {value!r} in {tokens(text)}")


# ---------------------------------------------------------------- Pygments


def test_pygments_finds_the_lexer_by_name_and_file_name() -> None:
    assert isinstance(get_lexer_by_name("fluentai"), highlight.FluentAILexer)
    assert isinstance(get_lexer_for_filename("prog.fl"), highlight.FluentAILexer)


def test_pygmentize_highlights_a_file(tmp_path: Path) -> None:
    program = tmp_path / "prog.fl"
    program.write_text(SAMPLE, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "pygments", "-l", "fluentai", "-f", "raw", str(program)],
        capture_output=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert b"Token.Name.Function\t'fib'" in completed.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#!/usr/bin/env fluentai", Token.Comment.Hashbang),
        ("; the classic", Token.Comment.Single),
        ("define", Token.Keyword),
        ("fib", Token.Name.Function),
        ("if", Token.Keyword),
        ("<", Token.Name.Builtin),
        ("n", Token.Name),
        ("2", Token.Literal.Number.Integer),
        ("Shape", Token.Name.Class),
        ("Circle", Token.Name.Class),
        ("print", Token.Name.Builtin),
        ("\\u{3bb}", Token.Literal.String.Escape),
        ("\\n", Token.Literal.String.Escape),
        ("1.5e3", Token.Literal.Number.Float),
        ("-7", Token.Literal.Number.Integer),
        (":key", Token.Literal.String.Symbol),
        ("io:print", Token.Name.Builtin),
        ("app:ask", Token.Name.Function),
        ("#t", Token.Keyword.Constant),
        ("nil", Token.Keyword.Constant),
        ("pi", Token.Name.Constant),
        ("'", Token.Operator),
        ("...rest", Token.Operator),
        ("[", Token.Punctuation),
    ],
)
def test_lexer_classifies_each_kind_of_token(value: str, expected: Any) -> None:
    assert kind_of(SAMPLE, value) is expected


@pytest.mark.parametrize("text", ["123abc", "#x", '"bad \\q escape"'])
def test_lexer_marks_tokens_the_reader_rejects_as_errors(text: str) -> None:
    assert any(kind is Token.Error for kind, _ in tokens(text))


def test_a_builtin_name_inside_a_longer_symbol_is_not_a_builtin() -> None:
    assert kind_of("(my-map printer)", "my-map") is Token.Name
    assert kind_of("(my-map printer)", "printer") is Token.Name


def _valid_programs() -> list[Path]:
    """Corpus programs the reader accepts: no expected compile error at all (a program whose
    first error is, say, an unbound name may still hold a bad token further on: LANGUAGE.md
    §2.4 reports only the first error)."""
    return [
        path
        for path in corpus_programs()
        if parse_expectation(read_source(path)).compile_error_kind is None
    ]


def test_programs_with_compile_errors_lose_no_text_either() -> None:
    for path in corpus_programs():
        text = read_source(path)
        if parse_expectation(text).compile_error_kind is None:
            continue
        normalized = text.replace("\r\n", "\n").replace("\r", "\n")
        assert "".join(value for _, value in tokens(text)).rstrip("\n") == normalized.rstrip("\n")


def test_every_valid_corpus_program_lexes_without_errors_and_loses_no_text() -> None:
    programs = [REPO_ROOT / "examples" / "demo.fl", *_valid_programs()]
    assert len(programs) > 50
    for path in programs:
        text = read_source(path)
        lexed = tokens(text)
        errors = [value for kind, value in lexed if kind is Token.Error]
        assert not errors, f"{path.relative_to(REPO_ROOT)}: {errors}"
        # as Pygments reads it: CR line ends as LF, a leading byte-order mark dropped (as the
        # reader does, docs/decisions.md "Language" 27)
        normalized = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        assert "".join(value for _, value in lexed).rstrip("\n") == normalized.rstrip("\n"), path


# ---------------------------------------------------------------- VS Code / TextMate


def test_vscode_extension_points_at_the_grammar_and_configuration() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    language = package["contributes"]["languages"][0]
    grammar = package["contributes"]["grammars"][0]
    assert language["extensions"] == [".fl"]
    assert grammar["language"] == language["id"] == "fluentai"
    assert (VSCODE / grammar["path"]).is_file()
    assert (VSCODE / language["configuration"]).is_file()
    json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    committed = json.loads((VSCODE / grammar["path"]).read_text(encoding="utf-8"))
    assert committed["scopeName"] == grammar["scopeName"]


def test_committed_grammar_is_generated_from_the_current_tables() -> None:
    rel = "editors/vscode/syntaxes/fluentai.tmLanguage.json"
    assert (REPO_ROOT / rel).read_text(encoding="utf-8") == gen.GENERATED[rel]()


def _scopes(text: str) -> dict[str, str]:
    """A small TextMate interpreter (single-line rules and the string begin/end rule): each
    token's text -> its scope, the first rule matching at each position winning."""
    rules = highlight.textmate_grammar()["patterns"]
    assert isinstance(rules, list)
    found: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        for rule in rules:
            if "begin" in rule:
                m = re.compile(rule["begin"]).match(text, pos)
                if m:
                    end = re.compile(rule["end"]).search(text, m.end())
                    stop = end.end() if end else len(text)
                    found.setdefault(text[pos:stop], rule["name"])
                    pos = stop
                    break
                continue
            m = re.compile(rule["match"], re.MULTILINE).match(text, pos)
            if m and m.end() > pos:
                if "captures" in rule:
                    for group, capture in rule["captures"].items():
                        found.setdefault(m.group(int(group)), capture["name"])
                else:
                    found.setdefault(m.group(0), rule["name"])
                pos = m.end()
                break
        else:
            pos += 1
    return found


def test_grammar_gives_each_kind_of_token_its_scope() -> None:
    scopes = _scopes(SAMPLE)
    assert scopes["; the classic"] == "comment.line.semicolon.fluentai"
    assert scopes["fib"] == "entity.name.function.fluentai"
    assert scopes["Shape"] == "entity.name.type.fluentai"
    assert scopes["if"] == "keyword.control.fluentai"
    assert scopes["<"] == "support.function.builtin.fluentai"
    assert scopes["print"] == "support.function.builtin.fluentai"
    assert scopes['"x\\u{3bb}\\n"'] == "string.quoted.double.fluentai"
    assert scopes["1.5e3"] == "constant.numeric.float.fluentai"
    assert scopes["-7"] == "constant.numeric.integer.fluentai"
    assert scopes[":key"] == "constant.other.keyword.fluentai"
    assert scopes["io:print"] == "support.function.effect.builtin.fluentai"
    assert scopes["app:ask"] == "entity.name.function.effect.fluentai"
    assert scopes["#t"] == scopes["nil"] == "constant.language.fluentai"
    assert scopes["pi"] == "constant.language.builtin.fluentai"
    assert "n" not in scopes  # plain names keep the editor's default colour


def test_grammar_does_not_colour_a_builtin_inside_a_longer_symbol() -> None:
    scopes = _scopes("(my-map printer)")
    assert "map" not in scopes and "print" not in scopes
