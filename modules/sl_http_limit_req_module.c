/*
 * sl_http_limit_req_module.c: request rate limiting with nginx's leaky
 * bucket, shared by every worker.
 *
 *     limit_req_zone $binary_remote_addr zone=one:10m rate=10r/s;
 *     limit_req zone=one burst=5 [nodelay | delay=N];
 *
 * Each key (any complex value; an empty one is not limited) has a bucket in
 * the zone: "excess", in thousandths of a request, and the time it was last
 * computed. A request adds 1000 after the bucket has leaked rate * elapsed;
 * a fresh key starts at 0. Past burst * 1000 the request is rejected
 * (limit_req_status, 503 by default) and does not count; up to delay * 1000
 * (0 by default, all of the burst with nodelay) it passes at once; in
 * between it waits (excess - delay) / rate seconds on a timer, never
 * blocking the worker. Several limit_req in one block all apply, and the
 * longest delay (or any rejection) wins. A request is limited once, however
 * many internal redirects it goes through.
 *
 * The zone holds an rbtree of buckets (keyed by crc32 of the key, then the
 * key bytes) and a queue from the most to the least recently used; both
 * live in the zone's slab and are guarded by the slab's robust mutex. A
 * lookup frees up to two buckets that have been idle and empty for a
 * minute; when the zone is full anyway, the least recently used buckets are
 * evicted to make room (logged once per zone at warn) instead of failing
 * the request. A reload that keeps the zone's name, size and key keeps the
 * buckets.
 *
 * $limit_req_status: PASSED, DELAYED, REJECTED, DELAYED_DRY_RUN or
 * REJECTED_DRY_RUN (empty before the limits ran or when no key applied).
 *
 * "limit_req_headers on" (not in nginx) adds the fields of
 * draft-ietf-httpapi-ratelimit-headers (draft 08 onwards: structured-field
 * lists with one item per zone that applied, named by the zone):
 *
 *     RateLimit-Policy: "one";q=6;w=1
 *     RateLimit: "one";r=5;t=1
 *
 * q is the bucket's capacity, burst + 1 requests sent at once from an empty
 * bucket; w the seconds the bucket takes to leak all of them (rounded up, at
 * least 1). r is how many more requests sent now would still be accepted
 * (delayed or not), t the seconds until the bucket is empty again (rounded
 * up). A rejected request also gets Retry-After: the seconds until one more
 * request would be accepted, rounded up.
 */

#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_limit_zone.h"

#define SL_HTTP_LIMIT_REQ_PASSED 1
#define SL_HTTP_LIMIT_REQ_DELAYED 2
#define SL_HTTP_LIMIT_REQ_REJECTED 3
#define SL_HTTP_LIMIT_REQ_DELAYED_DRY_RUN 4
#define SL_HTTP_LIMIT_REQ_REJECTED_DRY_RUN 5

#define SL_HTTP_LIMIT_REQ_MAX_KEY 65535
/* burst and delay bound: the arithmetic in thousandths of a request never overflows */
#define SL_HTTP_LIMIT_REQ_MAX_BURST 1000000000
/* a bucket idle this long with nothing left in it may be freed */
#define SL_HTTP_LIMIT_REQ_IDLE_MSEC 60000

/*
 * One key's bucket in the zone. zn.count is the lookups in progress that
 * will come back (a held bucket is not evictable); zn ends with the key
 * bytes, so it comes last (a GNU C extension: a struct ending in a flexible
 * array as the last member).
 */
typedef struct {
    sl_queue_t queue; /* in the zone's queue, most recently used first */
    sl_msec_t last;   /* when excess was computed (sl_current_msec) */
    sl_uint_t excess; /* thousandths of a request */
    sl_http_limit_zone_node_t zn;
} sl_http_limit_req_node_t;

/* The zone's root, in the slab. */
typedef struct {
    sl_http_limit_zone_sh_t zone; /* first: the tree */
    sl_queue_t queue;
    sl_uint_t full_logged; /* the "zone is full" warning was written */
} sl_http_limit_req_shctx_t;

/* A zone as this configuration sees it (the shm zone's data). */
typedef struct {
    sl_http_limit_zone_t zone;      /* first: sh (an sl_http_limit_req_shctx_t), shpool, key */
    sl_uint_t rate;                 /* thousandths of a request per second */
    sl_http_limit_req_node_t *node; /* the bucket of a lookup not yet accounted */
} sl_http_limit_req_ctx_t;

#define sl_http_limit_req_sh(ctx) ((sl_http_limit_req_shctx_t *) (ctx)->zone.sh)

