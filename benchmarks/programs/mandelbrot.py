"""mandelbrot: points of an N x N grid (argument 1) whose orbit stays within |z|^2 <= 4 for ITERS
iterations (argument 2), with c = (-2.0 + 2.5x/N) + (-1.25 + 2.5y/N)i."""

import sys


def stays_bounded(cr: float, ci: float, iters: int) -> bool:
    zr = zi = 0.0
    for _ in range(iters):
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        if zr * zr + zi * zi > 4.0:
            return False
    return True


def mandelbrot(n: int, iters: int) -> int:
    count = 0
    for y in range(n):
        ci = -1.25 + 2.5 * y / n
        for x in range(n):
            cr = -2.0 + 2.5 * x / n
            if stays_bounded(cr, ci, iters):
                count += 1
    return count


print(mandelbrot(int(sys.argv[1]), int(sys.argv[2])))
