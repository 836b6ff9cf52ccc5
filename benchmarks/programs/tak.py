"""tak: the Takeuchi function of X Y Z (arguments 1-3)."""

import sys


def tak(x: int, y: int, z: int) -> int:
    if y < x:
        return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
    return z


print(tak(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
