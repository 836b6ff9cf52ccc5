"""Unit tests of the reader: lexical rules (LANGUAGE.md §1), brackets, nesting (§12), writing (§15)."""

from __future__ import annotations

import math

import pytest

from fluentai.diagnostics import CompileError, DiagnosticSink
from fluentai.reader.datum import (
    Bracket,
    Datum,
    DBool,
    DDot,
    DFloat,
    DInt,
    DList,
    DNil,
    DStr,
    DSym,
)
from fluentai.reader.lexer import MAX_ERRORS, TokenKind, tokenize
from fluentai.reader.read import MAX_DEPTH, is_complete, read_one, read_program
from fluentai.reader.write import format_tokens, write_datum
from fluentai.source import SourceFile, Span

_NOWHERE = Span(SourceFile("<expected>", ""), 0, 0)  # spans never take part in Datum equality


def i(value: int) -> DInt:
    return DInt(value, span=_NOWHERE)


def f(value: float) -> DFloat:
    return DFloat(value, span=_NOWHERE)


def s(value: str) -> DStr:
    return DStr(value, span=_NOWHERE)


def y(name: str) -> DSym:
    return DSym(name, span=_NOWHERE)


def b(value: bool) -> DBool:
    return DBool(value, span=_NOWHERE)


def lst(*items: Datum, bracket: Bracket = Bracket.PAREN) -> DList:
    return DList(items, bracket, span=_NOWHERE)


def q(datum: Datum) -> DList:
    return lst(y("quote"), datum)


NIL = DNil(span=_NOWHERE)
DOT = DDot(span=_NOWHERE)


def read(text: str) -> tuple[Datum, ...]:
    return read_program(SourceFile("<t>", text))


def one(text: str) -> Datum:
    return read_one(SourceFile("<t>", text))


def errors(text: str) -> list[tuple[int, int, str]]:
    """(line, col, message) of each syntax error reading `text` reports, in source order."""
    with pytest.raises(CompileError) as info:
        read(text)
    assert all(d.kind == "syntax-error" for d in info.value.diagnostics)
    return [(d.span.line, d.span.col, d.message) for d in info.value.diagnostics]


def error(text: str) -> str:
    """The message of the single syntax error in `text`."""
    found = errors(text)
    assert len(found) == 1, found
    return found[0][2]


def nesting_depth(datum: Datum) -> int:
    """How many lists deep `datum` goes (iteratively: the data may be 10 000 levels deep)."""
    depth, todo = 0, [(datum, 0)]
    while todo:
        d, level = todo.pop()
        if isinstance(d, DList):
            depth = max(depth, level + 1)
            todo.extend((item, level + 1) for item in d.items)
    return depth


# ---------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-7", -7),
        ("+5", 5),
        ("007", 7),
        ("0", 0),
        ("-0", 0),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_int_literals_read_as_decimal_ints(text: str, value: int) -> None:
    datum = one(text)
    assert isinstance(datum, DInt)
    assert datum == i(value)


def test_int_literal_of_any_size_reads_exactly() -> None:
    digits = "9" * 5000  # beyond CPython's default 4300-digit limit
    assert one(digits) == i(int(digits))
    assert write_datum(one("-" + digits)) == "-" + digits


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3.14", 3.14),
        ("-2.5e-3", -0.0025),
        ("1e3", 1000.0),
        ("2E10", 20000000000.0),
        ("1.5E+2", 150.0),
        ("+1.0", 1.0),
        ("0.1", 0.1),
        ("007.5", 7.5),
        ("1e400", math.inf),
        ("-1e400", -math.inf),
        ("1e-400", 0.0),
    ],
)
def test_float_literals_read_as_python_float_does(text: str, value: float) -> None:
    datum = one(text)
    assert isinstance(datum, DFloat)
    assert datum.value == value


def test_negative_zero_float_keeps_its_sign() -> None:
    datum = one("-0.0")
    assert isinstance(datum, DFloat)
    assert math.copysign(1.0, datum.value) == -1.0


