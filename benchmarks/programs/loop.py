"""loop: the sum of (i * i) mod 7 for i below N (argument 1)."""

import sys


def loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


print(loop(int(sys.argv[1])))
