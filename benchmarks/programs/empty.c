/* empty: start-up time; prints hello world (the size argument is ignored). */
#include <stdio.h>

int main(void) {
    puts("hello world");
    return 0;
}
