/*
 * sl_http_upstream_least_conn_module.c: "least_conn" in an upstream block.
 *
 * Chooses the usable peer with the fewest active connections relative to
 * its weight (conns / weight, compared by cross-multiplying); among equally
 * loaded peers, smooth weighted round robin decides. Backup servers are
 * used, by round robin, only when no primary peer can be chosen. With a
 * zone, the connection counts are those of all workers.
 */

#include "sl_http_upstream_round_robin.h"

static char *sl_http_upstream_least_conn(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_init_least_conn(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_init_least_conn_peer(sl_http_request_t *r,
                                                      sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_get_least_conn_peer(sl_peer_connection_t *pc, void *data);

static sl_command_t sl_http_upstream_least_conn_commands[] = {
    { sl_string("least_conn"), SL_HTTP_UPS_CONF | SL_CONF_NOARGS, sl_http_upstream_least_conn, 0,
      0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_least_conn_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

sl_module_t sl_http_upstream_least_conn_module = {
    SL_MODULE_V1,
    "sl_http_upstream_least_conn_module",
    SL_HTTP_MODULE,
    &sl_http_upstream_least_conn_module_ctx,
    sl_http_upstream_least_conn_commands,
    NULL, NULL, NULL, NULL
};


static char *
sl_http_upstream_least_conn(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_unused(cmd);
    sl_unused(conf);

    return sl_http_upstream_set_balancer(cf, sl_http_upstream_init_least_conn, 1);
}


static sl_int_t
sl_http_upstream_init_least_conn(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    if (sl_http_upstream_init_round_robin(cf, us) != SL_OK) {
        return SL_ERROR;
    }

    us->peer.init = sl_http_upstream_init_least_conn_peer;

    return SL_OK;
}


static sl_int_t
sl_http_upstream_init_least_conn_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    if (sl_http_upstream_init_round_robin_peer(r, us) != SL_OK) {
        return SL_ERROR;
    }

    r->upstream->peer.get = sl_http_upstream_get_least_conn_peer;

    return SL_OK;
}


/* The least loaded usable peer of the list being tried, ties broken by smooth round robin. */
static sl_http_upstream_rr_peer_t *
sl_http_upstream_least_conn_choose(sl_http_upstream_rr_peer_data_t *rrp)
{
    time_t now;
    sl_int_t total;
    sl_uint_t i, p, many;
    sl_http_upstream_rr_peer_t *peer, *best;

    now = sl_time();
    best = NULL;
    many = 0;
    p = 0;

    for (peer = rrp->peers->peer, i = 0; peer != NULL; peer = peer->next, i++) {
        if (sl_http_upstream_rr_tried(rrp, i) || !sl_http_upstream_rr_peer_usable(peer, now)) {
            continue;
        }

        /* conns / weight < best conns / best weight, without division */
        if (best == NULL
            || peer->conns * (sl_uint_t) best->weight < best->conns * (sl_uint_t) peer->weight) {
            best = peer;
            many = 0;
            p = i;

        } else if (peer->conns * (sl_uint_t) best->weight
                   == best->conns * (sl_uint_t) peer->weight) {
            many = 1;
        }
    }

    if (best == NULL) {
        return NULL;
    }

    if (many) {
        /* smooth round robin among the peers as loaded as the best */
        total = 0;
        peer = best;

        for (i = p; peer != NULL; peer = peer->next, i++) {
            if (sl_http_upstream_rr_tried(rrp, i) || !sl_http_upstream_rr_peer_usable(peer, now)
                || peer->conns * (sl_uint_t) best->weight
                       != best->conns * (sl_uint_t) peer->weight) {
                continue;
            }

            peer->current_weight += peer->effective_weight;
            total += peer->effective_weight;

            if (peer->effective_weight < peer->weight) {
                peer->effective_weight++;
            }

            if (peer->current_weight > best->current_weight) {
                best = peer;
                p = i;
            }
        }

        best->current_weight -= total;
    }

    sl_http_upstream_rr_set_tried(rrp, p);
    rrp->current = best;

    return best;
}


static sl_int_t
sl_http_upstream_get_least_conn_peer(sl_peer_connection_t *pc, void *data)
{
    sl_http_upstream_rr_peer_data_t *rrp = data;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    pc->cached = 0;
    pc->connection = NULL;

    peers = rrp->peers;

    sl_http_upstream_rr_peers_lock(peers);

    peer = sl_http_upstream_least_conn_choose(rrp);

    if (peer != NULL) {
        sl_http_upstream_rr_use_peer(pc, rrp, peer);
        sl_http_upstream_rr_peers_unlock(peers);
        return SL_OK;
    }

    sl_http_upstream_rr_peers_unlock(peers);

    if (sl_http_upstream_rr_use_backup(rrp) == SL_OK) {
        /* the backup list goes by plain round robin, as in nginx */
        return sl_http_upstream_get_round_robin_peer(pc, rrp);
    }

    pc->name = peers->name;

    return SL_BUSY;
}
