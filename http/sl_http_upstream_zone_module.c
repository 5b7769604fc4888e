/*
 * sl_http_upstream_zone_module.c: "zone NAME [SIZE]" in an upstream block.
 *
 * The group's peers move into a shared memory zone when the zone is
 * created (in the master, before the workers fork): the peers lists, their
 * addresses and names are copied into the zone's slab and us->peer.data is
 * pointed at the copy, so every worker and the health-check helper count
 * connections, failures and health on the same peers, under the list's
 * robust mutex. Several groups may share one zone (the second names it
 * without a size).
 *
 * Reload: when the new configuration has the same zone (name and size) and
 * every group in it has the same servers with the same parameters, the zone
 * is carried over and the groups go on with the peers they had, state and
 * all. When any of that changed, the zone is made afresh: the old workers
 * still drain on the old copy while the new workers start from a clean one.
 */

#include "sl_http_upstream_round_robin.h"

typedef struct sl_http_upstream_zone_group_s sl_http_upstream_zone_group_t;

/* One group's peers inside the zone; the zone's root is a list of them. */
struct sl_http_upstream_zone_group_s {
    sl_str_t name;
    sl_http_upstream_rr_peers_t *peers;
    sl_http_upstream_zone_group_t *next;
};

typedef struct {
    sl_http_upstream_zone_group_t *groups;
} sl_http_upstream_zone_root_t;

static char *sl_http_upstream_zone(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_zone_postconfiguration(sl_conf_t *cf);
static sl_int_t sl_http_upstream_zone_init(sl_shm_zone_t *zone, void *data);

static sl_command_t sl_http_upstream_zone_commands[] = {
    { sl_string("zone"), SL_HTTP_UPS_CONF | SL_CONF_TAKE12, sl_http_upstream_zone, 0, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_zone_module_ctx = {
    NULL,                                    /* preconfiguration */
    sl_http_upstream_zone_postconfiguration, /* postconfiguration */
    NULL, NULL, NULL, NULL, NULL, NULL
};

sl_module_t sl_http_upstream_zone_module = {
    SL_MODULE_V1,
    "sl_http_upstream_zone_module",
    SL_HTTP_MODULE,
    &sl_http_upstream_zone_module_ctx,
    sl_http_upstream_zone_commands,
    NULL, NULL, NULL, NULL
};


static char *
sl_http_upstream_zone(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    ssize_t size;
    sl_str_t *value;
    sl_http_upstream_srv_conf_t *uscf;
    sl_http_upstream_main_conf_t *umcf;

    sl_unused(cmd);
    sl_unused(conf);

    uscf = sl_http_conf_get_module_srv_conf(cf, sl_http_upstream_module);
    umcf = sl_http_conf_get_module_main_conf(cf, sl_http_upstream_module);

    if (uscf->shm_zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid zone name \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }

    size = 0;

    if (cf->args->nelts == 3) {
        size = sl_parse_size(&value[2]);

        if (size == SL_ERROR) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"", &value[2]);
            return SL_CONF_ERROR;
        }

        if (size < (ssize_t) (8 * SL_SLAB_PAGE_SIZE)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "zone \"%V\" is too small", &value[1]);
            return SL_CONF_ERROR;
        }
    }

    uscf->shm_zone = sl_shared_memory_add(cf, &value[1], (size_t) size,
                                          &sl_http_upstream_zone_module);
    if (uscf->shm_zone == NULL) {
        return SL_CONF_ERROR;
    }

    uscf->shm_zone->init = sl_http_upstream_zone_init;
    uscf->shm_zone->data = umcf;

    return SL_CONF_OK;
}


static sl_http_upstream_zone_group_t *
sl_http_upstream_zone_find_group(sl_http_upstream_zone_root_t *root, sl_str_t *name)
{
    sl_http_upstream_zone_group_t *group;

    for (group = root->groups; group != NULL; group = group->next) {
        if (sl_str_eq(&group->name, name)) {
            return group;
        }
    }

    return NULL;
}