/* One limit_req directive. */
typedef struct {
    sl_shm_zone_t *shm_zone;
    sl_uint_t burst; /* thousandths */
    sl_uint_t delay; /* thousandths; SL_HTTP_LIMIT_REQ_NODELAY for nodelay */
} sl_http_limit_req_limit_t;

#define SL_HTTP_LIMIT_REQ_NODELAY ((sl_uint_t) -1)

typedef struct {
    sl_array_t limits; /* sl_http_limit_req_limit_t */
    sl_uint_t limit_log_level;
    sl_uint_t delay_log_level;
    sl_int_t status_code;
    sl_flag_t dry_run;
    sl_flag_t headers;
} sl_http_limit_req_conf_t;

/*
 * What the request keeps across internal redirects (which clear r->ctx): it
 * lives in a cleanup of the request pool, found again through its handler.
 */
typedef struct {
    sl_uint_t status; /* SL_HTTP_LIMIT_REQ_*, 0 before the limits ran */
    sl_http_event_handler_pt read_event_handler; /* restored after a delay */
} sl_http_limit_req_state_t;

/* Per limit, for limit_req_headers: the bucket after this request. */
typedef struct {
    sl_uint_t excess; /* thousandths, as a request sent now would find it less 1000 */
    unsigned applied : 1;
    unsigned rejected : 1;
} sl_http_limit_req_report_t;

