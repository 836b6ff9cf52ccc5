/* mandelbrot: points of an N x N grid (argument 1) whose orbit stays within |z|^2 <= 4 for ITERS
   iterations (argument 2), with c = (-2.0 + 2.5x/N) + (-1.25 + 2.5y/N)i. */
#include <stdio.h>
#include <stdlib.h>

static int stays_bounded(double cr, double ci, long iters) {
    double zr = 0.0, zi = 0.0;
    for (long k = 0; k < iters; k++) {
        double next_zr = zr * zr - zi * zi + cr;
        double next_zi = 2.0 * zr * zi + ci;
        zr = next_zr;
        zi = next_zi;
        if (zr * zr + zi * zi > 4.0) return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    (void)argc;
    long n = atol(argv[1]), iters = atol(argv[2]), count = 0;
    for (long y = 0; y < n; y++) {
        double ci = -1.25 + 2.5 * (double)y / (double)n;
        for (long x = 0; x < n; x++) {
            double cr = -2.0 + 2.5 * (double)x / (double)n;
            count += stays_bounded(cr, ci, iters);
        }
    }
    printf("%ld\n", count);
    return 0;
}