/* Whether two lists hold the same servers with the same parameters, in order. */
static sl_uint_t
sl_http_upstream_zone_same_peers(sl_http_upstream_rr_peers_t *a, sl_http_upstream_rr_peers_t *b)
{
    sl_http_upstream_rr_peer_t *p, *q;

    if (a == NULL || b == NULL) {
        return a == b;
    }

    if (a->number != b->number) {
        return 0;
    }

    for (p = a->peer, q = b->peer; p != NULL && q != NULL; p = p->next, q = q->next) {
        if (sl_cmp_sockaddr(p->sockaddr, p->socklen, q->sockaddr, q->socklen, 1) != SL_OK
            || !sl_str_eq(&p->server, &q->server) || p->weight != q->weight
            || p->max_fails != q->max_fails || p->fail_timeout != q->fail_timeout
            || p->max_conns != q->max_conns || p->down != q->down) {
            return 0;
        }
    }

    return sl_http_upstream_zone_same_peers(a->next, b->next);
}


/* The same zone in the previous cycle (still mapped in the master), or NULL. */
static sl_shm_zone_t *
sl_http_upstream_zone_old(sl_cycle_t *old_cycle, sl_shm_zone_t *zone)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_shm_zone_t *old;

    if (old_cycle == NULL || old_cycle->shared_memory.part.elts == NULL) {
        return NULL;
    }

    part = &old_cycle->shared_memory.part;
    old = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            old = part->elts;
            i = 0;
        }

        if (sl_str_eq(&old[i].shm.name, &zone->shm.name)) {
            return &old[i];
        }
    }
}


/*
 * After every group has built its peers: a zone may be carried over a
 * reload only if each of its groups is unchanged; otherwise ask for a
 * fresh one.
 */