@pytest.mark.parametrize("text", [".5", "-", "+", "-x", "+.5", "-.5", "...", "...rest", "->"])
def test_tokens_that_are_not_numbers_read_as_symbols(text: str) -> None:
    assert one(text) == y(text)


def test_non_ascii_digits_are_symbol_characters() -> None:
    assert one("١٢٣") == y("١٢٣")


@pytest.mark.parametrize(
    "text", ["123abc", "5.", "1e", "1.2.3", "1e+", "-5x", "+1.", "0x10", "1_000", "1.e5", "2'"]
)
def test_malformed_numbers_are_syntax_errors(text: str) -> None:
    assert error(text) == f"invalid number literal `{text}`"


def test_invalid_number_message_shortens_a_very_long_token() -> None:
    message = error("1" + "x" * 1000)
    assert message.startswith("invalid number literal `1xxx")
    assert len(message) < 80


# --------------------------------------------------------------------- bools, nil, dot, hash


def test_bool_and_nil_literals() -> None:
    assert read("#t true #f false nil") == (b(True), b(True), b(False), b(False), NIL)


def test_bool_literal_ends_at_a_delimiter() -> None:
    assert read("(#t)[#f]") == (lst(b(True)), lst(b(False), bracket=Bracket.SQUARE))


@pytest.mark.parametrize("text", ["#x", "#true", "#", "#t#f", "#\\"])
def test_other_tokens_starting_with_hash_are_syntax_errors(text: str) -> None:
    assert error(text).startswith(f"invalid token `{text}`")


def test_dot_reads_as_ddot_inside_lists() -> None:
    assert one("(a . rest)") == lst(y("a"), DOT, y("rest"))
    assert one("'.") == q(DOT)
    assert one("(a.b .c c.)") == lst(y("a.b"), y(".c"), y("c."))


def test_dot_at_top_level_is_a_syntax_error() -> None:
    assert errors("(a)\n  .") == [(2, 3, "`.` is only allowed before a rest parameter")]


# --------------------------------------------------------------- whitespace, comments, `#!`


def test_commas_and_all_whitespace_characters_separate_tokens() -> None:
    assert one("[1, 2,3 ,4]") == lst(i(1), i(2), i(3), i(4), bracket=Bracket.SQUARE)
    assert read("a\tb\nc\rd\fe ,f") == tuple(y(c) for c in "abcdef")


def test_other_unicode_spaces_are_symbol_characters() -> None:
    assert read("a\u00a0b c\vd") == (y("a\u00a0b"), y("c\vd"))


def test_comments_run_to_the_end_of_the_line() -> None:
    assert read("; leading\n1 ; after (a\n; [ unclosed\n2;no space\n3 ; at end") == (
        i(1),
        i(2),
        i(3),
    )


def test_semicolon_ends_a_token_but_not_a_string() -> None:
    assert read('abc;comment\n"a;b"') == (y("abc"), s("a;b"))


def test_shebang_first_line_is_ignored() -> None:
    assert read("#!/usr/bin/env fluentai run\n(x)") == (lst(y("x")),)
    assert read("#!no newline at all") == ()


def test_shebang_keeps_line_numbers() -> None:
    (datum,) = read("#!/usr/bin/env fluentai\n  x")
    assert (datum.span.line, datum.span.col) == (2, 3)


def test_shebang_is_only_special_on_the_first_line() -> None:
    assert error("x\n#!/bin/sh").startswith("invalid token `#!/bin/sh`")
    assert error(" #!/bin/sh").startswith("invalid token")


def test_crlf_line_endings() -> None:
    src = SourceFile.from_bytes("<t>", b'(a\r\n  b)\r\n"x\r\ny"')
    forms = read_program(src)
    assert forms == (lst(y("a"), y("b")), s("x\ny"))
    inner = forms[0]
    assert isinstance(inner, DList)
    assert (inner.items[1].span.line, inner.items[1].span.col) == (2, 3)
    # Without from_bytes folding, a carriage return is still whitespace outside strings.
    assert read("(a\r\nb)") == (lst(y("a"), y("b")),)


