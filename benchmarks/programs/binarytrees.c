/* binarytrees: the Benchmarks Game binary-trees program at depth N (argument 1). */
#include <stdio.h>
#include <stdlib.h>

typedef struct Node {
    struct Node *left, *right; /* both NULL for a bottom node */
} Node;

static Node *bottom_up_tree(long depth) {
    Node *node = malloc(sizeof *node);
    if (depth > 0) {
        node->left = bottom_up_tree(depth - 1);
        node->right = bottom_up_tree(depth - 1);
    } else {
        node->left = node->right = NULL;
    }
    return node;
}

static long item_check(const Node *tree) {
    if (tree->left == NULL) return 1;
    return 1 + item_check(tree->left) + item_check(tree->right);
}

static void delete_tree(Node *tree) {
    if (tree->left != NULL) {
        delete_tree(tree->left);
        delete_tree(tree->right);
    }
    free(tree);
}

int main(int argc, char **argv) {
    (void)argc;
    long n = atol(argv[1]), min_depth = 4;
    long max_depth = n > min_depth + 2 ? n : min_depth + 2;
    long stretch = max_depth + 1;
    Node *stretch_tree = bottom_up_tree(stretch);
    printf("stretch tree of depth %ld\t check: %ld\n", stretch, item_check(stretch_tree));
    delete_tree(stretch_tree);
    Node *long_lived = bottom_up_tree(max_depth);
    for (long depth = min_depth; depth <= max_depth; depth += 2) {
        long iterations = 1L << (max_depth - depth + min_depth), check = 0;
        for (long i = 0; i < iterations; i++) {
            Node *tree = bottom_up_tree(depth);
            check += item_check(tree);
            delete_tree(tree);
        }
        printf("%ld\t trees of depth %ld\t check: %ld\n", iterations, depth, check);
    }
    printf("long lived tree of depth %ld\t check: %ld\n", max_depth, item_check(long_lived));
    delete_tree(long_lived);
    return 0;
}
