/*
 * sl_radix.c: one bit per level, most significant bit first. A node that
 * holds no value (SL_RADIX_NO_VALUE) only leads to longer prefixes; a
 * delete frees such nodes upwards as soon as they lead nowhere.
 */
#include "sl_config.h"
#include "sl_palloc.h"
#include "sl_radix.h"

#define SL_RADIX_CHUNK 64

static sl_radix_node_t *sl_radix_alloc(sl_radix_tree_t *tree);
static sl_int_t sl_radix32tree_set(sl_radix_tree_t *tree, uint32_t key, uint32_t mask,
                                   uintptr_t value);
static sl_int_t sl_radix_delete_node(sl_radix_tree_t *tree, sl_radix_node_t *node);

sl_radix_tree_t *
sl_radix_tree_create(sl_pool_t *pool, sl_int_t preallocate)
{
    uint32_t key, mask, inc;
    sl_radix_tree_t *tree;

    tree = sl_palloc(pool, sizeof(sl_radix_tree_t));
    if (tree == NULL) {
        return NULL;
    }

    tree->pool = pool;
    tree->free = NULL;
    tree->start = NULL;
    tree->size = 0;

    tree->root = sl_radix_alloc(tree);
    if (tree->root == NULL) {
        return NULL;
    }

    tree->root->right = NULL;
    tree->root->left = NULL;
    tree->root->parent = NULL;
    tree->root->value = SL_RADIX_NO_VALUE;

    if (preallocate < 0) {
        preallocate = 6;
    }

    if (preallocate > 16) {
        preallocate = 16;
    }

    /* every node of the top levels, level by level, so the tree stays dense */

    mask = 0;
    inc = 0x80000000;

    while (preallocate-- > 0) {
        key = 0;
        mask >>= 1;
        mask |= 0x80000000;

        do {
            if (sl_radix32tree_set(tree, key, mask, SL_RADIX_NO_VALUE) != SL_OK) {
                return NULL;
            }

            key += inc;

        } while (key);

        inc >>= 1;
    }

    return tree;
}

sl_int_t
sl_radix32tree_insert(sl_radix_tree_t *tree, uint32_t key, uint32_t mask, uintptr_t value)
{
    if (value == SL_RADIX_NO_VALUE) {
        return SL_ERROR;
    }

    return sl_radix32tree_set(tree, key, mask, value);
}

/* Walks or builds the path to key/mask and stores value there (any value). */
static sl_int_t
sl_radix32tree_set(sl_radix_tree_t *tree, uint32_t key, uint32_t mask, uintptr_t value)
{
    uint32_t bit;
    sl_radix_node_t *node, *next;

    bit = 0x80000000;
    node = tree->root;
    next = tree->root;

    while (bit & mask) {
        next = (key & bit) ? node->right : node->left;

        if (next == NULL) {
            break;
        }

        bit >>= 1;
        node = next;
    }

    if (next) {
        if (node->value != SL_RADIX_NO_VALUE) {
            return SL_BUSY;
        }

        node->value = value;
        return SL_OK;
    }

    while (bit & mask) {
        next = sl_radix_alloc(tree);
        if (next == NULL) {
            return SL_ERROR;
        }

        next->right = NULL;
        next->left = NULL;
        next->parent = node;
        next->value = SL_RADIX_NO_VALUE;

        if (key & bit) {
            node->right = next;
        } else {
            node->left = next;
        }

        bit >>= 1;
        node = next;
    }

    node->value = value;

    return SL_OK;
}

sl_int_t
sl_radix32tree_delete(sl_radix_tree_t *tree, uint32_t key, uint32_t mask)
{
    uint32_t bit;
    sl_radix_node_t *node;

    bit = 0x80000000;
    node = tree->root;

    while (node && (bit & mask)) {
        node = (key & bit) ? node->right : node->left;
        bit >>= 1;
    }

    if (node == NULL) {
        return SL_ERROR;
    }

    return sl_radix_delete_node(tree, node);
}