# -------------------------------------------------------------------------- token boundaries


def test_delimiters_end_tokens() -> None:
    assert read('a"b"c') == (y("a"), s("b"), y("c"))
    assert read("(a)(b)[c]{d e}") == (
        lst(y("a")),
        lst(y("b")),
        lst(y("c"), bracket=Bracket.SQUARE),
        lst(y("d"), y("e"), bracket=Bracket.CURLY),
    )


def test_quote_only_starts_a_token() -> None:
    assert read("x' a'b 'c ''d") == (y("x'"), y("a'b"), q(y("c")), q(q(y("d"))))


def test_quote_reads_as_a_quote_form_spanning_quote_and_datum() -> None:
    datum = one("  '(a b)")
    assert datum == q(lst(y("a"), y("b")))
    assert (datum.span.start, datum.span.end) == (2, 8)
    assert isinstance(datum, DList)
    assert (datum.items[0].span.start, datum.items[0].span.end) == (2, 3)


def test_quote_applies_to_the_next_datum_across_whitespace_and_comments() -> None:
    assert one("' ; comment\n x") == q(y("x"))


# -------------------------------------------------------------------------------- strings


def test_strings_may_contain_newlines_and_any_character() -> None:
    assert one('"line 1\nline 2 λ 😀 \t (x) ; not a comment"') == s(
        "line 1\nline 2 λ 😀 \t (x) ; not a comment"
    )
    assert one('""') == s("")


@pytest.mark.parametrize(
    ("escape", "char"),
    [
        ("\\n", "\n"),
        ("\\t", "\t"),
        ("\\r", "\r"),
        ('\\"', '"'),
        ("\\\\", "\\"),
        ("\\u{3bb}", "λ"),
        ("\\u{3BB}", "λ"),
        ("\\u{41}", "A"),
        ("\\u{0}", "\0"),
        ("\\u{00003b}", ";"),
        ("\\u{1F600}", "😀"),
        ("\\u{10FFFF}", "\U0010ffff"),
        ("\\u{D7FF}", "\ud7ff"),
        ("\\u{E000}", "\ue000"),
    ],
)
def test_string_escapes(escape: str, char: str) -> None:
    assert one(f'"<{escape}>"') == s(f"<{char}>")


def test_spec_example_strings() -> None:
    forms = read('["tab\\t" "quote\\"" "back\\\\slash" "new\\nline"] "x\\u{3bb}y"')
    expected = [s("tab\t"), s('quote"'), s("back\\slash"), s("new\nline")]
    assert forms == (lst(*expected, bracket=Bracket.SQUARE), s("xλy"))


@pytest.mark.parametrize("escape", ["\\q", "\\'", "\\U", "\\0", "\\a", "\\x41", "\\ "])
def test_unknown_escapes_are_syntax_errors(escape: str) -> None:
    assert errors(f'(print "a {escape} b")') == [
        (1, 11, f"unknown escape `{escape[:2]}` in string")
    ]


def test_backslash_before_a_newline_is_an_unknown_escape() -> None:
    assert error('"a\\\nb"') == "unknown escape in string: `\\` followed by U+000A"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\\u{}", "\\u{}"),
        ("\\u{1234567}", "\\u{1234567}"),
        ("\\u{zz}", "\\u{zz}"),
        ("\\u{12", "\\u{12"),
        ("\\u{ 41}", "\\u{"),
        ("\\u3bb", "\\u"),
        ("\\u", "\\u"),
    ],
)
def test_malformed_unicode_escapes_are_syntax_errors(text: str, shown: str) -> None:
    assert error(f'"{text}"') == (
        f"malformed escape `{shown}` in string: expected `\\u{{` then 1 to 6 hex digits then `}}`"
    )


