/*
 * sl_http_upstream_random_module.c: "random [two [least_conn]]" in an
 * upstream block.
 *
 * "random" picks a peer at random in proportion to its weight. "random two"
 * picks two different peers that way and takes the one with fewer active
 * connections relative to its weight ("least_conn", the only method, may be
 * named). An unusable pick draws again; after 20 draws round robin decides.
 * Backup servers are refused (nginx). The random numbers are libc's,
 * seeded per worker by the process module.
 *
 * The cumulative weight table points at the peers the group uses at run
 * time, which with a zone are the shared copies made after configuration;
 * so each worker builds it on its first request (in the cycle's pool) and
 * rebuilds it if the group's peers change.
 */

#include "sl_http_upstream_round_robin.h"

typedef struct {
    sl_http_upstream_rr_peer_t *peer;
    sl_uint_t range; /* cumulative weight up to and including this peer */
} sl_http_upstream_random_range_t;

typedef struct {
    sl_http_upstream_random_range_t *ranges;
    sl_http_upstream_rr_peers_t *ranges_peers; /* the list the ranges were built for */
    unsigned two : 1;
} sl_http_upstream_random_srv_conf_t;

typedef struct {
    sl_http_upstream_rr_peer_data_t rrp; /* first: round robin's state */
    sl_http_upstream_random_srv_conf_t *conf;
    u_char tries;
} sl_http_upstream_random_peer_data_t;

