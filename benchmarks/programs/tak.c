/* tak: the Takeuchi function of X Y Z (arguments 1-3). */
#include <stdio.h>
#include <stdlib.h>

static long tak(long x, long y, long z) {
    if (y < x) return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
    return z;
}

int main(int argc, char **argv) {
    (void)argc;
    printf("%ld\n", tak(atol(argv[1]), atol(argv[2]), atol(argv[3])));
    return 0;
}
