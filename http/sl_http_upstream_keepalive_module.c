/*
 * sl_http_upstream_keepalive_module.c: "keepalive N", "keepalive_timeout",
 * "keepalive_requests" and "keepalive_time" in an upstream block: a cache,
 * per worker and per group, of idle connections to the group's peers.
 *
 * It wraps the group's balancer, whichever it is: get asks the balancer for
 * a peer first and then looks for an idle connection to that peer's address
 * (returning SL_DONE with it in pc->connection, pc->cached set); free keeps
 * the connection when the upstream core says the response ended cleanly
 * (u->keepalive) and always reports to the balancer afterwards. The wrap is
 * installed after every group has built its peers, so "keepalive" may come
 * before or after the balancing method in the block (in nginx it must come
 * after).
 *
 * While cached, a connection stays registered with epoll (edge-triggered)
 * and only its handlers change: anything the upstream sends, or its close,
 * closes it (an idle upstream must not talk), and so does keepalive_timeout.
 * A connection serves at most keepalive_requests requests and lives at most
 * keepalive_time. Past N idle connections, the least recently used closes.
 *
 * What the upstream core must do (nginx's contract): count each request
 * sent on a connection in c->requests; create c->pool only when it is NULL
 * (a cached connection keeps its pool); after calling free, close
 * pc->connection only if it is still set (the cache takes it by setting it
 * to NULL); and set u->keepalive only for a complete HTTP/1.1 response
 * without "Connection: close", with the request body sent in full.
 */

#include "sl_http_upstream_round_robin.h"

typedef struct {
    sl_uint_t max_cached;
    sl_uint_t requests;
    sl_msec_t time;
    sl_msec_t timeout;

    sl_queue_t cache; /* idle connections, most recently used first */
    sl_queue_t free;  /* unused cache slots */

    sl_http_upstream_init_peer_pt original_init_peer;
} sl_http_upstream_keepalive_srv_conf_t;

typedef struct {
    sl_http_upstream_keepalive_srv_conf_t *conf;
    sl_queue_t queue;
    sl_connection_t *connection;
    socklen_t socklen;
    sl_sockaddr_any_t sockaddr;
} sl_http_upstream_keepalive_cache_t;

typedef struct {
    sl_http_upstream_keepalive_srv_conf_t *conf;
    sl_http_upstream_t *upstream;
    void *data; /* the balancer's per-request state */
    sl_event_get_peer_pt original_get_peer;
    sl_event_free_peer_pt original_free_peer;
} sl_http_upstream_keepalive_peer_data_t;

static void *sl_http_upstream_keepalive_create_conf(sl_conf_t *cf);
static char *sl_http_upstream_keepalive(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_keepalive_postconfiguration(sl_conf_t *cf);
static sl_int_t sl_http_upstream_init_keepalive_peer(sl_http_request_t *r,
                                                     sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_get_keepalive_peer(sl_peer_connection_t *pc, void *data);
static void sl_http_upstream_free_keepalive_peer(sl_peer_connection_t *pc, void *data,
                                                 sl_uint_t state);
static void sl_http_upstream_keepalive_dummy_handler(sl_event_t *ev);
static void sl_http_upstream_keepalive_close_handler(sl_event_t *ev);
static void sl_http_upstream_keepalive_close(sl_connection_t *c);

static sl_conf_bounds_t sl_http_upstream_keepalive_requests_bounds = { 1, SL_MAX_INT_T_VALUE };

static sl_command_t sl_http_upstream_keepalive_commands[] = {
    { sl_string("keepalive"), SL_HTTP_UPS_CONF | SL_CONF_TAKE1, sl_http_upstream_keepalive,
      SL_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { sl_string("keepalive_time"), SL_HTTP_UPS_CONF | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_upstream_keepalive_srv_conf_t, time), NULL },
    { sl_string("keepalive_timeout"), SL_HTTP_UPS_CONF | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_upstream_keepalive_srv_conf_t, timeout), NULL },
    { sl_string("keepalive_requests"), SL_HTTP_UPS_CONF | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_upstream_keepalive_srv_conf_t, requests),
      &sl_http_upstream_keepalive_requests_bounds },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_keepalive_module_ctx = {
    NULL,                                         /* preconfiguration */
    sl_http_upstream_keepalive_postconfiguration, /* postconfiguration */
    NULL, NULL,
    sl_http_upstream_keepalive_create_conf, /* create_srv_conf */
    NULL, NULL, NULL
};

sl_module_t sl_http_upstream_keepalive_module = {
    SL_MODULE_V1,
    "sl_http_upstream_keepalive_module",
    SL_HTTP_MODULE,
    &sl_http_upstream_keepalive_module_ctx,
    sl_http_upstream_keepalive_commands,
    NULL, NULL, NULL, NULL
};


static void *
sl_http_upstream_keepalive_create_conf(sl_conf_t *cf)
{
    sl_http_upstream_keepalive_srv_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_keepalive_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->requests = SL_CONF_UNSET_UINT;
    conf->time = SL_CONF_UNSET_MSEC;
    conf->timeout = SL_CONF_UNSET_MSEC;

    return conf;
}


static char *
sl_http_upstream_keepalive(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_int_t n;
    sl_str_t *value;
    sl_http_upstream_keepalive_srv_conf_t *kcf = conf;

    if (kcf->max_cached) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = sl_atoi(value[1].data, value[1].len);

    if (n == SL_ERROR || n == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" directive",
                          &value[1], &cmd->name);
        return SL_CONF_ERROR;
    }

    kcf->max_cached = (sl_uint_t) n;

    return SL_CONF_OK;
}


