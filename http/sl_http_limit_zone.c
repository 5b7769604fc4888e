/*
 * sl_http_limit_zone.c: the zone of keyed nodes that limit_req and
 * limit_conn share (see sl_http_limit_zone.h): its directive, its setup
 * across reloads, and its tree.
 */

#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_limit_zone.h"

/* The tree's insert: by hash, then key length, then key bytes. */
static void
sl_http_limit_zone_rbtree_insert(sl_rbtree_node_t *temp, sl_rbtree_node_t *node,
                                 sl_rbtree_node_t *sentinel)
{
    sl_int_t rc;
    sl_rbtree_node_t **p;
    sl_http_limit_zone_node_t *zn, *zt;

    for (;;) {
        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            zn = (sl_http_limit_zone_node_t *) node;
            zt = (sl_http_limit_zone_node_t *) temp;

            rc = zn->len == zt->len ? memcmp(zn->data, zt->data, zn->len)
                                    : (sl_int_t) zn->len - (sl_int_t) zt->len;

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    sl_rbt_red(node);
}

sl_int_t
sl_http_limit_zone_init(sl_shm_zone_t *shm_zone, void *old, const char *directive, size_t size)
{
    sl_slab_pool_t *shpool;
    sl_http_limit_zone_t *zone, *ozone;

    zone = shm_zone->data;
    ozone = old;

    if (ozone != NULL) {
        if (!sl_str_eq(&zone->key.value, &ozone->key.value)) {
            sl_log_error(SL_LOG_EMERG, shm_zone->shm.log, 0,
                         "%s \"%V\" uses the \"%V\" key while previously it used the \"%V\" key",
                         directive, &shm_zone->shm.name, &zone->key.value, &ozone->key.value);
            return SL_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return SL_OK;
    }

    shpool = (sl_slab_pool_t *) shm_zone->shm.addr;
    zone->shpool = shpool;

    if (shm_zone->shm.exists) {
        zone->sh = shpool->data;
        return SL_OK;
    }

    zone->sh = sl_slab_alloc(shpool, size);
    if (zone->sh == NULL) {
        return SL_ERROR;
    }

    shpool->data = zone->sh;

    sl_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel, sl_http_limit_zone_rbtree_insert);

    return SL_DONE;
}

/*
 * One "zone=NAME:SIZE" argument (the prefix checked): *name (which may be
 * empty: the caller refuses that once every argument is read) and *size.
 * SL_OK, or SL_ERROR logged.
 */
static sl_int_t
sl_http_limit_zone_parse(sl_conf_t *cf, sl_str_t *value, sl_str_t *name, ssize_t *size)
{
    u_char *p;
    sl_str_t s;

    name->data = value->data + 5;

    p = memchr(name->data, ':', value->len - 5);
    if (p == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"", value);
        return SL_ERROR;
    }

    name->len = p - name->data;

    s.data = p + 1;
    s.len = value->data + value->len - s.data;

    *size = sl_parse_size(&s);

    if (*size == SL_ERROR) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"", value);
        return SL_ERROR;
    }

    if (*size < (ssize_t) (8 * SL_SLAB_PAGE_SIZE)) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "zone \"%V\" is too small", value);
        return SL_ERROR;
    }

    return SL_OK;
}

char *
sl_http_limit_zone_conf(sl_conf_t *cf, sl_command_t *cmd, sl_http_limit_zone_t *zone, void *tag,
                        sl_shm_zone_init_pt init, sl_http_limit_zone_param_pt param, void *data)
{
    ssize_t size;
    sl_int_t rc;
    sl_str_t *value, name;
    sl_uint_t i;
    sl_shm_zone_t *shm_zone;
    sl_http_limit_zone_t *bound;
    sl_http_compile_complex_value_t ccv;

    value = cf->args->elts;

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &zone->key;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }

    size = 0;
    name.len = 0;
    name.data = NULL;

    for (i = 2; i < cf->args->nelts; i++) {
        if (value[i].len >= 5 && sl_strncmp(value[i].data, "zone=", 5) == 0) {
            if (sl_http_limit_zone_parse(cf, &value[i], &name, &size) != SL_OK) {
                return SL_CONF_ERROR;
            }

            continue;
        }

        rc = param != NULL ? param(cf, &value[i], data) : SL_DECLINED;

        if (rc == SL_OK) {
            continue;
        }

        if (rc == SL_DECLINED) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
        }

        return SL_CONF_ERROR;
    }

    if (name.len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%V\" must have \"zone\" parameter", &cmd->name);
        return SL_CONF_ERROR;
    }

    shm_zone = sl_shared_memory_add(cf, &name, size, tag);
    if (shm_zone == NULL) {
        return SL_CONF_ERROR;
    }

    if (shm_zone->data) {
        bound = shm_zone->data;
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%V \"%V\" is already bound to key \"%V\"",
                          &cmd->name, &name, &bound->key.value);
        return SL_CONF_ERROR;
    }

    shm_zone->init = init;
    shm_zone->data = zone;

    return SL_CONF_OK;
}
