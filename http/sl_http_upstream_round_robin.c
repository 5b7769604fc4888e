/*
 * sl_http_upstream_round_robin.c: the peers of an upstream group and smooth
 * weighted round robin, the default balancer.
 *
 * Smooth weighted round robin: each pick adds every usable peer's effective
 * weight to its current weight, chooses the peer with the largest current
 * weight and takes the sum of the added weights off the chosen one. Weights
 * 5:1:1 give "a a b a c a a": the heavy peer is spread out, not bunched.
 * A failure lowers a peer's effective weight by weight / max_fails; each
 * pass of the loop raises it back by one, so a recovering peer gets its
 * share back gradually.
 */

#include "sl_http_upstream_round_robin.h"

static sl_int_t sl_http_upstream_rr_add_peers(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us,
                                              sl_uint_t backup,
                                              sl_http_upstream_rr_peers_t **out);
static sl_int_t sl_http_upstream_rr_implicit(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_rr_peer_name(sl_pool_t *pool, sl_http_upstream_rr_peer_t *peer,
                                              struct sockaddr *sa, socklen_t socklen);
static sl_int_t sl_http_upstream_rr_setup_request(sl_http_request_t *r,
                                                  sl_http_upstream_rr_peers_t *peers);


sl_int_t
sl_http_upstream_init_round_robin(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    sl_http_upstream_rr_peers_t *peers, *backup;

    if (us->peer.init == NULL) {
        us->peer.init = sl_http_upstream_init_round_robin_peer;
    }

    if (us->servers == NULL) {
        return sl_http_upstream_rr_implicit(cf, us);
    }

    if (sl_http_upstream_rr_add_peers(cf, us, 0, &peers) != SL_OK) {
        return SL_ERROR;
    }

    if (peers == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "no servers in upstream \"%V\" in %s:%ui",
                          &us->host, us->file_name, us->line);
        return SL_ERROR;
    }

    if (sl_http_upstream_rr_add_peers(cf, us, 1, &backup) != SL_OK) {
        return SL_ERROR;
    }

    if (backup != NULL) {
        peers->single = 0;
        peers->next = backup;
    }

    us->peer.data = peers;

    return SL_OK;
}


/* One list of peers: the primary servers (backup 0) or the backup ones; *out NULL when none. */
static sl_int_t
sl_http_upstream_rr_add_peers(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us, sl_uint_t backup,
                              sl_http_upstream_rr_peers_t **out)
{
    sl_uint_t i, j, n, w, t;
    sl_http_upstream_server_t *server;
    sl_http_upstream_rr_peer_t *peer, **last;
    sl_http_upstream_rr_peers_t *peers;

    *out = NULL;
    server = us->servers->elts;
    n = 0;
    w = 0;
    t = 0;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].backup != backup) {
            continue;
        }

        n += server[i].naddrs;
        w += server[i].naddrs * server[i].weight;

        if (!server[i].down) {
            t += server[i].naddrs;
        }
    }

    if (n == 0) {
        return SL_OK;
    }

    peers = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_rr_peers_t));
    peer = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_rr_peer_t) * n);

    if (peers == NULL || peer == NULL) {
        return SL_ERROR;
    }

    /* a lone backup server still counts failures: it is not the group's only one */
    peers->single = (n == 1 && !backup);
    peers->number = n;
    peers->weighted = (w != n);
    peers->total_weight = w;
    peers->tries = t;
    peers->name = &us->host;

    n = 0;
    last = &peers->peer;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].backup != backup) {
            continue;
        }

        for (j = 0; j < server[i].naddrs; j++) {
            peer[n].sockaddr = &server[i].addrs[j].sa;
            peer[n].socklen = server[i].addr_lens[j];

            if (sl_http_upstream_rr_peer_name(cf->pool, &peer[n], peer[n].sockaddr,
                                              peer[n].socklen)
                != SL_OK) {
                return SL_ERROR;
            }

            peer[n].server = server[i].name;
            peer[n].weight = (sl_int_t) server[i].weight;
            peer[n].effective_weight = (sl_int_t) server[i].weight;
            peer[n].current_weight = 0;
            peer[n].max_conns = server[i].max_conns;
            peer[n].max_fails = server[i].max_fails;
            peer[n].fail_timeout = server[i].fail_timeout;
            peer[n].down = server[i].down;

            *last = &peer[n];
            last = &peer[n].next;
            n++;
        }
    }

    *out = peers;

    return SL_OK;
}