static sl_int_t sl_http_limit_req_add_variables(sl_conf_t *cf);
static sl_int_t sl_http_limit_req_init(sl_conf_t *cf);
static void *sl_http_limit_req_create_conf(sl_conf_t *cf);
static char *sl_http_limit_req_merge_conf(sl_conf_t *cf, void *parent, void *child);
static char *sl_http_limit_req_zone(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_limit_req(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_conf_enum_t sl_http_limit_req_log_levels[] = {
    { sl_string("info"), SL_LOG_INFO },
    { sl_string("notice"), SL_LOG_NOTICE },
    { sl_string("warn"), SL_LOG_WARN },
    { sl_string("error"), SL_LOG_ERR },
    { sl_null_string, 0 }
};

static sl_conf_bounds_t sl_http_limit_req_status_bounds = { 400, 599 };

static sl_command_t sl_http_limit_req_commands[] = {
    { sl_string("limit_req_zone"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE3, sl_http_limit_req_zone, 0,
      0, NULL },
    { sl_string("limit_req"), SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF
                                  | SL_CONF_TAKE123,
      sl_http_limit_req, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("limit_req_log_level"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_enum_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_req_conf_t, limit_log_level), &sl_http_limit_req_log_levels },
    { sl_string("limit_req_status"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_req_conf_t, status_code), &sl_http_limit_req_status_bounds },
    { sl_string("limit_req_dry_run"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG,
      sl_conf_set_flag_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_req_conf_t, dry_run), NULL },
    { sl_string("limit_req_headers"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG,
      sl_conf_set_flag_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_req_conf_t, headers), NULL },
    sl_null_command
};

static sl_http_module_t sl_http_limit_req_module_ctx = {
    sl_http_limit_req_add_variables, /* preconfiguration */
    sl_http_limit_req_init,          /* postconfiguration */
    NULL,                            /* create main configuration */
    NULL,                            /* init main configuration */
    NULL,                            /* create server configuration */
    NULL,                            /* merge server configuration */
    sl_http_limit_req_create_conf,   /* create location configuration */
    sl_http_limit_req_merge_conf     /* merge location configuration */
};

sl_module_t sl_http_limit_req_module = {
    SL_MODULE_V1,
    "sl_http_limit_req_module",
    SL_HTTP_MODULE,
    &sl_http_limit_req_module_ctx,
    sl_http_limit_req_commands,
    NULL,
    NULL,
    NULL,
    NULL
};

static sl_str_t sl_http_limit_req_status_names[] = {
    sl_string("PASSED"),
    sl_string("DELAYED"),
    sl_string("REJECTED"),
    sl_string("DELAYED_DRY_RUN"),
    sl_string("REJECTED_DRY_RUN")
};

/* Request state ---------------------------------------------------------- */

/* The handler that marks the state's pool cleanup; the state owns nothing to release. */
static void
sl_http_limit_req_state_cleanup(void *data)
{
    sl_unused(data);
}

/* The request's state; with create, made when missing. NULL when missing or out of memory. */
static sl_http_limit_req_state_t *
sl_http_limit_req_get_state(sl_http_request_t *r, sl_uint_t create)
{
    sl_pool_cleanup_t *cln;
    sl_http_limit_req_state_t *st;

    st = sl_http_get_module_ctx(r, sl_http_limit_req_module);
    if (st != NULL) {
        return st;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == sl_http_limit_req_state_cleanup) {
            st = cln->data;
            sl_http_set_ctx(r, st, sl_http_limit_req_module);
            return st;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = sl_pool_cleanup_add(r->pool, sizeof(sl_http_limit_req_state_t));
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = sl_http_limit_req_state_cleanup;
    st = cln->data;
    st->status = 0;
    st->read_event_handler = NULL;

    sl_http_set_ctx(r, st, sl_http_limit_req_module);

    return st;
}

/* Buckets ---------------------------------------------------------------- */

/* The bucket that ends with the zone node zn. */
static sl_http_limit_req_node_t *
sl_http_limit_req_node(sl_http_limit_zone_node_t *zn)
{
    return (sl_http_limit_req_node_t *) ((u_char *) zn - offsetof(sl_http_limit_req_node_t, zn));
}

/*
 * What is left of excess (thousandths) after ms milliseconds of leaking at
 * rate, never below 0; the product cannot overflow.
 */
static sl_uint_t
sl_http_limit_req_leak(sl_uint_t excess, sl_msec_int_t ms, sl_uint_t rate)
{
    sl_uint_t leaked;

    if (ms <= 0) {
        return excess;
    }

    if ((sl_uint_t) ms > (sl_uint_t) SL_MAX_INT_T_VALUE / rate) {
        return 0;
    }

    leaked = rate * (sl_uint_t) ms / 1000;

    return leaked >= excess ? 0 : excess - leaked;
}

/* Milliseconds since the bucket's last computation, tolerant of a clock that went back. */
static sl_msec_int_t
sl_http_limit_req_elapsed(sl_http_limit_req_node_t *lr, sl_msec_t now)
{
    sl_msec_int_t ms;

    ms = (sl_msec_int_t) (now - lr->last);

    if (ms < -60000) {
        return 1;
    }

    return ms < 0 ? 0 : ms;
}

static void
sl_http_limit_req_free_node(sl_http_limit_req_ctx_t *ctx, sl_http_limit_req_node_t *lr)
{
    sl_queue_remove(&lr->queue);
    sl_rbtree_delete(&ctx->zone.sh->rbtree, &lr->zn.node);
    sl_slab_free_locked(ctx->zone.shpool, lr);
}

/*
 * Frees up to two buckets from the least recently used end that have been
 * idle for a minute and have leaked empty. Stops at the first that is still
 * in use or still holds something: those before it are used more recently.
 */
static void
sl_http_limit_req_expire(sl_http_limit_req_ctx_t *ctx, sl_msec_t now)
{
    sl_uint_t n;
    sl_msec_int_t ms;
    sl_queue_t *q;
    sl_http_limit_req_node_t *lr;
    sl_http_limit_req_shctx_t *sh;

    sh = sl_http_limit_req_sh(ctx);

    for (n = 0; n < 2; n++) {
        if (sl_queue_empty(&sh->queue)) {
            return;
        }

        q = sl_queue_last(&sh->queue);
        lr = sl_queue_data(q, sl_http_limit_req_node_t, queue);

        if (lr->zn.count) {
            return;
        }

        ms = (sl_msec_int_t) (now - lr->last);
        ms = sl_abs(ms);

        if (ms < SL_HTTP_LIMIT_REQ_IDLE_MSEC
            || sl_http_limit_req_leak(lr->excess, ms, ctx->rate) > 0) {
            return;
        }

        sl_http_limit_req_free_node(ctx, lr);
    }
}

/*
 * Evicts the least recently used bucket that no lookup is holding; returns
 * 0 when there is none.
 */
static sl_uint_t
sl_http_limit_req_evict(sl_http_limit_req_ctx_t *ctx)
{
    sl_queue_t *q;
    sl_http_limit_req_node_t *lr;
    sl_http_limit_req_shctx_t *sh;

    sh = sl_http_limit_req_sh(ctx);

    for (q = sl_queue_last(&sh->queue); q != sl_queue_sentinel(&sh->queue); q = sl_queue_prev(q)) {
        lr = sl_queue_data(q, sl_http_limit_req_node_t, queue);

        if (lr->zn.count == 0) {
            sl_http_limit_req_free_node(ctx, lr);
            return 1;
        }
    }

    return 0;
}

/* A new bucket, evicting the least recently used ones when the zone is full; NULL if none fits. */
static sl_http_limit_req_node_t *
sl_http_limit_req_alloc_node(sl_http_limit_req_ctx_t *ctx, size_t size, sl_msec_t now)
{
    sl_http_limit_req_node_t *lr;

    sl_http_limit_req_expire(ctx, now);

    for (;;) {
        lr = sl_slab_alloc_locked(ctx->zone.shpool, size);
        if (lr != NULL) {
            return lr;
        }

        if (!sl_http_limit_req_evict(ctx)) {
            sl_log_error(SL_LOG_ALERT, sl_cycle->log, 0,
                         "could not allocate a limit_req node in zone \"%V\"",
                         &ctx->zone.shpool->name);
            return NULL;
        }

        if (!sl_http_limit_req_sh(ctx)->full_logged) {
            sl_http_limit_req_sh(ctx)->full_logged = 1;
            sl_log_error(SL_LOG_WARN, sl_cycle->log, 0,
                         "limit_req zone \"%V\" is full, evicting the least recently used keys",
                         &ctx->zone.shpool->name);
        }
    }
}

/*
 * Looks the key's bucket up (creating it) under the zone lock and computes
 * the excess this request would bring into *ep. SL_BUSY: over the burst.
 * With account (the last limit), the bucket is updated: SL_OK. Otherwise
 * it is held (count) for sl_http_limit_req_account(): SL_AGAIN. SL_ERROR
 * when no bucket can be had.
 */
static sl_int_t
sl_http_limit_req_lookup(sl_http_limit_req_limit_t *limit, uint32_t hash, sl_str_t *key,
                         sl_uint_t *ep, sl_uint_t account)
{
    size_t size;
    sl_msec_t now;
    sl_uint_t excess;
    sl_msec_int_t ms;
    sl_http_limit_req_ctx_t *ctx;
    sl_http_limit_req_node_t *lr;
    sl_http_limit_zone_node_t *zn;

    ctx = limit->shm_zone->data;
    now = sl_current_msec;

    zn = sl_http_limit_zone_find(&ctx->zone, hash, key);

    if (zn != NULL) {
        lr = sl_http_limit_req_node(zn);

        sl_queue_remove(&lr->queue);
        sl_queue_insert_head(&sl_http_limit_req_sh(ctx)->queue, &lr->queue);

        ms = sl_http_limit_req_elapsed(lr, now);
        excess = sl_http_limit_req_leak(lr->excess + 1000, ms, ctx->rate);

        *ep = excess;

        if (excess > limit->burst) {
            return SL_BUSY;
        }

        if (account) {
            lr->excess = excess;
            if (ms) {
                lr->last = now;
            }
            return SL_OK;
        }

        lr->zn.count++;
        ctx->node = lr;

        return SL_AGAIN;
    }

    *ep = 0;

    size = offsetof(sl_http_limit_req_node_t, zn.data) + key->len;

    lr = sl_http_limit_req_alloc_node(ctx, size, now);
    if (lr == NULL) {
        return SL_ERROR;
    }

    lr->excess = 0;

    sl_http_limit_zone_insert(&ctx->zone, &lr->zn, hash, key);
    sl_queue_insert_head(&sl_http_limit_req_sh(ctx)->queue, &lr->queue);

    if (account) {
        lr->last = now;
        lr->zn.count = 0;
        return SL_OK;
    }

    /* leaks everything by the time it is accounted: a fresh key starts empty */
    lr->last = 0;
    lr->zn.count = 1;
    ctx->node = lr;

    return SL_AGAIN;
}

/*
 * Updates the buckets held by the first n limits (the last limit's own is
 * done) and returns the longest delay in ms any of them asks for; *limit
 * becomes the limit that asks for it and *ep its excess.
 */
static sl_msec_t
sl_http_limit_req_account(sl_http_limit_req_limit_t *limits, sl_uint_t n, sl_uint_t *ep,
                          sl_http_limit_req_limit_t **limit, sl_http_limit_req_report_t *report)
{
    sl_msec_t now, delay, max_delay;
    sl_uint_t excess;
    sl_msec_int_t ms;
    sl_http_limit_req_ctx_t *ctx;
    sl_http_limit_req_node_t *lr;

    excess = *ep;

    if (excess <= (*limit)->delay) {
        max_delay = 0;

    } else {
        ctx = (*limit)->shm_zone->data;
        max_delay = (excess - (*limit)->delay) * 1000 / ctx->rate;
    }

    while (n--) {
        ctx = limits[n].shm_zone->data;
        lr = ctx->node;

        if (lr == NULL) {
            continue;
        }

        sl_shmtx_lock(&ctx->zone.shpool->mutex);

        now = sl_current_msec;
        ms = sl_http_limit_req_elapsed(lr, now);
        excess = sl_http_limit_req_leak(lr->excess + 1000, ms, ctx->rate);

        if (ms) {
            lr->last = now;
        }

        lr->excess = excess;
        lr->zn.count--;

        sl_shmtx_unlock(&ctx->zone.shpool->mutex);

        ctx->node = NULL;

        if (report) {
            report[n].excess = excess;
        }

        if (excess <= limits[n].delay) {
            continue;
        }

        delay = (excess - limits[n].delay) * 1000 / ctx->rate;

        if (delay > max_delay) {
            max_delay = delay;
            *limit = &limits[n];
            *ep = excess;
        }
    }

    return max_delay;
}

/* Releases the buckets the first n limits hold, without counting the request. */
static void
sl_http_limit_req_unlock(sl_http_limit_req_limit_t *limits, sl_uint_t n)
{
    sl_http_limit_req_ctx_t *ctx;

    while (n--) {
        ctx = limits[n].shm_zone->data;

        if (ctx->node == NULL) {
            continue;
        }

        sl_shmtx_lock(&ctx->zone.shpool->mutex);
        ctx->node->zn.count--;
        sl_shmtx_unlock(&ctx->zone.shpool->mutex);

        ctx->node = NULL;
    }
}

/* Response fields ---------------------------------------------------------- */

/* Seconds, rounded up, that leaking amount thousandths takes at rate. */
static sl_uint_t
sl_http_limit_req_seconds(sl_uint_t amount, sl_uint_t rate)
{
    return (amount + rate - 1) / rate;
}

/*
 * Adds RateLimit-Policy and RateLimit for every limit that applied, and
 * Retry-After when rejected (the rejecting limit's excess is in rejected_excess).
 * SL_OK or SL_ERROR.
 */
static sl_int_t
sl_http_limit_req_add_headers(sl_http_request_t *r, sl_http_limit_req_limit_t *limits,
                              sl_uint_t nlimits, sl_http_limit_req_report_t *report,
                              sl_http_limit_req_limit_t *rejecting, sl_uint_t rejected_excess)
{
    size_t len;
    u_char *policy, *p, *s;
    sl_str_t value;
    sl_uint_t i, capacity, window, remaining, reset;
    sl_http_limit_req_ctx_t *ctx;

    len = 0;

    for (i = 0; i < nlimits; i++) {
        if (report[i].applied) {
            len += sizeof(", \"\";q=;w=") - 1 + limits[i].shm_zone->shm.name.len
                   + 2 * SL_INT_T_LEN;
        }
    }

    if (len == 0) {
        return SL_OK;
    }

    policy = sl_pnalloc(r->pool, 2 * len);
    if (policy == NULL) {
        return SL_ERROR;
    }

    p = policy;
    s = policy + len;

    for (i = 0; i < nlimits; i++) {
        if (!report[i].applied) {
            continue;
        }

        ctx = limits[i].shm_zone->data;

        capacity = limits[i].burst / 1000 + 1;
        window = sl_http_limit_req_seconds(capacity * 1000, ctx->rate);

        if (report[i].rejected || report[i].excess >= limits[i].burst) {
            remaining = 0;
        } else {
            remaining = (limits[i].burst - report[i].excess) / 1000;
        }

        reset = sl_http_limit_req_seconds(report[i].excess + 1000, ctx->rate);

        p = sl_sprintf(p, "%s\"%V\";q=%ui;w=%ui", p == policy ? "" : ", ",
                       &limits[i].shm_zone->shm.name, capacity, window);
        s = sl_sprintf(s, "%s\"%V\";r=%ui;t=%ui", s == policy + len ? "" : ", ",
                       &limits[i].shm_zone->shm.name, remaining, reset);
    }

    value.data = policy;
    value.len = p - policy;

    if (sl_http_add_response_header(r, "RateLimit-Policy", &value) == NULL) {
        return SL_ERROR;
    }

    value.data = policy + len;
    value.len = s - (policy + len);

    if (sl_http_add_response_header(r, "RateLimit", &value) == NULL) {
        return SL_ERROR;
    }

    if (rejecting == NULL) {
        return SL_OK;
    }

    ctx = rejecting->shm_zone->data;

    value.data = sl_pnalloc(r->pool, SL_INT_T_LEN);
    if (value.data == NULL) {
        return SL_ERROR;
    }

    value.len = sl_sprintf(value.data, "%ui",
                           sl_http_limit_req_seconds(rejected_excess - rejecting->burst,
                                                     ctx->rate))
                - value.data;

    if (sl_http_add_response_header(r, "Retry-After", &value) == NULL) {
        return SL_ERROR;
    }

    return SL_OK;
}

/* Run time --------------------------------------------------------------- */

/* The read handler while delayed: a client that goes away ends the request. */
static void
sl_http_limit_req_test_reading(sl_http_request_t *r)
{
    u_char byte;
    ssize_t n;
    sl_err_t err;
    sl_event_t *rev;
    sl_connection_t *c;

    c = r->connection;
    rev = c->read;
    err = 0;

    if (!rev->pending_eof) {
        n = recv(c->fd, &byte, 1, MSG_PEEK);

        if (n > 0) {
            return; /* the next pipelined request: it waits its turn */
        }

        if (n == -1) {
            err = sl_socket_errno;
            if (err == EAGAIN || err == EINTR) {
                return;
            }
        }
    }

    rev->eof = 1;
    c->error = 1;

    sl_log_error(SL_LOG_INFO, c->log, err, "client prematurely closed connection");

    if (c->write->timer_set) {
        sl_event_del_timer(c->write);
    }

    sl_http_finalize_request(r, SL_HTTP_CLIENT_CLOSED_REQUEST);
}

/* The write handler while delayed: the timer resumes the phases. */
static void
sl_http_limit_req_delay(sl_http_request_t *r)
{
    sl_event_t *wev;
    sl_http_limit_req_state_t *st;

    wev = r->connection->write;

    if (!wev->timedout && wev->timer_set) {
        return; /* the socket became writable; the timer still runs */
    }

    wev->timedout = 0;

    st = sl_http_limit_req_get_state(r, 0);
    if (st == NULL) {
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = st->read_event_handler;
    r->write_event_handler = sl_http_core_run_phases;

    sl_http_core_run_phases(r);
}

static sl_int_t
sl_http_limit_req_handler(sl_http_request_t *r)
{
    uint32_t hash;
    sl_int_t rc;
    sl_str_t key;
    sl_uint_t i, n, excess;
    sl_msec_t delay;
    sl_connection_t *c;
    sl_http_limit_req_ctx_t *ctx;
    sl_http_limit_req_conf_t *lrcf;
    sl_http_limit_req_limit_t *limit, *limits;
    sl_http_limit_req_state_t *st;
    sl_http_limit_req_report_t *report;

    lrcf = sl_http_get_module_loc_conf(r, sl_http_limit_req_module);

    if (lrcf->limits.nelts == 0) {
        return SL_DECLINED;
    }

    st = sl_http_limit_req_get_state(r, 1);
    if (st == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (st->status) {
        return SL_DECLINED;
    }

    c = r->connection;
    limits = lrcf->limits.elts;
    limit = NULL;
    excess = 0;
    rc = SL_DECLINED;
    report = NULL;

    if (lrcf->headers) {
        report = sl_pcalloc(r->pool, lrcf->limits.nelts * sizeof(sl_http_limit_req_report_t));
        if (report == NULL) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (n = 0; n < lrcf->limits.nelts; n++) {
        limit = &limits[n];
        ctx = limit->shm_zone->data;

        if (sl_http_complex_value(r, &ctx->zone.key, &key) != SL_OK) {
            sl_http_limit_req_unlock(limits, n);
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (key.len == 0) {
            continue;
        }

        if (key.len > SL_HTTP_LIMIT_REQ_MAX_KEY) {
            sl_log_error(SL_LOG_ERR, c->log, 0,
                         "the value of the \"%V\" key is more than 65535 bytes: \"%*s...\"",
                         &ctx->zone.key.value, (size_t) 64, key.data);
            continue;
        }

        hash = sl_http_limit_zone_hash(&key);

        sl_shmtx_lock(&ctx->zone.shpool->mutex);
        rc = sl_http_limit_req_lookup(limit, hash, &key, &excess,
                                      n == lrcf->limits.nelts - 1);
        sl_shmtx_unlock(&ctx->zone.shpool->mutex);

        if (report) {
            report[n].applied = 1;
            report[n].excess = excess;
        }

        if (rc != SL_AGAIN) {
            break;
        }
    }

    if (rc == SL_DECLINED) {
        return SL_DECLINED;
    }

    if (rc == SL_BUSY || rc == SL_ERROR) {
        if (rc == SL_BUSY) {
            sl_log_error(lrcf->limit_log_level, c->log, 0,
                         "limiting requests%s, excess: %ui.%03ui by zone \"%V\"",
                         lrcf->dry_run ? ", dry run" : "", excess / 1000, excess % 1000,
                         &limit->shm_zone->shm.name);
        }

        sl_http_limit_req_unlock(limits, n);

        if (report) {
            /* the request does not count: every bucket is as it was */
            for (i = 0; i <= n; i++) {
                if (report[i].excess >= 1000) {
                    report[i].excess -= 1000;
                } else {
                    report[i].excess = 0;
                }
            }

            report[n].rejected = 1;

            if (sl_http_limit_req_add_headers(r, limits, n + 1, report,
                                              lrcf->dry_run || rc != SL_BUSY ? NULL : limit,
                                              excess)
                != SL_OK) {
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (lrcf->dry_run) {
            st->status = SL_HTTP_LIMIT_REQ_REJECTED_DRY_RUN;
            return SL_DECLINED;
        }

        st->status = SL_HTTP_LIMIT_REQ_REJECTED;

        return lrcf->status_code;
    }

    /* rc is SL_OK or SL_AGAIN (the last key was empty) */

    if (rc == SL_AGAIN) {
        excess = 0;
    }

    delay = sl_http_limit_req_account(limits, n, &excess, &limit, report);

    if (report && sl_http_limit_req_add_headers(r, limits, lrcf->limits.nelts, report, NULL, 0)
                      != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (delay == 0) {
        st->status = SL_HTTP_LIMIT_REQ_PASSED;
        return SL_DECLINED;
    }

    sl_log_error(lrcf->delay_log_level, c->log, 0,
                 "delaying request%s, excess: %ui.%03ui, by zone \"%V\"",
                 lrcf->dry_run ? ", dry run" : "", excess / 1000, excess % 1000,
                 &limit->shm_zone->shm.name);

    if (lrcf->dry_run) {
        st->status = SL_HTTP_LIMIT_REQ_DELAYED_DRY_RUN;
        return SL_DECLINED;
    }

    st->status = SL_HTTP_LIMIT_REQ_DELAYED;
    st->read_event_handler = r->read_event_handler;

    /* bytes (or the end) that arrived before the delay get looked at once */
    if (c->read->ready) {
        sl_post_event(c->read, &sl_posted_events);
    }

    r->read_event_handler = sl_http_limit_req_test_reading;
    r->write_event_handler = sl_http_limit_req_delay;

    c->write->timedout = 0;
    sl_event_add_timer(c->write, delay);

    return SL_AGAIN;
}

static sl_int_t
sl_http_limit_req_status_variable(sl_http_request_t *r, sl_http_variable_value_t *v,
                                  uintptr_t data)
{
    sl_http_limit_req_state_t *st;

    sl_unused(data);

    st = sl_http_limit_req_get_state(r, 0);

    if (st == NULL || st->status == 0) {
        v->not_found = 1;
        return SL_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->escape = 0;
    v->len = sl_http_limit_req_status_names[st->status - 1].len;
    v->data = sl_http_limit_req_status_names[st->status - 1].data;

    return SL_OK;
}

/* Configuration ---------------------------------------------------------- */

static sl_int_t
sl_http_limit_req_init_zone(sl_shm_zone_t *shm_zone, void *data)
{
    sl_int_t rc;
    sl_http_limit_req_ctx_t *ctx;
    sl_http_limit_req_shctx_t *sh;

    rc = sl_http_limit_zone_init(shm_zone, data, "limit_req", sizeof(sl_http_limit_req_shctx_t));

    if (rc != SL_DONE) {
        return rc;
    }

    ctx = shm_zone->data;
    sh = sl_http_limit_req_sh(ctx);

    sl_queue_init(&sh->queue);
    sh->full_logged = 0;

    /* a full zone evicts instead, and says so itself */
    ctx->zone.shpool->log_nomem = 0;

    return SL_OK;
}

static void *
sl_http_limit_req_create_conf(sl_conf_t *cf)
{
    sl_http_limit_req_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_limit_req_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* conf->limits.elts stays NULL: no limit_req here */

    conf->limit_log_level = SL_CONF_UNSET_UINT;
    conf->status_code = SL_CONF_UNSET;
    conf->dry_run = SL_CONF_UNSET;
    conf->headers = SL_CONF_UNSET;

    return conf;
}

static char *
sl_http_limit_req_merge_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_limit_req_conf_t *prev = parent;
    sl_http_limit_req_conf_t *conf = child;

    sl_unused(cf);

    if (conf->limits.elts == NULL) {
        conf->limits = prev->limits;
    }

    sl_conf_merge_uint_value(conf->limit_log_level, prev->limit_log_level, SL_LOG_ERR);

    conf->delay_log_level = (conf->limit_log_level == SL_LOG_INFO) ? SL_LOG_INFO
                                                                    : conf->limit_log_level + 1;

    sl_conf_merge_value(conf->status_code, prev->status_code, SL_HTTP_SERVICE_UNAVAILABLE);
    sl_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    sl_conf_merge_value(conf->headers, prev->headers, 0);

    return SL_CONF_OK;
}

/* A "rate=" limit_req_zone takes: in requests, per second unless a later "r/m" scales it. */
typedef struct {
    sl_int_t rate;
    sl_int_t scale;
} sl_http_limit_req_rate_t;

/* The limit_req_zone arguments besides the key and zone=: "rate=N(r/s|r/m)". */
static sl_int_t
sl_http_limit_req_zone_param(sl_conf_t *cf, sl_str_t *value, void *data)
{
    size_t len;
    sl_http_limit_req_rate_t *rt = data;

    if (value->len < 5 || sl_strncmp(value->data, "rate=", 5) != 0) {
        return SL_DECLINED;
    }

    len = value->len;

    if (len > 8 && sl_strncmp(value->data + len - 3, "r/s", 3) == 0) {
        rt->scale = 1;
        len -= 3;

    } else if (len > 8 && sl_strncmp(value->data + len - 3, "r/m", 3) == 0) {
        rt->scale = 60;
        len -= 3;
    }

    rt->rate = sl_atoi(value->data + 5, len - 5);

    if (rt->rate <= 0 || rt->rate > SL_MAX_INT_T_VALUE / 1000) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid rate \"%V\"", value);
        return SL_ERROR;
    }

    return SL_OK;
}

/* limit_req_zone KEY zone=NAME:SIZE rate=RATE */
static char *
sl_http_limit_req_zone(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char *rv;
    sl_http_limit_req_ctx_t *ctx;
    sl_http_limit_req_rate_t rt;

    sl_unused(conf);

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_limit_req_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    rt.rate = 1;
    rt.scale = 1;

    rv = sl_http_limit_zone_conf(cf, cmd, &ctx->zone, &sl_http_limit_req_module,
                                 sl_http_limit_req_init_zone, sl_http_limit_req_zone_param, &rt);

    ctx->rate = (sl_uint_t) rt.rate * 1000 / (sl_uint_t) rt.scale;

    return rv;
}

/* limit_req zone=NAME [burst=N] [nodelay | delay=N] */
static char *
sl_http_limit_req(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_limit_req_conf_t *lrcf = conf;
    sl_int_t burst, delay;
    sl_str_t *value, s;
    sl_uint_t i, nodelay;
    sl_shm_zone_t *shm_zone;
    sl_http_limit_req_limit_t *limit, *limits;

    value = cf->args->elts;

    shm_zone = NULL;
    burst = 0;
    delay = 0;
    nodelay = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len >= 5 && sl_strncmp(value[i].data, "zone=", 5) == 0) {
            s.len = value[i].len - 5;
            s.data = value[i].data + 5;

            shm_zone = sl_shared_memory_add(cf, &s, 0, &sl_http_limit_req_module);
            if (shm_zone == NULL) {
                return SL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len >= 6 && sl_strncmp(value[i].data, "burst=", 6) == 0) {
            burst = sl_atoi(value[i].data + 6, value[i].len - 6);

            if (burst <= 0 || burst > SL_HTTP_LIMIT_REQ_MAX_BURST) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid burst value \"%V\"", &value[i]);
                return SL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len >= 6 && sl_strncmp(value[i].data, "delay=", 6) == 0) {
            delay = sl_atoi(value[i].data + 6, value[i].len - 6);

            if (delay <= 0 || delay > SL_HTTP_LIMIT_REQ_MAX_BURST) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid delay value \"%V\"", &value[i]);
                return SL_CONF_ERROR;
            }

            continue;
        }

        if (sl_str_eq_lit(&value[i], "nodelay")) {
            nodelay = 1;
            continue;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
        return SL_CONF_ERROR;
    }

    if (shm_zone == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%V\" must have \"zone\" parameter",
                          &cmd->name);
        return SL_CONF_ERROR;
    }

    limits = lrcf->limits.elts;

    if (limits == NULL) {
        if (sl_array_init(&lrcf->limits, cf->pool, 1, sizeof(sl_http_limit_req_limit_t))
            != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    for (i = 0; i < lrcf->limits.nelts; i++) {
        if (shm_zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    limit = sl_array_push(&lrcf->limits);
    if (limit == NULL) {
        return SL_CONF_ERROR;
    }

    limit->shm_zone = shm_zone;
    limit->burst = (sl_uint_t) burst * 1000;
    limit->delay = nodelay ? SL_HTTP_LIMIT_REQ_NODELAY : (sl_uint_t) delay * 1000;

    return SL_CONF_OK;
}

static sl_http_variable_t sl_http_limit_req_vars[] = {
    { sl_string("limit_req_status"), NULL, sl_http_limit_req_status_variable, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    sl_http_null_variable
};

static sl_int_t
sl_http_limit_req_add_variables(sl_conf_t *cf)
{
    return sl_http_add_variables(cf, sl_http_limit_req_vars);
}

static sl_int_t
sl_http_limit_req_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_PREACCESS_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }

    *h = sl_http_limit_req_handler;

    return SL_OK;
}
