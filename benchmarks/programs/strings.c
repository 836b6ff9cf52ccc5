/* strings: the length of the text made of the decimal form of i followed by "," for every i
   below N (argument 1). The text is built in a buffer that doubles when full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    (void)argc;
    long n = atol(argv[1]);
    size_t length = 0, capacity = 16;
    char *text = malloc(capacity);
    for (long i = 0; i < n; i++) {
        char piece[32];
        size_t k = (size_t)snprintf(piece, sizeof piece, "%ld,", i);
        if (length + k + 1 > capacity) {
            while (length + k + 1 > capacity) capacity *= 2;
            text = realloc(text, capacity);
        }
        memcpy(text + length, piece, k);
        length += k;
    }
    text[length] = '\0';
    printf("%zu\n", strlen(text));
    free(text);
    return 0;
}