/*
 * "proxy_pass http://host:port" without an upstream block: every address
 * the host resolves to is a peer of weight 1, max_fails 1, fail_timeout 10s.
 */
static sl_int_t
sl_http_upstream_rr_implicit(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    u_char *p;
    sl_uint_t i;
    sl_url_t u;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    sl_memzero(&u, sizeof(sl_url_t));

    u.url.data = sl_pnalloc(cf->pool, us->host.len + sizeof(":65535"));
    if (u.url.data == NULL) {
        return SL_ERROR;
    }

    p = sl_cpymem(u.url.data, us->host.data, us->host.len);

    if (!us->no_port && us->port != 0) {
        p = sl_sprintf(p, ":%ui", (sl_uint_t) us->port);
    }

    u.url.len = (size_t) (p - u.url.data);
    u.default_port = us->port ? us->port : 80;

    if (sl_parse_url(cf->pool, &u) != SL_OK) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in upstream \"%V\" in %s:%ui",
                          u.err ? u.err : "host not found", &u.url, us->file_name, us->line);
        return SL_ERROR;
    }

    peers = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_rr_peers_t));
    peer = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_rr_peer_t) * u.naddrs);

    if (peers == NULL || peer == NULL) {
        return SL_ERROR;
    }

    peers->single = (u.naddrs == 1);
    peers->number = u.naddrs;
    peers->total_weight = u.naddrs;
    peers->tries = u.naddrs;
    peers->name = &us->host;

    for (i = 0; i < u.naddrs; i++) {
        peer[i].sockaddr = &u.addrs[i].sa;
        peer[i].socklen = u.addr_lens[i];

        if (sl_http_upstream_rr_peer_name(cf->pool, &peer[i], peer[i].sockaddr,
                                          peer[i].socklen)
            != SL_OK) {
            return SL_ERROR;
        }

        peer[i].server = us->host;
        peer[i].weight = 1;
        peer[i].effective_weight = 1;
        peer[i].max_fails = 1;
        peer[i].fail_timeout = 10;
        peer[i].next = (i + 1 < u.naddrs) ? &peer[i + 1] : NULL;
    }

    peers->peer = peer;
    us->peer.data = peers;

    return SL_OK;
}


static sl_int_t
sl_http_upstream_rr_peer_name(sl_pool_t *pool, sl_http_upstream_rr_peer_t *peer,
                              struct sockaddr *sa, socklen_t socklen)
{
    u_char text[SL_SOCKADDR_TEXT_LEN];
    size_t len;

    len = sl_sock_ntop(sa, socklen, text, sizeof(text), 1);

    peer->name.data = sl_pnalloc(pool, len);
    if (peer->name.data == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(peer->name.data, text, len);
    peer->name.len = len;

    return SL_OK;
}


sl_int_t
sl_http_upstream_init_round_robin_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    return sl_http_upstream_rr_setup_request(r, us->peer.data);
}


/* r->upstream->peer for round robin over peers: the tried bits cover both lists. */
static sl_int_t
sl_http_upstream_rr_setup_request(sl_http_request_t *r, sl_http_upstream_rr_peers_t *peers)
{
    sl_uint_t n, words;
    sl_http_upstream_rr_peer_data_t *rrp;

    rrp = r->upstream->peer.data;

    if (rrp == NULL) {
        rrp = sl_pcalloc(r->pool, sizeof(sl_http_upstream_rr_peer_data_t));
        if (rrp == NULL) {
            return SL_ERROR;
        }

        r->upstream->peer.data = rrp;
    }

    rrp->peers = peers;
    rrp->current = NULL;

    n = peers->number;

    if (peers->next != NULL && peers->next->number > n) {
        n = peers->next->number;
    }

    if (n <= SL_HTTP_UPSTREAM_RR_TRIED_BITS) {
        rrp->data = 0;
        rrp->tried = &rrp->data;

    } else {
        words = (n + SL_HTTP_UPSTREAM_RR_TRIED_BITS - 1) / SL_HTTP_UPSTREAM_RR_TRIED_BITS;

        rrp->tried = sl_pcalloc(r->pool, words * sizeof(uintptr_t));
        if (rrp->tried == NULL) {
            return SL_ERROR;
        }
    }

    r->upstream->peer.get = sl_http_upstream_get_round_robin_peer;
    r->upstream->peer.free = sl_http_upstream_free_round_robin_peer;
    r->upstream->peer.tries = peers->tries + (peers->next ? peers->next->tries : 0);

    return SL_OK;
}