static sl_int_t
sl_http_upstream_zone_postconfiguration(sl_conf_t *cf)
{
    sl_uint_t i;
    sl_shm_zone_t *old;
    sl_http_upstream_zone_root_t *root;
    sl_http_upstream_zone_group_t *group;
    sl_http_upstream_srv_conf_t **uscfp;
    sl_http_upstream_main_conf_t *umcf;

    umcf = sl_http_conf_get_module_main_conf(cf, sl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->shm_zone == NULL) {
            continue;
        }

        if (uscfp[i]->shm_zone->shm.size == 0) {
            /* the upstream's own place, not the end of the http block this runs at */
            sl_log_error(SL_LOG_EMERG, cf->log, 0,
                         "zero size shared memory zone \"%V\" in upstream \"%V\" in %s:%ui",
                         &uscfp[i]->shm_zone->shm.name, &uscfp[i]->host, uscfp[i]->file_name,
                         uscfp[i]->line);
            return SL_ERROR;
        }

        old = sl_http_upstream_zone_old(cf->cycle->old_cycle, uscfp[i]->shm_zone);

        if (old == NULL || old->tag != uscfp[i]->shm_zone->tag || old->shm.addr == NULL
            || old->data == NULL || old->init != sl_http_upstream_zone_init) {
            continue;
        }

        root = old->data;
        group = sl_http_upstream_zone_find_group(root, &uscfp[i]->host);

        if (group == NULL || !sl_http_upstream_zone_same_peers(group->peers, uscfp[i]->peer.data)) {
            uscfp[i]->shm_zone->noreuse = 1;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_http_upstream_zone_copy_str(sl_slab_pool_t *shpool, sl_str_t *dst, sl_str_t *src)
{
    dst->len = src->len;
    dst->data = sl_slab_alloc(shpool, src->len ? src->len : 1);

    if (dst->data == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(dst->data, src->data, src->len);

    return SL_OK;
}


/* Copies one peers list (and its backup list) into the zone; NULL when the zone is full. */
static sl_http_upstream_rr_peers_t *
sl_http_upstream_zone_copy_peers(sl_shm_zone_t *zone, sl_slab_pool_t *shpool,
                                 sl_http_upstream_rr_peers_t *src, sl_str_t *name)
{
    sl_http_upstream_rr_peer_t *peer, *from, **last;
    sl_http_upstream_rr_peers_t *peers;

    peers = sl_slab_calloc(shpool, sizeof(sl_http_upstream_rr_peers_t));
    if (peers == NULL) {
        return NULL;
    }

    peers->number = src->number;
    peers->total_weight = src->total_weight;
    peers->tries = src->tries;
    peers->single = src->single;
    peers->weighted = src->weighted;
    peers->name = name;
    peers->shm_zone = zone;

    if (sl_shmtx_create(&peers->mutex, &peers->lock, zone->shm.log) != SL_OK) {
        return NULL;
    }

    last = &peers->peer;

    for (from = src->peer; from != NULL; from = from->next) {
        peer = sl_slab_calloc(shpool, sizeof(sl_http_upstream_rr_peer_t));
        if (peer == NULL) {
            return NULL;
        }

        *peer = *from;
        peer->next = NULL;

        peer->sockaddr = sl_slab_alloc(shpool, from->socklen);
        if (peer->sockaddr == NULL) {
            return NULL;
        }

        sl_memcpy(peer->sockaddr, from->sockaddr, from->socklen);

        if (sl_http_upstream_zone_copy_str(shpool, &peer->name, &from->name) != SL_OK
            || sl_http_upstream_zone_copy_str(shpool, &peer->server, &from->server) != SL_OK) {
            return NULL;
        }

        *last = peer;
        last = &peer->next;
    }

    if (src->next != NULL) {
        peers->next = sl_http_upstream_zone_copy_peers(zone, shpool, src->next, name);
        if (peers->next == NULL) {
            return NULL;
        }
    }

    return peers;
}


/* Copies or reattaches the peers of every group using this zone. */
static sl_int_t
sl_http_upstream_zone_init(sl_shm_zone_t *zone, void *data)
{
    sl_uint_t i;
    sl_slab_pool_t *shpool;
    sl_http_upstream_zone_root_t *root;
    sl_http_upstream_zone_group_t *group;
    sl_http_upstream_srv_conf_t **uscfp;
    sl_http_upstream_main_conf_t *umcf;

    umcf = zone->data;
    shpool = (sl_slab_pool_t *) zone->shm.addr;

    if (data != NULL) {
        root = data;

    } else {
        root = sl_slab_calloc(shpool, sizeof(sl_http_upstream_zone_root_t));
        if (root == NULL) {
            goto nomem;
        }

        shpool->data = root;
    }

    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->shm_zone != zone) {
            continue;
        }

        group = sl_http_upstream_zone_find_group(root, &uscfp[i]->host);

        if (group != NULL && data != NULL) {
            /* carried over: the configuration check found the servers unchanged */
            uscfp[i]->peer.data = group->peers;
            continue;
        }

        group = sl_slab_calloc(shpool, sizeof(sl_http_upstream_zone_group_t));
        if (group == NULL) {
            goto nomem;
        }

        if (sl_http_upstream_zone_copy_str(shpool, &group->name, &uscfp[i]->host) != SL_OK) {
            goto nomem;
        }

        group->peers = sl_http_upstream_zone_copy_peers(zone, shpool, uscfp[i]->peer.data,
                                                        &group->name);
        if (group->peers == NULL) {
            goto nomem;
        }

        /* linked only when complete, so a reader never sees half a group */
        group->next = root->groups;
        root->groups = group;

        uscfp[i]->peer.data = group->peers;
    }

    zone->data = root;

    /*
     * The reuse decision for this cycle is made; let the next reload carry
     * the zone over again if nothing changes then.
     */
    zone->noreuse = 0;

    return SL_OK;

nomem:

    sl_log_error(SL_LOG_EMERG, zone->shm.log, 0, "no memory in upstream zone \"%V\"",
                 &zone->shm.name);

    return SL_ERROR;
}
