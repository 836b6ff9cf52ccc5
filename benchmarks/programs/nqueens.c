/* nqueens: the number of ways to place N queens (argument 1) on an N x N board. */
#include <stdio.h>
#include <stdlib.h>

/* placed[0..row-1] are the columns of the queens already placed; the most recent is checked first. */
static int is_safe(long col, const long *placed, long row) {
    long distance = 1;
    for (long r = row - 1; r >= 0; r--, distance++) {
        long q = placed[r];
        if (q == col || q - col == distance || col - q == distance) return 0;
    }
    return 1;
}

static long solve(long n, long *placed, long row) {
    if (row == n) return 1;
    long count = 0;
    for (long col = 0; col < n; col++) {
        if (is_safe(col, placed, row)) {
            placed[row] = col;
            count += solve(n, placed, row + 1);
        }
    }
    return count;
}

int main(int argc, char **argv) {
    (void)argc;
    long n = atol(argv[1]);
    long *placed = malloc((size_t)(n > 0 ? n : 1) * sizeof *placed);
    printf("%ld\n", solve(n, placed, 0));
    free(placed);
    return 0;
}