@pytest.mark.parametrize("escape", ["\\u{d800}", "\\u{DFFF}", "\\u{dabc}"])
def test_surrogate_escapes_are_syntax_errors(escape: str) -> None:
    assert error(f'"{escape}"') == (
        f"escape `{escape}` in string is a surrogate (D800-DFFF), not a character"
    )


@pytest.mark.parametrize("escape", ["\\u{110000}", "\\u{FFFFFF}"])
def test_escapes_beyond_10ffff_are_syntax_errors(escape: str) -> None:
    assert (
        error(f'"{escape}"') == f"escape `{escape}` in string is beyond the last code point 10FFFF"
    )


def test_every_bad_escape_in_a_string_is_reported_at_its_place() -> None:
    assert errors('"\\q ok \\u{d800}\n  \\z"') == [
        (1, 2, "unknown escape `\\q` in string"),
        (1, 8, "escape `\\u{d800}` in string is a surrogate (D800-DFFF), not a character"),
        (2, 3, "unknown escape `\\z` in string"),
    ]


@pytest.mark.parametrize("text", ['"abc', '"abc\\"', '"', '(print "a\n b', '"a\\'])
def test_unterminated_string_is_one_syntax_error_at_its_quote(text: str) -> None:
    found = errors(text)
    assert [message for _, _, message in found] == ["unterminated string"]
    line, col, _ = found[0]
    assert SourceFile("<t>", text).line_text(line)[col - 1] == '"'


# -------------------------------------------------------------------------------- symbols


@pytest.mark.parametrize(
    "name",
    ["x", "string->list", "empty?", "set!", "λ", "x'", "_", ":key", ":", "io:print", "a:b",
     ":ключ", "Some", "<=", "%map-literal", "a/b", "a.b", "|x|", "\\", "a\\b"],
)  # fmt: skip
def test_valid_symbols(name: str) -> None:
    datum = one(name)
    assert isinstance(datum, DSym)
    assert datum.name == name


def test_symbols_are_case_sensitive() -> None:
    assert read("abc ABC Abc") == (y("abc"), y("ABC"), y("Abc"))
    assert read("True NIL False") == (y("True"), y("NIL"), y("False"))
    assert error("#T").startswith("invalid token `#T`")


@pytest.mark.parametrize("name", ["a:", "a:b:c", "a::b", "io:", "a:b:"])
def test_symbols_with_misplaced_colons_are_syntax_errors(name: str) -> None:
    assert error(f"(f {name})").startswith(f"invalid symbol `{name}`")


@pytest.mark.parametrize("name", ["::x", ":a:", ":a:b", "::"])
def test_a_symbol_starting_with_a_colon_is_a_keyword_whatever_follows(name: str) -> None:
    # LANGUAGE.md §1's rows apply in order: `:name` (starts with `:`, at least 2 characters)
    # comes before "any other symbol containing `:`"
    datum = one(name)
    assert isinstance(datum, DSym) and datum.name == name


# -------------------------------------------------------------------------------- spans


def test_spans_count_code_points_on_lines_and_columns() -> None:
    text = '(print "λ😀" x)\n  [λ 2.5]'
    forms = read(text)
    first, second = forms
    assert isinstance(first, DList)
    assert isinstance(second, DList)
    string, x = first.items[1], first.items[2]
    assert (string.span.start, string.span.end) == (7, 11)
    assert (x.span.line, x.span.col) == (1, 13)
    assert text[x.span.start : x.span.end] == "x"
    assert (first.span.start, first.span.end) == (0, 14)
    assert (second.span.line, second.span.col) == (2, 3)
    lam, num = second.items
    assert (lam.span.line, lam.span.col, num.span.col) == (2, 4, 6)
    assert text[num.span.start : num.span.end] == "2.5"
    assert text[second.span.start : second.span.end] == "[λ 2.5]"


