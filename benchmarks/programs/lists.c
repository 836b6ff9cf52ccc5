/* lists: PASSES passes (argument 1) over the list 1..N (argument 2), each a map x*2, a filter
   mod 3 = 0 and a fold +; prints the sum of the passes' results. Lists are arrays; each pass
   allocates its intermediate arrays, as map and filter make new lists. */
#include <stdio.h>
#include <stdlib.h>

static long *map_double(const long *xs, long n) {
    long *out = malloc((size_t)n * sizeof *out);
    for (long i = 0; i < n; i++) out[i] = xs[i] * 2;
    return out;
}

static long *filter_mod3(const long *xs, long n, long *kept) {
    long *out = malloc((size_t)n * sizeof *out);
    long k = 0;
    for (long i = 0; i < n; i++)
        if (xs[i] % 3 == 0) out[k++] = xs[i];
    *kept = k;
    return out;
}

static long fold_add(const long *xs, long n) {
    long total = 0;
    for (long i = 0; i < n; i++) total += xs[i];
    return total;
}

int main(int argc, char **argv) {
    (void)argc;
    long passes = atol(argv[1]), n = atol(argv[2]), total = 0;
    long *xs = malloc((size_t)n * sizeof *xs);
    for (long i = 0; i < n; i++) xs[i] = i + 1;
    for (long p = 0; p < passes; p++) {
        long kept;
        long *doubled = map_double(xs, n);
        long *multiples = filter_mod3(doubled, n, &kept);
        total += fold_add(multiples, kept);
        free(doubled);
        free(multiples);
    }
    free(xs);
    printf("%ld\n", total);
    return 0;
}