uintptr_t
sl_radix32tree_find(sl_radix_tree_t *tree, uint32_t key)
{
    uint32_t bit;
    uintptr_t value;
    sl_radix_node_t *node;

    bit = 0x80000000;
    value = SL_RADIX_NO_VALUE;
    node = tree->root;

    while (node) {
        if (node->value != SL_RADIX_NO_VALUE) {
            value = node->value;
        }

        if (bit == 0) {
            break;
        }

        node = (key & bit) ? node->right : node->left;
        bit >>= 1;
    }

    return value;
}

sl_int_t
sl_radix128tree_insert(sl_radix_tree_t *tree, const u_char *key, const u_char *mask,
                       uintptr_t value)
{
    u_char bit;
    sl_uint_t i;
    sl_radix_node_t *node, *next;

    if (value == SL_RADIX_NO_VALUE) {
        return SL_ERROR;
    }

    i = 0;
    bit = 0x80;
    node = tree->root;
    next = tree->root;

    while (i < 16 && (bit & mask[i])) {
        next = (key[i] & bit) ? node->right : node->left;

        if (next == NULL) {
            break;
        }

        node = next;
        bit >>= 1;

        if (bit == 0) {
            i++;
            bit = 0x80;
        }
    }

    if (next) {
        if (node->value != SL_RADIX_NO_VALUE) {
            return SL_BUSY;
        }

        node->value = value;
        return SL_OK;
    }

    while (i < 16 && (bit & mask[i])) {
        next = sl_radix_alloc(tree);
        if (next == NULL) {
            return SL_ERROR;
        }

        next->right = NULL;
        next->left = NULL;
        next->parent = node;
        next->value = SL_RADIX_NO_VALUE;

        if (key[i] & bit) {
            node->right = next;
        } else {
            node->left = next;
        }

        node = next;
        bit >>= 1;

        if (bit == 0) {
            i++;
            bit = 0x80;
        }
    }

    node->value = value;

    return SL_OK;
}

sl_int_t
sl_radix128tree_delete(sl_radix_tree_t *tree, const u_char *key, const u_char *mask)
{
    u_char bit;
    sl_uint_t i;
    sl_radix_node_t *node;

    i = 0;
    bit = 0x80;
    node = tree->root;

    while (node && i < 16 && (bit & mask[i])) {
        node = (key[i] & bit) ? node->right : node->left;
        bit >>= 1;

        if (bit == 0) {
            i++;
            bit = 0x80;
        }
    }

    if (node == NULL) {
        return SL_ERROR;
    }

    return sl_radix_delete_node(tree, node);
}

uintptr_t
sl_radix128tree_find(sl_radix_tree_t *tree, const u_char *key)
{
    u_char bit;
    sl_uint_t i;
    uintptr_t value;
    sl_radix_node_t *node;

    i = 0;
    bit = 0x80;
    value = SL_RADIX_NO_VALUE;
    node = tree->root;

    while (node) {
        if (node->value != SL_RADIX_NO_VALUE) {
            value = node->value;
        }

        if (i == 16) {
            break;
        }

        node = (key[i] & bit) ? node->right : node->left;
        bit >>= 1;

        if (bit == 0) {
            i++;
            bit = 0x80;
        }
    }

    return value;
}

/* Clears node's value and frees it and every ancestor left useless. */
static sl_int_t
sl_radix_delete_node(sl_radix_tree_t *tree, sl_radix_node_t *node)
{
    if (node->value == SL_RADIX_NO_VALUE) {
        return SL_ERROR;
    }

    node->value = SL_RADIX_NO_VALUE;

    while (node->parent && node->right == NULL && node->left == NULL
           && node->value == SL_RADIX_NO_VALUE) {
        if (node->parent->right == node) {
            node->parent->right = NULL;
        } else {
            node->parent->left = NULL;
        }

        node->right = tree->free;
        tree->free = node;

        node = node->parent;
    }

    return SL_OK;
}

static sl_radix_node_t *
sl_radix_alloc(sl_radix_tree_t *tree)
{
    sl_radix_node_t *p;

    if (tree->free) {
        p = tree->free;
        tree->free = tree->free->right;
        return p;
    }

    if (tree->size == 0) {
        tree->start = sl_palloc(tree->pool, SL_RADIX_CHUNK * sizeof(sl_radix_node_t));
        if (tree->start == NULL) {
            return NULL;
        }

        tree->size = SL_RADIX_CHUNK;
    }

    p = tree->start++;
    tree->size--;

    return p;
}