def test_error_spans_cover_the_bad_token() -> None:
    with pytest.raises(CompileError) as info:
        read("(λ 😀 12x)")
    (diag,) = info.value.diagnostics
    assert (diag.span.line, diag.span.col, diag.span.end - diag.span.start) == (1, 6, 3)


def test_multiline_list_span_ends_after_its_closing_bracket() -> None:
    text = "(a\n (b\n  c))"
    datum = one(text)
    assert (datum.span.start, datum.span.end) == (0, len(text))


# -------------------------------------------------------------------------------- brackets


def test_brackets_read_as_lists_with_their_kind() -> None:
    assert read("() [] {} (1 [2] {3 4})") == (
        lst(),
        lst(bracket=Bracket.SQUARE),
        lst(bracket=Bracket.CURLY),
        lst(i(1), lst(i(2), bracket=Bracket.SQUARE), lst(i(3), i(4), bracket=Bracket.CURLY)),
    )


def test_map_literal_with_odd_element_count_is_a_syntax_error() -> None:
    assert errors("(x\n {1 2 3})") == [
        (2, 2, "a map literal `{...}` needs an even number of elements, found 3")
    ]
    assert error("{:a}") == "a map literal `{...}` needs an even number of elements, found 1"


def test_missing_closing_bracket() -> None:
    assert errors("(ok)\n(define (f x)\n  (+ x 1)") == [(2, 1, "unclosed `(`")]
    assert errors("[1 {2") == [(1, 1, "unclosed `[`"), (1, 4, "unclosed `{`")]


def test_extra_closing_brackets() -> None:
    assert errors("(a))\n]") == [(1, 4, "unexpected `)`"), (2, 1, "unexpected `]`")]


def test_mismatched_closing_bracket() -> None:
    assert errors("(a [b)]") == [(1, 6, "expected `]` to close `[` but found `)`")]
    assert errors("{1 2)") == [(1, 5, "expected `}` to close `{` but found `)`")]


def test_quote_without_a_datum_is_a_syntax_error() -> None:
    assert errors("(a ')") == [(1, 4, "expected a datum after `'`, found `)`")]
    assert errors("x\n'") == [(2, 1, "expected a datum after `'`, found the end of the input")]


def test_reading_continues_after_errors_to_report_several() -> None:
    text = '(a ]\n(b 12x)\n(c))\n(d "\\q")\n{1}\n(e'
    assert errors(text) == [
        (1, 4, "expected `)` to close `(` but found `]`"),
        (2, 4, "invalid number literal `12x`"),
        (3, 4, "unexpected `)`"),
        (4, 5, "unknown escape `\\q` in string"),
        (5, 1, "a map literal `{...}` needs an even number of elements, found 1"),
        (6, 1, "unclosed `(`"),
    ]


def test_panic_mode_skips_to_the_next_form_at_the_start_of_a_line() -> None:
    # The stray `]` ends the first form's chance; `(ok ]` inside it is not reported again.
    assert errors("(a ] (ok ]\n   (inner ])\n(b ]") == [
        (1, 4, "expected `)` to close `(` but found `]`"),
        (3, 4, "expected `)` to close `(` but found `]`"),
    ]


def test_panic_mode_skips_strings_and_comments_whole() -> None:
    text = '(a ] 12x "\n(not a form ]" ; a " in a comment\n(b ]'
    assert errors(text) == [
        (1, 4, "expected `)` to close `(` but found `]`"),
        (3, 4, "expected `)` to close `(` but found `]`"),
    ]


def test_panic_mode_stops_at_an_unterminated_string() -> None:
    assert errors('(a ] (b "c') == [
        (1, 4, "expected `)` to close `(` but found `]`"),
        (1, 9, "unterminated string"),
    ]


def test_a_bad_token_is_reported_once_without_follow_on_errors() -> None:
    assert errors("{1 12x}") == [(1, 4, "invalid number literal `12x`")]
    assert errors("(f '#bad)") == [
        (1, 5, "invalid token `#bad`: only `#t` and `#f` start with `#`")
    ]


