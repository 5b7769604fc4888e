/*
 * sl_http_limit_zone.h: the shared memory zone behind limit_req_zone and
 * limit_conn_zone. A zone is declared by "DIRECTIVE KEY zone=NAME:SIZE ..."
 * and holds an rbtree of nodes, one per value of the key (a complex value),
 * ordered by the crc32 of the key bytes, then their length, then the bytes.
 * A reload that keeps the zone's name, size and key keeps its nodes; one that
 * changes the size gets a fresh, empty zone.
 *
 * A module's node ends with an sl_http_limit_zone_node_t, which ends with the
 * key bytes; the module's own fields come before it. The module allocates its
 * nodes in the zone's slab and frees them (after sl_rbtree_delete()); this
 * file links them into the tree and finds them. The tree and every node are
 * guarded by the slab's mutex (shpool->mutex): find and insert are called
 * with it held.
 */
#ifndef SL_HTTP_LIMIT_ZONE_H
#define SL_HTTP_LIMIT_ZONE_H

#include <zlib.h>

#include "sl_core.h"
#include "sl_http.h"

/* The head of a node, at the end of the module's node. */
typedef struct {
    sl_rbtree_node_t node; /* key: crc32 of the key bytes */
    uint16_t count;        /* the module's: requests holding it (here, a bare node stays small) */
    uint16_t len;
    u_char data[]; /* the key */
} sl_http_limit_zone_node_t;

/* The root of a zone, in its slab; a module's root may begin with it and add fields. */
typedef struct {
    sl_rbtree_t rbtree;
    sl_rbtree_node_t sentinel;
} sl_http_limit_zone_sh_t;

/* A zone as one configuration sees it: the first member of the module's shm zone data. */
typedef struct {
    sl_http_limit_zone_sh_t *sh;
    sl_slab_pool_t *shpool;
    sl_http_complex_value_t key;
} sl_http_limit_zone_t;

/*
 * Takes an argument that is not "zone=..." for the module: SL_OK when taken,
 * SL_DECLINED when unknown (the caller reports "invalid parameter"), SL_ERROR
 * when invalid (logged).
 */
typedef sl_int_t (*sl_http_limit_zone_param_pt)(sl_conf_t *cf, sl_str_t *value, void *data);

/*
 * The directive "DIRECTIVE KEY zone=NAME:SIZE [PARAM...]": compiles the key into
 * zone->key, reads every argument after it (the last "zone=" wins; others go to
 * param with data, or are refused when param is NULL), and adds the shared memory
 * zone NAME of SIZE bytes for tag, with init and zone as its data. zone (in cf's
 * pool) must be the first member of the module's zone data. SL_CONF_OK, or
 * SL_CONF_ERROR with the error logged at file:line.
 */
char *sl_http_limit_zone_conf(sl_conf_t *cf, sl_command_t *cmd, sl_http_limit_zone_t *zone,
                              void *tag, sl_shm_zone_init_pt init,
                              sl_http_limit_zone_param_pt param, void *data);

/*
 * For the module's shm zone init: old is the same zone's data in the previous
 * cycle (or NULL). Takes over old's root when the key is the same, or the root
 * of a zone carried over, or makes a fresh root of size bytes (which begin with
 * sl_http_limit_zone_sh_t) with an empty tree. SL_OK: the root was taken over;
 * SL_DONE: it is fresh, the module initialises the rest of it; SL_ERROR: the key
 * changed (logged, naming directive) or no room.
 */
sl_int_t sl_http_limit_zone_init(sl_shm_zone_t *shm_zone, void *old, const char *directive,
                                 size_t size);

/* The hash that orders the zone's tree: the crc32 of the key bytes. */
static inline uint32_t
sl_http_limit_zone_hash(sl_str_t *key)
{
    return (uint32_t) crc32(0L, key->data, (uInt) key->len);
}

/*
 * The node of key, whose hash is sl_http_limit_zone_hash(key), or NULL; the
 * zone is locked. Inline, as insert is: they run for every request a limit applies to.
 */
static inline sl_http_limit_zone_node_t *
sl_http_limit_zone_find(sl_http_limit_zone_t *zone, uint32_t hash, sl_str_t *key)
{
    sl_int_t rc;
    sl_rbtree_node_t *node, *sentinel;
    sl_http_limit_zone_node_t *zn;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {
        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        zn = (sl_http_limit_zone_node_t *) node;

        rc = key->len == zn->len ? memcmp(key->data, zn->data, key->len)
                                 : (sl_int_t) key->len - (sl_int_t) zn->len;

        if (rc == 0) {
            return zn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}

/*
 * Links node into the zone under key, whose hash is sl_http_limit_zone_hash(key):
 * copies the key bytes after it (the node was allocated with room for them). The
 * caller sets node->count and its own fields; the zone is locked.
 */
static inline void
sl_http_limit_zone_insert(sl_http_limit_zone_t *zone, sl_http_limit_zone_node_t *node,
                          uint32_t hash, sl_str_t *key)
{
    node->node.key = hash;
    node->len = (uint16_t) key->len;
    sl_memcpy(node->data, key->data, key->len);

    sl_rbtree_insert(&zone->sh->rbtree, &node->node);
}

#endif /* SL_HTTP_LIMIT_ZONE_H */
