"""Syntax highlighting: a Pygments lexer and a TextMate grammar for FluentAI (LANGUAGE.md §1).

The REPL colours its input with the lexer, and the package registers it as a Pygments plug-in, so
`pygmentize -l fluentai prog.fl` and anything built on Pygments (Sphinx, MkDocs) highlight
FluentAI too. The TextMate grammar (VS Code and most other editors) is written to
editors/vscode/ by `python -m fluentai.gen`. Special forms come from the expander's table and
builtins from the primitives table, so neither falls behind the language:

    (define (sq x) (* x x))   ->   Punctuation Keyword Punctuation Name.Function Name ...
"""

from __future__ import annotations

import json
import re
from typing import ClassVar, Final

from pygments.lexer import RegexLexer, bygroups, words  # type: ignore[import-untyped]
from pygments.token import (  # type: ignore[import-untyped]
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from fluentai import primitives
from fluentai.syntax.expand import SPECIAL_FORMS

__all__ = ["FluentAILexer"]

_DELIMITERS: Final = r"\s,;()\[\]{}\""
_END: Final = rf"(?=[{_DELIMITERS}]|$)"  # a token ends at whitespace, `;` or a delimiter
_ATOM: Final = rf"[^{_DELIMITERS}]+"
_POSITIONAL: Final = ("else", "catch", "finally")  # keywords by their place in cond and try


def _builtin_names() -> list[str]:
    """Every public builtin name and alias (effect operations are highlighted by shape)."""
    return sorted(
        name
        for name, prim in primitives.table().items()
        if not prim.internal and ":" not in name and prim.kind is not primitives.PrimKind.CONSTANT
    )


def _constant_names() -> list[str]:
    """Builtin constants such as `pi`."""
    return sorted(
        name
        for name, prim in primitives.table().items()
        if prim.kind is primitives.PrimKind.CONSTANT and not prim.internal
    )


# `(define (name` / `(defun name` / `(def name`, and `(data Name`
_DEFINITION: Final = r"(\()(\s*)(define|defun|def)(\s+)(\(?)(\s*)(" + _ATOM + ")"
_DATA: Final = r"(\()(\s*)(data)(\s+)(" + _ATOM + ")"

_TokenRule = tuple[str, object] | tuple[str, object, str]


class FluentAILexer(RegexLexer):  # type: ignore[misc]  # Pygments has no type hints
    """Pygments lexer for FluentAI (`.fl` files)."""

    name = "FluentAI"
    aliases: ClassVar[list[str]] = ["fluentai", "fl"]
    filenames: ClassVar[list[str]] = ["*.fl"]
    mimetypes: ClassVar[list[str]] = ["text/x-fluentai"]

    tokens: ClassVar[dict[str, list[_TokenRule]]] = {
        "root": [
            (r"\A#!.*$", Comment.Hashbang),
            (r"[\s,]+", Whitespace),
            (r";.*$", Comment.Single),
            (r"'", Operator),  # a quote at the start of a token (inside one it is a letter)
            (
                _DEFINITION,
                bygroups(
                    Punctuation,
                    Whitespace,
                    Keyword,
                    Whitespace,
                    Punctuation,
                    Whitespace,
                    Name.Function,
                ),
            ),
            (_DATA, bygroups(Punctuation, Whitespace, Keyword, Whitespace, Name.Class)),
            (r'"', String.Double, "string"),
            (r"[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+" + _END, Number.Float),
            (r"[+-]?[0-9]+\.[0-9]+" + _END, Number.Float),
            (r"[+-]?[0-9]+" + _END, Number.Integer),
            (r"(#t|#f|true|false|nil)" + _END, Keyword.Constant),
            (r"([+-]?[0-9]|#)" + _ATOM, Error),  # `123abc`, `1.`, `#x`: syntax errors
            (words(tuple(sorted(SPECIAL_FORMS | set(_POSITIONAL))), suffix=_END), Keyword),
            (words(tuple(_constant_names()), suffix=_END), Name.Constant),
            (words(tuple(_builtin_names()), suffix=_END), Name.Builtin),
            (r":[^" + _DELIMITERS + r"]+" + _END, String.Symbol),  # keyword `:name`
            (r"(io|state|error|time|random):[^" + _DELIMITERS + ":]+" + _END, Name.Builtin),
            (r"[^" + _DELIMITERS + r":]+:[^" + _DELIMITERS + r":]+" + _END, Name.Function),
            (r"\.\.\." + r"[^" + _DELIMITERS + "]*" + _END, Operator),  # rest patterns
            (r"\." + _END, Punctuation),
            (r"[A-Z][^" + _DELIMITERS + "]*" + _END, Name.Class),  # constructors and types
            (_ATOM, Name),
            (r"[()\[\]{}]", Punctuation),
        ],
        "string": [
            (r'\\(u\{[0-9A-Fa-f]{1,6}\}|[nrt"\\])', String.Escape),
            (r"\\.", Error),
            (r'[^"\\]+', String.Double),
            (r'"', String.Double, "#pop"),
        ],
    }


# ---------------------------------------------------------------- TextMate (VS Code) grammar

_TM_START: Final = r"(?<![^\s,;()\[\]{}\"'])"  # a token starts after a delimiter or quote
_TM_END: Final = r"(?![^\s,;()\[\]{}\"])"
_TM_ATOM: Final = r"[^\s,;()\[\]{}\"]+"


def _alternatives(names: list[str]) -> str:
    """A regular expression matching exactly one of `names` (longest first)."""
    return "(?:" + "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n))) + ")"


