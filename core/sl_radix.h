/*
 * sl_radix.h: binary radix trees for CIDR sets (allow/deny, risk lists,
 * geo-like maps). A key and a mask select a prefix; a lookup walks the bits
 * of an address from the most significant one and returns the value of the
 * longest prefix that holds one. IPv4 keys are host-order uint32_t; IPv6
 * keys are the 16 bytes of the address in network order. Masks must be
 * a /n prefix: the mask bits after its first zero bit are ignored, and so
 * are the key bits outside the mask.
 * Nodes come from the tree's pool; deleted nodes are reused by later inserts.
 */
#ifndef SL_RADIX_H
#define SL_RADIX_H

#include "sl_config.h"
#include "sl_palloc.h"

/* Returned by the find functions when no prefix matches; never a stored value. */
#define SL_RADIX_NO_VALUE ((uintptr_t) -1)

typedef struct sl_radix_node_s sl_radix_node_t;

struct sl_radix_node_s {
    sl_radix_node_t *right; /* bit 1 */
    sl_radix_node_t *left;  /* bit 0 */
    sl_radix_node_t *parent;
    uintptr_t value;
};

typedef struct {
    sl_radix_node_t *root; /* the /0 prefix */
    sl_pool_t *pool;
    sl_radix_node_t *free;  /* deleted nodes, chained through right */
    sl_radix_node_t *start; /* rest of the last chunk of nodes */
    size_t size;            /* nodes left at start */
} sl_radix_tree_t;

/*
 * Creates an empty tree in pool. preallocate is the number of top bit levels
 * to build at once (0..16; -1 picks 6), which saves allocations when many
 * short prefixes follow. Returns NULL on allocation failure.
 */
sl_radix_tree_t *sl_radix_tree_create(sl_pool_t *pool, sl_int_t preallocate);

/*
 * Stores value (not SL_RADIX_NO_VALUE) for key/mask. Returns SL_OK, SL_BUSY
 * when that exact prefix already has a value (left unchanged), SL_ERROR on
 * allocation failure or a bad value.
 */
sl_int_t sl_radix32tree_insert(sl_radix_tree_t *tree, uint32_t key, uint32_t mask, uintptr_t value);
/* Removes the value of exactly key/mask; SL_OK, or SL_ERROR when it had none. */
sl_int_t sl_radix32tree_delete(sl_radix_tree_t *tree, uint32_t key, uint32_t mask);
/* Value of the longest prefix holding key, or SL_RADIX_NO_VALUE. */
uintptr_t sl_radix32tree_find(sl_radix_tree_t *tree, uint32_t key);

/* The same for 16-byte keys and masks (network byte order). */
sl_int_t sl_radix128tree_insert(sl_radix_tree_t *tree, const u_char *key, const u_char *mask,
                                uintptr_t value);
sl_int_t sl_radix128tree_delete(sl_radix_tree_t *tree, const u_char *key, const u_char *mask);
uintptr_t sl_radix128tree_find(sl_radix_tree_t *tree, const u_char *key);

#endif /* SL_RADIX_H */
