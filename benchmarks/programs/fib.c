/* fib: naive doubly recursive Fibonacci of N (argument 1). */
#include <stdio.h>
#include <stdlib.h>

static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv) {
    (void)argc;
    printf("%ld\n", fib(atol(argv[1])));
    return 0;
}
