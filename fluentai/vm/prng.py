"""The random-number generator: xoshiro256** seeded through splitmix64 (LANGUAGE.md §14.5).

Specified exactly so that a seeded program prints the same numbers in every tier; DESIGN.md §5.4.
The four 64-bit words of state live in a `MutableSequence[int]` (an `array('Q')` by default, or a
memoryview over the native runtime's state), so the VM and native code can share one generator.
    rng = Prng(2024); [rng.int(1, 6) for _ in range(3)] == [5, 4, 6]
"""

from __future__ import annotations

import os
from array import array
from collections.abc import MutableSequence
from typing import Any, Final

from fluentai.errors import FlError
from fluentai.vm.values import EMPTY, from_iter, to_pylist

__all__ = ["Prng"]

_MASK: Final = (1 << 64) - 1
_TWO_64: Final = 1 << 64
_GOLDEN: Final = 0x9E3779B97F4A7C15
_MIX1: Final = 0xBF58476D1CE4E5B9
_MIX2: Final = 0x94D049BB133111EB
_FLOAT_UNIT: Final = 2.0**-53


def _rotl(x: int, k: int) -> int:
    return ((x << k) & _MASK) | (x >> (64 - k))


def splitmix64_words(n: int) -> tuple[int, int, int, int]:
    """The initial state for seed `n`: four splitmix64 outputs from `n mod 2^64`."""
    x = n & _MASK  # n mod 2^64, two's complement for negative n
    words: list[int] = []
    for _ in range(4):
        x = (x + _GOLDEN) & _MASK
        z = x
        z = ((z ^ (z >> 30)) * _MIX1) & _MASK
        z = ((z ^ (z >> 27)) * _MIX2) & _MASK
        words.append(z ^ (z >> 31))
    return (words[0], words[1], words[2], words[3])


class Prng:
    """xoshiro256**; `seed=None` seeds from operating-system entropy."""

    __slots__ = ("state",)

    def __init__(self, seed: int | None = None, state: MutableSequence[int] | None = None) -> None:
        self.state: MutableSequence[int] = array("Q", [0, 0, 0, 0]) if state is None else state
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        self.seed(seed)

    def seed(self, n: int) -> None:
        """`random:seed`: restart the sequence from seed `n` (any Int)."""
        self.state[0], self.state[1], self.state[2], self.state[3] = splitmix64_words(n)

    def next(self) -> int:
        """The next 64-bit output."""
        state = self.state
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        result = (_rotl((s1 * 5) & _MASK, 7) * 9) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
        return result

    def float(self) -> float:
        """`random:float`: a Float in [0, 1) with 53 random bits."""
        return (self.next() >> 11) * _FLOAT_UNIT

    def int(self, lo: int, hi: int) -> int:
        """`random:int`: an Int in [lo, hi], without modulo bias; value-error if the range has
        no values or more than 2^64, drawing nothing then."""
        n = hi - lo + 1
        if n < 1 or n > _TWO_64:
            raise FlError(
                "value-error",
                f"`random:int` expects lo <= hi spanning at most 2^64 values, got {lo} and {hi}",
            )
        limit = _TWO_64 - (_TWO_64 % n)
        x = self.next()
        while x >= limit:
            x = self.next()
        return lo + x % n

    def choice(self, lst: Any) -> object:
        """`random:choice`: a random element of a non-empty List."""
        if lst is EMPTY:
            raise FlError("empty-list", "`random:choice` expects a non-empty list, got []")
        cell = lst
        for _ in range(self.int(0, lst.length - 1)):
            cell = cell.tail
        return cell.head

    def shuffle(self, lst: Any) -> Any:
        """`random:shuffle`: a new List of the elements in random order (Fisher-Yates, from the
        last index down)."""
        items = to_pylist(lst)
        for i in range(len(items) - 1, 0, -1):
            j = self.int(0, i)
            items[i], items[j] = items[j], items[i]
        return from_iter(items)
