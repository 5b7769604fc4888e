/*
 * test_rbtree.c: the red-black tree keeps order and balance through many
 * random inserts and deletes, walks in order with sl_rbtree_next(), and the
 * timer insert orders keys across the wrap-around of the counter.
 */
#include "sl_config.h"
#include "sl_rbtree.h"
#include "sl_tap.h"

#define NODES 10000

typedef struct {
    sl_rbtree_node_t node;
    int in_tree;
} item_t;

static item_t items[NODES];

/* Returns the black height below node, or -1 when a red-black rule is broken. */
static int
check_subtree(sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel, sl_uint_t *count)
{
    int lh, rh;

    if (node == sentinel) {
        return 1;
    }

    (*count)++;

    if (sl_rbt_is_red(node) && (sl_rbt_is_red(node->left) || sl_rbt_is_red(node->right))) {
        return -1;
    }

    if (node->left != sentinel && (node->left->parent != node || node->left->key > node->key)) {
        return -1;
    }

    if (node->right != sentinel && (node->right->parent != node || node->right->key < node->key)) {
        return -1;
    }

    lh = check_subtree(node->left, sentinel, count);
    rh = check_subtree(node->right, sentinel, count);

    if (lh < 0 || rh < 0 || lh != rh) {
        return -1;
    }

    return lh + (sl_rbt_is_black(node) ? 1 : 0);
}

/* Valid tree of expected nodes whose in-order walk is non-decreasing. */
static int
check_tree(sl_rbtree_t *tree, sl_uint_t expected)
{
    sl_uint_t count, walked;
    sl_rbtree_node_t *node, *prev;

    if (sl_rbt_is_red(tree->root) || sl_rbt_is_red(tree->sentinel)) {
        return 0;
    }

    count = 0;

    if (check_subtree(tree->root, tree->sentinel, &count) < 0 || count != expected) {
        return 0;
    }

    if (expected == 0) {
        return sl_rbtree_empty(tree);
    }

    walked = 0;
    prev = NULL;

    for (node = sl_rbtree_min(tree->root, tree->sentinel); node;
         node = sl_rbtree_next(tree, node)) {
        if (prev && prev->key > node->key) {
            return 0;
        }

        prev = node;
        walked++;
    }

    return walked == expected;
}

