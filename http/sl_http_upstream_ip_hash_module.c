/*
 * sl_http_upstream_ip_hash_module.c: "ip_hash" in an upstream block.
 *
 * The client's network (the first three octets of an IPv4 address, the
 * whole of an IPv6 one) picks the peer, so a client keeps its server while
 * the group is unchanged. The hash is nginx's (89, then *113 + byte mod
 * 6271 per byte) so that a group keeps the same mapping when moved from
 * nginx. A peer that cannot be chosen makes the hash go round again; after
 * 20 rounds, round robin decides. Backup servers are refused (nginx).
 */

#include "sl_http_upstream_round_robin.h"

typedef struct {
    sl_http_upstream_rr_peer_data_t rrp; /* first: round robin's state */
    sl_uint_t hash;
    u_char addrlen;
    u_char *addr;
    u_char tries;
} sl_http_upstream_ip_hash_peer_data_t;

static char *sl_http_upstream_ip_hash(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_init_ip_hash(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_init_ip_hash_peer(sl_http_request_t *r,
                                                   sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_get_ip_hash_peer(sl_peer_connection_t *pc, void *data);

/* What a client without an IP address (a unix socket) hashes as. */
static u_char sl_http_upstream_ip_hash_pseudo_addr[3];

static sl_command_t sl_http_upstream_ip_hash_commands[] = {
    { sl_string("ip_hash"), SL_HTTP_UPS_CONF | SL_CONF_NOARGS, sl_http_upstream_ip_hash, 0, 0,
      NULL },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_ip_hash_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

sl_module_t sl_http_upstream_ip_hash_module = {
    SL_MODULE_V1,
    "sl_http_upstream_ip_hash_module",
    SL_HTTP_MODULE,
    &sl_http_upstream_ip_hash_module_ctx,
    sl_http_upstream_ip_hash_commands,
    NULL, NULL, NULL, NULL
};


static char *
sl_http_upstream_ip_hash(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_unused(cmd);
    sl_unused(conf);

    return sl_http_upstream_set_balancer(cf, sl_http_upstream_init_ip_hash, 0);
}


static sl_int_t
sl_http_upstream_init_ip_hash(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    if (sl_http_upstream_init_round_robin(cf, us) != SL_OK) {
        return SL_ERROR;
    }

    us->peer.init = sl_http_upstream_init_ip_hash_peer;

    return SL_OK;
}


static sl_int_t
sl_http_upstream_init_ip_hash_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    sl_connection_t *c;
    sl_http_upstream_ip_hash_peer_data_t *iphp;

    iphp = sl_pcalloc(r->pool, sizeof(sl_http_upstream_ip_hash_peer_data_t));
    if (iphp == NULL) {
        return SL_ERROR;
    }

    r->upstream->peer.data = &iphp->rrp;

    if (sl_http_upstream_init_round_robin_peer(r, us) != SL_OK) {
        return SL_ERROR;
    }

    r->upstream->peer.get = sl_http_upstream_get_ip_hash_peer;

    c = r->connection;

    switch (c->sockaddr.sa.sa_family) {
    case AF_INET:
        iphp->addr = (u_char *) &c->sockaddr.sin.sin_addr.s_addr;
        iphp->addrlen = 3;
        break;

    case AF_INET6:
        iphp->addr = (u_char *) &c->sockaddr.sin6.sin6_addr.s6_addr;
        iphp->addrlen = 16;
        break;

    default:
        iphp->addr = sl_http_upstream_ip_hash_pseudo_addr;
        iphp->addrlen = 3;
    }

    iphp->hash = 89;
    iphp->tries = 0;

    return SL_OK;
}


static sl_int_t
sl_http_upstream_get_ip_hash_peer(sl_peer_connection_t *pc, void *data)
{
    time_t now;
    sl_uint_t i, n, p, hash;
    sl_int_t w;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;
    sl_http_upstream_ip_hash_peer_data_t *iphp = data;

    peers = iphp->rrp.peers;

    pc->cached = 0;
    pc->connection = NULL;

    sl_http_upstream_rr_peers_lock(peers);

    if (iphp->tries > 20 || peers->single || peers->total_weight == 0) {
        sl_http_upstream_rr_peers_unlock(peers);
        return sl_http_upstream_get_round_robin_peer(pc, &iphp->rrp);
    }

    now = sl_time();
    hash = iphp->hash;

    for (;;) {
        for (i = 0; i < (sl_uint_t) iphp->addrlen; i++) {
            hash = (hash * 113 + iphp->addr[i]) % 6271;
        }

        w = (sl_int_t) (hash % peers->total_weight);
        peer = peers->peer;
        p = 0;

        while (w >= peer->weight) {
            w -= peer->weight;
            peer = peer->next;
            p++;
        }

        n = p;

        if (!sl_http_upstream_rr_tried(&iphp->rrp, n)
            && sl_http_upstream_rr_peer_usable(peer, now)) {
            break;
        }

        if (++iphp->tries > 20) {
            sl_http_upstream_rr_peers_unlock(peers);
            return sl_http_upstream_get_round_robin_peer(pc, &iphp->rrp);
        }
    }

    sl_http_upstream_rr_set_tried(&iphp->rrp, n);
    sl_http_upstream_rr_use_peer(pc, &iphp->rrp, peer);

    sl_http_upstream_rr_peers_unlock(peers);

    iphp->hash = hash;

    return SL_OK;
}