sl_int_t
sl_http_upstream_create_round_robin_peer(sl_http_request_t *r, sl_url_t *u)
{
    sl_uint_t i;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    if (u->naddrs == 0) {
        return SL_ERROR;
    }

    peers = sl_pcalloc(r->pool, sizeof(sl_http_upstream_rr_peers_t) + sizeof(sl_str_t));
    peer = sl_pcalloc(r->pool, sizeof(sl_http_upstream_rr_peer_t) * u->naddrs);

    if (peers == NULL || peer == NULL) {
        return SL_ERROR;
    }

    peers->single = (u->naddrs == 1);
    peers->number = u->naddrs;
    peers->total_weight = u->naddrs;
    peers->tries = u->naddrs;
    peers->name = (sl_str_t *) (peers + 1);
    *peers->name = u->host;

    for (i = 0; i < u->naddrs; i++) {
        peer[i].sockaddr = &u->addrs[i].sa;
        peer[i].socklen = u->addr_lens[i];

        if (sl_http_upstream_rr_peer_name(r->pool, &peer[i], peer[i].sockaddr, peer[i].socklen)
            != SL_OK) {
            return SL_ERROR;
        }

        peer[i].server = u->host;
        peer[i].weight = 1;
        peer[i].effective_weight = 1;
        peer[i].max_fails = 1;
        peer[i].fail_timeout = 10;
        peer[i].next = (i + 1 < u->naddrs) ? &peer[i + 1] : NULL;
    }

    peers->peer = peer;

    return sl_http_upstream_rr_setup_request(r, peers);
}


sl_int_t
sl_http_upstream_get_round_robin_peer(sl_peer_connection_t *pc, void *data)
{
    sl_http_upstream_rr_peer_data_t *rrp = data;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    pc->cached = 0;
    pc->connection = NULL;

    peers = rrp->peers;

    sl_http_upstream_rr_peers_lock(peers);

    if (peers->single) {
        /* one server is always tried, whatever its failures, unless down or full */
        peer = peers->peer;

        if (peer->down || peer->hc_down || sl_http_upstream_rr_tried(rrp, 0)
            || (peer->max_conns && peer->conns >= peer->max_conns)) {
            goto failed;
        }

        sl_http_upstream_rr_set_tried(rrp, 0);

    } else {
        peer = sl_http_upstream_rr_choose_peer(rrp, NULL);

        if (peer == NULL) {
            goto failed;
        }
    }

    sl_http_upstream_rr_use_peer(pc, rrp, peer);

    sl_http_upstream_rr_peers_unlock(peers);

    return SL_OK;

failed:

    sl_http_upstream_rr_peers_unlock(peers);

    if (sl_http_upstream_rr_use_backup(rrp) == SL_OK) {
        peers = rrp->peers;

        sl_http_upstream_rr_peers_lock(peers);

        peer = sl_http_upstream_rr_choose_peer(rrp, NULL);

        if (peer != NULL) {
            sl_http_upstream_rr_use_peer(pc, rrp, peer);
            sl_http_upstream_rr_peers_unlock(peers);
            return SL_OK;
        }

        sl_http_upstream_rr_peers_unlock(peers);
    }

    pc->name = peers->name;

    return SL_BUSY;
}


sl_int_t
sl_http_upstream_rr_use_backup(sl_http_upstream_rr_peer_data_t *rrp)
{
    sl_uint_t n;

    if (rrp->peers->next == NULL) {
        return SL_DECLINED;
    }

    rrp->peers = rrp->peers->next;

    n = (rrp->peers->number + SL_HTTP_UPSTREAM_RR_TRIED_BITS - 1)
        / SL_HTTP_UPSTREAM_RR_TRIED_BITS;

    sl_memzero(rrp->tried, n * sizeof(uintptr_t));

    return SL_OK;
}