static void *sl_http_upstream_random_create_conf(sl_conf_t *cf);
static char *sl_http_upstream_random(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_init_random(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_init_random_peer(sl_http_request_t *r,
                                                  sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_get_random_peer(sl_peer_connection_t *pc, void *data);
static sl_int_t sl_http_upstream_get_random2_peer(sl_peer_connection_t *pc, void *data);

static sl_command_t sl_http_upstream_random_commands[] = {
    { sl_string("random"), SL_HTTP_UPS_CONF | SL_CONF_NOARGS | SL_CONF_TAKE12,
      sl_http_upstream_random, SL_HTTP_SRV_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_random_module_ctx = {
    NULL, NULL, NULL, NULL,
    sl_http_upstream_random_create_conf, /* create_srv_conf */
    NULL, NULL, NULL
};

sl_module_t sl_http_upstream_random_module = {
    SL_MODULE_V1,
    "sl_http_upstream_random_module",
    SL_HTTP_MODULE,
    &sl_http_upstream_random_module_ctx,
    sl_http_upstream_random_commands,
    NULL, NULL, NULL, NULL
};


static void *
sl_http_upstream_random_create_conf(sl_conf_t *cf)
{
    return sl_pcalloc(cf->pool, sizeof(sl_http_upstream_random_srv_conf_t));
}


static char *
sl_http_upstream_random(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;
    sl_http_upstream_random_srv_conf_t *rcf = conf;

    sl_unused(cmd);

    value = cf->args->elts;

    if (cf->args->nelts > 1) {
        if (!sl_str_eq_lit(&value[1], "two")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }

        rcf->two = 1;

        if (cf->args->nelts == 3 && !sl_str_eq_lit(&value[2], "least_conn")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[2]);
            return SL_CONF_ERROR;
        }
    }

    return sl_http_upstream_set_balancer(cf, sl_http_upstream_init_random, 0);
}


static sl_int_t
sl_http_upstream_init_random(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    if (sl_http_upstream_init_round_robin(cf, us) != SL_OK) {
        return SL_ERROR;
    }

    us->peer.init = sl_http_upstream_init_random_peer;

    return SL_OK;
}


/* (Re)builds the cumulative weights for peers in pool; SL_OK or SL_ERROR. */
static sl_int_t
sl_http_upstream_random_update(sl_pool_t *pool, sl_http_upstream_random_srv_conf_t *rcf,
                               sl_http_upstream_rr_peers_t *peers)
{
    sl_uint_t i, total;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_random_range_t *ranges;

    ranges = sl_palloc(pool, sizeof(sl_http_upstream_random_range_t) * peers->number);
    if (ranges == NULL) {
        return SL_ERROR;
    }

    total = 0;

    for (peer = peers->peer, i = 0; peer != NULL; peer = peer->next, i++) {
        total += (sl_uint_t) peer->weight;
        ranges[i].peer = peer;
        ranges[i].range = total;
    }

    rcf->ranges = ranges;
    rcf->ranges_peers = peers;

    return SL_OK;
}


static sl_int_t
sl_http_upstream_init_random_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    sl_http_upstream_random_peer_data_t *rp;

    rp = sl_pcalloc(r->pool, sizeof(sl_http_upstream_random_peer_data_t));
    if (rp == NULL) {
        return SL_ERROR;
    }

    r->upstream->peer.data = &rp->rrp;

    if (sl_http_upstream_init_round_robin_peer(r, us) != SL_OK) {
        return SL_ERROR;
    }

    rp->conf = sl_http_conf_upstream_srv_conf(us, sl_http_upstream_random_module);

    if (rp->conf->ranges_peers != us->peer.data
        && sl_http_upstream_random_update(sl_cycle->pool, rp->conf, us->peer.data) != SL_OK) {
        return SL_ERROR;
    }

    r->upstream->peer.get = rp->conf->two ? sl_http_upstream_get_random2_peer
                                          : sl_http_upstream_get_random_peer;

    return SL_OK;
}


/* A peer index drawn in proportion to weight. */
static sl_uint_t
sl_http_upstream_random_peek(sl_http_upstream_random_peer_data_t *rp)
{
    sl_uint_t i, j, k, x;
    sl_http_upstream_random_range_t *ranges;

    ranges = rp->conf->ranges;
    x = (sl_uint_t) random() % rp->rrp.peers->total_weight;

    /* the first range that ends past x */
    i = 0;
    j = rp->rrp.peers->number - 1;

    while (i < j) {
        k = (i + j) / 2;

        if (x < ranges[k].range) {
            j = k;

        } else {
            i = k + 1;
        }
    }

    return i;
}


static sl_int_t
sl_http_upstream_get_random_peer(sl_peer_connection_t *pc, void *data)
{
    time_t now;
    sl_uint_t i;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;
    sl_http_upstream_random_peer_data_t *rp = data;

    peers = rp->rrp.peers;

    pc->cached = 0;
    pc->connection = NULL;

    sl_http_upstream_rr_peers_lock(peers);

    if (rp->tries > 20 || peers->single || peers->total_weight == 0) {
        sl_http_upstream_rr_peers_unlock(peers);
        return sl_http_upstream_get_round_robin_peer(pc, &rp->rrp);
    }

    now = sl_time();

    for (;;) {
        i = sl_http_upstream_random_peek(rp);
        peer = rp->conf->ranges[i].peer;

        if (!sl_http_upstream_rr_tried(&rp->rrp, i) && sl_http_upstream_rr_peer_usable(peer, now)) {
            break;
        }

        if (++rp->tries > 20) {
            sl_http_upstream_rr_peers_unlock(peers);
            return sl_http_upstream_get_round_robin_peer(pc, &rp->rrp);
        }
    }

    sl_http_upstream_rr_set_tried(&rp->rrp, i);
    sl_http_upstream_rr_use_peer(pc, &rp->rrp, peer);

    sl_http_upstream_rr_peers_unlock(peers);

    return SL_OK;
}


static sl_int_t
sl_http_upstream_get_random2_peer(sl_peer_connection_t *pc, void *data)
{
    time_t now;
    sl_uint_t i, p;
    sl_http_upstream_rr_peer_t *peer, *prev;
    sl_http_upstream_rr_peers_t *peers;
    sl_http_upstream_random_peer_data_t *rp = data;

    peers = rp->rrp.peers;

    pc->cached = 0;
    pc->connection = NULL;

    sl_http_upstream_rr_peers_lock(peers);

    if (rp->tries > 20 || peers->number < 2 || peers->total_weight == 0) {
        sl_http_upstream_rr_peers_unlock(peers);
        return sl_http_upstream_get_round_robin_peer(pc, &rp->rrp);
    }

    now = sl_time();
    prev = NULL;
    p = 0;

    for (;;) {
        i = sl_http_upstream_random_peek(rp);
        peer = rp->conf->ranges[i].peer;

        if (peer != prev && !sl_http_upstream_rr_tried(&rp->rrp, i)
            && sl_http_upstream_rr_peer_usable(peer, now)) {
            if (prev == NULL) {
                prev = peer;
                p = i;

            } else {
                /* the less loaded of the two, relative to weight */
                if (peer->conns * (sl_uint_t) prev->weight
                    > prev->conns * (sl_uint_t) peer->weight) {
                    peer = prev;
                    i = p;
                }

                break;
            }
        }

        if (++rp->tries > 20) {
            sl_http_upstream_rr_peers_unlock(peers);
            return sl_http_upstream_get_round_robin_peer(pc, &rp->rrp);
        }
    }

    sl_http_upstream_rr_set_tried(&rp->rrp, i);
    sl_http_upstream_rr_use_peer(pc, &rp->rrp, peer);

    sl_http_upstream_rr_peers_unlock(peers);

    return SL_OK;
}
