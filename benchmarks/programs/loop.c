/* loop: the sum of (i * i) mod 7 for i below N (argument 1). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    (void)argc;
    long n = atol(argv[1]);
    long total = 0;
    for (long i = 0; i < n; i++) total += i * i % 7;
    printf("%ld\n", total);
    return 0;
}