sl_http_upstream_rr_peer_t *
sl_http_upstream_rr_choose_peer(sl_http_upstream_rr_peer_data_t *rrp, const sl_str_t *server)
{
    time_t now;
    sl_int_t total;
    sl_uint_t i, p;
    sl_http_upstream_rr_peer_t *peer, *best;

    now = sl_time();
    best = NULL;
    total = 0;
    p = 0;

    for (peer = rrp->peers->peer, i = 0; peer != NULL; peer = peer->next, i++) {
        if (sl_http_upstream_rr_tried(rrp, i)
            || (server != NULL && !sl_str_eq(&peer->server, server))
            || !sl_http_upstream_rr_peer_usable(peer, now)) {
            continue;
        }

        peer->current_weight += peer->effective_weight;
        total += peer->effective_weight;

        if (peer->effective_weight < peer->weight) {
            peer->effective_weight++;
        }

        if (best == NULL || peer->current_weight > best->current_weight) {
            best = peer;
            p = i;
        }
    }

    if (best == NULL) {
        return NULL;
    }

    best->current_weight -= total;

    sl_http_upstream_rr_set_tried(rrp, p);

    return best;
}


void
sl_http_upstream_rr_use_peer(sl_peer_connection_t *pc, sl_http_upstream_rr_peer_data_t *rrp,
                             sl_http_upstream_rr_peer_t *peer)
{
    time_t now;

    now = sl_time();

    rrp->current = peer;

    pc->sockaddr = peer->sockaddr;
    pc->socklen = peer->socklen;
    pc->name = &peer->name;

    peer->conns++;
    peer->requests++;

    if (now - peer->checked > peer->fail_timeout) {
        peer->checked = now;
    }
}


void
sl_http_upstream_free_round_robin_peer(sl_peer_connection_t *pc, void *data, sl_uint_t state)
{
    time_t now;
    sl_http_upstream_rr_peer_data_t *rrp = data;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    peer = rrp->current;
    peers = rrp->peers;

    if (peer == NULL) {
        return;
    }

    rrp->current = NULL;

    sl_http_upstream_rr_peers_lock(peers);

    if (peers->single) {
        if (peer->conns) {
            peer->conns--;
        }

        sl_http_upstream_rr_peers_unlock(peers);
        pc->tries = 0;
        return;
    }

    if (state & SL_PEER_FAILED) {
        now = sl_time();

        peer->fails++;
        peer->accessed = now;
        peer->checked = now;

        if (peer->max_fails) {
            peer->effective_weight -= peer->weight / (sl_int_t) peer->max_fails;

            if (peer->fails >= peer->max_fails) {
                sl_log_error(SL_LOG_WARN, pc->log, 0,
                             "upstream server temporarily disabled: %V in upstream \"%V\"",
                             &peer->name, peers->name);
            }
        }

        if (peer->effective_weight < 0) {
            peer->effective_weight = 0;
        }

    } else if (peer->accessed < peer->checked) {
        /* a success after the last failure's period began */
        peer->fails = 0;
    }

    if (peer->conns) {
        peer->conns--;
    }

    sl_http_upstream_rr_peers_unlock(peers);

    if (pc->tries) {
        pc->tries--;
    }
}


char *
sl_http_upstream_set_balancer(sl_conf_t *cf, sl_http_upstream_init_pt init, sl_uint_t backup)
{
    sl_uint_t i;
    sl_http_upstream_server_t *server;
    sl_http_upstream_srv_conf_t *uscf;

    uscf = sl_http_conf_get_module_srv_conf(cf, sl_http_upstream_module);

    if (uscf->peer.init_upstream != NULL) {
        sl_conf_log_error(SL_LOG_WARN, cf, 0, "load balancing method redefined");
    }

    if (!backup && uscf->servers != NULL) {
        server = uscf->servers->elts;

        for (i = 0; i < uscf->servers->nelts; i++) {
            if (server[i].backup) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "balancing method does not support parameter \"backup\"");
                return SL_CONF_ERROR;
            }
        }
    }

    uscf->peer.init_upstream = init;
    uscf->flags = SL_HTTP_UPSTREAM_CREATE | SL_HTTP_UPSTREAM_WEIGHT | SL_HTTP_UPSTREAM_MAX_CONNS
                  | SL_HTTP_UPSTREAM_MAX_FAILS | SL_HTTP_UPSTREAM_FAIL_TIMEOUT
                  | SL_HTTP_UPSTREAM_DOWN | (backup ? SL_HTTP_UPSTREAM_BACKUP : 0);

    return SL_CONF_OK;
}
