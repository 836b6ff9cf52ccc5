"""lists: PASSES passes (argument 1) over the list 1..N (argument 2), each a map x*2, a filter
mod 3 = 0 and a fold +; prints the sum of the passes' results."""

import sys


def one_pass(xs: list[int]) -> int:
    doubled = [x * 2 for x in xs]
    kept = [y for y in doubled if y % 3 == 0]
    return sum(kept)


def lists(passes: int, n: int) -> int:
    xs = list(range(1, n + 1))
    return sum(one_pass(xs) for _ in range(passes))


print(lists(int(sys.argv[1]), int(sys.argv[2])))
