"""strings: the length of the text made of the decimal form of i followed by "," for every i
below N (argument 1)."""

import sys


def strings(n: int) -> int:
    text = "".join([f"{i}," for i in range(n)])
    return len(text)


print(strings(int(sys.argv[1])))