def textmate_grammar() -> dict[str, object]:
    """The TextMate grammar of FluentAI (editors/vscode), from the same tables as the lexer."""
    forms = sorted(SPECIAL_FORMS | set(_POSITIONAL))

    def token(scope: str, pattern: str) -> dict[str, object]:
        return {"name": scope, "match": _TM_START + pattern + _TM_END}

    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "FluentAI",
        "scopeName": "source.fluentai",
        "fileTypes": ["fl"],
        "comment": "Generated by `python -m fluentai.gen` from fluentai/highlight.py; do not edit.",
        "patterns": [
            {"name": "comment.line.number-sign.shebang.fluentai", "match": r"\A#!.*$"},
            {"name": "comment.line.semicolon.fluentai", "match": ";.*$"},
            {
                "name": "string.quoted.double.fluentai",
                "begin": '"',
                "end": '"',
                "patterns": [
                    {
                        "name": "constant.character.escape.fluentai",
                        "match": r'\\(?:u\{[0-9A-Fa-f]{1,6}\}|[nrt"\\])',
                    },
                    {"name": "invalid.illegal.escape.fluentai", "match": r"\\."},
                ],
            },
            {
                "match": r"(\()\s*(define|defun|def)\s+\(?\s*(" + _TM_ATOM + ")",
                "captures": {
                    "1": {"name": "punctuation.section.list.begin.fluentai"},
                    "2": {"name": "keyword.control.fluentai"},
                    "3": {"name": "entity.name.function.fluentai"},
                },
            },
            {
                "match": r"(\()\s*(data)\s+(" + _TM_ATOM + ")",
                "captures": {
                    "1": {"name": "punctuation.section.list.begin.fluentai"},
                    "2": {"name": "keyword.control.fluentai"},
                    "3": {"name": "entity.name.type.fluentai"},
                },
            },
            token("constant.numeric.float.fluentai", r"[+-]?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+"),
            token("constant.numeric.float.fluentai", r"[+-]?[0-9]+\.[0-9]+"),
            token("constant.numeric.integer.fluentai", r"[+-]?[0-9]+"),
            token("constant.language.fluentai", r"(?:#t|#f|true|false|nil)"),
            token("invalid.illegal.token.fluentai", r"(?:[+-]?[0-9]|#)" + _TM_ATOM),
            token("keyword.control.fluentai", _alternatives(forms)),
            token("constant.language.builtin.fluentai", _alternatives(_constant_names())),
            token("support.function.builtin.fluentai", _alternatives(_builtin_names())),
            token("constant.other.keyword.fluentai", r":[^\s,;()\[\]{}\"]+"),
            token(
                "support.function.effect.builtin.fluentai",
                r"(?:io|state|error|time|random):[^\s,;()\[\]{}\":]+",
            ),
            token(
                "entity.name.function.effect.fluentai", r"[^\s,;()\[\]{}\":]+:[^\s,;()\[\]{}\":]+"
            ),
            token("entity.name.type.fluentai", r"[A-Z][^\s,;()\[\]{}\"]*"),
            {"name": "keyword.operator.quote.fluentai", "match": "'"},
            {"name": "punctuation.section.list.begin.fluentai", "match": r"[(\[{]"},
            {"name": "punctuation.section.list.end.fluentai", "match": r"[)\]}]"},
        ],
    }


def tmlanguage_json() -> str:
    """editors/vscode/syntaxes/fluentai.tmLanguage.json (written by `python -m fluentai.gen`)."""
    return json.dumps(textmate_grammar(), indent=2, ensure_ascii=False) + "\n"