def test_unterminated_string_does_not_also_report_the_brackets_around_it() -> None:
    assert errors('(a (b "c)') == [(1, 7, "unterminated string")]


def test_at_most_max_errors_are_reported() -> None:
    found = errors("12x " * 100)
    assert len(found) == MAX_ERRORS
    assert len(errors(")" * 100)) == MAX_ERRORS
    assert len(errors("(" * 100)) == MAX_ERRORS


# -------------------------------------------------------------------------------- nesting


def test_nesting_of_exactly_max_depth_brackets_reads() -> None:
    (datum,) = read("(" * MAX_DEPTH + ")" * MAX_DEPTH)
    assert MAX_DEPTH == 10_000
    assert nesting_depth(datum) == MAX_DEPTH


def test_nesting_of_mixed_brackets_and_quotes_reads() -> None:
    half = MAX_DEPTH // 2
    (datum,) = read("['" * half + "x" + "]" * half)
    assert nesting_depth(datum) == MAX_DEPTH  # each quote is a (quote x) list


def test_nesting_one_deeper_is_one_nesting_error_at_the_bracket() -> None:
    found = errors("(" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1))
    assert found == [(1, MAX_DEPTH + 1, "nesting too deep")]


def test_quotes_count_toward_nesting() -> None:
    (datum,) = read("'" * MAX_DEPTH + "x")
    assert nesting_depth(datum) == MAX_DEPTH
    assert errors("'" * (MAX_DEPTH + 1) + "x") == [(1, MAX_DEPTH + 1, "nesting too deep")]


def test_forms_after_a_too_deep_form_are_still_read() -> None:
    deep = "(" * (MAX_DEPTH + 5) + ")" * (MAX_DEPTH + 5)
    assert errors(deep + "\n(a ]") == [
        (1, MAX_DEPTH + 1, "nesting too deep"),
        (2, 4, "expected `)` to close `(` but found `]`"),
    ]


def test_a_million_nested_brackets_do_not_crash() -> None:
    assert errors("(" * 1_000_000) == [(1, MAX_DEPTH + 1, "nesting too deep")]
    assert errors("[" * 500_000 + "]" * 500_000) == [(1, MAX_DEPTH + 1, "nesting too deep")]


def test_deep_nesting_writes_iteratively() -> None:
    (datum,) = read("(" * MAX_DEPTH + ")" * MAX_DEPTH)
    assert write_datum(datum) == "(" * MAX_DEPTH + ")" * MAX_DEPTH


# ---------------------------------------------------------------------- read_one, is_complete


def test_read_one_requires_exactly_one_datum() -> None:
    assert read_one(SourceFile("<t>", " ; c\n (a) ")) == lst(y("a"))
    for text, message in [
        ("", "expected one datum, found nothing"),
        ("a b", "expected one datum, found 2 data"),
    ]:
        with pytest.raises(CompileError) as info:
            read_one(SourceFile("<t>", text))
        assert [d.message for d in info.value.diagnostics] == [message]


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("", True),
        ("; only a comment", True),
        ("(+ 1 2)", True),
        ("(+ 1", False),
        ("(define (f x)\n  [x", False),
        ('(print "abc', False),
        ('"abc\\"', False),
        ("'", False),
        ("(a '", False),
        ("(a ]", True),
        (")", True),
        ("(a 12x", True),
        ('(a "\\q" (b', True),
        ("(" * 20_000, True),
    ],
)
def test_is_complete_for_the_repl(text: str, complete: bool) -> None:
    assert is_complete(text) is complete


# -------------------------------------------------------------------------------- tokens


