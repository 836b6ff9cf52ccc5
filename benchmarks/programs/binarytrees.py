"""binarytrees: the Benchmarks Game binary-trees program at depth N (argument 1)."""

import sys

Tree = tuple  # (left, right); a bottom node is (None, None)


def bottom_up_tree(depth: int) -> Tree:
    if depth > 0:
        return (bottom_up_tree(depth - 1), bottom_up_tree(depth - 1))
    return (None, None)


def item_check(tree: Tree) -> int:
    left, right = tree
    if left is None:
        return 1
    return 1 + item_check(left) + item_check(right)


def main(n: int) -> None:
    min_depth = 4
    max_depth = max(min_depth + 2, n)
    stretch = max_depth + 1
    print(f"stretch tree of depth {stretch}\t check: {item_check(bottom_up_tree(stretch))}")
    long_lived = bottom_up_tree(max_depth)
    for depth in range(min_depth, max_depth + 1, 2):
        iterations = 2 ** (max_depth - depth + min_depth)
        check = sum(item_check(bottom_up_tree(depth)) for _ in range(iterations))
        print(f"{iterations}\t trees of depth {depth}\t check: {check}")
    print(f"long lived tree of depth {max_depth}\t check: {item_check(long_lived)}")


main(int(sys.argv[1]))