int
main(void)
{
    int good;
    sl_uint_t i, n, in_tree, k, keys[8];
    sl_rbtree_t tree;
    sl_rbtree_node_t sentinel, *node, *min;
    sl_rbtree_node_t timers[8];

    srandom(12345);

    sl_rbtree_init(&tree, &sentinel, sl_rbtree_insert_value);
    ok(sl_rbtree_empty(&tree), "new tree is empty");
    ok(check_tree(&tree, 0), "empty tree is valid");

    /* one node, then removed: the root goes back to the sentinel */
    items[0].node.key = 42;
    sl_rbtree_insert(&tree, &items[0].node);
    ok(tree.root == &items[0].node && sl_rbt_is_black(tree.root), "single node is a black root");
    ok(sl_rbtree_next(&tree, &items[0].node) == NULL, "single node has no successor");
    sl_rbtree_delete(&tree, &items[0].node);
    ok(sl_rbtree_empty(&tree), "deleting the only node empties the tree");

    /* random inserts with many duplicate keys */
    for (i = 0; i < NODES; i++) {
        items[i].node.key = (sl_uint_t) (random() % 2000);
        items[i].in_tree = 1;
        sl_rbtree_insert(&tree, &items[i].node);
    }

    ok(check_tree(&tree, NODES), "10000 random inserts (with duplicates): valid and ordered");

    min = sl_rbtree_min(tree.root, tree.sentinel);
    k = (sl_uint_t) -1;
    for (i = 0; i < NODES; i++) {
        k = sl_min(k, items[i].node.key);
    }
    is_int(min->key, k, "sl_rbtree_min() is the smallest key");

    /* random deletes and re-inserts, checking the whole tree now and then */
    in_tree = NODES;
    good = 1;

    for (n = 0; n < 3 * NODES; n++) {
        i = (sl_uint_t) random() % NODES;

        if (items[i].in_tree) {
            sl_rbtree_delete(&tree, &items[i].node);
            items[i].in_tree = 0;
            in_tree--;

        } else {
            items[i].node.key = (sl_uint_t) random();
            sl_rbtree_insert(&tree, &items[i].node);
            items[i].in_tree = 1;
            in_tree++;
        }

        if (n % 1000 == 0 && !check_tree(&tree, in_tree)) {
            good = 0;
        }
    }

    ok(good, "30000 random deletes/inserts keep the tree valid at every check");
    ok(check_tree(&tree, in_tree), "tree valid after the mix (%lu nodes)", (unsigned long) in_tree);

    for (i = 0; i < NODES; i++) {
        if (items[i].in_tree) {
            sl_rbtree_delete(&tree, &items[i].node);
            items[i].in_tree = 0;
        }
    }

    ok(sl_rbtree_empty(&tree) && check_tree(&tree, 0), "deleting every node empties the tree");

    /* ascending and descending runs are the rotation-heavy cases */
    for (i = 0; i < NODES; i++) {
        items[i].node.key = i;
        sl_rbtree_insert(&tree, &items[i].node);
    }

    ok(check_tree(&tree, NODES), "ascending inserts stay balanced");

    for (i = NODES; i-- > 0;) {
        sl_rbtree_delete(&tree, &items[i].node);
    }

    ok(sl_rbtree_empty(&tree), "descending deletes empty the tree");

    /* extreme keys */
    items[0].node.key = 0;
    items[1].node.key = (sl_uint_t) -1;
    items[2].node.key = (sl_uint_t) SL_MAX_INT_T_VALUE;
    for (i = 0; i < 3; i++) {
        sl_rbtree_insert(&tree, &items[i].node);
    }
    node = sl_rbtree_min(tree.root, tree.sentinel);
    ok(node == &items[0].node, "key 0 is the minimum with the plain insert");
    node = sl_rbtree_next(&tree, node);
    ok(node == &items[2].node, "then the largest signed key");
    node = sl_rbtree_next(&tree, node);
    ok(node == &items[1].node && sl_rbtree_next(&tree, node) == NULL,
       "then the largest unsigned key, last");

    /* timers across the wrap-around: a key just past 0 comes after one just before it */
    sl_rbtree_init(&tree, &sentinel, sl_rbtree_insert_timer_value);

    keys[0] = (sl_uint_t) -10; /* earliest */
    keys[1] = (sl_uint_t) -5;
    keys[2] = (sl_uint_t) -1;
    keys[3] = 0;
    keys[4] = 3;
    keys[5] = 100;
    keys[6] = 1000;
    keys[7] = 5000; /* latest */

    for (i = 8; i-- > 0;) {
        timers[i].key = keys[(i * 5) % 8];
        sl_rbtree_insert(&tree, &timers[i]);
    }

    node = sl_rbtree_min(tree.root, tree.sentinel);
    is_int((sl_int_t) node->key, -10, "timer tree: the key before the wrap is the earliest");

    good = 1;
    for (i = 0; i < 8; i++) {
        if (node == NULL || node->key != keys[i]) {
            good = 0;
            break;
        }
        node = sl_rbtree_next(&tree, node);
    }
    ok(good && node == NULL, "timer tree walks in wrap-around order -10 .. 5000");

    /* the plain insert would have put the wrapped keys last */
    sl_rbtree_init(&tree, &sentinel, sl_rbtree_insert_value);
    for (i = 0; i < 8; i++) {
        timers[i].key = keys[i];
        sl_rbtree_insert(&tree, &timers[i]);
    }
    node = sl_rbtree_min(tree.root, tree.sentinel);
    is_int(node->key, 0, "plain tree: 0 is the minimum of the same keys");

    return sl_tap_done();
}
