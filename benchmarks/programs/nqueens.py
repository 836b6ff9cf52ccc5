"""nqueens: the number of ways to place N queens (argument 1) on an N x N board."""

import sys


def is_safe(col: int, placed: list[int]) -> bool:
    distance = 1
    for q in reversed(placed):
        if q == col or q - col == distance or col - q == distance:
            return False
        distance += 1
    return True


def solve(n: int, placed: list[int]) -> int:
    if len(placed) == n:
        return 1
    count = 0
    for col in range(n):
        if is_safe(col, placed):
            placed.append(col)
            count += solve(n, placed)
            placed.pop()
    return count


print(solve(int(sys.argv[1]), []))