/*
 * Every group has its balancer's per-request init by now (the upstream
 * core ran the init_upstream hooks in its init_main_conf): wrap it in the
 * groups with "keepalive", and make their cache slots.
 */
static sl_int_t
sl_http_upstream_keepalive_postconfiguration(sl_conf_t *cf)
{
    sl_uint_t i, j;
    sl_http_upstream_srv_conf_t **uscfp;
    sl_http_upstream_main_conf_t *umcf;
    sl_http_upstream_keepalive_cache_t *cached;
    sl_http_upstream_keepalive_srv_conf_t *kcf;

    umcf = sl_http_conf_get_module_main_conf(cf, sl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->srv_conf == NULL) {
            continue; /* an implicit group: no block, no keepalive */
        }

        kcf = sl_http_conf_upstream_srv_conf(uscfp[i], sl_http_upstream_keepalive_module);

        if (kcf == NULL) {
            continue;
        }

        if (kcf->max_cached == 0) {
            if (kcf->requests != SL_CONF_UNSET_UINT || kcf->time != SL_CONF_UNSET_MSEC
                || kcf->timeout != SL_CONF_UNSET_MSEC) {
                sl_conf_log_error(SL_LOG_WARN, cf, 0,
                                  "keepalive parameters without \"keepalive\" have no effect "
                                  "in upstream \"%V\" in %s:%ui",
                                  &uscfp[i]->host, uscfp[i]->file_name, uscfp[i]->line);
            }

            continue;
        }

        sl_conf_init_uint_value(kcf->requests, 1000);
        sl_conf_init_msec_value(kcf->time, 3600000);
        sl_conf_init_msec_value(kcf->timeout, 60000);

        if (uscfp[i]->peer.init == NULL) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "upstream \"%V\" has no balancer for \"keepalive\" in %s:%ui",
                              &uscfp[i]->host, uscfp[i]->file_name, uscfp[i]->line);
            return SL_ERROR;
        }

        kcf->original_init_peer = uscfp[i]->peer.init;
        uscfp[i]->peer.init = sl_http_upstream_init_keepalive_peer;

        cached = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_keepalive_cache_t) * kcf->max_cached);
        if (cached == NULL) {
            return SL_ERROR;
        }

        sl_queue_init(&kcf->cache);
        sl_queue_init(&kcf->free);

        for (j = 0; j < kcf->max_cached; j++) {
            sl_queue_insert_head(&kcf->free, &cached[j].queue);
            cached[j].conf = kcf;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_http_upstream_init_keepalive_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    sl_http_upstream_keepalive_peer_data_t *kp;
    sl_http_upstream_keepalive_srv_conf_t *kcf;

    kcf = sl_http_conf_upstream_srv_conf(us, sl_http_upstream_keepalive_module);

    kp = sl_palloc(r->pool, sizeof(sl_http_upstream_keepalive_peer_data_t));
    if (kp == NULL) {
        return SL_ERROR;
    }

    if (kcf->original_init_peer(r, us) != SL_OK) {
        return SL_ERROR;
    }

    kp->conf = kcf;
    kp->upstream = r->upstream;
    kp->data = r->upstream->peer.data;
    kp->original_get_peer = r->upstream->peer.get;
    kp->original_free_peer = r->upstream->peer.free;

    r->upstream->peer.data = kp;
    r->upstream->peer.get = sl_http_upstream_get_keepalive_peer;
    r->upstream->peer.free = sl_http_upstream_free_keepalive_peer;

    return SL_OK;
}


