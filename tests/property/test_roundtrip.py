"""Reader round trip: reading the written form of a datum gives the datum back, spans aside."""

from __future__ import annotations

import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

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
from fluentai.reader.read import read_program
from fluentai.reader.write import write_datum
from fluentai.source import SourceFile, Span

_NOWHERE = Span(SourceFile("<generated>", ""), 0, 0)

# LANGUAGE.md §1, restated independently of the lexer: which token texts read as symbols.
_TOKEN_ENDERS = ' \t\n\r\f,;()[]{}"'
_NUMBER_START = re.compile(r"[+-]?[0-9]")
_CONSTANTS = {"#t", "#f", "true", "false", "nil", "."}


def is_symbol_token(name: str) -> bool:
    if not name or name[0] == "'" or any(c in _TOKEN_ENDERS for c in name):
        return False
    if _NUMBER_START.match(name) or name in _CONSTANTS or name[0] == "#":
        return False
    if ":" not in name or name == ":":
        return True
    if name[0] == ":":
        return ":" not in name[1:]
    return name.count(":") == 1 and name[-1] != ":"


_chars = st.characters(exclude_categories=["Cs"])  # every code point but surrogates
_plain_chars = st.characters(exclude_categories=["Cs"], exclude_characters=_TOKEN_ENDERS + ":")
_plain_first = st.characters(
    exclude_categories=["Cs"], exclude_characters=_TOKEN_ENDERS + ":'#+-0123456789"
)
_plain_names = st.builds(lambda a, b: a + b, _plain_first, st.text(_plain_chars, max_size=8))

ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 7**5200]),  # 7**5200 has over 4300 digits
).map(lambda v: DInt(v, span=_NOWHERE))
floats = st.floats(allow_nan=False, allow_infinity=False).map(lambda v: DFloat(v, span=_NOWHERE))
strings = st.one_of(
    st.text(_chars, max_size=12),
    st.text(st.sampled_from('\\"\n\t\r\x00\x07\x1b\x7f\x80 aλ😀{}u'), max_size=12),
).map(lambda v: DStr(v, span=_NOWHERE))
symbol_names = st.one_of(
    st.sampled_from(
        ["x", "+", "-", "...", "...rest", ".5", "-x", "+.5", ":", "x'", "λ", "set!", "a.b", "_"]
    ),
    _plain_names,  # no `:`, and a first character that cannot start a number or `#`
    _plain_names.map(lambda name: ":" + name),  # keywords
    st.builds(lambda ns, op: f"{ns}:{op}", _plain_names, _plain_names),  # effect operations
    st.builds(lambda sign, name: sign + name, st.sampled_from("+-"), _plain_names),
).filter(is_symbol_token)
symbols = symbol_names.map(lambda v: DSym(v, span=_NOWHERE))
atoms = st.one_of(
    ints,
    floats,
    strings,
    symbols,
    st.booleans().map(lambda v: DBool(v, span=_NOWHERE)),
    st.just(DNil(span=_NOWHERE)),
)


def _lists(children: st.SearchStrategy[Datum]) -> st.SearchStrategy[Datum]:
    elements = st.one_of(children, st.just(DDot(span=_NOWHERE)))  # `.` only inside a list
    items = st.lists(elements, max_size=6).map(tuple)
    pairs = st.lists(st.tuples(elements, elements), max_size=3)
    flat_pairs = pairs.map(lambda ps: tuple(d for pair in ps for d in pair))
    return st.one_of(
        st.builds(lambda xs: DList(xs, Bracket.PAREN, span=_NOWHERE), items),
        st.builds(lambda xs: DList(xs, Bracket.SQUARE, span=_NOWHERE), items),
        st.builds(lambda xs: DList(xs, Bracket.CURLY, span=_NOWHERE), flat_pairs),
    )


data = st.recursive(atoms, _lists, max_leaves=20)


def read_back(text: str) -> tuple[Datum, ...]:
    return read_program(SourceFile("<roundtrip>", text))


@settings(max_examples=200, deadline=None)
@given(data)
def test_reading_the_written_form_gives_the_datum_back(d: Datum) -> None:
    assert read_back(write_datum(d)) == (d,)


@settings(max_examples=200, deadline=None)
@given(st.lists(data, max_size=4), st.sampled_from([" ", "\n", ", ", " ; comment\n", "\t\f\r"]))
def test_a_program_of_written_data_reads_back_in_order(ds: list[Datum], separator: str) -> None:
    assert read_back(separator.join(write_datum(d) for d in ds)) == tuple(ds)


@settings(max_examples=200, deadline=None)
@given(data)
def test_writing_is_stable_after_a_round_trip(d: Datum) -> None:
    # Datum equality cannot see the sign of a zero float; the written text can.
    text = write_datum(d)
    assert [write_datum(x) for x in read_back(text)] == [text]


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_bit_for_bit(x: float) -> None:
    (d,) = read_back(write_datum(DFloat(x, span=_NOWHERE)))
    assert isinstance(d, DFloat)
    assert d.value == x
    assert math.copysign(1.0, d.value) == math.copysign(1.0, x)
