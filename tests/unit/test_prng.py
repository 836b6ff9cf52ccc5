"""The PRNG (LANGUAGE.md §14.5): the spec's test vector, bounds, and the random:* rows."""

from __future__ import annotations

from array import array
from typing import Any

import pytest

from fluentai.errors import FlError
from fluentai.vm.prng import Prng, splitmix64_words
from fluentai.vm.values import EMPTY, from_iter, to_pylist


def test_spec_test_vector() -> None:
    rng = Prng(2024)
    assert [rng.int(1, 6) for _ in range(3)] == [5, 4, 6]
    assert rng.int(-1000000, 1000000) == 583378
    assert repr(rng.float()) == "0.773650389718931"
    assert rng.choice(from_iter(["a", "b", "c"])) == "b"
    assert to_pylist(rng.shuffle(from_iter([1, 2, 3, 4, 5]))) == [5, 4, 2, 1, 3]
    rng.seed(2024)
    assert rng.int(1, 6) == 5
    assert repr(rng.float()) == "0.782103772866755"


def test_splitmix64_reference_outputs() -> None:
    # splitmix64 from seed 0 (the reference C implementation by Vigna).
    assert splitmix64_words(0)[:2] == (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4)


def test_xoshiro256starstar_reference_output() -> None:
    # With state (1, 2, 3, 4) the first outputs of the reference C code are 11520 and 0.
    rng = Prng(0, state=array("Q", [0, 0, 0, 0]))
    rng.state[0], rng.state[1], rng.state[2], rng.state[3] = 1, 2, 3, 4
    assert [rng.next() for _ in range(2)] == [11520, 0]


def test_negative_seed_is_taken_mod_2_to_the_64() -> None:
    a, b = Prng(-1), Prng(2**64 - 1)
    assert [a.next() for _ in range(5)] == [b.next() for _ in range(5)]
    assert splitmix64_words(2**64 + 7) == splitmix64_words(7)


def test_state_lives_in_the_given_buffer() -> None:
    buffer = array("Q", [0, 0, 0, 0])
    rng = Prng(2024, state=buffer)
    assert list(buffer) == list(splitmix64_words(2024))
    rng.next()
    assert list(buffer) != list(splitmix64_words(2024))


def test_int_bounds_and_full_range() -> None:
    rng = Prng(1)
    assert all(rng.int(3, 3) == 3 for _ in range(10))
    assert all(0 <= rng.int(0, 2**64 - 1) < 2**64 for _ in range(10))
    assert all(-5 <= rng.int(-5, 5) <= 5 for _ in range(200))
    assert {rng.int(0, 2) for _ in range(200)} == {0, 1, 2}


def test_float_is_in_unit_interval() -> None:
    rng = Prng(7)
    assert all(0.0 <= rng.float() < 1.0 for _ in range(1000))


@pytest.mark.parametrize(("lo", "hi"), [(1, 0), (0, 2**64), (-(2**63), 2**63)])
def test_bad_int_range_raises_value_error_and_draws_nothing(lo: int, hi: int) -> None:
    rng, reference = Prng(5), Prng(5)
    with pytest.raises(FlError) as info:
        rng.int(lo, hi)
    assert info.value.kind == "value-error"
    assert rng.next() == reference.next()


def test_choice_of_empty_list_raises_and_draws_nothing() -> None:
    rng, reference = Prng(5), Prng(5)
    with pytest.raises(FlError) as info:
        rng.choice(EMPTY)
    assert info.value.kind == "empty-list"
    assert info.value.message == "`random:choice` expects a non-empty list, got []"
    assert rng.next() == reference.next()


def test_shuffle_is_a_permutation_and_keeps_the_input() -> None:
    rng = Prng(3)
    items = from_iter(range(100))
    shuffled: list[Any] = to_pylist(rng.shuffle(items))
    assert sorted(shuffled) == list(range(100)) and shuffled != list(range(100))
    assert to_pylist(items) == list(range(100))
    assert rng.shuffle(EMPTY) is EMPTY


def test_unseeded_generators_differ() -> None:
    assert [Prng().next() for _ in range(3)] != [Prng().next() for _ in range(3)]