def test_tokenize_gives_kinds_values_and_spans() -> None:
    src = SourceFile("<t>", '(f 1 -2.5 "s\\n" \'x #t nil . [] {})')
    tokens = tokenize(src)
    assert [(t.kind, t.value) for t in tokens] == [
        (TokenKind.LPAREN, None),
        (TokenKind.SYMBOL, "f"),
        (TokenKind.INT, 1),
        (TokenKind.FLOAT, -2.5),
        (TokenKind.STRING, "s\n"),
        (TokenKind.QUOTE, None),
        (TokenKind.SYMBOL, "x"),
        (TokenKind.BOOL, True),
        (TokenKind.NIL, None),
        (TokenKind.DOT, None),
        (TokenKind.LBRACKET, None),
        (TokenKind.RBRACKET, None),
        (TokenKind.LBRACE, None),
        (TokenKind.RBRACE, None),
        (TokenKind.RPAREN, None),
    ]
    assert [src.text[t.span.start : t.span.end] for t in tokens][1:6] == [
        "f",
        "1",
        "-2.5",
        '"s\\n"',
        "'",
    ]


def test_tokenize_reports_bad_tokens_to_a_sink_and_skips_them() -> None:
    src = SourceFile("<t>", "a 1x b #q c")
    sink = DiagnosticSink()
    assert [t.value for t in tokenize(src, sink)] == ["a", "b", "c"]
    assert [d.message.split("`")[1] for d in sink.items] == ["1x", "#q"]
    with pytest.raises(CompileError):
        tokenize(src)


def test_format_tokens_writes_one_token_per_line() -> None:
    src = SourceFile("<t>", '(print "λ\\n"\n  2.0 #f \'x)')
    lines = [
        "1:1 LPAREN (",
        "1:2 SYMBOL print",
        '1:8 STRING "λ\\n"',
        "2:3 FLOAT 2.0",
        "2:7 BOOL #f",
        "2:10 QUOTE '",
        "2:11 SYMBOL x",
        "2:12 RPAREN )",
    ]
    assert format_tokens(tokenize(src)) == "\n".join(lines)


# -------------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("datum", "text"),
    [
        (i(-42), "-42"),
        (f(1.0), "1.0"),
        (f(-0.0), "-0.0"),
        (f(1e16), "1e+16"),
        (f(1e15), "1000000000000000.0"),
        (f(1e-05), "1e-05"),
        (f(0.0001), "0.0001"),
        (f(1.5e300), "1.5e+300"),
        (f(math.inf), "inf"),
        (f(-math.inf), "-inf"),
        (f(math.nan), "nan"),
        (f(-math.nan), "nan"),
        (b(True), "#t"),
        (b(False), "#f"),
        (NIL, "nil"),
        (DOT, "."),
        (y(":key"), ":key"),
        (s('a"b\\c\nd\re\tf'), '"a\\"b\\\\c\\nd\\re\\tf"'),
        (s("\x07\x00\x1b\x7f\x80 λ😀"), '"\\u{7}\\u{0}\\u{1b}\\u{7f}\x80 λ😀"'),
        (lst(), "()"),
        (lst(i(1), lst(s("x"), bracket=Bracket.SQUARE), bracket=Bracket.CURLY), '{1 ["x"]}'),
        (q(lst(y("a"), DOT, y("b"))), "(quote (a . b))"),
    ],
)
def test_write_datum(datum: Datum, text: str) -> None:
    assert write_datum(datum) == text


def test_spec_section_1_examples_read_back_from_their_written_form() -> None:
    text = (
        "(print 42 -7 +5 007 123456789012345678901234567890 3.14 -2.5e-3 1e3 2E10 1e400)\n"
        '(print ["tab\\t" "quote\\"" "back\\\\slash" "new\\nline"] "x\\u{3bb}y")\n'
        "(print #t true #f false nil [] () {} [1, 2, 3] 'sym :key)\n"
    )
    assert [write_datum(d) for d in read(text)] == [
        "(print 42 -7 5 7 123456789012345678901234567890 3.14 -0.0025 1000.0 20000000000.0 inf)",
        '(print ["tab\\t" "quote\\"" "back\\\\slash" "new\\nline"] "xλy")',
        "(print #t #t #f #f nil [] () {} [1 2 3] (quote sym) :key)",
    ]