static sl_int_t
sl_http_upstream_get_keepalive_peer(sl_peer_connection_t *pc, void *data)
{
    sl_int_t rc;
    sl_queue_t *q, *cache;
    sl_connection_t *c;
    sl_http_upstream_keepalive_cache_t *item;
    sl_http_upstream_keepalive_peer_data_t *kp = data;

    /* the balancer chooses the peer; the cache only saves the connect */
    rc = kp->original_get_peer(pc, kp->data);

    if (rc != SL_OK) {
        return rc;
    }

    cache = &kp->conf->cache;

    for (q = sl_queue_head(cache); q != sl_queue_sentinel(cache); q = sl_queue_next(q)) {
        item = sl_queue_data(q, sl_http_upstream_keepalive_cache_t, queue);

        if (sl_cmp_sockaddr(&item->sockaddr.sa, item->socklen, pc->sockaddr, pc->socklen, 1)
            != SL_OK) {
            continue;
        }

        c = item->connection;

        sl_queue_remove(q);
        sl_queue_insert_head(&kp->conf->free, q);
        item->connection = NULL;

        if (c->read->timer_set) {
            sl_event_del_timer(c->read);
        }

        if (c->read->posted) {
            sl_delete_posted_event(c->read);
        }

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;

        if (c->pool != NULL) {
            c->pool->log = pc->log;
        }

        pc->connection = c;
        pc->cached = 1;

        sl_log_debug(pc->log, "get keepalive peer: using connection %p", c);

        return SL_DONE;
    }

    return SL_OK;
}


/* Whether the connection may go back to the cache after this request. */
static sl_uint_t
sl_http_upstream_keepalive_reusable(sl_http_upstream_keepalive_peer_data_t *kp,
                                    sl_connection_t *c, sl_uint_t state)
{
    sl_http_upstream_t *u;

    u = kp->upstream;

    if ((state & SL_PEER_FAILED) || c == NULL || c->fd == -1 || c->error || c->read->eof
        || c->read->pending_eof || c->read->error || c->read->timedout || c->write->error
        || c->write->timedout) {
        return 0;
    }

    if (c->requests >= kp->conf->requests) {
        return 0;
    }

    if (sl_current_msec - c->start_msec > kp->conf->time) {
        return 0;
    }

    if (!u->keepalive || !u->request_body_sent) {
        return 0;
    }

    if (sl_exiting || sl_quit || sl_terminate) {
        return 0;
    }

    return 1;
}


static void
sl_http_upstream_free_keepalive_peer(sl_peer_connection_t *pc, void *data, sl_uint_t state)
{
    sl_queue_t *q;
    sl_connection_t *c;
    sl_http_upstream_keepalive_cache_t *item;
    sl_http_upstream_keepalive_peer_data_t *kp = data;

    c = pc->connection;

    if (!sl_http_upstream_keepalive_reusable(kp, c, state)) {
        goto done;
    }

    if (sl_queue_empty(&kp->conf->free)) {
        /* full: the least recently used idle connection makes room */
        q = sl_queue_last(&kp->conf->cache);
        sl_queue_remove(q);

        item = sl_queue_data(q, sl_http_upstream_keepalive_cache_t, queue);
        sl_http_upstream_keepalive_close(item->connection);

    } else {
        q = sl_queue_head(&kp->conf->free);
        sl_queue_remove(q);

        item = sl_queue_data(q, sl_http_upstream_keepalive_cache_t, queue);
    }

    sl_queue_insert_head(&kp->conf->cache, q);

    item->connection = c;
    item->socklen = pc->socklen;
    sl_memcpy(&item->sockaddr, pc->sockaddr, pc->socklen);

    pc->connection = NULL;

    c->read->delayed = 0;
    sl_event_add_timer(c->read, kp->conf->timeout);

    if (c->write->timer_set) {
        sl_event_del_timer(c->write);
    }

    if (c->write->posted) {
        sl_delete_posted_event(c->write);
    }

    c->write->handler = sl_http_upstream_keepalive_dummy_handler;
    c->read->handler = sl_http_upstream_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = sl_cycle->log;
    c->read->log = sl_cycle->log;
    c->write->log = sl_cycle->log;

    if (c->pool != NULL) {
        c->pool->log = sl_cycle->log;
    }

    sl_log_debug(pc->log, "free keepalive peer: saving connection %p", c);

    if (c->read->ready) {
        /* bytes or a close arrived already: the edge will not come again */
        sl_http_upstream_keepalive_close_handler(c->read);
    }

done:

    kp->original_free_peer(pc, kp->data, state);
}


static void
sl_http_upstream_keepalive_dummy_handler(sl_event_t *ev)
{
    sl_unused(ev);
}


/*
 * An idle cached connection became readable, timed out, or is asked to
 * close (graceful stop): anything but "nothing to read" closes it.
 */
static void
sl_http_upstream_keepalive_close_handler(sl_event_t *ev)
{
    u_char buf[1];
    ssize_t n;
    sl_connection_t *c;
    sl_http_upstream_keepalive_cache_t *item;

    c = ev->data;

    if (!c->close && !ev->timedout) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && errno == EAGAIN) {
            ev->ready = 0;
            return;
        }
    }

    item = c->data;

    sl_http_upstream_keepalive_close(c);

    sl_queue_remove(&item->queue);
    sl_queue_insert_head(&item->conf->free, &item->queue);
    item->connection = NULL;
}


static void
sl_http_upstream_keepalive_close(sl_connection_t *c)
{
    sl_pool_t *pool;

    pool = c->pool;

    sl_close_connection(c);

    if (pool != NULL) {
        sl_destroy_pool(pool);
    }
}
