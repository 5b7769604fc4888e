/*
 * sl_rbtree.h: intrusive red-black tree keyed by sl_uint_t. Callers embed a
 * sl_rbtree_node_t at the start of their own structure (or find the
 * structure from the node) and own all memory; the tree never allocates.
 * Equal keys are allowed; the insert callback decides where they go and may
 * compare more than the key (a string after the key's hash, for example).
 * Used for the event timers and for lookups in shared memory zones.
 */
#ifndef SL_RBTREE_H
#define SL_RBTREE_H

#include "sl_config.h"

typedef sl_uint_t sl_rbtree_key_t;
typedef sl_int_t sl_rbtree_key_int_t;

typedef struct sl_rbtree_node_s sl_rbtree_node_t;

struct sl_rbtree_node_s {
    sl_rbtree_key_t key;
    sl_rbtree_node_t *left;
    sl_rbtree_node_t *right;
    sl_rbtree_node_t *parent;
    u_char color; /* 1 red, 0 black */
    u_char data;  /* one byte free for the user (the start of a key, a flag) */
};

typedef struct sl_rbtree_s sl_rbtree_t;

/*
 * Places node below root as a plain binary-tree insert (left, right, parent
 * set, color red); the tree rebalances afterwards.
 */
typedef void (*sl_rbtree_insert_pt)(sl_rbtree_node_t *root, sl_rbtree_node_t *node,
                                    sl_rbtree_node_t *sentinel);

struct sl_rbtree_s {
    sl_rbtree_node_t *root;
    sl_rbtree_node_t *sentinel; /* the shared black leaf; never holds data */
    sl_rbtree_insert_pt insert;
};

#define sl_rbt_red(node) ((node)->color = 1)
#define sl_rbt_black(node) ((node)->color = 0)
#define sl_rbt_is_red(node) ((node)->color)
#define sl_rbt_is_black(node) (!sl_rbt_is_red(node))
#define sl_rbt_copy_color(n1, n2) ((n1)->color = (n2)->color)

/* A sentinel must be black. */
#define sl_rbtree_sentinel_init(node) sl_rbt_black(node)

/* Makes tree empty, using sentinel (caller-owned) as its leaf and insert to place nodes. */
static inline void
sl_rbtree_init(sl_rbtree_t *tree, sl_rbtree_node_t *sentinel, sl_rbtree_insert_pt insert)
{
    sl_rbtree_sentinel_init(sentinel);
    tree->root = sentinel;
    tree->sentinel = sentinel;
    tree->insert = insert;
}

/* True when the tree holds no node. */
#define sl_rbtree_empty(tree) ((tree)->root == (tree)->sentinel)

/* Inserts node (key already set); the node must not be in any tree. */
void sl_rbtree_insert(sl_rbtree_t *tree, sl_rbtree_node_t *node);
/* Removes node, which must be in tree; its links are left undefined. */
void sl_rbtree_delete(sl_rbtree_t *tree, sl_rbtree_node_t *node);

/* Insert callback ordering by key; equal keys go right (after existing ones). */
void sl_rbtree_insert_value(sl_rbtree_node_t *root, sl_rbtree_node_t *node,
                            sl_rbtree_node_t *sentinel);
/*
 * Insert callback for timers: orders by (sl_rbtree_key_int_t) (a - b), so
 * keys stay ordered across the wrap-around of a millisecond counter as long
 * as all keys lie within half the key range of each other.
 */
void sl_rbtree_insert_timer_value(sl_rbtree_node_t *root, sl_rbtree_node_t *node,
                                  sl_rbtree_node_t *sentinel);

/* The leftmost node below node (node itself when it has no left child); node != sentinel. */
static inline sl_rbtree_node_t *
sl_rbtree_min(sl_rbtree_node_t *node, sl_rbtree_node_t *sentinel)
{
    while (node->left != sentinel) {
        node = node->left;
    }

    return node;
}

/* The in-order successor of node in tree, or NULL after the last one. */
sl_rbtree_node_t *sl_rbtree_next(sl_rbtree_t *tree, sl_rbtree_node_t *node);

#endif /* SL_RBTREE_H */
